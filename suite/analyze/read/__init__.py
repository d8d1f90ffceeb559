"""Reading a run folder: ``logread`` (request-log shards → Arrow table + gap array, validated),
``load`` (``load_run`` → ``LoadedRun``: frame, gaps, run.json, corpus manifest) and ``targetmetrics``
(the target's /metrics series that ``suite.monitor`` scraped during the run). No statistics here."""
