"""Reliability and validity of multi-item survey scales.

Cronbach's α (with α-if-deleted and Feldt's interval), McDonald's ω, composite
reliability and AVE, Kaiser–Meyer–Olkin sampling adequacy, Bartlett's test of
sphericity, exploratory factor analysis (minres / maximum likelihood / principal
components with varimax or promax rotation), the Fornell–Larcker criterion and the
heterotrait–monotrait ratio (HTMT).

Items are passed as a table: one row per respondent, one column per item (a
DataFrame keeps the item names in the results; a 2-D array gets ``item1``…).

Conventions follow pingouin (α and its interval) and factor_analyzer (KMO,
Bartlett, EFA) so the numbers can be checked against those libraries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from sqm.lazy import lazy_import
from sqm.methods._validation import FloatArray, MethodInputError, check_well_conditioned

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import scipy.linalg as linalg
    import scipy.optimize as optimize
    import scipy.stats as stats
else:
    np = lazy_import("numpy")
    pd = lazy_import("pandas")
    linalg = lazy_import("scipy.linalg")
    optimize = lazy_import("scipy.optimize")
    stats = lazy_import("scipy.stats")

__all__ = [
    "AlphaInterval",
    "EFAResult",
    "FactorMethod",
    "FornellLarckerResult",
    "NanPolicy",
    "Rotation",
    "alpha_if_deleted",
    "ave",
    "bartlett",
    "block_alphas",
    "composite_reliability",
    "cronbach_alpha",
    "cronbach_alpha_ci",
    "efa",
    "fornell_larcker",
    "htmt",
    "kmo",
    "mcdonald_omega",
]

NanPolicy = Literal["pairwise", "listwise"]
Rotation = Literal["varimax", "promax"]
FactorMethod = Literal["minres", "ml", "principal"]


def _items_frame(
    items: Any, name: str = "items", *, allow_nan: bool = False, min_items: int = 2
) -> pd.DataFrame:
    """Return the items as a float DataFrame, validated (≥ 2 rows, ≥ ``min_items`` columns)."""
    if isinstance(items, pd.DataFrame):
        frame = items
    else:
        arr = np.asarray(items)
        if arr.ndim != 2:
            raise MethodInputError(f"{name} must be 2-D (respondents × items), got {arr.ndim}-D")
        frame = pd.DataFrame(arr, columns=[f"item{j + 1}" for j in range(arr.shape[1])])
    if not all(dt == np.float64 for dt in frame.dtypes):
        try:
            frame = frame.astype(float)
        except (TypeError, ValueError) as exc:
            raise MethodInputError(f"{name} must be numeric: {exc}") from exc
    n, k = frame.shape
    if k < min_items:
        raise MethodInputError(f"{name} needs at least {min_items} items (columns), got {k}")
    if n < 2:
        raise MethodInputError(f"{name} needs at least 2 respondents (rows), got {n}")
    values = frame.to_numpy()
    if np.isinf(values).any():
        raise MethodInputError(f"{name} has an infinite value")
    if not allow_nan and np.isnan(values).any():
        r, c = np.argwhere(np.isnan(values))[0]
        raise MethodInputError(
            f"{name} has a missing value (NaN) at row {r}, column {frame.columns[c]!r}; "
            "this method needs complete data"
        )
    return frame


def _check_variance(frame: pd.DataFrame, name: str) -> None:
    sd = frame.std(ddof=1)
    bad = [str(c) for c, s in sd.items() if not np.isfinite(s) or s == 0]
    if bad:
        raise MethodInputError(
            f"{name}: item(s) {', '.join(bad)} have zero variance (every respondent "
            "gave the same answer); a constant item carries no information about reliability"
        )


def _pairwise_covariance(values: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Covariances over pairwise-complete rows (as pandas ``DataFrame.cov``), and the means.

    Computed with matrix products on columns centred at their overall means (centring
    leaves covariances unchanged and avoids cancellation), so a million rows take
    milliseconds instead of a loop over item pairs.
    """
    present = ~np.isnan(values)
    m = present.astype(float)
    n_answered = m.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(present, values, 0.0).sum(axis=0) / n_answered
    if (n_answered == values.shape[0]).all():
        n = float(values.shape[0])
        centred = values - mean
        cov = centred.T @ centred / (n - 1)
        return np.asarray(cov, dtype=float), mean
    z = np.where(present, values - mean, 0.0)
    counts = m.T @ m
    sums = z.T @ m  # sums[i, j]: Σ z_i over rows where both i and j were answered
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = (z.T @ z - sums * sums.T / counts) / (counts - 1)
    cov[counts < 2] = np.nan
    return np.asarray(cov, dtype=float), mean


