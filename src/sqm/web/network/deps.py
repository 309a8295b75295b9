"""The network pages' dependencies: the alert or cell of the path, 404 outside the caller's
scope (use them after the permission alias, so 403 comes before 404)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from sqm.services.network import alerts as alert_svc
from sqm.services.network.views import CellInUnit, visible_cell
from sqm.services.scope import Principal
from sqm.store.models.network import NetworkAlert
from sqm.web.deps import Db, current_principal
from sqm.web.errors import NotFound

PathId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _alert(alert_id: PathId, db: Db, p: Principal = Depends(current_principal)) -> NetworkAlert:
    a = alert_svc.visible_alert(db, p, alert_id)
    if a is None:
        raise NotFound("no such alert in your scope")
    return a


def _cell(cell_pk: PathId, db: Db, p: Principal = Depends(current_principal)) -> CellInUnit:
    c = visible_cell(db, p, cell_pk)
    if c is None:
        raise NotFound("no such cell in your scope")
    return c


AlertInScope = Annotated[NetworkAlert, Depends(_alert)]
"""The network alert of the path's ``{alert_id}``, 404 outside the caller's scope."""

CellInScope = Annotated[CellInUnit, Depends(_cell)]
"""The cell of the path's ``{cell_pk}`` with its serving unit, 404 outside the scope."""
