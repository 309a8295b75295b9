"""Complaint files uploaded through the web: stage → preview → confirm, all or nothing.

An upload is kept on disk under a random token (``<data_dir>/uploads/complaints``) so the
person can read the preview — every row error and every fix the reader applied — before
confirming.  Two layouts are read:

* the **complaint template** (:func:`sqm.ingest.complaints.read_complaint_table`; Chinese or
  English headers, CSV or Excel): any bad row blocks the import (fix the file and upload
  it again);
* the **public Comcast complaint data set** as it is published
  (:func:`sqm.ingest.complaints.load_comcast`): its byte-order mark is read, its day/month
  dates are repaired and reported row by row, and its broken row (no ticket number: the
  tail of a title split by a line break) cannot be stored — the preview names it, and the
  person confirms the import *without* it explicitly.  Its ``State`` is not an org unit:
  every complaint is filed under the default unit given with the upload.

CSV files in GB18030 (what Excel writes on a Chinese Windows) are read too, with a note.
Times without an offset are read in the time zone given with the upload (default China).

The confirmed import is one transaction through the idempotent intake of
:func:`sqm.services.complaints.imports.store_import` (a complaint already stored is counted,
not doubled, so confirming the same file twice is harmless); its progress is written to a
small status file beside the upload, which a page can poll while a long import runs.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from sqm.domain.errors import RuleError
from sqm.domain.org import UnitKind
from sqm.ingest.complaints import ComplaintImport, RowIssue, load_comcast, read_complaint_table
from sqm.lazy import lazy_import
from sqm.services.complaints.imports import ImportOutcome, store_import
from sqm.services.scope import Principal
from sqm.store.audit import Actor, acting_as
from sqm.store.models import OrgUnit

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_import("pandas")

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
#: Files up to this many rows are imported while the page waits; longer ones in the background.
INLINE_ROWS = 300
#: Rows written between two progress reports of a background import.
CHUNK_ROWS = 200
#: Staged uploads older than this are removed when the next one is staged.
KEEP_SECONDS = 24 * 3600
#: A running import that has not reported for this long was interrupted (server restart).
STALE_SECONDS = 600
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
_COMCAST_HEADERS = {"Ticket #", "Received Via", "Customer Complaint"}
Format = Literal["template", "comcast"]


class UploadError(RuleError):
    """The upload cannot be staged, found or imported; the message says why."""


@dataclass(frozen=True)
class StagedUpload:
    """An uploaded file waiting for confirmation, and what was chosen with it."""

    token: str
    user_id: int
    filename: str
    source_system: str
    default_unit: str | None
    timezone: str
    staged_at: float


@dataclass
class Preview:
    """What importing a staged file would do.

    ``frame``: the rows that can be stored (template columns); ``errors``: problems that
    block the import; ``rejected``: rows the reader could not use (Comcast layout only; the
    rest can be imported without them); ``notes``: fixes applied to kept rows;
    ``file_notes``: remarks about the file as a whole.
    """

    fmt: Format
    rows_read: int
    frame: pd.DataFrame
    errors: list[RowIssue] = field(default_factory=list)
    rejected: list[RowIssue] = field(default_factory=list)
    notes: list[RowIssue] = field(default_factory=list)
    file_notes: list[str] = field(default_factory=list)

    @property
    def importable(self) -> bool:
        """True when nothing blocks the import and at least one row can be stored."""
        return not self.errors and len(self.frame) > 0

    def notes_by_rule(self) -> list[tuple[str, int]]:
        """How many rows each kind of fix touched, most frequent first."""
        counts: dict[str, int] = {}
        for n in self.notes:
            counts[n.rule] = counts.get(n.rule, 0) + 1
        return sorted(counts.items(), key=lambda kv: -kv[1])


@dataclass
class JobStatus:
    """Progress of a confirmed import, as the status file keeps it."""

    state: Literal["running", "done", "failed"]
    done: int = 0
    total: int = 0
    created: int = 0
    already_known: int = 0
    message: str = ""
    updated_at: float = 0.0

    @property
    def percent(self) -> int:
        """Share of rows written so far, 0–100."""
        return round(100 * self.done / self.total) if self.total else 100


def upload_dir(data_dir: Path) -> Path:
    """Where staged complaint uploads live under the installation's data directory."""
    return data_dir / "uploads" / "complaints"