def _covariance(frame: pd.DataFrame, nan_policy: NanPolicy, name: str) -> tuple[FloatArray, int]:
    if nan_policy not in ("pairwise", "listwise"):
        raise MethodInputError(f"nan_policy must be 'pairwise' or 'listwise', got {nan_policy!r}")
    values = frame.to_numpy()
    if nan_policy == "listwise":
        values = values[~np.isnan(values).any(axis=1)]
        if values.shape[0] < 2:
            raise MethodInputError(
                f"{name}: fewer than 2 complete respondents remain after listwise deletion"
            )
    cov, mean = _pairwise_covariance(values)
    var = np.diag(cov)
    # Relative tolerance: a constant column can leave a rounding-level variance.
    floor = 1e-12 * (np.abs(mean) + 1.0) ** 2
    bad = [
        str(c)
        for c, v, f in zip(frame.columns, var, floor, strict=True)
        if not np.isfinite(v) or v <= f
    ]
    if bad:
        raise MethodInputError(
            f"{name}: item(s) {', '.join(bad)} have zero variance (every respondent "
            "gave the same answer) or fewer than 2 answers; such an item carries no "
            "information about reliability"
        )
    if np.isnan(cov).any():
        raise MethodInputError(
            f"{name}: some pair of items has fewer than 2 respondents answering both"
        )
    return cov, values.shape[0]


def _alpha_from_cov(cov: FloatArray) -> float:
    k = cov.shape[0]
    return float(k / (k - 1) * (1.0 - np.trace(cov) / cov.sum()))


def cronbach_alpha(items: Any, nan_policy: NanPolicy = "pairwise") -> float:
    """Cronbach's α: the internal-consistency reliability of a summed scale.

    ``α = k / (k − 1) · (1 − Σ σ²ᵢ / σ²_total)`` computed from the item covariance
    matrix ``C`` as ``k/(k−1) · (1 − tr C / 1ᵀC1)``.

    Missing answers: ``nan_policy="pairwise"`` (default, as pingouin and R's
    ``psych::alpha``) estimates each covariance from the respondents who answered
    both items; ``"listwise"`` first drops every respondent with a missing answer.

    Reference: Cronbach, L. J. (1951), *Psychometrika* 16, 297–334.

    >>> round(cronbach_alpha([[1, 2, 2], [2, 3, 3], [3, 3, 4], [4, 5, 5]]), 4)
    0.9825
    """
    frame = _items_frame(items, allow_nan=True)
    cov, _ = _covariance(frame, nan_policy, "items")
    return _alpha_from_cov(cov)


def alpha_if_deleted(items: Any, nan_policy: NanPolicy = "pairwise") -> pd.Series:
    """Cronbach's α of the scale recomputed without each item in turn.

    An item whose deletion raises α noticeably is a candidate for revision. Needs at
    least 3 items (α needs 2 after the deletion).

    >>> alpha_if_deleted([[1, 2, 2], [2, 3, 3], [3, 3, 4], [4, 5, 5]]).round(3).tolist()
    [0.96, 1.0, 0.96]
    """
    frame = _items_frame(items, allow_nan=True, min_items=3)
    cov, _ = _covariance(frame, nan_policy, "items")
    k = cov.shape[0]
    out = np.empty(k)
    for j in range(k):
        keep = np.arange(k) != j
        out[j] = _alpha_from_cov(cov[np.ix_(keep, keep)])
    return pd.Series(out, index=frame.columns, name="alpha_if_deleted")


class AlphaInterval(NamedTuple):
    """Cronbach's α with its confidence interval."""

    alpha: float
    lower: float
    upper: float


