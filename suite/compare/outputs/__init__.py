"""Rendering a comparison dict, never recomputing it: ``files`` (compare.json, compare.csv, then the
chart and the page), ``html``, ``chart`` (A/B bars, through ``suite.analyze.outputs.savefig``),
``table`` (terminal) and ``cells`` (one cell's text, shared by the page and the terminal)."""
