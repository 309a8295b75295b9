"""The analysis of survey answers: counts, reliability, validity, SERVQUAL gaps, gap 1,
importance–performance, derived importance, satisfaction index, NPS and weighting.

Every function takes an *answers frame* — one row per respondent, meta columns such as
``period``, ``unit``, ``city``, ``province``, ``segment`` and one column per instrument field
(see :mod:`sqm.services.surveys.demo_data`) — and the instrument, and returns tidy frames
ready for a page, the JSON API or an Excel sheet. The statistics come from
:mod:`sqm.methods` (reliability, servqual, proportions, survey_weights, importance, plspm);
this module selects the right columns, groups and vectorises.

Grouped sums are taken once over respondents sorted by group (``np.add.reduceat``), in
exact integer arithmetic for answers without gaps, so a million respondents × 44 items by
store is a matter of a second or two. Unweighted intervals are Student-t
``x̄ ± t_{n−1}·s/√n`` (as :func:`sqm.methods.servqual.summarise`); weighted ones use the
linearisation variance of :func:`sqm.methods.survey_weights.weighted_mean`, giving every
figure its margin of error under the weights.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from sqm.domain.errors import RuleError
from sqm.domain.instrument import Facet, Instrument, QuestionType, Text
from sqm.domain.instrument_templates import SEGMENT_CODES
from sqm.lazy import lazy_import
from sqm.methods import importance as importance_methods
from sqm.methods import plspm, reliability
from sqm.methods import proportions as proportion_methods
from sqm.methods import survey_weights as weight_methods
from sqm.methods.servqual import ipa_quadrants

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd
    import scipy.stats as stats
else:
    np = lazy_import("numpy")
    npt = lazy_import("numpy.typing")
    pd = lazy_import("pandas")
    stats = lazy_import("scipy.stats")

FloatArray = npt.NDArray[np.float64]
ALPHA_THRESHOLD = 0.7

ECSI_PATHS: tuple[tuple[str, str], ...] = (
    ("image", "expectation"),
    ("image", "satisfaction"),
    ("image", "loyalty"),
    ("expectation", "quality"),
    ("expectation", "value"),
    ("expectation", "satisfaction"),
    ("quality", "value"),
    ("quality", "satisfaction"),
    ("value", "satisfaction"),
    ("satisfaction", "complaints"),
    ("satisfaction", "loyalty"),
    ("complaints", "loyalty"),
)


def _by_list(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def with_segment_names(answers: pd.DataFrame) -> pd.DataFrame:
    """Add ``segment_name`` (``business`` / ``ordinary``) from the coded ``segment`` answer."""
    if "segment" not in answers.columns or "segment_name" in answers.columns:
        return answers
    out = answers.copy()
    out["segment_name"] = out["segment"].map(SEGMENT_CODES)
    return out


def _check_columns(answers: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in answers.columns]
    if missing:
        raise RuleError(f"answers lack the {what} column(s) {missing[:5]}")


@dataclass(frozen=True)
class _Groups:
    keys: pd.DataFrame  # one row per group, the group columns
    codes: npt.NDArray[np.int64]
    order: npt.NDArray[np.int64]  # respondents sorted by group
    starts: npt.NDArray[np.int64]  # first sorted position of each group
    sizes: npt.NDArray[np.int64]

    @property
    def count(self) -> int:
        return len(self.keys)

    def sorted_columns(self, values: npt.NDArray[Any]) -> FloatArray:
        """Columns × respondents in group order, float64, contiguous (the fast layout for
        ``reduceat``; integer answers stay exact in float64)."""
        ordered = values if self.order.size == 0 else values[self.order]
        return np.ascontiguousarray(ordered.T, dtype=np.float64)

    def reduce(self, columns: FloatArray) -> FloatArray:
        """Per-group sums (groups × columns) of :meth:`sorted_columns` output."""
        if columns.shape[1] == 0:
            return np.zeros((self.count, columns.shape[0]))
        return np.add.reduceat(columns, self.starts, axis=1).T

    def sums(self, values: npt.NDArray[Any]) -> FloatArray:
        """Column sums per group (groups × columns) of a respondents × columns array."""
        v = values[:, None] if values.ndim == 1 else values
        return self.reduce(self.sorted_columns(v))


def _groups(answers: pd.DataFrame, by: list[str]) -> _Groups:
    n = len(answers)
    if not by:
        codes = np.zeros(n, dtype=np.int64)
        keys = pd.DataFrame(index=[0])
        order = np.empty(0, dtype=np.int64)  # already in group order: no gather needed
    else:
        _check_columns(answers, by, "grouping")
        grouped = answers.groupby(by, sort=True, observed=True)
        codes = np.asarray(grouped.ngroup().to_numpy(), dtype=np.int64)
        if (codes < 0).any():
            raise RuleError(f"grouping columns {by} have a missing value")
        keys = grouped.size().index.to_frame(index=False)
        order = np.argsort(codes, kind="stable")
    sizes = np.bincount(codes, minlength=len(keys)).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    return _Groups(keys.reset_index(drop=True), codes, order, starts, sizes)


def grouped_stats(
    values: npt.ArrayLike,
    groups: _Groups,
    weights: npt.ArrayLike | None = None,
    confidence: float = 0.95,
) -> dict[str, FloatArray]:
    """Per-group, per-column n, mean, standard error and interval, skipping NaN.

    Unweighted: ``se = s/√n`` and a Student-t interval on ``n − 1`` df. Weighted: the
    estimate ``Σwy/Σw`` with linearisation variance ``n/(n−1)·Σw²(y−ȳ)²/(Σw)²`` and a
    normal interval, ``n_eff = (Σw)²/Σw²`` (as :func:`sqm.methods.survey_weights.weighted_mean`).
    Sums of whole-number answers are exact in float64. Arrays returned are
    groups × columns.
    """
    x = np.asarray(values)
    if x.ndim == 1:
        x = x[:, None]
    xt = groups.sorted_columns(x)  # columns × respondents, group order
    complete = np.issubdtype(x.dtype, np.integer)
    mask = np.zeros((1, 1), dtype=bool) if complete else np.isnan(xt)
    complete = complete or not mask.any()
    if not complete:
        xt[mask] = 0.0
    if weights is None:
        if complete:
            n = np.repeat(groups.sizes[:, None], x.shape[1], axis=1).astype(np.float64)
        else:
            n = groups.reduce((~mask).astype(np.float64))
        s1 = groups.reduce(xt)
        s2 = groups.reduce(xt * xt)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = s1 / n
            var = (s2 - n * mean * mean) / (n - 1)
            se = np.sqrt(np.maximum(var, 0.0) / n)
            q = stats.t.isf((1 - confidence) / 2, np.where(n > 1, n - 1, np.nan))
        half = q * se
        return {
            "n": n,
            "mean": mean,
            "se": se,
            "lower": mean - half,
            "upper": mean + half,
            "n_eff": n,
            "moe": half,
        }
    w = np.asarray(weights, dtype=np.float64).ravel()
    if w.size != x.shape[0]:
        raise RuleError(f"weights must have one value per respondent ({x.shape[0]}), got {w.size}")
    if not np.isfinite(w).all() or (w < 0).any():
        raise RuleError("weights must be finite and non-negative")
    ws = w if groups.order.size == 0 else w[groups.order]
    k = x.shape[1]
    if complete:
        n = np.repeat(groups.sizes[:, None], k, axis=1).astype(np.float64)
        sw = np.repeat(groups.reduce(ws[None, :]), k, axis=1)
        sw2 = np.repeat(groups.reduce((ws * ws)[None, :]), k, axis=1)
    else:
        wt = np.where(mask, 0.0, ws)
        n = groups.reduce((~mask).astype(np.float64))
        sw = groups.reduce(wt)
        sw2 = groups.reduce(wt * ws)
    wy = xt * ws
    swy = groups.reduce(wy)
    w2y = wy * ws
    sw2y = groups.reduce(w2y)
    sw2y2 = groups.reduce(w2y * xt)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = swy / sw
        ss = sw2y2 - 2 * mean * sw2y + mean * mean * sw2
        var = n / (n - 1) * np.maximum(ss, 0.0) / (sw * sw)
        se = np.sqrt(var)
        n_eff = sw * sw / sw2
    z = float(stats.norm.isf((1 - confidence) / 2))
    return {
        "n": n,
        "mean": mean,
        "se": se,
        "lower": mean - z * se,
        "upper": mean + z * se,
        "n_eff": n_eff,
        "moe": z * se,
    }


def _long(
    groups: _Groups,
    names: Sequence[str],
    st: Mapping[str, FloatArray],
    extra: Mapping[str, Sequence[Any]] | None = None,
) -> pd.DataFrame:
    g, k = st["mean"].shape
    out = groups.keys.loc[np.repeat(np.arange(g), k)].reset_index(drop=True)
    out["code"] = np.tile(np.asarray(names, dtype=object), g)
    for key, col in (extra or {}).items():
        out[key] = np.tile(np.asarray(col, dtype=object), g)
    for key in ("n", "mean", "se", "lower", "upper", "moe", "n_eff"):
        out[key] = st[key].ravel()
    out["n"] = out["n"].astype(np.int64)
    return out


def _weights_of(answers: pd.DataFrame, weights: str | npt.ArrayLike | None) -> FloatArray | None:
    if weights is None:
        return None
    if isinstance(weights, str):
        _check_columns(answers, [weights], "weight")
        return answers[weights].to_numpy(dtype=np.float64)
    return np.asarray(weights, dtype=np.float64)


# ---------------------------------------------------------------- counts


def response_counts(answers: pd.DataFrame, by: str | Sequence[str] = ("unit",)) -> pd.DataFrame:
    """Number of answers per group (e.g. wave × store × segment), with the share of the total.

    >>> response_counts(pd.DataFrame({"unit": ["a", "a", "b"]}))[["unit", "answers"]].values.tolist()
    [['a', 2], ['b', 1]]
    """
    cols = _by_list(by)
    _check_columns(answers, cols, "grouping")
    counts = answers.groupby(cols, observed=True, sort=True).size().rename("answers").reset_index()
    counts["share_pct"] = 100.0 * counts["answers"] / max(len(answers), 1)
    return counts


# ---------------------------------------------------------------- reliability & validity


def reliability_by_dimension(
    answers: pd.DataFrame,
    inst: Instrument,
    facet: Facet | None = Facet.PERCEPTION,
    threshold: float = ALPHA_THRESHOLD,
) -> pd.DataFrame:
    """Cronbach's α per dimension (the items of one facet), α if each item were deleted,
    and a plain warning when α is below ``threshold`` (Nunnally 1978: 0.7).

    Dimensions with a single item get no α (NaN) and a note instead.
    """
    rows = []
    for dim, items in inst.items_by_dimension(facet).items():
        _check_columns(answers, items, "item")
        name = inst.dimension_map()[dim].name
        if len(items) < 2:
            rows.append(
                {
                    "dimension": dim,
                    "name_zh": name.zh,
                    "name_en": name.en,
                    "items": len(items),
                    "n": int(answers[items[0]].notna().sum()),
                    "alpha": np.nan,
                    "weakest_item": None,
                    "alpha_without_weakest": np.nan,
                    "reliable": None,
                    "warning_zh": "单题维度，无法计算信度",
                    "warning_en": "Single-item dimension: no reliability coefficient",
                }
            )
            continue
        frame = answers[items].astype(np.float64)
        alpha = reliability.cronbach_alpha(frame)
        weakest, without = None, np.nan
        if len(items) >= 3:
            deleted = reliability.alpha_if_deleted(frame)
            weakest = str(deleted.idxmax())
            without = float(deleted.max())
        ok = bool(alpha >= threshold)
        warning = (
            _alpha_warning(name, alpha, threshold, weakest, without) if not ok else Text("", "")
        )
        rows.append(
            {
                "dimension": dim,
                "name_zh": name.zh,
                "name_en": name.en,
                "items": len(items),
                "n": int(frame.notna().all(axis=1).sum()),
                "alpha": float(alpha),
                "weakest_item": weakest,
                "alpha_without_weakest": without,
                "reliable": ok,
                "warning_zh": warning.zh,
                "warning_en": warning.en,
            }
        )
    return pd.DataFrame(rows)


def _alpha_warning(
    name: Text, alpha: float, threshold: float, weakest: str | None, without: float
) -> Text:
    zh = f"“{name.zh}”的信度不足（α = {alpha:.2f}，低于 {threshold:.1f}）：各题测的可能不是同一件事，该维度的得分请谨慎使用。"
    en = f"“{name.en}” is not reliable (α = {alpha:.2f}, below {threshold:.1f}): its items may not measure one thing; use its score with care."
    if weakest is not None and without > alpha:
        zh += f"删除 {weakest} 后 α = {without:.2f}。"
        en += f" Without {weakest}, α = {without:.2f}."
    return Text(zh, en)


@dataclass(frozen=True)
class Validity:
    """Factorability and structure of a set of items.

    ``kmo`` overall and ``kmo_items`` per item (≥ 0.6 adequate), Bartlett's sphericity test
    (``bartlett_chi2``, ``bartlett_p``; small p = items correlate, factor analysis makes
    sense), ``loadings`` of an exploratory factor analysis with one factor per dimension
    (varimax), and ``dimension_of`` the intended dimension of each item.
    """

    kmo: float
    kmo_items: pd.Series
    bartlett_chi2: float
    bartlett_p: float
    loadings: pd.DataFrame
    dimension_of: pd.Series
    n: int

    @property
    def factorable(self) -> bool:
        """KMO ≥ 0.6 and Bartlett p < 0.05."""
        return self.kmo >= 0.6 and self.bartlett_p < 0.05


def validity(
    answers: pd.DataFrame,
    inst: Instrument,
    facet: Facet | None = Facet.PERCEPTION,
    *,
    rotation: Literal["varimax", "promax"] | None = "varimax",
) -> Validity:
    """KMO, Bartlett's test and EFA loadings of the rating items of one facet (listwise)."""
    by_dim = inst.items_by_dimension(facet)
    items = [i for v in by_dim.values() for i in v]
    _check_columns(answers, items, "item")
    frame = answers[items].astype(np.float64).dropna()
    per_item, overall = reliability.kmo(frame)
    chi2, p = reliability.bartlett(frame)
    n_factors = min(len(by_dim), len(items) - 1)
    result = reliability.efa(frame, n_factors, rotation=rotation)
    loadings = pd.DataFrame(
        np.asarray(result.loadings), index=items, columns=[f"F{j + 1}" for j in range(n_factors)]
    )
    dimension_of = pd.Series({i: d for d, v in by_dim.items() for i in v})
    return Validity(
        float(overall),
        pd.Series(per_item, index=items) if not isinstance(per_item, pd.Series) else per_item,
        float(chi2),
        float(p),
        loadings,
        dimension_of,
        len(frame),
    )


