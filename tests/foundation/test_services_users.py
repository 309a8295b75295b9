"""Users and the audit log: signing in, administration within the admin's scope, who
reads which audit entries."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from sqm.domain.errors import MissingError
from sqm.domain.roles import Role
from sqm.services import users
from sqm.services.audit_log import audit_page, recent_actions
from sqm.services.scope import Principal, principal_for
from sqm.store.engine import make_sessionmaker, transaction
from sqm.store.models import AuditEntry, OrgUnit, User


def _user(s, name: str) -> User:  # type: ignore[no-untyped-def]
    u = s.scalar(select(User).where(User.username == name))
    assert u is not None
    return u


def _gz_admin(s) -> Principal:  # type: ignore[no-untyped-def]
    """An administrator of Guangzhou only."""
    gz = s.scalar(select(OrgUnit).where(OrgUnit.code == "GD-GZ"))
    u = users.create_user(s, "admin.gz", "long-enough-1")
    users.grant(s, None, u, Role.ADMIN, gz)
    return principal_for(s, u)


def test_authenticate_records_every_attempt(demo_engine: Engine) -> None:
    f = make_sessionmaker(demo_engine)
    with transaction(f) as s:
        assert users.authenticate(s, "analyst", "wrong-password") is None
        assert users.authenticate(s, " analyst ", "sqm-demo-2026") is not None
    with f() as s:
        actions = [
            e.action for e in s.scalars(select(AuditEntry).where(AuditEntry.entity == "app_user"))
        ]
        assert actions[-2:] == ["login_failed", "login"]


def test_an_admin_manages_only_users_inside_their_scope(demo_engine: Engine) -> None:
    with transaction(make_sessionmaker(demo_engine)) as s:
        admin = _gz_admin(s)
        names = {u.username for u in users.manageable_users(s, admin)}
        assert {"area.gz", "store.manager", "admin.gz"} <= names and "analyst" not in names
        assert users.visible_user(s, admin, _user(s, "area.gz").id).username == "area.gz"
        with pytest.raises(MissingError, match="no such user"):
            users.visible_user(s, admin, _user(s, "analyst").id)
        with pytest.raises(users.UserRuleError, match="scope_code: no org unit 'SC-CD'"):
            users.create_user_with_grant(
                s,
                admin,
                username="x.cd",
                password="long-enough-1",
                display_name="",
                role="viewer",
                scope_code="SC-CD",
            )
        with pytest.raises(users.UserRuleError, match="role: 'boss' is not known"):
            users.create_user_with_grant(
                s,
                admin,
                username="x.cd",
                password="long-enough-1",
                display_name="",
                role="boss",
                scope_code="GD-GZ",
            )
        assert s.scalar(select(User).where(User.username == "x.cd")) is None
        u = users.create_user_with_grant(
            s,
            admin,
            username="x.gz",
            password="long-enough-1",
            display_name="X",
            role="viewer",
            scope_code="GD-GZ",
        )
        g = users.grant_by_code(s, admin, u, "inspector", "GD-GZ")
        with pytest.raises(MissingError, match="no such grant"):
            users.revoke(s, _user(s, "analyst"), g.id)
        users.revoke(s, u, g.id)
        with pytest.raises(users.UserRuleError, match=r"new_password: .*12 characters"):
            users.update_user(s, admin, u, display_name="X", active=True, new_password="short")
        users.update_user(s, admin, u, display_name=" Y ", active=False)
        assert (u.display_name, u.active) == ("Y", False)


def test_audit_pages_show_outside_the_company_level_only_own_and_in_scope_entries(
    demo_engine: Engine,
) -> None:
    with transaction(make_sessionmaker(demo_engine)) as s:
        admin = _gz_admin(s)
        analyst = principal_for(s, _user(s, "analyst"))
        everything = audit_page(s, analyst, page_size=10)
        assert everything.total > 10 and len(everything.rows) == 10
        assert everything.pages == -(-everything.total // 10)
        mine = audit_page(s, admin, page_size=1000)
        assert mine.total < everything.total
        assert all(e.user_id == admin.user_id or e.entity == "org_unit" for e in mine.rows)
        units = audit_page(s, analyst, entity="org_unit", page=10**6)
        assert units.rows == [] and units.page == 10**6 and "org_unit" in units.entities
        assert recent_actions(s, 0) == []
