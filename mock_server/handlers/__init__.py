"""The routes' handlers, one module per endpoint family; app.py's route table maps paths to them.

* chat.py — ``POST /v1/chat/completions``, and the generating flow all three generating routes
  share (parse → decide → write), with the zero-delay lane;
* completions.py — ``POST /v1/completions`` (legacy text completions);
* engine_chat.py — ``POST /api/chat`` (the intelligence engine's endpoint, with sessions);
* embeddings.py — ``POST /v1/embeddings`` (deterministic unit vectors);
* admin.py — ``/health``, ``/v1/models``, ``/metrics``, ``/admin/cache/*``.
"""