# ---------------------------------------------------------------- SERVQUAL gaps


def _paired_items(inst: Instrument) -> tuple[list[str], list[str], list[str], list[str]]:
    """(items, dimension of each, expectation columns, perception columns)."""
    items, dims, e_cols, p_cols = [], [], [], []
    for f in inst.fields():
        if f.qtype is QuestionType.PAIRED and f.facet is Facet.EXPECTATION:
            items.append(f.item or f.question)
            dims.append(f.dimension)
            e_cols.append(f.name)
            p_cols.append(f"{f.item or f.question}_p")
    if not items:
        raise RuleError(f"instrument {inst.code!r} has no paired expectation/perception items")
    return items, dims, e_cols, p_cols


def _rating_matrix(answers: pd.DataFrame, columns: list[str]) -> npt.NDArray[Any]:
    """Ratings as a compact int8 matrix when complete and whole, else float64 with NaN."""
    frame = answers[columns]
    if all(pd.api.types.is_integer_dtype(t) for t in frame.dtypes):
        return frame.to_numpy(dtype=np.int8)
    return frame.to_numpy(dtype=np.float64, na_value=np.nan)


def _group_means(x: npt.NDArray[Any], groups: _Groups, w: FloatArray | None) -> FloatArray:
    """Per-group column means (weighted when ``w`` is given), skipping NaN."""
    xt = groups.sorted_columns(x)
    ws = None if w is None else (w if groups.order.size == 0 else w[groups.order])
    if np.issubdtype(x.dtype, np.integer):  # complete answers: no NaN to skip
        if ws is None:
            return groups.reduce(xt) / groups.sizes[:, None]
        return groups.reduce(xt * ws) / groups.reduce(ws[None, :])
    mask = np.isnan(xt)
    if ws is None:
        ws = np.ones(xt.shape[1])
    wt = np.where(mask, 0.0, ws)
    xt[mask] = 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        return groups.reduce(xt * wt) / groups.reduce(wt)


