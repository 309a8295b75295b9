"""Complaint file upload: choose a file → preview every row error and every fix → confirm.

The pattern is the generic import page's (:mod:`sqm.web.foundation.imports`: upload, check
every row, show the bad cells, write all or nothing), with a preview step in between
because complaint files come from other systems as they are (see
:mod:`sqm.services.complaints.upload`).  A short file is imported while the page waits; a
long one in a background thread, in one transaction, while the page polls its progress
(HTMX).  Handlers only; units outside the uploader's scope are row errors.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from sqm.ingest.complaints import TEMPLATE_COLUMNS
from sqm.services.complaints import upload as up
from sqm.services.complaints.handling import as_utc, default_calendar
from sqm.services.scope import Principal
from sqm.store.engine import transaction
from sqm.web.complaints.deps import OwnUpload, upload_root
from sqm.web.deps import Db, csrf_protect, load_form
from sqm.web.errors import InvalidInput, NotFound
from sqm.web.permissions import ComplaintHandler
from sqm.web.templating import render

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(load_form), Depends(csrf_protect)]
)

SHOWN_ISSUES = 200
SAMPLE_ROWS = 10


def _status(request: Request, token: str) -> up.JobStatus | None:
    status = up.read_status(upload_root(request), token)
    if status is not None and up.interrupted(status):
        # its process ended mid-way: the transaction was never committed
        return up.JobStatus("failed", message="the import was interrupted (the server stopped)")
    return status


def _sample(preview: up.Preview, default_unit: str | None) -> list[dict[str, Any]]:
    zone = default_calendar().zone
    out = []
    for r in preview.frame.head(SAMPLE_ROWS).to_dict("records"):
        out.append(
            {
                "source_id": r["source_id"],
                "channel": r["channel"],
                "received_at": as_utc(r["received_at"].to_pydatetime())
                .astimezone(zone)
                .strftime("%Y-%m-%d %H:%M"),
                "unit": r["unit"] or default_unit or "",
                "subcategory": r["subcategory"] or "",
                "status": r["status"],
                "text": str(r["text"])[:80],
            }
        )
    return out


def _page(
    request: Request,
    db: Session,
    p: Principal,
    *,
    staged: up.StagedUpload | None = None,
    preview: up.Preview | None = None,
    status: up.JobStatus | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    ctx: dict[str, Any] = {
        "staged": staged,
        "preview": preview,
        "status": status,
        "error": error,
        "units": up.upload_units(db, p) if staged is None else [],
        "columns": TEMPLATE_COLUMNS,
        "shown": SHOWN_ISSUES,
        "inline_rows": up.INLINE_ROWS,
    }
    if preview is not None and staged is not None:
        ctx["sample"] = _sample(preview, staged.default_unit)
    return render(request, "complaints/upload.html", ctx, status_code=status_code)


@router.get("/complaints/upload", response_class=HTMLResponse)
def upload_form(request: Request, p: ComplaintHandler, db: Db) -> HTMLResponse:
    return _page(request, db, p)


class UploadForm(BaseModel):
    """What the uploader says about the file: its source system, the unit of rows without
    one, and the time zone of its times."""

    source_system: str = ""
    default_unit: str = ""
    timezone: str = ""


@router.post("/complaints/upload", response_model=None)
def upload_file(
    request: Request,
    p: ComplaintHandler,
    form: Annotated[UploadForm, Form()],
    db: Db,
    file: UploadFile | None = None,
) -> Response:
    if file is None or not file.filename:
        raise InvalidInput("choose a CSV or Excel file to upload")
    data = file.file.read(up.MAX_UPLOAD_BYTES + 1)
    try:
        staged = up.stage(
            upload_root(request),
            data,
            file.filename,
            p.user_id,
            source_system=form.source_system.strip() or "import",
            default_unit=form.default_unit.strip() or None,
            timezone=form.timezone.strip() or "Asia/Shanghai",
        )
    except up.UploadError as exc:
        return _page(request, db, p, error=str(exc), status_code=422)
    return RedirectResponse(f"/complaints/upload/{staged.token}", status_code=303)


@router.get("/complaints/upload/{token}", response_class=HTMLResponse)
def upload_preview(
    request: Request, p: ComplaintHandler, staged: OwnUpload, db: Db
) -> HTMLResponse:
    status = _status(request, staged.token)
    if status is not None and status.state != "failed":
        return _page(request, db, p, staged=staged, status=status)
    try:
        preview = up.preview_staged(db, upload_root(request), staged, p)
    except (up.UploadError, FileNotFoundError) as exc:
        return _page(request, db, p, staged=staged, error=str(exc), status_code=422)
    code = 200 if preview.importable else 422
    return _page(request, db, p, staged=staged, preview=preview, status=status, status_code=code)


class ConfirmForm(BaseModel):
    """Import the rows that can be imported, leaving out those the preview rejected."""

    skip_rejected: bool = False


@router.post("/complaints/upload/{token}/confirm", response_model=None)
def upload_confirm(
    request: Request,
    p: ComplaintHandler,
    staged: OwnUpload,
    form: Annotated[ConfirmForm, Form()],
    db: Db,
) -> Response:
    factory = request.app.state.sessionmaker
    up.confirm_import(
        db,
        upload_root(request),
        staged,
        p,
        skip_rejected=form.skip_rejected,
        transaction=lambda: transaction(factory),
    )
    return RedirectResponse(f"/complaints/upload/{staged.token}", status_code=303)


@router.get("/complaints/upload/{token}/progress", response_class=HTMLResponse)
def upload_progress(request: Request, p: ComplaintHandler, staged: OwnUpload) -> HTMLResponse:
    status = _status(request, staged.token)
    if status is None:
        raise NotFound("this upload has not been confirmed")
    return render(request, "complaints/_upload_status.html", {"staged": staged, "status": status})
