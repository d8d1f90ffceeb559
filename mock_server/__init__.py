"""The bundled OpenAI-compatible mock LLM server (aiohttp).

Public API: ``load_profiles``, ``MockConfig``, ``create_app``, ``build_cache``, ``serve``.
Imports only the suite's shared contracts (tokens, models, errors), never a stage.

Modules in request order (docs/mock-server.md has the user's view):

* ``__main__`` (``python -m mock_server``), serve.py (sockets, workers, signals) and config.py
  (the YAML model profiles) start it; protocol.py is the connection layer under the app (header
  read timeout, aiohttp's protocol errors as OpenAI JSON); app.py builds the app: the one route
  table, auth, the 404/405 catch-all;
* handlers/ — one module per endpoint family; handlers/chat.py holds the flow every generating
  route shares (parse → decide → write) and the zero-delay lane;
* validate.py (with fields.py) — request bodies to a ``ChatRequest`` and its cache key, or a 4xx;
* answer.py — the answer planner: cache hit or planned miss, faults, batch admission; plan.py —
  the pure plan of tokens and delays (text from textbank.py, load from batching.py, faults.py);
* write.py — the one writer of JSON bodies and SSE events, and the paced sending;
* around them: cache.py (memory / Redis, ``Completion``), sessions.py (``/api/chat`` history),
  metrics.py (``/metrics``), timing_log.py (``--timing-log``), openai_errors.py (error bodies),
  state.py (what the routes share).
"""

from mock_server.app import create_app
from mock_server.config import MockConfig, Profile, load_profiles
from mock_server.serve import build_cache, serve, serve_async

__all__ = ["MockConfig", "Profile", "build_cache", "create_app", "load_profiles", "serve",
           "serve_async"]
