"""Upload pages for org units, indicator systems and weight profiles, and their exports.

``/imports/{kind}`` (kind: org, indicators, weights; ``/org/import`` leads to the first)
shows the accepted columns, takes a CSV or xlsx upload (optionally as a dry run) and
shows either every bad cell or the counts of what changed. Org units must lie in the
uploader's scope; each kind needs its own permission (EDIT_ORG, EDIT_INDICATORS,
EDIT_WEIGHTS). ``/imports/{kind}/export.{csv|xlsx}?lang=zh|en`` downloads the same format.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from sqm.domain.roles import Permission
from sqm.ingest import indicator_systems, org_units, weight_profiles
from sqm.ingest.errors import RULES, ImportRejected, ImportReport
from sqm.ingest.tabular import Column
from sqm.services.evaluation.weight_profile import import_weight_profiles
from sqm.services.exports import ExportKind, export_table
from sqm.services.scope import Principal
from sqm.store.audit import Actor, acting_as
from sqm.web.deps import csrf_protect, current_principal, get_db, load_form
from sqm.web.errors import Forbidden, InvalidInput, NotFound
from sqm.web.templating import render

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(load_form), Depends(csrf_protect)]
)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class ImportKind:
    """One importable kind: its permission, page title and columns."""

    key: ExportKind
    title: str
    permission: Permission
    columns: Sequence[Column]


KINDS: dict[str, ImportKind] = {
    "org": ImportKind("org", "Org units", Permission.EDIT_ORG, org_units.COLUMNS),
    "indicators": ImportKind(
        "indicators", "Indicator systems", Permission.EDIT_INDICATORS, indicator_systems.COLUMNS
    ),
    "weights": ImportKind(
        "weights", "Weight profiles", Permission.EDIT_WEIGHTS, weight_profiles.COLUMNS
    ),
}


def _kind(p: Principal, kind: str) -> ImportKind:
    k = KINDS.get(kind)
    if k is None:
        raise NotFound("no such import")
    if not p.can(k.permission):
        raise Forbidden(f"this needs the permission '{k.permission.value}'")
    return k


def _allowed(p: Principal) -> list[ImportKind]:
    return [k for k in KINDS.values() if p.can(k.permission)]


def _page(
    request: Request,
    p: Principal,
    kind: ImportKind,
    report: ImportReport | None = None,
    filename: str = "",
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "imports/page.html",
        {
            "kind": kind,
            "kinds": _allowed(p),
            "report": report,
            "filename": filename,
            "rules": RULES,
        },
        status_code=status_code,
    )


@router.get("/imports")
def imports_home(p: Principal = Depends(current_principal)) -> Response:
    allowed = _allowed(p)
    if not allowed:
        raise Forbidden("importing needs edit_org, edit_indicators or edit_weights")
    return RedirectResponse(f"/imports/{allowed[0].key}", status_code=303)


@router.get("/org/import")
def org_import(p: Principal = Depends(current_principal)) -> Response:
    _kind(p, "org")
    return RedirectResponse("/imports/org", status_code=303)


@router.get("/imports/{kind}")
def import_form(request: Request, kind: str, p: Principal = Depends(current_principal)) -> Response:
    return _page(request, p, _kind(p, kind))


@router.post("/imports/{kind}")
def import_upload(
    request: Request,
    kind: str,
    p: Principal = Depends(current_principal),
    db: Session = Depends(get_db),
) -> Response:
    k = _kind(p, kind)
    form = request.scope.get("sqm.form")
    upload = form.get("file") if form is not None else None
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise InvalidInput("choose a CSV or xlsx file to upload")
    data = upload.file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput(f"the file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    dry_run = form is not None and form.get("dry_run") in ("1", "on", "true")
    try:
        with acting_as(Actor(p.user_id, p.username)):
            if k.key == "org":
                report = org_units.import_org_units(
                    db, data, upload.filename, scope_paths=p.scope_paths, dry_run=dry_run
                )
            elif k.key == "indicators":
                report = indicator_systems.import_indicator_systems(
                    db, data, upload.filename, dry_run=dry_run
                )
            else:
                report = import_weight_profiles(db, data, upload.filename, dry_run=dry_run)
            db.flush()
    except ImportRejected as rejected:
        db.rollback()
        report = rejected.report
    if dry_run or not report.ok:
        db.rollback()  # one transaction: a bad file or a dry run leaves nothing behind
    return _page(request, p, k, report, upload.filename, status_code=200 if report.ok else 422)


@router.get("/imports/{kind}/export.{fmt}")
def export_download(
    kind: str,
    fmt: str,
    lang: str = "zh",
    p: Principal = Depends(current_principal),
    db: Session = Depends(get_db),
) -> Response:
    k = _kind(p, kind)
    if fmt not in ("csv", "xlsx") or lang not in ("zh", "en"):
        raise NotFound("export as .csv or .xlsx, lang zh or en")
    data = export_table(
        db,
        k.key,
        fmt="csv" if fmt == "csv" else "xlsx",
        lang="zh" if lang == "zh" else "en",
        scope_paths=p.scope_paths,
    )
    media = (
        "text/csv; charset=utf-8"
        if fmt == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return Response(
        data,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="sqm-{k.key}-{lang}.{fmt}"'},
    )