def cronbach_alpha_ci(
    items: Any, confidence: float = 0.95, nan_policy: NanPolicy = "pairwise"
) -> AlphaInterval:
    """Cronbach's α with Feldt's (1965) exact F-based confidence interval.

    With ``n`` respondents and ``k`` items, ``(1 − α)/(1 − α̂) ~ F(n − 1, (n − 1)(k − 1))``,
    so the interval is ``1 − (1 − α̂)·F_{γ/2}`` … ``1 − (1 − α̂)·F_{1−γ/2}`` (upper
    quantiles), as pingouin's ``cronbach_alpha`` computes it. ``n`` is the number of
    rows used: all rows under pairwise handling, complete rows under listwise
    deletion (pingouin keeps the original row count in both cases). pingouin
    rounds the bounds to 3 decimals; this function does not.

    Reference: Feldt, L. S. (1965), *Psychometrika* 30, 357–370.

    >>> r = cronbach_alpha_ci([[1, 2, 2], [2, 3, 3], [3, 3, 4], [4, 5, 5]])
    >>> round(r.lower, 3), round(r.upper, 3)
    (0.884, 0.999)
    """
    if not 0 < confidence < 1:
        raise MethodInputError(f"confidence must be in (0, 1), got {confidence}")
    frame = _items_frame(items, allow_nan=True)
    cov, n_used = _covariance(frame, nan_policy, "items")
    n = n_used if nan_policy == "listwise" else frame.shape[0]
    alpha = _alpha_from_cov(cov)
    k = cov.shape[0]
    tail = 1.0 - confidence
    df1, df2 = n - 1, (n - 1) * (k - 1)
    lower = 1.0 - (1.0 - alpha) * float(stats.f.isf(tail / 2, df1, df2))
    upper = 1.0 - (1.0 - alpha) * float(stats.f.isf(1 - tail / 2, df1, df2))
    return AlphaInterval(alpha, lower, upper)


def block_alphas(
    items: pd.DataFrame,
    blocks: Mapping[str, Sequence[str]],
    confidence: float = 0.95,
    nan_policy: NanPolicy = "pairwise",
) -> pd.DataFrame:
    """Cronbach's α with Feldt's interval for each block (dimension) of a questionnaire.

    ``blocks`` maps a block name (e.g. a SERVQUAL dimension or an ECSI latent variable)
    to its item columns. Returns one row per block: ``n_items``, ``alpha``, ``lower``,
    ``upper`` (see :func:`cronbach_alpha_ci`).

    >>> x = pd.DataFrame({"a": [1, 2, 3, 4], "b": [2, 3, 3, 5], "c": [2, 3, 4, 5]})
    >>> block_alphas(x, {"all": ["a", "b", "c"]})["alpha"].round(4).tolist()
    [0.9825]
    """
    if not isinstance(items, pd.DataFrame):
        raise MethodInputError("items must be a DataFrame whose columns the blocks name")
    rows = []
    for name, cols in blocks.items():
        absent = [c for c in cols if c not in items.columns]
        if absent:
            raise MethodInputError(f"blocks[{name!r}] names columns not in items: {absent}")
        r = cronbach_alpha_ci(items[list(cols)], confidence, nan_policy)
        rows.append({"n_items": len(cols), "alpha": r.alpha, "lower": r.lower, "upper": r.upper})
    return pd.DataFrame(rows, index=pd.Index(list(blocks), name="block"))


def _as_loadings(loadings: Any, name: str = "loadings") -> FloatArray:
    arr = np.asarray(loadings, dtype=float).ravel()
    if arr.size < 1:
        raise MethodInputError(f"{name} must have at least one value")
    if np.isnan(arr).any():
        raise MethodInputError(f"{name} has a missing value (NaN)")
    if (np.abs(arr) > 1).any():
        raise MethodInputError(
            f"{name} must be standardized (|λ| ≤ 1), found {arr[np.abs(arr) > 1][0]}"
        )
    return arr


