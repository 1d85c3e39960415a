"""The routing policy in the settings file: write per-task thresholds into its ``[thresholds]``
table, keeping everything else in the file (comments, order, spacing) as it was.

``routermon thresholds --apply`` and the Thresholds screen call ``plan_thresholds`` to see the
change (a unified diff) and ``write_settings`` to make it. The router reads the table through
``settings.Settings.thresholds``.
"""

from __future__ import annotations

import difflib
import os
import tempfile
from pathlib import Path

import tomlkit
from pydantic import BaseModel
from tomlkit.exceptions import TOMLKitError

from ..errors import ConfigError
from ..formatting import pct, plural, points
from .guarantee import Guarantee


class ThresholdPlan(BaseModel):
    """What applying thresholds would change in the settings file."""

    path: str
    old_text: str
    new_text: str
    changes: dict[str, tuple[float | None, float]]  # task: (threshold before, after)

    @property
    def changed(self) -> bool:
        return self.old_text != self.new_text

    def diff(self) -> str:
        """A unified diff of the settings file, as ``diff -u`` would print it."""
        lines = difflib.unified_diff(
            self.old_text.splitlines(keepends=True),
            self.new_text.splitlines(keepends=True),
            fromfile=self.path,
            tofile=self.path,
        )
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


class Guaranteed(BaseModel):
    """The thresholds to apply, the tasks that have none and why, and a note for each applied one."""

    thresholds: dict[str, float]
    missing: dict[str, str]
    notes: dict[str, str]


def guaranteed(guarantees: dict[str, Guarantee]) -> Guaranteed:
    """From each task's guarantee: its threshold (where one passes), and what it promises."""
    found = {task: g.threshold for task, g in guarantees.items() if g.threshold is not None}
    notes = {
        task: f"loses at most {points(g.max_loss)} against always-strong with {pct(g.confidence, 0)} "
        f"confidence (observed {points(g.loss)}; {plural(g.n, 'pair')})"
        for task, g in guarantees.items()
        if task in found
    }
    missing = {task: g.statement for task, g in guarantees.items() if g.threshold is None}
    return Guaranteed(thresholds=found, missing=missing, notes=notes)  # type: ignore[arg-type]


def plan_thresholds(
    path: Path | str, thresholds: dict[str, float], notes: dict[str, str] | None = None
) -> ThresholdPlan:
    """The settings file at ``path`` (possibly missing) with ``thresholds`` set in its
    ``[thresholds]`` table, each with its ``notes`` entry as a comment (what it rests on);
    nothing is written."""
    path = Path(path)
    try:
        old_text = path.read_text(encoding="utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"The settings file {path} cannot be read: {exc}.") from None
    try:
        document = tomlkit.parse(old_text)
    except TOMLKitError as exc:
        raise ConfigError(f"The settings file {path} is not valid TOML ({exc}); fix it first.") from None
    table = document.get("thresholds")
    if table is None:
        table = tomlkit.table()
        table.comment("the routing policy: the cheap tier's threshold per task")
        document["thresholds"] = table
    elif not isinstance(table, dict):
        raise ConfigError(f"`thresholds` in the settings file {path} must be a table of task = threshold.")
    changes: dict[str, tuple[float | None, float]] = {}
    for task, value in sorted(thresholds.items()):
        if not 0.0 <= value <= 1.0:
            raise ConfigError(f"The threshold for task {task!r} must be between 0 and 1; got {value}.")
        before = table.get(task)
        value = round(float(value), 4)
        if before != value:
            changes[task] = (None if before is None else float(before), value)
            item = tomlkit.item(value)
            if notes and notes.get(task):
                item.comment(notes[task])
            table[task] = item
    return ThresholdPlan(path=str(path), old_text=old_text, new_text=tomlkit.dumps(document), changes=changes)


def write_settings(plan: ThresholdPlan) -> None:
    """Write the planned file atomically (a temporary file renamed over it), mode 0600 if new; a
    symbolic link is followed, so the file it points to is the one rewritten."""
    path = Path(plan.path).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".settings-", suffix=".toml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(plan.new_text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ConfigError(f"The settings file {path} cannot be written: {exc.strerror}.") from None
