"""Composite scores up an indicator tree (指标体系综合得分), with vetoes, caps, grades and ranks.

An indicator tree is plain data: edges ``(parent, child, weight)``. Weights are relative
among the children of one parent and are renormalised to sum 1 there. Leaves are nodes
that have no children; their scores per unit (store, hall, area…) come in as a DataFrame
(units × leaf codes), usually already normalised to 0–100 (see :mod:`sqm.methods.normalise`).

Each inner node's score is the weighted mean of its children's scores. Rules applied on the
way up:

- **Veto items (一票否决)**: a violation sets the score of the node it targets to 0,
  whatever its children scored; the zero then propagates upwards with the node's weight.
- **Missing indicators**: ``missing="reweight"`` (default) takes the weighted mean over
  the children that were observed, weights renormalised among them; ``coverage`` reports
  per unit the share of the total leaf weight that was observed (1 = complete).
  ``missing="zero"`` scores a missing leaf 0; ``missing="error"`` refuses missing data.
- **Critical items**: a :class:`CriticalRule` caps the grade of a unit whose score on a
  given node falls below a bound (e.g. a safety item failed → at most grade "C").

Everything is vectorised over units: one pass over the inner nodes, each a small
matrix-vector product over all units.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from sqm.lazy import lazy_import
from sqm.methods._validation import FloatArray, MethodInputError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd
else:
    np = lazy_import("numpy")
    npt = lazy_import("numpy.typing")
    pd = lazy_import("pandas")

__all__ = [
    "CompositeResult",
    "CriticalRule",
    "IndicatorTree",
    "composite_scores",
    "grade",
    "indicator_tree",
    "inner_scores",
    "rank",
    "tree_scores",
]

RankMethod = Literal["min", "dense", "average", "max", "first"]
MissingPolicy = Literal["reweight", "zero", "error"]


@dataclass(frozen=True)
class IndicatorTree:
    """A validated indicator tree.

    ``children`` maps each inner node to its children; ``local_weights`` maps each non-root
    node to its weight within its parent (siblings sum to 1); ``leaves`` are in the order
    first met; ``inner_bottom_up`` lists inner nodes children-before-parents.
    """

    root: str
    children: Mapping[str, tuple[str, ...]]
    local_weights: Mapping[str, float]
    leaves: tuple[str, ...]
    inner_bottom_up: tuple[str, ...]

    @property
    def nodes(self) -> tuple[str, ...]:
        """All node codes: leaves first, then inner nodes bottom-up (root last)."""
        return self.leaves + self.inner_bottom_up

    def global_weights(self) -> pd.Series:
        """Global weight of every leaf: the product of local weights on its path (sum 1)."""
        g: dict[str, float] = {self.root: 1.0}
        for node in reversed(self.inner_bottom_up):
            for c in self.children[node]:
                g[c] = g[node] * self.local_weights[c]
        return pd.Series({leaf: g[leaf] for leaf in self.leaves}, name="weight")


def indicator_tree(edges: Any) -> IndicatorTree:
    """Build and validate an :class:`IndicatorTree` from plain data.

    ``edges`` is a DataFrame with columns ``parent``, ``child``, ``weight``; or a sequence of
    ``(parent, child, weight)`` tuples; or a mapping ``{parent: {child: weight}}``. There must
    be exactly one root, no cycles, no node under two parents, and weights ≥ 0 with a
    positive sum under each parent.

    >>> t = indicator_tree([("total", "service", 0.6), ("total", "env", 0.4),
    ...                     ("service", "greeting", 1), ("service", "speed", 1)])
    >>> t.global_weights().round(2).to_dict()
    {'env': 0.4, 'greeting': 0.3, 'speed': 0.3}
    """
    rows: list[tuple[str, str, float]]
    if isinstance(edges, pd.DataFrame):
        missing = {"parent", "child", "weight"} - set(edges.columns)
        if missing:
            raise MethodInputError(f"edges is missing the column(s) {sorted(missing)}")
        rows = [
            (str(p), str(c), float(w))
            for p, c, w in zip(edges["parent"], edges["child"], edges["weight"], strict=True)
        ]
    elif isinstance(edges, Mapping):
        rows = [(str(p), str(c), float(w)) for p, kids in edges.items() for c, w in kids.items()]
    else:
        rows = [(str(p), str(c), float(w)) for p, c, w in edges]
    if not rows:
        raise MethodInputError("edges is empty: the tree needs at least one parent and child")
    children: dict[str, list[str]] = {}
    raw: dict[str, float] = {}
    parent_of: dict[str, str] = {}
    for p, c, w in rows:
        if c in parent_of:
            raise MethodInputError(f"node {c!r} has two parents: {parent_of[c]!r} and {p!r}")
        if not np.isfinite(w) or w < 0:
            raise MethodInputError(f"edge {p!r} → {c!r} has weight {w}; weights must be ≥ 0")
        parent_of[c] = p
        children.setdefault(p, []).append(c)
        raw[c] = w
    roots = [p for p in children if p not in parent_of]
    if len(roots) != 1:
        raise MethodInputError(
            f"the tree must have exactly one root, found {sorted(roots) or 'none'}"
        )
    root = roots[0]
    local: dict[str, float] = {}
    for p, kids in children.items():
        total = sum(raw[c] for c in kids)
        if total <= 0:
            raise MethodInputError(f"the children of {p!r} have weights summing to 0")
        for c in kids:
            local[c] = raw[c] / total
    # Breadth-first from the root: every node reached once, so unreachable nodes mean a cycle.
    order: list[str] = []
    leaves: list[str] = []
    queue = [root]
    while queue:
        node = queue.pop(0)
        if node in children:
            order.append(node)
            queue.extend(children[node])
        else:
            leaves.append(node)
    if len(order) + len(leaves) != len(parent_of) + 1:
        raise MethodInputError("the edges contain a cycle detached from the root")
    return IndicatorTree(
        root=root,
        children={p: tuple(k) for p, k in children.items()},
        local_weights=local,
        leaves=tuple(leaves),
        inner_bottom_up=tuple(reversed(order)),
    )


@dataclass(frozen=True)
class CriticalRule:
    """A critical item: if the score of ``node`` is below ``below``, the grade is at most ``cap``."""

    node: str
    below: float
    cap: str


def _leaf_weight_matrix(tree: IndicatorTree) -> FloatArray:
    """Leaves × inner nodes: the local weight of each leaf under its parent."""
    col = {node: i for i, node in enumerate(tree.inner_bottom_up)}
    row = {leaf: j for j, leaf in enumerate(tree.leaves)}
    a = np.zeros((len(tree.leaves), len(tree.inner_bottom_up)))
    for node in tree.inner_bottom_up:
        for c in tree.children[node]:
            if c in row:
                a[row[c], col[node]] = tree.local_weights[c]
    return a


def inner_scores(
    tree: IndicatorTree,
    leaf_scores: FloatArray,
    *,
    missing: MissingPolicy = "reweight",
    vetoed: Mapping[str, npt.NDArray[np.bool_]] | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Scores and coverage of the inner nodes (``tree.inner_bottom_up`` order, root last).

    The leaf level, where nearly all the work is, is two matrix products for all inner
    nodes at once (weighted sums of observed leaves, and of their weights); the levels
    above touch one column per node.

    >>> t = indicator_tree([("r", "a", 1), ("r", "b", 3)])
    >>> s, cov = inner_scores(t, np.array([[100.0, np.nan], [0.0, 100.0]]))
    >>> s[:, -1].tolist(), cov[:, -1].tolist()
    ([100.0, 75.0], [0.25, 1.0])
    """
    n_leaves = leaf_scores.shape[1]
    if n_leaves != len(tree.leaves):
        raise MethodInputError(f"leaf_scores must have {len(tree.leaves)} columns, got {n_leaves}")
    if missing not in ("reweight", "zero", "error"):
        raise MethodInputError(f"missing must be 'reweight', 'zero' or 'error', got {missing!r}")
    observed = ~np.isnan(leaf_scores)
    if missing == "error" and not observed.all():
        r, c = np.argwhere(~observed)[0]
        raise MethodInputError(f"leaf {tree.leaves[c]!r} is missing for row {r} (missing='error')")
    return leaf_core(
        tree, np.where(observed, leaf_scores, 0.0), observed.astype(float), missing, vetoed
    )