def composite_reliability(loadings: Any) -> float:
    """Composite reliability (Jöreskog's ρ_c) of a reflective block.

    ``CR = (Σλ)² / ((Σλ)² + Σ(1 − λ²))`` from standardized loadings ``λ``.

    Reference: Fornell, C. & Larcker, D. F. (1981), *J. Marketing Research* 18, 39–50.

    >>> round(composite_reliability([0.7, 0.8, 0.9]), 4)
    0.8446
    """
    lam = _as_loadings(loadings)
    s = lam.sum() ** 2
    return float(s / (s + (1.0 - lam**2).sum()))


def ave(loadings: Any) -> float:
    """Average variance extracted: the mean squared standardized loading, ``Σλ² / k``.

    AVE ≥ 0.5 is the usual threshold for convergent validity (Fornell & Larcker 1981).

    >>> round(ave([0.7, 0.8, 0.9]), 4)
    0.6467
    """
    lam = _as_loadings(loadings)
    return float((lam**2).mean())


def mcdonald_omega(items: Any, method: Literal["minres", "ml"] = "minres") -> float:
    """McDonald's ω (omega total) of a unidimensional scale.

    A one-factor model is fitted to the item correlations (:func:`efa`), and
    ``ω = (Σλ)² / ((Σλ)² + Σψ)`` with ``λ`` the standardized loadings and
    ``ψ = 1 − λ²`` the uniquenesses. Items that load negatively should be reversed
    first (the sum of loadings assumes one direction).

    Reference: McDonald, R. P. (1999), *Test Theory: A Unified Treatment*, ch. 6.

    >>> rng = np.random.default_rng(0)
    >>> f = rng.normal(size=500)
    >>> x = np.column_stack([f + rng.normal(size=500) for _ in range(4)])
    >>> 0.7 < mcdonald_omega(x) < 0.9
    True
    """
    result = efa(items, n_factors=1, rotation=None, method=method)
    lam = result.loadings.iloc[:, 0].to_numpy()
    if lam.sum() < 0:
        lam = -lam
    psi = result.uniquenesses.to_numpy()
    s = lam.sum() ** 2
    return float(s / (s + psi.sum()))


def _correlation(values: FloatArray) -> FloatArray:
    corr = np.corrcoef(values, rowvar=False)
    return np.asarray(corr, dtype=float)


def kmo(items: Any) -> tuple[pd.Series, float]:
    """Kaiser–Meyer–Olkin measure of sampling adequacy, per item and overall.

    With correlations ``r`` and partial correlations ``q`` (from the inverse
    correlation matrix, each pair controlling for all other items), over pairs
    ``i ≠ j``: ``KMO = Σr² / (Σr² + Σq²)``; the per-item MSA sums over the item's row.
    Values ≥ 0.6 are conventionally taken as adequate for factor analysis.

    Matches ``factor_analyzer.calculate_kmo``. Reference: Kaiser, H. F. (1970),
    *Psychometrika* 35, 401–415.

    >>> rng = np.random.default_rng(1)
    >>> f = rng.normal(size=(300, 1))
    >>> per_item, overall = kmo(f + rng.normal(size=(300, 4)))
    >>> overall > 0.6
    True
    """
    frame = _items_frame(items)
    _check_variance(frame, "items")
    corr = _correlation(frame.to_numpy())
    check_well_conditioned(
        corr, "the items' correlation matrix", "KMO (partial correlations from its inverse)"
    )
    inv = linalg.inv(corr)
    d = np.sqrt(np.diag(inv))
    partial = -inv / np.outer(d, d)
    off = ~np.eye(corr.shape[0], dtype=bool)
    r2 = np.where(off, corr**2, 0.0)
    q2 = np.where(off, partial**2, 0.0)
    per_item = r2.sum(axis=0) / (r2.sum(axis=0) + q2.sum(axis=0))
    overall = r2.sum() / (r2.sum() + q2.sum())
    return pd.Series(per_item, index=frame.columns, name="kmo"), float(overall)


