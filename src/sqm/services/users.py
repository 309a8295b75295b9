"""Users: signing in, and their administration (creating users, granting roles over org
subtrees) within the administrator's scope."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from sqm.domain.errors import MissingError, RuleError
from sqm.domain.roles import Role
from sqm.services.passwords import hash_password
from sqm.services.scope import Principal
from sqm.services.sign_in import check_credentials, revoke_sessions
from sqm.store.audit import Actor, acting_as, record
from sqm.store.base import utcnow
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
        pw = hash_password(password, username)
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


def visible_user(session: Session, admin: Principal, user_id: int) -> User:
    """The user ``user_id`` if ``admin`` manages them (:func:`manageable`); else
    :class:`MissingError`, the same as for a user that does not exist."""
    user = session.get(User, user_id)
    if user is None or not manageable(admin, user):
        raise MissingError("no such user in your scope")
    return user


def manageable_users(session: Session, admin: Principal) -> list[User]:
    """The users ``admin`` manages, by user name."""
    users = session.scalars(select(User).order_by(User.username))
    return [u for u in users if manageable(admin, u)]


def _role_and_unit(
    session: Session, admin: Principal, role: str, scope_code: str
) -> tuple[Role, OrgUnit]:
    """The role named ``role`` and the unit coded ``scope_code`` in ``admin``'s scope."""
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == scope_code.strip()))
    if role not in {r.value for r in Role}:
        raise UserRuleError(f"role: '{role}' is not known")
    if unit is None or not admin.sees(unit):
        raise UserRuleError(f"scope_code: no org unit '{scope_code}' in your scope")
    return Role(role), unit


def create_user_with_grant(
    session: Session,
    admin: Principal,
    *,
    username: str,
    password: str,
    display_name: str,
    role: str,
    scope_code: str,
) -> User:
    """Create a user with one role over the unit coded ``scope_code`` (in ``admin``'s
    scope); nothing is written when any rule fails (:class:`UserRuleError`)."""
    role_, unit = _role_and_unit(session, admin, role, scope_code)
    with session.begin_nested():
        user = create_user(session, username, password, display_name)
        grant(session, admin, user, role_, unit)
    return user


def grant_by_code(
    session: Session, admin: Principal, user: User, role: str, scope_code: str
) -> RoleGrant:
    """Grant the role named ``role`` over the unit coded ``scope_code`` (in ``admin``'s scope)."""
    role_, unit = _role_and_unit(session, admin, role, scope_code)
    return grant(session, admin, user, role_, unit)


def update_user(
    session: Session,
    admin: Principal,
    user: User,
    *,
    display_name: str,
    active: bool,
    new_password: str = "",
) -> User:
    """Change a user's name, active flag (nobody deactivates themselves) and password.
    A new password or a deactivation signs the user out everywhere (their sessions are
    revoked)."""
    user.display_name = display_name.strip()
    was_active = user.active
    if user.id != admin.user_id:  # nobody locks themselves out
        user.active = active
    if new_password:
        try:
            user.password_hash = hash_password(new_password, user.username)
        except ValueError as exc:
            raise UserRuleError(f"new_password: {exc}") from exc
    if new_password or (was_active and not user.active):
        session.flush()
        revoke_sessions(session, user.id, utcnow())
    return user


def revoke(session: Session, user: User, grant_id: int) -> None:
    """Delete the grant ``grant_id`` of ``user`` (:class:`MissingError` if it is not theirs)."""
    g = session.get(RoleGrant, grant_id)
    if g is None or g.user_id != user.id:
        raise MissingError("no such grant")
    session.delete(g)


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this name and password, or None (unthrottled: the web's
    sign-in goes through :func:`sqm.services.sign_in.attempt`); either way the attempt is
    written to the audit log (``login`` or ``login_failed``)."""
    name = username.strip()
    user = check_credentials(session, name, password)
    if user is None:
        with acting_as(Actor(None, name[:64])):
            record(session, "login_failed", "app_user", None)
        return None
    with acting_as(Actor(user.id, user.username)):
        record(session, "login", "app_user", str(user.id))
    return user
