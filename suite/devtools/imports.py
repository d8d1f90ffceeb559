"""``python -m suite.devtools.imports``: check the import rules of docs/design.md on the source tree.

Why a tool and not a review habit: a stage that reaches into another stage's internals, or a cycle
broken only by a function-level import, still works on the day it is written; it fails later, far
from its cause. Every import counts here, at module level or inside a function (a lazy import is
still a dependency), except those under ``if TYPE_CHECKING:`` (annotations only).

The layers (arrows point down, nothing points back up):

- top:       ``suite.cli``, ``suite.api``, ``suite.sweep``, ``suite.devtools`` — compose stages
- stages:    ``suite.synth``, ``suite.driver``, ``suite.analyze``, ``suite.compare``, ``mock_server``
- contracts: every other ``suite.*`` module (records, tokens, models, errors, services, runtime, ...)

A stage imports contracts and itself only; the one allowed stage-to-stage edge is ``suite.compare`` →
``suite.analyze`` (a comparison is made of analyses). Contracts import contracts only. ``mock_server``
may import contracts, never another stage; only the top layer may import ``mock_server``.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("suite", "mock_server")
TOP = ("suite.cli", "suite.api", "suite.sweep", "suite.devtools",
       "suite.init", "suite.check", "suite.history")
STAGES = ("suite.synth", "suite.driver", "suite.analyze", "suite.compare", "mock_server")
ALLOWED_STAGE_EDGES = {("suite.compare", "suite.analyze")}


@dataclass(frozen=True)
class Edge:
    """``source`` imports ``target`` at ``path:line``."""

    source: str
    target: str
    path: Path
    line: int


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _under_type_checking(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def _resolve(module: str, is_package: bool, level: int, name: str | None) -> str:
    """The absolute name of a relative import (``from . import x`` in ``a.b`` → ``a.b.x``'s parent)."""
    if level == 0:
        return name or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, name] if name else base)


def imports_of(path: Path, root: Path = ROOT) -> Iterator[Edge]:
    """Every import of a first-party module in one file (``from a import b`` counts ``a.b``; ``graph``
    maps it to ``a`` when ``b`` is a name, not a module)."""
    module = module_name(path, root)
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    for node in ast.walk(tree):
        if _under_type_checking(node, parents):
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, path.name == "__init__.py", node.level, node.module)
            targets = [f"{base}.{alias.name}" for alias in node.names]  # a name, not a module: → base
        else:
            continue
        for target in targets:
            if target.split(".")[0] in PACKAGES:
                yield Edge(module, target, path, node.lineno)


def _known(name: str, modules: set[str]) -> str | None:
    """The module ``name`` refers to: itself when it is one, else its longest module prefix."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def graph(root: Path = ROOT) -> tuple[set[str], list[Edge]]:
    files = [p for pkg in PACKAGES for p in sorted((root / pkg).rglob("*.py"))]
    modules = {module_name(p, root) for p in files}
    edges: dict[tuple[str, str], Edge] = {}
    for path in files:
        for edge in imports_of(path, root):
            target = _known(edge.target, modules)
            if target and target != edge.source:
                edges.setdefault((edge.source, target), Edge(edge.source, target, edge.path, edge.line))
    return modules, list(edges.values())


def layer(module: str) -> tuple[str, str]:
    """(layer, group): ``("top"|"stage"|"contract", the package prefix that names the group)``."""
    for prefix in TOP:
        if module == prefix or module.startswith(prefix + "."):
            return "top", prefix
    for prefix in STAGES:
        if module == prefix or module.startswith(prefix + "."):
            return "stage", prefix
    return "contract", module


def layer_violations(edges: Iterable[Edge]) -> list[str]:
    out = []
    for e in edges:
        (src_layer, src), (dst_layer, dst) = layer(e.source), layer(e.target)
        if src_layer == "top" or src == dst:
            continue
        if dst_layer == "top":
            why = f"{src_layer} imports the top layer ({dst})"
        elif src_layer == "contract" and dst_layer == "stage":
            why = f"a contract imports the stage {dst}"
        elif src_layer == "stage" and dst_layer == "stage" and (src, dst) not in ALLOWED_STAGE_EDGES:
            why = f"stage {src} imports stage {dst}"
        else:
            continue
        out.append(f"{e.path.relative_to(ROOT)}:{e.line}: {e.source} -> {e.target}: {why}")
    return sorted(out)


def cycles(modules: set[str], edges: Iterable[Edge]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each a cycle to break."""
    succ: dict[str, list[str]] = {m: [] for m in modules}
    for e in edges:
        succ[e.source].append(e.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in succ[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for m in sorted(modules):
        if m not in index:
            visit(m)
    return sorted(found)


def problems(root: Path = ROOT) -> list[str]:
    modules, edges = graph(root)
    # a package's __init__ importing its own submodules (a re-export) is not a cycle to break
    edges = [e for e in edges if not e.target.startswith(e.source + ".")]
    out = layer_violations(edges)
    out += [f"import cycle: {' -> '.join(c)}" for c in cycles(modules, edges)]
    return out


def main() -> int:
    found = problems()
    for line in found:
        print(line)
    modules, edges = graph()
    print(f"{len(modules)} modules, {len(edges)} imports: "
          f"{'OK' if not found else f'{len(found)} problem(s)'}")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
