"""Export → import round trips on the demo organisation (392 units, the plan's indicator
system, 8 tier × stage weight profiles): importing an export changes nothing (no update,
no audit entry) in every format and language, and an export imported into an empty
database exports back to the same file."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from sqm.services.evaluation.weight_profile import import_weight_profiles
from sqm.services.exports import export_table
from sqm.services.imports import import_indicator_systems, import_org_units
from sqm.store.engine import make_sessionmaker

from .conftest import audit_count, run

IMPORTERS = {
    "org": import_org_units,
    "indicators": import_indicator_systems,
    "weights": import_weight_profiles,
}


@pytest.mark.parametrize("kind", ["org", "indicators", "weights"])
@pytest.mark.parametrize(
    ("fmt", "lang"), [("csv", "zh"), ("csv", "en"), ("xlsx", "zh"), ("xlsx", "en")]
)
def test_export_then_import_changes_nothing(
    demo_engine: Engine, kind: str, fmt: str, lang: str
) -> None:
    with make_sessionmaker(demo_engine)() as s:
        data = export_table(s, kind, fmt=fmt, lang=lang)  # type: ignore[arg-type]
    n_audit = audit_count(demo_engine)
    report = run(demo_engine, IMPORTERS[kind], data, f"export.{fmt}")
    assert report.ok, report.format_table()
    assert not report.ignored_columns
    assert (report.created, report.updated, report.deleted) == (0, 0, 0)
    assert report.unchanged == {"org": 392, "indicators": 50, "weights": 8}[kind]
    assert audit_count(demo_engine) == n_audit


def test_export_into_an_empty_database_exports_back_the_same(
    demo_engine: Engine, sqlite_engine: Engine
) -> None:
    with make_sessionmaker(demo_engine)() as s:
        files = {k: export_table(s, k, fmt="csv", lang="zh") for k in IMPORTERS}  # type: ignore[arg-type]
    for kind in ("org", "indicators", "weights"):
        report = run(sqlite_engine, IMPORTERS[kind], files[kind], f"{kind}.csv")
        assert report.ok and report.created > 0, report.format_table()
    with make_sessionmaker(sqlite_engine)() as s:
        for kind, data in files.items():
            assert export_table(s, kind, fmt="csv", lang="zh") == data, kind  # type: ignore[arg-type]


def test_export_of_a_scope_lists_only_that_subtree(demo_engine: Engine) -> None:
    from sqlalchemy import select

    from sqm.store.models import OrgUnit

    with make_sessionmaker(demo_engine)() as s:
        gz = s.scalars(select(OrgUnit).where(OrgUnit.code == "GD-GZ")).one()
        n = len(list(s.scalars(select(OrgUnit).where(OrgUnit.path.startswith(gz.path)))))
        text = export_table(s, "org", fmt="csv", lang="en", scope_paths=(gz.path,)).decode(
            "utf-8-sig"
        )
    lines = text.strip().splitlines()
    assert len(lines) == n + 1 and lines[1].startswith("GD-GZ,")
    assert all(ln.startswith("GD-GZ") for ln in lines[1:])
