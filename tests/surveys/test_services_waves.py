"""Waves, quota plans, admission and quota progress; waves as a caller sees them
(:mod:`sqm.services.surveys.waves`: visibility by scope and the read models)."""

from __future__ import annotations

import doctest
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from sqm.domain.errors import MissingError, RuleError
from sqm.domain.instrument import Dimension, Group, Instrument, Option, Question, QuestionType, Text
from sqm.domain.wave import Admission, FullPolicy, QuotaCell, Wave, WaveStatus
from sqm.services.scope import Principal, principal_for
from sqm.services.surveys import export, fielding, links, quota
from sqm.services.surveys import waves as waves_svc  # the fixture ``waves`` takes the name
from sqm.services.surveys.links import QR_FORMATS, LinkSigner, open_links, qr_image
from sqm.services.surveys.quota import (
    achieved_counts,
    margin_calculator,
    plan_quotas,
    quota_progress,
    sample_size_for_margin,
)
from sqm.store.engine import make_sessionmaker
from sqm.store.models import OrgUnit, SurveyResponse, SurveyWave, User


def test_plan_by_traffic_with_minimum_worked_by_hand() -> None:
    # traffic 1000/300/50, total 40, minimum 5: C is held at 5; 35 shared 1000:300 →
    # 26.92 and 8.08 → largest remainder 27 and 8.
    cells = plan_quotas({"A": 1000, "B": 300, "C": 50}, 40)
    assert [(c.unit, c.segment, c.target) for c in cells] == [
        ("A", "*", 27),
        ("B", "*", 8),
        ("C", "*", 5),
    ]


def test_interlocked_plan() -> None:
    cells = plan_quotas({"A": 900, "B": 100}, 30, segment_shares={"business": 0.3, "ordinary": 0.7})
    got = {c.key: c.target for c in cells}
    # A: 25 → 7.5/17.5 → 8/17 (largest remainder, tie to the larger quota); B: 5 → 1.5/3.5 → 1/4
    assert sum(got.values()) == 30
    assert got[("A", "business")] + got[("A", "ordinary")] == 25
    assert got[("B", "business")] + got[("B", "ordinary")] == 5


@given(
    st.dictionaries(
        st.sampled_from([f"S{i}" for i in range(30)]), st.integers(0, 10_000), min_size=1
    ),
    st.integers(0, 500),
)
def test_plan_invariants(traffic: dict[str, int], extra: int) -> None:
    total = 5 * len(traffic) + extra
    cells = plan_quotas(traffic, total)
    assert sum(c.target for c in cells) == total
    assert min(c.target for c in cells) >= 5


def test_plan_refuses_a_total_below_the_minimum() -> None:
    with pytest.raises(RuleError, match="minimum"):
        plan_quotas({"A": 1, "B": 1}, 9)


def _wave(policy: FullPolicy, interlocked: bool = True) -> Wave:
    cells = (
        (QuotaCell("A", "business", 1), QuotaCell("A", "ordinary", 2))
        if interlocked
        else (QuotaCell("A", "*", 3),)
    )
    return Wave(
        "w1",
        "2026-10",
        "servqual",
        1,
        cells,
        full_policy=policy,
        status=WaveStatus.OPEN,
        interlocked=interlocked,
    )


@pytest.mark.parametrize(
    ("policy", "when_full"),
    [
        (FullPolicy.CLOSE, Admission.CELL_CLOSED),
        (FullPolicy.THANK_AND_END, Admission.SCREEN_OUT),
        (FullPolicy.OVER_QUOTA, Admission.ACCEPT_OVER_QUOTA),
    ],
)
def test_admission_by_full_policy(policy: FullPolicy, when_full: Admission) -> None:
    w = _wave(policy)
    assert w.admit("A", "business", {}) is Admission.ACCEPT
    full = {("A", "business"): 1}
    assert w.admit("A", "business", full) is when_full
    assert w.admit("A", "ordinary", full) is Admission.ACCEPT
    assert w.admit("Z", "ordinary", {}) is Admission.UNKNOWN_UNIT
    assert w.unit_open("A", {("A", "business"): 1, ("A", "ordinary"): 2}) == (
        policy is FullPolicy.OVER_QUOTA
    )
    assert when_full.stored == (policy is FullPolicy.OVER_QUOTA)


