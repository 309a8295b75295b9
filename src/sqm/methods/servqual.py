"""SERVQUAL gap scores and importance–performance analysis.

Gap 5 of the gaps model: perception minus expectation (P − E) per item, averaged
into the five dimensions (tangibles, reliability, responsiveness, assurance,
empathy), summarised per store or any grouping with intervals, weighted by the
importance customers give each dimension, and importance–performance quadrants
that say where to act first.

Everything is vectorised over respondents (pandas group-bys), so a million answers
take seconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from sqm.lazy import lazy_import
from sqm.methods._validation import FloatArray, MethodInputError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import scipy.stats as stats
else:
    np = lazy_import("numpy")
    pd = lazy_import("pandas")
    stats = lazy_import("scipy.stats")

__all__ = [
    "IPA_LABELS",
    "dimension_gaps",
    "gaps_from_long",
    "importance_weights",
    "ipa_quadrants",
    "item_gaps",
    "servqual_index",
    "summarise",
]


def _numeric_frame(frame: Any, name: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise MethodInputError(f"{name} must be a DataFrame (respondents × items)")
    if all(dt == np.float64 for dt in frame.dtypes):
        out = frame  # already float: no copy of a possibly very large table
    else:
        try:
            out = frame.astype(float)
        except (TypeError, ValueError) as exc:
            raise MethodInputError(f"{name} must be numeric: {exc}") from exc
    # Column by column: DataFrame.to_numpy() would interleave blocks into one new array.
    for j in range(out.shape[1]):
        if np.isinf(out.iloc[:, j].to_numpy()).any():
            raise MethodInputError(f"{name} has an infinite value in column {out.columns[j]!r}")
    return out


def item_gaps(perception: pd.DataFrame, expectation: pd.DataFrame) -> pd.DataFrame:
    """SERVQUAL gap score per respondent and item: ``G = P − E``.

    ``perception`` and ``expectation`` are respondents × items with the same index
    and the same item columns (rename ``P1…P22``/``E1…E22`` to common item names
    first). A missing P or E gives a missing gap. Negative gaps mean the service
    fell short of what the customer expected.

    Reference: Parasuraman, A., Zeithaml, V. A. & Berry, L. L. (1988), *J. Retailing*
    64(1), 12–40.

    >>> p = pd.DataFrame({"q1": [5, 6], "q2": [4, 7]})
    >>> e = pd.DataFrame({"q1": [6, 6], "q2": [6, 5]})
    >>> item_gaps(p, e).to_numpy().tolist()
    [[-1.0, -2.0], [0.0, 2.0]]
    """
    p = _numeric_frame(perception, "perception")
    e = _numeric_frame(expectation, "expectation")
    if list(p.columns) != list(e.columns):
        raise MethodInputError(
            "perception and expectation must have the same item columns in the same order; "
            f"got {list(p.columns)[:5]}… and {list(e.columns)[:5]}…"
        )
    if not p.index.equals(e.index):
        raise MethodInputError("perception and expectation must have the same respondents (index)")
    return pd.DataFrame(p.to_numpy() - e.to_numpy(), index=p.index, columns=p.columns)


def gaps_from_long(
    data: pd.DataFrame,
    respondent: str = "respondent",
    item: str = "item",
    perception: str = "P",
    expectation: str = "E",
) -> pd.DataFrame:
    """Gap scores (respondents × items) from long data with one row per answer pair.

    >>> long = pd.DataFrame({"respondent": [1, 1, 2], "item": ["q1", "q2", "q1"],
    ...                      "P": [5, 4, 6], "E": [6, 6, 6]})
    >>> gaps_from_long(long).to_dict("index")
    {1: {'q1': -1.0, 'q2': -2.0}, 2: {'q1': 0.0, 'q2': nan}}
    """
    missing = [c for c in (respondent, item, perception, expectation) if c not in data.columns]
    if missing:
        raise MethodInputError(f"data has no column(s) {missing}")
    if data.duplicated([respondent, item]).any():
        raise MethodInputError("data has the same respondent and item twice")
    gap = data[perception].astype(float) - data[expectation].astype(float)
    wide = pd.DataFrame({respondent: data[respondent], item: data[item], "gap": gap}).pivot(
        index=respondent, columns=item, values="gap"
    )
    wide.columns.name = None
    wide.index.name = respondent
    return wide


def dimension_gaps(gaps: pd.DataFrame, dimensions: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Dimension score per respondent: the mean gap of the dimension's items.

    Missing item gaps are skipped (a respondent who answered no item of a dimension
    gets NaN there).

    >>> g = pd.DataFrame({"q1": [-1.0, 0.0], "q2": [-2.0, 2.0], "q3": [1.0, 1.0]})
    >>> dimension_gaps(g, {"tangibles": ["q1", "q2"], "empathy": ["q3"]}).to_dict("list")
    {'tangibles': [-1.5, 1.0], 'empathy': [1.0, 1.0]}
    """
    frame = _numeric_frame(gaps, "gaps")
    if not dimensions:
        raise MethodInputError("dimensions must name at least one dimension")
    values = frame.to_numpy()
    position = {c: j for j, c in enumerate(frame.columns)}
    out = np.empty((values.shape[0], len(dimensions)))
    for d, (dim, cols) in enumerate(dimensions.items()):
        cols = list(cols)
        if not cols:
            raise MethodInputError(f"dimension {dim!r} has no items")
        absent = [c for c in cols if c not in position]
        if absent:
            raise MethodInputError(f"dimension {dim!r} names items not in gaps: {absent}")
        block = values[:, [position[c] for c in cols]]
        answered = ~np.isnan(block)
        count = answered.sum(axis=1)
        total = np.where(answered, block, 0.0).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, d] = np.where(count > 0, total / count, np.nan)
    return pd.DataFrame(out, index=frame.index, columns=list(dimensions))


