"""Indicator weights (指标权重): subjective (AHP), objective (entropy, CRITIC, CV, PCA), combined.

Every function takes plain numpy/pandas data. When the data come labelled (a DataFrame of
alternatives × criteria, or an AHP matrix as a DataFrame), the weights come back as a
``pandas.Series`` indexed by the criteria; otherwise as a numpy array. Weights always sum to 1.

References
----------
- Saaty, T. L. (1980). *The Analytic Hierarchy Process*. McGraw-Hill.
- Saaty, T. L. (2005). *Theory and Applications of the Analytic Network Process*. RWS, p. 31.
- Donegan, H. A. & Dodd, F. J. (1991). A note on Saaty's random indexes.
  *Mathematical and Computer Modelling* 15(10), 135-137.
- Forman, E. & Peniwati, K. (1998). Aggregating individual judgments and priorities with the
  AHP. *European Journal of Operational Research* 108, 165-169.
- Diakoulaki, D., Mavrotas, G. & Papayannakis, L. (1995). Determining objective weights in
  multiple criteria problems: the CRITIC method. *Computers & Operations Research* 22(7), 763-770.
- Shannon entropy weights: Zeleny (1982), Hwang & Yoon (1981).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from sqm.lazy import lazy_import
from sqm.methods._validation import FloatArray, MethodInputError, as_benefit, as_matrix

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd
else:
    np = lazy_import("numpy")
    npt = lazy_import("numpy.typing")
    pd = lazy_import("pandas")

__all__ = [
    "RANDOM_INDEX",
    "AHPResult",
    "GroupAHPResult",
    "HierarchyResult",
    "Judgment",
    "ahp",
    "combine_weights",
    "critic",
    "cv_weights",
    "entropy",
    "group_ahp",
    "hierarchy_weights",
    "pca_weights",
    "random_index",
]

Weights: TypeAlias = "FloatArray | pd.Series"  # a string: pandas loads on first use

#: Random consistency indices by matrix order, per published table.
#: ``saaty1980``: Saaty (1980), the default; ``saaty2005``: Saaty (2005, p. 31);
#: ``donegan_dodd``: Donegan & Dodd (1991) (as transcribed by the AHPy library).
RANDOM_INDEX: dict[str, dict[int, float]] = {
    "saaty1980": {
        1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41, 9: 1.45, 10: 1.49,
        11: 1.51, 12: 1.48, 13: 1.56, 14: 1.57, 15: 1.59,
    },
    "saaty2005": {
        1: 0.0, 2: 0.0, 3: 0.52, 4: 0.89, 5: 1.11, 6: 1.25, 7: 1.35, 8: 1.40, 9: 1.45, 10: 1.49,
        11: 1.52, 12: 1.54, 13: 1.56, 14: 1.58, 15: 1.59,
    },
    "donegan_dodd": {
        1: 0.0, 2: 0.0, 3: 0.4914, 4: 0.8286, 5: 1.0591, 6: 1.1797, 7: 1.2519, 8: 1.3171,
        9: 1.3733, 10: 1.4055, 11: 1.4213, 12: 1.4497, 13: 1.4643, 14: 1.4822, 15: 1.4969,
    },
}  # fmt: skip

#: Saaty's threshold: a consistency ratio at or above it means the judgments should be revised.
CR_THRESHOLD = 0.10


def random_index(n: int, table: str | Mapping[int, float] = "saaty1980") -> float:
    """Saaty's random consistency index RI for an ``n × n`` matrix from the chosen table.

    >>> random_index(4)
    0.9
    >>> random_index(4, "saaty2005")
    0.89
    """
    if isinstance(table, str):
        if table not in RANDOM_INDEX:
            raise MethodInputError(
                f"ri_table must be one of {sorted(RANDOM_INDEX)} or a mapping, got {table!r}"
            )
        values: Mapping[int, float] = RANDOM_INDEX[table]
    else:
        values = table
    if n not in values:
        raise MethodInputError(f"the random-index table has no value for a {n} × {n} matrix")
    return float(values[n])


@dataclass(frozen=True)
class Judgment:
    """One pairwise judgment and how far it is from what the priorities imply.

    ``given`` is a_ij as entered, ``implied`` is w_i / w_j, and ``error`` is
    |ln(a_ij · w_j / w_i)|: 0 for a judgment in perfect agreement with the priorities.
    """

    row: str
    column: str
    given: float
    implied: float
    error: float


@dataclass(frozen=True)
class AHPResult:
    """Priorities of one pairwise-comparison matrix.

    ``weights`` sum to 1; ``lambda_max`` is the principal eigenvalue (for the geometric-mean
    method, its usual estimate mean((A w)_i / w_i)); ``ci = (λmax − n)/(n − 1)``;
    ``cr = ci / RI`` (0 for n ≤ 2). ``consistent`` is ``cr < 0.10``. ``judgments`` lists the
    judgments that contribute most to the inconsistency, worst first.
    """

    weights: Weights
    lambda_max: float
    ci: float
    cr: float
    ri: float
    consistent: bool
    method: str
    judgments: tuple[Judgment, ...]


def _labels_of(matrix: Any) -> list[str] | None:
    if isinstance(matrix, pd.DataFrame):
        if list(matrix.index) != list(matrix.columns):
            raise MethodInputError(
                "matrix: row labels and column labels must be the same criteria in the same order"
            )
        return [str(c) for c in matrix.columns]
    return None


def _check_pairwise(a: FloatArray, name: str, tol: float) -> None:
    n, m = a.shape
    if n != m:
        raise MethodInputError(f"{name} must be square, got {n} × {m}")
    if (a <= 0).any():
        r, c = np.argwhere(a <= 0)[0]
        raise MethodInputError(
            f"{name} has a non-positive judgment {a[r, c]:g} at row {r}, column {c}; "
            "pairwise comparisons must be positive"
        )
    if not np.allclose(np.diag(a), 1.0, atol=tol):
        raise MethodInputError(f"{name} must have 1 on its diagonal")
    bad = np.abs(np.log(a * a.T)) > tol
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise MethodInputError(
            f"{name} is not reciprocal: a[{r},{c}] = {a[r, c]:g} but a[{c},{r}] = {a[c, r]:g} "
            f"(their product must be 1)"
        )


def _reciprocal(a: FloatArray) -> FloatArray:
    # Judgments typed as rounded decimals (0.33 for 1/3) are made exactly reciprocal by
    # the geometric mean of the two statements: a_ij := sqrt(a_ij / a_ji).
    return np.asarray(np.sqrt(a / a.T), dtype=np.float64)


def _principal_eigen(a: FloatArray) -> tuple[float, FloatArray]:
    values, vectors = np.linalg.eig(a)
    k = int(np.argmax(values.real))
    w = np.abs(vectors[:, k].real)
    return float(values[k].real), w / w.sum()


def _priorities(a: FloatArray, method: str) -> tuple[float, FloatArray]:
    if method == "eigenvector":
        return _principal_eigen(a)
    if method == "geometric":
        g = np.exp(np.log(a).mean(axis=1))
        w = g / g.sum()
        return float(np.mean((a @ w) / w)), w
    raise MethodInputError(f"method must be 'eigenvector' or 'geometric', got {method!r}")


def _worst_judgments(
    a: FloatArray, w: FloatArray, labels: Sequence[str], k: int
) -> tuple[Judgment, ...]:
    n = a.shape[0]
    iu, ju = np.triu_indices(n, 1)
    err = np.abs(np.log(a[iu, ju] * w[ju] / w[iu]))
    order = np.argsort(-err, kind="stable")[:k]
    return tuple(
        Judgment(
            row=labels[iu[o]],
            column=labels[ju[o]],
            given=float(a[iu[o], ju[o]]),
            implied=float(w[iu[o]] / w[ju[o]]),
            error=float(err[o]),
        )
        for o in order
    )


def ahp(
    matrix: Any,
    *,
    method: Literal["eigenvector", "geometric"] = "eigenvector",
    ri_table: str | Mapping[int, float] = "saaty1980",
    reciprocal_tol: float = 0.05,
    n_judgments: int = 3,
) -> AHPResult:
    """Priorities of a pairwise-comparison matrix (AHP, Saaty 1980) with its consistency.

    ``matrix[i][j]`` says how much more important criterion i is than j on Saaty's 1–9
    scale; it must be positive with ``a_ji = 1/a_ij`` (|ln(a_ij a_ji)| ≤ ``reciprocal_tol``,
    so 0.33 for 1/3 is accepted; such pairs are made exactly reciprocal by
    a_ij := sqrt(a_ij / a_ji)). Priorities come from the principal eigenvector (Saaty) or the row
    geometric mean (``method="geometric"``); λmax, CI = (λmax − n)/(n − 1) and
    CR = CI / RI, with RI from ``ri_table`` (``"saaty1980"`` by default, ``"saaty2005"``,
    ``"donegan_dodd"``, or a mapping n → RI). CR ≥ 0.10 is reported as inconsistent, and
    ``judgments`` lists the entries with the largest |ln(a_ij w_j / w_i)|, the ones to
    revisit first.

    >>> r = ahp([[1, 3, 5], [1/3, 1, 3], [1/5, 1/3, 1]])
    >>> np.round(r.weights, 3).tolist(), round(r.cr, 3), r.consistent
    ([0.637, 0.258, 0.105], 0.033, True)
    """
    labels = _labels_of(matrix)
    a = as_matrix(matrix, "matrix")
    _check_pairwise(a, "matrix", reciprocal_tol)
    a = _reciprocal(a)
    n = a.shape[0]
    names = labels if labels is not None else [str(i) for i in range(n)]
    lam, w = _priorities(a, method)
    ri = random_index(n, ri_table)
    ci = max((lam - n) / (n - 1), 0.0) if n > 1 else 0.0
    # ci is clipped at 0: λmax ≥ n in theory; tiny negative values are rounding.
    cr = ci / ri if ri > 0 else 0.0
    weights: Weights = pd.Series(w, index=labels, name="weight") if labels is not None else w
    return AHPResult(
        weights=weights,
        lambda_max=lam,
        ci=ci,
        cr=cr,
        ri=ri,
        consistent=bool(cr < CR_THRESHOLD),
        method=method,
        judgments=_worst_judgments(a, w, names, n_judgments) if n > 2 else (),
    )


@dataclass(frozen=True)
class GroupAHPResult:
    """Group AHP: the aggregated ``weights`` and each expert's own result.

    ``aggregated`` is the AHP result of the geometric-mean matrix for AIJ (``None`` for AIP).
    """

    weights: Weights
    method: str
    individual: tuple[AHPResult, ...]
    aggregated: AHPResult | None


def _expert_weights(expert_weights: Sequence[float] | None, k: int) -> FloatArray:
    if expert_weights is None:
        return np.full(k, 1.0 / k)
    ew = np.asarray(expert_weights, dtype=float).ravel()
    if ew.shape[0] != k or (ew < 0).any() or ew.sum() <= 0 or np.isnan(ew).any():
        raise MethodInputError(
            f"expert_weights must be {k} non-negative numbers with a positive sum, got {ew.tolist()}"
        )
    return ew / ew.sum()


def group_ahp(
    matrices: Sequence[Any],
    *,
    aggregation: Literal["aij", "aip"] = "aij",
    expert_weights: Sequence[float] | None = None,
    method: Literal["eigenvector", "geometric"] = "eigenvector",
    aip_mean: Literal["geometric", "arithmetic"] = "geometric",
    ri_table: str | Mapping[int, float] = "saaty1980",
) -> GroupAHPResult:
    """Group AHP by aggregating individual judgments (AIJ) or individual priorities (AIP).

    AIJ (Forman & Peniwati 1998): the group matrix is the element-wise weighted geometric
    mean ∏_k a_ij^(k)^λ_k, which stays reciprocal; its priorities are the group weights.
    AIP: each expert's priorities are computed first and then averaged (weighted geometric
    mean, renormalised, or arithmetic mean with ``aip_mean="arithmetic"``).

    >>> r = group_ahp([[[1, 2], [1/2, 1]], [[1, 8], [1/8, 1]]])
    >>> np.round(r.weights, 3).tolist()
    [0.8, 0.2]
    """
    if len(matrices) < 1:
        raise MethodInputError("matrices must hold at least one expert's matrix")
    lam_k = _expert_weights(expert_weights, len(matrices))
    labels = _labels_of(matrices[0])
    if labels is not None:
        # Experts may list the criteria in different orders: align them by label.
        aligned = []
        for i, m in enumerate(matrices):
            if not isinstance(m, pd.DataFrame) or set(map(str, m.columns)) != set(labels):
                raise MethodInputError(
                    f"matrices[{i}] must be labelled by the same criteria as matrices[0]"
                )
            m = m.set_axis(list(map(str, m.index)), axis=0).set_axis(
                list(map(str, m.columns)), axis=1
            )
            aligned.append(m.loc[labels, labels])
        matrices = aligned
    individual = tuple(ahp(m, method=method, ri_table=ri_table) for m in matrices)
    arrays = [as_matrix(m, f"matrices[{i}]") for i, m in enumerate(matrices)]
    if len({a.shape for a in arrays}) != 1:
        raise MethodInputError("matrices must all have the same size")
    if aggregation == "aij":
        logs = np.stack([np.log(a) for a in arrays])
        group = np.exp(np.tensordot(lam_k, logs, axes=1))
        frame: Any = pd.DataFrame(group, index=labels, columns=labels) if labels else group
        agg = ahp(frame, method=method, ri_table=ri_table)
        return GroupAHPResult(agg.weights, "aij", individual, agg)
    if aggregation == "aip":
        ws = np.stack([np.asarray(r.weights, dtype=float) for r in individual])
        if aip_mean == "geometric":
            g = np.exp(lam_k @ np.log(ws))
        elif aip_mean == "arithmetic":
            g = lam_k @ ws
        else:
            raise MethodInputError(
                f"aip_mean must be 'geometric' or 'arithmetic', got {aip_mean!r}"
            )
        g = g / g.sum()
        weights: Weights = pd.Series(g, index=labels, name="weight") if labels else g
        return GroupAHPResult(weights, "aip", individual, None)
    raise MethodInputError(f"aggregation must be 'aij' or 'aip', got {aggregation!r}")


@dataclass(frozen=True)
class HierarchyResult:
    """A hierarchy of AHP matrices turned into weights.

    ``weights``: global weights of the leaves (sum 1); ``global_weights``: of every node
    below the root; ``local``: each parent's AHP result; ``cr``: each parent's CR;
    ``consistent``: every matrix has CR < 0.10.
    """

    weights: pd.Series
    global_weights: pd.Series
    local: dict[str, AHPResult]
    cr: pd.Series
    consistent: bool


def hierarchy_weights(
    matrices: Mapping[str, pd.DataFrame],
    root: str,
    *,
    method: Literal["eigenvector", "geometric"] = "eigenvector",
    ri_table: str | Mapping[int, float] = "saaty1980",
) -> HierarchyResult:
    """Global leaf weights of an AHP hierarchy: the product of local weights down each path.

    ``matrices`` maps each parent node to the pairwise matrix (a DataFrame labelled by its
    children) of its children; nodes without a matrix are leaves. A leaf may sit under
    several parents (alternatives compared under every criterion): its global weight is
    the sum over its parents (distributive synthesis).

    >>> goal = pd.DataFrame([[1, 3], [1/3, 1]], index=["A", "B"], columns=["A", "B"])
    >>> a = pd.DataFrame([[1, 1], [1, 1]], index=["a1", "a2"], columns=["a1", "a2"])
    >>> hierarchy_weights({"goal": goal, "A": a}, "goal").weights.round(3).to_dict()
    {'B': 0.25, 'a1': 0.375, 'a2': 0.375}
    """
    if root not in matrices:
        raise MethodInputError(f"root {root!r} has no matrix in matrices")
    for node, m in matrices.items():
        if not isinstance(m, pd.DataFrame):
            raise MethodInputError(
                f"matrices[{node!r}] must be a DataFrame labelled by its children"
            )
    local: dict[str, AHPResult] = {}
    global_w: dict[str, float] = {}
    leaves: dict[str, float] = {}
    stack: list[tuple[str, float, tuple[str, ...]]] = [(root, 1.0, (root,))]
    while stack:
        node, gw, path = stack.pop(0)
        res = ahp(matrices[node], method=method, ri_table=ri_table)
        local[node] = res
        assert isinstance(res.weights, pd.Series)
        for child, lw in res.weights.items():
            c = str(child)
            if c in path:
                raise MethodInputError(f"the hierarchy has a cycle through {c!r}")
            if c in matrices:
                if c in global_w:
                    raise MethodInputError(f"node {c!r} has a matrix and more than one parent")
                global_w[c] = gw * float(lw)
                stack.append((c, global_w[c], (*path, c)))
            else:
                # Alternatives judged under several criteria: their global weights add up
                # (Saaty's distributive synthesis).
                global_w[c] = global_w.get(c, 0.0) + gw * float(lw)
                leaves[c] = global_w[c]
    cr = pd.Series({k: v.cr for k, v in local.items()}, name="cr")
    return HierarchyResult(
        weights=pd.Series(leaves, name="weight"),
        global_weights=pd.Series(global_w, name="weight"),
        local=local,
        cr=cr,
        consistent=bool((cr < CR_THRESHOLD).all()),
    )


# --------------------------------------------------------------------------- objective weights


def _decision_matrix(X: Any, min_rows: int = 2) -> tuple[FloatArray, list[Any] | None]:
    labels = list(X.columns) if isinstance(X, pd.DataFrame) else None
    a = as_matrix(X, "X", min_rows=min_rows)
    return a, labels


def _benefit(benefit: Any, n: int, labels: list[Any] | None) -> npt.NDArray[np.bool_]:
    """Directions by position, or by label when both X and benefit are labelled."""
    if isinstance(benefit, pd.Series) and labels is not None:
        if set(benefit.index) != set(labels):
            raise MethodInputError("benefit must be labelled by the same criteria as X's columns")
        benefit = benefit.reindex(labels)
    return as_benefit(benefit, n)


def _wrap(w: FloatArray, labels: list[Any] | None) -> Weights:
    return pd.Series(w, index=labels, name="weight") if labels is not None else w


def _range_standardise(a: FloatArray, benefit: npt.NDArray[np.bool_]) -> FloatArray:
    lo, hi = a.min(axis=0), a.max(axis=0)
    span = hi - lo
    if (span == 0).any():
        j = int(np.argmax(span == 0))
        raise MethodInputError(
            f"X column {j} is constant ({lo[j]:g}): it carries no information for objective weights; "
            "drop it or give it a weight by hand"
        )
    return np.where(benefit, (a - lo) / span, (hi - a) / span)


def _column_names(labels: list[Any] | None, j: int) -> str:
    return repr(labels[j]) if labels is not None else str(j)


def entropy(
    X: Any,
    benefit: Sequence[bool] | npt.ArrayLike | None = None,
    *,
    variant: Literal["standardised", "raw"] = "standardised",
) -> Weights:
    """Entropy weight method (熵权法): criteria that vary more across alternatives weigh more.

    Usual form (``variant="standardised"``): z_ij = (x_ij − min_j)/(max_j − min_j) for benefit
    criteria and (max_j − x_ij)/(max_j − min_j) for cost criteria; p_ij = z_ij / Σ_i z_ij;
    e_j = −k Σ_i p_ij ln p_ij with k = 1/ln m and 0·ln 0 = 0; d_j = 1 − e_j; w_j = d_j / Σ d.
    ``variant="raw"`` takes proportions of the raw values (p_ij = x_ij / Σ_i x_ij; needs
    x ≥ 0; direction plays no role), as pymcdm's ``entropy_weights`` does.

    X is alternatives × criteria; ``benefit`` is one bool per criterion (True: higher is
    better; default all True).

    >>> np.round(entropy([[1, 10], [2, 10], [3, 40]]), 4).tolist()
    [0.2961, 0.7039]
    """
    a, labels = _decision_matrix(X)
    m, n = a.shape
    b = _benefit(benefit, n, labels)
    if variant == "standardised":
        z = _range_standardise(a, b)
    elif variant == "raw":
        if (a < 0).any():
            raise MethodInputError("X must be non-negative for the raw-proportion entropy variant")
        z = a
        if (z.sum(axis=0) == 0).any():
            j = int(np.argmax(z.sum(axis=0) == 0))
            raise MethodInputError(f"X column {_column_names(labels, j)} is all zero")
    else:
        raise MethodInputError(f"variant must be 'standardised' or 'raw', got {variant!r}")
    p = z / z.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(p), 0.0)
    e = -plogp.sum(axis=0) / np.log(m)
    d = 1.0 - e
    if d.sum() <= 0:
        raise MethodInputError(
            "every criterion has maximal entropy (all columns uniform): no weights"
        )
    return _wrap(d / d.sum(), labels)


def critic(X: Any, benefit: Sequence[bool] | npt.ArrayLike | None = None) -> Weights:
    """CRITIC weights (Diakoulaki et al. 1995): contrast intensity × conflict.

    Each criterion is range-standardised by its direction (benefit (x − min)/(max − min),
    cost (max − x)/(max − min)); C_j = σ_j Σ_k (1 − r_jk) with σ_j the standard deviation
    of the standardised criterion and r_jk Pearson correlations between standardised
    criteria; w_j = C_j / Σ C.

    >>> np.round(critic([[1, 3, 2], [2, 1, 2.5], [3, 2, 1], [4, 4, 4]]), 4).tolist()
    [0.3658, 0.3325, 0.3017]
    """
    a, labels = _decision_matrix(X, min_rows=3)
    b = _benefit(benefit, a.shape[1], labels)
    z = _range_standardise(a, b)
    sigma = z.std(axis=0, ddof=1)
    r = np.corrcoef(z, rowvar=False)
    c = sigma * (1.0 - r).sum(axis=0)
    if not c.sum() > 1e-12:
        # Every criterion tells the same story (r = 1 for all pairs): CRITIC has no
        # information left to weigh by, and 0/0 would hand back NaN weights.
        raise MethodInputError(
            "X: every pair of criteria is perfectly correlated after standardisation, so "
            "CRITIC's conflict term Σ(1 − r) is 0 for all criteria; use another method"
        )
    return _wrap(c / c.sum(), labels)


def cv_weights(X: Any) -> Weights:
    """Coefficient-of-variation weights (变异系数法): w_j ∝ s_j / |mean_j|.

    >>> np.round(cv_weights([[1, 10], [2, 11], [3, 12]]), 4).tolist()
    [0.8462, 0.1538]
    """
    a, labels = _decision_matrix(X)
    mean = a.mean(axis=0)
    if (mean == 0).any():
        j = int(np.argmax(mean == 0))
        raise MethodInputError(
            f"X column {_column_names(labels, j)} has mean 0: its coefficient of variation is undefined"
        )
    v = a.std(axis=0, ddof=1) / np.abs(mean)
    if (v == 0).any():
        j = int(np.argmax(v == 0))
        raise MethodInputError(f"X column {_column_names(labels, j)} is constant")
    return _wrap(v / v.sum(), labels)


def pca_weights(
    X: Any, *, n_components: int | None = None, min_variance: float | None = None
) -> Weights:
    """Weights from principal component analysis (主成分分析法定权), the usual recipe.

    The criteria are z-scored and the correlation matrix eigen-decomposed. Components are kept
    by Kaiser's rule (eigenvalue > 1) unless ``n_components`` or a cumulative
    ``min_variance`` share (e.g. 0.85) is given. The coefficient of criterion j in
    component k is u_jk (unit eigenvector, i.e. loading/√λ_k); its weight is
    Σ_k (λ_k / Σ_kept λ) |u_jk|, renormalised to sum 1.

    >>> w = pca_weights([[1, 2, 3], [2, 4, 1], [3, 5, 2], [4, 9, 1]])
    >>> round(float(sum(w)), 6)
    1.0
    """
    a, labels = _decision_matrix(X, min_rows=3)
    sd = a.std(axis=0, ddof=1)
    if (sd == 0).any():
        j = int(np.argmax(sd == 0))
        raise MethodInputError(f"X column {_column_names(labels, j)} is constant")
    r = np.corrcoef(a, rowvar=False)
    values, vectors = np.linalg.eigh(r)
    order = np.argsort(values)[::-1]
    values, vectors = np.clip(values[order], 0.0, None), vectors[:, order]
    if n_components is not None:
        if not 1 <= n_components <= a.shape[1]:
            raise MethodInputError(f"n_components must be in 1..{a.shape[1]}, got {n_components}")
        k = n_components
    elif min_variance is not None:
        share = np.cumsum(values) / values.sum()
        k = int(np.searchsorted(share, min_variance - 1e-12) + 1)
    else:
        k = max(int((values > 1.0).sum()), 1)
    lam = values[:k]
    w = np.abs(vectors[:, :k]) @ (lam / lam.sum())
    return _wrap(w / w.sum(), labels)


def combine_weights(
    subjective: Any,
    objective: Any,
    *,
    alpha: float = 0.5,
    method: Literal["linear", "multiplicative"] = "linear",
) -> Weights:
    """Combine subjective and objective weights (组合赋权).

    Linear: w = α·s + (1 − α)·o (both normalised first); multiplicative:
    w_j = s_j o_j / Σ_k s_k o_k. Series are aligned by label (the labels must match).

    >>> np.round(combine_weights([0.5, 0.5], [0.8, 0.2], alpha=0.5), 3).tolist()
    [0.65, 0.35]
    >>> np.round(combine_weights([0.5, 0.5], [0.8, 0.2], method="multiplicative"), 3).tolist()
    [0.8, 0.2]
    """
    labels: list[Any] | None = None
    if isinstance(subjective, pd.Series) and isinstance(objective, pd.Series):
        if set(subjective.index) != set(objective.index):
            raise MethodInputError("subjective and objective weights must name the same criteria")
        labels = list(subjective.index)
        objective = objective.reindex(labels)
    elif isinstance(subjective, pd.Series):
        labels = list(subjective.index)
    elif isinstance(objective, pd.Series):
        labels = list(objective.index)
    s = _as_weight_vector(subjective, "subjective")
    o = _as_weight_vector(objective, "objective")
    if s.shape != o.shape:
        raise MethodInputError(f"subjective has {s.size} weights but objective has {o.size}")
    if method == "linear":
        if not 0.0 <= alpha <= 1.0:
            raise MethodInputError(f"alpha must be in [0, 1], got {alpha}")
        w = alpha * s + (1.0 - alpha) * o
    elif method == "multiplicative":
        w = s * o
        if w.sum() <= 0:
            raise MethodInputError("subjective × objective weights are all zero")
    else:
        raise MethodInputError(f"method must be 'linear' or 'multiplicative', got {method!r}")
    return _wrap(w / w.sum(), labels)


def _as_weight_vector(w: Any, name: str) -> FloatArray:
    arr = np.asarray(w, dtype=float).ravel()
    if arr.size == 0 or np.isnan(arr).any() or (arr < 0).any() or arr.sum() <= 0:
        raise MethodInputError(f"{name} weights must be non-negative numbers with a positive sum")
    return arr / arr.sum()
