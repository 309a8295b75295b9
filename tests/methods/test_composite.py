"""sqm.methods.composite: a worked inspection example, a unit-by-unit recursive reference,
scipy's rankdata for ties, and hypothesis properties (monotonicity, weights sum to 1).

The worked example follows the retail chain's inspection plan: dimension → indicator → item,
a veto item (一票否决) zeroing its indicator, and a critical item capping the grade.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sqm.methods._validation import MethodInputError
from sqm.methods.composite import (
    CriticalRule,
    composite_scores,
    grade,
    indicator_tree,
    rank,
)

EDGES = pd.DataFrame(
    [
        ("total", "service", 0.6),
        ("total", "environment", 0.4),
        ("service", "attitude", 0.5),
        ("service", "process", 0.5),
        ("attitude", "greeting", 1),
        ("attitude", "courtesy", 1),
        ("process", "queue", 2),
        ("process", "accuracy", 1),
        ("environment", "clean", 1),
        ("environment", "signage", 1),
    ],
    columns=["parent", "child", "weight"],
)
TREE = indicator_tree(EDGES)
LEAVES = ["greeting", "courtesy", "queue", "accuracy", "clean", "signage"]
SCORES = pd.DataFrame(
    [
        [100, 80, 90, 60, 100, 80],
        [60, 60, 30, 90, 70, np.nan],
        [90, 90, 90, 90, 90, 90],
    ],
    index=["store_a", "store_b", "store_c"],
    columns=LEAVES,
    dtype=float,
)
CUTOFFS = {"A": 90, "B": 80, "C": 60, "D": 0}


def test_global_weights() -> None:
    g = TREE.global_weights()
    expected = {
        "greeting": 0.15,
        "courtesy": 0.15,
        "queue": 0.2,
        "accuracy": 0.1,
        "clean": 0.2,
        "signage": 0.2,
    }
    assert g.to_dict() == pytest.approx(expected)
    assert g.sum() == pytest.approx(1.0)


def test_worked_example_by_hand() -> None:
    r = composite_scores(SCORES, TREE, cutoffs=CUTOFFS)
    # store_a: attitude 90, process (2·90 + 60)/3 = 80, service 85, environment 90,
    # total 0.6·85 + 0.4·90 = 87.
    assert r.node_scores.loc["store_a", "process"] == pytest.approx(80)
    assert r.scores["store_a"] == pytest.approx(87)
    # store_b: signage missing → environment = clean = 70 (re-weighted); attitude 60,
    # process (60 + 90)/3 = 50, service 55; total 0.6·55 + 0.4·70 = 61; coverage 0.8.
    assert r.node_scores.loc["store_b", "environment"] == pytest.approx(70)
    assert r.scores["store_b"] == pytest.approx(61)
    assert r.coverage["store_b"] == pytest.approx(0.8)
    assert r.coverage["store_a"] == pytest.approx(1.0)
    assert r.grades.tolist() == ["B", "C", "A"]
    assert r.ranks.tolist() == [2, 3, 1]


def test_veto_zeroes_its_indicator() -> None:
    # A customer was treated rudely in store_c: the attitude indicator scores 0.
    r = composite_scores(SCORES, TREE, vetoes={"attitude": [False, False, True]}, cutoffs=CUTOFFS)
    assert r.node_scores.loc["store_c", "attitude"] == 0
    # service = 0.5·0 + 0.5·90 = 45; total = 0.6·45 + 0.4·90 = 63.
    assert r.scores["store_c"] == pytest.approx(63)
    assert r.vetoed["attitude"].tolist() == [False, False, True]
    assert r.scores["store_a"] == pytest.approx(87)


def test_critical_item_caps_the_grade() -> None:
    rule = CriticalRule(node="accuracy", below=70, cap="C")
    r = composite_scores(SCORES, TREE, critical=[rule], cutoffs=CUTOFFS)
    # store_a scores 87 (B) but failed the accuracy item (60 < 70): capped at C.
    assert r.grades.tolist() == ["C", "C", "A"]
    assert r.capped.tolist() == [True, False, False]
    with pytest.raises(MethodInputError, match="not a grade"):
        composite_scores(
            SCORES, TREE, critical=[CriticalRule("accuracy", 70, "Z")], cutoffs=CUTOFFS
        )


def test_missing_policies_and_min_coverage() -> None:
    zero = composite_scores(SCORES, TREE, missing="zero")
    assert zero.scores["store_b"] == pytest.approx(0.6 * 55 + 0.4 * 35)
    with pytest.raises(MethodInputError, match="missing"):
        composite_scores(SCORES, TREE, missing="error")
    strict = composite_scores(SCORES, TREE, min_coverage=0.9, cutoffs=CUTOFFS)
    assert np.isnan(strict.scores["store_b"])
    assert strict.grades["store_b"] is None
    assert pd.isna(strict.ranks["store_b"])


def reference_score(tree_edges: pd.DataFrame, row: dict[str, float], node: str) -> float:
    """Straightforward recursion per unit: the independent reference for the vectorised code."""
    kids = tree_edges[tree_edges["parent"] == node]
    if kids.empty:
        return row[node]
    num = den = 0.0
    for _, e in kids.iterrows():
        s = reference_score(tree_edges, row, e["child"])
        if not np.isnan(s):
            num += e["weight"] * s
            den += e["weight"]
    return num / den if den > 0 else np.nan


def test_vectorised_equals_recursive_reference() -> None:
    rng = np.random.default_rng(5)
    x = pd.DataFrame(rng.uniform(0, 100, size=(40, 6)), columns=LEAVES)
    x = x.mask(rng.random(x.shape) < 0.2)
    r = composite_scores(x, EDGES)
    ref = [reference_score(EDGES, row.to_dict(), "total") for _, row in x.iterrows()]
    np.testing.assert_allclose(r.scores.to_numpy(), ref, equal_nan=True)


def test_ranks_with_ties_match_scipy() -> None:
    s = [70.0, 90.0, 70.0, 85.0, 90.0, 60.0]
    for method in ("min", "dense", "average", "max"):
        ours = rank(s, method=method).to_numpy(dtype=float)
        ref = stats.rankdata([-v for v in s], method=method)
        np.testing.assert_array_equal(ours, ref)
    assert rank([1.0, np.nan, 3.0]).tolist()[1] is pd.NA


def test_grade_boundaries() -> None:
    assert grade([90, 89.999, 80, 0, -1], CUTOFFS).tolist() == ["A", "B", "B", "D", None]


def test_tree_validation() -> None:
    with pytest.raises(MethodInputError, match="two parents"):
        indicator_tree([("r", "a", 1), ("r", "b", 1), ("b", "a", 1)])
    with pytest.raises(MethodInputError, match="exactly one root"):
        indicator_tree([("r", "a", 1), ("s", "b", 1)])
    with pytest.raises(MethodInputError, match="≥ 0"):
        indicator_tree([("r", "a", -1), ("r", "b", 1)])
    with pytest.raises(MethodInputError, match="no column"):
        composite_scores(SCORES.drop(columns="queue"), TREE)
    with pytest.raises(MethodInputError, match="not leaves"):
        composite_scores(SCORES.assign(extra=1.0), TREE)
    with pytest.raises(MethodInputError, match="not a node"):
        composite_scores(SCORES, TREE, vetoes={"nope": [True, False, False]})


@st.composite
def trees(draw):
    n_inner = draw(st.integers(1, 4))
    edges = []
    nodes = ["n0"]
    for i in range(1, n_inner):
        edges.append((draw(st.sampled_from(nodes)), f"n{i}", draw(st.floats(0.1, 5))))
        nodes.append(f"n{i}")
    parents = {p for p, _, _ in edges}
    leaves = []
    for node in nodes:
        k = draw(st.integers(1 if node in parents else 2, 3))
        for j in range(k):
            leaf = f"{node}_l{j}"
            edges.append((node, leaf, draw(st.floats(0.1, 5))))
            leaves.append(leaf)
    return edges, leaves


@settings(max_examples=60, deadline=None)
@given(spec=trees(), data=st.data())
def test_monotone_in_every_leaf_and_weights_sum_to_one(spec, data) -> None:
    edges, leaves = spec
    tree = indicator_tree(edges)
    assert tree.global_weights().sum() == pytest.approx(1.0)
    base = np.array(
        data.draw(st.lists(st.floats(0, 90), min_size=len(leaves), max_size=len(leaves)))
    )
    frame = pd.DataFrame([base], columns=leaves)
    before = composite_scores(frame, tree).scores.iloc[0]
    j = data.draw(st.integers(0, len(leaves) - 1))
    bumped = frame.copy()
    bumped.iloc[0, j] += data.draw(st.floats(0.5, 10))
    after = composite_scores(bumped, tree).scores.iloc[0]
    assert after > before
    g = tree.global_weights()
    assert after - before == pytest.approx(g[leaves[j]] * (bumped.iloc[0, j] - base[j]))