def summarise(
    data: pd.DataFrame,
    by: str | Sequence[str] | pd.Series | np.ndarray | None = None,
    columns: Sequence[str] | None = None,
    confidence: float = 0.95,
    weights: str | pd.Series | np.ndarray | None = None,
) -> pd.DataFrame:
    """n, mean, sd, standard error and Student-t interval per variable (and group).

    ``by`` is ``None`` (whole sample), a column name or list of column names of
    ``data``, or an array/Series of group labels aligned with the rows. ``columns``
    are the variables to summarise (default: every column not used by ``by``).
    Missing values are skipped per variable. The interval is ``mean ± t_{n−1}·sd/√n``;
    groups with n < 2 get NaN sd and interval. Returns long data: one row per
    (group, variable) with columns ``variable``, ``n``, ``mean``, ``sd``, ``se``,
    ``lower``, ``upper`` (plus the group columns).

    ``weights`` (a column name or one survey weight per row, e.g. from
    :func:`sqm.methods.survey_weights.rake`): the mean becomes ``Σwx/Σw`` within each
    group and variable, an ``n_eff`` column holds Kish's effective size ``(Σw)²/Σw²``
    of the answers used, ``sd`` is the weighted standard deviation with the
    ``n_eff/(n_eff − 1)`` correction, ``se = sd/√n_eff`` and ``t`` has ``n_eff − 1``
    degrees of freedom (the Kish approximation, as
    :func:`sqm.methods.proportions.mean_interval`). Equal weights give the unweighted
    table.

    >>> g = pd.DataFrame({"store": ["a", "a", "b", "b"], "gap": [-1.0, 0.0, 1.0, 2.0]})
    >>> summarise(g, by="store")[["store", "n", "mean"]].to_dict("list")
    {'store': ['a', 'b'], 'n': [2, 2], 'mean': [-0.5, 1.5]}
    """
    if not isinstance(data, pd.DataFrame):
        raise MethodInputError("data must be a DataFrame")
    if not 0 < confidence < 1:
        raise MethodInputError(f"confidence must be in (0, 1), got {confidence}")
    keys: list[Any]
    group_names: list[str]
    if by is None:
        keys, group_names = [], []
    elif isinstance(by, str):
        keys, group_names = [by], [by]
    elif isinstance(by, pd.Series | np.ndarray):
        arr = np.asarray(by)
        if arr.shape[0] != data.shape[0]:
            raise MethodInputError(f"by has {arr.shape[0]} labels for {data.shape[0]} rows")
        name = by.name if isinstance(by, pd.Series) and by.name is not None else "group"
        keys, group_names = [pd.Series(arr, index=data.index, name=str(name))], [str(name)]
    else:
        keys = list(by)
        group_names = [
            k if isinstance(k, str) else str(getattr(k, "name", None) or f"group{i}")
            for i, k in enumerate(keys)
        ]
        for k in keys:
            if not isinstance(k, str) and len(k) != data.shape[0]:
                raise MethodInputError(f"by has {len(k)} labels for {data.shape[0]} rows")
    for k in keys:
        if isinstance(k, str) and k not in data.columns:
            raise MethodInputError(f"by names {k!r}, which is not a column of data")
    if columns is None:
        used = {k for k in keys if isinstance(k, str)}
        if isinstance(weights, str):
            used.add(weights)
        columns = [c for c in data.columns if c not in used]
    w_all: np.ndarray | None = None
    if weights is not None:
        if isinstance(weights, str):
            if weights not in data.columns:
                raise MethodInputError(f"weights names {weights!r}, which is not a column of data")
            w_all = data[weights].to_numpy(dtype=float)
        else:
            w_all = np.asarray(weights, dtype=float).ravel()
        if w_all.shape[0] != data.shape[0]:
            raise MethodInputError(f"weights has {w_all.shape[0]} values for {data.shape[0]} rows")
        if not np.isfinite(w_all).all() or (w_all < 0).any():
            raise MethodInputError("weights must be finite and non-negative (no NaN)")
    values_frame = _numeric_frame(data[list(columns)], "data")
    if values_frame.shape[1] == 0:
        raise MethodInputError("no columns to summarise")
    n_rows = values_frame.shape[0]
    if keys:
        key_frame = pd.DataFrame(
            {
                name: (data[k] if isinstance(k, str) else pd.Series(k)).to_numpy()
                for name, k in zip(group_names, keys, strict=True)
            }
        )
        # One factorisation of the group labels; rows with a missing label drop out.
        grouper = key_frame.groupby(group_names, sort=True, observed=True, dropna=True)
        codes_f = grouper.ngroup().to_numpy(dtype=float, na_value=np.nan)
        groups = grouper.size().index
        keep: np.ndarray | None = ~np.isnan(codes_f)
        if keep is not None and keep.all():
            keep = None
            codes = codes_f.astype(np.int64)
        else:
            codes = codes_f[keep].astype(np.int64)
            if w_all is not None:
                w_all = w_all[keep]
        n_groups = len(groups)
    else:
        codes = np.zeros(n_rows, dtype=np.int64)
        keep, groups, n_groups = None, None, 1
    n_vars = values_frame.shape[1]
    count = np.empty((n_groups, n_vars))
    mean = np.empty((n_groups, n_vars))
    sd = np.empty((n_groups, n_vars))
    n_eff = np.empty((n_groups, n_vars))
    for j in range(n_vars):
        col = values_frame.iloc[:, j].to_numpy(dtype=float)
        if keep is not None:
            col = col[keep]
        ok = ~np.isnan(col)
        x = np.where(ok, col, 0.0)
        cnt: FloatArray = np.bincount(codes, weights=ok, minlength=n_groups).astype(float)
        ne: FloatArray
        with np.errstate(invalid="ignore", divide="ignore"):
            # Two-pass variance (deviations from the group mean) for numerical stability;
            # x and dev are 0 where the answer is missing, so they drop out of the sums.
            if w_all is None:
                m = np.bincount(codes, weights=x, minlength=n_groups) / cnt
                dev = np.where(ok, x - m[codes], 0.0)
                ss = np.bincount(codes, weights=dev * dev, minlength=n_groups)
                ne = cnt
                var = np.where(cnt > 1, ss / (cnt - 1), np.nan)
            else:
                w = np.where(ok, w_all, 0.0)
                wsum = np.bincount(codes, weights=w, minlength=n_groups)
                m = np.bincount(codes, weights=w * x, minlength=n_groups) / wsum
                dev = np.where(ok, x - m[codes], 0.0)
                ss = np.bincount(codes, weights=w * dev * dev, minlength=n_groups)
                ne = wsum**2 / np.bincount(codes, weights=w * w, minlength=n_groups)
                var = np.where(ne > 1, ss / wsum * ne / (ne - 1), np.nan)
        count[:, j], mean[:, j], sd[:, j], n_eff[:, j] = cnt, m, np.sqrt(var), ne
    with np.errstate(invalid="ignore", divide="ignore"):
        se = sd / np.sqrt(n_eff)
        t = stats.t.isf((1 - confidence) / 2, np.where(n_eff > 1, n_eff - 1, np.nan))
    mean = np.where(count > 0, mean, np.nan)
    long = pd.DataFrame(
        {
            "variable": np.tile(np.asarray(values_frame.columns, dtype=object), n_groups),
            "n": count.ravel().astype(np.int64),
            **({} if w_all is None else {"n_eff": n_eff.ravel()}),
            "mean": mean.ravel(),
            "sd": sd.ravel(),
            "se": se.ravel(),
            "lower": (mean - t * se).ravel(),
            "upper": (mean + t * se).ravel(),
        }
    )
    if groups is not None:
        labels = (
            groups.to_frame(index=False)
            if isinstance(groups, pd.MultiIndex)
            else (pd.DataFrame({group_names[0]: np.asarray(groups)}))
        )
        labels = labels.loc[labels.index.repeat(n_vars)].reset_index(drop=True)
        long = pd.concat([labels, long], axis=1)
    return long


