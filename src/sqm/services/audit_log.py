"""Reading the audit log: the admin's filtered pages and a user's own recent actions.

Who sees which entries: a user granted a root of the org tree sees every entry; anyone
else sees their own actions and changes to org units in their scope.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, String, cast, func, or_, select
from sqlalchemy.orm import Session

from sqm.services.scope import Principal
from sqm.store.models import AuditEntry, OrgUnit

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditPage:
    """One page of the audit log (newest first) and what the filters can choose from."""

    rows: list[AuditEntry]
    page: int
    pages: int
    total: int
    entities: list[str]


def root_scoped(session: Session, principal: Principal) -> bool:
    """Whether the principal is granted a root of the org tree (the whole company)."""
    roots = session.scalars(select(OrgUnit.path).where(OrgUnit.parent_id.is_(None))).all()
    return any(r in principal.scope_paths for r in roots)


def _visible(session: Session, principal: Principal) -> Select[AuditEntry]:
    stmt = select(AuditEntry)
    if not root_scoped(session, principal):
        # Outside the company level, one sees one's own actions and changes to units in scope.
        in_scope = select(cast(OrgUnit.id, String)).where(principal.unit_filter())
        stmt = stmt.where(
            or_(
                AuditEntry.user_id == principal.user_id,
                (AuditEntry.entity == "org_unit") & AuditEntry.entity_id.in_(in_scope),
            )
        )
    return stmt


def audit_page(
    session: Session,
    principal: Principal,
    *,
    entity: str = "",
    username: str = "",
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> AuditPage:
    """Page ``page`` (from 1) of the entries the principal may read, filtered by entity
    and user name (empty: any)."""
    stmt = _visible(session, principal)
    if entity:
        stmt = stmt.where(AuditEntry.entity == entity)
    if username:
        stmt = stmt.where(AuditEntry.username == username)
    page = max(page, 1)
    total = int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    rows = list(
        session.scalars(
            stmt.order_by(AuditEntry.id.desc()).offset((page - 1) * page_size).limit(page_size)
        )
    )
    entities = list(
        session.scalars(select(AuditEntry.entity).distinct().order_by(AuditEntry.entity))
    )
    return AuditPage(rows, page, max(1, -(-total // page_size)), total, entities)


def recent_actions(session: Session, user_id: int, limit: int = 8) -> list[AuditEntry]:
    """The user's own latest audit entries, newest first."""
    if not user_id:
        return []
    stmt = (
        select(AuditEntry)
        .where(AuditEntry.user_id == user_id)
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))
