"""Nobody in where they don't belong (issue 21): forged and stolen sessions, the secret
key of an instance, CSRF beside bearer tokens, sign-in throttling, security headers."""

from __future__ import annotations

import base64
import json
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from conftest import make_client, sign_in
from sqm.config import DEFAULT_SECRET_KEY, Settings, get_settings
from sqm.domain.org import UnitKind
from sqm.domain.roles import Role
from sqm.services import users
from sqm.services.org_tree import place
from sqm.services.scope import principal_for
from sqm.store.engine import make_sessionmaker, transaction
from sqm.store.models import OrgUnit, User
from sqm.web.app import create_app

PASSWORD = "Quality-Check-2026"


@pytest.fixture
def org(any_engine: Engine) -> Engine:
    """A root unit with an administrator ``root`` and an analyst ``ana`` (both databases)."""
    with transaction(make_sessionmaker(any_engine)) as s:
        root = OrgUnit(code="HQ", name_zh="总公司", kind=UnitKind.COMPANY)
        place(s, root, None)
        for name, role in (("root", Role.ADMIN), ("ana", Role.QUALITY_ANALYST)):
            u = users.create_user(s, name, PASSWORD, name)
            users.grant(s, None, u, role, root)
    return any_engine


def _signed_in(client: TestClient) -> bool:
    r = client.get("/")
    return r.status_code == 200


def _forged_cookie(secret: str, data: dict[str, Any]) -> str:
    """A session cookie as Starlette's SessionMiddleware writes it, signed with ``secret``."""
    payload = base64.b64encode(json.dumps(data).encode("utf-8"))
    return TimestampSigner(secret).sign(payload).decode("utf-8")


# ------------------------------------------------------------ 1. sessions and the secret key


def test_a_cookie_signed_with_the_default_key_signs_nobody_in(demo_engine: Engine) -> None:
    """With the public default key anyone can sign a cookie; it must name no session."""
    app = create_app(Settings(database_url=str(demo_engine.url)), engine=demo_engine)
    with make_sessionmaker(demo_engine)() as s:
        admin_id = s.scalar(select(User.id).where(User.username == "admin"))
    for forged in ({"uid": admin_id}, {"uid": admin_id, "sid": "guessed-session-id"}):
        c = TestClient(app, follow_redirects=False)
        c.cookies.set("sqm_session", _forged_cookie(DEFAULT_SECRET_KEY, forged))
        r = c.get("/admin/users")
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), forged
        assert c.get("/api/v1/org-units").status_code == 401


def test_a_copied_cookie_dies_with_its_sign_out(org: Engine) -> None:
    owner = sign_in(make_client(org), "ana", PASSWORD)
    thief = make_client(org)
    thief.cookies.set("sqm_session", owner.cookies["sqm_session"])
    assert _signed_in(thief)
    assert owner.post("/logout").status_code == 303
    assert not _signed_in(owner)
    assert not _signed_in(thief)  # the same cookie, now naming a revoked session


def test_a_password_change_signs_the_user_out_everywhere(org: Engine) -> None:
    ana = sign_in(make_client(org), "ana", PASSWORD)
    other = sign_in(make_client(org), "root", PASSWORD)
    assert _signed_in(ana)
    with transaction(make_sessionmaker(org)) as s:
        root = s.scalar(select(User).where(User.username == "root"))
        target = s.scalar(select(User).where(User.username == "ana"))
        assert root is not None and target is not None
        users.update_user(
            s,
            principal_for(s, root),
            target,
            display_name="ana",
            active=True,
            new_password="Another-Strong-Pass-7",
        )
    assert not _signed_in(ana)
    assert _signed_in(other)  # only ana's sessions were revoked
    assert _signed_in(sign_in(make_client(org), "ana", "Another-Strong-Pass-7"))


def test_a_deactivated_user_is_signed_out(org: Engine) -> None:
    ana = sign_in(make_client(org), "ana", PASSWORD)
    with transaction(make_sessionmaker(org)) as s:
        root = s.scalar(select(User).where(User.username == "root"))
        target = s.scalar(select(User).where(User.username == "ana"))
        assert root is not None and target is not None
        users.update_user(s, principal_for(s, root), target, display_name="ana", active=False)
    assert not _signed_in(ana)


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty instance directory as the current directory, no SQM_SECRET_KEY set."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SQM_SECRET_KEY", raising=False)
    monkeypatch.setenv("SQM_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SQM_DATABASE_URL", f"sqlite:///{tmp_path / 'var' / 'sqm.db'}")
    (tmp_path / "var").mkdir()
    get_settings.cache_clear()
    yield tmp_path / "var"
    get_settings.cache_clear()


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What ``uvicorn.run`` was asked to serve (nothing is served)."""
    import uvicorn

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: calls.append(kw))
    return calls


def test_serve_refuses_a_public_address_with_the_default_key(
    instance: Path, served: list[dict[str, Any]]
) -> None:
    from sqm.cli.main import app

    r = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0"])
    assert r.exit_code == 2 and "refusing to serve" in r.output
    assert served == []
    r = CliRunner().invoke(app, ["serve", "--host", "127.0.0.1"])
    assert r.exit_code == 0, r.output
    assert [c["host"] for c in served] == ["127.0.0.1"]


def test_serve_refuses_a_short_key_and_takes_a_long_one(
    instance: Path, served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqm.cli.main import app

    monkeypatch.setenv("SQM_SECRET_KEY", "short-key")
    assert CliRunner().invoke(app, ["serve", "--host", "0.0.0.0"]).exit_code == 2
    monkeypatch.setenv("SQM_SECRET_KEY", "k" * 40)
    get_settings.cache_clear()
    r = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0"])
    assert r.exit_code == 0, r.output
    assert [c["host"] for c in served] == ["0.0.0.0"]


def test_init_writes_a_random_key_the_settings_read(
    instance: Path, served: list[dict[str, Any]]
) -> None:
    from sqm.cli.main import app

    r = CliRunner().invoke(app, ["init", "--admin-password", PASSWORD])
    assert r.exit_code == 0, r.output
    path = instance / "settings.env"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = path.read_text().strip().removeprefix("SQM_SECRET_KEY=")
    assert len(key) >= 48 and key != DEFAULT_SECRET_KEY
    get_settings.cache_clear()
    assert get_settings().secret_key == key
    # a second run keeps the key (signed survey links and sessions stay valid)
    from sqm.config import ensure_secret_key

    assert ensure_secret_key(instance) is None
    assert path.read_text().count("SQM_SECRET_KEY=") == 1
    r = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0"])
    assert r.exit_code == 0, r.output
    assert served and served[0]["host"] == "0.0.0.0"