def importance_weights(
    importance: Mapping[str, float] | pd.Series | pd.DataFrame,
    constant_sum: float | None = 100.0,
    tolerance: float = 1e-6,
) -> pd.DataFrame | pd.Series:
    """Normalised dimension weights from constant-sum importance points.

    SERVQUAL asks customers to share 100 points over the five dimensions; weights
    are the points divided by their total. ``importance`` is one allocation
    (mapping/Series) or one row per respondent (DataFrame). With ``constant_sum``
    set, every allocation must add up to it (± ``tolerance``); pass ``None`` to
    accept any positive total and just normalise.

    >>> importance_weights({"tangibles": 10, "reliability": 30, "responsiveness": 20,
    ...                     "assurance": 20, "empathy": 20}).tolist()
    [0.1, 0.3, 0.2, 0.2, 0.2]
    """
    frame = (
        importance.astype(float)
        if isinstance(importance, pd.DataFrame)
        else pd.Series(importance, dtype=float).to_frame().T
    )
    arr = frame.to_numpy()
    if np.isnan(arr).any() or (arr < 0).any():
        raise MethodInputError("importance points must be non-negative numbers (no NaN)")
    totals = arr.sum(axis=1)
    if (totals <= 0).any():
        raise MethodInputError(f"importance row {int(np.argmax(totals <= 0))} gives no points")
    if constant_sum is not None:
        bad = np.abs(totals - constant_sum) > tolerance
        if bad.any():
            r = int(np.argmax(bad))
            raise MethodInputError(
                f"importance row {r} sums to {totals[r]:g}, not the constant sum {constant_sum:g}; "
                "pass constant_sum=None to normalise any total"
            )
    weights = frame.div(totals, axis=0)
    if isinstance(importance, pd.DataFrame):
        return weights
    return weights.iloc[0].rename("weight")


