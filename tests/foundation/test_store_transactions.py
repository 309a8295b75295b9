"""Transactions are all or nothing on SQLite as on PostgreSQL: savepoints released inside a
transaction are undone by its rollback, and every import that fails late — a bad row near
the end of a file, or the process killed half-way — leaves nothing behind.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from conftest import DEMO_PASSWORD, sign_in
from sqm.config import Settings
from sqm.domain.instrument_templates import nps_csat
from sqm.domain.org import StoreTier, UnitKind
from sqm.domain.roles import Role
from sqm.services import imports
from sqm.services.complaints import upload
from sqm.services.org_tree import place
from sqm.services.surveys import fielding
from sqm.services.users import create_user, grant
from sqm.store.engine import make_engine, make_sessionmaker, transaction
from sqm.store.models import Complaint, OrgUnit, Period, User
from sqm.store.models.survey import SurveyQuota, SurveyResponse

ROWS = 100
BAD_ROW = 91  # the 91st complaint of the file, after four chunks were written
CHUNK = 20  # rows written between two progress reports (upload.CHUNK_ROWS, 200, made small)


def _count(engine: Engine, model: Any, *where: Any) -> int:
    with Session(engine) as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _store(engine: Engine) -> OrgUnit:
    with transaction(make_sessionmaker(engine)) as s:
        co = OrgUnit(code="C", name_zh="公司", kind=UnitKind.COMPANY)
        place(s, co, None)
        prov = OrgUnit(code="P", name_zh="省", kind=UnitKind.PROVINCE)
        place(s, prov, co)
        city = OrgUnit(code="PC", name_zh="市", kind=UnitKind.CITY)
        place(s, city, prov)
        store = OrgUnit(code="S1", name_zh="店一", kind=UnitKind.STORE, tier=StoreTier.PARTNER)
        place(s, store, city)
        return store


@contextmanager
def _refused_by_database(engine: Engine, marker: str) -> Iterator[None]:
    """The database refuses the statement that writes ``marker`` (a constraint, a full
    disk, a lock timeout — any failure that only the write itself finds)."""

    def refuse(conn: Any, cursor: Any, statement: str, params: Any, ctx: Any, many: bool) -> None:
        for row in (params if many else [params]) or []:
            if row is None:
                continue
            values = row.values() if isinstance(row, dict) else row
            if any(v == marker for v in values):
                raise RuntimeError(f"the database refused {marker}")

    event.listen(engine, "before_cursor_execute", refuse)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", refuse)


# ----------------------------------------------------------------- savepoints


def test_a_released_savepoint_is_undone_by_the_rollback_of_its_transaction(
    any_engine: Engine,
) -> None:
    f = make_sessionmaker(any_engine)
    with f() as s:
        assert s.scalar(select(func.count()).select_from(OrgUnit)) == 0  # a read comes first
        with s.begin_nested():
            place(s, OrgUnit(code="SP", name_zh="保存点", kind=UnitKind.COMPANY), None)
        with s.begin_nested():
            s.execute(text("UPDATE org_unit SET name_zh = 'x'"))
        s.rollback()
    assert _count(any_engine, OrgUnit) == 0


def test_a_savepoint_as_first_statement_is_undone_too(any_engine: Engine) -> None:
    with any_engine.connect() as conn:
        with conn.begin_nested():
            conn.execute(
                text(
                    'INSERT INTO period (code, kind, start, "end", status) '
                    "VALUES ('2026-11', 'month', '2026-11-01', '2026-11-30', 'open')"
                )
            )
        conn.rollback()
    assert _count(any_engine, Period) == 0


def test_a_rolled_back_savepoint_keeps_the_rest_of_its_transaction(any_engine: Engine) -> None:
    f = make_sessionmaker(any_engine)
    with f() as s:
        place(s, OrgUnit(code="KEEP", name_zh="留", kind=UnitKind.COMPANY), None)
        s.flush()
        with pytest.raises(RuntimeError), s.begin_nested():
            place(s, OrgUnit(code="UNDO", name_zh="撤", kind=UnitKind.COMPANY), None)
            s.flush()
            raise RuntimeError("undo this one")
        s.commit()
    with Session(any_engine) as s:
        assert list(s.scalars(select(OrgUnit.code))) == ["KEEP"]


def test_sqlite_reads_then_writes_while_another_connection_commits(
    sqlite_engine: Engine,
) -> None:
    """A page reads (the signed-in user) and then saves while the intake writer commits:
    the save waits for the lock instead of failing with 'database is locked'."""
    store = _store(sqlite_engine)
    f = make_sessionmaker(sqlite_engine)
    with f() as s:
        unit = s.get_one(OrgUnit, store.id)  # this transaction has read
        other = threading.Thread(target=_rename, args=(sqlite_engine, store.id, "他人"))
        other.start()
        other.join()
        with s.begin_nested():
            unit.traffic = 42
        s.commit()
    with Session(sqlite_engine) as s:
        after = s.get_one(OrgUnit, store.id)
        assert (after.name_zh, after.traffic) == ("他人", 42)


def _rename(engine: Engine, unit_id: int, name: str) -> None:
    with transaction(make_sessionmaker(engine)) as s:
        s.get_one(OrgUnit, unit_id).name_zh = name


# ------------------------------------------------------------- complaint upload


def _complaint_file(unit: str, rows: int = ROWS) -> bytes:
    lines = ["source_id,channel,received_at,unit,text"]
    lines += [f"R-{i:04d},hotline,2026-11-02 10:00,{unit},网速慢 {i}" for i in range(1, rows + 1)]
    return ("\n".join(lines) + "\n").encode()


def _staged(root: Path, data: bytes) -> upload.StagedUpload:
    staged = upload.StagedUpload("t" * 24, 1, "c.csv", "upload", None, "Asia/Shanghai", 0.0)
    (root / f"{staged.token}.data").write_bytes(data)
    return staged


def test_complaint_upload_with_a_bad_row_late_in_the_file_writes_nothing(
    any_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(upload, "CHUNK_ROWS", CHUNK)
    _store(any_engine)
    data = _complaint_file("S1")
    staged = _staged(tmp_path, data)
    preview = upload.read_upload(data, "c.csv")
    assert preview.importable and len(preview.frame) == ROWS
    f = make_sessionmaker(any_engine)
    with _refused_by_database(any_engine, f"R-{BAD_ROW:04d}"):
        status = upload.run_job(tmp_path, staged.token, staged, preview, lambda: transaction(f))
    assert status.state == "failed" and "nothing was written" in status.message
    assert _count(any_engine, Complaint) == 0
    # The same file without the failure imports whole.
    status = upload.run_job(tmp_path, staged.token, staged, preview, lambda: transaction(f))
    assert (status.state, status.created) == ("done", ROWS)
    assert _count(any_engine, Complaint) == ROWS


KILLED_IMPORT = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from sqm.services.complaints import upload
    from sqm.store.engine import make_engine, make_sessionmaker, transaction

    url, root, rows_before_kill = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    upload.CHUNK_ROWS = int(sys.argv[4])
    staged = upload.StagedUpload("t" * 24, 1, "c.csv", "upload", None, "Asia/Shanghai", 0.0)
    data = (root / f"{staged.token}.data").read_bytes()
    preview = upload.read_upload(data, "c.csv")

    def progress(done, total):
        if done >= rows_before_kill:
            print(done, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

    with transaction(make_sessionmaker(make_engine(url))) as session:
        upload.import_preview(session, preview, staged, progress)
    """
)


