"""One request as the detail view shows it: its calls, the judge's verdict and the human label."""

from __future__ import annotations

import json

from pydantic import BaseModel

from .reader import LogReader
from .records import JUDGE_ROLE, CallRow, HumanLabel


class JudgeVerdict(BaseModel):
    """What the judge call of a pair said (``records.JUDGE_VERDICTS``), and its confidence."""

    verdict: str
    cheap_first: bool | None = None
    confidence: float | None = None
    model: str = ""


class RequestDetail(BaseModel):
    """Every call of one request in tier order (judge calls apart), the judge's verdict and the
    latest human label where they exist."""

    request_id: str
    calls: list[CallRow]
    judge: JudgeVerdict | None = None
    label: HumanLabel | None = None

    @property
    def input_preview(self) -> str | None:
        """The stored input (a preview, the full text or nothing, as the settings chose)."""
        return next((c.input_preview for c in self.calls if c.input_preview is not None), None)

    @property
    def answered(self) -> list[CallRow]:
        """The calls that gave an answer, in tier order (the answers shown side by side)."""
        return [c for c in self.calls if c.answer is not None]


def _verdict(row: CallRow) -> JudgeVerdict | None:
    try:
        data = json.loads(row.answer or "")
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("verdict"), str):
        return None
    cheap_first = data.get("cheap_first")
    return JudgeVerdict(
        verdict=data["verdict"],
        cheap_first=cheap_first if isinstance(cheap_first, bool) else None,
        confidence=row.confidence,
        model=row.model,
    )


def load_request_detail(reader: LogReader, request_id: str) -> RequestDetail:
    """The detail of ``request_id`` (no calls when the log has none of it); the latest judge call
    with a readable verdict counts."""
    rows = reader.request_calls(request_id)
    calls = [r for r in rows if r.role != JUDGE_ROLE]
    verdicts = [v for r in rows if r.role == JUDGE_ROLE if (v := _verdict(r)) is not None]
    return RequestDetail(
        request_id=request_id,
        calls=calls,
        judge=verdicts[-1] if verdicts else None,
        label=reader.request_label(request_id),
    )


def answer_text(answer: str | None) -> str:
    """A stored answer (JSON text) for reading: a string as itself, anything else indented."""
    if answer is None:
        return ""
    try:
        value = json.loads(answer)
    except ValueError:
        return answer
    return value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False)
