"""Screen 3, What-if: a month of traffic priced as always-strong, always-cheap, cascade and simple split.

Numbers update as you type; a field that does not parse is marked and explained, never raised.
"Use observed traffic" fills the form from the log the way ``routermon whatif --from-log`` reads it.
While a field shows the value it was filled with, the exact observed figure is used (the field shows
it rounded); what is typed goes over the observed traffic by ``whatif.typed_over_observed``, the
rule ``whatif --from-log`` with options follows too, so the screen and the command price the same
month.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, HorizontalGroup, Vertical
from textual.content import Content
from textual.validation import ValidationResult, Validator
from textual.widgets import Button, Input, Label, Select, Static

from routermon.core.errors import RoutermonError
from routermon.core.formatting import parse_share, pct, short_model, whole
from routermon.core.measure import whatif
from routermon.core.prices import known_models

from ..text import markup, plain
from ..widgets.cost_curve_chart import CostCurveChart
from ..widgets.whatif_results import WhatIfResults
from .base import MonitorScreen

OBSERVED_DAYS = 7
TYPE_INSTEAD = "type Requests / month, Cheap share and the token counts in the fields"


def parse_quantity(text: str) -> float:
    """A number as people type it: ``1,000,000``, ``1_000``, ``2.5k``, ``3M``; raises ``ValueError``."""
    cleaned = text.strip().replace(",", "").replace("_", "")
    scale = 1.0
    if cleaned[-1:].lower() in ("k", "m"):
        scale = 1_000.0 if cleaned[-1].lower() == "k" else 1_000_000.0
        cleaned = cleaned[:-1]
    value = float(cleaned) * scale
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(text)
    return value


class Quantity(Validator):
    """A number within ``[minimum, maximum]``, typed with or without separators and k / M."""

    def __init__(self, what: str, minimum: float = 0.0, maximum: float | None = None) -> None:
        super().__init__()
        self.what, self.minimum, self.maximum = what, minimum, maximum

    def validate(self, value: str) -> ValidationResult:
        try:
            number = parse_quantity(value)
        except ValueError:
            return self.failure(f"{self.what} must be a number.")
        if number < self.minimum or (self.maximum is not None and number > self.maximum):
            top = f" and {self.maximum:g}" if self.maximum is not None else ""
            word = "between" if top else "at least"
            return self.failure(f"{self.what} must be {word} {self.minimum:g}{top}.")
        return self.success()


class Percent(Validator):
    """A share typed as a percent or a share, within ``[minimum, maximum]`` (shares): 80, 80% and
    0.8 are all 80%, by the rule the command line follows (``formatting.parse_share``)."""

    def __init__(self, what: str, minimum: float = 0.0, maximum: float = 1.0) -> None:
        super().__init__()
        self.what, self.minimum, self.maximum = what, minimum, maximum

    def validate(self, value: str) -> ValidationResult:
        try:
            parse_share(value, self.what, self.minimum, self.maximum)
        except ValueError as exc:
            return self.failure(str(exc))
        return self.success()


class FormField(NamedTuple):
    id: str
    label: str
    validator: Validator
    default: str  # the text shown at start
    key: str  # the WhatIfInputs field it fills
    shown: Callable[[float], str]  # how an observed value is written into it (a share: ``pct``)
    share: bool = False  # the field is a share, typed as a percent or a share


FIELDS = (
    FormField(
        "monthly-requests",
        "Requests / month",
        Quantity("Requests / month", maximum=whatif.MAX_MONTHLY_REQUESTS),
        "1,000,000",
        "monthly_requests",
        whole,
    ),
    FormField("cheap-share", "Cheap share", Percent("The cheap share"), "70%", "cheap_share", pct, True),
    FormField(
        "input-tokens",
        "Input tokens",
        Quantity("Input tokens", maximum=whatif.MAX_TOKENS_PER_CALL),
        "800",
        "input_tokens",
        whole,
    ),
    FormField(
        "output-tokens",
        "Output tokens",
        Quantity("Output tokens", maximum=whatif.MAX_TOKENS_PER_CALL),
        "200",
        "output_tokens",
        whole,
    ),
    FormField("audit-share", "Audit share", Percent("The audit share"), "0%", "audit_share", pct, True),
)


def _model_options(extra: list[str]) -> list[tuple[Content, str]]:
    names = list(dict.fromkeys([*known_models("anthropic"), *extra]))
    return [(plain(short_model(name)), name) for name in names]


class WhatIfScreen(MonitorScreen):
    """Inputs on the left, the month priced on the right, the cost curve below."""

    MODE = "whatif"
    TITLE = "What-if"
    HELP = (
        "a month priced as always-strong, always-cheap, the cascade and the simple split for the "
        "volume, cheap share and tokens you type. `o` fills the fields from the last 7 days of "
        "the log; `escape` leaves a field."
    )
    AUTO_FOCUS = "#observed"  # not a field: digits switch screens until a field is chosen
    BINDINGS = [
        Binding("o", "observed", "Observed traffic"),
        Binding("escape", "leave_field", "Leave field", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.result: whatif.WhatIfResult | None = None  # None while the form is invalid
        self._last_valid: whatif.WhatIfResult | None = None
        # The last observed inputs and each field's text when it was filled in.
        self._observed: whatif.WhatIfInputs | None = None
        self._observed_text: dict[str, str] = {}

    @property
    def prices(self):
        """The workspace's price book: the settings' ``[prices."model"]`` overrides apply here too."""
        return self.app.workspace.prices

    def compose_body(self) -> ComposeResult:
        cheap, strong = self.app.workspace.models()
        with Horizontal(id="whatif-top"):
            with Vertical(id="whatif-form"):
                for f in FIELDS:
                    with HorizontalGroup(classes="field"):
                        yield Label(f.label, classes="field-label")
                        yield Input(
                            f.default, id=f.id, validators=[f.validator], compact=True, select_on_focus=True
                        )
                for select_id, label, model in (
                    ("cheap-model", "Cheap model", cheap),
                    ("strong-model", "Strong model", strong),
                ):
                    with HorizontalGroup(classes="field"):
                        yield Label(label, classes="field-label")
                        yield Select(
                            _model_options([cheap, strong]),
                            value=model,
                            allow_blank=False,
                            id=select_id,
                            compact=True,
                        )
                yield Button("Use observed traffic (o)", id="observed", compact=True)
            with Vertical(id="whatif-answer"):
                yield WhatIfResults(id="whatif-results")
                yield Static("", id="whatif-message")
        yield CostCurveChart(id="whatif-curve")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#whatif-form").border_title = "Traffic"
        self.query_one("#whatif-answer").border_title = "Per month"
        self.recompute()

    # -- reading the form ----------------------------------------------------------------------

    def inputs(self) -> tuple[whatif.WhatIfInputs | None, list[str]]:
        """The form as ``WhatIfInputs``, or ``None`` and the sentences saying what is wrong."""
        problems: list[str] = []
        typed: dict[str, float | str] = {}
        for f in FIELDS:
            field = self.query_one(f"#{f.id}", Input)
            result = field.validate(field.value)
            if result is not None and not result.is_valid:
                problems.extend(result.failure_descriptions)
            # A field still showing its observed value stands for the exact figure, not its rounded text.
            elif self._observed is None or field.value != self._observed_text.get(f.id):
                typed[f.key] = parse_share(field.value) if f.share else parse_quantity(field.value)
        if problems:
            return None, problems
        typed["cheap_model"] = str(self.query_one("#cheap-model", Select).value)
        typed["strong_model"] = str(self.query_one("#strong-model", Select).value)
        try:
            return whatif.typed_over_observed(self._observed, typed), []
        except RoutermonError as exc:
            return None, [str(exc)]

    def recompute(self) -> None:
        """Price the month for the form as it stands (cheap: prices are cached, no I/O)."""
        inputs, problems = self.inputs()
        message = self.query_one("#whatif-message", Static)
        results = self.query_one(WhatIfResults)
        chart = self.query_one(CostCurveChart)
        if inputs is None:
            # Keep the last answer, dimmed, so a half-typed number does not blank the screen.
            if self.result is not None:
                self._last_valid = self.result
            results.show(self._last_valid, "Fix the marked field to see the month priced.", stale=True)
            message.update(
                markup(
                    "[b $error]$problems[/] [dim](dimmed: the last valid input)[/]",
                    problems=" ".join(problems),
                )
            )
            self.result = None
            return
        try:
            result = whatif.project(inputs, self.prices)
            curve = whatif.share_curve(inputs, self.prices)
        except RoutermonError as exc:  # e.g. a model without a price
            self.result = None
            results.show(None, str(exc))
            message.update("")
            chart.show([], None)
            return
        self.result = result
        results.show(result)
        notes = list(result.notes)
        if result.simple_split_usd != result.cascade_usd:
            notes.append("Simple split leaves out the cheap call escalated requests also pay.")
        message.update(markup("[dim]$notes[/]", notes=" ".join(notes)))
        chart.show(curve, result)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.recompute()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.recompute()

    def action_leave_field(self) -> None:
        self.query_one("#observed", Button).focus()

    # -- observed traffic ----------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "observed":
            self.action_observed()

    def action_observed(self) -> None:
        """Fill the form from the last week of the log (volume, cheap share, tokens, models)."""
        now = self.app.clock.now()
        fallback_models = self.app.workspace.models()  # for a model the log does not name

        def observe() -> None:
            try:
                observed = self.app.query_log(
                    lambda reader: whatif.from_log(
                        reader,
                        days=OBSERVED_DAYS,
                        now=now,
                        prices=self.prices,
                        instead=TYPE_INSTEAD,
                        fallback_models=fallback_models,
                    )
                )
            except RoutermonError as exc:
                self.app.call_from_thread(
                    self.notify, str(exc), title="No observed traffic", severity="warning"
                )
                return
            self.app.call_from_thread(self.fill, observed)

        self.run_worker(observe, thread=True, exclusive=True, group="observed", name="observed traffic")

    def fill(self, inputs: whatif.WhatIfInputs) -> None:
        """Put ``inputs`` in the form (the numbers recompute from there)."""
        self._observed, self._observed_text = inputs, {}
        if inputs.observed is not None:
            self.query_one("#whatif-form").border_subtitle = f"observed: {inputs.observed.short()}"
        for f in FIELDS:
            value = getattr(inputs, f.key)
            text = f.shown(value)
            self._observed_text[f.id] = text
            self.query_one(f"#{f.id}", Input).value = text
        for select_id, model in (("cheap-model", inputs.cheap_model), ("strong-model", inputs.strong_model)):
            select = self.query_one(f"#{select_id}", Select)
            select.set_options(_model_options([model]))
            select.value = model
        basis = inputs.observed.describe() if inputs.observed else f"the last {OBSERVED_DAYS} days of the log"
        self.notify(f"Filled from {basis}.", title="Observed traffic", markup=False)
        self.recompute()
