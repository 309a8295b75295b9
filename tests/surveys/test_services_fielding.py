"""Fielding: stored instrument versions, waves, all-or-nothing submissions under
concurrency (SQLite and PostgreSQL), tokens, amendments, answers back for analysis."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from sqm.domain.instrument import Text
from sqm.domain.instrument_templates import SERVQUAL_ITEMS, nps_csat, servqual
from sqm.domain.wave import FullPolicy, LinkMode
from sqm.services.surveys import fielding
from sqm.services.surveys.links import LinkError, LinkSigner, SubmissionGuard
from sqm.store.engine import make_sessionmaker
from sqm.store.group_commit import GroupCommit
from sqm.store.models import OrgUnit, Period, SurveyQuota, SurveyResponse, SurveyWave

SIGNER = LinkSigner(b"fielding-test-secret-0123456789")


def _org(session: Session, n_stores: int = 3) -> list[OrgUnit]:
    company = OrgUnit(code="C", name_zh="公司", kind="company", path="/")
    session.add(company)
    session.flush()
    province = OrgUnit(code="P1", name_zh="广东", kind="province", parent_id=company.id, path="/")
    session.add(province)
    session.flush()
    city = OrgUnit(code="CT1", name_zh="广州", kind="city", parent_id=province.id, path="/")
    session.add(city)
    session.flush()
    stores = [
        OrgUnit(
            code=f"S{i}",
            name_zh=f"门店{i}",
            kind="store",
            parent_id=city.id,
            path="/",
            tier="flagship",
            traffic=1000 * (i + 1),
        )
        for i in range(n_stores)
    ]
    session.add_all(stores)
    session.flush()
    return stores


def _period(session: Session) -> Period:
    p = Period(code="2026-10", kind="month", start=date(2026, 10, 1), end=date(2026, 10, 31))
    session.add(p)
    session.flush()
    return p


@pytest.fixture
def nps_wave(any_engine: Engine) -> Iterator[tuple[Engine, dict[str, object]]]:
    factory = make_sessionmaker(any_engine)
    with factory() as s:
        stores = _org(s)
        period = _period(s)
        inst = fielding.store_instrument(s, nps_csat())
        fielding.create_wave(
            s, code="W1", period=period, instrument=inst, stores=stores, total=15, minimum=5
        )
        fielding.create_wave(
            s,
            code="W2",
            period=period,
            instrument=inst,
            stores=stores,
            total=15,
            full_policy=FullPolicy.CLOSE,
        )
        tokens = fielding.create_wave(
            s,
            code="W3",
            period=period,
            instrument=inst,
            stores=stores,
            total=15,
            link_mode=LinkMode.TOKEN,
        )
        issued = fielding.issue_tokens(s, SIGNER, tokens, stores[0], 3)
        s.commit()
        info = {"stores": [x.code for x in stores], "issued": issued}
    yield any_engine, info


def _target(engine: Engine, token: str) -> fielding.LinkTarget:
    with make_sessionmaker(engine)() as s:
        return fielding.resolve_link(s, SIGNER, token)


GOOD = {"nps": 9, "csat": 5, "segment": 1}


def test_many_parallel_submissions_are_all_stored_once(
    nps_wave: tuple[Engine, dict[str, object]],
) -> None:
    engine, _ = nps_wave
    factory = make_sessionmaker(engine)
    target = _target(engine, SIGNER.open_link("W1", "S0"))
    n = 60
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(lambda i: fielding.submit(factory, target, {**GOOD, "nps": i % 11}), range(n))
        )
    assert all(r.outcome.stored for r in results)
    with factory() as s:
        stored = s.scalar(
            select(func.count(SurveyResponse.id)).where(SurveyResponse.wave_id == target.wave_id)
        )
        quota = s.scalars(
            select(SurveyQuota).where(
                SurveyQuota.wave_id == target.wave_id, SurveyQuota.unit_id == target.unit_id
            )
        ).one()
    assert stored == n
    assert quota.achieved == quota.target and quota.achieved + quota.over_quota == n
    assert sum(r.outcome is fielding.Outcome.ACCEPTED for r in results) == quota.target
    assert len({r.response_id for r in results}) == n


def test_closed_cell_takes_exactly_its_quota_under_concurrency(
    nps_wave: tuple[Engine, dict[str, object]],
) -> None:
    engine, _ = nps_wave
    factory = make_sessionmaker(engine)
    target = _target(engine, SIGNER.open_link("W2", "S0"))
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: fielding.submit(factory, target, GOOD), range(30)))
    with factory() as s:
        stored = s.scalar(
            select(func.count(SurveyResponse.id)).where(SurveyResponse.wave_id == target.wave_id)
        )
        quota = s.scalars(
            select(SurveyQuota).where(
                SurveyQuota.wave_id == target.wave_id, SurveyQuota.unit_id == target.unit_id
            )
        ).one()
    assert stored == quota.target == sum(r.outcome.stored for r in results)
    assert sum(r.outcome is fielding.Outcome.CELL_CLOSED for r in results) == 30 - quota.target


def test_a_token_is_used_once_even_in_parallel(nps_wave: tuple[Engine, dict[str, object]]) -> None:
    engine, info = nps_wave
    factory = make_sessionmaker(engine)
    token = info["issued"][0]  # type: ignore[index]
    target = _target(engine, token)
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda _: fielding.submit(factory, target, GOOD), range(12)))
    assert sum(r.outcome.stored for r in results) == 1
    assert sum(r.outcome is fielding.Outcome.TOKEN_USED for r in results) == 11
    with factory() as s:
        assert fielding.token_state(s, target) == "used"


def test_refusals(nps_wave: tuple[Engine, dict[str, object]]) -> None:
    engine, _ = nps_wave
    factory = make_sessionmaker(engine)
    with pytest.raises(LinkError):
        _target(engine, SIGNER.open_link("W1", "NOPE"))
    with pytest.raises(LinkError):  # a made-up single-use token for a token wave
        _target(engine, SIGNER.open_link("W3", "S0").replace("o.", "t.", 1))
    target = _target(engine, SIGNER.open_link("W1", "S1"))
    bad = fielding.submit(factory, target, {"nps": 12, "csat": 5, "segment": 1})
    assert bad.outcome is fielding.Outcome.INVALID and bad.errors[0].field == "nps"
    closed = fielding.submit(factory, replace(target, status="closed"), GOOD)
    assert closed.outcome is fielding.Outcome.WAVE_CLOSED
    guard = SubmissionGuard()
    assert fielding.submit(factory, target, GOOD, client="c", guard=guard).outcome.stored
    assert (
        fielding.submit(factory, target, GOOD, client="c", guard=guard).outcome
        is fielding.Outcome.DUPLICATE
    )
    with factory() as s:
        assert (
            s.scalar(
                select(func.count(SurveyResponse.id)).where(
                    SurveyResponse.unit_id == target.unit_id
                )
            )
            == 1
        )


def _pending(
    target: fielding.LinkTarget, answers: dict[str, int] = GOOD
) -> fielding.PendingSubmission:
    p = fielding.prepare_submission(target, answers)
    assert isinstance(p, fielding.PendingSubmission)
    return p


def test_one_batch_decides_every_submission_as_if_alone(
    nps_wave: tuple[Engine, dict[str, object]],
) -> None:
    """A group commit's batch: the closed-policy cell takes exactly its 5 places, a token
    sent twice in one batch is used once, and the cell's over-quota policy still applies."""
    engine, info = nps_wave
    factory = make_sessionmaker(engine)
    closing = _target(engine, SIGNER.open_link("W2", "S0"))
    open_ = _target(engine, SIGNER.open_link("W1", "S1"))
    token = _target(engine, info["issued"][0])  # type: ignore[index]
    with factory() as s:
        targets = {
            (q.wave_id, q.unit_id): q.target
            for q in s.scalars(select(SurveyQuota).where(SurveyQuota.segment == "*"))
        }
    places = targets[(closing.wave_id, closing.unit_id)]
    room = targets[(open_.wave_id, open_.unit_id)]
    batch = [_pending(closing) for _ in range(places + 2)]
    batch += [_pending(token), _pending(token)]
    batch += [_pending(open_) for _ in range(room + 3)]
    with factory() as s:
        results = fielding.write_submissions(s, batch)
        s.commit()
    outcomes = [r.outcome for r in results]
    assert outcomes[:places] == [fielding.Outcome.ACCEPTED] * places
    assert outcomes[places : places + 2] == [fielding.Outcome.CELL_CLOSED] * 2
    assert sorted(outcomes[places + 2 : places + 4]) == sorted(
        [fielding.Outcome.ACCEPTED, fielding.Outcome.TOKEN_USED]
    )
    assert (
        outcomes[places + 4 :]
        == [fielding.Outcome.ACCEPTED] * room + [fielding.Outcome.ACCEPTED_OVER_QUOTA] * 3
    )
    with factory() as s:
        rows = s.execute(
            select(SurveyResponse.id, SurveyResponse.wave_id, SurveyResponse.over_quota)
        ).all()
        over = s.scalar(
            select(SurveyQuota.over_quota).where(
                SurveyQuota.wave_id == open_.wave_id, SurveyQuota.unit_id == open_.unit_id
            )
        )
    stored_ids = [r.response_id for r in results if r.outcome.stored]
    assert sorted(stored_ids) == sorted(r.id for r in rows)  # ids returned in request order
    assert len(rows) == places + 1 + room + 3 and over == 3


