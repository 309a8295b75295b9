"""Who may see what: a user's roles and the org subtrees they are granted.

A user sees a unit when the unit lies in (or is) one of the units of their grants.
Scope checks are path-prefix tests on :attr:`OrgUnit.path`, so they cost one index scan.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import Session

from sqm.domain.roles import Permission, Role, permissions_of
from sqm.store.models import OrgUnit, User


@dataclass(frozen=True)
class Principal:
    """The signed-in user as the services see them: id, roles, scope paths, permissions."""

    user_id: int
    username: str
    display_name: str
    roles: frozenset[Role]
    scope_paths: tuple[str, ...]
    permissions: frozenset[Permission] = field(default_factory=frozenset)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def sees_path(self, path: str) -> bool:
        """Whether a unit with materialised path ``path`` lies in this user's scope.

        >>> Principal(1, "u", "", frozenset(), ("/1/4/",)).sees_path("/1/4/17/")
        True
        """
        return any(path.startswith(p) for p in self.scope_paths)

    def sees(self, unit: OrgUnit) -> bool:
        return self.sees_path(unit.path)

    def unit_filter(self) -> ColumnElement[bool]:
        """A SQL condition selecting the org units in scope."""
        if not self.scope_paths:
            return false()
        return or_(*(OrgUnit.path.startswith(p) for p in self.scope_paths))

    def roles_over(self, unit: OrgUnit) -> frozenset[Role]:
        """Roles this user holds over ``unit`` (unused here; grants are unioned)."""
        return self.roles if self.sees(unit) else frozenset()


def principal_for(session: Session, user: User) -> Principal:
    """Build the principal of ``user`` from their grants."""
    roles = frozenset(Role(g.role) for g in user.grants)
    paths = tuple(sorted({g.scope_unit.path for g in user.grants}))
    # Drop paths already covered by a broader grant.
    paths = tuple(p for p in paths if not any(p != q and p.startswith(q) for q in paths))
    return Principal(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name or user.username,
        roles=roles,
        scope_paths=paths,
        permissions=permissions_of(roles),
    )


def load_principal(session: Session, user_id: int) -> Principal | None:
    user = session.get(User, user_id)
    if user is None or not user.active:
        return None
    return principal_for(session, user)


def units_in_scope(session: Session, principal: Principal) -> list[OrgUnit]:
    """All org units the principal may see, in tree order."""
    stmt = select(OrgUnit).where(principal.unit_filter()).order_by(OrgUnit.path)
    return list(session.scalars(stmt))