def test_closed_wave_refuses() -> None:
    from dataclasses import replace

    w = replace(_wave(FullPolicy.OVER_QUOTA), status=WaveStatus.CLOSED)
    assert w.admit("A", "business", {}) is Admission.WAVE_CLOSED


def test_wave_rules() -> None:
    with pytest.raises(RuleError, match="twice"):
        Wave("w", "p", "i", 1, (QuotaCell("A", "*", 1), QuotaCell("A", "*", 2)))
    with pytest.raises(RuleError, match="interlocked"):
        Wave("w", "p", "i", 1, (QuotaCell("A", "business", 1),))
    with pytest.raises(RuleError, match="≥ 0"):
        QuotaCell("A", "*", -1)


def test_progress_counts_only_in_quota_answers() -> None:
    w = _wave(FullPolicy.OVER_QUOTA)
    answers = pd.DataFrame(
        {
            "unit": ["A", "A", "A", "A"],
            "segment_name": ["business", "business", "ordinary", "ordinary"],
            "over_quota": [False, True, False, False],
        }
    )
    got = achieved_counts(answers, interlocked=True)
    assert got == {("A", "business"): 1, ("A", "ordinary"): 2}
    over = achieved_counts(
        answers[answers["over_quota"]].assign(over_quota=False), interlocked=True
    )
    progress = quota_progress(w, got, over)
    assert progress[["segment", "target", "achieved", "over_quota", "fill_pct"]].to_dict(
        "records"
    ) == [
        {"segment": "business", "target": 1, "achieved": 1, "over_quota": 1, "fill_pct": 100.0},
        {"segment": "ordinary", "target": 2, "achieved": 2, "over_quota": 0, "fill_pct": 100.0},
        {"segment": "*", "target": 3, "achieved": 3, "over_quota": 1, "fill_pct": 100.0},
    ]


def test_sample_size_calculator_matches_cochran() -> None:
    # Cochran (1977) §4.4: e = 0.05, p = 0.5, 95 % → n0 = 1.96² · 0.25 / 0.0025 = 384.1 → 385;
    # with N = 2000: 384.15 / (1 + 383.15/2000) = 322.4 → 323.
    assert sample_size_for_margin(0.05) == 385
    assert sample_size_for_margin(0.05, population=2000) == 323
    # mean score, sd 1.2 on a 7-point scale, ±0.2: (1.96·1.2/0.2)² = 138.3 → 139
    assert sample_size_for_margin(0.2, sd=1.2) == 139


# ---------------------------------------------------------------- waves as a caller sees them

DATA = Path(__file__).parent / "data"


def _principal(session: Session, username: str) -> Principal:
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None
    return principal_for(session, user)


def _unit_id(session: Session, code: object) -> int:
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == str(code)))
    assert unit is not None
    return unit.id


def _import_quick(session: Session, factory: sessionmaker[Session], w: dict[str, object]) -> int:
    """Import the three answers of the wjx sample into the ``quick`` wave (other stores)."""
    analyst = _principal(session, "analyst")
    scoped = waves_svc.visible_wave(session, analyst, int(str(w["quick"])))
    data = (DATA / "wjx_nps_csat.csv").read_text(encoding="utf-8")
    data = data.replace("S001", str(w["other"])).replace("S002", str(w["other"]))
    result = fielding.import_file(
        session, factory, scoped.wave, scoped.unit_ids, data.encode("utf-8"), "wjx.csv"
    )
    assert result.errors == [] and result.done == 3
    return scoped.wave.id