def servqual_index(
    dim_gaps: pd.DataFrame,
    importance: Mapping[str, float] | pd.Series | pd.DataFrame | None = None,
    constant_sum: float | None = 100.0,
) -> pd.DataFrame:
    """Unweighted and weighted SERVQUAL (service quality) index per respondent.

    Unweighted: ``SQ = (1/D)·Σ_d G_d``, the mean of the dimension gaps. Weighted:
    ``SQ_w = Σ_d w_d·G_d`` with ``w_d`` the normalised importance points (one set for
    everybody, or one row per respondent aligned on the index); a dimension gap that
    is missing drops out and the remaining weights are renormalised. Without
    ``importance`` only ``sq_unweighted`` is returned. Group with :func:`summarise`.

    Reference: Parasuraman, A., Berry, L. L. & Zeithaml, V. A. (1991), *J. Retailing*
    67(4), 420–450 (weighted SERVQUAL); Zeithaml, Parasuraman & Berry (1990),
    *Delivering Quality Service*, appendix.

    >>> g = pd.DataFrame({"rel": [-1.0, 0.0], "emp": [1.0, 2.0]})
    >>> servqual_index(g, {"rel": 75, "emp": 25}).to_dict("list")
    {'sq_unweighted': [0.0, 1.0], 'sq_weighted': [-0.5, 0.5]}
    """
    g = _numeric_frame(dim_gaps, "dim_gaps")
    out = pd.DataFrame({"sq_unweighted": g.mean(axis=1, skipna=True)}, index=g.index)
    if importance is None:
        return out
    w = importance_weights(importance, constant_sum)
    if isinstance(w, pd.DataFrame):
        if not w.index.equals(g.index):
            raise MethodInputError("importance rows must have the same index as dim_gaps")
        w = w.reindex(columns=g.columns)
        wa = w.to_numpy()
    else:
        wa = np.tile(w.reindex(g.columns).to_numpy(), (g.shape[0], 1))
    if np.isnan(wa).any():
        raise MethodInputError(
            f"importance must give points to every dimension of dim_gaps: {list(g.columns)}"
        )
    ga = g.to_numpy()
    present = ~np.isnan(ga)
    wsum = (wa * present).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["sq_weighted"] = np.where(
            wsum > 0, np.nansum(wa * np.nan_to_num(ga), axis=1) / wsum, np.nan
        )
    return out


