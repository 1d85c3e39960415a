"""Smaller rooms (issue 30): no function or method in ``core/`` or ``tui/`` is longer than 80 lines.

A function's length is ``end_lineno - lineno + 1`` of its ``def`` (decorators not counted; its
docstring, nested functions and blank lines counted), read from the code with ``ast``.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LONGEST = 80  # lines
FOLDERS = ("core", "tui")


def long_functions(folder: Path, longest: int = LONGEST) -> list[str]:
    """``path:line name (N lines)`` for each function or method under ``folder`` longer than ``longest``."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > longest:
                    where = path.relative_to(folder.parent)
                    found.append(f"{where}:{node.lineno} {node.name} ({lines} lines)")
    return found


def test_no_function_in_core_or_tui_is_longer_than_80_lines():
    """Every function and method reads as a short sequence of named steps."""
    too_long = [entry for folder in FOLDERS for entry in long_functions(ROOT / folder)]
    assert not too_long, "Longer than 80 lines (split into named steps):\n" + "\n".join(too_long)


def test_the_check_finds_a_planted_long_method_and_passes_a_short_one(tmp_path):
    """A method of 81 lines nested in a class in a subpackage is reported; one of 80 lines is not."""
    package = tmp_path / "core" / "deep"
    package.mkdir(parents=True)

    def method(header: str, lines: int) -> str:  # ``lines`` counts the def and the return
        steps = "".join(f"        step_{i} = {i}\n" for i in range(lines - 2))
        return f"    {header}\n{steps}        return step_0\n\n"

    planted = (
        "class Planted:\n" + method("async def too_long(self):", 81) + method("def just_fits(self):", 80)
    )
    (package / "planted.py").write_text(planted, encoding="utf-8")
    assert long_functions(tmp_path / "core") == ["core/deep/planted.py:2 too_long (81 lines)"]
