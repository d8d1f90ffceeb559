"""One skeleton and one stylesheet for every HTML page the suite writes (report.html, compare.html,
sweep.html), so a reader learns one layout: title and provenance banner (what was measured: the
target, the cache backend, the corpus; partial or truncated marks), the answers in plain words, the
2–4 charts that show them, then the details folded away in ``<details>`` sections.

Pages are self-contained (inline CSS, charts as data URIs) so a report can be mailed or attached
to a ticket. Rule: every text that comes from data (model names, targets, reasons, headlines)
passes through ``esc`` — a request log is untrusted input; the skeleton takes HTML only from the
builders below, never raw data.

Alignment is decided per column, not per page: a column whose every shown cell reads as a number
(with its unit) is right-aligned, every other column (prompts, reasons, names) is left-aligned.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1360px;
color:#1d2330;padding:1rem 1.25rem 3rem;line-height:1.4}
h1{font-size:1.5rem;margin:.2rem 0 .4rem}h2{font-size:1.15rem;margin:1.2rem 0 .4rem}
h3{font-size:1rem;margin:1rem 0 .3rem}
.prov{display:flex;flex-wrap:wrap;gap:.25rem .5rem;margin:.3rem 0 .6rem;padding:0;list-style:none;
font-size:.85rem}
.prov li{background:#eef1f6;border-radius:4px;padding:.15rem .5rem;overflow-wrap:anywhere}
.prov li b{font-weight:600;color:#46506a}.prov li.warn{background:#fff1d6}
.alert{background:#fdecea;border-left:4px solid #c0392b;padding:.4rem .8rem;margin:.4rem 0}
.answers{margin:.4rem 0 .8rem;padding-left:1.2rem}.answers li{font-size:1.05rem;margin:.25rem 0}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:.8rem;margin:.6rem 0}
figure{margin:0;min-width:0}figure img{display:block;width:100%;height:auto;max-height:560px;
object-fit:contain;border:1px solid #e6e8ee}figcaption{font-size:.85rem;color:#46506a;margin-top:.2rem}
details{border:1px solid #dde1ea;border-radius:4px;margin:.5rem 0;padding:.3rem .8rem}
details>summary{cursor:pointer;font-weight:600;padding:.2rem 0}details[open]>summary{margin-bottom:.4rem}
.tbl{max-width:100%;overflow-x:auto;margin:.4rem 0}
table{border-collapse:collapse;font-size:.88rem}
th,td{border:1px solid #dde1ea;padding:.25rem .55rem;text-align:left;vertical-align:top}
th{background:#f3f5f9;font-weight:600}td.n,th.n{text-align:right;white-space:nowrap;
font-variant-numeric:tabular-nums}
td{overflow-wrap:anywhere;max-width:48rem}
.why{color:#8a5a00}.muted{color:#5d667a}.pass{color:#116b2e;font-weight:600}
.fail{color:#b00020;font-weight:600}.sig{font-weight:600}code{background:#f3f5f9;padding:0 .2rem}
footer{margin-top:2rem;font-size:.8rem;color:#5d667a}
"""

_NUMBER = re.compile(r"^[−+\-~≈]?[$€£]?\d[\d,.]*(e[−+\-]?\d+)?(\s?[%×a-zA-Zµ/$]{0,8})?"
                     r"(\s?[(\[].{0,60}[)\]])?$")
PLACEHOLDERS = {"", "—", "-", "n/a"}


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def is_number(text: str) -> bool:
    """Whether a cell reads as a figure (``1,234``, ``505 ms``, ``+12.5 %``, ``1.8× (1.5×–2.3×)``)."""
    return bool(_NUMBER.match(text.strip()))


def numeric_columns(rows: Sequence[Sequence[str]], width: int) -> list[bool]:
    """Per column: every shown (non-placeholder) cell is a number, and at least one is shown."""
    flags = []
    for i in range(width):
        shown = [str(r[i]).strip() for r in rows if i < len(r) and str(r[i]).strip() not in PLACEHOLDERS]
        flags.append(bool(shown) and all(is_number(c) for c in shown))
    return flags


def table(headers: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    """A table in its own scrolling container (a wide table never widens the page)."""
    head = [str(h) for h in headers]
    body = [[str(c) for c in row] for row in rows]
    num = numeric_columns(body, len(head))

    def cell(tag: str, i: int, text: str) -> str:
        cls = ' class="n"' if i < len(num) and num[i] else ""
        return f"<{tag}{cls}>{esc(text)}</{tag}>"

    th = "".join(cell("th", i, h) for i, h in enumerate(head))
    tb = "".join("<tr>" + "".join(cell("td", i, c) for i, c in enumerate(r)) + "</tr>" for r in body)
    return f'<div class="tbl"><table><thead><tr>{th}</tr></thead><tbody>{tb}</tbody></table></div>'


def figure(caption: str, png: bytes) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure><img alt="{esc(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{esc(caption)}</figcaption></figure>")


def bullets(items: Iterable[str], cls: str = "") -> str:
    """Plain-text items (escaped) as a list."""
    attr = f' class="{cls}"' if cls else ""
    return f"<ul{attr}>" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>"


def paragraph(text: str, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<p{attr}>{esc(text)}</p>"


@dataclass(frozen=True)
class Fact:
    """One provenance item: what was measured, in two words and a value (``warn``: partial,
    truncated, a bundled mock mistaken for real models…)."""
    label: str
    value: str
    warn: bool = False


@dataclass(frozen=True)
class Fold:
    """A collapsible details section; ``body`` is HTML made by the builders of this module."""
    title: str
    body: str
    open: bool = False


def fold(f: Fold) -> str:
    state = " open" if f.open else ""
    return f"<details{state}><summary>{esc(f.title)}</summary>{f.body}</details>"


def render_page(title: str, *, provenance: Sequence[Fact] = (), alerts: Sequence[str] = (),
                answers: Sequence[str] = (), answers_html: str = "", charts: Sequence[str] = (),
                body: str = "", folds: Sequence[Fold] = (), footer: str = "") -> str:
    """The page: ``answers`` are plain sentences (escaped); ``answers_html``, ``charts`` (from
    ``figure``), ``body`` and ``folds`` are HTML from this module's builders; ``footer`` is text."""
    prov = "".join(f'<li{" class=warn" if f.warn else ""}><b>{esc(f.label)}:</b> {esc(f.value)}</li>'
                   for f in provenance)
    parts = [
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body><header>",
        f"<h1>{esc(title)}</h1>",
        f'<ul class="prov">{prov}</ul>' if prov else "",
        "</header><main>",
        "".join(f'<p class="alert">{esc(a)}</p>' for a in alerts),
        bullets(answers, "answers") if answers else "",
        answers_html,
        f'<section class="charts">{"".join(charts)}</section>' if charts else "",
        body,
        "".join(fold(f) for f in folds),
        "</main>",
        f"<footer>{esc(footer)}</footer>" if footer else "",
        "</body></html>\n",
    ]
    return "".join(parts)