def servqual_gaps(
    answers: pd.DataFrame,
    inst: Instrument,
    by: str | Sequence[str] | None = None,
    *,
    weights: str | npt.ArrayLike | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """SERVQUAL gaps ``G = P − E`` per item, per dimension and overall, per group.

    Rows have ``level`` ∈ {item, dimension, overall}; ``code`` (item, dimension or
    ``SQ``/``SQ_weighted``); the group columns; ``expectation`` and ``perception`` means;
    ``mean`` (the gap), ``se``, ``lower``/``upper`` (interval at ``confidence``), ``moe``
    (margin of error), ``n`` and ``n_eff``. A dimension gap is the respondent's mean item
    gap in that dimension; ``SQ`` is the mean of the five dimension gaps and
    ``SQ_weighted`` the importance-weighted one, ``Σ_d w_d G_d`` with the respondent's own
    constant-sum points (Parasuraman, Berry & Zeithaml 1991), when the instrument asks them.

    ``weights`` (a column name or array of survey weights) turns every mean into a
    weighted one with its margin of error under the weights.
    """
    items, dims, e_cols, p_cols = _paired_items(inst)
    _check_columns(answers, e_cols + p_cols, "item")
    groups = _groups(answers, _by_list(by))
    w = _weights_of(answers, weights)
    e = _rating_matrix(answers, e_cols)
    p = _rating_matrix(answers, p_cols)
    integral = np.issubdtype(e.dtype, np.integer) and np.issubdtype(p.dtype, np.integer)
    gap = (p.astype(np.int8) - e.astype(np.int8)) if integral else p - e
    dim_codes = list(dict.fromkeys(dims))
    dim_idx = np.array([dim_codes.index(d) for d in dims])
    dim_gap = np.empty((gap.shape[0], len(dim_codes)), dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        for j in range(len(dim_codes)):
            block = gap[:, dim_idx == j]
            if integral:
                dim_gap[:, j] = block.sum(axis=1, dtype=np.int16) / block.shape[1]
            else:
                present = ~np.isnan(block)
                count = present.sum(axis=1)
                dim_gap[:, j] = np.where(present, block, 0).sum(axis=1) / np.where(
                    count > 0, count, np.nan
                )
        sq = dim_gap.mean(axis=1) if integral else np.nanmean(dim_gap, axis=1)
    summary_cols = [sq[:, None]]
    summary_names = ["SQ"]
    imp_cols = [f"imp_{d}" for d in dim_codes]
    if all(c in answers.columns for c in imp_cols):
        pts = answers[imp_cols].to_numpy(dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            wts = pts / pts.sum(axis=1, keepdims=True)
            ok = ~np.isnan(dim_gap)
            wsum = np.where(ok, wts, 0.0).sum(axis=1)
            sqw = np.where(ok, wts * np.nan_to_num(dim_gap), 0.0).sum(axis=1) / np.where(
                wsum > 0, wsum, np.nan
            )
        summary_cols.append(sqw[:, None])
        summary_names.append("SQ_weighted")
    item_st = grouped_stats(gap, groups, w, confidence)
    dim_st = grouped_stats(np.hstack([dim_gap, *summary_cols]), groups, w, confidence)
    k_dim = len(dim_codes)
    sq_st = {key: v[:, k_dim:] for key, v in dim_st.items()}
    dim_st = {key: v[:, :k_dim] for key, v in dim_st.items()}
    e_mean = _group_means(e, groups, w)
    # complete answers: mean P = mean E + mean gap exactly, one pass fewer over the data
    p_mean = e_mean + item_st["mean"] if integral else _group_means(p, groups, w)
    dim_e = np.column_stack([e_mean[:, dim_idx == j].mean(axis=1) for j in range(k_dim)])
    dim_p = np.column_stack([p_mean[:, dim_idx == j].mean(axis=1) for j in range(k_dim)])
    parts = []
    frame = _long(groups, items, item_st, {"level": ["item"] * len(items), "dimension": dims})
    frame["expectation"], frame["perception"] = e_mean.ravel(), p_mean.ravel()
    parts.append(frame)
    frame = _long(
        groups, dim_codes, dim_st, {"level": ["dimension"] * len(dim_codes), "dimension": dim_codes}
    )
    frame["expectation"], frame["perception"] = dim_e.ravel(), dim_p.ravel()
    parts.append(frame)
    frame = _long(
        groups,
        summary_names,
        sq_st,
        {"level": ["overall"] * len(summary_names), "dimension": [None] * len(summary_names)},
    )
    k = len(summary_names)
    frame["expectation"] = np.repeat(dim_e.mean(axis=1), k)
    frame["perception"] = np.repeat(dim_p.mean(axis=1), k)
    parts.append(frame)
    out = pd.concat(parts, ignore_index=True).rename(columns={"mean": "gap"})
    lead = [
        *groups.keys.columns,
        "level",
        "code",
        "dimension",
        "n",
        "expectation",
        "perception",
        "gap",
        "se",
        "lower",
        "upper",
        "moe",
        "n_eff",
    ]
    return out[lead]


def gap1(
    staff: pd.DataFrame,
    customers: pd.DataFrame,
    inst: Instrument,
    by: str | Sequence[str] | None = None,
    *,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Gap 1: what staff believe customers expect minus what customers expect, per item and
    dimension (and group), with a Welch interval for the difference of two independent means.

    ``gap1 < 0``: staff under-estimate the customers' expectation (the plan's
    内部诊断: 对客户服务预期和要求的理解). ``inst`` is the customer SERVQUAL instrument; the
    staff answers use the same expectation field names (``T1_e`` …).
    Welch (1947): ``se = √(s₁²/n₁ + s₂²/n₂)``, df by Welch–Satterthwaite.
    """
    items, dims, e_cols, _ = _paired_items(inst)
    _check_columns(staff, e_cols, "staff expectation")
    _check_columns(customers, e_cols, "customer expectation")
    cols = _by_list(by)
    dim_codes = list(dict.fromkeys(dims))

    def per_respondent(frame: pd.DataFrame) -> pd.DataFrame:
        values = frame[e_cols].astype(np.float64)
        values.columns = items
        for d in dim_codes:
            values[d] = values[[i for i, dd in zip(items, dims, strict=True) if dd == d]].mean(
                axis=1
            )
        return pd.concat(
            [frame[cols].reset_index(drop=True), values.reset_index(drop=True)], axis=1
        )

    names = items + dim_codes
    levels = ["item"] * len(items) + ["dimension"] * len(dim_codes)
    a = per_respondent(staff)
    b = per_respondent(customers)
    keyed = pd.concat([a.assign(_who="staff"), b.assign(_who="customer")], ignore_index=True)
    groups = _groups(keyed, [*cols, "_who"])
    st = grouped_stats(keyed[names].to_numpy(), groups, None, confidence)
    keys = groups.keys
    rows = []
    key_cols = cols
    staff_rows = keys.index[keys["_who"] == "staff"]
    for si in staff_rows:
        match = (
            keys.index[
                (keys["_who"] == "customer")
                & (keys[key_cols] == keys.loc[si, key_cols]).all(axis=1)
            ]
            if key_cols
            else keys.index[keys["_who"] == "customer"]
        )
        if len(match) == 0:
            continue
        ci = match[0]
        n1, n2 = st["n"][si], st["n"][ci]
        m1, m2 = st["mean"][si], st["mean"][ci]
        v1, v2 = st["se"][si] ** 2, st["se"][ci] ** 2
        se = np.sqrt(v1 + v2)
        with np.errstate(invalid="ignore", divide="ignore"):
            df = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
            q = stats.t.isf((1 - confidence) / 2, df)
        for j, name in enumerate(names):
            row: dict[str, Any] = {c: keys.loc[si, c] for c in key_cols}
            row.update(
                level=levels[j],
                code=name,
                dimension=dims[j] if j < len(items) else name,
                staff=float(m1[j]),
                customer=float(m2[j]),
                gap1=float(m1[j] - m2[j]),
                se=float(se[j]),
                lower=float(m1[j] - m2[j] - q[j] * se[j]),
                upper=float(m1[j] - m2[j] + q[j] * se[j]),
                n_staff=int(n1[j]),
                n_customers=int(n2[j]),
            )
            rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- importance & IPA


def derived_item_importance(
    answers: pd.DataFrame,
    items: Sequence[str],
    target: str = "overall",
    *,
    method: Literal["relative_weights", "shapley"] = "relative_weights",
) -> pd.DataFrame:
    """Customer-derived importance of ``items`` for ``target`` (overall satisfaction):
    relative weights (Johnson 2000), normalised to sum to 1 — a source of inspection weights.

    Respondents with a missing item or target are left out (listwise).
    """
    items = list(items)
    _check_columns(answers, [*items, target], "item")
    frame = answers[[*items, target]].astype(np.float64).dropna()
    res = importance_methods.derived_importance(frame[list(items)], frame[target], method=method)
    out = pd.DataFrame(
        {
            "item": list(items),
            "weight": res.weights.reindex(items).to_numpy(),
            "raw": (
                res.shapley
                if method == "shapley" and res.shapley is not None
                else res.relative_weights
            )
            .reindex(items)
            .to_numpy(),
            "beta": res.standardized_beta.reindex(items).to_numpy(),
            "r": res.correlation.reindex(items).to_numpy(),
        }
    )
    out.attrs["r2"] = res.r2
    out.attrs["n"] = res.n
    return out


def ipa_items(
    answers: pd.DataFrame,
    inst: Instrument,
    target: str = "overall",
    *,
    language: Literal["en", "zh"] = "zh",
) -> pd.DataFrame:
    """Importance–performance quadrants of the rating items of an instrument without pairs
    (the store intercept survey): importance derived from ``target``, performance the item
    mean on 0–100 (``100·(x̄ − 1)/(points − 1)``); cuts at the means (Martilla & James 1977)."""
    fmap = inst.field_map()
    items = [
        f.name
        for f in inst.fields()
        if f.qtype is QuestionType.LIKERT and f.dimension != "overall" and f.name != target
    ]
    imp = derived_item_importance(answers, items, target).set_index("item")["weight"]
    perf = pd.Series(
        {
            i: 100.0 * (float(answers[i].mean()) - 1) / (float(fmap[i].maximum or 5) - 1)
            for i in items
        }
    )
    out = ipa_quadrants(imp, perf, language=language)
    out.insert(0, "name_zh", [fmap[i].label.zh.split("：")[0] for i in out.index])
    out.insert(1, "name_en", [fmap[i].label.en for i in out.index])
    return out


def ipa_servqual(
    answers: pd.DataFrame,
    inst: Instrument,
    *,
    language: Literal["en", "zh"] = "zh",
    gaps: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Importance–performance of the SERVQUAL dimensions: stated importance (mean
    constant-sum points) against performance (the mean gap P − E); cuts at the means.
    ``gaps`` may pass the ungrouped :func:`servqual_gaps` result already computed."""
    dims = [d.code for d in inst.dimensions]
    imp_cols = [f"imp_{d}" for d in dims]
    _check_columns(answers, imp_cols, "importance")
    if gaps is None:  # the overall gaps of these answers, when not already at hand
        gaps = servqual_gaps(answers, inst)
    perf = gaps[gaps["level"] == "dimension"].set_index("code")["gap"].reindex(dims)
    imp = pd.Series(answers[imp_cols].mean().to_numpy(), index=dims)
    out = ipa_quadrants(imp, perf, language=language)
    names = inst.dimension_map()
    out.insert(0, "name_zh", [names[d].name.zh for d in out.index])
    out.insert(1, "name_en", [names[d].name.en for d in out.index])
    return out


# ---------------------------------------------------------------- satisfaction index


@dataclass(frozen=True)
class SatisfactionIndex:
    """ECSI model estimates and 0–100 indices per group with bootstrap intervals."""

    paths: pd.DataFrame  # bootstrap summary of path coefficients
    r2: pd.Series
    weights: pd.Series  # unstandardised outer weights (sum 1 per block)
    index: pd.DataFrame  # group columns, lv, n, index, lower, upper
    n_resamples: int


def satisfaction_index(
    answers: pd.DataFrame,
    inst: Instrument,
    by: str | Sequence[str] | None = None,
    *,
    lvs: Sequence[str] = ("satisfaction", "loyalty"),
    n_boot: int = 200,
    seed: int = 1,
    confidence: float = 0.95,
) -> SatisfactionIndex:
    """Customer satisfaction index (0–100) from an ECSI-style PLS path model.

    The model (blocks = the instrument's dimensions, inner paths :data:`ECSI_PATHS`) is
    fitted on all answers; an LV's index is ``100·(Σ_k w̃_k x̄_k − min)/(max − min)`` with
    ``w̃`` the unstandardised outer weights (Fornell et al. 1996) and ``x̄`` the group's item
    means. Intervals: percentile bootstrap combining the resampled outer weights of the
    PLS bootstrap (draw b) with a resample of the group's respondents (draw b), so both
    the weights' and the group's sampling error are carried.
    """
    blocks = inst.items_by_dimension()
    items = [i for v in blocks.values() for i in v]
    _check_columns(answers, items, "item")
    points = max(float(inst.field_map()[i].maximum or 10) for i in items)
    paths = [(a, b) for a, b in ECSI_PATHS if a in blocks and b in blocks]
    data = answers[items].astype(np.float64)
    keep = data.notna().all(axis=1).to_numpy()
    data = data[keep]
    # unscaled MVs: all items share one scale, as in the ECSI/ACSI and R plspm's example
    result = plspm.fit(data, blocks, paths, scaled=False)
    boot = result.bootstrap(n_boot, seed=seed, level=confidence)
    w_orig = result.unstandardised_weights()
    wd = boot.draws["outer_weights"].to_numpy()  # on the raw item scale (scaled=False)
    rng = np.random.default_rng(seed)
    frame = answers.loc[keep]
    cols = _by_list(by)
    grouped = [((), frame)] if not cols else list(frame.groupby(cols, observed=True, sort=True))
    rows = []
    alpha = (1 - confidence) / 2
    for key, part in grouped:
        x = part[items].to_numpy(dtype=np.float64)
        n = len(x)
        if n < 2:
            continue
        b = wd.shape[0]
        if n <= 20_000:
            idx = rng.integers(0, n, size=(b, n))
            xbar = x[idx].mean(axis=1)  # b × items
        else:  # large groups: the resampled mean is normal to high accuracy
            cov = np.cov(x, rowvar=False) / n
            xbar = rng.multivariate_normal(x.mean(axis=0), cov, size=b)
        for lv in lvs:
            cols_lv = [items.index(i) for i in blocks[lv]]
            w_lv = wd[:, cols_lv]
            w_lv = w_lv / w_lv.sum(axis=1, keepdims=True)
            draws = 100 * ((w_lv * xbar[:, cols_lv]).sum(axis=1) - 1) / (points - 1)
            w0 = w_orig.reindex(blocks[lv]).to_numpy()
            value = 100 * (float(w0 @ x[:, cols_lv].mean(axis=0)) - 1) / (points - 1)
            lo, hi = np.quantile(draws, [alpha, 1 - alpha])
            key_t = key if isinstance(key, tuple) else (key,)
            row = dict(zip(cols, key_t, strict=False))
            row.update(lv=lv, n=n, index=value, lower=float(lo), upper=float(hi))
            rows.append(row)
    return SatisfactionIndex(
        boot.paths, result.r2, w_orig, pd.DataFrame(rows), n_boot - boot.failed
    )


# ---------------------------------------------------------------- NPS


def nps_by(
    answers: pd.DataFrame,
    by: str | Sequence[str] | None = None,
    *,
    column: str = "nps",
    weights: str | npt.ArrayLike | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Net Promoter Score per group with its interval (:func:`sqm.methods.proportions.nps`),
    shares of promoters/passives/detractors and the 0–10 distribution (``d0`` … ``d10``)."""
    cols = _by_list(by)
    _check_columns(answers, [column, *cols], "NPS")
    w_all = _weights_of(answers, weights)
    frame = answers[[*cols, column]].copy()
    frame["_w"] = 1.0 if w_all is None else w_all
    frame = frame[frame[column].notna()]
    grouped = [((), frame)] if not cols else list(frame.groupby(cols, observed=True, sort=True))
    rows = []
    for key, part in grouped:
        if len(part) < 2:
            continue
        res = proportion_methods.nps(
            part[column].to_numpy(), None if w_all is None else part["_w"].to_numpy(), confidence
        )
        key_t = key if isinstance(key, tuple) else (key,)
        row: dict[str, Any] = dict(zip(cols, key_t, strict=False))
        row.update(
            nps=res.nps,
            lower=res.lower,
            upper=res.upper,
            se=res.se,
            promoters=res.promoters,
            passives=res.passives,
            detractors=res.detractors,
            n=res.n,
            n_eff=res.n_eff,
        )
        dist = np.bincount(part[column].to_numpy(dtype=np.int64), minlength=11)
        row.update({f"d{i}": int(dist[i]) for i in range(11)})
        rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- weighting


@dataclass(frozen=True)
class Weighting:
    """Survey weights and what they cost: design effect and effective sample size."""

    weights: pd.Series
    method: str
    deff: float
    n_eff: float
    converged: bool


def weight_answers(
    answers: pd.DataFrame,
    *,
    cells: Sequence[str] | None = None,
    population: Mapping[Any, float] | None = None,
    margins: Mapping[str, Mapping[Any, float]] | None = None,
) -> Weighting:
    """Weights to the known customer mix: post-stratification on ``cells`` (e.g.
    ``["unit", "segment_name"]`` with population totals keyed by tuples) or raking to
    ``margins`` (e.g. ``{"segment_name": {...}, "unit": {...}}``).

    Weights are scaled to sum to the number of answers, so weighted counts read as answers.
    """
    if (population is None) == (margins is None):
        raise RuleError("give either cells+population (post-stratification) or margins (raking)")
    if population is not None:
        if not cells:
            raise RuleError("post-stratification needs the cell columns")
        _check_columns(answers, cells, "cell")
        labels = (
            answers[list(cells)].itertuples(index=False, name=None)
            if len(cells) > 1
            else answers[cells[0]]
        )
        w = weight_methods.post_stratify(list(labels), population)
        method, converged = "post_stratify", True
    else:
        assert margins is not None
        _check_columns(answers, list(margins), "raking")
        res = weight_methods.rake(answers[list(margins)], margins)
        w, method, converged = res.weights, "rake", res.converged
    w = np.asarray(w, dtype=np.float64)
    w = w * len(w) / w.sum()
    deff = weight_methods.design_effect(w)
    return Weighting(
        pd.Series(w, index=answers.index, name="weight"),
        method,
        float(deff),
        float(len(w) / deff),
        bool(converged),
    )