def bartlett(items: Any) -> tuple[float, float]:
    """Bartlett's test of sphericity: are the item correlations all zero?

    ``χ² = −(n − 1 − (2p + 5)/6) · ln|R|`` on ``p(p − 1)/2`` degrees of freedom, with
    ``R`` the item correlation matrix and ``n`` respondents. A small p-value says the
    items share variance, so factor analysis is sensible. Returns ``(chi2, p)``.

    Matches ``factor_analyzer.calculate_bartlett_sphericity``. Reference: Bartlett,
    M. S. (1950), *Br. J. Stat. Psychol.* 3, 77–85.

    >>> rng = np.random.default_rng(2)
    >>> chi2, p = bartlett(rng.normal(size=(200, 3)) + rng.normal(size=(200, 1)))
    >>> p < 0.001
    True
    """
    frame = _items_frame(items)
    _check_variance(frame, "items")
    n, p = frame.shape
    corr = _correlation(frame.to_numpy())
    check_well_conditioned(
        corr, "the items' correlation matrix", "Bartlett's test (the log of its determinant)"
    )
    _, logdet = np.linalg.slogdet(corr)  # positive: corr is well conditioned
    chi2 = -(n - 1 - (2 * p + 5) / 6) * logdet
    dof = p * (p - 1) / 2
    return float(chi2), float(stats.chi2.sf(chi2, dof))


@dataclass(frozen=True)
class EFAResult:
    """Result of :func:`efa`.

    ``loadings`` (items × factors), ``communalities`` (h² = Σ loading² per item),
    ``uniquenesses`` (1 − h²), ``variance`` (rows ``ss_loadings``,
    ``proportion``, ``cumulative``; one column per factor), ``factor_correlation``
    (Φ for an oblique rotation, else ``None``), ``converged`` (the optimizer's
    report; always True for ``principal``) and ``eigenvalues`` of the item correlation
    matrix, largest first (for a scree plot or Kaiser's eigenvalue-above-1 rule).
    """

    loadings: pd.DataFrame
    communalities: pd.Series
    uniquenesses: pd.Series
    variance: pd.DataFrame
    factor_correlation: pd.DataFrame | None
    converged: bool
    eigenvalues: pd.Series


def _top_eigen(matrix: FloatArray, n: int) -> tuple[FloatArray, FloatArray]:
    values, vectors = np.linalg.eigh(matrix)
    return values[::-1][:n], vectors[:, ::-1][:, :n]


def _uls_objective(psi: FloatArray, corr: FloatArray, n_factors: int) -> float:
    reduced = corr.copy()
    np.fill_diagonal(reduced, 1.0 - psi)
    values, vectors = _top_eigen(reduced, n_factors)
    values = np.maximum(values, np.finfo(float).eps * 100)
    lam = vectors * np.sqrt(values)
    return float(((reduced - lam @ lam.T) ** 2).sum())


def _uls_gradient(psi: FloatArray, corr: FloatArray, n_factors: int) -> FloatArray:
    # f = Σ over discarded eigenvalues λᵢ² of the reduced matrix (Eckart–Young), and
    # ∂λᵢ/∂(1 − ψ_k) = v_ik², so ∂f/∂ψ_k = −2 Σ_discarded λᵢ v_ik².
    reduced = corr.copy()
    np.fill_diagonal(reduced, 1.0 - psi)
    values, vectors = np.linalg.eigh(reduced)
    rest = len(values) - n_factors
    grad = -2.0 * (vectors[:, :rest] ** 2) @ values[:rest]
    return np.asarray(grad, dtype=float)


def _ml_objective(psi: FloatArray, corr: FloatArray, n_factors: int) -> float:
    sc = 1.0 / np.sqrt(psi)
    values = np.linalg.eigvalsh(corr * np.outer(sc, sc))[::-1][n_factors:]
    return float(-(np.sum(np.log(values) - values) - n_factors + corr.shape[0]))


