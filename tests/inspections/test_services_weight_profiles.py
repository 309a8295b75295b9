"""The checklists' weight profiles in the one weight-profile table: the migration that moved
them there (SQLite and PostgreSQL), the editor's revisions and history, scoring with the
saved profile, the JSON API and the import/export round trip."""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine, MetaData, insert, select, text

from conftest import PG_ON, PG_SKIP, PG_URL
from sqm.domain.checklist_template import ProfileKey
from sqm.services.evaluation import weight_profile as wp
from sqm.services.exports import export_weight_profiles
from sqm.services.inspections import design
from sqm.services.inspections import visits as iv
from sqm.store.engine import make_engine, make_sessionmaker, transaction
from sqm.store.migrate import alembic_config, upgrade
from sqm.store.models import WeightProfile
from sqm.store.models.indicator import ProfileKind
from sqm.store.models.inspection import InspectionChecklist

KEY = ProfileKey.parse("partner.in.early.normal")
OTHER = ProfileKey.parse("flagship_core.any.mature.high")
T0 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)


# ------------------------------------------------------------------ the migration


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def blank_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database (SQLite file or a fresh PostgreSQL schema), not migrated."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
        yield eng
        eng.dispose()
        return
    if not PG_ON:
        pytest.skip(PG_SKIP)
    schema = f"sqm_mig_{os.getpid()}"
    admin = make_engine(PG_URL)
    with admin.begin() as c:
        c.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        c.execute(text(f"CREATE SCHEMA {schema}"))
    eng = make_engine(f"{PG_URL}?options=-csearch_path%3D{schema}")
    yield eng
    eng.dispose()
    with admin.begin() as c:
        c.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()


def _row(meta: MetaData, conn: Any, table: str, **values: Any) -> int:
    stamps = {"created_at": T0, "updated_at": T0}
    cols = meta.tables[table].c
    values = {**{k: v for k, v in stamps.items() if k in cols}, **values}
    pk = conn.execute(insert(meta.tables[table]).values(**values)).inserted_primary_key
    assert pk is not None
    return int(pk[0])


