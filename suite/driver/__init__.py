"""The load driver: replays a corpus with Locust and writes one record per request sent.

Only ``suite/driver/locustfile.py`` imports Locust, and it runs in a subprocess started by
``run_load``; importing this package does not import Locust or gevent.
"""

from suite.driver.command import Topology
from suite.driver.loadopts import LoadOptions
from suite.driver.runner import RunResult, run_load

__all__ = ["LoadOptions", "RunResult", "Topology", "run_load"]
