"""The load driver: replays a corpus with Locust and writes one record per request sent.

Only ``suite/driver/locustfile.py`` imports Locust, and it runs in a subprocess started by
``run_load``; importing this package does not import Locust or gevent.
"""

from suite.driver.runner import RunResult, run_load

__all__ = ["RunResult", "run_load"]
