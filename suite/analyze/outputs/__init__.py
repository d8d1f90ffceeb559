"""Rendering a summary, never recomputing it: ``rows`` + ``facts`` (column layouts shared by the
terminal, the HTML and the CSV), ``fmt`` (units; None is an em dash), ``tables`` (rich, terminal),
``report`` (report.html, on the shared ``page`` skeleton, with ``provenance`` for its banner and
``cachetable`` for its one cache table), ``charts`` + ``charts_time`` (PNG, through ``savefig``,
the one chart writer also used by ``suite.compare`` and ``suite.sweep``), ``requests_csv``.

Chart modules import matplotlib; import them only where a chart is written.
"""
