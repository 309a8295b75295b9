"""Agreement between raters: Cohen's κ, Fleiss' κ and intraclass correlations.

Used to check that inspectors (mystery shoppers) score stores consistently before
their scores are compared across stores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from sqm.lazy import lazy_import
from sqm.methods._validation import MethodInputError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import scipy.stats as stats
else:
    np = lazy_import("numpy")
    pd = lazy_import("pandas")
    stats = lazy_import("scipy.stats")

__all__ = [
    "KappaResult",
    "cohen_kappa",
    "fleiss_kappa",
    "icc",
    "rating_counts",
]


def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise MethodInputError(f"confidence must be in (0, 1), got {confidence}")
    return float(stats.norm.isf((1 - confidence) / 2))


def _sorted_labels(labels: set[Any]) -> list[Any]:
    try:
        return sorted(labels)
    except TypeError as exc:
        raise MethodInputError(
            "ratings mix label types that cannot be ordered; pass labels explicitly"
        ) from exc


@dataclass(frozen=True)
class KappaResult:
    """A κ statistic with its uncertainty.

    ``se`` is the large-sample standard error used for the interval
    (``lower``/``upper``); ``se0`` the standard error under "agreement is only
    chance" used for ``z`` and the two-sided ``p`` value.
    """

    kappa: float
    se: float
    lower: float
    upper: float
    se0: float
    z: float
    p: float


def cohen_kappa(
    rater1: Any,
    rater2: Any,
    weights: Literal["linear", "quadratic"] | None = None,
    labels: Any = None,
    confidence: float = 0.95,
) -> KappaResult:
    """Cohen's κ between two raters who classified the same subjects.

    ``κ = (p_o − p_e) / (1 − p_e)`` with agreement weights ``w_ij``: 1 on the diagonal
    and 0 elsewhere (unweighted), ``1 − |i−j|/(k−1)`` (linear) or
    ``1 − (i−j)²/(k−1)²`` (quadratic); ``p_o = ΣΣ w_ij p_ij``, ``p_e = ΣΣ w_ij p_i· p_·j``.
    Weighted κ needs ordered categories: pass ``labels`` in their order (default:
    the sorted union of the labels used).

    Standard errors are those of Fleiss, Cohen & Everitt (1969): with
    ``w̄_i· = Σ_j p_·j w_ij`` and ``w̄_·j = Σ_i p_i· w_ij``,
    ``var(κ) = [ΣΣ p_ij (w_ij − (w̄_i· + w̄_·j)(1 − κ))² − (κ − p_e(1 − κ))²] / (n(1 − p_e)²)``
    and under the null ``var₀ = [ΣΣ p_i· p_·j (w_ij − (w̄_i· + w̄_·j))² − p_e²] / (n(1 − p_e)²)``.

    References: Cohen, J. (1960), *Educ. Psychol. Meas.* 20, 37–46; Cohen, J. (1968),
    *Psychol. Bull.* 70, 213–220; Fleiss, J. L., Cohen, J. & Everitt, B. S. (1969),
    *Psychol. Bull.* 72, 323–327. κ matches ``sklearn.metrics.cohen_kappa_score``.

    >>> round(cohen_kappa([1, 1, 2, 2, 3, 3], [1, 1, 2, 3, 3, 3]).kappa, 4)
    0.75
    """
    a = np.asarray(rater1, dtype=object).ravel()
    b = np.asarray(rater2, dtype=object).ravel()
    if a.size != b.size:
        raise MethodInputError(
            f"rater1 and rater2 must rate the same subjects: {a.size} vs {b.size} ratings"
        )
    if a.size < 2:
        raise MethodInputError(f"need at least 2 rated subjects, got {a.size}")
    if pd.isna(a).any() or pd.isna(b).any():
        raise MethodInputError("ratings have a missing value; drop subjects not rated by both")
    cats = np.asarray(
        _sorted_labels(set(a) | set(b)) if labels is None else list(labels), dtype=object
    )
    index = pd.Index(cats)
    if not index.is_unique:
        raise MethodInputError("labels must not repeat")
    ia, ib = index.get_indexer(a), index.get_indexer(b)
    if (ia < 0).any() or (ib < 0).any():
        raise MethodInputError("a rating is not among labels")
    k = len(cats)
    if k < 2:
        raise MethodInputError("need at least 2 categories for κ")
    n = a.size
    table = np.bincount(ia * k + ib, minlength=k * k).reshape(k, k) / n
    i, j = np.indices((k, k))
    if weights is None:
        w = (i == j).astype(float)
    elif weights == "linear":
        w = 1.0 - np.abs(i - j) / (k - 1)
    elif weights == "quadratic":
        w = 1.0 - (i - j) ** 2 / (k - 1) ** 2
    else:
        raise MethodInputError(f"weights must be None, 'linear' or 'quadratic', got {weights!r}")
    row, col = table.sum(axis=1), table.sum(axis=0)
    po = float((w * table).sum())
    pe = float((w * np.outer(row, col)).sum())
    if pe >= 1:
        raise MethodInputError("chance agreement is 1 (both raters used one category); κ undefined")
    kappa = (po - pe) / (1 - pe)
    wi = w @ col
    wj = row @ w
    wsum = wi[:, None] + wj[None, :]
    var = ((table * (w - wsum * (1 - kappa)) ** 2).sum() - (kappa - pe * (1 - kappa)) ** 2) / (
        n * (1 - pe) ** 2
    )
    var0 = ((np.outer(row, col) * (w - wsum) ** 2).sum() - pe**2) / (n * (1 - pe) ** 2)
    se, se0 = float(np.sqrt(max(var, 0.0))), float(np.sqrt(max(var0, 0.0)))
    z = _z(confidence)
    zstat = kappa / se0 if se0 > 0 else float("inf")
    return KappaResult(
        kappa=float(kappa),
        se=se,
        lower=float(kappa - z * se),
        upper=float(kappa + z * se),
        se0=se0,
        z=float(zstat),
        p=float(2 * stats.norm.sf(abs(zstat))),
    )


def rating_counts(ratings: Any, labels: Any = None) -> pd.DataFrame:
    """Turn a subjects × raters table of category labels into subjects × categories counts.

    >>> rating_counts([["a", "a", "b"], ["b", "b", "b"]]).to_numpy().tolist()
    [[2, 1], [0, 3]]
    """
    arr = np.asarray(ratings, dtype=object)
    if arr.ndim != 2:
        raise MethodInputError("ratings must be 2-D (subjects × raters)")
    if pd.isna(arr).any():
        raise MethodInputError("ratings have a missing value; Fleiss' κ needs every rater")
    cats = _sorted_labels(set(arr.ravel())) if labels is None else list(labels)
    index = pd.Index(cats)
    codes = index.get_indexer(arr.ravel()).reshape(arr.shape)
    if (codes < 0).any():
        raise MethodInputError("a rating is not among labels")
    k = len(cats)
    counts = np.zeros((arr.shape[0], k), dtype=np.int64)
    rows = np.repeat(np.arange(arr.shape[0]), arr.shape[1])
    np.add.at(counts, (rows, codes.ravel()), 1)
    return pd.DataFrame(counts, columns=cats)


def fleiss_kappa(counts: Any, confidence: float = 0.95) -> KappaResult:
    """Fleiss' κ for many raters: agreement on a nominal classification.

    ``counts`` is subjects × categories, each cell the number of raters who put the
    subject in the category; every subject has the same number ``m`` of ratings (use
    :func:`rating_counts` on raw labels). With ``p_j`` the share of all ratings in
    category ``j`` and ``P_i = (Σ_j n_ij² − m) / (m(m − 1))``,
    ``κ = (P̄ − P̄_e)/(1 − P̄_e)``, ``P̄_e = Σ p_j²``.

    ``se0`` (for ``z`` and ``p``) is the null standard error of Fleiss, Nee & Landis
    (1979): ``var₀ = 2 / (N m (m − 1)) · [(Σ p_j q_j)² − Σ p_j q_j (q_j − p_j)] / (Σ p_j q_j)²``.
    No non-null standard error is given in closed form, so ``se`` equals ``se0`` and the
    interval ``κ ± z·se0`` is only a rough guide (bootstrap subjects for a better one).

    References: Fleiss, J. L. (1971), *Psychol. Bull.* 76, 378–382 (worked example:
    κ = 0.430); Fleiss, J. L., Nee, J. C. M. & Landis, J. R. (1979), *Psychol. Bull.*
    86, 974–977. κ matches ``statsmodels.stats.inter_rater.fleiss_kappa``.

    >>> round(fleiss_kappa([[3, 0], [0, 3], [2, 1], [3, 0]]).kappa, 4)
    0.625
    """
    table = np.asarray(counts, dtype=float)
    if table.ndim != 2:
        raise MethodInputError("counts must be 2-D (subjects × categories)")
    if np.isnan(table).any() or (table < 0).any() or (table != np.round(table)).any():
        raise MethodInputError("counts must be non-negative whole numbers (no NaN)")
    n_sub, _ = table.shape
    if n_sub < 2:
        raise MethodInputError(f"need at least 2 subjects, got {n_sub}")
    m_per = table.sum(axis=1)
    if (m_per != m_per[0]).any():
        bad = int(np.argmax(m_per != m_per[0]))
        raise MethodInputError(
            f"every subject needs the same number of ratings: subject 0 has {m_per[0]:g}, "
            f"subject {bad} has {m_per[bad]:g}"
        )
    m = float(m_per[0])
    if m < 2:
        raise MethodInputError("each subject needs at least 2 ratings")
    p = table.sum(axis=0) / (n_sub * m)
    p_i = ((table**2).sum(axis=1) - m) / (m * (m - 1))
    p_bar, pe = float(p_i.mean()), float((p**2).sum())
    if pe >= 1:
        raise MethodInputError("all ratings fall in one category; κ is undefined")
    kappa = (p_bar - pe) / (1 - pe)
    q = 1 - p
    pq = float((p * q).sum())
    var0 = 2 / (n_sub * m * (m - 1)) * (pq**2 - float((p * q * (q - p)).sum())) / pq**2
    se0 = float(np.sqrt(max(var0, 0.0)))
    z = _z(confidence)
    zstat = kappa / se0
    return KappaResult(
        kappa=float(kappa),
        se=se0,
        lower=float(kappa - z * se0),
        upper=float(kappa + z * se0),
        se0=se0,
        z=float(zstat),
        p=float(2 * stats.norm.sf(abs(zstat))),
    )


_ICC_LABELS = {
    "ICC1": ("ICC(1,1)", "single rater, one-way random (each target rated by different raters)"),
    "ICC2": ("ICC(A,1)", "single rater, two-way random, absolute agreement"),
    "ICC3": ("ICC(C,1)", "single rater, two-way mixed, consistency"),
    "ICC1k": ("ICC(1,k)", "mean of k raters, one-way random"),
    "ICC2k": ("ICC(A,k)", "mean of k raters, two-way random, absolute agreement"),
    "ICC3k": ("ICC(C,k)", "mean of k raters, two-way mixed, consistency"),
}


def icc(
    data: Any,
    targets: str | None = None,
    raters: str | None = None,
    ratings: str | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """The six Shrout–Fleiss intraclass correlations with F tests and intervals.

    ``data`` is a targets × raters table of scores (complete), or long data with the
    column names ``targets``, ``raters`` and ``ratings`` (one row per score; must be
    balanced). From the two-way ANOVA mean squares — between targets ``BMS``, within
    targets ``WMS``, between raters ``JMS``, residual ``EMS`` — with ``n`` targets and
    ``k`` raters::

        ICC1  = (BMS − WMS) / (BMS + (k−1)WMS)        ICC1k = (BMS − WMS) / BMS
        ICC2  = (BMS − EMS) / (BMS + (k−1)EMS + k(JMS − EMS)/n)
        ICC2k = (BMS − EMS) / (BMS + (JMS − EMS)/n)
        ICC3  = (BMS − EMS) / (BMS + (k−1)EMS)        ICC3k = (BMS − EMS) / BMS

    F tests: ``BMS/WMS`` on (n−1, n(k−1)) for ICC1/ICC1k, ``BMS/EMS`` on
    (n−1, (n−1)(k−1)) otherwise. Intervals as in Shrout & Fleiss (1979) and
    McGraw & Wong (1996), computed exactly as ``pingouin.intraclass_corr`` does
    (which fixes 95 %; ``confidence`` here may differ). Returns a DataFrame indexed
    ``ICC1 … ICC3k`` with columns ``label`` (McGraw–Wong notation), ``description``,
    ``icc``, ``F``, ``df1``, ``df2``, ``p``, ``lower``, ``upper``.

    Reference: Shrout, P. E. & Fleiss, J. L. (1979), *Psychol. Bull.* 86, 420–428
    (Table 4 example: ICC1 = .17, ICC2 = .29, ICC3 = .71, ICC1k = .44,
    ICC2k = .62, ICC3k = .91).

    >>> sf = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
    >>> icc(sf)["icc"].round(2).tolist()
    [0.17, 0.29, 0.71, 0.44, 0.62, 0.91]
    """
    if targets is not None or raters is not None or ratings is not None:
        if not (isinstance(data, pd.DataFrame) and targets and raters and ratings):
            raise MethodInputError(
                "long data needs a DataFrame and all of targets, raters and ratings"
            )
        missing = [c for c in (targets, raters, ratings) if c not in data.columns]
        if missing:
            raise MethodInputError(f"data has no column(s) {missing}")
        if data.duplicated([targets, raters]).any():
            raise MethodInputError("a target is rated twice by the same rater")
        wide = data.pivot(index=targets, columns=raters, values=ratings)
        if wide.isna().any().any():
            raise MethodInputError(
                "data are unbalanced: some target lacks a rating from some rater"
            )
        x = wide.to_numpy(dtype=float)
    else:
        x = np.asarray(data, dtype=float)
        if x.ndim != 2:
            raise MethodInputError("data must be 2-D (targets × raters)")
        if np.isnan(x).any():
            raise MethodInputError("data has a missing rating; ICC needs a complete table")
    n, k = x.shape
    if n < 2 or k < 2:
        raise MethodInputError(f"need at least 2 targets and 2 raters, got {n} × {k}")
    if not 0 < confidence < 1:
        raise MethodInputError(f"confidence must be in (0, 1), got {confidence}")
    grand = x.mean()
    ss_rows = k * ((x.mean(axis=1) - grand) ** 2).sum()
    ss_cols = n * ((x.mean(axis=0) - grand) ** 2).sum()
    ss_total = ((x - grand) ** 2).sum()
    ss_err = ss_total - ss_rows - ss_cols
    df_b, df_j, df_e, df_w = n - 1, k - 1, (n - 1) * (k - 1), n * (k - 1)
    bms, jms, ems = ss_rows / df_b, ss_cols / df_j, ss_err / df_e
    wms = (ss_cols + ss_err) / df_w
    if bms <= 0 or ems <= 0:
        raise MethodInputError("targets do not vary (or raters agree perfectly); ICC undefined")
    icc1 = (bms - wms) / (bms + (k - 1) * wms)
    icc2 = (bms - ems) / (bms + (k - 1) * ems + k * (jms - ems) / n)
    icc3 = (bms - ems) / (bms + (k - 1) * ems)
    icc1k = (bms - wms) / bms
    icc2k = (bms - ems) / (bms + (jms - ems) / n)
    icc3k = (bms - ems) / bms
    f1 = bms / wms
    f3 = bms / ems
    p1 = float(stats.f.sf(f1, df_b, df_w))
    p3 = float(stats.f.sf(f3, df_b, df_e))

    q = 1 - (1 - confidence) / 2
    f1l = f1 / stats.f.ppf(q, df_b, df_w)
    f1u = f1 * stats.f.ppf(q, df_w, df_b)
    f3l = f3 / stats.f.ppf(q, df_b, df_e)
    f3u = f3 * stats.f.ppf(q, df_e, df_b)
    fj = jms / ems
    # Satterthwaite degrees of freedom for ICC2 (McGraw & Wong 1996, Table 7).
    vn = df_e * (k * icc2 * fj + n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    vd = df_b * k**2 * icc2**2 * fj**2 + (n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    v = vn / vd
    f2u = stats.f.ppf(q, n - 1, v)
    f2l = stats.f.ppf(q, v, n - 1)
    l2 = n * (bms - f2u * ems) / (f2u * (k * jms + (k * n - k - n) * ems) + n * bms)
    u2 = n * (f2l * bms - ems) / (k * jms + (k * n - k - n) * ems + n * f2l * bms)
    rows = {
        "ICC1": (icc1, f1, df_w, p1, (f1l - 1) / (f1l + k - 1), (f1u - 1) / (f1u + k - 1)),
        "ICC2": (icc2, f3, df_e, p3, l2, u2),
        "ICC3": (icc3, f3, df_e, p3, (f3l - 1) / (f3l + k - 1), (f3u - 1) / (f3u + k - 1)),
        "ICC1k": (icc1k, f1, df_w, p1, 1 - 1 / f1l, 1 - 1 / f1u),
        "ICC2k": (icc2k, f3, df_e, p3, l2 * k / (1 + l2 * (k - 1)), u2 * k / (1 + u2 * (k - 1))),
        "ICC3k": (icc3k, f3, df_e, p3, 1 - 1 / f3l, 1 - 1 / f3u),
    }
    out = pd.DataFrame(
        [
            {
                "label": _ICC_LABELS[name][0],
                "description": _ICC_LABELS[name][1],
                "icc": float(v_[0]),
                "F": float(v_[1]),
                "df1": df_b,
                "df2": int(v_[2]),
                "p": float(v_[3]),
                "lower": float(v_[4]),
                "upper": float(v_[5]),
            }
            for name, v_ in rows.items()
        ],
        index=pd.Index(list(rows), name="type"),
    )
    return out