def leaf_core(
    tree: IndicatorTree,
    values: FloatArray,
    cover_leaf: FloatArray,
    missing: MissingPolicy,
    vetoed: Mapping[str, npt.NDArray[np.bool_]] | None,
) -> tuple[FloatArray, FloatArray]:
    """Inner-node scores from leaf values with 0 where missing and 1/0 observed flags.

    The bootstrap calls this directly with its leaf means, skipping a round trip through
    NaN. ``values`` and ``cover_leaf`` may be modified in place (vetoed leaves).
    """
    vetoed = vetoed or {}
    rows = values.shape[0]
    leaf_vetoes = [(j, vetoed[c]) for j, c in enumerate(tree.leaves) if c in vetoed]
    for j, mask in leaf_vetoes:
        values[mask, j] = 0.0
        cover_leaf[mask, j] = 1.0
    a = _leaf_weight_matrix(tree)
    num = values @ a
    cov = cover_leaf @ a
    # Weights that count in each mean: observed leaves (re-weighting) or all leaves (zero).
    den = cov if missing != "zero" else np.broadcast_to(a.sum(axis=0), cov.shape)
    col = {node: i for i, node in enumerate(tree.inner_bottom_up)}
    scores = np.empty((rows, len(col)))
    cover = np.empty_like(scores)
    for i, node in enumerate(tree.inner_bottom_up):
        n_, d_, c_ = num[:, i], den[:, i], cov[:, i]
        for c in tree.children[node]:
            if c in col:
                w, j = tree.local_weights[c], col[c]
                ok = ~np.isnan(scores[:, j])
                n_ = n_ + w * np.where(ok, scores[:, j], 0.0)
                d_ = d_ + w * ok
                c_ = c_ + w * cover[:, j]
        with np.errstate(invalid="ignore", divide="ignore"):
            scores[:, i] = np.where(d_ > 0, n_ / d_, np.nan)
        cover[:, i] = c_
        if node in vetoed:
            scores[vetoed[node], i] = 0.0
            cover[vetoed[node], i] = 1.0
    return scores, cover