def test_a_wave_is_visible_when_one_of_its_stores_is_in_scope(
    demo_engine: Engine, waves: dict[str, object]
) -> None:
    with make_sessionmaker(demo_engine)() as s:
        manager, analyst = _principal(s, "store.manager"), _principal(s, "analyst")
        own, other = _unit_id(s, waves["own"]), _unit_id(s, waves["other"])
        scoped = waves_svc.visible_wave(s, manager, int(str(waves["sq"])))
        assert scoped.wave.code == "T-SQ"
        assert own in scoped.unit_ids and other not in scoped.unit_ids
        for wave_id in (int(str(waves["quick"])), 10**9):  # outside the scope, or no wave
            with pytest.raises(MissingError) as err:
                waves_svc.visible_wave(s, manager, wave_id)
            assert err.value.status_code == 404 and "in your scope" in str(err.value)
        assert waves_svc.visible_wave(s, analyst, int(str(waves["quick"]))).wave.code == "T-Q"
        nobody = Principal(0, "nobody", "", frozenset(), ())
        with pytest.raises(MissingError):
            waves_svc.visible_wave(s, nobody, int(str(waves["sq"])))


def test_wave_summaries_count_only_the_stores_in_scope(
    demo_engine: Engine, waves: dict[str, object]
) -> None:
    with make_sessionmaker(demo_engine)() as s:
        manager, analyst = _principal(s, "store.manager"), _principal(s, "analyst")
        mine = {w.code: w for w in waves_svc.wave_summaries(s, manager)}
        assert "T-Q" not in mine and {"T-SQ", "T-C", "T-T"} <= set(mine)
        everything = {w.code: w for w in waves_svc.wave_summaries(s, analyst)}
        assert everything["T-SQ"].target == 15 and everything["T-Q"].target == 10
        own_cells = fielding.quota_rows(
            s, s.get_one(SurveyWave, waves["sq"]), [_unit_id(s, waves["own"])]
        )
        assert mine["T-SQ"].target == int(own_cells["target"].sum()) < 15
        row = everything["T-SQ"].as_dict()
        assert list(row)[:3] == ["id", "code", "name"] and row["fill_pct"] == 0.0
        ids = [w.id for w in waves_svc.wave_summaries(s, analyst)]
        assert ids == sorted(ids, reverse=True)  # newest first


def test_responses_are_counted_and_amended_within_the_scope(
    demo_engine: Engine, waves: dict[str, object]
) -> None:
    factory = make_sessionmaker(demo_engine)
    with factory() as s:
        wave_id = _import_quick(s, factory, waves)
    with factory() as s:
        manager, analyst = _principal(s, "store.manager"), _principal(s, "analyst")
        scoped = waves_svc.visible_wave(s, analyst, wave_id)
        assert waves_svc.response_count(s, scoped) == 3
        sq = waves_svc.visible_wave(s, manager, int(str(waves["sq"])))
        assert waves_svc.response_count(s, sq) == 0
        rid = s.scalars(select(SurveyResponse.id).where(SurveyResponse.wave_id == wave_id)).first()
        assert rid is not None
        assert waves_svc.visible_response(s, analyst, rid).id == rid
        for response_id in (rid, 10**9):
            with pytest.raises(MissingError):
                waves_svc.visible_response(s, manager, response_id)


def test_a_bad_file_is_reported_row_by_row_and_nothing_is_imported(
    demo_engine: Engine, waves: dict[str, object]
) -> None:
    factory = make_sessionmaker(demo_engine)
    with factory() as s:
        scoped = waves_svc.visible_wave(s, _principal(s, "analyst"), int(str(waves["quick"])))
        bad = (DATA / "wjx_nps_csat_bad.csv").read_bytes()
        result = fielding.import_file(s, factory, scoped.wave, scoped.unit_ids, bad, "bad.csv")
        assert result.done is None and result.errors
        assert {"row", "column", "field", "zh", "en"} <= set(result.errors[0])
        # a store outside the caller's scope is refused like a store outside the wave
        manager_ids = [_unit_id(s, waves["own"])]
        data = (DATA / "wjx_nps_csat.csv").read_bytes()
        refused = fielding.import_file(s, factory, scoped.wave, manager_ids, data, "wjx.csv")
        assert refused.done is None and refused.errors
        assert waves_svc.response_count(s, scoped) == 0