def test_a_complaint_import_killed_half_way_leaves_nothing(
    any_engine: Engine, tmp_path: Path
) -> None:
    _store(any_engine)
    _staged(tmp_path, _complaint_file("S1"))
    url = any_engine.url.render_as_string(hide_password=False)
    run = subprocess.run(
        [sys.executable, "-c", KILLED_IMPORT, url, str(tmp_path), "60", str(CHUNK)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")},
        check=False,
    )
    assert run.returncode == -9, run.stderr
    assert int(run.stdout.split()[-1]) == 60  # three chunks were written when it died
    assert _count(any_engine, Complaint) == 0


# ----------------------------------------------------------------- org import


def test_org_import_with_a_bad_row_late_in_the_file_writes_nothing(any_engine: Engine) -> None:
    lines = ["编码,名称,类型,上级编码", "HQ,总部,公司,", "P,省,省,HQ", "PC,市,市,P"]
    lines += [f"S{i:04d},门店{i},门店,PC" for i in range(1, 301)]
    data = ("\n".join(lines) + "\n").encode()
    f = make_sessionmaker(any_engine)
    with pytest.raises(RuntimeError), _refused_by_database(any_engine, "S0290"):
        with transaction(f) as s:
            imports.run_import(s, "org", data, "u.csv")
    assert _count(any_engine, OrgUnit) == 0
    with transaction(f) as s:
        report = imports.run_import(s, "org", data, "u.csv")
    assert report.created == 303 and _count(any_engine, OrgUnit) == 303


# -------------------------------------------------------------- survey import


def test_survey_answer_import_failing_late_writes_nothing(any_engine: Engine) -> None:
    store = _store(any_engine)
    f = make_sessionmaker(any_engine)
    with transaction(f) as s:
        period = Period(
            code="2026-11", kind="month", start=date(2026, 11, 1), end=date(2026, 11, 30)
        )
        s.add(period)
        s.flush()
        wave = fielding.create_wave(
            s,
            code="W",
            period=period,
            instrument=fielding.store_instrument(s, nps_csat()),
            stores=[s.get_one(OrgUnit, store.id)],
            total=50,
        )
        wave_id = wave.id
    answers = pd.DataFrame(
        {"unit": ["S1"] * 60, "respondent_id": [f"r{i}" for i in range(60)], "nps": [9] * 60}
    )
    # The answers are stored, then the quota counters' update is refused: nothing stays.
    with pytest.raises(RuntimeError), _refused_by_database(any_engine, 10):
        fielding.import_into_wave(f, wave_id, answers)
    assert _count(any_engine, SurveyResponse) == 0
    assert fielding.import_into_wave(f, wave_id, answers) == 60
    assert _count(any_engine, SurveyResponse) == 60
    with Session(any_engine) as s:
        assert s.scalar(select(func.sum(SurveyQuota.achieved))) == 50


def test_make_engine_gives_sqlite_no_driver_transactions(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.connection.driver_connection.isolation_level is None  # type: ignore[union-attr]
        conn.exec_driver_sql("SELECT 1")
        assert not conn.connection.driver_connection.in_transaction  # type: ignore[union-attr]
    engine.dispose()


# ------------------------------------------------- a reply only after the commit


def _admin_client(engine: Engine) -> tuple[TestClient, sessionmaker[Session]]:
    from sqm.web.app import create_app

    store = _store(engine)
    with transaction(make_sessionmaker(engine)) as s:
        admin = create_user(s, "root", DEMO_PASSWORD, "Root")
        grant(s, None, admin, Role.ADMIN, s.get_one(OrgUnit, store.id).parent.parent.parent)
    app = create_app(Settings(database_url=str(engine.url), secret_key="t"), engine=engine)
    client = TestClient(app, follow_redirects=False, raise_server_exceptions=False)
    return sign_in(client, "root"), app.state.sessionmaker


@pytest.mark.parametrize(
    ("failure", "status"),
    [
        (OperationalError("COMMIT", {}, Exception("database is locked")), 503),
        (IntegrityError("COMMIT", {}, Exception("violates a constraint")), 409),
    ],
)
def test_a_page_whose_commit_fails_answers_an_error_not_saved(
    any_engine: Engine, failure: Exception, status: int
) -> None:
    client, factory = _admin_client(any_engine)

    def refuse(session: Session) -> None:
        if session.in_nested_transaction():
            return  # a savepoint's release, not the request's commit
        if session.scalar(select(User.id).where(User.username == "newbie")) is not None:
            raise failure  # the commit of the new user fails

    event.listen(factory, "before_commit", refuse)
    r = client.post(
        "/admin/users/new",
        data={
            "username": "newbie",
            "password": "tangible-kiosk-42",
            "role": "viewer",
            "scope_code": "C",
        },
    )
    assert r.status_code == status, r.text[:300]
    assert "nothing was saved" in r.text
    with Session(any_engine) as s:
        assert s.scalar(select(User).where(User.username == "newbie")) is None
    event.remove(factory, "before_commit", refuse)
    r = client.post(
        "/admin/users/new",
        data={
            "username": "newbie",
            "password": "tangible-kiosk-42",
            "role": "viewer",
            "scope_code": "C",
        },
    )
    assert r.status_code == 303
    with Session(any_engine) as s:
        assert s.scalar(select(User).where(User.username == "newbie")) is not None


def test_an_api_call_whose_commit_fails_answers_a_json_error(any_engine: Engine) -> None:
    client, factory = _admin_client(any_engine)

    def refuse(session: Session) -> None:
        if session.in_nested_transaction():
            return
        if session.scalar(select(OrgUnit.id).where(OrgUnit.code == "NEW")) is not None:
            raise OperationalError("COMMIT", {}, Exception("database is locked"))

    event.listen(factory, "before_commit", refuse)
    r = client.post(
        "/api/v1/org-units",
        json={"code": "NEW", "name_zh": "新", "kind": "province", "parent_code": "C"},
    )
    assert r.status_code == 503, r.text[:300]
    assert r.json()["error"]["code"] == "not_saved"
    assert _count(any_engine, OrgUnit, OrgUnit.code == "NEW") == 0
