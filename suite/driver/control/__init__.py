"""The parent side of a load run: validate, check the target, start Locust, collect and check the logs.

Runs in the caller's process, which must never be gevent-patched: nothing here imports Locust,
gevent or ``suite.driver.inlocust`` (``command.LOCUSTFILE`` is only a file path handed to Locust).
"""
