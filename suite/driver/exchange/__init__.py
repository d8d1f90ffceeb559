"""One request and its answer, free of Locust: build the body, send, read, time, judge, record.

Pure where it can be (``sse``, ``measure``, ``chunkshape``, ``targets``, ``checks``, ...): bytes
and clock values in, ``Measured`` out. ``send`` is handed the HTTP client by the locustfile, so
this package imports no Locust, no gevent, and nothing else from ``suite.driver``.
"""
