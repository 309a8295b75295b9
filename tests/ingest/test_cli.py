"""``sqm import`` / ``sqm export`` through Typer's CliRunner against a temporary SQLite
database chosen by SQM_DATABASE_URL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from sqm.cli.main import app
from sqm.config import get_settings
from sqm.store.engine import make_sessionmaker
from sqm.store.models import AuditEntry, OrgUnit

from .conftest import IND_ZH, ORG_ZH, W_ZH, audit_count, csv_bytes, xlsx_bytes


@pytest.fixture
def cli_db(sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("SQM_DATABASE_URL", str(sqlite_engine.url))
    get_settings.cache_clear()
    yield sqlite_engine
    get_settings.cache_clear()


def _count(engine: Engine) -> int:
    with make_sessionmaker(engine)() as s:
        return int(s.scalar(select(func.count()).select_from(OrgUnit)) or 0)


def test_import_dry_run_import_again_and_export(cli_db: Engine, tmp_path: Path) -> None:
    runner = CliRunner()
    f = tmp_path / "units.csv"
    f.write_bytes(csv_bytes(ORG_ZH, "gbk"))
    r = runner.invoke(app, ["import", "org", str(f), "--dry-run"])
    assert r.exit_code == 0, r.output
    assert "7 created" in r.output and "dry run" in r.output
    assert _count(cli_db) == 0
    r = runner.invoke(app, ["import", "org", str(f)])
    assert r.exit_code == 0 and "7 created" in r.output
    assert _count(cli_db) == 7
    n_audit = audit_count(cli_db)
    r = runner.invoke(app, ["import", "org", str(f)])
    assert r.exit_code == 0 and "0 created, 0 updated, 7 unchanged" in r.output
    assert audit_count(cli_db) == n_audit
    # Audit entries of the CLI import name the command-line user.
    with make_sessionmaker(cli_db)() as s:
        names = set(s.scalars(select(AuditEntry.username).where(AuditEntry.entity == "org_unit")))
    assert len(names) == 1 and next(iter(names)).startswith("cli:")
    out = tmp_path / "export.xlsx"
    r = runner.invoke(app, ["export", "org", str(out), "--lang", "en"])
    assert r.exit_code == 0 and out.stat().st_size > 0
    r = runner.invoke(app, ["import", "org", str(out), "--json"])
    assert r.exit_code == 0
    assert json.loads(r.output)["unchanged"] == 7


def test_bad_file_exits_1_with_an_error_table(cli_db: Engine, tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_bytes(
        csv_bytes(
            [
                ORG_ZH[0],
                ORG_ZH[1],
                ["X", "坏", "", "shop", "NOPE", "", "", "", "", "", "95", "", "", "", ""],
            ]
        )
    )
    r = CliRunner().invoke(app, ["import", "org", str(f)])
    assert r.exit_code == 1
    for word in ("parent_not_found", "unknown_value", "out_of_range", "nothing written"):
        assert word in r.output
    assert _count(cli_db) == 0
    r = CliRunner().invoke(app, ["import", "org", str(f), "--json"])
    rules = sorted((e["row"], e["rule"]) for e in json.loads(r.output)["errors"])
    assert r.exit_code == 1
    assert rules == [
        (2, "parent_not_found"),
        (3, "out_of_range"),
        (3, "parent_not_found"),
        (3, "unknown_value"),
    ]


def test_indicators_and_weights_through_the_cli(cli_db: Engine, tmp_path: Path) -> None:
    runner = CliRunner()
    (tmp_path / "i.xlsx").write_bytes(xlsx_bytes(IND_ZH))
    (tmp_path / "w.csv").write_bytes(csv_bytes(W_ZH, "utf-8-sig"))
    assert runner.invoke(app, ["import", "indicators", str(tmp_path / "i.xlsx")]).exit_code == 0
    r = runner.invoke(app, ["import", "weights", str(tmp_path / "w.csv")])
    assert r.exit_code == 0 and "2 created" in r.output, r.output
    for kind in ("indicators", "weights"):
        out = tmp_path / f"{kind}.csv"
        assert runner.invoke(app, ["export", kind, str(out)]).exit_code == 0
        r = runner.invoke(app, ["import", kind, str(out)])
        assert r.exit_code == 0 and "0 created, 0 updated" in r.output, r.output
    r = runner.invoke(app, ["export", "org", str(tmp_path / "x.txt")])
    assert r.exit_code == 2


def test_unmigrated_database_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SQM_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()
    try:
        (tmp_path / "u.csv").write_bytes(csv_bytes(ORG_ZH))
        r = CliRunner().invoke(app, ["import", "org", str(tmp_path / "u.csv")])
    finally:
        get_settings.cache_clear()
    assert r.exit_code == 2 and "sqm db upgrade" in r.output
