"""LLM Traffic Suite: synthesize LLM traffic, replay it with Locust, analyze latency and cache gains."""

__version__ = "0.1.0"