def test_a_wave_closed_after_its_link_was_read_is_refused_at_once(
    nps_wave: tuple[Engine, dict[str, object]],
) -> None:
    """The link cache may still say "open": the write re-reads the wave, and only that
    wave's answers are refused; the rest of the batch is stored."""
    engine, _ = nps_wave
    factory = make_sessionmaker(engine)
    stale = _target(engine, SIGNER.open_link("W1", "S0"))
    other = _target(engine, SIGNER.open_link("W2", "S1"))
    with factory() as s:
        s.get_one(SurveyWave, stale.wave_id).status = "closed"
        s.commit()
    with factory() as s:
        results = fielding.write_submissions(s, [_pending(stale), _pending(other), _pending(stale)])
        s.commit()
    assert [r.outcome for r in results] == [
        fielding.Outcome.WAVE_CLOSED,
        fielding.Outcome.ACCEPTED,
        fielding.Outcome.WAVE_CLOSED,
    ]
    with factory() as s:
        assert s.scalar(select(func.count(SurveyResponse.id))) == 1
        assert s.scalar(select(func.sum(SurveyQuota.achieved))) == 1


def test_group_commit_stores_every_parallel_submission_once(
    nps_wave: tuple[Engine, dict[str, object]],
) -> None:
    """Many threads hand submissions to one group commit (as the web page does): every
    answer is stored exactly once with its own id, and the closed cell takes exactly its
    quota."""
    engine, _ = nps_wave
    factory = make_sessionmaker(engine)
    writer = GroupCommit(factory, fielding.write_submissions, name="test")
    open_ = _target(engine, SIGNER.open_link("W1", "S2"))
    closing = _target(engine, SIGNER.open_link("W2", "S2"))
    n = 120
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(
            pool.map(lambda i: writer.submit_wait(_pending(open_ if i % 2 else closing)), range(n))
        )
    with factory() as s:
        quota = {
            q.wave_id: q
            for q in s.scalars(select(SurveyQuota).where(SurveyQuota.unit_id == open_.unit_id))
        }
        stored = s.scalar(select(func.count(SurveyResponse.id)))
    accepted = [r for r in results if r.outcome.stored]
    assert stored == len(accepted) == n // 2 + quota[closing.wave_id].target
    assert len({r.response_id for r in accepted}) == len(accepted)
    assert quota[open_.wave_id].achieved + quota[open_.wave_id].over_quota == n // 2
    assert (
        sum(r.outcome is fielding.Outcome.CELL_CLOSED for r in results)
        == n // 2 - quota[closing.wave_id].target
    )
    assert writer.items == n and 1 <= writer.batches <= n