def _fit_common_factors(
    corr: FloatArray, n_factors: int, method: FactorMethod
) -> tuple[FloatArray, bool]:
    # Same estimator as factor_analyzer (after R's psych::fa / factanal): start from
    # 1 − SMC, minimise over uniquenesses with L-BFGS-B inside [0.005, 1].
    smc = 1.0 - 1.0 / np.diag(linalg.inv(corr))
    start = 1.0 - smc
    objective = _ml_objective if method == "ml" else _uls_objective
    res = optimize.minimize(
        objective,
        start,
        jac=None if method == "ml" else _uls_gradient,
        method="L-BFGS-B",
        bounds=[(0.005, 1.0)] * corr.shape[0],
        options={"maxiter": 1000},
        args=(corr, n_factors),
    )
    psi = np.asarray(res.x, dtype=float)
    if method == "ml":
        sc = 1.0 / np.sqrt(psi)
        values, vectors = _top_eigen(corr * np.outer(sc, sc), n_factors)
        lam = vectors * np.sqrt(np.maximum(values - 1.0, 0.0))
        lam = lam * np.sqrt(psi)[:, None]
    else:
        reduced = corr.copy()
        np.fill_diagonal(reduced, 1.0 - psi)
        values, vectors = _top_eigen(reduced, n_factors)
        lam = vectors * np.sqrt(np.maximum(values, 0.0))
    return lam, bool(res.success)


def _varimax(
    loadings: FloatArray, normalize: bool = True, max_iter: int = 500, tol: float = 1e-5
) -> FloatArray:
    x = loadings.copy()
    p, m = x.shape
    if normalize:
        h = np.sqrt((x**2).sum(axis=1))
        x = x / h[:, None]
    rot = np.eye(m)
    d = 0.0
    for _ in range(max_iter):
        old_d = d
        z = x @ rot
        b = x.T @ (z**3 - z * ((z**2).sum(axis=0) / p))
        u, s, vt = np.linalg.svd(b)
        rot = u @ vt
        d = float(s.sum())
        if d < old_d * (1 + tol):
            break
    out = x @ rot
    if normalize:
        out = out * h[:, None]
    return np.asarray(out, dtype=float)


def _promax(loadings: FloatArray, power: int = 4) -> tuple[FloatArray, FloatArray]:
    # Kaiser-normalised varimax, then Hendrickson–White target rotation (R's promax).
    h = np.sqrt((loadings**2).sum(axis=1))
    x = _varimax(loadings / h[:, None], normalize=True)
    target = x * np.abs(x) ** (power - 1)
    gram = check_well_conditioned(x.T @ x, "the varimax loadings' cross-product", "promax")
    coef = np.linalg.solve(gram, x.T @ target)
    coef = coef * np.sqrt(np.diag(np.linalg.pinv(coef.T @ coef)))[None, :]
    z = (x @ coef) * h[:, None]
    inv = np.linalg.inv(check_well_conditioned(coef, "the promax transformation", "promax"))
    phi = inv @ inv.T
    return z, phi


