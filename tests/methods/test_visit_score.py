"""Visit and store scores, ranks with intervals, inspector agreement and effects.

References: a hand-worked example (below, every number derived in the comments);
scikit-learn's cohen_kappa_score, pingouin's intraclass_corr
and statsmodels' OLS dummy regression as independent implementations.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst

from sqm.domain.checklist import Checklist, ChecklistItem, Indicator, ItemKind, Section
from sqm.domain.checklist_template import template_checklist, template_profile
from sqm.domain.errors import RuleError
from sqm.methods.visit_score import (
    calibration_agreement,
    compile_checklist,
    inspector_effects,
    inspector_leniency,
    peer_ranks,
    score_visits,
    store_period_scores,
)

NAN = float("nan")


def _yn(code: str, **kw: object) -> ChecklistItem:
    return ChecklistItem(code=code, text_zh=code, text_en=code, kind=ItemKind.YES_NO, **kw)  # type: ignore[arg-type]


def _sc(code: str, n: int, **kw: object) -> ChecklistItem:
    return ChecklistItem(
        code=code, text_zh=code, text_en=code, kind=ItemKind.SCALE, scale_max=n, **kw
    )  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def small() -> Checklist:
    k1 = Indicator(
        code="k1",
        name_zh="k1",
        name_en="k1",
        items=(_yn("a"), _sc("b", 4, na_allowed=True), _yn("v", veto=True)),
    )
    k2 = Indicator(code="k2", name_zh="k2", name_en="k2", items=(_yn("c", critical=True), _yn("e")))
    k3 = Indicator(code="k3", name_zh="k3", name_en="k3", items=(_sc("d", 2, na_allowed=True),))
    s1 = Section(code="s1", name_zh="s1", name_en="s1", indicators=(k1, k2))
    s2 = Section(code="s2", name_zh="s2", name_en="s2", indicators=(k3,))
    return Checklist(code="small", version=1, name_zh="小", name_en="small", sections=(s1, s2))


def test_worked_example(small: Checklist) -> None:
    # columns: a b v c e d ; indicator weights k1=2, k2=1, k3=1
    answers = [
        [1, 2, 1, 1, 1, NAN],  # k1 = 100·(1 + 2/4 + 1)/3 = 83.33; k2 = 100; k3 N/A
        [1, NAN, 0, 1, 1, 2],  # veto v violated → k1 = 0 (would be 50); k2 = 100; k3 = 100
        [1, 4, 1, 0, 1, 2],  # k1 = 100; k2 = 50 (critical c failed); k3 = 100
    ]
    s = score_visits(small, answers, [2.0, 1.0, 1.0])
    np.testing.assert_allclose(s.indicator[0], [250 / 3, 100, NAN])
    np.testing.assert_allclose(s.indicator[1], [0, 100, 100])
    np.testing.assert_allclose(s.indicator[2], [100, 50, 100])
    # s1 = (2·k1 + k2)/3 ; s2 = k3 ; total = Σ w k / Σ w over indicators that are not N/A
    np.testing.assert_allclose(s.section[0], [(2 * 250 / 3 + 100) / 3, NAN])
    np.testing.assert_allclose(s.total, [(2 * 250 / 3 + 100) / 3, 200 / 4, 350 / 4])
    assert s.vetoed[1].tolist() == [True, False, False]
    # visit 0: 88.9 → B; visit 1: 50 → D; visit 2: 87.5 would be B but the critical item caps at C
    assert s.grade.tolist() == ["B", "D", "C"]
    assert s.critical_failed.tolist() == [False, False, True]
    assert s.passed.tolist() == [True, False, True]


def test_veto_zeroes_only_its_indicator(small: Checklist) -> None:
    ok = score_visits(small, [[1, 4, 1, 1, 1, 2]], [1, 1, 1])
    bad = score_visits(small, [[1, 4, 0, 1, 1, 2]], [1, 1, 1])
    assert bad.indicator[0, 0] == 0 and ok.indicator[0, 0] == 100
    assert bad.indicator[0, 1:].tolist() == ok.indicator[0, 1:].tolist()
    assert bad.section[0, 1] == ok.section[0, 1]


def test_not_applicable_only_where_allowed(small: Checklist) -> None:
    with pytest.raises(RuleError, match=r"'a'.*not applicable"):
        score_visits(small, [[NAN, 4, 1, 1, 1, 2]], [1, 1, 1])


def test_answers_out_of_range(small: Checklist) -> None:
    with pytest.raises(RuleError, match=r"'b'.*0 to 4"):
        score_visits(small, [[1, 5, 1, 1, 1, 2]], [1, 1, 1])
    with pytest.raises(RuleError, match="one column per checklist item"):
        score_visits(small, [[1, 1]], [1, 1, 1])


def test_template_perfect_and_worst_visits() -> None:
    cl = template_checklist()
    lay = compile_checklist(cl)
    prof = template_profile("flagship_core", stage="mature", traffic="high")
    best = score_visits(lay, lay.scale_max[None, :], prof)
    worst = score_visits(lay, np.zeros((1, lay.n_items)), prof)
    assert best.total[0] == pytest.approx(100) and best.grade[0] == "A"
    assert worst.total[0] == 0 and worst.grade[0] == "D" and not worst.passed[0]


@settings(max_examples=60, deadline=None)
@given(hst.data())
def test_scores_bounded_and_monotone(data: hst.DataObject) -> None:
    """Raising one answer never lowers the total; all scores stay within 0–100."""
    lay = compile_checklist(template_checklist())
    prof = template_profile("supermarket", stage="early", traffic="low")
    ans = np.array([data.draw(hst.integers(0, int(m))) for m in lay.scale_max], dtype=float)
    na = np.array([data.draw(hst.booleans()) if ok else False for ok in lay.na_allowed])
    ans[na] = np.nan
    j = data.draw(hst.integers(0, lay.n_items - 1))
    if np.isnan(ans[j]) or ans[j] >= lay.scale_max[j]:
        return
    up = ans.copy()
    up[j] += 1
    s = score_visits(lay, np.vstack([ans, up]), prof)
    assert 0 <= s.total[0] <= 100 and 0 <= s.total[1] <= 100
    assert s.total[1] >= s.total[0] - 1e-9


def test_store_period_scores_against_pandas() -> None:
    rng = np.random.default_rng(3)
    df = pd.DataFrame(
        {
            "store": rng.choice(list("abcdefgh"), 120),
            "period": rng.choice(["2026-01", "2026-02", "2026-03"], 120),
            "total": rng.uniform(40, 100, 120).round(1),
        }
    )
    r = store_period_scores(df, n_boot=200, seed=1)
    ref = df.groupby(["store", "period"])["total"].agg(["mean", "size"]).reset_index()
    got = r.frame.merge(ref, on=["store", "period"])
    assert len(got) == len(ref)
    np.testing.assert_allclose(got["score"], got["mean"])
    assert (got["n_visits"] == got["size"]).all()
    assert (r.frame["score_low"] <= r.frame["score_high"]).all()
    # change since the store's previous period (pandas diff within store)
    ref = ref.sort_values(["store", "period"])
    ref["chg"] = ref.groupby("store")["mean"].diff()
    got = r.frame.merge(ref[["store", "period", "chg"]], on=["store", "period"])
    np.testing.assert_allclose(got["change"], got["chg"])


def test_single_visit_gets_a_real_interval() -> None:
    df = pd.DataFrame(
        {"store": ["a", "a", "b", "c"], "period": ["p"] * 4, "total": [70.0, 80.0, 75.0, 90.0]}
    )
    fr = store_period_scores(df, n_boot=400).frame.set_index("store")
    # pooled within-store SD = sd(70, 80) = 7.07: a lone visit gets about ±1.96·7.07
    width = fr.loc["b", "score_high"] - fr.loc["b", "score_low"]
    assert 20 < width < 35


def test_peer_ranks_exact_when_separated_and_wide_when_close() -> None:
    rows = []
    for st, level in [("a", 95), ("b", 80), ("c", 60), ("d", 61), ("e", 59)]:
        for k in range(4):
            rows.append((st, "2026-01", level + (k % 2) * 4 - 2))
    df = pd.DataFrame(rows, columns=["store", "period", "total"])
    sc = store_period_scores(df, n_boot=300, seed=2)
    pr = peer_ranks(sc).set_index("store")
    ref = sc.frame.set_index("store")["score"].rank(method="min", ascending=False)
    assert pr["rank"].to_dict() == ref.astype(int).to_dict()
    assert (pr.loc["a", ["rank_low", "rank_high"]] == [1, 1]).all()
    assert (pr.loc["b", ["rank_low", "rank_high"]] == [2, 2]).all()
    assert pr.loc["c", "rank_low"] == 3 and pr.loc["c", "rank_high"] == 5


def test_peer_groups_rank_separately() -> None:
    df = pd.DataFrame(
        {"store": list("abcd"), "period": ["p"] * 4, "total": [90.0, 80.0, 70.0, 60.0]}
    )
    sc = store_period_scores(df, n_boot=50)
    pr = peer_ranks(sc, ["x", "y", "x", "y"]).set_index("store")
    assert pr["rank"].to_dict() == {"a": 1, "b": 1, "c": 2, "d": 2}
    assert (pr["n_peers"] == 2).all()


def test_calibration_agreement_on_template() -> None:
    lay = compile_checklist(template_checklist())
    rng = np.random.default_rng(9)
    a = np.where(lay.yes_no, rng.integers(0, 2, (12, lay.n_items)), 1).astype(float)
    b = a.copy()
    b[:, lay.yes_no] = np.where(
        rng.random((12, int(lay.yes_no.sum()))) < 0.9, a[:, lay.yes_no], 1 - a[:, lay.yes_no]
    )
    ta, tb = rng.uniform(60, 95, 12), rng.uniform(60, 95, 12)
    r = calibration_agreement(lay, a, b, ta, tb)
    from sklearn.metrics import cohen_kappa_score

    # references: scikit-learn's κ and pingouin's ICC(1,1) on the same data
    assert r.kappa_yes_no == pytest.approx(
        cohen_kappa_score(a[:, lay.yes_no].ravel(), b[:, lay.yes_no].ravel())
    )
    assert r.kappa_low < r.kappa_yes_no < r.kappa_high
    pg = pytest.importorskip("pingouin")
    long = pd.DataFrame(
        {"t": np.repeat(np.arange(12), 2), "r": np.tile([0, 1], 12), "y": np.c_[ta, tb].ravel()}
    )
    ref = pg.intraclass_corr(long, targets="t", raters="r", ratings="y").set_index("Type")
    assert r.n_pairs == 12
    assert r.icc_total == pytest.approx(ref.loc["ICC(1,1)", "ICC"], abs=1e-10)
    assert r.icc_low == pytest.approx(ref.loc["ICC(1,1)", "CI95"][0], abs=0.01)


def _inspected(seed: int, effects: dict[int, float]) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    level = rng.normal(75, 8, 150)
    for s in range(150):
        for i in rng.choice(15, 4, replace=False):
            rows.append(
                (f"s{s}", f"i{i:02d}", level[s] + effects.get(int(i), 0.0) + rng.normal(0, 3))
            )
    return pd.DataFrame(rows, columns=["store", "inspector", "total"])


def test_leniency_flags_the_lenient_and_the_severe() -> None:
    df = _inspected(11, {0: 8.0, 1: -8.0})
    out = inspector_leniency(df).set_index("inspector")
    assert out.loc["i00", "flag"] == "lenient" and out.loc["i01", "flag"] == "severe"
    assert (out.drop(["i00", "i01"])["flag"] == "").all()
    # mean residual by a plain loop: visit total − mean of the other inspectors at that store
    res = []
    for _, g in df.groupby("store"):
        for _, row in g[g["inspector"] == "i00"].iterrows():
            res.append(row["total"] - g[g["inspector"] != "i00"]["total"].mean())
    assert out.loc["i00", "mean_residual"] == pytest.approx(np.mean(res))


def test_no_flags_without_effects() -> None:
    out = inspector_leniency(_inspected(12, {}))
    assert (out["flag"] == "").all()


def test_inspector_effects_match_statsmodels_ols() -> None:
    import statsmodels.formula.api as smf

    df = _inspected(13, {0: 6.0, 3: -4.0})
    fit = inspector_effects(df)
    ols = smf.ols("total ~ C(store) + C(inspector)", data=df).fit()
    b = fit.inspector_effect
    for name in b.index[1:]:
        ref = ols.params[f"C(inspector)[T.{name}]"]
        assert b[name] - b[b.index[0]] == pytest.approx(ref, abs=1e-6)
    assert np.average(b, weights=df["inspector"].value_counts().reindex(b.index)) == pytest.approx(
        0, abs=1e-9
    )
    corrected = df.assign(total=fit.corrected)
    assert abs(inspector_effects(corrected).inspector_effect).max() < 1e-6