def test_versions_and_amendments(sqlite_engine: Engine) -> None:
    factory = make_sessionmaker(sqlite_engine)
    with factory() as s:
        stores = _org(s, 1)
        period = _period(s)
        v1 = fielding.store_instrument(s, servqual())
        assert fielding.store_instrument(s, servqual()).id == v1.id
        wave = fielding.create_wave(
            s, code="SQ", period=period, instrument=v1, stores=stores, total=5
        )
        s.commit()
    target = _target(sqlite_engine, SIGNER.open_link("SQ", "S0"))
    answers: dict[str, object] = {f"{c}_{f}": 5 for c, *_ in SERVQUAL_ITEMS for f in "ep"}
    answers.update(
        imp_tangibles=20,
        imp_reliability=20,
        imp_responsiveness=20,
        imp_assurance=20,
        imp_empathy=20,
        segment=2,
        age_band=1,
        tenure=1,
        product=1,
    )
    result = fielding.submit(factory, target, answers)
    assert result.outcome is fielding.Outcome.ACCEPTED
    with factory() as s:
        edited = replace(servqual(), name=Text("改", "Edited"))
        v2 = fielding.store_instrument(s, edited)
        assert (v2.version, v2.id != v1.id) == (2, True)  # answers exist → new version
        response = s.get_one(SurveyResponse, result.response_id)
        assert response.instrument_id == v1.id  # answers keep their version
        fielding.amend(s, response.id, {"T1_p": 2}, reason="typed on the wrong line", user_id=None)
        with pytest.raises(ValueError, match="break the instrument"):
            fielding.amend(s, response.id, {"T1_p": 9}, reason="x", user_id=None)
        with pytest.raises(ValueError, match="reason"):
            fielding.amend(s, response.id, {"T1_p": 3}, reason=" ", user_id=None)
        s.commit()
        assert response.answers["T1_p"] == 5  # the original stays as written
        response.answers = {**response.answers, "T1_p": 1}
        with pytest.raises(ValueError, match="immutable"):
            s.commit()
        s.rollback()
        frame = fielding.answers_frame(s, [wave.id])
    assert frame.loc[0, "T1_p"] == 2 and frame.loc[0, "segment_name"] == "business"
    assert (frame.loc[0, "city"], frame.loc[0, "province"]) == ("广州", "广东")