def test_the_qr_store_must_be_in_scope_and_status_is_open_or_closed(
    demo_engine: Engine, waves: dict[str, object]
) -> None:
    with make_sessionmaker(demo_engine)() as s:
        scoped = waves_svc.visible_wave(s, _principal(s, "store.manager"), int(str(waves["sq"])))
        assert waves_svc.store_of_scope(s, scoped, str(waves["own"])).code == waves["own"]
        for code in (str(waves["other"]), "NO-SUCH-STORE"):
            with pytest.raises(MissingError):
                waves_svc.store_of_scope(s, scoped, code)
        waves_svc.set_status(scoped.wave, "closed")
        assert scoped.wave.status == "closed"
        with pytest.raises(RuleError, match="open' or 'closed"):
            waves_svc.set_status(scoped.wave, "draft")
        assert scoped.wave.status == "closed"


def test_answer_files_of_a_wave(demo_engine: Engine, waves: dict[str, object]) -> None:
    factory = make_sessionmaker(demo_engine)
    with factory() as s:
        wave_id = _import_quick(s, factory, waves)
    with factory() as s:
        scoped = waves_svc.visible_wave(s, _principal(s, "analyst"), wave_id)
        body = export.wave_answers_file(s, scoped.wave, scoped.unit_ids, "csv", "en")
        assert body.startswith("\ufeff".encode()) and body.decode("utf-8-sig").count("\n") == 4
        assert set(export.MEDIA_TYPES) == {"csv", "xlsx", "sav"}
        with pytest.raises(MissingError):
            export.wave_answers_file(s, scoped.wave, scoped.unit_ids, "pdf")
        nobody = export.wave_answers_file(s, scoped.wave, [], "csv")
        assert nobody.decode("utf-8-sig").count("\n") <= 1


def test_answers_from_a_posted_form() -> None:
    chan = Question(
        "chan",
        QuestionType.MULTIPLE,
        Text("渠道", "Channels"),
        "d",
        options=(Option(1, Text("门店", "Store")), Option(2, Text("网站", "Website"))),
    )
    rating = Question(
        "r1",
        QuestionType.LIKERT,
        Text("评价", "Rating"),
        "d",
        low=Text("差", "Poor"),
        high=Text("好", "Good"),
    )
    inst = Instrument(
        "m",
        Text("m", "m"),
        (Dimension("d", Text("d", "d")),),
        (Group("g", Text("g", "g"), (chan, rating)),),
    )
    got = fielding.answers_from_form(
        inst, {"chan": ["1", "2"], "r1": ["3", " 4 "], "nps": "9", "lang": "en"}
    )
    assert got == {"chan": ["1", "2"], "r1": "4"}  # a choice sent twice keeps its last value
    assert fielding.answers_from_form(inst, {"chan": "2", "r1": " "}) == {"chan": ["2"]}


def test_the_margin_calculator_and_store_links() -> None:
    assert margin_calculator(None) is None and margin_calculator("") is None
    assert margin_calculator("5", "2000") == {"margin": 5.0, "population": 2000.0, "n": 323}
    assert margin_calculator("5", " ")["n"] == 385  # type: ignore[index]
    assert "error" in margin_calculator("five")  # type: ignore[operator]
    signer = LinkSigner(b"0123456789abcdef")
    links = open_links(signer, "https://sqm.example/", "W1", ["S001", "S002"])
    assert links["S001"] == "https://sqm.example/s/" + signer.open_link("W1", "S001")
    assert qr_image(links["S001"], "png")[:4] == b"\x89PNG" and set(QR_FORMATS) == {"png", "svg"}
    with pytest.raises(MissingError):
        qr_image(links["S001"], "gif")


@pytest.mark.parametrize("module", [waves_svc, quota, links, fielding], ids=lambda m: m.__name__)
def test_docstring_examples(module: object) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)  # type: ignore[arg-type]
    assert result.attempted > 0 and result.failed == 0
