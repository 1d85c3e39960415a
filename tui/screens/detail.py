"""The detail of one request, pushed over the Live screen by Enter on a row; Escape returns.

Every call of the request (tier, role, model, tokens with thinking, cost, latency, confidence,
reason, error), the stored input, the answers side by side, and the judge's verdict and the human
label where they exist. Everything from the log is shown literally (``text.plain`` / ``literal``).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from routermon.core.errors import DatabaseError
from routermon.core.formatting import DASH, local_time, ms_short, pct, plural, short_model, tokens, usd
from routermon.core.log.request_detail import RequestDetail, answer_text, load_request_detail

from ..text import literal, markup, plain
from ..widgets.literal_table import LiteralTable

# Cells carry one leading space and no padding: the ten columns fit 80 cells with the longest reason.
CALL_COLUMNS = ("Tier", "Role", "Model", "In", "Out", "Think", "Cost", "Lat", "Conf", "Reason")
VERDICTS = {
    "cheap_acceptable": "the cheap answer is acceptable",
    "strong_better": "the strong answer is better",
    "both_fail": "both answers fail",
}
LABELS = {
    "cheap": "the cheap answer was right",
    "strong": "the strong answer was right",
    "both": "both answers were right",
    "neither": "neither answer was right",
}


class DetailScreen(Screen):
    """One request: its calls, input, answers, judge verdict and label."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, request_id: str) -> None:
        super().__init__()
        self.request_id = request_id

    def compose(self) -> ComposeResult:
        yield Static(markup("[b]Request[/] $id", id=self.request_id), id="detail-title")  # time once read
        with VerticalScroll(id="detail-body"):
            yield Static(plain("Reading the log…"), id="detail-summary")
            yield LiteralTable(id="detail-calls", cursor_type="none", cell_padding=0, show_cursor=False)
            yield Static(id="detail-input", classes="detail-box")
            yield Horizontal(id="detail-answers")
            yield Static(id="detail-verdicts")
        # The command palette (ctrl+p) is not advertised here: at 80 columns its hint would push a
        # screen's own keys off the line; the help page names it.
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        table = self.query_one("#detail-calls", LiteralTable)
        for name in CALL_COLUMNS:
            table.add_column(" " + name, key=name.lower())
        self.query_one("#detail-input").border_title = "Input (as stored)"
        request_id = self.request_id

        def load() -> None:
            try:
                detail = self.app.query_log(lambda reader: load_request_detail(reader, request_id))
            except DatabaseError as exc:
                self.app.call_from_thread(self._failed, str(exc))
                return
            self.app.call_from_thread(self.show, detail)

        self.run_worker(load, thread=True, group="detail", name="request detail")

    def _failed(self, error: str) -> None:
        self.query_one("#detail-summary", Static).update(plain(error))

    def show(self, detail: RequestDetail) -> None:
        """Fill the view from ``detail``."""
        summary = self.query_one("#detail-summary", Static)
        if not detail.calls:
            summary.update(plain(f"The log has no calls of request {detail.request_id}."))
            return
        first = detail.calls[0]
        spend = sum(c.cost_usd or 0.0 for c in detail.calls)
        self.query_one("#detail-title", Static).update(
            markup("[b]Request[/] $id · $when", id=detail.request_id, when=local_time(first.ts, utc=True))
        )
        summary.update(
            markup(
                "$task · $mode · $source · [b]$n[/] · spent [b]$spend[/]",
                task=first.task,
                mode=first.mode,
                source=first.source,
                n=plural(len(detail.calls), "call"),
                spend=usd(spend),
            )
        )
        table = self.query_one("#detail-calls", LiteralTable)
        for call in detail.calls:
            table.add_row(*_call_cells(call))
        table.styles.height = len(detail.calls) + 1
        preview = detail.input_preview
        self.query_one("#detail-input", Static).update(
            plain(preview) if preview is not None else markup("[dim]not stored (store_inputs = none)[/]")
        )
        answers = self.query_one("#detail-answers", Horizontal)
        for call in detail.answered:
            box = Static(plain(answer_text(call.answer)), classes="detail-box detail-answer")
            box.border_title = plain(f"{call.role} · {short_model(call.model)}")  # a str is markup
            if call.final:
                box.border_subtitle = "returned"
            answers.mount(box)
        if not detail.answered:
            answers.mount(Static(markup("[dim]No call gave an answer.[/]"), classes="detail-box"))
        self.query_one("#detail-verdicts", Static).update(_verdicts(detail))


def _call_cells(call) -> tuple:
    reason = call.escalation_reason or ""
    if call.error_type and call.error_type != reason:
        reason = f"{reason} ✗ {call.error_type}".strip()
    confidence = DASH if call.confidence is None else f"{call.confidence:.2f}"
    thinking = DASH if call.thinking_tokens is None else tokens(call.thinking_tokens)
    cells = (
        str(call.tier),
        call.role,
        short_model(call.model),
        tokens(call.input_tokens),
        tokens(call.output_tokens),
        thinking,
        usd(call.cost_usd),
        ms_short(call.latency_ms),
        confidence,
    )
    right = (False, False, False, True, True, True, True, True, True)
    out = [
        literal(" " + text, justify="right" if r else "left") for text, r in zip(cells, right, strict=True)
    ]
    out.append(literal(" " + (reason or DASH), style="" if reason else "dim"))
    return tuple(out)


def _verdicts(detail: RequestDetail):
    judge, label = detail.judge, detail.label
    parts = []
    if judge is not None:
        said = VERDICTS.get(judge.verdict, judge.verdict)
        sure = "" if judge.confidence is None else f", confidence {pct(judge.confidence, 0)}"
        parts.append(
            markup("[b]Judge[/] ($model$sure): $said", model=short_model(judge.model), sure=sure, said=said)
        )
    else:
        parts.append(markup("[b]Judge[/]: [dim]not judged[/]"))
    if label is not None:
        by = f" by {label.labeller}" if label.labeller else ""
        parts.append(
            markup(
                "[b]Human label[/]$by ($source): $said",
                by=by,
                source=label.source,
                said=LABELS.get(label.label, label.label),
            )
        )
    else:
        parts.append(markup("[b]Human label[/]: [dim]none[/]"))
    return Content("\n").join(parts)
