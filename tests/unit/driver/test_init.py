"""The driver package as a whole: its public API stays free of Locust, and imports point one way."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import suite.driver


def test_importing_the_driver_api_does_not_import_locust_or_gevent() -> None:
    code = ("import sys, suite.driver; "
            "print(sorted(m for m in ('locust', 'gevent') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         check=True)
    assert out.stdout.strip() == "[]"


DRIVER = Path(suite.driver.__file__).parent
# side → the parts of suite.driver it may import at run time (imports under TYPE_CHECKING are types)
MAY_IMPORT = {"control": {"control", "exchange"}, "exchange": {"exchange"},
              "inlocust": {"inlocust", "control", "exchange"}}
GEVENT_MODULES = {"inlocust/locustfile.py", "inlocust/distributed.py", "inlocust/shiplink.py"}


def _runtime_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    typing_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
                   and ast.unparse(node.test) == "TYPE_CHECKING" for n in ast.walk(node)}
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


@pytest.mark.parametrize("path", sorted(DRIVER.glob("*/*.py")), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_imports_point_one_way_and_only_the_locust_side_imports_gevent(path: Path) -> None:
    side = path.parent.name
    modules = _runtime_imports(path)
    parts = {m.split(".")[2] for m in modules if m.startswith("suite.driver.") and m.count(".") >= 2}
    assert parts <= MAY_IMPORT[side], f"{side}/{path.name} imports suite.driver.{parts - MAY_IMPORT[side]}"
    heavy = {m.split(".")[0] for m in modules} & {"locust", "gevent", "geventhttpclient"}
    if f"{side}/{path.name}" not in GEVENT_MODULES:
        assert not heavy, f"{side}/{path.name} imports {heavy}"


def test_the_locustfile_the_runner_starts_is_the_one_in_inlocust() -> None:
    from suite.driver.control.command import LOCUSTFILE

    assert LOCUSTFILE == DRIVER / "inlocust" / "locustfile.py"
    assert LOCUSTFILE.is_file()
