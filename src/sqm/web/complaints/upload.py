"""Complaint file upload: choose a file → preview every row error and every fix → confirm.

The pattern is the generic import page's (:mod:`sqm.web.foundation.imports`: upload, check
every row, show the bad cells, write all or nothing), with a preview step in between
because complaint files come from other systems as they are (see
:mod:`sqm.services.complaints.upload`).  A short file is imported while the page waits; a
long one in a background thread, in one transaction, while the page polls its progress
(HTMX).  Handlers only; units outside the uploader's scope are row errors.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from sqm.domain.org import UnitKind
from sqm.ingest.complaints import TEMPLATE_COLUMNS
from sqm.services.complaints import upload as up
from sqm.services.complaints.handling import as_utc, default_calendar
from sqm.services.scope import Principal
from sqm.store.audit import Actor, acting_as
from sqm.store.engine import transaction
from sqm.store.models import OrgUnit
from sqm.web.complaints.api import handler
from sqm.web.deps import csrf_protect, get_db, load_form
from sqm.web.errors import InvalidInput, NotFound
from sqm.web.templating import render

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(load_form), Depends(csrf_protect)]
)

SHOWN_ISSUES = 200
SAMPLE_ROWS = 10


def _root(request: Request) -> Path:
    return up.upload_dir(Path(request.app.state.settings.data_dir))


def _staged(request: Request, p: Principal, token: str) -> up.StagedUpload:
    try:
        return up.load_staged(_root(request), token, p.user_id)
    except up.UploadError:
        raise NotFound("no such upload (it may have expired; upload the file again)") from None


def _status(request: Request, token: str) -> up.JobStatus | None:
    status = up.read_status(_root(request), token)
    if status is not None and up.interrupted(status):
        # its process ended mid-way: the transaction was never committed
        return up.JobStatus("failed", message="the import was interrupted (the server stopped)")
    return status


def _units(db: Session, p: Principal) -> list[OrgUnit]:
    return list(
        db.scalars(
            select(OrgUnit)
            .where(p.unit_filter(), OrgUnit.kind != UnitKind.COMPETITOR_STORE)
            .order_by(OrgUnit.path)
            .limit(2000)
        )
    )


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
        "units": _units(db, p) if staged is None else [],
        "columns": TEMPLATE_COLUMNS,
        "shown": SHOWN_ISSUES,
        "inline_rows": up.INLINE_ROWS,
    }
    if preview is not None and staged is not None:
        ctx["sample"] = _sample(preview, staged.default_unit)
    return render(request, "complaints/upload.html", ctx, status_code=status_code)


@router.get("/complaints/upload", response_class=HTMLResponse)
def upload_form(
    request: Request, p: Principal = Depends(handler), db: Session = Depends(get_db)
) -> HTMLResponse:
    return _page(request, db, p)


@router.post("/complaints/upload", response_model=None)
def upload_file(
    request: Request, p: Principal = Depends(handler), db: Session = Depends(get_db)
) -> Response:
    form = request.scope.get("sqm.form")
    upload = form.get("file") if form is not None else None
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise InvalidInput("choose a CSV or Excel file to upload")

    def field(name: str, default: str = "") -> str:
        v = form.get(name) if form is not None else None
        return v.strip() if isinstance(v, str) and v.strip() else default

    data = upload.file.read(up.MAX_UPLOAD_BYTES + 1)
    try:
        staged = up.stage(
            _root(request),
            data,
            upload.filename,
            p.user_id,
            source_system=field("source_system", "import"),
            default_unit=field("default_unit") or None,
            timezone=field("timezone", "Asia/Shanghai"),
        )
    except up.UploadError as exc:
        return _page(request, db, p, error=str(exc), status_code=422)
    return RedirectResponse(f"/complaints/upload/{staged.token}", status_code=303)


@router.get("/complaints/upload/{token}", response_class=HTMLResponse)
def upload_preview(
    token: str,
    request: Request,
    p: Principal = Depends(handler),
    db: Session = Depends(get_db),
) -> HTMLResponse:
    staged = _staged(request, p, token)
    status = _status(request, token)
    if status is not None and status.state != "failed":
        return _page(request, db, p, staged=staged, status=status)
    try:
        preview = up.preview_staged(db, _root(request), staged, p)
    except (up.UploadError, FileNotFoundError) as exc:
        return _page(request, db, p, staged=staged, error=str(exc), status_code=422)
    return _page(
        request,
        db,
        p,
        staged=staged,
        preview=preview,
        status=status,
        status_code=200 if preview.importable else 422,
    )


@router.post("/complaints/upload/{token}/confirm", response_model=None)
def upload_confirm(
    token: str,
    request: Request,
    p: Principal = Depends(handler),
    db: Session = Depends(get_db),
) -> Response:
    root = _root(request)
    staged = _staged(request, p, token)
    form = request.scope.get("sqm.form")
    skip = form is not None and form.get("skip_rejected") in ("1", "on", "true")
    try:
        preview = up.preview_staged(db, root, staged, p)
    except FileNotFoundError:
        return RedirectResponse(f"/complaints/upload/{token}", status_code=303)
    if not preview.importable:
        raise InvalidInput("the file has errors that block the import; nothing was written")
    if preview.rejected and not skip:
        raise InvalidInput(
            f"{len({e.row for e in preview.rejected})} row(s) cannot be imported: confirm "
            "that the others are imported without them"
        )
    if not up.claim_job(root, token, len(preview.frame)):
        return RedirectResponse(f"/complaints/upload/{token}", status_code=303)
    actor = Actor(p.user_id, p.username)
    if len(preview.frame) <= up.INLINE_ROWS:
        try:
            with acting_as(actor):
                out = up.import_preview(db, preview, staged)
                db.commit()
        except Exception as exc:
            db.rollback()
            up.write_status(
                root, token, up.JobStatus("failed", message=f"{exc}; nothing was written"[:500])
            )
        else:
            n = len(preview.frame)
            up.write_status(root, token, up.JobStatus("done", n, n, out.created, out.already_known))
        return RedirectResponse(f"/complaints/upload/{token}", status_code=303)
    factory = request.app.state.sessionmaker

    def work() -> None:
        with acting_as(actor):
            up.run_job(root, token, staged, preview, lambda: transaction(factory))

    threading.Thread(target=work, name=f"complaint-upload-{token[:8]}", daemon=True).start()
    return RedirectResponse(f"/complaints/upload/{token}", status_code=303)


@router.get("/complaints/upload/{token}/progress", response_class=HTMLResponse)
def upload_progress(token: str, request: Request, p: Principal = Depends(handler)) -> HTMLResponse:
    staged = _staged(request, p, token)
    status = _status(request, token)
    if status is None:
        raise NotFound("this upload has not been confirmed")
    return render(request, "complaints/_upload_status.html", {"staged": staged, "status": status})
