"""Complaint measures and hotspot detection over a frame of complaints (vectorised, no I/O).

The frame has one row per complaint.  Columns used (only those a measure needs must exist):

``unit``                org unit or area code the complaint concerns
``category``            taxonomy category code (``subcategory`` optional)
``customer_ref``        stable (possibly hashed) customer reference
``received_at``         datetime64, when the complaint was received
``first_response_at``   datetime64 or NaT
``resolved_at``         datetime64 or NaT
``resolution_due``      datetime64, the SLA deadline (``first_response_due`` likewise)
``contacts``            number of customer contacts until resolution (1 = first-contact resolution)
``satisfaction``        the customer's rating of the resolution, 1–5 (NaN = not asked/answered)
``repeat_of``           id of an earlier complaint this one repeats (NaN/None when none)

Definitions follow the operators' practice: complaint rate per 10,000 customers
(万户投诉率; the regulator publishes per million users, 百万用户申诉率), median and 90th
percentile response and resolution times, on-time rate (及时率), first-contact resolution
(一次解决率), 30-day repeat rate (重复投诉率), satisfaction with resolution (处理满意度),
and the category Pareto (Juran's vital few).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from sqm.lazy import lazy_import
from sqm.methods._validation import MethodInputError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd
    import scipy.stats as stats
    from pandas.core.groupby import DataFrameGroupBy
else:
    np = lazy_import("numpy")
    npt = lazy_import("numpy.typing")
    pd = lazy_import("pandas")
    stats = lazy_import("scipy.stats")

__all__ = [
    "HotspotWindow",
    "benjamini_hochberg",
    "complaint_rate",
    "complaint_summary",
    "first_contact_resolution",
    "flag_repeats",
    "hotspots",
    "on_time_rate",
    "pareto",
    "poisson_rate_interval",
    "rate_rise_p_values",
    "repeat_rate",
    "response_times",
    "satisfaction",
]

HOUR = np.timedelta64(1, "h")


def _need(frame: pd.DataFrame, columns: Sequence[str], measure: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise MethodInputError(f"complaints must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise MethodInputError(
            f"{measure} needs column(s) {missing} in complaints; found {list(frame.columns)}"
        )


def _keys(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def _group(values: pd.DataFrame, keys: list[str]) -> DataFrameGroupBy[Any, Any]:
    return values.groupby(
        keys if keys else np.zeros(len(values), dtype=np.int8), observed=True, sort=True
    )


def _codes(values: pd.Series) -> npt.NDArray[np.int64]:
    """Integer codes of a key column (−1 for missing); integers are used as they are."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy().astype(np.int64)
    if pd.api.types.is_integer_dtype(values.dtype) and len(values) and values.min() >= 0:
        return values.to_numpy(dtype=np.int64)
    return pd.factorize(values)[0].astype(np.int64)


def _sort_order(*keys: npt.NDArray[np.int64]) -> npt.NDArray[np.intp]:
    """Stable order by several non-negative int keys (first key most significant).

    Packs the keys into one int64 when their ranges fit in 63 bits, because one stable
    argsort of a packed key is several times faster than ``np.lexsort`` on millions of rows.
    """
    shifted = [k - k.min() if len(k) else k for k in keys]
    bits = [int(k.max()).bit_length() if len(k) else 0 for k in shifted]
    if sum(bits) <= 63:
        packed = np.zeros(len(keys[0]), dtype=np.int64)
        for k, b in zip(shifted, bits, strict=True):
            packed = (packed << np.int64(b)) | k
        return np.argsort(packed, kind="stable")
    return np.lexsort(tuple(reversed(shifted)))


