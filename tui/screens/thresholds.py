"""Screen 4, Thresholds: the confidence-threshold sweep over paired outcomes, the guaranteed threshold
(at most the typed loss against always-strong with the typed confidence; the settings' max_loss
and confidence at first), the observed recommendation for an editable target accuracy, the
calibration view, the judge against people and the accuracy in production from audits; `a`
writes the guaranteed threshold(s) into the settings file.

Pairs are read from the log when the screen is first shown (and on ``l``), folded into a table
in bounded memory (``pairtable``); changing the target or the task re-runs the sweep over it.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, HorizontalGroup, Vertical
from textual.widgets import Input, Label, Select, Static

from routermon.core.errors import RoutermonError
from routermon.core.formatting import count, level, parse_share, pct, plural
from routermon.core.measure import analysis
from routermon.core.measure.judge_check import judge_check
from routermon.core.measure.pairtable import PairScope, PairTable, read_table
from routermon.core.measure.policy import guaranteed, plan_thresholds, write_settings
from routermon.core.measure.production import from_pairs, outcomes_by_task
from routermon.core.settings import config_path
from routermon.core.text import visible

from ..text import markup, plain
from ..widgets.calibration_chart import CalibrationChart
from ..widgets.empty_state import EmptyState
from ..widgets.sweep_chart import SweepChart
from ..widgets.sweep_table import SweepTable
from .apply import ApplyScreen
from .base import MonitorScreen
from .whatif import Percent

NO_PAIRS = (
    "No paired outcomes yet.\n\n"
    "A threshold is chosen from pairs: the cheap and the strong model's answers to the same inputs. "
    "Run both on a sample with `routermon shadow FILE --task T`, or bring your own with "
    "`routermon import FILE`; audited requests (audit_share in the settings) add pairs too."
)


class ThresholdsScreen(MonitorScreen):
    """Task and target controls, the recommendation, the sweep table, and the two plots."""

    MODE = "thresholds"
    TITLE = "Thresholds"
    HELP = (
        "accuracy and cost for each confidence threshold, from paired outcomes (`routermon "
        "shadow`, `routermon import`, audits). `t` edits the target accuracy, `tab` reaches the "
        "guarantee's maximum loss (points) and confidence (%), `k` picks a task, `l` reads the "
        "pairs again, `a` writes the guaranteed threshold(s) into the settings file's "
        "`[thresholds]` (after showing the change; `y` writes it). With audits, the accuracy in "
        "production is shown too."
    )
    AUTO_FOCUS = "SweepTable"
    BINDINGS = [
        Binding("t", "edit_target", "Target"),
        Binding("k", "pick_task", "Task"),
        Binding("l", "load_pairs", "Reload"),
        Binding("a", "apply", "Apply"),
        Binding("escape", "leave_field", "Leave field", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.table: PairTable | None = None
        self.outcomes: dict[str | None, tuple[int, int, int]] = {}  # cascade outcomes per task
        self.result: analysis.SweepResult | None = None

    def compose_body(self) -> ComposeResult:
        with HorizontalGroup(id="thresholds-controls"):
            yield Select[str]([], prompt="All tasks", id="pairs-task", compact=True)
            yield Label(" Target ", classes="field-label")
            yield Input(
                "",
                placeholder="default",
                id="target-accuracy",
                validators=[Percent("The target accuracy")],
                valid_empty=True,
                compact=True,
                select_on_focus=True,
            )
            settings = self.app.workspace.settings
            # What the guarantee promises: at most this many points lost, with this confidence.
            yield Label(" Max loss ", classes="field-label")
            yield Input(
                level(settings.max_loss),
                id="max-loss",
                validators=[Percent("The maximum loss", 0.00001, 0.99)],
                compact=True,
                select_on_focus=True,
                classes="small",
            )
            yield Label(" Conf ", classes="field-label")
            yield Input(
                level(settings.confidence),
                id="guarantee-confidence",
                validators=[Percent("The confidence", 0.01, 0.9999)],
                compact=True,
                select_on_focus=True,
                classes="small",
            )
            yield Static("", id="pairs-summary")
        yield Static("", id="guarantee")
        yield Static("", id="recommendation")
        yield Static("", id="judge-check")
        yield Static("", id="production")
        yield EmptyState(NO_PAIRS, id="thresholds-empty")
        with Horizontal(id="thresholds-body"):
            yield SweepTable(id="sweep-table")
            with Vertical(id="thresholds-plots"):
                yield SweepChart(id="sweep-chart")
                yield CalibrationChart(id="calibration-chart")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#thresholds-empty").display = False
        self.query_one("#thresholds-body").display = False
        self.query_one("#judge-check").display = False

    def update_view(self) -> None:
        # New calls rarely add pairs; reading them all again every poll would rescan the log.
        if self.table is None and self.app.monitor is not None:
            self.action_load_pairs()

    # -- controls ------------------------------------------------------------------------------

    def action_edit_target(self) -> None:
        self.query_one("#target-accuracy", Input).focus()

    def action_pick_task(self) -> None:
        select = self.query_one("#pairs-task", Select)
        select.focus()
        select.expanded = True

    def action_leave_field(self) -> None:
        self.query_one(SweepTable).focus()

    @property
    def target_accuracy(self) -> float | None:
        """The typed target as a share, ``None`` for the default; raises ``ValueError`` when invalid."""
        field = self.query_one("#target-accuracy", Input)
        if not field.value.strip():
            return None
        check = field.validate(field.value)
        if check is not None and not check.is_valid:
            raise ValueError(" ".join(check.failure_descriptions))
        return parse_share(field.value)

    def _percent_field(self, field_id: str) -> float:
        """A guarantee field as a share; ``ValueError`` with the field's own sentence when invalid."""
        field = self.query_one(f"#{field_id}", Input)
        check = field.validate(field.value)
        if check is not None and not check.is_valid:
            raise ValueError(" ".join(check.failure_descriptions))
        return parse_share(field.value)

    @property
    def max_loss(self) -> float:
        return self._percent_field("max-loss")

    @property
    def guarantee_confidence(self) -> float:
        return self._percent_field("guarantee-confidence")

    @property
    def task(self) -> str | None:
        value = self.query_one("#pairs-task", Select).value
        return None if value is Select.NULL else str(value)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.run_sweep()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_leave_field()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.run_sweep()

    def action_apply(self) -> None:
        """Offer to write the guaranteed threshold(s) into the settings file's [thresholds]."""
        if self.table is None or self.result is None:
            self.app.notify("No sweep to apply yet.", severity="warning")
            return
        try:
            guarantees = self._guarantees()
            chosen = guaranteed(guarantees)
            plan = plan_thresholds(config_path(), chosen.thresholds, chosen.notes)
        except (ValueError, RoutermonError) as exc:
            self.app.notify(visible(str(exc)), severity="error", markup=False)
            return
        if not chosen.thresholds:
            self.app.notify(
                "No threshold is guaranteed here, so there is nothing to apply.", severity="warning"
            )
            return
        if not plan.changed:
            self.app.notify(
                visible(f"The settings already route with these thresholds ({plan.path})."), markup=False
            )
            return

        def answered(write: bool | None) -> None:
            if not write:
                self.app.notify("Nothing written.")
                return
            try:
                write_settings(plan)
            except RoutermonError as exc:
                self.app.notify(visible(str(exc)), severity="error", markup=False)
                return
            n = len(plan.changes)
            self.app.notify(visible(f"Wrote {plural(n, 'threshold')} to {plan.path}."), markup=False)

        self.app.push_screen(ApplyScreen(plan, chosen.missing), answered)

    def _guarantees(self) -> dict:
        """The chosen task's guarantee, or each task's own over its pairs (All tasks)."""
        assert self.table is not None and self.result is not None
        if self.task is not None:
            return {self.task: self.result.guarantee}
        out = {}
        for task in sorted(self.table.scope().tasks):
            own, _left_out = self.table.swept(task)
            out[task] = analysis.sweep(
                own, per_task=False, max_loss=self.max_loss, confidence=self.guarantee_confidence
            ).guarantee
        return out

    # -- pairs and the sweep -------------------------------------------------------------------

    def action_load_pairs(self) -> None:
        """Read every paired outcome from the log into a table (in a worker: it reads the whole pair set)."""
        self.query_one("#recommendation", Static).update("[dim]Reading paired outcomes…[/]")
        default = self.app.workspace.threshold

        def read(reader):
            table = read_table(reader, extra=(default,))
            return table, outcomes_by_task(reader, sorted(table.scope().tasks))

        def load() -> None:
            try:
                table, outcomes = self.app.query_log(read)
            except RoutermonError as exc:
                self.app.call_from_thread(self._show_message, str(exc))
                return
            self.outcomes = outcomes
            self.app.call_from_thread(self._pairs_loaded, table)

        self.run_worker(load, thread=True, exclusive=True, group="pairs", name="load pairs")

    def _pairs_loaded(self, table: PairTable) -> None:
        self.table = table
        tasks = sorted(table.scope().tasks)
        select = self.query_one("#pairs-task", Select)
        current = select.value
        with select.prevent(Select.Changed):
            select.set_options((plain(task), task) for task in tasks)
            if current is not Select.NULL and current in tasks:
                select.value = current
        self.run_sweep()

    def _show_message(self, message: str) -> None:
        self.query_one("#guarantee", Static).update("")
        self.query_one("#recommendation", Static).update(markup("[b $error]$message[/]", message=message))

    def _show_production(self, pairs: PairScope, task: str | None) -> None:
        """Accuracy in production from the audits (hidden when there are none)."""
        line = self.query_one("#production", Static)
        outcomes = self.outcomes.get(task)
        result = from_pairs(pairs, outcomes, task) if outcomes and sum(outcomes) else None
        line.display = result is not None and result.accuracy is not None
        if result is not None and result.accuracy is not None:
            line.update(
                markup(
                    "[b]In production:[/] $accuracy ($low–$high) [dim]from $audits of $kept kept answers, "
                    "weighted by audit share[/]",
                    accuracy=pct(result.accuracy),
                    low=pct(result.low),
                    high=pct(result.high),
                    audits=plural(result.audits, "audit"),
                    kept=count(result.kept),
                )
            )

    def _show_judge_check(self, pairs: PairScope) -> None:
        """The judge against human labels, where pairs have both (hidden otherwise)."""
        line = self.query_one("#judge-check", Static)
        check = judge_check(pairs)
        line.display = check is not None
        if check is not None:
            line.update(
                markup(
                    "[b]Judge vs people:[/] $agreement · $estimate [dim]— $footing[/]",
                    agreement=check.agreement_text,
                    estimate=check.estimate_text,
                    footing=check.footing,
                )
            )

    def run_sweep(self) -> None:
        """Sweep the table for the current task and target (pure, so no log access)."""
        if self.table is None:
            return
        empty = self.query_one("#thresholds-empty", EmptyState)
        body = self.query_one("#thresholds-body")
        task = self.task
        pairs = self.table.scope(task)
        self._show_judge_check(pairs)
        self._show_production(pairs, task)
        if not pairs:
            self.result = None
            empty.display, body.display = True, False
            self.query_one("#recommendation", Static).update("")
            self.query_one("#guarantee", Static).update("")
            self.query_one("#pairs-summary", Static).update("")
            return
        try:
            target = self.target_accuracy
            swept, _left_out = self.table.swept(task)
            result = analysis.sweep(
                swept,
                target_accuracy=target,
                task=task,
                per_task=False,
                default_threshold=self.app.workspace.threshold,
                max_loss=self.max_loss,
                confidence=self.guarantee_confidence,
            )
        except (ValueError, RoutermonError) as exc:
            self._show_message(str(exc))
            return
        self.result = result
        empty.display, body.display = False, True
        sources = ", ".join(f"{count(n)} {source}" for source, n in result.sources.items())
        self.query_one("#pairs-summary", Static).update(f"[dim]{plural(result.pairs, 'pair')}[/]")
        field = self.query_one("#target-accuracy", Input)
        if result.target_accuracy is not None:
            field.placeholder = pct(result.target_accuracy)
        recommendation = result.recommended
        style = "b $success" if recommendation.met else "b $warning"
        baselines = (
            f"cheap only {pct(result.cheap_only.accuracy)}, strong only {pct(result.strong_only.accuracy)} correct;"
            f" pairs: {sources}"
        )
        guarantee = result.guarantee
        passed = "b $success" if guarantee.threshold is not None else "b $warning"
        self.query_one("#guarantee", Static).update(
            markup(
                f"[b]Guarantee:[/] [{passed}]$statement[/] [dim]$footing[/]",
                statement=guarantee.statement,
                footing=guarantee.footing,
            )
        )
        self.query_one("#recommendation", Static).update(
            markup(
                f"[b]Observed (not guaranteed):[/] [{style}]$message[/] [dim]($baselines)[/]",
                message=recommendation.message,
                baselines=baselines,
            )
        )
        self.query_one(SweepTable).show(result)
        self.query_one(SweepChart).show(result)
        self.query_one(CalibrationChart).show(result.calibration)