def test_migration_moves_the_inspection_profiles_with_their_history(blank_engine: Engine) -> None:
    upgrade(blank_engine, "0201_inspection_weight_profiles")
    meta = MetaData()
    meta.reflect(blank_engine)
    with blank_engine.begin() as c:
        user = _row(
            meta,
            c,
            "app_user",
            username="analyst",
            display_name="A",
            password_hash="x",
            locale="zh",
            active=True,
        )
        system = _row(
            meta,
            c,
            "indicator_system",
            code="SYS",
            version=1,
            name_zh="体系",
            name_en="",
            status="published",
        )
        nodes = [
            _row(
                meta,
                c,
                "indicator_node",
                system_id=system,
                code=code,
                level="dimension",
                name_zh=code,
                name_en="",
                definition_zh="",
                definition_en="",
                direction="higher",
                is_veto=False,
                sort_order=i,
            )
            for i, code in enumerate(("D1", "D2"))
        ]
        prof = _row(
            meta,
            c,
            "weight_profile",
            code="WP.partner",
            name_zh="合作店",
            name_en="",
            system_id=system,
            tier="partner",
            valid_from="2026-01",
            method="manual",
            inputs={},
        )
        for node, w in zip(nodes, (0.6, 0.4), strict=True):
            _row(meta, c, "weight", profile_id=prof, node_id=node, weight=w)
        cl = _row(
            meta,
            c,
            "inspection_checklist",
            code="CL",
            version=2,
            name_zh="检查表",
            name_en="Checklist",
            definition={},
            active=True,
        )
        old: list[int] = []
        for tier, prov, stage, traffic, w, active in (
            ("partner", True, "early", "normal", {"a": 0.5, "b": 0.5}, False),
            ("flagship_core", None, "mature", "high", {"a": 0.1, "b": 0.9}, True),
            ("partner", True, "early", "normal", {"a": 0.3, "b": 0.7}, True),
        ):
            old.append(
                _row(
                    meta,
                    c,
                    "inspection_weight_profile",
                    checklist_id=cl,
                    tier=tier,
                    in_province=prov,
                    stage=stage,
                    traffic=traffic,
                    weights=w,
                    method="ahp",
                    inputs={"cr": 0.01},
                    note=f"n{len(old)}",
                    created_by_id=user,
                    active=active,
                )
            )
        unit = _row(
            meta,
            c,
            "org_unit",
            code="S1",
            name_zh="店",
            name_en="",
            kind="store",
            path="/1/",
            depth=0,
            status="open",
        )
        period = _row(
            meta,
            c,
            "period",
            code="2026-10",
            kind="month",
            start=T0.date(),
            end=T0.date(),
            status="open",
        )
        visit = _row(
            meta,
            c,
            "inspection_visit",
            checklist_id=cl,
            unit_id=unit,
            period_id=period,
            inspector_id=user,
            team=[],
            mode="covert",
            purpose="regular",
            purchase_made=False,
            answers={},
            item_notes={},
            overturned=[],
            notes="",
            status="accepted",
            review_reasons=[],
            section_scores={},
            vetoed=[],
            profile_code=f"CL.v2.partner.in.early.normal@{old[2]}",
        )

    upgrade(blank_engine)

    with make_sessionmaker(blank_engine)() as s:
        moved = list(
            s.scalars(
                select(WeightProfile)
                .where(WeightProfile.kind == ProfileKind.CHECKLIST)
                .order_by(WeightProfile.id)
            )
        )
        got = [
            (
                p.code,
                p.checklist_id,
                p.tier,
                p.in_province,
                p.stage,
                p.traffic_band,
                p.checklist_weights,
                p.method,
                p.inputs,
                p.note,
                p.created_by_id,
                p.active,
                p.system_id,
                p.valid_from,
            )
            for p in moved
        ]
        assert got == [
            (
                "CL.v2.partner.in.early.normal.r1",
                cl,
                "partner",
                True,
                "early",
                "normal",
                {"a": 0.5, "b": 0.5},
                "ahp",
                {"cr": 0.01},
                "n0",
                user,
                False,
                None,
                None,
            ),
            (
                "CL.v2.flagship_core.any.mature.high.r1",
                cl,
                "flagship_core",
                None,
                "mature",
                "high",
                {"a": 0.1, "b": 0.9},
                "ahp",
                {"cr": 0.01},
                "n1",
                user,
                True,
                None,
                None,
            ),
            (
                "CL.v2.partner.in.early.normal.r2",
                cl,
                "partner",
                True,
                "early",
                "normal",
                {"a": 0.3, "b": 0.7},
                "ahp",
                {"cr": 0.01},
                "n2",
                user,
                True,
                None,
                None,
            ),
        ]
        assert all(p.created_at.replace(tzinfo=UTC) == T0 for p in moved if p.created_at)
        # the visit names the weights that scored it under their new id
        code = s.execute(
            text("SELECT profile_code FROM inspection_visit WHERE id = :v"), {"v": visit}
        ).scalar()
        assert code == f"CL.v2.partner.in.early.normal@{moved[2].id}"
        # the evaluation's profile and its weights came through the table's rebuild
        ev = s.scalar(select(WeightProfile).where(WeightProfile.code == "WP.partner"))
        assert ev is not None and ev.kind == ProfileKind.INDICATOR_SYSTEM and ev.active
        assert sorted((w.node.code, w.weight) for w in ev.weights) == [("D1", 0.6), ("D2", 0.4)]
    reflected = MetaData()
    reflected.reflect(blank_engine)
    assert "inspection_weight_profile" not in reflected.tables

    # and back: the rows return to their own table, the visit names them again
    cfg = alembic_config(blank_engine.url.render_as_string(hide_password=False))
    with blank_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0201_inspection_weight_profiles")
    with blank_engine.connect() as c:
        back = c.execute(
            text(
                "SELECT id, tier, weights, note, active FROM inspection_weight_profile ORDER BY id"
            )
        ).all()
        assert [(r.tier, r.note, bool(r.active)) for r in back] == [
            ("partner", "n0", False),
            ("flagship_core", "n1", True),
            ("partner", "n2", True),
        ]
        code = c.execute(
            text("SELECT profile_code FROM inspection_visit WHERE id = :v"), {"v": visit}
        ).scalar()
        assert code == f"CL.v2.partner.in.early.normal@{back[2].id}"
        left = c.execute(text("SELECT code FROM weight_profile")).scalars().all()
        assert left == ["WP.partner"]
        assert c.execute(text("SELECT count(*) FROM weight")).scalar() == 2


# ------------------------------------------------------------------ editor, scoring


def _template(engine: Engine) -> int:
    with transaction(make_sessionmaker(engine)) as s:
        return iv.ensure_template_checklist(s).id


