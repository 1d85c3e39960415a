"""routermon.core must never pull in the terminal UI stack (STYLE.md: the shape).

sqlite-utils, a core dependency, imports click itself; so the runtime check loads sqlite_utils
first and then asserts that importing every core module adds no UI module, and a static check
asserts no core source file names one.
"""

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import routermon.core

UI_LIBRARIES = ("textual", "textual_plotext", "plotext", "click", "rich")


def _core_modules() -> list[str]:
    # Every module of every layer package (``walk_packages`` imports the packages to list them).
    return sorted(m.name for m in pkgutil.walk_packages(routermon.core.__path__, "routermon.core."))


def test_importing_core_adds_no_ui_module():
    modules = _core_modules()
    assert "routermon.core.route.router" in modules
    code = (
        "import importlib, sys\n"
        "import sqlite_utils\n"
        "before = set(sys.modules)\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"ui = {UI_LIBRARIES!r}\n"
        "added = sorted(m for m in set(sys.modules) - before if m.split('.')[0] in ui)\n"
        "never = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'plotext', 'textual_plotext'))\n"
        "print(','.join(added + never))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"importing routermon.core loaded: {out.stdout.strip()}"


def test_no_core_source_imports_ui_libraries():
    core_dir = Path(routermon.core.__file__).parent
    offenders = []
    for path in core_dir.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [
                f"{path.relative_to(core_dir)}: {n}" for n in names if n.split(".")[0] in UI_LIBRARIES
            ]
    assert offenders == []


def test_the_licence_is_an_spdx_string_so_pip_prints_no_deprecation_warning():
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"  # a TOML table here is deprecated by setuptools (PEP 639)
