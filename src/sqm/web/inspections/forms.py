"""The inspection pages' forms as pydantic models (``form: Annotated[ReviewForm, Form()]``).

Fields the pages may leave out default to what the handlers assumed before (an empty note,
"not accept"); a value that cannot be read (a date that is not a date) is a 422.

>>> VisitForm.model_validate({"a_greet": "1", "a_x": "na", "n_greet": "ok"}).answers()
{'greet': 1.0, 'x': None}
"""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import date as Date
from typing import Any

from fastapi import UploadFile
from pydantic import BaseModel, ConfigDict, field_validator

from sqm.services.inspections.visits import InspectionError, Submission


class DecisionForm(BaseModel):
    """A reviewer's decision: ``accept``/``reject`` a visit, ``overturn``/``uphold`` an appeal."""

    decision: str = ""
    note: str = ""


class AppealForm(BaseModel):
    """A store manager's appeal of one finding."""

    item_code: str = ""
    reason: str = ""


class NoteForm(BaseModel):
    """A note saying what was done (closing a 整改 task)."""

    note: str = ""


def _blank_to_none(v: Any) -> Any:
    return None if isinstance(v, str) and not v.strip() else v


class MoveForm(BaseModel):
    """A hand edit of a planned visit: a new date and/or inspector (blank: unchanged)."""

    date: Date | None = None
    inspector_id: int | None = None

    _blank = field_validator("date", "inspector_id", mode="before")(_blank_to_none)


class EvidenceForm(BaseModel):
    """A photo or receipt for a draft visit, optionally of one checklist item."""

    kind: str = "photo"
    item_code: str = ""
    file: UploadFile | None = None


def _lenient_dt(v: Any) -> datetime | None:
    if not v:
        return None
    try:
        d = datetime.fromisoformat(str(v).replace("Z", "+00:00"))
    except ValueError:
        return None
    return d if d.tzinfo else d.replace(tzinfo=UTC)


def _lenient_float(v: Any) -> float | None:
    try:
        return float(v) if v not in (None, "") else None
    except (TypeError, ValueError):
        return None


class VisitForm(BaseModel):
    """The phone form of a visit: ``a_<item>`` answers (``na``: not applicable), ``n_<item>``
    notes, check-in time and place (unreadable values count as not given, as the phone may
    not know them)."""

    model_config = ConfigDict(extra="allow")

    started_at: datetime | None = None
    checkin_lat: float | None = None
    checkin_lon: float | None = None
    purchase_made: str = ""
    notes: str = ""

    _dt = field_validator("started_at", mode="before")(_lenient_dt)
    _num = field_validator("checkin_lat", "checkin_lon", mode="before")(_lenient_float)

    def _extra(self, prefix: str) -> dict[str, str]:
        return {
            k[len(prefix) :]: str(v)
            for k, v in (self.model_extra or {}).items()
            if k.startswith(prefix)
        }

    def answers(self) -> dict[str, float | None]:
        """Item code → answer; blank answers are left out (unanswered)."""
        out: dict[str, float | None] = {}
        for code, raw in self._extra("a_").items():
            if raw == "":
                continue
            try:
                out[code] = None if raw == "na" else float(raw)
            except ValueError as exc:
                raise InspectionError("answers must be numbers") from exc
        return out

    def submission(self) -> Submission:
        """The form as the visit service takes it."""
        lat, lon = self.checkin_lat, self.checkin_lon
        return Submission(
            answers=self.answers(),
            started_at=self.started_at,
            checkin=(lat, lon) if lat is not None and lon is not None else None,
            purchase_made=self.purchase_made == "1",
            notes=self.notes,
            item_notes={c: n for c, n in self._extra("n_").items() if n},
        )


class DraftIn(BaseModel):
    """The phone's half-filled visit, kept on the server."""

    answers: dict[str, Any]
    notes: str = ""
