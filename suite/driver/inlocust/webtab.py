"""The LLM tab of Locust's web UI (``--web``), through Locust's own extension points.

- ``GET /llm/stats``: the per-model figures as JSON (suite.driver.inlocust.livestats; a figure
  that cannot be computed is null, its reason in the row's ``why``);
- an "LLM" tab: Locust's ``extended_tabs``/``extended_tables`` template arguments, its rows added
  to ``/stats/requests`` as ``extended_stats`` (the key Locust's page reads them from, the
  documented way of extending the UI). Locust's own entries in that answer are left untouched;
- distributed: workers put what they saw since their last report in Locust's report to the master
  (``report_to_master``), the master merges it (``worker_report``).

Nothing here enters Locust's request statistics: its RPS, Aggregated row, failures and Charts
count the requests sent, and only them. Duck-typed over Locust's objects; Flask (Locust's web
framework) is imported only by the web UI's own process.
"""

from __future__ import annotations

import json
from typing import Any

from suite.driver.inlocust.livestats import LiveStats

TAB_KEY = "llm"
ROUTE = "/llm/stats"
REPORT_KEY = "llmsuite_live"
COLUMNS = (("model", "Model"), ("requests", "Requests"), ("failed", "Failed"),
           ("in_flight", "In flight"), ("ttft_p50_ms", "TTFT p50 (ms)"), ("ttft_p95_ms", "TTFT p95 (ms)"),
           ("out_tok_s", "Output tok/s"), ("hit_ratio", "Hit ratio (%)"), ("notes", "Not shown, why"))


def table_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The tab's cells: rounded, a missing figure shown as "—" with its reason in the last column."""
    out = []
    for row in rows:
        cells: dict[str, Any] = {"model": row["model"], "requests": row["requests"],
                                 "failed": row["failed"], "in_flight": row["in_flight"]}
        for key, scale, digits in (("ttft_p50_ms", 1, 1), ("ttft_p95_ms", 1, 1), ("out_tok_s", 1, 1),
                                   ("hit_ratio", 100, 1)):
            value = row[key]
            cells[key] = "—" if value is None else round(value * scale, digits)
        cells["notes"] = "; ".join(f"{k}: {v}" for k, v in row["why"].items())
        out.append(cells)
    return out


def install_tab(web_ui: Any, live: LiveStats) -> None:
    """The JSON route and the tab on the web UI (before it starts serving)."""
    from flask import request

    web_ui.template_args["extended_tabs"] = [{"title": "LLM", "key": TAB_KEY}]
    web_ui.template_args["extended_tables"] = [
        {"key": TAB_KEY, "structure": [{"key": k, "title": t} for k, t in COLUMNS]}]

    def llm_stats() -> dict[str, Any]:
        return {"models": live.rows(), "note": "live view (warm-up included); reports come from the "
                "request log"}

    web_ui.app.add_url_rule(ROUTE, "llmsuite_llm_stats", llm_stats)
    web_ui.environment.events.reset_stats.add_listener(live.reset)  # its Reset button resets both

    @web_ui.app.after_request
    def add_tab_rows(response: Any) -> Any:
        if request.path != "/stats/requests" or response.status_code != 200 or not response.is_json:
            return response
        body = json.loads(response.get_data())
        body["extended_stats"] = [{"key": TAB_KEY, "data": table_rows(live.rows())}]
        response.set_data(json.dumps(body))
        return response


def report_from_worker(environment: Any, live: LiveStats) -> None:
    def on_report(client_id: str, data: dict[str, Any], **_: Any) -> None:
        data[REPORT_KEY] = live.drain()

    environment.events.report_to_master.add_listener(on_report)


def collect_on_master(environment: Any, live: LiveStats) -> None:
    def on_worker_report(client_id: str, data: dict[str, Any], **_: Any) -> None:
        report = data.get(REPORT_KEY)
        if report:
            live.merge(report, source=client_id)

    environment.events.worker_report.add_listener(on_worker_report)