def efa(
    items: Any,
    n_factors: int,
    rotation: Rotation | None = "varimax",
    method: FactorMethod = "minres",
) -> EFAResult:
    """Exploratory factor analysis of the item correlation matrix.

    ``method``: ``"minres"`` (minimum residual / unweighted least squares),
    ``"ml"`` (maximum likelihood, as R's ``factanal``) or ``"principal"`` (principal
    components: loadings are eigenvectors × √eigenvalues of the correlation matrix).
    ``rotation``: ``"varimax"`` (orthogonal, Kaiser-normalised), ``"promax"``
    (oblique, power 4; ``factor_correlation`` holds Φ) or ``None``.

    As factor_analyzer (and R's psych) do, factors are signed so that each column of
    loadings sums to a positive number and, except for ``principal``, ordered by
    explained variance. Communality ``h²ᵢ = Σⱼ λ²ᵢⱼ``, uniqueness ``1 − h²ᵢ``, and
    ``variance`` holds the sum of squared loadings per factor, its share of the total
    item variance (÷ number of items) and the cumulative share.

    Reference: Harman, H. H. (1976), *Modern Factor Analysis*; Kaiser, H. F. (1958),
    *Psychometrika* 23, 187–200 (varimax); Hendrickson, A. E. & White, P. O. (1964),
    *Br. J. Stat. Psychol.* 17, 65–70 (promax).

    >>> rng = np.random.default_rng(3)
    >>> f = rng.normal(size=(400, 2))
    >>> x = np.column_stack([f[:, 0], f[:, 0], f[:, 1], f[:, 1]]) + rng.normal(size=(400, 4))
    >>> efa(x, 2).loadings.shape
    (4, 2)
    """
    frame = _items_frame(items, min_items=2)
    _check_variance(frame, "items")
    p = frame.shape[1]
    if not isinstance(n_factors, int | np.integer) or not 1 <= n_factors < p:
        raise MethodInputError(
            f"n_factors must be an integer from 1 to {p - 1} (fewer than the {p} items), "
            f"got {n_factors!r}"
        )
    if method not in ("minres", "ml", "principal"):
        raise MethodInputError(f"method must be 'minres', 'ml' or 'principal', got {method!r}")
    if rotation not in ("varimax", "promax", None):
        raise MethodInputError(f"rotation must be 'varimax', 'promax' or None, got {rotation!r}")
    corr = _correlation(frame.to_numpy())
    if method == "principal":
        values, vectors = _top_eigen(corr, n_factors)
        lam = vectors * np.sqrt(np.maximum(values, 0.0))
        converged = True
    else:
        check_well_conditioned(
            corr,
            "the items' correlation matrix",
            f"{method} factor extraction (every item needs some unique variance)",
        )
        lam, converged = _fit_common_factors(corr, n_factors, method)

    phi: FloatArray | None = None
    if rotation is not None and n_factors > 1:
        if rotation == "varimax":
            lam = _varimax(lam)
        else:
            lam, phi = _promax(lam)
    # Sign convention of R and factor_analyzer: each factor's loadings sum positive.
    if True:
        signs = np.sign(lam.sum(axis=0))
        signs[signs == 0] = 1.0
        lam = lam * signs
        if phi is not None:
            phi = phi * np.outer(signs, signs)
    if method != "principal":
        order = np.argsort((lam**2).sum(axis=0))[::-1]
        lam = lam[:, order]
        if phi is not None:
            phi = phi[np.ix_(order, order)]

    names = [f"factor{j + 1}" for j in range(n_factors)]
    loadings = pd.DataFrame(lam, index=frame.columns, columns=names)
    h2 = (lam**2).sum(axis=1)
    ss = (lam**2).sum(axis=0)
    variance = pd.DataFrame(
        [ss, ss / p, np.cumsum(ss / p)],
        index=["ss_loadings", "proportion", "cumulative"],
        columns=names,
    )
    return EFAResult(
        loadings=loadings,
        communalities=pd.Series(h2, index=frame.columns, name="communality"),
        uniquenesses=pd.Series(1.0 - h2, index=frame.columns, name="uniqueness"),
        variance=variance,
        factor_correlation=None if phi is None else pd.DataFrame(phi, index=names, columns=names),
        converged=converged,
        eigenvalues=pd.Series(
            np.linalg.eigvalsh(corr)[::-1],
            index=pd.RangeIndex(1, p + 1, name="component"),
            name="eigenvalue",
        ),
    )


@dataclass(frozen=True)
class FornellLarckerResult:
    """Fornell–Larcker table and verdict.

    ``matrix``: √AVE on the diagonal, correlations between constructs off it.
    ``passed``: per construct, whether √AVE exceeds its largest absolute correlation
    with any other construct.
    """

    matrix: pd.DataFrame
    passed: pd.Series


