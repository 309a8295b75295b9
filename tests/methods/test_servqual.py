"""SERVQUAL gap scores, weighted SERVQUAL and importance–performance analysis.

References:
- Gap scores and the (un)weighted SERVQUAL index: the scoring procedure of Zeithaml,
  Parasuraman & Berry (1990), *Delivering Quality Service*, appendix (gap = P − E per item,
  dimension = mean of its items, weighted score = Σ dimension gap × importance points / 100),
  worked by hand below.
- Group summaries: each group's mean/sd/t-interval recomputed one group at a time with
  ``scipy.stats.t.interval`` (an independent, loop-based route).
- IPA: Martilla & James (1977) quadrant definitions on a hand case.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sqm.methods._validation import MethodInputError
from sqm.methods.servqual import (
    IPA_LABELS,
    dimension_gaps,
    gaps_from_long,
    importance_weights,
    ipa_quadrants,
    item_gaps,
    servqual_index,
    summarise,
)

ITEMS = ["t1", "t2", "r1", "r2", "e1"]
DIMS = {"tangibles": ["t1", "t2"], "reliability": ["r1", "r2"], "empathy": ["e1"]}
P = pd.DataFrame(
    [[5, 6, 4, 3, 7], [6, 6, 5, 5, 6], [7, 5, 3, 2, 5]], columns=ITEMS, index=["a", "b", "c"]
)
E = pd.DataFrame(
    [[6, 6, 7, 7, 6], [6, 7, 6, 7, 6], [7, 6, 7, 6, 6]], columns=ITEMS, index=["a", "b", "c"]
)


def test_item_and_dimension_gaps_hand_case() -> None:
    g = item_gaps(P, E)
    assert g.loc["a"].tolist() == [-1, 0, -3, -4, 1]
    d = dimension_gaps(g, DIMS)
    # Respondent a: tangibles (−1 + 0)/2, reliability (−3 − 4)/2, empathy 1.
    assert d.loc["a"].tolist() == [-0.5, -3.5, 1.0]
    assert d.loc["c"].tolist() == [-0.5, -4.0, -1.0]


def test_weighted_servqual_hand_case() -> None:
    d = dimension_gaps(item_gaps(P, E), DIMS)
    points = {"tangibles": 20, "reliability": 50, "empathy": 30}
    sq = servqual_index(d, points)
    # a: unweighted (−0.5 − 3.5 + 1)/3 = −1; weighted 0.2·(−0.5) + 0.5·(−3.5) + 0.3·1 = −1.55.
    assert sq.loc["a", "sq_unweighted"] == pytest.approx(-1.0)
    assert sq.loc["a", "sq_weighted"] == pytest.approx(-1.55)
    # Per-respondent importance points.
    per = pd.DataFrame(
        [points, {"tangibles": 100, "reliability": 0, "empathy": 0}, points], index=d.index
    )
    sq2 = servqual_index(d, per)
    assert sq2.loc["b", "sq_weighted"] == pytest.approx(d.loc["b", "tangibles"])


def test_importance_weights_constant_sum_rule() -> None:
    w = importance_weights({"a": 25, "b": 75})
    assert w.tolist() == [0.25, 0.75]
    with pytest.raises(MethodInputError, match="not the constant sum 100"):
        importance_weights({"a": 20, "b": 75})
    assert importance_weights({"a": 20, "b": 60}, constant_sum=None).tolist() == [0.25, 0.75]
    with pytest.raises(MethodInputError, match="non-negative"):
        importance_weights({"a": -5, "b": 105})


def test_weighted_index_renormalises_over_answered_dimensions() -> None:
    d = pd.DataFrame({"x": [1.0, np.nan], "y": [3.0, 3.0]})
    sq = servqual_index(d, {"x": 50, "y": 50})
    assert sq["sq_weighted"].tolist() == [2.0, 3.0]
    assert sq["sq_unweighted"].tolist() == [2.0, 3.0]


def test_long_data_gives_the_same_gaps_as_wide() -> None:
    long = (
        P.stack()
        .rename("P")
        .to_frame()
        .join(E.stack().rename("E"))
        .reset_index()
        .rename(columns={"level_0": "respondent", "level_1": "item"})
    )
    wide = gaps_from_long(long)
    pd.testing.assert_frame_equal(
        wide[ITEMS], item_gaps(P, E), check_names=False, check_dtype=False
    )


def test_summarise_matches_group_by_group_t_intervals() -> None:
    rng = np.random.default_rng(9)
    n = 300
    g = pd.DataFrame(rng.normal(-0.5, 1.2, size=(n, 3)), columns=["q1", "q2", "q3"])
    g.iloc[::7, 1] = np.nan
    g["store"] = rng.choice(["s1", "s2", "s3", "s4"], n)
    g["segment"] = rng.choice(["business", "ordinary"], n)
    out = summarise(g, by=["store", "segment"], confidence=0.9)
    assert len(out) == 4 * 2 * 3
    for row in out.itertuples():
        x = g.loc[(g.store == row.store) & (g.segment == row.segment), row.variable].dropna()
        assert row.n == len(x)
        assert row.mean == pytest.approx(x.mean())
        assert row.sd == pytest.approx(x.std(ddof=1))
        lo, hi = stats.t.interval(0.9, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
        assert (row.lower, row.upper) == pytest.approx((lo, hi))


def test_summarise_without_groups_and_with_label_array() -> None:
    g = item_gaps(P, E)
    whole = summarise(g)
    assert whole["variable"].tolist() == ITEMS
    assert whole.loc[0, "mean"] == pytest.approx(g["t1"].mean())
    labels = np.array(["x", "x", "y"])
    by_array = summarise(g, by=labels)
    assert set(by_array["group"]) == {"x", "y"}
    one = by_array[(by_array.group == "y") & (by_array.variable == "t1")].iloc[0]
    assert one.n == 1 and np.isnan(one.sd) and np.isnan(one.lower)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_summarise_by_column_equals_by_array(seed: int) -> None:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"v": rng.normal(size=40), "store": rng.choice(list("abc"), 40)})
    a = summarise(df, by="store")
    b = summarise(df[["v"]], by=df["store"])
    pd.testing.assert_frame_equal(a, b)


def test_summarise_drops_rows_without_a_group_label() -> None:
    df = pd.DataFrame({"v": [1.0, 2.0, 3.0, 10.0], "store": ["a", "a", None, "b"]})
    out = summarise(df, by="store")
    assert out["store"].tolist() == ["a", "b"]
    assert out["n"].tolist() == [2, 1]
    assert out["mean"].tolist() == [1.5, 10.0]
    two = summarise(df, by=["store", np.array(["x", "y", "x", "x"])])
    assert len(two) == 3 and list(two.columns[:2]) == ["store", "group1"]


def test_weighted_summary_matches_statsmodels_per_group() -> None:
    from statsmodels.stats.weightstats import DescrStatsW

    rng = np.random.default_rng(4)
    n = 200
    df = pd.DataFrame({"gap": rng.normal(-0.3, 1.0, n), "store": rng.choice(["a", "b"], n)})
    df.loc[::9, "gap"] = np.nan
    w = rng.uniform(0.5, 3.0, n)
    out = summarise(df, by="store", weights=w)
    for row in out.itertuples():
        sel = (df.store == row.store).to_numpy() & df.gap.notna().to_numpy()
        d = DescrStatsW(df.gap[sel], weights=w[sel])
        ne = w[sel].sum() ** 2 / (w[sel] ** 2).sum()
        assert row.mean == pytest.approx(d.mean)
        assert row.n_eff == pytest.approx(ne)
        assert row.sd == pytest.approx(np.sqrt(d.var * ne / (ne - 1)))
        assert row.se == pytest.approx(row.sd / np.sqrt(ne))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**31 - 1), st.floats(0.1, 10))
def test_weighted_summary_with_equal_weights_is_unweighted(seed: int, w: float) -> None:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"v": rng.normal(size=30), "store": rng.choice(list("ab"), 30)})
    df["w"] = w
    a = summarise(df[["v", "store"]], by="store")
    b = summarise(df, by="store", weights="w")
    assert (b["n_eff"] == b["n"]).all() or np.allclose(b["n_eff"], b["n"])
    pd.testing.assert_frame_equal(a, b.drop(columns="n_eff"), atol=1e-9)


def test_gap_input_errors() -> None:
    with pytest.raises(MethodInputError, match="same item columns"):
        item_gaps(P, E.rename(columns={"t1": "T1"}))
    with pytest.raises(MethodInputError, match="same respondents"):
        item_gaps(P, E.set_axis(["x", "y", "z"]))
    with pytest.raises(MethodInputError, match="not in gaps"):
        dimension_gaps(item_gaps(P, E), {"tangibles": ["t1", "t9"]})
    with pytest.raises(MethodInputError, match="not a column"):
        summarise(item_gaps(P, E), by="store")


def test_ipa_martilla_james_quadrants() -> None:
    imp = {"speed": 0.30, "staff": 0.25, "decor": 0.05, "parking": 0.10}
    perf = {"speed": 60.0, "staff": 85.0, "decor": 90.0, "parking": 50.0}
    # Cut points: mean importance 0.175, mean performance 71.25.
    r = ipa_quadrants(imp, perf)
    assert r["quadrant"].to_dict() == {
        "speed": "concentrate",
        "staff": "keep_up",
        "decor": "overkill",
        "parking": "low_priority",
    }
    assert r.loc["speed", "label"] == "Concentrate here"
    assert r.loc["staff", "label_zh"] == "继续保持"
    assert r.attrs["importance_cut"] == pytest.approx(0.175)
    zh = ipa_quadrants(imp, perf, language="zh")
    assert zh.loc["decor", "label"] == IPA_LABELS["overkill"]["zh"]
    # Stated cut points; a value on the cut counts as high.
    r2 = ipa_quadrants(imp, perf, importance_cut=0.10, performance_cut=85.0)
    assert r2.loc["parking", "quadrant"] == "concentrate"
    assert r2.loc["staff", "quadrant"] == "keep_up"


def test_ipa_input_errors() -> None:
    with pytest.raises(MethodInputError, match="same attributes"):
        ipa_quadrants({"a": 1.0}, {"b": 2.0})
    with pytest.raises(MethodInputError, match="language"):
        ipa_quadrants({"a": 1.0}, {"a": 2.0}, language="fr")  # type: ignore[arg-type]
