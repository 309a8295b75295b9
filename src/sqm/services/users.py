"""User administration: creating users, granting roles over org subtrees."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from sqm.domain.errors import RuleError
from sqm.domain.roles import Role
from sqm.services.passwords import hash_password
from sqm.services.scope import Principal
from sqm.store.models import OrgUnit, RoleGrant, User


class UserRuleError(RuleError):
    """A user change that breaks a rule (duplicate name, grant outside the admin's scope…)."""


def create_user(
    session: Session,
    username: str,
    password: str,
    display_name: str = "",
    locale: str = "zh",
) -> User:
    """Create an active user with an Argon2 password hash."""
    username = username.strip()
    if not username or len(username) > 64:
        raise UserRuleError("user name must have 1–64 characters")
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise UserRuleError(f"user name '{username}' is taken")
    try:
        pw = hash_password(password)
    except ValueError as exc:
        raise UserRuleError(str(exc)) from exc
    user = User(
        username=username, display_name=display_name.strip(), password_hash=pw, locale=locale
    )
    session.add(user)
    session.flush()
    return user


def grant(
    session: Session, admin: Principal | None, user: User, role: Role, unit: OrgUnit
) -> RoleGrant:
    """Grant ``role`` over ``unit``'s subtree; an admin can grant only within their own scope."""
    if admin is not None and not admin.sees(unit):
        raise UserRuleError(f"you cannot grant a scope outside yours ({unit.code})")
    g = RoleGrant(user_id=user.id, role=Role(role), scope_unit_id=unit.id)
    session.add(g)
    session.flush()
    session.refresh(user)
    return g


def manageable(admin: Principal, user: User) -> bool:
    """An admin manages a user whose every grant lies within the admin's scope."""
    return all(admin.sees(g.scope_unit) for g in user.grants)
