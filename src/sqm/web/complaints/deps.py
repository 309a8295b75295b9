"""The complaint pages' and API's dependencies: who may read or work complaints and their
alerts, and the complaint or alert of the path, 404 outside the caller's scope.

Declare them once here and use them as types: ``p: ComplaintReader, c: ComplaintInScope``
(permission first, so a caller without it gets 403 before the object's 404).
"""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated

from fastapi import Depends, Path, Request

from sqm.services.complaints import alerts as alert_svc
from sqm.services.complaints import upload as up
from sqm.services.complaints.handling import complaint_in_scope
from sqm.services.scope import Principal
from sqm.store.models import Complaint
from sqm.store.models.complaint_alert import ComplaintAlert
from sqm.web.deps import Db, current_principal
from sqm.web.errors import NotFound

PathId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _complaint(
    complaint_id: PathId, db: Db, p: Principal = Depends(current_principal)
) -> Complaint:
    c = complaint_in_scope(db, p, complaint_id)
    if c is None:
        raise NotFound("no such complaint in your scope")
    return c


def _alert(alert_id: PathId, db: Db, p: Principal = Depends(current_principal)) -> ComplaintAlert:
    a = alert_svc.visible_alert(db, p, alert_id)
    if a is None:
        raise NotFound("no such complaint alert in your scope")
    return a


ComplaintInScope = Annotated[Complaint, Depends(_complaint)]
"""The complaint of the path's ``{complaint_id}``, 404 outside the caller's scope."""

ComplaintAlertInScope = Annotated[ComplaintAlert, Depends(_alert)]
"""The complaint alert of the path's ``{alert_id}``, 404 outside the caller's scope."""


def upload_root(request: Request) -> FilePath:
    """Where this server keeps staged complaint uploads."""
    return up.upload_dir(FilePath(request.app.state.settings.data_dir))


def _upload(
    token: str, request: Request, p: Principal = Depends(current_principal)
) -> up.StagedUpload:
    try:
        return up.load_staged(upload_root(request), token, p.user_id)
    except up.UploadError:
        raise NotFound("no such upload (it may have expired; upload the file again)") from None


OwnUpload = Annotated[up.StagedUpload, Depends(_upload)]
"""The staged upload of the path's ``{token}`` if the caller uploaded it, 404 otherwise."""
