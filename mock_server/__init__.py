"""The bundled OpenAI-compatible mock LLM server (aiohttp).

Public API: ``load_profiles``, ``MockConfig``, ``create_app``, ``build_cache``, ``serve``.
Imports only the suite's shared contracts (tokens, models, errors), never a stage.
"""

from mock_server.app import create_app
from mock_server.config import MockConfig, Profile, load_profiles
from mock_server.serve import build_cache, serve, serve_async

__all__ = ["MockConfig", "Profile", "build_cache", "create_app", "load_profiles", "serve",
           "serve_async"]
