"""The import rules of docs/design.md hold on the tree, and the checker really catches breaches."""

from __future__ import annotations

from pathlib import Path

import pytest

from suite.devtools import imports


def test_the_source_tree_keeps_the_import_rules() -> None:
    assert imports.problems() == []


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def rooted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setattr(imports, "ROOT", tmp_path)
    return tmp_path


def test_a_cycle_through_a_function_level_import_is_found(rooted: Path) -> None:
    _tree(rooted, {"suite/__init__.py": "", "suite/a.py": "import suite.b\n",
                   "suite/b.py": "def f():\n    from suite import a\n", "mock_server/__init__.py": ""})
    assert imports.problems(rooted) == ["import cycle: suite.a -> suite.b"]


def test_a_stage_importing_another_stage_is_named_with_its_line(rooted: Path) -> None:
    _tree(rooted, {"suite/__init__.py": "", "suite/synth/__init__.py": "", "suite/driver/__init__.py": "",
                   "suite/driver/x.py": "\nfrom suite.synth import build\n", "suite/synth/build.py": "",
                   "mock_server/__init__.py": ""})
    assert imports.problems(rooted) == [
        "suite/driver/x.py:2: suite.driver.x -> suite.synth.build: "
        "stage suite.driver imports stage suite.synth"]


def test_contracts_may_not_import_the_top_layer_and_mock_may_not_import_a_stage(rooted: Path) -> None:
    _tree(rooted, {"suite/__init__.py": "", "suite/records.py": "from suite import api\n", "suite/api.py": "",
                   "suite/analyze/__init__.py": "", "mock_server/__init__.py": "import suite.analyze\n"})
    assert imports.problems(rooted) == [
        "mock_server/__init__.py:1: mock_server -> suite.analyze: "
        "stage mock_server imports stage suite.analyze",
        "suite/records.py:1: suite.records -> suite.api: contract imports the top layer (suite.api)"]


def test_type_checking_imports_and_package_reexports_are_not_dependencies(rooted: Path) -> None:
    _tree(rooted, {"suite/__init__.py": "", "suite/synth/__init__.py": "from suite.synth.build import x\n",
                   "suite/synth/build.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                   "    from suite.driver import y\nimport suite.synth\n",
                   "suite/driver/__init__.py": "", "mock_server/__init__.py": ""})
    assert imports.problems(rooted) == []