def _check_token(token: str) -> str:
    if not _TOKEN.match(token):
        raise UploadError("no such upload")
    return token


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    # Write a temporary file and rename it, so a reader never sees half a status.
    tmp = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
    tmp.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def _cleanup(root: Path, now: float) -> None:
    for p in root.glob("*"):
        with contextlib.suppress(OSError):
            if now - p.stat().st_mtime > KEEP_SECONDS:
                p.unlink()


def stage(
    root: Path,
    data: bytes,
    filename: str,
    user_id: int,
    source_system: str = "import",
    default_unit: str | None = None,
    timezone: str = "Asia/Shanghai",
) -> StagedUpload:
    """Keep an uploaded file for its preview and confirmation; returns its token.

    >>> # stage(upload_dir(Path("var")), b"source_id,channel,...", "march.csv", user_id=7)
    """
    if not data:
        raise UploadError("the file is empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(f"the file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    if not re.match(r"^[\w.\-:/]{1,32}$", source_system):
        raise UploadError("source system: 1–32 letters, digits or . - _ : /")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise UploadError(
            f"time zone {timezone!r} is not an IANA zone such as Asia/Shanghai"
        ) from None
    root.mkdir(parents=True, exist_ok=True)
    now = time.time()
    _cleanup(root, now)
    staged = StagedUpload(
        token=secrets.token_urlsafe(24),
        user_id=user_id,
        filename=Path(filename).name[:200] or "upload.csv",
        source_system=source_system,
        default_unit=default_unit or None,
        timezone=timezone,
        staged_at=now,
    )
    (root / f"{staged.token}.data").write_bytes(data)
    _write_json(root / f"{staged.token}.json", asdict(staged))
    return staged


def load_staged(root: Path, token: str, user_id: int) -> StagedUpload:
    """The staged upload ``token`` of ``user_id``; another person's upload is not found."""
    meta = root / f"{_check_token(token)}.json"
    if not meta.exists():
        raise UploadError("no such upload (it may have expired; upload the file again)")
    staged = StagedUpload(**json.loads(meta.read_text(encoding="utf-8")))
    if staged.user_id != user_id:
        raise UploadError("no such upload")
    return staged


def _text(data: bytes) -> tuple[str, str | None]:
    """Decode a CSV: UTF-8 (with or without BOM), else GB18030 with a note."""
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        pass
    try:
        return data.decode(
            "gb18030"
        ), "the file is not UTF-8; it was read as GB18030 (Chinese Excel)"
    except UnicodeDecodeError:
        raise UploadError("the file is neither UTF-8 nor GB18030 text, nor an Excel file") from None


def _is_excel(filename: str) -> bool:
    return filename.lower().endswith((".xlsx", ".xlsm"))


def read_upload(data: bytes, filename: str, timezone: str = "Asia/Shanghai") -> Preview:
    """Read an uploaded complaint file in either layout (see the module docs).

    >>> csv = "source_id,channel,received_at\\nA1,hotline,2026-03-01 10:00\\n".encode()
    >>> p = read_upload(csv, "a.csv")
    >>> p.fmt, len(p.frame), p.importable
    ('template', 1, True)
    """
    file_notes: list[str] = []
    if _is_excel(filename):
        bio = io.BytesIO(data)
        bio.name = filename  # the reader picks Excel by the name
        try:
            result = read_complaint_table(bio, default_tz=timezone)
        except (ValueError, OSError, KeyError) as exc:
            raise UploadError(f"the Excel file cannot be read: {exc}") from None
        return _from_template(result, file_notes)
    text, note = _text(data)
    if note:
        file_notes.append(note)
    first = text.splitlines()[0] if text else ""
    try:
        if {h.strip() for h in first.split(",")} >= _COMCAST_HEADERS:
            return _from_comcast(load_comcast(io.StringIO(text)), timezone, file_notes)
        return _from_template(
            read_complaint_table(io.StringIO(text), default_tz=timezone), file_notes
        )
    except pd.errors.ParserError as exc:
        raise UploadError(f"the CSV file cannot be read: {exc}") from None


def _from_template(result: ComplaintImport, file_notes: list[str]) -> Preview:
    return Preview(
        "template",
        result.rows_read,
        result.complaints,
        errors=list(result.errors),
        notes=list(result.notes),
        file_notes=file_notes,
    )


def _from_comcast(result: ComplaintImport, timezone: str, file_notes: list[str]) -> Preview:
    df = result.complaints
    file_notes.append(
        "public Comcast complaint data set: its State is not an org unit, so every complaint "
        "is filed under the default unit; city, state and zip code are kept in the text"
    )
    if df.empty:
        frame = pd.DataFrame()
    else:
        received = pd.to_datetime(df["received_at"]).dt.tz_localize(
            timezone, ambiguous="NaT", nonexistent="shift_forward"
        )
        frame = pd.DataFrame(
            {
                "source_id": df["source_id"],
                "channel": df["channel"],
                "complaint_class": None,
                "received_at": received.dt.tz_convert("UTC"),
                "first_response_at": pd.NaT,
                "resolved_at": pd.NaT,
                "customer_ref": None,
                "unit": None,
                "category": None,
                "subcategory": None,
                "text": df["text"]
                + " ("
                + df["city"]
                + ", "
                + df["unit"]
                + " "
                + df["zip_code"]
                + ")",
                "status": df["status"],
                "satisfaction": float("nan"),
                "contacts": float("nan"),
                "repeat_of": None,
            }
        )
    return Preview(
        "comcast",
        result.rows_read,
        frame,
        rejected=list(result.errors),
        notes=list(result.notes),
        file_notes=file_notes,
    )


def check_units(
    session: Session, preview: Preview, default_unit: str | None, principal: Principal
) -> None:
    """Add a blocking error for every row whose unit is unknown or outside the uploader's
    scope (rows without a unit use ``default_unit``), and for a bad default unit."""
    if preview.frame.empty:
        return
    units = {u.code: u for u in session.scalars(select(OrgUnit))}
    if default_unit and (default_unit not in units or not principal.sees(units[default_unit])):
        preview.errors.append(
            RowIssue(0, "default unit", "not an org unit code in your scope", default_unit)
        )
        return
    rows = _source_rows(preview)
    for row, given in zip(rows, preview.frame["unit"].tolist(), strict=True):
        code = given or default_unit
        if code is None:
            preview.errors.append(
                RowIssue(row, "unit", "no unit in the row and no default unit chosen")
            )
        elif code not in units:
            preview.errors.append(RowIssue(row, "unit", "not a known org unit code", str(code)))
        elif not principal.sees(units[code]):
            preview.errors.append(
                RowIssue(row, "unit", "outside the org units you may handle", str(code))
            )
        if len(preview.errors) >= 1000:
            break


def _source_rows(preview: Preview) -> list[int]:
    # Template rows keep their order (header = row 1); Comcast rows skip the rejected ones.
    if preview.fmt == "comcast":
        rejected = {e.row for e in preview.rejected}
        rows = [r for r in range(2, preview.rows_read + 2) if r not in rejected]
        return rows[: len(preview.frame)]
    return list(range(2, len(preview.frame) + 2))


def preview_staged(
    session: Session, root: Path, staged: StagedUpload, principal: Principal
) -> Preview:
    """Read a staged upload and check its units against the store and the scope."""
    data = (root / f"{staged.token}.data").read_bytes()
    p = read_upload(data, staged.filename, staged.timezone)
    check_units(session, p, staged.default_unit, principal)
    return p


def import_preview(
    session: Session,
    preview: Preview,
    staged: StagedUpload,
    progress: Callable[[int, int], None] | None = None,
) -> ImportOutcome:
    """Store the preview's rows in ``session`` (the caller commits or rolls back the whole),
    ``CHUNK_ROWS`` at a time through the idempotent intake, reporting (done, total)."""
    if not preview.importable:
        raise UploadError("the file has errors that block the import; nothing was written")
    total = len(preview.frame)
    out = ImportOutcome()
    for start in range(0, total, CHUNK_ROWS):
        chunk = preview.frame.iloc[start : start + CHUNK_ROWS].reset_index(drop=True)
        part = store_import(
            session, ComplaintImport(len(chunk), chunk), staged.source_system, staged.default_unit
        )
        if part.errors:
            first = part.errors[0]
            raise UploadError(
                f"row {first.row + start}: {first.column}: {first.rule}; nothing was written"
            )
        out.created += part.created
        out.already_known += part.already_known
        if progress is not None:
            progress(min(start + CHUNK_ROWS, total), total)
    return out


# ------------------------------------------------------------------------------- job status


def status_path(root: Path, token: str) -> Path:
    """The status file of the import of upload ``token``."""
    return root / f"{_check_token(token)}.status"


def claim_job(root: Path, token: str, total: int) -> bool:
    """Mark the import of ``token`` as running; False when it is running or done already (a
    second confirmation, perhaps from another server process, does not start it twice).
    A failed or interrupted import may be claimed again: intake is idempotent."""
    path = status_path(root, token)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        st = read_status(root, token)
        stale = st is not None and st.state == "running" and interrupted(st)
        if st is None or not (st.state == "failed" or stale):
            return False
    else:
        os.close(fd)
    write_status(root, token, JobStatus("running", 0, total))
    return True


def interrupted(status: JobStatus, now: float | None = None) -> bool:
    """A running import that stopped reporting (its process ended): nothing was written."""
    return (
        status.state == "running"
        and status.updated_at > 0
        and (now or time.time()) - status.updated_at > STALE_SECONDS
    )


def write_status(root: Path, token: str, status: JobStatus) -> None:
    """Record the progress of an import (atomically)."""
    status.updated_at = time.time()
    _write_json(status_path(root, token), asdict(status))


def read_status(root: Path, token: str) -> JobStatus | None:
    """The progress of the import of ``token``, or None when it was never confirmed."""
    path = status_path(root, token)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    if not raw:
        return JobStatus("running")  # claimed a moment ago; the first status is on its way
    return JobStatus(**json.loads(raw))


def run_job(
    root: Path,
    token: str,
    staged: StagedUpload,
    preview: Preview,
    transaction: Callable[[], contextlib.AbstractContextManager[Session]],
) -> JobStatus:
    """Import a confirmed upload in one transaction, writing its progress as it goes; the
    final status says what was written, or why nothing was."""
    total = len(preview.frame)

    def report(done: int, of: int) -> None:
        write_status(root, token, JobStatus("running", done, of))

    try:
        with transaction() as session:
            out = import_preview(session, preview, staged, report)
    except Exception as exc:  # the transaction rolled back: tell the person, keep nothing
        final = JobStatus("failed", 0, total, message=f"{exc}; nothing was written"[:500])
    else:
        final = JobStatus("done", total, total, out.created, out.already_known)
        with contextlib.suppress(OSError):
            (root / f"{token}.data").unlink()
    write_status(root, token, final)
    return final


def staged_at(staged: StagedUpload) -> datetime:
    """When the file was uploaded (UTC)."""
    return datetime.fromtimestamp(staged.staged_at, UTC)


def upload_units(session: Session, principal: Principal) -> list[OrgUnit]:
    """The units an uploader may choose as the file's default (their scope, no competitors)."""
    return list(
        session.scalars(
            select(OrgUnit)
            .where(principal.unit_filter(), OrgUnit.kind != UnitKind.COMPETITOR_STORE)
            .order_by(OrgUnit.path)
            .limit(2000)
        )
    )


def confirm_import(
    session: Session,
    root: Path,
    staged: StagedUpload,
    principal: Principal,
    *,
    skip_rejected: bool,
    transaction: Callable[[], contextlib.AbstractContextManager[Session]],
) -> None:
    """Import a staged upload the person confirmed, checked again against the store and
    their scope: a short file now in ``session`` (committed here), a long one in a
    background thread in one ``transaction()``. Either way its status file tells how it
    went. Rows the preview rejects are left out only with ``skip_rejected``; a second
    confirmation, or one of a file already imported, does nothing."""
    token = staged.token
    try:
        preview = preview_staged(session, root, staged, principal)
    except FileNotFoundError:
        return  # imported (and removed) already: its status says how it went
    if not preview.importable:
        raise UploadError("the file has errors that block the import; nothing was written")
    if preview.rejected and not skip_rejected:
        raise UploadError(
            f"{len({e.row for e in preview.rejected})} row(s) cannot be imported: confirm "
            "that the others are imported without them"
        )
    if not claim_job(root, token, len(preview.frame)):
        return
    actor = Actor(principal.user_id, principal.username)
    if len(preview.frame) <= INLINE_ROWS:
        try:
            with acting_as(actor):
                out = import_preview(session, preview, staged)
                session.commit()
        except Exception as exc:
            session.rollback()
            write_status(
                root, token, JobStatus("failed", message=f"{exc}; nothing was written"[:500])
            )
        else:
            n = len(preview.frame)
            write_status(root, token, JobStatus("done", n, n, out.created, out.already_known))
        return

    def work() -> None:
        with acting_as(actor):
            run_job(root, token, staged, preview, transaction)

    threading.Thread(target=work, name=f"complaint-upload-{token[:8]}", daemon=True).start()