IPA_LABELS: dict[str, dict[str, str]] = {
    "keep_up": {"en": "Keep up the good work", "zh": "继续保持"},
    "concentrate": {"en": "Concentrate here", "zh": "重点改进"},
    "low_priority": {"en": "Low priority", "zh": "低优先级"},
    "overkill": {"en": "Possible overkill", "zh": "可能过度投入"},
}


def ipa_quadrants(
    importance: Mapping[str, float] | pd.Series,
    performance: Mapping[str, float] | pd.Series,
    importance_cut: float | None = None,
    performance_cut: float | None = None,
    language: Literal["en", "zh"] = "en",
) -> pd.DataFrame:
    """Importance–performance analysis: put each attribute in one of four quadrants.

    Cut points default to the mean importance and mean performance of the
    attributes (the data-centred grid); pass ``importance_cut``/``performance_cut``
    for stated cut points (e.g. the scale midpoint). A value equal to its cut counts
    as high. Quadrants (Martilla & James 1977):

    - high importance, low performance → ``concentrate`` (Concentrate here / 重点改进)
    - high importance, high performance → ``keep_up`` (Keep up the good work / 继续保持)
    - low importance, low performance → ``low_priority`` (Low priority / 低优先级)
    - low importance, high performance → ``overkill`` (Possible overkill / 可能过度投入)

    Returns one row per attribute: ``importance``, ``performance``, ``quadrant``
    (code), ``label`` (in ``language``), ``label_en``, ``label_zh``.

    Reference: Martilla, J. A. & James, J. C. (1977), *J. Marketing* 41(1), 77–79.

    >>> r = ipa_quadrants({"a": 0.4, "b": 0.1}, {"a": 60.0, "b": 90.0})
    >>> r["quadrant"].tolist(), r["label"].tolist()
    (['concentrate', 'overkill'], ['Concentrate here', 'Possible overkill'])
    """
    imp = pd.Series(importance, dtype=float)
    perf = pd.Series(performance, dtype=float)
    if imp.empty:
        raise MethodInputError("importance must list at least one attribute")
    if set(imp.index) != set(perf.index) or len(imp) != len(perf):
        raise MethodInputError("importance and performance must list the same attributes")
    perf = perf.reindex(imp.index)
    if imp.isna().any() or perf.isna().any():
        raise MethodInputError("importance and performance must not be missing (NaN)")
    if language not in ("en", "zh"):
        raise MethodInputError(f"language must be 'en' or 'zh', got {language!r}")
    ic = float(imp.mean()) if importance_cut is None else float(importance_cut)
    pc = float(perf.mean()) if performance_cut is None else float(performance_cut)
    hi_i = imp.to_numpy() >= ic
    hi_p = perf.to_numpy() >= pc
    code = np.select(
        [hi_i & ~hi_p, hi_i & hi_p, ~hi_i & ~hi_p],
        ["concentrate", "keep_up", "low_priority"],
        default="overkill",
    )
    out = pd.DataFrame({"importance": imp, "performance": perf, "quadrant": code}, index=imp.index)
    out["label_en"] = [IPA_LABELS[c]["en"] for c in code]
    out["label_zh"] = [IPA_LABELS[c]["zh"] for c in code]
    out.insert(3, "label", out[f"label_{language}"])
    out.attrs["importance_cut"] = ic
    out.attrs["performance_cut"] = pc
    return out
