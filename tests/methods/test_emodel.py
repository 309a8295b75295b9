"""E-model (ITU-T G.107) and codec table (ITU-T G.113) against the published values."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sqm.domain.errors import RuleError
from sqm.methods.emodel import (
    CODECS,
    burst_ratio_from_markov,
    codec,
    e_model,
    effective_equipment_impairment,
    mos_from_r,
    r_factor,
)

REF = json.loads((Path(__file__).parent / "data" / "emodel_g107_g113_reference.json").read_text())


def test_default_rating_is_the_published_93_2() -> None:
    # G.107 §7.7: all Table 3 defaults give R = 93.2.
    assert r_factor() == pytest.approx(REF["default_r"], abs=0.05)
    assert mos_from_r(r_factor()) == pytest.approx(REF["default_mos"], abs=0.005)


def test_default_terms_match_hand_computation() -> None:
    # Hand computation of G.107 eqs. with Table 3 defaults: No = −61.18 dBm0p,
    # Ro = 94.77, Is = Iolr 0.44 + Ist 0.00 + Iq 0.97 = 1.41, Id = Idle 0.15.
    res = e_model()
    assert float(res.ro) == pytest.approx(94.77, abs=0.01)
    assert float(res.is_) == pytest.approx(1.41, abs=0.01)
    assert float(res.id_) == pytest.approx(0.15, abs=0.01)


@pytest.mark.parametrize("row", REF["mos_table_b1"], ids=lambda r: str(r["r"]))
def test_mos_from_r_matches_g107_table_b1(row: dict[str, float]) -> None:
    # Table B.1 prints 4.03 for R = 80 where eq. (B-4) gives 4.024, hence the 0.006 tolerance.
    assert mos_from_r(row["r"]) == pytest.approx(row["mos"], abs=0.0061)


def test_mos_from_r_clamps_and_vectorises() -> None:
    got = mos_from_r(np.array([-5.0, 0.0, 100.0, 120.0]))
    assert isinstance(got, np.ndarray)
    np.testing.assert_allclose(got, [1.0, 1.0, 4.5, 4.5])


@pytest.mark.parametrize("name", sorted(REF["ie_table_i1"]))
def test_codec_ie_matches_g113_table_i1(name: str) -> None:
    assert codec(name).ie == REF["ie_table_i1"][name]


@pytest.mark.parametrize("name", sorted(REF["bpl_table_i3"]))
def test_codec_bpl_matches_g113_table_i3(name: str) -> None:
    assert codec(name).bpl == REF["bpl_table_i3"][name]


def test_unknown_codec_is_named() -> None:
    with pytest.raises(RuleError, match=r"G\.999"):
        codec("G.999")


def _idd_by_hand(ta: float) -> float:
    # G.107 eq. (7-28) with mT = 100 ms, sT = 1, written out independently with math.
    if ta <= 100:
        return 0.0
    x = math.log10(ta / 100) / math.log10(2)
    return 25 * ((1 + x**6) ** (1 / 6) - 3 * (1 + (x / 3) ** 6) ** (1 / 6) + 2)


@pytest.mark.parametrize("ta", [50.0, 100.0, 150.0, 200.0, 300.0, 400.0, 600.0])
def test_idd_matches_formula_for_ta_above_100ms(ta: float) -> None:
    assert float(e_model(ta=ta).idd) == pytest.approx(_idd_by_hand(ta), abs=1e-9)


def test_idd_at_400ms_is_about_24() -> None:
    # X = log2(4) = 2: Idd = 25 ((65)^(1/6) − 3 (1 + (2/3)^6)^(1/6) + 2) = 24.07.
    assert float(e_model(ta=400.0).idd) == pytest.approx(24.07, abs=0.01)


@pytest.mark.parametrize(
    ("ie", "bpl", "ppl", "burst", "expected"),
    [
        # Ie,eff = Ie + (95 − Ie) Ppl / (Ppl / BurstR + Bpl), worked by hand:
        (0.0, 4.3, 2.0, 1.0, 95 * 2 / (2 + 4.3)),  # 30.16
        (0.0, 25.1, 2.0, 1.0, 95 * 2 / (2 + 25.1)),  # 7.01: G.711 with PLC
        (11.0, 19.0, 1.0, 1.0, 11 + 84 * 1 / (1 + 19)),  # 15.2: G.729A+VAD
        (11.0, 19.0, 5.0, 2.0, 11 + 84 * 5 / (2.5 + 19)),  # 30.53: bursty loss
        (5.0, 10.0, 0.0, 1.0, 5.0),  # no loss: Ie,eff = Ie
    ],
)
def test_ie_eff_worked_examples(
    ie: float, bpl: float, ppl: float, burst: float, expected: float
) -> None:
    assert float(effective_equipment_impairment(ie, bpl, ppl, burst)) == pytest.approx(expected)


def test_r_factor_is_sum_of_terms_with_codec_loss_and_delay() -> None:
    c = CODECS["G.729A+VAD"]
    assert c.bpl is not None
    r = r_factor(ie=c.ie, bpl=c.bpl, packet_loss=1.0, delay_ms=150.0)
    res = e_model(ie=c.ie, bpl=c.bpl, ppl=1.0, t=150.0, ta=150.0, tr=300.0)
    assert r == pytest.approx(float(res.ro - res.is_ - res.id_ - res.ie_eff))
    # Loss alone removes exactly Ie,eff from the default rating.
    assert r_factor(ie=11, bpl=19, packet_loss=1.0) == pytest.approx(r_factor() - 15.2)


def test_r_factor_vectorises_and_matches_scalar_calls() -> None:
    loss = np.array([0.0, 1.0, 3.0])
    delay = np.array([20.0, 150.0, 300.0])
    got = r_factor(ie=0.0, bpl=25.1, packet_loss=loss, delay_ms=delay)
    assert isinstance(got, np.ndarray)
    want = [r_factor(ie=0.0, bpl=25.1, packet_loss=lo, delay_ms=d) for lo, d in zip(loss, delay)]
    np.testing.assert_allclose(got, want)


@given(
    loss=st.floats(0, 30),
    extra=st.floats(0.1, 10),
    delay=st.floats(0, 600),
    burst=st.floats(1, 8),
)
def test_more_loss_never_raises_r(loss: float, extra: float, delay: float, burst: float) -> None:
    a = r_factor(ie=11, bpl=19, packet_loss=loss, burst_ratio=burst, delay_ms=delay)
    b = r_factor(ie=11, bpl=19, packet_loss=loss + extra, burst_ratio=burst, delay_ms=delay)
    assert b < a
    assert 1.0 <= mos_from_r(b) <= 4.5


@given(ie=st.floats(0, 95), bpl=st.floats(1, 40), ppl=st.floats(0, 100))
def test_ie_eff_random_loss_stays_between_ie_and_95(ie: float, bpl: float, ppl: float) -> None:
    # With random loss (BurstR = 1) Ppl / (Ppl + Bpl) < 1, so Ie <= Ie,eff < 95.
    v = float(effective_equipment_impairment(ie, bpl, ppl, 1.0))
    assert ie - 1e-9 <= v <= 95 + 1e-9


def test_bursty_loss_hurts_more_than_random() -> None:
    assert r_factor(packet_loss=2.0, burst_ratio=3.0) < r_factor(packet_loss=2.0)


def test_markov_burst_ratio() -> None:
    # G.107 §7.5: BurstR = 1/(p+q); random loss has q = 1 − p, so BurstR = 1.
    assert float(burst_ratio_from_markov(0.02, 0.98)) == pytest.approx(1.0)
    assert float(burst_ratio_from_markov(0.01, 0.24)) == pytest.approx(4.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"packet_loss": 120.0}, "packet_loss"),
        ({"packet_loss": -1.0}, "packet_loss"),
        ({"burst_ratio": 0.5}, "burst_ratio"),
        ({"delay_ms": -3.0}, "delay_ms"),
        ({"bpl": 0.0}, "bpl"),
        ({"ie": float("nan")}, "ie"),
    ],
)
def test_bad_inputs_are_named(kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(RuleError, match=match):
        r_factor(**kwargs)