def test_import_into_a_wave_is_all_or_nothing(sqlite_engine: Engine, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from sqm.cli.main import app

    factory = make_sessionmaker(sqlite_engine)
    with factory() as s:
        stores = _org(s, 3)
        period = _period(s)
        fielding.create_wave(
            s,
            code="TOK",
            period=period,
            instrument=fielding.store_instrument(s, nps_csat()),
            stores=stores,
            total=15,
            link_mode=LinkMode.TOKEN,
        )
        fielding.create_wave(
            s,
            code="IMP",
            period=period,
            instrument=fielding.store_instrument(s, nps_csat()),
            stores=stores,
            total=15,
        )
        s.commit()
    data = Path(__file__).parent / "data"
    csv = tmp_path / "wjx.csv"
    # the test export names stores S001/S002; this wave's stores are S0..S2
    csv.write_text(
        (data / "wjx_nps_csat.csv")
        .read_text(encoding="utf-8")
        .replace("S001", "S0")
        .replace("S002", "S1"),
        encoding="utf-8",
    )
    from sqm.config import get_settings

    monkeypatch.setenv("SQM_DATABASE_URL", str(sqlite_engine.url))
    get_settings.cache_clear()  # the CLI reads the settings of this test's database
    runner = CliRunner()
    result = runner.invoke(
        app, ["survey", "import", "IMP", str(csv), "--save-mapping", str(tmp_path / "m.json")]
    )
    assert result.exit_code == 0, result.output
    assert "imported 3 answers" in result.output
    # the same export again: refused whole, nothing counted twice
    again = runner.invoke(
        app, ["survey", "import", "IMP", str(csv), "--mapping", str(tmp_path / "m.json")]
    )
    assert again.exit_code == 1 and "already imported" in again.output
    bad = runner.invoke(app, ["survey", "import", "IMP", str(data / "wjx_nps_csat_bad.csv")])
    assert bad.exit_code == 1 and "nothing imported" in bad.output
    with factory() as s:
        wave = s.scalars(select(fielding.SurveyWave).where(fielding.SurveyWave.code == "IMP")).one()
        assert (
            s.scalar(select(func.count(SurveyResponse.id)).where(SurveyResponse.wave_id == wave.id))
            == 3
        )
        quota = fielding.quota_rows(s, wave).set_index("unit")
    assert quota.loc["S0", "achieved"] == 2 and quota.loc["S1", "achieved"] == 1
    out = tmp_path / "out.sav"
    assert runner.invoke(app, ["survey", "export", "IMP", str(out)]).exit_code == 0
    assert out.stat().st_size > 0
    tokens = runner.invoke(app, ["survey", "tokens", "IMP", "S0", "2"])
    assert tokens.exit_code == 1 and "open links" in tokens.output  # IMP is an open-link wave
    from sqm.config import Settings

    issued = runner.invoke(app, ["survey", "tokens", "TOK", "S1", "2"])
    assert issued.exit_code == 0, issued.output
    urls = issued.output.split()
    signer = LinkSigner(Settings().secret_key.encode().ljust(16, b"."))
    with factory() as s:
        for url in urls:
            target = fielding.resolve_link(s, signer, url.rsplit("/", 1)[1])
            assert target.single_use and target.unit_code == "S1"
            assert fielding.token_state(s, target) == "ok"
    get_settings.cache_clear()  # later tests get the settings of their own environment


def test_indicator_values_for_the_scorecards(sqlite_engine: Engine) -> None:
    from sqm.domain.instrument_templates import INTERCEPT_ITEMS, store_intercept
    from sqm.services.surveys.indicators import survey_values

    factory = make_sessionmaker(sqlite_engine)
    with factory() as s:
        stores = _org(s, 1)
        period = _period(s)
        fielding.create_wave(
            s,
            code="IC",
            period=period,
            instrument=fielding.store_instrument(s, store_intercept()),
            stores=stores,
            total=5,
        )
        s.commit()
        unit_id = stores[0].id
    target = _target(sqlite_engine, SIGNER.open_link("IC", "S0"))
    ratings = [(5, 10), (4, 9), (2, 3), (4, 7)]  # (every item and overall, NPS)
    for r, nps in ratings:
        given: dict[str, object] = {c: r for c, *_ in INTERCEPT_ITEMS}
        given.update(overall=r, nps=nps, segment=1, age_band=1, tenure=1, product=1)
        assert fielding.submit(factory, target, given).outcome.stored
    with factory() as s:
        values = survey_values(s, s.get_one(Period, period.id)).set_index("source_ref")
    mean = sum(r for r, _ in ratings) / 4
    assert values.loc["intercept.attitude", "value"] == pytest.approx(100 * (mean - 1) / 4)
    assert values.loc["intercept.after_sales", "n"] == 4
    assert values.loc["intercept.overall", "value"] == pytest.approx(100 * (mean - 1) / 4)
    # NPS: promoters 2 of 4, detractors 1 of 4 → 25
    assert values.loc["intercept.nps", "value"] == pytest.approx(25.0)
    assert (values["unit_id"] == unit_id).all() and len(values) == 15
