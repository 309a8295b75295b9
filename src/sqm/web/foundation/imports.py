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
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from sqm.domain.roles import Permission
from sqm.ingest import indicator_systems, org_units, weight_profiles
from sqm.ingest.errors import RULES, ImportRejected, ImportReport
from sqm.ingest.tabular import Column
from sqm.services.exports import ExportKind, export_table
from sqm.services.imports import run_import
from sqm.services.scope import Principal
from sqm.store.audit import Actor, acting_as
from sqm.web.deps import Db, csrf_protect, load_form
from sqm.web.errors import Forbidden, InvalidInput, NotFound
from sqm.web.permissions import SignedIn
from sqm.web.templating import render

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(load_form), Depends(csrf_protect)]
)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class UploadForm(BaseModel):
    file: UploadFile | None = None
    dry_run: str = ""


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


def _kind(p: SignedIn, kind: str) -> ImportKind:
    k = KINDS.get(kind)
    if k is None:
        raise NotFound("no such import")
    if not p.can(k.permission):
        raise Forbidden(f"this needs the permission '{k.permission.value}'")
    return k


Kind = Annotated[ImportKind, Depends(_kind)]
"""The import kind of the path's ``{kind}`` (404 if unknown), if the caller may import it
(403 otherwise)."""


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
def imports_home(p: SignedIn) -> Response:
    allowed = _allowed(p)
    if not allowed:
        raise Forbidden("importing needs edit_org, edit_indicators or edit_weights")
    return RedirectResponse(f"/imports/{allowed[0].key}", status_code=303)


@router.get("/org/import")
def org_import(p: SignedIn) -> Response:
    _kind(p, "org")
    return RedirectResponse("/imports/org", status_code=303)


@router.get("/imports/{kind}")
def import_form(request: Request, p: SignedIn, k: Kind) -> Response:
    return _page(request, p, k)


@router.post("/imports/{kind}")
def import_upload(
    request: Request, p: SignedIn, k: Kind, form: Annotated[UploadForm, Form()], db: Db
) -> Response:
    upload = form.file
    if upload is None or not upload.filename:
        raise InvalidInput("choose a CSV or xlsx file to upload")
    data = upload.file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput(f"the file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    dry_run = form.dry_run in ("1", "on", "true")
    try:
        with acting_as(Actor(p.user_id, p.username)):
            report = run_import(
                db, k.key, data, upload.filename, scope_paths=p.scope_paths, dry_run=dry_run
            )
            db.flush()
    except ImportRejected as rejected:
        db.rollback()
        report = rejected.report
    if dry_run or not report.ok:
        db.rollback()  # one transaction: a bad file or a dry run leaves nothing behind
    return _page(request, p, k, report, upload.filename, status_code=200 if report.ok else 422)


@router.get("/imports/{kind}/export.{fmt}")
def export_download(p: SignedIn, k: Kind, fmt: str, db: Db, lang: str = "zh") -> Response:
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
