"""``llmsuite init``: probe a target and write what a run needs to talk to it (issue #18).

- ``answer``     one observed exchange (``Answer``) and the readings every conclusion shares
- ``asks``       what the probe asks, in which order: kinds and paths, key headers, health paths,
                 request bodies, and the messages that end a probe which cannot go on
- ``probe``      the HTTP side: a handful of short requests, in order, each kept as an ``Answer``
- ``conclude``   kind and path, models, text, streaming, auth, health → table rows and settings
- ``cachediff``  cache signal discovery: a fresh request, its repeat, another fresh one → a hit rule
- ``write``      target.yaml, the starter scenario.yaml and slo.yaml, as text; written without
                 overwriting unless told to
- ``scenario``   ``init --scenario NAME``: a domain scenario copied and explained (no target needed)

Reasoning is pure (asks, conclude, cachediff, write's text); only ``probe`` and ``write_files``
do I/O.
"""