def tree_scores(
    tree: IndicatorTree,
    leaf_scores: FloatArray,
    *,
    missing: MissingPolicy = "reweight",
    vetoed: Mapping[str, npt.NDArray[np.bool_]] | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Array core of :func:`composite_scores`: scores and coverage of every node.

    ``leaf_scores`` is rows × leaves in ``tree.leaves`` order; the results are rows × nodes
    in ``tree.nodes`` order (leaves first, root last).

    >>> t = indicator_tree([("r", "a", 1), ("r", "b", 3)])
    >>> s, cov = tree_scores(t, np.array([[100.0, np.nan], [0.0, 100.0]]))
    >>> s[:, -1].tolist(), cov[:, -1].tolist()
    ([100.0, 75.0], [0.25, 1.0])
    """
    inner, inner_cover = inner_scores(tree, leaf_scores, missing=missing, vetoed=vetoed)
    observed = ~np.isnan(leaf_scores)
    leaves = np.where(observed, leaf_scores, 0.0) if missing == "zero" else leaf_scores.copy()
    leaf_cover = observed.astype(float)
    vetoed = vetoed or {}
    for j, code in enumerate(tree.leaves):
        if code in vetoed:
            leaves[vetoed[code], j] = 0.0
            leaf_cover[vetoed[code], j] = 1.0
    return np.hstack([leaves, inner]), np.hstack([leaf_cover, inner_cover])


@dataclass(frozen=True)
class CompositeResult:
    """Composite scores of units.

    ``scores``: the root score per unit; ``node_scores``: units × every node; ``coverage``:
    share of leaf weight observed per unit; ``grades`` (None without cut-offs), ``ranks``
    (1 = best); ``capped``: units whose grade a critical rule lowered; ``vetoed``: units ×
    veto target, True where a veto applied.
    """

    scores: pd.Series
    node_scores: pd.DataFrame
    coverage: pd.Series
    grades: pd.Series | None
    ranks: pd.Series
    capped: pd.Series
    vetoed: pd.DataFrame


def composite_scores(
    scores: pd.DataFrame,
    tree: IndicatorTree | Any,
    *,
    vetoes: Mapping[str, Any] | pd.DataFrame | None = None,
    critical: Sequence[CriticalRule] = (),
    cutoffs: Mapping[str, float] | None = None,
    missing: MissingPolicy = "reweight",
    min_coverage: float = 0.0,
    rank_method: RankMethod = "min",
) -> CompositeResult:
    """Composite scores, grades and ranks of units up an indicator tree.

    ``scores``: units × leaf codes (NaN = not observed). ``tree``: an :class:`IndicatorTree`
    or edges for :func:`indicator_tree`. ``vetoes``: node code → bools per unit (True = a veto
    item was violated: that node scores 0). ``critical``: rules capping the grade.
    ``cutoffs``: grade → lowest score for it, e.g. ``{"A": 90, "B": 75, "C": 60, "D": 0}``.
    Units whose coverage is below ``min_coverage`` get no score (NaN), no grade and no rank.

    >>> t = indicator_tree([("total", "a", 0.5), ("total", "b", 0.5)])
    >>> s = pd.DataFrame({"a": [90.0, 80.0, 70.0], "b": [100.0, np.nan, 70.0]}, index=["s1", "s2", "s3"])
    >>> r = composite_scores(s, t, vetoes={"b": [False, False, True]}, cutoffs={"A": 85, "B": 0})
    >>> r.scores.tolist(), r.coverage.tolist(), r.grades.tolist(), r.ranks.tolist()
    ([95.0, 80.0, 35.0], [1.0, 0.5, 1.0], ['A', 'B', 'B'], [1, 2, 3])
    """
    t = tree if isinstance(tree, IndicatorTree) else indicator_tree(tree)
    if not isinstance(scores, pd.DataFrame):
        raise MethodInputError("scores must be a DataFrame: units as rows, leaf codes as columns")
    cols = [str(c) for c in scores.columns]
    absent = [leaf for leaf in t.leaves if leaf not in cols]
    extra = [c for c in cols if c not in t.leaves]
    if absent:
        raise MethodInputError(f"scores has no column for the leaf indicator(s) {absent[:5]}")
    if extra:
        raise MethodInputError(f"scores has column(s) {extra[:5]} that are not leaves of the tree")
    frame = scores.set_axis(cols, axis=1)
    try:
        leaf = frame[list(t.leaves)].to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise MethodInputError(f"scores must be numeric: {exc}") from exc
    if np.isinf(leaf).any():
        raise MethodInputError("scores has an infinite value")
    n = leaf.shape[0]
    veto_masks = _veto_masks(vetoes, t, n)
    node_vals, cover = tree_scores(t, leaf, missing=missing, vetoed=veto_masks)
    idx = scores.index
    node_scores = pd.DataFrame(node_vals, index=idx, columns=list(t.nodes))
    coverage = pd.Series(cover[:, -1], index=idx, name="coverage")
    total = node_scores[t.root].rename("score")
    total = total.where(coverage >= min_coverage)
    grades: pd.Series | None = None
    capped = pd.Series(False, index=idx, name="capped")
    if cutoffs is not None:
        grades, capped = _grade_with_caps(total, node_scores, cutoffs, critical)
    elif critical:
        raise MethodInputError("critical rules cap a grade: give cutoffs as well")
    vetoed = pd.DataFrame({k: v for k, v in veto_masks.items()}, index=idx, dtype=bool)
    return CompositeResult(
        scores=total,
        node_scores=node_scores,
        coverage=coverage,
        grades=grades,
        ranks=rank(total, method=rank_method),
        capped=capped,
        vetoed=vetoed,
    )


def _veto_masks(
    vetoes: Mapping[str, Any] | pd.DataFrame | None, tree: IndicatorTree, n: int
) -> dict[str, npt.NDArray[np.bool_]]:
    if vetoes is None:
        return {}
    items = vetoes.items()
    nodes = set(tree.nodes)
    out: dict[str, npt.NDArray[np.bool_]] = {}
    for code, flags in items:
        if str(code) not in nodes:
            raise MethodInputError(f"vetoes names {code!r}, which is not a node of the tree")
        arr = np.asarray(flags)
        if arr.shape != (n,):
            raise MethodInputError(f"vetoes[{code!r}] must have one flag per unit ({n})")
        if arr.dtype != bool:
            if pd.isna(arr).any():
                raise MethodInputError(f"vetoes[{code!r}] has a missing flag")
            arr = arr.astype(bool)
        out[str(code)] = arr
    return out


def _ordered_cutoffs(cutoffs: Mapping[str, float]) -> tuple[list[str], FloatArray]:
    if not cutoffs:
        raise MethodInputError("cutoffs must name at least one grade")
    pairs = sorted(cutoffs.items(), key=lambda kv: -float(kv[1]))
    names = [str(k) for k, _ in pairs]
    bounds = np.array([float(v) for _, v in pairs])
    if len(set(bounds.tolist())) != len(bounds):
        raise MethodInputError("cutoffs must give each grade a different lower bound")
    return names, bounds


def _grade_codes(values: FloatArray, bounds: FloatArray) -> npt.NDArray[np.int64]:
    # bounds are descending; code k = the first (best) grade whose bound the score reaches.
    ge = values[:, None] >= bounds[None, :]
    code = np.where(ge.any(axis=1), ge.argmax(axis=1), -1)
    return code.astype(np.int64)


def grade(scores: Any, cutoffs: Mapping[str, float]) -> pd.Series:
    """Grade by cut-offs: the best grade whose lower bound the score reaches.

    ``cutoffs`` maps grade → lowest score for it. A score below every bound, or missing,
    gets no grade (None).

    >>> grade([95, 80, 59, None], {"优秀": 90, "良好": 75, "合格": 60}).tolist()
    ['优秀', '良好', None, None]
    """
    names, bounds = _ordered_cutoffs(cutoffs)
    s = (
        pd.Series(scores, dtype=float)
        if not isinstance(scores, pd.Series)
        else scores.astype(float)
    )
    code = _grade_codes(np.asarray(s, dtype=np.float64), bounds)
    labels = np.array([*names, None], dtype=object)
    return pd.Series(labels[code], index=s.index, name="grade", dtype=object)


def _grade_with_caps(
    total: pd.Series,
    node_scores: pd.DataFrame,
    cutoffs: Mapping[str, float],
    critical: Sequence[CriticalRule],
) -> tuple[pd.Series, pd.Series]:
    names, bounds = _ordered_cutoffs(cutoffs)
    values = total.to_numpy(dtype=float)
    code = _grade_codes(values, bounds)
    before = code.copy()
    for rule in critical:
        if rule.node not in node_scores.columns:
            raise MethodInputError(
                f"critical rule names {rule.node!r}, which is not a node of the tree"
            )
        if rule.cap not in names:
            raise MethodInputError(
                f"critical rule caps at {rule.cap!r}, which is not a grade in cutoffs"
            )
        cap = names.index(rule.cap)
        hit = (node_scores[rule.node].to_numpy(dtype=float) < rule.below) & (code >= 0)
        code = np.where(hit, np.maximum(code, cap), code)
    code = np.where(np.isnan(values), -1, code)
    labels = np.array([*names, None], dtype=object)
    grades = pd.Series(labels[code], index=total.index, name="grade", dtype=object)
    capped = pd.Series(code != before, index=total.index, name="capped") & total.notna()
    return grades, capped


def rank(scores: Any, *, method: RankMethod = "min", ascending: bool = False) -> pd.Series:
    """Ranks with ties (1 = best; by default higher scores rank first).

    ``method``: ``"min"`` (1, 2, 2, 4 — competition ranking), ``"dense"`` (1, 2, 2, 3),
    ``"average"`` (1, 2.5, 2.5, 4), ``"max"``, ``"first"``. Missing scores get no rank.

    >>> rank([90, 80, 80, 70]).tolist()
    [1, 2, 2, 4]
    >>> rank([90, 80, 80, 70], method="dense").tolist()
    [1, 2, 2, 3]
    >>> rank([90, 80, 80, 70], method="average").tolist()
    [1.0, 2.5, 2.5, 4.0]
    """
    if method not in ("min", "dense", "average", "max", "first"):
        raise MethodInputError(f"method must be min, dense, average, max or first, got {method!r}")
    s = (
        pd.Series(scores, dtype=float)
        if not isinstance(scores, pd.Series)
        else scores.astype(float)
    )
    r: pd.Series = s.rank(method=method, ascending=ascending, na_option="keep")
    if method != "average":
        r = r.astype("Int64")
    return r.rename("rank")