def _even(row: InspectionChecklist, bump: str | None = None) -> dict[str, float]:
    codes = [i.code for i in iv.checklist_of(row).indicators()]
    raw = {c: (3.0 if c == bump else 1.0) for c in codes}
    return {c: v / sum(raw.values()) for c, v in raw.items()}


def test_saves_are_revisions_of_one_key_and_scoring_reads_the_active_one(
    sqlite_engine: Engine,
) -> None:
    cid = _template(sqlite_engine)
    with transaction(make_sessionmaker(sqlite_engine)) as s:
        row = s.get(InspectionChecklist, cid)
        assert row is not None
        first = design.save_profile(
            s, row, KEY, _even(row), method="manual", inputs={}, note="a", user_id=None
        )
        second = design.save_profile(
            s, row, KEY, _even(row, "initiative"), method="manual", inputs={}, user_id=None
        )
        other = design.save_profile(
            s, row, OTHER, _even(row), method="manual", inputs={}, user_id=None
        )
        prefix = f"{row.code}.v{row.version}"
        assert (first.code, second.code, other.code) == (
            f"{prefix}.{KEY.slug}.r1",
            f"{prefix}.{KEY.slug}.r2",
            f"{prefix}.{OTHER.slug}.r1",
        )
        assert (first.kind, first.checklist_id, first.system_id) == ("checklist", cid, None)
        assert [p.id for p in design.profile_history(s, row, KEY)] == [second.id, first.id]
        assert (first.active, second.active) == (False, True)
        # scoring weighs the key's stores with the active revision, named by its row
        cl = iv.checklist_of(row)
        used = iv.weight_profile_of(s, row, cl, KEY)
        assert used.code == f"{prefix}.{KEY.slug}@{second.id}"
        assert used.indicator_weights["initiative"] == pytest.approx(
            3 * used.indicator_weights["affinity"]
        )
        # the evaluation never takes a checklist profile for a store
        assert wp.profile_for_store(s, "partner", True, "2026-10") is None
        assert design.reset_profile(s, row, KEY) == 1
        assert iv.weight_profile_of(s, row, cl, KEY) == iv.template_for(KEY, cl)
        # an API-style upsert cannot overwrite a checklist profile
        with pytest.raises(wp.WeightRuleError, match="checklist"):
            wp.upsert_profile(
                s,
                code=second.code,
                name_zh="x",
                name_en="",
                system=_a_system(s),
                weights={},
                valid_from="2026-01",
            )


def _a_system(s: Any) -> Any:
    from sqm.store.models import IndicatorSystem

    system = IndicatorSystem(code="X", version=1, name_zh="x")
    s.add(system)
    s.flush()
    return system


# ------------------------------------------------------------------ the API


def test_the_api_lists_and_reads_checklist_profiles_with_their_kind(
    demo_engine: Engine, client_as: Any
) -> None:
    cid = _template(demo_engine)
    with transaction(make_sessionmaker(demo_engine)) as s:
        row = s.get(InspectionChecklist, cid)
        assert row is not None
        saved = design.save_profile(
            s, row, KEY, _even(row), method="manual", inputs={"x": 1}, note="试行", user_id=None
        )
        code = saved.code
    c: TestClient = client_as("analyst")
    listed = {x["code"]: x for x in c.get("/api/v1/weight-profiles").json()}
    assert listed[code]["kind"] == "checklist" and listed[code]["checklist_code"] == row.code
    assert {x["kind"] for x in listed.values()} == {"checklist", "indicator_system"}
    one = c.get(f"/api/v1/weight-profiles/{code}").json()
    assert (one["tier"], one["in_province"], one["stage"], one["traffic_band"]) == (
        "partner",
        True,
        "early",
        "normal",
    )
    assert (one["note"], one["active"], one["system_code"], one["inputs"]) == (
        "试行",
        True,
        None,
        {"x": 1},
    )
    assert sum(one["weights"].values()) == pytest.approx(1.0)
    body = {
        "code": code,
        "name_zh": "x",
        "system_code": "STORE_SQ",
        "valid_from": "2026-01",
        "weights": {},
    }
    r = c.put(f"/api/v1/weight-profiles/{code}", json=body)
    assert r.status_code == 422 and "checklist" in r.json()["error"]["message"]
    # the evaluation's weights page leaves checklist profiles to the inspection design
    assert c.get("/weights").status_code == 200
    assert code not in c.get("/weights").text


# ------------------------------------------------------------------ import / export