def _group_quantiles(
    values: npt.NDArray[np.float64],
    groups: npt.NDArray[np.int64],
    n_groups: int,
    qs: Sequence[float],
) -> list[npt.NDArray[np.float64]]:
    """Per-group quantiles (linear interpolation, numpy's default) of ``values``, NaN skipped.

    Values are sorted once within groups (by milliseconds, which is exact for time spans
    recorded to the millisecond) and each quantile is read off its order statistics.
    """
    ok = ~np.isnan(values)
    v, g = values[ok], groups[ok]
    ms = np.round(v * 3_600_000).astype(np.int64)  # hours → milliseconds
    order = _sort_order(g, ms - ms.min() if len(ms) else ms)
    vs = v[order]
    counts = np.bincount(g, minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    out = []
    for q in qs:
        pos = (counts - 1) * q
        lo = np.floor(pos).astype(np.int64)
        hi = np.ceil(pos).astype(np.int64)
        frac = pos - lo
        has = counts > 0
        res = np.full(n_groups, np.nan)
        a = vs[(starts + lo)[has]]
        b = vs[(starts + hi)[has]]
        res[has] = a + (b - a) * frac[has]
        out.append(res)
    return out


def poisson_rate_interval(
    count: npt.ArrayLike, exposure: npt.ArrayLike, level: float = 0.95
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Exact (Garwood) confidence interval for a Poisson rate ``count / exposure``.

    lower = χ²(α/2; 2x) / 2E,  upper = χ²(1 − α/2; 2x + 2) / 2E  (lower = 0 when x = 0).
    Reference: Garwood (1936); Ulm (1990) Am J Epidemiol 131:373, table values such as
    x = 10 → (4.795, 18.390).

    >>> lo, hi = poisson_rate_interval([10], [1.0])
    >>> round(float(lo[0]), 3), round(float(hi[0]), 3)
    (4.795, 18.39)
    """
    x = np.asarray(count, dtype=float)
    e = np.asarray(exposure, dtype=float)
    if np.any(x < 0) or np.any(e <= 0):
        raise MethodInputError("count must be ≥ 0 and exposure > 0 for a Poisson rate interval")
    if not 0 < level < 1:
        raise MethodInputError(f"level must be in (0, 1), got {level}")
    a = 1 - level
    lower = np.where(x > 0, stats.chi2.ppf(a / 2, 2 * np.maximum(x, 1e-300)) / 2, 0.0) / e
    upper = stats.chi2.ppf(1 - a / 2, 2 * x + 2) / 2 / e
    return lower, upper


def complaint_rate(
    complaints: pd.DataFrame,
    customers: pd.Series,
    by: str | Sequence[str] = "unit",
    per: float = 10_000.0,
    level: float = 0.95,
) -> pd.DataFrame:
    """Complaints per ``per`` customers for each group, with an exact Poisson interval.

    rate = count / customers × per.  ``customers`` is indexed like the first key of ``by``
    (usually ``unit``).  Use ``per=1_000_000`` for the regulator's per-million-users figure.
    Units with customers but no complaint appear with count 0.

    >>> df = pd.DataFrame({"unit": ["A", "A", "B"]})
    >>> complaint_rate(df, pd.Series({"A": 20_000, "B": 10_000, "C": 5_000}))["rate"].tolist()
    [1.0, 1.0, 0.0]
    """
    keys = _keys(by)
    _need(complaints, keys, "complaint_rate")
    if (customers <= 0).any() or customers.isna().any():
        bad = customers[(customers <= 0) | customers.isna()].index[0]
        raise MethodInputError(
            f"customers must be > 0 for every unit; unit {bad!r} has {customers[bad]}"
        )
    counts = complaints.groupby(keys, observed=True).size().rename("count")
    if len(keys) == 1:
        counts = counts.reindex(customers.index.union(counts.index), fill_value=0)
    out = counts.to_frame()
    unit_level = out.index.get_level_values(0) if len(keys) > 1 else out.index
    cust = customers.reindex(unit_level).to_numpy(dtype=float)
    if np.isnan(cust).any():
        missing = unit_level[np.isnan(cust)][0]
        raise MethodInputError(f"customers has no value for {keys[0]} {missing!r}")
    out["customers"] = cust
    out["rate"] = out["count"] / cust * per
    lo, hi = poisson_rate_interval(out["count"].to_numpy(), cust, level)
    out["rate_low"] = lo * per
    out["rate_high"] = hi * per
    return out


def response_times(complaints: pd.DataFrame, by: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Median and 90th percentile of first-response and resolution times, in hours.

    first response = first_response_at − received_at; resolution = resolved_at − received_at;
    complaints still waiting are left out of that time (count them with :func:`on_time_rate`).
    Percentiles use linear interpolation (numpy's default, Hyndman & Fan type 7).

    >>> t0 = pd.Timestamp("2026-01-05 09:00")
    >>> df = pd.DataFrame({"received_at": [t0, t0], "first_response_at": [t0 + pd.Timedelta(hours=1),
    ...     t0 + pd.Timedelta(hours=3)], "resolved_at": [pd.NaT, t0 + pd.Timedelta(hours=5)]})
    >>> response_times(df)[["first_response_median_h", "resolution_p90_h"]].iloc[0].tolist()
    [2.0, 5.0]
    """
    keys = _keys(by)
    _need(complaints, [*keys, "received_at", "first_response_at", "resolved_at"], "response_times")
    rec = complaints["received_at"].to_numpy(dtype="datetime64[ns]")
    v = complaints[keys].copy() if keys else pd.DataFrame(index=complaints.index)
    v["fr"] = (complaints["first_response_at"].to_numpy(dtype="datetime64[ns]") - rec) / HOUR
    v["res"] = (complaints["resolved_at"].to_numpy(dtype="datetime64[ns]") - rec) / HOUR
    if (v["fr"] < 0).any() or (v["res"] < 0).any():
        row = complaints.index[((v["fr"] < 0) | (v["res"] < 0)).to_numpy()][0]
        raise MethodInputError(
            f"complaint at index {row!r} was answered or resolved before it was received"
        )
    if keys:
        codes, uniques = _group_codes(complaints, keys)
    else:
        codes, uniques = np.zeros(len(v), dtype=np.int64), pd.Index([0])
    n = len(uniques)
    fr_med, fr_p90 = _group_quantiles(v["fr"].to_numpy(), codes, n, (0.5, 0.9))
    res_med, res_p90 = _group_quantiles(v["res"].to_numpy(), codes, n, (0.5, 0.9))
    resolved = np.bincount(codes[~np.isnan(v["res"].to_numpy())], minlength=n)
    return pd.DataFrame(
        {
            "first_response_median_h": fr_med,
            "first_response_p90_h": fr_p90,
            "resolution_median_h": res_med,
            "resolution_p90_h": res_p90,
            "resolved": resolved,
        },
        index=uniques,
    )


def _group_codes(
    complaints: pd.DataFrame, keys: list[str]
) -> tuple[npt.NDArray[np.int64], pd.Index]:
    """Dense group codes in sorted key order, and the matching index (like ``groupby(sort=True)``)."""
    idx: pd.Index
    if len(keys) == 1:
        codes, uniq = pd.factorize(complaints[keys[0]], sort=True)
        idx = pd.Index(uniq, name=keys[0])
    else:
        codes, uniq_multi = pd.MultiIndex.from_frame(complaints[keys]).factorize(sort=True)
        idx = pd.MultiIndex.from_tuples(list(uniq_multi), names=keys)
    if (codes < 0).any():
        raise MethodInputError(f"group column(s) {keys} have missing values")
    return codes.astype(np.int64), idx


def on_time_rate(
    complaints: pd.DataFrame,
    as_of: pd.Timestamp | None = None,
    by: str | Sequence[str] | None = None,
    limit: Literal["resolution", "first_response"] = "resolution",
) -> pd.DataFrame:
    """Share of complaints whose limit was met (及时率), among those whose outcome is known.

    A complaint counts as on time when it was met (``resolved_at`` or ``first_response_at``) at
    or before its due time; late when met after it, or not met and ``as_of`` is past the due
    time; still open and not yet due complaints are left out (their outcome is unknown).

    >>> t = pd.Timestamp("2026-01-05 09:00")
    >>> df = pd.DataFrame({"resolved_at": [t, t + pd.Timedelta(hours=5), pd.NaT, pd.NaT],
    ...                    "resolution_due": [t + pd.Timedelta(hours=2)] * 4})
    >>> float(on_time_rate(df, as_of=t + pd.Timedelta(hours=1))["on_time_rate"].iloc[0])
    0.5
    """
    keys = _keys(by)
    met_col = "resolved_at" if limit == "resolution" else "first_response_at"
    due_col = "resolution_due" if limit == "resolution" else "first_response_due"
    _need(complaints, [*keys, met_col, due_col], "on_time_rate")
    met = complaints[met_col].to_numpy(dtype="datetime64[ns]")
    due = complaints[due_col].to_numpy(dtype="datetime64[ns]")
    if np.isnat(due).any():
        row = complaints.index[np.isnat(due)][0]
        raise MethodInputError(f"{due_col} is missing for complaint at index {row!r}")
    now = np.datetime64(pd.Timestamp(as_of).to_datetime64()) if as_of is not None else None
    done = ~np.isnat(met)
    known = done if now is None else done | (due < now)
    on_time = done & (met <= due)
    v = complaints[keys].copy() if keys else pd.DataFrame(index=complaints.index)
    v["known"] = known
    v["on_time"] = on_time & known
    g = _group(v, keys)
    out = pd.DataFrame({"judged": g["known"].sum(), "on_time": g["on_time"].sum()})
    out["on_time_rate"] = out["on_time"] / out["judged"].where(out["judged"] > 0)
    return out


def first_contact_resolution(
    complaints: pd.DataFrame, by: str | Sequence[str] | None = None
) -> pd.DataFrame:
    """Share of resolved complaints solved in the first contact (``contacts == 1``).

    >>> df = pd.DataFrame({"contacts": [1, 1, 3, np.nan], "resolved_at": pd.to_datetime(
    ...     ["2026-01-01", "2026-01-01", "2026-01-02", None])})
    >>> round(float(first_contact_resolution(df)["fcr_rate"].iloc[0]), 4)
    0.6667
    """
    keys = _keys(by)
    _need(complaints, [*keys, "contacts", "resolved_at"], "first_contact_resolution")
    resolved = complaints["resolved_at"].notna().to_numpy()
    contacts = complaints["contacts"].to_numpy(dtype=float)
    if (contacts[resolved & ~np.isnan(contacts)] < 1).any():
        raise MethodInputError("contacts must be ≥ 1 for a resolved complaint")
    v = complaints[keys].copy() if keys else pd.DataFrame(index=complaints.index)
    v["resolved"] = resolved
    v["fcr"] = resolved & (contacts == 1)
    g = _group(v, keys)
    out = pd.DataFrame({"resolved": g["resolved"].sum(), "first_contact": g["fcr"].sum()})
    out["fcr_rate"] = out["first_contact"] / out["resolved"].where(out["resolved"] > 0)
    return out


def flag_repeats(complaints: pd.DataFrame, window_days: float = 30.0) -> npt.NDArray[np.bool_]:
    """Mark each complaint that repeats an earlier one within ``window_days``.

    A repeat is a complaint that is explicitly linked (``repeat_of`` set, when the column
    exists) or whose customer complained in the same category less than ``window_days``
    before.  The first complaint of a chain is not a repeat.

    >>> df = pd.DataFrame({"customer_ref": ["c1", "c1", "c1", "c2"],
    ...     "category": ["billing", "billing", "network", "billing"],
    ...     "received_at": pd.to_datetime(["2026-01-01", "2026-01-20", "2026-01-21", "2026-01-02"])})
    >>> flag_repeats(df).tolist()
    [False, True, False, False]
    """
    _need(complaints, ["customer_ref", "category", "received_at"], "flag_repeats")
    if window_days <= 0:
        raise MethodInputError(f"window_days must be > 0, got {window_days}")
    n = len(complaints)
    cust = _codes(complaints["customer_ref"])
    cat = _codes(complaints["category"])
    t = complaints["received_at"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    # Sort on whole seconds: the packed key then fits one int64 (see _sort_order).
    order = _sort_order(cust, cat, t // 1_000_000_000)
    same = np.zeros(n, dtype=bool)
    if n > 1:
        cs, ks, ts = cust[order], cat[order], t[order]
        gap = ts[1:] - ts[:-1]
        window = np.int64(window_days * 86_400 * 1e9)
        same[1:] = (cs[1:] == cs[:-1]) & (ks[1:] == ks[:-1]) & (cs[1:] >= 0) & (gap < window)
    repeat = np.empty(n, dtype=bool)
    repeat[order] = same
    if "repeat_of" in complaints.columns:
        repeat |= complaints["repeat_of"].notna().to_numpy()
    return repeat


def repeat_rate(
    complaints: pd.DataFrame, by: str | Sequence[str] | None = None, window_days: float = 30.0
) -> pd.DataFrame:
    """Share of complaints that repeat an earlier one within ``window_days`` (重复投诉率).

    >>> df = pd.DataFrame({"customer_ref": ["c1", "c1"], "category": ["billing"] * 2,
    ...     "received_at": pd.to_datetime(["2026-01-01", "2026-01-20"])})
    >>> float(repeat_rate(df)["repeat_rate"].iloc[0])
    0.5
    """
    keys = _keys(by)
    _need(complaints, keys, "repeat_rate")
    v = complaints[keys].copy() if keys else pd.DataFrame(index=complaints.index)
    v["repeat"] = flag_repeats(complaints, window_days)
    g = _group(v, keys)
    out = pd.DataFrame({"complaints": g["repeat"].size(), "repeats": g["repeat"].sum()})
    out["repeat_rate"] = out["repeats"] / out["complaints"]
    return out


def satisfaction(
    complaints: pd.DataFrame, by: str | Sequence[str] | None = None, satisfied_from: float = 4.0
) -> pd.DataFrame:
    """Satisfaction with the resolution: mean rating and share satisfied (rating ≥ ``satisfied_from``).

    Ratings are on a 1–5 scale; unanswered (NaN) ratings are left out.

    >>> df = pd.DataFrame({"satisfaction": [5, 4, 2, np.nan]})
    >>> satisfaction(df)[["answered", "satisfied_share"]].iloc[0].tolist()
    [3.0, 0.6666666666666666]
    """
    keys = _keys(by)
    _need(complaints, [*keys, "satisfaction"], "satisfaction")
    s = complaints["satisfaction"].to_numpy(dtype=float)
    ok = np.isnan(s) | ((s >= 1) & (s <= 5))
    if not ok.all():
        row = complaints.index[~ok][0]
        raise MethodInputError(
            f"satisfaction must be 1–5; complaint at index {row!r} has {s[~ok][0]}"
        )
    v = complaints[keys].copy() if keys else pd.DataFrame(index=complaints.index)
    v["s"] = s
    v["sat"] = np.where(np.isnan(s), np.nan, s >= satisfied_from)
    g = _group(v, keys)
    return pd.DataFrame(
        {
            "answered": g["s"].count().astype(float),
            "mean_rating": g["s"].mean(),
            "satisfied_share": g["sat"].mean(),
        }
    )


def pareto(
    complaints: pd.DataFrame, column: str = "category", vital_share: float = 0.8
) -> pd.DataFrame:
    """Category Pareto: counts in descending order, share, cumulative share, vital few.

    The vital few are the categories up to and including the one where the cumulative share
    first reaches ``vital_share`` (Juran's 80/20).  Ties are broken by name so the order is stable.

    >>> df = pd.DataFrame({"category": ["a"] * 6 + ["b"] * 3 + ["c"]})
    >>> pareto(df)[["count", "cumulative_share", "vital"]].values.tolist()
    [[6, 0.6, True], [3, 0.9, True], [1, 1.0, False]]
    """
    _need(complaints, [column], "pareto")
    if not 0 < vital_share <= 1:
        raise MethodInputError(f"vital_share must be in (0, 1], got {vital_share}")
    counts = complaints[column].value_counts(sort=False)
    out = counts.rename("count").rename_axis(column).reset_index()
    out = out.sort_values(["count", column], ascending=[False, True], kind="stable").reset_index(
        drop=True
    )
    total = out["count"].sum()
    out["share"] = out["count"] / total
    out["cumulative_share"] = out["count"].cumsum() / total
    before = out["cumulative_share"].shift(1, fill_value=0.0)
    out["vital"] = before < vital_share - 1e-12
    return out


# ---------------------------------------------------------------------------------------------
# Hotspots


def benjamini_hochberg(p_values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Benjamini–Hochberg adjusted p-values (q-values) controlling the false discovery rate.

    q_(i) = min_{j ≥ i} ( m · p_(j) / j ), capped at 1.  Reject where q ≤ α.
    Reference: Benjamini & Hochberg (1995) JRSS B 57:289; equals
    ``statsmodels.stats.multitest.multipletests(p, method="fdr_bh")[1]``.

    >>> benjamini_hochberg([0.01, 0.04, 0.03, 0.2]).round(4).tolist()
    [0.04, 0.0533, 0.0533, 0.2]
    """
    p = np.asarray(p_values, dtype=float).ravel()
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise MethodInputError("p_values must all be in [0, 1] with no NaN")
    m = p.shape[0]
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    ranked = p[order] * m / np.arange(1, m + 1)
    q_sorted = np.minimum.accumulate(ranked[::-1])[::-1]
    q = np.empty(m)
    q[order] = np.minimum(q_sorted, 1.0)
    return q


def rate_rise_p_values(
    current: npt.ArrayLike,
    baseline: npt.ArrayLike,
    exposure_current: npt.ArrayLike,
    exposure_baseline: npt.ArrayLike,
    method: Literal["conditional", "poisson"] = "conditional",
) -> npt.NDArray[np.float64]:
    """One-sided p-values for "the current rate is higher than the baseline rate".

    ``conditional`` (default, exact and valid when the baseline is itself a Poisson count):
    under H0 the current count given the total N = x_c + x_b is Binomial(N, p0) with
    p0 = E_c / (E_c + E_b), so p = P(Bin(N, p0) ≥ x_c) (Przyborowski & Wilenski 1940;
    the comparison of two Poisson rates, as in ``scipy.stats.binomtest(x_c, N, p0,
    alternative="greater")``).
    ``poisson``: the baseline rate is taken as known, μ = x_b / E_b · E_c and
    p = P(Pois(μ) ≥ x_c) (``scipy.stats.poisson.sf(x_c − 1, μ)``); sharper, but it ignores the
    baseline's own noise, so use it only with long baselines.

    >>> rate_rise_p_values([9], [10], [1.0], [4.0]).round(6).tolist()
    [0.006658]
    """
    xc = np.asarray(current, dtype=float).ravel()
    xb = np.asarray(baseline, dtype=float).ravel()
    ec = np.broadcast_to(np.asarray(exposure_current, dtype=float), xc.shape)
    eb = np.broadcast_to(np.asarray(exposure_baseline, dtype=float), xc.shape)
    if xb.shape != xc.shape:
        raise MethodInputError(
            f"current and baseline must have the same length, got {xc.shape} and {xb.shape}"
        )
    if (xc < 0).any() or (xb < 0).any() or (ec <= 0).any() or (eb <= 0).any():
        raise MethodInputError("counts must be ≥ 0 and exposures > 0")
    if method == "conditional":
        n = xc + xb
        p0 = ec / (ec + eb)
        return np.where(xc > 0, stats.binom.sf(xc - 1, n, p0), 1.0)
    if method == "poisson":
        mu = xb / eb * ec
        out = np.where(xc > 0, stats.poisson.sf(xc - 1, np.maximum(mu, 1e-300)), 1.0)
        return np.where((mu == 0) & (xc > 0), 0.0, out)
    raise MethodInputError(f"method must be 'conditional' or 'poisson', got {method!r}")


@dataclass(frozen=True)
class HotspotWindow:
    """The current window and its baseline, as half-open ``[start, end)`` timestamps."""

    current_start: pd.Timestamp
    current_end: pd.Timestamp
    baseline_start: pd.Timestamp
    baseline_end: pd.Timestamp

    def __post_init__(self) -> None:
        if not (self.baseline_start < self.baseline_end <= self.current_start < self.current_end):
            raise MethodInputError(
                "windows must satisfy baseline_start < baseline_end ≤ current_start < current_end"
            )

    @classmethod
    def trailing(
        cls, end: pd.Timestamp | str, current_days: int = 7, baseline_days: int = 56
    ) -> HotspotWindow:
        """The last ``current_days`` before ``end`` against the ``baseline_days`` before them.

        >>> HotspotWindow.trailing("2026-03-01").baseline_start
        Timestamp('2025-12-28 00:00:00')
        """
        e = pd.Timestamp(end)
        cs = e - pd.Timedelta(days=current_days)
        return cls(cs, e, cs - pd.Timedelta(days=baseline_days), cs)


def hotspots(
    complaints: pd.DataFrame,
    window: HotspotWindow,
    keys: Sequence[str] = ("unit", "category"),
    customers: pd.Series | None = None,
    customers_baseline: pd.Series | None = None,
    fdr: float = 0.05,
    min_count: int = 3,
    min_ratio: float = 1.5,
    method: Literal["conditional", "poisson"] = "conditional",
) -> pd.DataFrame:
    """Unit × category cells whose complaints rose significantly against their own baseline.

    For each cell: x_c complaints in the current window, x_b in the baseline window; exposure
    is the window length in days × the unit's customers (when ``customers`` is given;
    ``customers_baseline`` for the baseline, default the same).  The one-sided p-value comes
    from :func:`rate_rise_p_values`; q-values from :func:`benjamini_hochberg` over all cells
    tested.  A cell is a hotspot when q ≤ ``fdr``, x_c ≥ ``min_count`` and the rate ratio
    (x_c/E_c)/(x_b/E_b) ≥ ``min_ratio`` (a rise large enough to act on).

    Returns every tested cell with count_current, count_baseline, expected (x_b·E_c/E_b),
    rate_ratio, p_value, q_value and hotspot, sorted by p-value.

    >>> t = pd.to_datetime(["2026-02-25"] * 12 + ["2026-01-20"] * 8)
    >>> df = pd.DataFrame({"unit": "A", "category": "network", "received_at": t})
    >>> hotspots(df, HotspotWindow.trailing("2026-03-01"))["hotspot"].tolist()
    [True]
    """
    keys = list(keys)
    _need(complaints, [*keys, "received_at"], "hotspots")
    if not 0 < fdr < 1:
        raise MethodInputError(f"fdr must be in (0, 1), got {fdr}")
    t = complaints["received_at"].to_numpy(dtype="datetime64[ns]")
    cur = (t >= window.current_start.to_datetime64()) & (t < window.current_end.to_datetime64())
    base = (t >= window.baseline_start.to_datetime64()) & (t < window.baseline_end.to_datetime64())
    sel = cur | base
    v = complaints.loc[sel, keys].copy()
    v["cur"] = cur[sel]
    v["base"] = base[sel]
    counts = v.groupby(keys, observed=True, sort=True)[["cur", "base"]].sum()
    days_c = (window.current_end - window.current_start) / pd.Timedelta(days=1)
    days_b = (window.baseline_end - window.baseline_start) / pd.Timedelta(days=1)
    ec = np.full(len(counts), days_c)
    eb = np.full(len(counts), days_b)
    if customers is not None:
        unit = counts.index.get_level_values(keys[0])
        cc = customers.reindex(unit).to_numpy(dtype=float)
        cb = (
            (customers_baseline if customers_baseline is not None else customers)
            .reindex(unit)
            .to_numpy(dtype=float)
        )
        if np.isnan(cc).any() or np.isnan(cb).any() or (cc <= 0).any() or (cb <= 0).any():
            raise MethodInputError(f"customers must be > 0 for every {keys[0]} with complaints")
        ec, eb = ec * cc, eb * cb
    xc = counts["cur"].to_numpy(dtype=float)
    xb = counts["base"].to_numpy(dtype=float)
    p = rate_rise_p_values(xc, xb, ec, eb, method) if len(counts) else np.array([])
    q = benjamini_hochberg(p)
    out = counts.rename(columns={"cur": "count_current", "base": "count_baseline"})
    out["expected"] = xb * ec / eb
    with np.errstate(divide="ignore", invalid="ignore"):
        out["rate_ratio"] = np.where(
            xb > 0, (xc / ec) / (xb / eb), np.where(xc > 0, np.inf, np.nan)
        )
    out["p_value"] = p
    out["q_value"] = q
    out["hotspot"] = (q <= fdr) & (xc >= min_count) & (out["rate_ratio"].to_numpy() >= min_ratio)
    return out.sort_values("p_value", kind="stable")


def complaint_summary(
    complaints: pd.DataFrame,
    customers: pd.Series,
    by: str = "unit",
    as_of: pd.Timestamp | None = None,
    per: float = 10_000.0,
) -> pd.DataFrame:
    """All measures per unit in one frame (rate, times, on-time, FCR, repeats, satisfaction).

    Measures whose columns are absent are left out rather than failing, so a partial feed
    (e.g. no satisfaction survey) still yields the rest.
    """
    parts = [complaint_rate(complaints, customers, by, per)[["count", "rate"]]]
    cols = set(complaints.columns)
    if {"received_at", "first_response_at", "resolved_at"} <= cols:
        parts.append(response_times(complaints, by))
    if {"resolved_at", "resolution_due"} <= cols:
        parts.append(on_time_rate(complaints, as_of, by)[["on_time_rate"]])
    if {"contacts", "resolved_at"} <= cols:
        parts.append(first_contact_resolution(complaints, by)[["fcr_rate"]])
    if {"customer_ref", "category", "received_at"} <= cols:
        parts.append(repeat_rate(complaints, by)[["repeat_rate"]])
    if "satisfaction" in cols:
        parts.append(satisfaction(complaints, by)[["mean_rating", "satisfied_share"]])
    return pd.concat(parts, axis=1)
