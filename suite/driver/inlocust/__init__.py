"""The child side of a load run: what runs inside the Locust process (one per worker).

``locustfile`` is loaded by Locust from its file path and is the only entry point; ``distributed``
and ``locustfile`` import Locust and gevent, the other modules stay free of them so they can be
unit-tested without patching the test process. This package may import ``control`` (the
environment contract, options, schedules, run.json) and ``exchange``; nothing imports it back.
"""
