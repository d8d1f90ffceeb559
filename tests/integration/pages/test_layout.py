"""report.html, compare.html and sweep.html as a reader sees them: rendered by headless Chromium at
1400×900 (a laptop screen), built from fixed inputs (``build.py``).

* the answers (``ul.answers``) and the first chart are on the first screen, before any scrolling;
* nothing is wider than the viewport: a wide table scrolls inside its own ``.tbl`` container;
* every ``<table>`` sits in a ``.tbl`` container that fits the viewport and scrolls sideways;
* text cells are left-aligned and figures right-aligned (``td.n``), and no text cell is marked as
  a figure.

Checks after the first are made with every ``<details>`` open, so folded tables count too. Each
page's first screen and full page (details open) are written as PNGs to ``$LLMSUITE_ARTIFACTS``
(default ``reports/screenshots/``, git-ignored) for a reviewer's eyes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from suite.analyze.outputs.page import PLACEHOLDERS, is_number
from tests.integration.conftest import artifacts_dir
from tests.integration.pages.build import PAGES, Pages

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

# one worker builds the pages and opens Chromium for every check of them (--dist loadgroup)
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("pages")]

WIDTH, HEIGHT = 1400, 900
SLACK = 0.5  # px: sub-pixel layout rounding


@pytest.fixture(scope="session")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Pages:
    """Under pytest-xdist the pages are built in the run's temporary folder all workers share
    (the parent of each worker's own), so each is built once, not once per worker."""
    base = tmp_path_factory.getbasetemp()
    return Pages((base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "pages")


@pytest.fixture(scope="module")
def open_page(chromium: Browser, pages: Pages) -> Iterator[Any]:
    """``open_page(name, details=False)``: the built page loaded at 1400×900, scrolled to the top;
    ``details=True``: with every ``<details>`` open. Loaded once per module (the checks only read)."""
    context = chromium.new_context(viewport={"width": WIDTH, "height": HEIGHT}, device_scale_factor=1)
    loaded: dict[tuple[str, bool], Page] = {}

    def load(name: str, details: bool = False) -> Page:
        if (name, details) not in loaded:
            page = context.new_page()
            page.goto(pages(name).as_uri(), wait_until="load")
            if details:
                page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
            loaded[name, details] = page
        return loaded[name, details]

    try:
        yield load
    finally:
        context.close()


def describe(item: dict[str, Any]) -> str:
    return f"<{item['tag']}> {item['text']!r}"


FIRST_SCREEN = """() => {
  const box = e => e.getBoundingClientRect();
  const answers = [...document.querySelectorAll('ul.answers li')].map(li => ({
    tag: 'li', text: li.innerText.trim().slice(0, 90), top: box(li).top, bottom: box(li).bottom}));
  const img = document.querySelector('section.charts figure img');
  const chart = img && {tag: 'img', text: img.alt.slice(0, 90), top: box(img).top, bottom: box(img).bottom,
                        height: box(img).height, loaded: img.complete && img.naturalWidth > 0};
  return {answers, chart, scroll: window.scrollY};
}"""


@pytest.mark.parametrize("name", PAGES)
def test_answers_and_first_chart_are_on_the_first_screen(open_page: Any, name: str) -> None:
    got = open_page(name).evaluate(FIRST_SCREEN)
    assert got["scroll"] == 0
    answers, chart = got["answers"], got["chart"]
    assert answers, f"{name}: no answer sentences (no `ul.answers li`)"
    hidden = [describe(a) for a in answers if a["bottom"] <= a["top"]]
    assert not hidden, f"{name}: answers not rendered (no height): {hidden}"
    below = [f"{describe(a)} ends at {a['bottom']:.0f}px" for a in answers if a["bottom"] > HEIGHT + SLACK]
    assert not below, f"{name}: answers below the first {HEIGHT}px screen: {below}"
    assert chart, f"{name}: no chart (no `section.charts figure img`)"
    assert chart["loaded"] and chart["height"] > 0, f"{name}: the first chart does not render: {chart}"
    assert chart["top"] < HEIGHT, f"{name}: the first chart starts at {chart['top']:.0f}px, below the " \
                                  f"first {HEIGHT}px screen"


WIDE = """(width) => {
  const out = [];
  for (const e of document.body.querySelectorAll('*')) {
    const p = e.parentElement && e.parentElement.closest('.tbl');
    if (p) continue;  // inside a scrolling table container: its container is what must fit
    const r = e.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.right > width + 0.5 || r.left < -0.5)
      out.push({tag: e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''),
                text: (e.innerText || e.getAttribute('alt') || '').trim().slice(0, 60),
                left: r.left, right: r.right});
  }
  return {scrollWidth: document.documentElement.scrollWidth, wide: out};
}"""


@pytest.mark.parametrize("name", PAGES)
def test_nothing_is_wider_than_the_viewport(open_page: Any, name: str) -> None:
    got = open_page(name, details=True).evaluate(WIDE, WIDTH)
    wide = [f"{describe(w)} spans {w['left']:.0f}–{w['right']:.0f}px" for w in got["wide"]]
    assert not wide, f"{name}: {len(wide)} elements reach past the {WIDTH}px viewport, e.g. {wide[:6]}"
    assert got["scrollWidth"] <= WIDTH, f"{name}: the page is {got['scrollWidth']}px wide"


TABLES = """() => [...document.querySelectorAll('table')].map(t => {
  const c = t.parentElement, r = c.getBoundingClientRect();
  return {tag: 'table', text: (t.querySelector('th, td') || t).innerText.trim().slice(0, 60),
          container: c.tagName.toLowerCase() + (c.className ? '.' + c.className : ''),
          in_tbl: c.classList.contains('tbl'), overflow: getComputedStyle(c).overflowX,
          left: r.left, right: r.right, table_width: t.getBoundingClientRect().width,
          inner_width: c.clientWidth};
})"""


@pytest.mark.parametrize("name", PAGES)
def test_every_table_fits_or_scrolls_inside_its_own_container(open_page: Any, name: str) -> None:
    tables = open_page(name, details=True).evaluate(TABLES)
    assert tables, f"{name}: no <table> at all (its details tables are missing)"
    bad = []
    for t in tables:
        if not t["in_tbl"]:
            bad.append(f"{describe(t)} sits in <{t['container']}>, not in a .tbl container")
        elif t["table_width"] > t["inner_width"] + SLACK and t["overflow"] not in ("auto", "scroll"):
            bad.append(f"{describe(t)} is {t['table_width']:.0f}px in a {t['inner_width']}px container "
                       f"that does not scroll (overflow-x: {t['overflow']})")
        if t["right"] > WIDTH + SLACK or t["left"] < -SLACK:
            bad.append(f"{describe(t)}: its container spans {t['left']:.0f}–{t['right']:.0f}px")
    assert not bad, f"{name}: {len(bad)} of {len(tables)} tables neither fit nor scroll: {bad[:6]}"


CELLS = """() => [...document.querySelectorAll('table')].map(t => [...t.rows].map(row =>
  [...row.cells].map(c => ({tag: c.tagName.toLowerCase(), text: c.innerText.trim().slice(0, 60),
                            n: c.classList.contains('n'), align: getComputedStyle(c).textAlign}))))"""
LEFT, RIGHT = ("left", "start"), ("right", "end")  # the page is left-to-right


def misaligned(rows: list[list[dict[str, Any]]]) -> list[str]:
    """Cells whose alignment contradicts their column: a figure column (``td.n``, or every shown
    cell a number) right-aligned, any other cell left-aligned; no text cell marked as a figure."""
    bad = []
    for row in rows:
        for c in row:
            shown = c["text"] not in PLACEHOLDERS
            if c["n"] and c["align"] not in RIGHT:
                bad.append(f"{describe(c)} is a figure (class n) aligned {c['align']}")
            elif not c["n"] and c["align"] not in LEFT:
                bad.append(f"{describe(c)} is text aligned {c['align']}")
            if c["tag"] == "td" and c["n"] and shown and not is_number(c["text"]):
                bad.append(f"{describe(c)} is text in a column marked as figures")
    body = [r for r in rows if r and all(c["tag"] == "td" for c in r)]
    for i in range(max((len(r) for r in body), default=0)):
        column = [r[i] for r in body if i < len(r) and r[i]["text"] not in PLACEHOLDERS]
        if column and all(is_number(c["text"]) for c in column) and any(c["align"] not in RIGHT
                                                                          for c in column):
            bad.append(f"column {i + 1} holds only figures (e.g. {column[0]['text']!r}) but is not "
                       "right-aligned")
    return bad


@pytest.mark.parametrize("name", PAGES)
def test_text_cells_are_left_aligned_and_figures_right_aligned(open_page: Any, name: str) -> None:
    tables = open_page(name, details=True).evaluate(CELLS)
    assert any(len(rows) > 1 for rows in tables), f"{name}: no table with a body row"
    bad = [f"table {k + 1}: {m}" for k, rows in enumerate(tables) for m in misaligned(rows)]
    assert not bad, f"{name}: {len(bad)} misaligned cells, e.g. {bad[:8]}"


@pytest.mark.parametrize("name", PAGES)
def test_screenshots_of_the_first_screen_and_the_full_page(open_page: Any, name: str) -> None:
    """Artifacts for review (the issue's before/after); printed paths, asserted to be real PNGs."""
    out = artifacts_dir()
    out.mkdir(parents=True, exist_ok=True)
    first, full = out / f"{name}-first.png", out / f"{name}-full.png"
    open_page(name).screenshot(path=str(first))
    open_page(name, details=True).screenshot(path=str(full), full_page=True)
    for shot in (first, full):
        head = shot.read_bytes()[:24]
        assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{shot} is not a PNG"
        print(f"screenshot: {shot}")
    head = first.read_bytes()[:24]  # IHDR: width and height, big-endian, at bytes 16-23
    assert (int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")) == (WIDTH, HEIGHT)