def _import(engine: Engine, data: bytes, name: str = "w.csv") -> Any:
    with transaction(make_sessionmaker(engine)) as s:
        return wp.import_weight_profiles(s, data, name)


def _export(engine: Engine, lang: str = "zh") -> bytes:
    with make_sessionmaker(engine)() as s:
        return export_weight_profiles(s, lang=lang)  # type: ignore[arg-type]


def test_import_export_round_trip_of_a_checklist_profile(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    cid = _template(sqlite_engine)
    with transaction(make_sessionmaker(sqlite_engine)) as s:
        row = s.get(InspectionChecklist, cid)
        assert row is not None
        design.save_profile(
            s,
            row,
            KEY,
            _even(row, "initiative"),
            method="ahp",
            inputs={"cr": 0.02},
            note="专家",
            user_id=None,
        )
        design.save_profile(s, row, OTHER, _even(row), method="manual", inputs={}, user_id=None)
        design.reset_profile(s, row, OTHER)  # retired: not exported
        weights = {
            k: float(v) for k, v in design.profile_history(s, row, KEY)[0].checklist_weights.items()
        }  # type: ignore[union-attr]
    for lang in ("zh", "en"):
        data = _export(sqlite_engine, lang)
        rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
        assert len(rows) == len(weights)  # one profile in force, one row per indicator
        again = _import(sqlite_engine, data)
        assert again.ok, again.format_table()
        assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    # into another database with the same checklist: the profile arrives as it was
    other = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    upgrade(other)
    _template(other)
    report = _import(other, _export(sqlite_engine, "en"))
    assert (report.created, report.updated, report.unchanged) == (1, 0, 0)
    with make_sessionmaker(other)() as s:
        row = s.scalar(select(InspectionChecklist))
        assert row is not None
        got = wp.active_checklist_profile(s, row.id, KEY)
        assert got is not None
        assert (got.method, got.inputs, got.note) == ("ahp", {"cr": 0.02}, "专家")
        assert got.checklist_weights == pytest.approx(weights)
        assert wp.active_checklist_profile(s, row.id, OTHER) is None
    other.dispose()
    # a changed weight is a new revision; the old one stays as history
    text_ = _export(sqlite_engine, "en").decode("utf-8-sig")
    new_init, new_aff = weights["initiative"] - 0.02, weights["affinity"] + 0.02
    changed = re.sub(r"(,initiative,)[0-9.e-]+", lambda m: f"{m.group(1)}{new_init!r}", text_)
    changed = re.sub(r"(,affinity,)[0-9.e-]+", lambda m: f"{m.group(1)}{new_aff!r}", changed)
    report = _import(sqlite_engine, changed.encode())
    assert report.ok, report.format_table()
    assert (report.created, report.updated, report.unchanged) == (0, 1, 0)
    with make_sessionmaker(sqlite_engine)() as s:
        row = s.get(InspectionChecklist, cid)
        assert row is not None
        hist = design.profile_history(s, row, KEY)
        assert [p.code.rsplit(".", 1)[1] for p in hist] == ["r2", "r1"]
        assert hist[0].checklist_weights is not None
        assert hist[0].checklist_weights["initiative"] == pytest.approx(new_init)


def test_a_bad_checklist_profile_is_refused_cell_by_cell(sqlite_engine: Engine) -> None:
    cid = _template(sqlite_engine)
    with make_sessionmaker(sqlite_engine)() as s:
        row = s.get(InspectionChecklist, cid)
        assert row is not None
        code = row.code
    head = "profile_code,checklist_code,system_code,tier,stage,traffic_band,valid_from,node_code,weight"
    lines = [
        head,
        f"C1,{code},,partner,early,normal,,initiative,0.5",
        f"C1,{code},,,,,,nope,0.5",  # unknown indicator; the others left out; 2026 not allowed
        f"C2,{code},STORE_SQ,partner,early,normal,,initiative,1",  # both kinds
        f"C3,{code},,partner,,normal,2026-01,initiative,1",  # no stage, a period
    ]
    report = _import(sqlite_engine, "\n".join(lines).encode())
    assert not report.ok
    rules = {(e.row, e.rule) for e in report.errors}
    assert {(3, "unknown_node"), (2, "required"), (4, "required"), (5, "required")} <= rules
    assert (5, "not_allowed") in rules
    with make_sessionmaker(sqlite_engine)() as s:
        assert wp.all_profiles(s, ProfileKind.CHECKLIST) == []
