"""The house in layers (issue 30): ``core``'s packages import only downwards, and no cycle exists.

Layers, bottom to top: the shared basics at the top of ``core/`` (errors, formatting, text, prices,
settings...), ``core/log``, ``core/route``, ``core/gateway``, ``core/measure``, ``core/simulate`` (the stand-in
included), then ``core/workspace.py``, which builds the rest. Every import counts: at module level,
inside a function or under ``TYPE_CHECKING``. Read from the code, recursively.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "core"
LAYERS = ("log", "route", "gateway", "measure", "simulate")  # bottom to top, above the shared basics
TOP = {"workspace"}  # builds everything: the one module above every layer


def module_name(path: Path, core: Path = CORE) -> str:
    parts = list(path.relative_to(core).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(source: str, name: str, is_package: bool, known: set[str]) -> set[str]:
    """The ``core`` modules one module's source imports (``name``: its dotted name under ``core``)."""
    package = name.split(".") if is_package else name.split(".")[:-1]
    if name == "":
        package = []
    found: set[str] = set()

    def add(target: str) -> None:
        # ``from .x import y`` names module ``x.y`` when it exists, else module ``x``.
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target:
            found.add(target)

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
            elif node.module and (node.module + ".").startswith("routermon.core."):
                base, node_module = [], node.module[len("routermon.core.") :]
                for alias in node.names:
                    add(f"{node_module}.{alias.name}")
                continue
            else:
                continue
            prefix = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                add(f"{prefix}.{alias.name}" if prefix else alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("routermon.core."):
                    add(alias.name[len("routermon.core.") :])
    found.discard(name)
    return found


def import_graph(core: Path = CORE) -> dict[str, set[str]]:
    paths = sorted(core.rglob("*.py"))
    known = {module_name(p, core) for p in paths} - {""}
    return {
        module_name(p, core): imports_of(
            p.read_text(encoding="utf-8"), module_name(p, core), p.name == "__init__.py", known
        )
        for p in paths
        if module_name(p, core)
    }


def layer_of(module: str) -> int:
    """0 for the shared basics, 1..4 for the layer packages, 5 for the workspace."""
    head = module.split(".")[0]
    if head in LAYERS:
        return LAYERS.index(head) + 1
    if head in TOP:
        return len(LAYERS) + 1
    return 0


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{m} imports {t}" for m, targets in graph.items() for t in targets if layer_of(t) > layer_of(m)
    )


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as the list of its modules (the first again at its end), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for t in sorted(graph.get(m, ())):
            if state.get(t) == 1:
                return stack[stack.index(t) :] + [t]
            if t not in state:
                found = visit(t)
                if found:
                    return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


def test_the_packages_exist_and_hold_the_modules():
    graph = import_graph()
    for layer in LAYERS:
        assert (CORE / layer / "__init__.py").exists()
    assert "simulate.standin.api" in graph  # the stand-in is read recursively
    assert "route.router" in graph and "log.db" in graph and "measure.judge" in graph


def test_imports_run_downwards_only():
    assert upward_imports(import_graph()) == []


def test_no_import_cycle():
    assert find_cycle(import_graph()) is None


def test_the_checks_see_a_planted_cycle_and_an_upward_import(tmp_path):
    """A copy of the tree with a cycle planted (``db`` importing ``store``, which imports ``db``) and
    the router importing the judge: both checks fail on it."""
    for path in CORE.rglob("*.py"):
        copy = tmp_path / path.relative_to(CORE)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    db = tmp_path / "log" / "db.py"
    db.write_text(
        db.read_text(encoding="utf-8") + "\n\ndef _late():\n    from . import store\n", encoding="utf-8"
    )
    router = tmp_path / "route" / "router.py"
    router.write_text(
        router.read_text(encoding="utf-8") + "\nif False:\n    from ..measure.judge import Judge\n",
        encoding="utf-8",
    )
    graph = import_graph(tmp_path)
    cycle = find_cycle(graph)
    assert cycle is not None and "log.db" in cycle and "log.store" in cycle
    assert "route.router imports measure.judge" in upward_imports(graph)