def fornell_larcker(
    scores: pd.DataFrame, ave_by_construct: Mapping[str, float | Sequence[float]]
) -> FornellLarckerResult:
    """Fornell–Larcker criterion for discriminant validity.

    Each construct's √AVE must exceed its correlation with every other construct
    (it shares more variance with its own items than with another construct).
    ``scores`` holds one column of latent scores per construct (e.g. PLS scores);
    ``ave_by_construct`` the AVE of each (see :func:`ave`), or its standardized
    loadings, from which the AVE is computed.

    Reference: Fornell, C. & Larcker, D. F. (1981), *J. Marketing Research* 18, 39–50.

    >>> s = pd.DataFrame({"A": [1, 2, 3, 4, 5.0], "B": [2, 1, 4, 3, 5.0]})
    >>> fornell_larcker(s, {"A": 0.7, "B": 0.6}).passed.tolist()
    [True, False]
    """
    frame = _items_frame(scores, "scores", min_items=2)
    missing = [c for c in frame.columns if c not in ave_by_construct]
    if missing:
        raise MethodInputError(f"ave_by_construct has no AVE for construct(s) {missing}")
    root = np.array(
        [
            ave(v) if isinstance(v, Sequence | np.ndarray | pd.Series) else float(v)
            for v in (ave_by_construct[c] for c in frame.columns)
        ]
    )
    if ((root < 0) | (root > 1)).any() or np.isnan(root).any():
        raise MethodInputError("ave_by_construct values must be in [0, 1]")
    root = np.sqrt(root)
    _check_variance(frame, "scores")
    corr = _correlation(frame.to_numpy())
    table = corr.copy()
    np.fill_diagonal(table, root)
    off = np.abs(corr)
    np.fill_diagonal(off, -np.inf)
    passed = root > off.max(axis=1)
    return FornellLarckerResult(
        matrix=pd.DataFrame(table, index=frame.columns, columns=frame.columns),
        passed=pd.Series(passed, index=frame.columns, name="passed"),
    )


def htmt(
    items: pd.DataFrame, blocks: Mapping[str, Sequence[str]], absolute: bool = True
) -> pd.DataFrame:
    """Heterotrait–monotrait ratio of correlations between every pair of constructs.

    For constructs ``i`` and ``j``: the mean correlation between items of ``i`` and
    items of ``j`` (heterotrait–heteromethod), divided by the geometric mean of the
    average correlation among the items of ``i`` and among the items of ``j``
    (monotrait–heteromethod). With ``absolute=True`` (default, as cSEM) absolute
    correlations are averaged. HTMT < 0.85 (strict) or < 0.90 (liberal) supports
    discriminant validity. Every block needs at least 2 items. The diagonal is 1.

    Reference: Henseler, J., Ringle, C. M. & Sarstedt, M. (2015), *J. Acad. Marketing
    Science* 43, 115–135, eq. 6.

    >>> rng = np.random.default_rng(4)
    >>> f = rng.normal(size=(300, 2))
    >>> x = pd.DataFrame(np.repeat(f, 2, axis=1) + rng.normal(size=(300, 4)), columns=list("abcd"))
    >>> float(htmt(x, {"F1": ["a", "b"], "F2": ["c", "d"]}).loc["F1", "F2"]) < 0.3
    True
    """
    if not isinstance(items, pd.DataFrame):
        raise MethodInputError("items must be a DataFrame whose columns the blocks name")
    names = list(blocks)
    if len(names) < 2:
        raise MethodInputError(f"blocks must name at least 2 constructs, got {len(names)}")
    for name in names:
        cols = list(blocks[name])
        if len(cols) < 2:
            raise MethodInputError(
                f"blocks[{name!r}] has {len(cols)} item(s); HTMT needs at least 2 per block"
            )
        absent = [c for c in cols if c not in items.columns]
        if absent:
            raise MethodInputError(f"blocks[{name!r}] names columns not in items: {absent}")
    used = [c for name in names for c in blocks[name]]
    frame = _items_frame(items[used], min_items=2)
    _check_variance(frame, "items")
    corr = pd.DataFrame(_correlation(frame.to_numpy()), index=used, columns=used)
    if absolute:
        corr = corr.abs()

    def mono(cols: Sequence[str]) -> float:
        sub = corr.loc[list(cols), list(cols)].to_numpy()
        return float(sub[np.triu_indices_from(sub, k=1)].mean())

    within = {name: mono(blocks[name]) for name in names}
    out = pd.DataFrame(np.eye(len(names)), index=names, columns=names)
    for a in range(len(names)):
        for b in range(a + 1, len(names)):
            hetero = float(
                corr.loc[list(blocks[names[a]]), list(blocks[names[b]])].to_numpy().mean()
            )
            denom = within[names[a]] * within[names[b]]
            if denom <= 0:
                raise MethodInputError(
                    f"average within-block correlation of {names[a]!r} or {names[b]!r} "
                    "is not positive; HTMT is undefined"
                )
            value = hetero / np.sqrt(denom)
            out.iloc[a, b] = out.iloc[b, a] = value
    return out
