"""Shared data of the complaint API and page tests: the store manager's own store and one
outside their scope, and the JSON body of a complaint as a capturing system sends it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from sqm.domain.org import UnitKind
from sqm.store.models import OrgUnit, RoleGrant, User

PHONE = "13812345678"


def own_and_other_store(engine: Engine) -> tuple[str, str]:
    """The store manager's own store and a store outside the manager's scope."""
    with Session(engine) as s:
        uid = s.scalar(select(User.id).where(User.username == "store.manager"))
        own = s.scalar(
            select(OrgUnit)
            .join(RoleGrant, RoleGrant.scope_unit_id == OrgUnit.id)
            .where(RoleGrant.user_id == uid)
        )
        assert own is not None
        other = s.scalar(
            select(OrgUnit.code)
            .where(OrgUnit.kind == UnitKind.STORE, OrgUnit.id != own.id)
            .order_by(OrgUnit.id)
        )
        assert other is not None
        return own.code, other


def api_body(unit: str, sid: str = "H-1", **kw: object) -> dict[str, object]:
    body: dict[str, object] = {
        "source_system": "hotline",
        "source_id": sid,
        "channel": "hotline",
        "received_at": datetime.now(UTC).isoformat(),
        "unit_code": unit,
        "text": "营业员态度恶劣",
        "customer_ref": PHONE,
        "subcategory": "service.rude_staff",
    }
    body.update(kw)
    return body
