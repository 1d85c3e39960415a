"""Screen 6, Review: the pairs worth a human look, one at a time, and a key to say which answer was right.

The queue (``core.review.load_review_queue``: disagreements, unsure judge verdicts, confidently
wrong cheap answers; labelled pairs left out) is read when the screen is first shown and on ``l``;
it stays put while the log moves, so the position does not jump. A key stores the label at once
(who: the settings' labeller or $USER; when: the app's clock) and moves on; ``←`` goes back to a
pair, and labelling it again stores a new label (the latest counts).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Static

from routermon.core.compare import loads_answer
from routermon.core.errors import RoutermonError
from routermon.core.formatting import count, plural, short_model
from routermon.core.measure.review import ReviewItem, ReviewQueue, label_pair, load_review_queue

from ..text import markup, plain
from ..widgets.empty_state import EmptyState
from .base import MonitorScreen

NO_PAIRS = (
    "No pairs to review yet.\n\n"
    "Review shows pairs (the cheap and the strong model's answers to the same input) where they "
    "disagree, the judge is unsure or the cheap model is confidently wrong. Run both on a sample "
    "with `routermon shadow FILE --task T`, bring your own with `routermon import FILE`, or turn on "
    "audits (audit_share in the settings); `routermon judge` adds verdicts on free text."
)
# What each key says, as stored and as shown.
LABEL_KEYS = {
    "cheap": "cheap right",
    "strong": "strong right",
    "both": "both fine",
    "neither": "neither right",
}
VERDICT_TEXT = {
    "cheap_acceptable": "the cheap answer is acceptable",
    "strong_better": "the strong answer is better",
    "both_fail": "both fail",
}


def answer_text(answer_json: str | None, differing: set[str] = frozenset()) -> str:
    """An answer as a person reads it: a string as is, an object one field a line (``≠`` before a
    field the other model answered differently), anything else as indented JSON."""
    if answer_json is None:
        return "(no answer: the call failed)"
    value = loads_answer(answer_json)
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        lines = []
        for key, field in value.items():
            shown = field if isinstance(field, str) else json.dumps(field, ensure_ascii=False)
            lines.append(f"{'≠ ' if key in differing else '  '}{key}: {shown}")
        return "\n".join(lines) or "{}"
    return json.dumps(value, ensure_ascii=False, indent=2)


class ReviewScreen(MonitorScreen):
    """Where the pair stands in the queue and why, its input, both answers and the judge's verdict."""

    MODE = "review"
    TITLE = "Review"
    HELP = (
        "one pair at a time from the pairs worth a human look (the answers disagree, free text "
        "nobody judged, the judge is unsure, the cheap model is confident and wrong), with its "
        "input, both answers and the judge's verdict. `c` cheap right · `s` strong right · `b` "
        "both fine · `n` neither; the label is stored at once and the next pair shown. `space` / "
        "`→` skip · `←` back · `l` reads the queue again."
    )
    BINDINGS = [
        # Short labels: the two answer panels name the cheap and the strong answer above them.
        Binding("c", "label('cheap')", "Cheap"),
        Binding("s", "label('strong')", "Strong"),
        Binding("b", "label('both')", "Both"),
        Binding("n", "label('neither')", "Neither"),
        Binding("space,right", "move(1)", "Skip", key_display="→"),
        Binding("left", "move(-1)", "Back", key_display="←", show=False),
        Binding("l", "load_queue", "Reload", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.queue: ReviewQueue | None = None
        self.position = 0
        self.stored: dict[str, str] = {}  # request id -> label stored on this screen

    def compose_body(self) -> ComposeResult:
        yield Static("", id="review-head")
        yield EmptyState(NO_PAIRS, id="review-empty")
        with Vertical(id="review-body"):
            yield Static("", id="review-input")
            with Horizontal(id="review-answers"):
                with VerticalScroll(id="review-cheap", classes="review-answer", can_focus=False):
                    yield Static("", classes="answer-title")
                    yield Static("", classes="answer-text")
                with VerticalScroll(id="review-strong", classes="review-answer", can_focus=False):
                    yield Static("", classes="answer-title")
                    yield Static("", classes="answer-text")
            yield Static("", id="review-verdict")
        yield Static("", id="review-status")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#review-empty").display = False
        self.query_one("#review-body").display = False
        self.query_one("#review-input").border_title = "Input (as stored)"

    def update_view(self) -> None:
        # The queue is read once, not on every poll: new rows would move the pair under the reader's eyes.
        if self.queue is None and self.app.monitor is not None:
            self.action_load_queue()
        elif self.queue is None and self.app.db_error:
            self._show_empty(self.app.db_error)

    # -- the queue -------------------------------------------------------------------------------

    def action_load_queue(self) -> None:
        """Read the queue from the log (in a worker: it reads every pair once)."""
        self.query_one("#review-head", Static).update("[dim]Reading the pairs worth a look…[/]")
        threshold = self.app.workspace.threshold

        def load() -> None:
            try:
                queue = self.app.query_log(lambda reader: load_review_queue(reader, threshold=threshold))
            except RoutermonError as exc:
                self.app.call_from_thread(self._show_empty, str(exc))
                return
            self.app.call_from_thread(self._queue_loaded, queue)

        self.run_worker(load, thread=True, exclusive=True, group="review", name="review queue")

    def _queue_loaded(self, queue: ReviewQueue) -> None:
        self.queue, self.position, self.stored = queue, 0, {}
        self.show_item()

    def _show_empty(self, message: str) -> None:
        empty = self.query_one("#review-empty", EmptyState)
        empty.update(plain(message))
        empty.display, self.query_one("#review-body").display = True, False
        self.query_one("#review-head", Static).update("")

    @property
    def item(self) -> ReviewItem | None:
        """The pair on screen (``None`` past the end of the queue or before it is read)."""
        if self.queue is None or not 0 <= self.position < len(self.queue.items):
            return None
        return self.queue.items[self.position]

    def show_item(self) -> None:
        queue, item = self.queue, self.item
        if queue is None:
            return
        if not queue.items:
            if not queue.pairs:
                self._show_empty(NO_PAIRS)
            else:
                self._show_empty(
                    f"Nothing to review: none of the {plural(queue.pairs, 'pair')} needs a look "
                    f"({count(queue.labelled)} labelled; the others agree, with a sure judge where "
                    "there is one).\n\n`l` reads the queue again."
                )
            return
        if item is None:
            self._show_empty(
                f"End of the queue: {plural(len(self.stored), 'label')} stored of "
                f"{plural(len(queue.items), 'pair')} shown.\n\n`←` goes back, `l` reads the queue again "
                "(labelled pairs leave it)."
            )
            return
        self.query_one("#review-empty").display = False
        self.query_one("#review-body").display = True
        pair = item.pair
        more = (
            f" (the first {count(len(queue.items))} shown)" if queue.worth_a_look > len(queue.items) else ""
        )
        self.query_one("#review-head", Static).update(
            markup(
                "[b]$position of $total[/]$more · $task · [dim]$request[/] · why: [b $warning]$why[/]",
                position=count(self.position + 1),
                total=count(queue.worth_a_look),
                more=more,
                task=pair.task,
                request=pair.request_id,
                why=item.why,
            )
        )
        self.query_one("#review-input", Static).update(
            plain(pair.input_preview if pair.input_preview is not None else "(the input was not stored)")
        )
        differing = {k for k, same in (pair.field_agreement or {}).items() if not same}
        confidence = "—" if pair.confidence is None else f"{pair.confidence:.2f}"
        for panel, title, answer in (
            (
                "#review-cheap",
                f"Cheap · {short_model(pair.cheap_model)} · confidence {confidence}",
                pair.cheap_answer,
            ),
            ("#review-strong", f"Strong · {short_model(pair.strong_model)}", pair.strong_answer),
        ):
            box = self.query_one(panel)
            box.query_one(".answer-title", Static).update(markup("[b]$title[/]", title=title))
            box.query_one(".answer-text", Static).update(plain(answer_text(answer, differing)))
            box.scroll_home(animate=False)
        self.query_one("#review-verdict", Static).update(self._verdict_line(item))

    def _verdict_line(self, item: ReviewItem):
        pair = item.pair
        stored = self.stored.get(pair.request_id)
        labelled = f" · you said: {LABEL_KEYS[stored]}" if stored else ""
        if pair.reference is not None:
            labelled = f" · reference: {pair.reference}{labelled}"
        if pair.judge_verdict is None:
            return markup("[b]Judge:[/] [dim]no verdict[/]$labelled", labelled=labelled)
        confidence = "—" if pair.judge_confidence is None else f"{pair.judge_confidence:.2f}"
        order = {True: ", cheap shown first", False: ", strong shown first"}.get(pair.judge_cheap_first, "")
        return markup(
            "[b]Judge:[/] $verdict [dim](confidence $confidence$order)[/]$labelled",
            verdict=VERDICT_TEXT.get(pair.judge_verdict, pair.judge_verdict),
            confidence=confidence,
            order=order,
            labelled=labelled,
        )

    # -- keys ----------------------------------------------------------------------------------

    def action_move(self, step: int) -> None:
        if self.queue is None or not self.queue.items:
            return
        self.position = max(0, min(len(self.queue.items), self.position + step))
        self.show_item()

    def action_label(self, label: str) -> None:
        """Store ``label`` for the pair on screen at once, and move on."""
        item = self.item
        if item is None:
            return
        request_id = item.pair.request_id
        labeller, ts_clock = self.app.workspace.labeller, self.app.clock
        self.stored[request_id] = label
        self.action_move(1)

        def store() -> None:
            try:
                stored = label_pair(
                    self.app.db_path, request_id, label, labeller=labeller, source="review", clock=ts_clock
                )
            except RoutermonError as exc:
                self.app.call_from_thread(self._store_failed, request_id, str(exc))
                return
            self.app.call_from_thread(
                self._stored, stored.request_id, stored.label, stored.labeller, stored.ts
            )

        self.run_worker(store, thread=True, group="review-store", name="store label")

    def _stored(self, request_id: str, label: str, labeller: str, ts: float) -> None:
        when = datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S UTC")
        by = f" by {labeller}" if labeller else ""
        self.query_one("#review-status", Static).update(
            markup(
                "[b $success]Stored[/] $request: $label$by at $when",
                request=request_id,
                label=LABEL_KEYS[label],
                by=by,
                when=when,
            )
        )

    def _store_failed(self, request_id: str, error: str) -> None:
        self.stored.pop(request_id, None)
        self.query_one("#review-status", Static).update(
            markup("[b $error]Not stored ($request):[/] $error", request=request_id, error=error)
        )
