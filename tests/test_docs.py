"""The README is the front door and docs/ holds the rest by topic: the README stays short, every
page is linked from it, every relative link in either leads to a file, every ``routermon.core``
name they give imports, and the settings example loads as it is written."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from routermon.core.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = sorted((ROOT / "docs").glob("*.md"))
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
DOTTED_NAME = re.compile(r"routermon\.core(?:\.[A-Za-z_]\w*)+")


def _readme_without_moved_names() -> str:
    """The README's text without its "Moved names" paragraph, which gives the old paths on purpose."""
    text = README.read_text()
    start = text.index("**Moved names.**")
    return text[:start] + text[text.index("\n\n", start) :]


def test_the_readme_stays_the_front_door():
    assert len(README.read_text().splitlines()) < 200


def test_every_docs_page_is_linked_from_the_readme():
    linked = {(README.parent / target).resolve() for target in LINK.findall(README.read_text())}
    assert PAGES and [page for page in PAGES if page not in linked] == []


@pytest.mark.parametrize("document", [README, *PAGES], ids=lambda path: path.name)
def test_every_relative_link_leads_to_a_file(document):
    targets = [t for t in LINK.findall(document.read_text()) if not t.startswith(("http://", "https://"))]
    assert [t for t in targets if not (document.parent / t).exists()] == []


def _resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for cut in range(len(parts), 1, -1):
        try:
            found = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(found, attribute):
                return False
            found = getattr(found, attribute)
        return True
    return False


def test_every_routermon_core_name_in_the_docs_imports():
    texts = [_readme_without_moved_names(), *(page.read_text() for page in PAGES)]
    names = {name for text in texts for name in DOTTED_NAME.findall(text)}
    assert names and sorted(name for name in names if not _resolves(name)) == []


def test_the_settings_example_loads_as_written(tmp_path, monkeypatch):
    page = (ROOT / "docs" / "settings.md").read_text()
    (example,) = re.findall(r"```toml\n(.*?)```", page, flags=re.S)
    config = tmp_path / "settings.toml"
    config.write_text(example)
    monkeypatch.setenv("ROUTERMON_CONFIG", str(config))
    settings = load_settings()
    assert settings.judge_model == "claude-sonnet-4-6"
    assert settings.tiers["strong"].thinking == "off" and settings.thresholds == {"classify": 0.82}
