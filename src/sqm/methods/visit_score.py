"""Inspection scores: per visit, per store and period, with ranks, intervals and inspector effects.

Per visit (:func:`score_visits`), for a checklist compiled by :func:`compile_checklist`:

- item score f_i = answer / N_i (yes/no: N = 1), N/A (NaN) leaves the base;
- indicator score I_k = 100 · Σ_{i∈k} p_i f_i / Σ_{i∈k, answered} p_i, N/A when every item is N/A;
- **veto (一票否决)**: a veto item answered "no" sets its *indicator* to 0 — the plan: "只要发现
  违反的行为,即扣除该指标的全部得分". Other indicators of the section keep their scores;
- section score S_s = Σ_{k∈s} w_k I_k / Σ_{k∈s, not N/A} w_k, total T = Σ_k w_k I_k / Σ_k w_k over
  indicators that are not N/A (the profile's weights re-normalised over what was checked);
- grade from the checklist's bands; a failed critical item caps the grade at
  ``critical_cap_grade``; passed = T ≥ pass mark and the grade is at least the pass band.

Per store and period (:func:`store_period_scores`): the store's score is the mean of its visits'
totals (each visit already weighted with the store's tier profile); a percentile bootstrap
over visits gives its interval, the rank among peers (:func:`peer_ranks`) gets an interval from
the same replicates, and the change since the store's previous period gets one too.

Inspectors (:func:`calibration_agreement`, :func:`inspector_leniency`,
:func:`inspector_effects`): agreement on calibration visits (κ and ICC from
:mod:`sqm.methods.agreement`), leniency/severity flags and a
two-way additive (store-period + inspector) least-squares correction.

References: Efron & Tibshirani (1993) *An Introduction to the Bootstrap*, ch. 13 (percentile
intervals); Goldstein & Spiegelhalter (1996) *League tables and their limitations*, JRSS A 159
(rank intervals); Shrout & Fleiss (1979) *Intraclass correlations*, Psych. Bull. 86;
Cohen (1960) *A coefficient of agreement for nominal scales*.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqm.domain.checklist import Checklist, ItemKind, WeightProfile
from sqm.lazy import lazy_import
from sqm.methods._validation import FloatArray, MethodInputError, as_matrix
from sqm.methods.agreement import cohen_kappa, icc

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

__all__ = [
    "CalibrationResult",
    "ChecklistLayout",
    "InspectorEffects",
    "StoreScores",
    "VisitScores",
    "answers_matrix",
    "calibration_agreement",
    "compile_checklist",
    "grade_scores",
    "inspector_effects",
    "inspector_leniency",
    "peer_ranks",
    "score_visits",
    "store_period_scores",
]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class ChecklistLayout:
    """A checklist flattened into arrays for vectorised scoring (one row per item)."""

    item_codes: tuple[str, ...]
    indicator_codes: tuple[str, ...]
    section_codes: tuple[str, ...]
    scale_max: FloatArray  # (I,)
    points: FloatArray  # (I,)
    item_indicator: IntArray  # (I,) index into indicator_codes
    indicator_section: IntArray  # (K,) index into section_codes
    veto: BoolArray  # (I,)
    critical: BoolArray  # (I,)
    yes_no: BoolArray  # (I,)
    na_allowed: BoolArray  # (I,)
    band_codes: tuple[str, ...]  # best first
    band_mins: FloatArray
    pass_mark: float
    cap_band: int  # index into band_codes

    @property
    def n_items(self) -> int:
        """Number of items (columns of an answer matrix)."""
        return len(self.item_codes)


def compile_checklist(checklist: Checklist) -> ChecklistLayout:
    """Flatten a checklist into the arrays :func:`score_visits` works on.

    >>> from sqm.domain.checklist_template import template_checklist
    >>> compile_checklist(template_checklist()).n_items
    48
    """
    items = checklist.items()
    inds = checklist.indicators()
    secs = [s.code for s in checklist.sections]
    ind_of = checklist.indicator_of_item()
    sec_of = checklist.section_of_indicator()
    ind_pos = {ind.code: k for k, ind in enumerate(inds)}
    bands = checklist.grade_bands
    return ChecklistLayout(
        item_codes=tuple(it.code for it in items),
        indicator_codes=tuple(ind.code for ind in inds),
        section_codes=tuple(secs),
        scale_max=np.array([it.scale_max for it in items], dtype=float),
        points=np.array([it.points for it in items], dtype=float),
        item_indicator=np.array([ind_pos[ind_of[it.code]] for it in items], dtype=np.int64),
        indicator_section=np.array([secs.index(sec_of[ind.code]) for ind in inds], dtype=np.int64),
        veto=np.array([it.veto for it in items], dtype=bool),
        critical=np.array([it.critical for it in items], dtype=bool),
        yes_no=np.array([it.kind is ItemKind.YES_NO for it in items], dtype=bool),
        na_allowed=np.array([it.na_allowed for it in items], dtype=bool),
        band_codes=tuple(b.code for b in bands),
        band_mins=np.array([b.min_score for b in bands], dtype=float),
        pass_mark=checklist.pass_mark,
        cap_band=[b.code for b in bands].index(checklist.critical_cap_grade),
    )


@dataclass(frozen=True)
class VisitScores:
    """Scores of a batch of visits (rows) — NaN marks an indicator/section that was all N/A."""

    indicator: FloatArray  # (V, K) 0–100
    section: FloatArray  # (V, S) 0–100
    total: FloatArray  # (V,) 0–100
    grade: npt.NDArray[np.str_]  # (V,)
    passed: BoolArray  # (V,)
    vetoed: BoolArray  # (V, K) indicator zeroed by a veto item
    critical_failed: BoolArray  # (V,)
    layout: ChecklistLayout

    def frame(self) -> pd.DataFrame:
        """Section scores, total, grade and flags as a frame (one row per visit)."""
        out = pd.DataFrame(self.section, columns=list(self.layout.section_codes))
        out["total"] = self.total
        out["grade"] = self.grade
        out["passed"] = self.passed
        out["critical_failed"] = self.critical_failed
        out["n_vetoed"] = self.vetoed.sum(axis=1)
        return out


def _validate_answers(layout: ChecklistLayout, answers: FloatArray) -> None:
    n_items = layout.n_items
    if answers.shape[1] != n_items:
        raise MethodInputError(
            f"answers must have one column per checklist item ({n_items}), got {answers.shape[1]}"
        )
    na = np.isnan(answers)
    bad_na = na & ~layout.na_allowed
    if bad_na.any():
        r, c = np.argwhere(bad_na)[0]
        raise MethodInputError(
            f"answers row {r}, item {layout.item_codes[c]!r}: not applicable (NaN) is not allowed "
            "for this item"
        )
    filled = np.where(na, 0.0, answers)
    out = (filled < 0) | (filled > layout.scale_max) | (filled != np.round(filled))
    if out.any():
        r, c = np.argwhere(out)[0]
        raise MethodInputError(
            f"answers row {r}, item {layout.item_codes[c]!r}: got {answers[r, c]}, must be a whole "
            f"number from 0 to {int(layout.scale_max[c])}"
        )


def _weights_matrix(
    layout: ChecklistLayout, weights: FloatArray | WeightProfile | Sequence[float], n_visits: int
) -> FloatArray:
    if isinstance(weights, WeightProfile):
        missing = set(layout.indicator_codes) - set(weights.indicator_weights)
        if missing:
            raise MethodInputError(
                f"weights: profile {weights.code!r} lacks indicators {sorted(missing)}"
            )
        w = np.array([weights.indicator_weights[k] for k in layout.indicator_codes], dtype=float)
    else:
        w = np.asarray(weights, dtype=float)
    if w.ndim == 1:
        w = np.broadcast_to(w, (n_visits, w.shape[0]))
    n_ind = len(layout.indicator_codes)
    if w.shape != (n_visits, n_ind):
        raise MethodInputError(
            f"weights must be ({n_ind},) or ({n_visits}, {n_ind}) indicator weights, got {w.shape}"
        )
    if not np.isfinite(w).all() or (w <= 0).any():
        raise MethodInputError("weights must be finite and > 0 for every indicator")
    return w


def _weighted_nanmean(
    values: FloatArray, weights: FloatArray, groups: IntArray, n_groups: int
) -> FloatArray:
    """Row-wise Σ w v / Σ w over columns grouped by ``groups``, ignoring NaN values."""
    ok = ~np.isnan(values)
    wv = np.where(ok, values * weights, 0.0)
    ww = np.where(ok, weights, 0.0)
    onehot = np.zeros((values.shape[1], n_groups))
    onehot[np.arange(values.shape[1]), groups] = 1.0
    num = wv @ onehot
    den = ww @ onehot
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def score_visits(
    layout: ChecklistLayout | Checklist,
    answers: npt.ArrayLike,
    weights: FloatArray | WeightProfile | Sequence[float],
) -> VisitScores:
    """Score visits: indicator, section and total scores (0–100), grade, pass, veto and critical.

    ``answers`` is a visits × items matrix in checklist order: yes/no items 1 (compliant) or
    0, scale items 0…N, NaN for not applicable (only where the item allows it). ``weights``
    are indicator weights: a :class:`WeightProfile`, one vector for all visits, or one row
    per visit (each visit weighted with its own store's tier profile).

    Formulas in the module docstring. Example — a yes/no veto item violated zeroes its
    indicator:

    >>> from sqm.domain.checklist_template import template_checklist, template_profile
    >>> cl = template_checklist(); lay = compile_checklist(cl)
    >>> a = lay.scale_max.copy()[None, :]        # a perfect visit
    >>> a[0, lay.item_codes.index("no_dispute")] = 0
    >>> s = score_visits(lay, a, template_profile("partner"))
    >>> float(s.indicator[0, lay.indicator_codes.index("service_norms")])
    0.0
    >>> bool(s.total[0] < 100), str(s.grade[0])
    (True, 'A')
    """
    lay = compile_checklist(layout) if isinstance(layout, Checklist) else layout
    a = as_matrix(answers, "answers", allow_nan=True)
    _validate_answers(lay, a)
    n_v = a.shape[0]
    k_n, s_n = len(lay.indicator_codes), len(lay.section_codes)
    w = _weights_matrix(lay, weights, n_v)

    frac = a / lay.scale_max
    pts = np.broadcast_to(lay.points, a.shape)
    indicator = 100.0 * _weighted_nanmean(frac, pts, lay.item_indicator, k_n)

    violated = (a == 0) & lay.veto  # NaN == 0 is False: an N/A veto item is no violation
    vetoed = np.zeros((n_v, k_n), dtype=bool)
    if violated.any():
        rows, cols = np.nonzero(violated)
        vetoed[rows, lay.item_indicator[cols]] = True
    indicator = np.where(vetoed, 0.0, indicator)

    section = _weighted_nanmean(indicator, w, lay.indicator_section, s_n)
    total = _weighted_nanmean(indicator, w, np.zeros(k_n, dtype=np.int64), 1)[:, 0]

    critical_failed = ((a == 0) & lay.critical).any(axis=1)
    grade_idx = _band_index(lay, total)
    grade_idx = np.where(critical_failed, np.maximum(grade_idx, lay.cap_band), grade_idx)
    grade = np.asarray(lay.band_codes, dtype=np.str_)[grade_idx]
    passed = (total >= lay.pass_mark) & (lay.band_mins[grade_idx] >= lay.pass_mark)
    return VisitScores(indicator, section, total, grade, passed, vetoed, critical_failed, lay)


def _band_index(lay: ChecklistLayout, scores: FloatArray) -> IntArray:
    # bands are best-first with descending minimums; count the minimums a score fails to reach
    safe = np.nan_to_num(scores, nan=-1.0)
    return np.minimum(
        (safe[:, None] < lay.band_mins[None, :]).sum(axis=1), len(lay.band_mins) - 1
    ).astype(np.int64)


def grade_scores(
    layout: ChecklistLayout | Checklist, scores: npt.ArrayLike
) -> npt.NDArray[np.str_]:
    """Grade codes for total scores with the checklist's bands (no critical cap).

    >>> from sqm.domain.checklist_template import template_checklist
    >>> grade_scores(template_checklist(), [95, 85, 61, 12]).tolist()
    ['A', 'B', 'C', 'D']
    """
    lay = compile_checklist(layout) if isinstance(layout, Checklist) else layout
    s = np.asarray(scores, dtype=float).ravel()
    return np.asarray(lay.band_codes, dtype=np.str_)[_band_index(lay, s)]


def answers_matrix(
    layout: ChecklistLayout | Checklist, visits: Sequence[Mapping[str, float | None]]
) -> FloatArray:
    """Build the answer matrix from one ``{item_code: answer or None}`` mapping per visit.

    A missing or ``None`` answer becomes NaN (not applicable); unknown item codes raise.

    >>> from sqm.domain.checklist_template import template_checklist
    >>> answers_matrix(template_checklist(), [{"greet_on_entry": 1}]).shape
    (1, 48)
    """
    lay = compile_checklist(layout) if isinstance(layout, Checklist) else layout
    pos = {c: j for j, c in enumerate(lay.item_codes)}
    out = np.full((len(visits), lay.n_items), np.nan)
    for r, visit in enumerate(visits):
        for code, value in visit.items():
            if code not in pos:
                raise MethodInputError(f"visit {r}: unknown item code {code!r}")
            if value is not None:
                out[r, pos[code]] = float(value)
    return out


# --------------------------------------------------------------------------- store × period


@dataclass(frozen=True)
class StoreScores:
    """Per store and period: score with a bootstrap interval, grade, change since last period.

    ``frame`` has one row per (store, period) with columns store, period, n_visits, score,
    score_low, score_high, grade, prev_period, change, change_low, change_high,
    change_significant. ``boot`` holds the bootstrap replicates (rows of ``frame`` × B) that
    :func:`peer_ranks` reuses.
    """

    frame: pd.DataFrame
    boot: FloatArray
    level: float


def store_period_scores(
    visits: pd.DataFrame,
    *,
    layout: ChecklistLayout | Checklist | None = None,
    n_boot: int = 200,
    level: float = 0.95,
    seed: int = 0,
    store: str = "store",
    period: str = "period",
    total: str = "total",
) -> StoreScores:
    """Store score per period = mean of its visits' totals, with a percentile bootstrap CI.

    Bootstrap: visits are resampled with replacement within each (store, period), B times.
    A store-period with a single visit cannot be resampled meaningfully, so its replicates
    add N(0, σ²_w) noise, σ_w = the pooled within-store-period SD of visit totals — one visit
    gets an honest, wide interval instead of a zero-width one. Periods must sort in time
    order (e.g. "2026-10"); change = score − score of the store's previous period present, its
    interval from the difference of the replicates, significant when it excludes 0.

    >>> df = pd.DataFrame({"store": ["a", "a", "b", "b"], "period": ["2026-01"] * 4,
    ...                    "total": [80.0, 90.0, 70.0, 72.0]})
    >>> r = store_period_scores(df, n_boot=50)
    >>> r.frame[["store", "n_visits", "score"]].values.tolist()
    [['a', 2, 85.0], ['b', 2, 71.0]]
    """
    for col in (store, period, total):
        if col not in visits.columns:
            raise MethodInputError(f"visits lacks the column {col!r}")
    if n_boot < 10:
        raise MethodInputError(f"n_boot must be ≥ 10, got {n_boot}")
    if not 0 < level < 1:
        raise MethodInputError(f"level must be between 0 and 1, got {level}")
    y_all = visits[total].to_numpy(dtype=float)
    if np.isnan(y_all).any():
        raise MethodInputError(
            f"visits[{total!r}] has a missing value at row {int(np.argmax(np.isnan(y_all)))}"
        )

    st_codes, st_idx = np.unique(visits[store].to_numpy(), return_inverse=True)
    pe_codes, pe_idx = np.unique(visits[period].to_numpy(), return_inverse=True)
    key = st_idx.astype(np.int64) * len(pe_codes) + pe_idx
    order = np.argsort(key, kind="stable")
    key_s, y = key[order], y_all[order]
    starts = np.flatnonzero(np.r_[True, key_s[1:] != key_s[:-1]])
    counts = np.diff(np.r_[starts, key_s.size])
    g_of = np.repeat(np.arange(starts.size), counts)
    sums = np.add.reduceat(y, starts)
    mean = sums / counts

    resid = y - mean[g_of]
    multi = counts[g_of] > 1
    dof = int((counts[counts > 1] - 1).sum())
    sigma_w = float(np.sqrt((resid[multi] ** 2).sum() / dof)) if dof > 0 else 0.0

    rng = np.random.default_rng(seed)
    boot = np.repeat(mean[:, None], n_boot, axis=1)  # (G, B)
    multi_g = np.flatnonzero(counts > 1)
    if multi_g.size:
        # only store-periods with several visits need resampling; draw for their visits only
        vis = np.flatnonzero(multi)  # visits of multi-visit groups, in group order
        sub_counts = counts[multi_g]
        sub_starts = np.r_[0, np.cumsum(sub_counts)[:-1]]
        first = starts[g_of[vis]]
        u = rng.random((n_boot, vis.size))
        pick = first + np.floor(u * counts[g_of[vis]]).astype(np.int64)
        boot[multi_g] = (np.add.reduceat(y[pick], sub_starts, axis=1) / sub_counts).T
    single = counts == 1
    if single.any() and sigma_w > 0:
        noise = rng.standard_normal((int(single.sum()), n_boot), dtype=np.float32)
        boot[single] += sigma_w * noise
    np.clip(boot, 0.0, 100.0, out=boot)

    alpha = (1 - level) / 2
    lo, hi = _percentile_interval(boot, alpha)
    g_store = st_codes[key_s[starts] // len(pe_codes)]
    g_period_i = key_s[starts] % len(pe_codes)
    frame = pd.DataFrame(
        {
            "store": g_store,
            "period": pe_codes[g_period_i],
            "n_visits": counts,
            "score": mean,
            "score_low": lo,
            "score_high": hi,
        }
    )
    if layout is not None:
        frame["grade"] = grade_scores(layout, mean)
    # previous group of the same store (groups are sorted by store then period)
    same_store_prev = np.r_[
        False, key_s[starts][1:] // len(pe_codes) == key_s[starts][:-1] // len(pe_codes)
    ]
    prev = np.where(same_store_prev, np.arange(starts.size) - 1, -1)
    has = prev >= 0
    diff_boot = boot - boot[np.maximum(prev, 0)]
    diff_boot[~has] = 0.0
    prev_codes = pe_codes[g_period_i[np.maximum(prev, 0)]].astype(object)
    prev_codes[~has] = None
    frame["prev_period"] = prev_codes
    frame["change"] = np.where(has, mean - mean[np.maximum(prev, 0)], np.nan)
    c_lo, c_hi = _percentile_interval(diff_boot, alpha)
    frame["change_low"] = np.where(has, c_lo, np.nan)
    frame["change_high"] = np.where(has, c_hi, np.nan)
    frame["change_significant"] = has & ((c_lo > 0) | (c_hi < 0))
    return StoreScores(frame=frame, boot=boot, level=level)


def _percentile_interval(boot: FloatArray, alpha: float) -> tuple[FloatArray, FloatArray]:
    """Row-wise percentile interval of replicates (G × B): order statistics ⌊α(B−1)⌋, ⌈(1−α)(B−1)⌉."""
    b = boot.shape[1]
    s = np.sort(boot, axis=1)
    return s[:, int(np.floor(alpha * (b - 1)))], s[:, int(np.ceil((1 - alpha) * (b - 1)))]


def peer_ranks(scores: StoreScores, peer: npt.ArrayLike | None = None) -> pd.DataFrame:
    """Rank of each store among its peers in the same period, with a bootstrap rank interval.

    ``peer`` gives one peer-group label per row of ``scores.frame`` (tier, city, province…);
    ``None`` ranks against all stores of the period. Rank 1 is the best score; ties share
    the best rank ("min" method). The interval is the percentile interval of the store's
    rank across the bootstrap replicates (Goldstein & Spiegelhalter 1996).

    >>> df = pd.DataFrame({"store": list("aabbcc"), "period": ["2026-01"] * 6,
    ...                    "total": [95., 93., 70., 74., 40., 45.]})
    >>> peer_ranks(store_period_scores(df, n_boot=100))["rank"].tolist()
    [1, 2, 3]
    """
    fr = scores.frame
    g = len(fr)
    labels = (
        np.zeros(g, dtype=np.int64)
        if peer is None
        else np.unique(np.asarray(peer), return_inverse=True)[1]
    )
    if labels.shape[0] != g:
        raise MethodInputError(
            f"peer must have one label per store-period ({g}), got {labels.shape[0]}"
        )
    _, pe = np.unique(fr["period"].to_numpy(), return_inverse=True)
    grp = pe.astype(np.int64) * (int(labels.max()) + 1) + labels
    _, grp = np.unique(grp, return_inverse=True)
    n_in = np.bincount(grp)

    point = (
        pd.Series(fr["score"].to_numpy())
        .groupby(grp)
        .rank(method="min", ascending=False)
        .to_numpy(dtype=np.int64)
    )
    # Replicate ranks, one peer group at a time: sorting short rows is cheaper than one
    # argsort over all store-periods per replicate.
    # Scores are quantised to 0.01 points as 16-bit integers, so numpy's stable argsort runs
    # as a radix sort; replicate ties closer than 0.01 point are broken by position.
    ranks = np.empty(scores.boot.shape, dtype=np.int64)  # (G, B)
    keys = np.round((100.0 - np.clip(scores.boot, 0.0, 100.0)) * 100.0).astype(np.int16)
    by_grp = np.argsort(grp, kind="stable")
    bounds = np.r_[0, np.cumsum(n_in)]
    for gi in range(n_in.size):
        idx = by_grp[bounds[gi] : bounds[gi + 1]]
        block = np.ascontiguousarray(keys[idx].T)  # (B, n)
        order = np.argsort(block, axis=1, kind="stable")
        r = np.empty_like(order)
        np.put_along_axis(r, order, np.arange(1, idx.size + 1)[None, :], axis=1)
        ranks[idx] = r.T
    alpha = (1 - scores.level) / 2
    lo, hi = _percentile_interval(ranks.astype(float), alpha)
    return pd.DataFrame(
        {
            "store": fr["store"].to_numpy(),
            "period": fr["period"].to_numpy(),
            "peer": None if peer is None else np.asarray(peer),
            "n_peers": n_in[grp],
            "rank": point,
            "rank_low": lo.astype(np.int64),
            "rank_high": hi.astype(np.int64),
        }
    )


# --------------------------------------------------------------------------- inspectors


@dataclass(frozen=True)
class CalibrationResult:
    """Agreement of inspectors on calibration visits (same store, same day, two inspectors)."""

    n_pairs: int
    kappa_yes_no: float  # pooled over all yes/no items answered by both
    kappa_low: float  # 95 % interval of κ (Fleiss, Cohen & Everitt 1969 SE)
    kappa_high: float
    icc_total: float  # ICC1 on visit totals
    icc_low: float  # 95 % interval of ICC1 (Shrout & Fleiss 1979)
    icc_high: float
    mean_abs_diff: float  # mean |total_a − total_b|
    item_agreement: pd.Series  # share of pairs agreeing, per yes/no item


def calibration_agreement(
    layout: ChecklistLayout | Checklist,
    answers_a: npt.ArrayLike,
    answers_b: npt.ArrayLike,
    totals_a: npt.ArrayLike,
    totals_b: npt.ArrayLike,
) -> CalibrationResult:
    """Agreement between the two inspectors of each calibration visit pair.

    Row p of ``answers_a``/``answers_b`` are the two answer sheets of pair p. κ is Cohen's κ
    over all yes/no item answers pooled; ICC is ICC1 on totals (pairs are targets; the
    inspectors differ between pairs, hence one-way). Both come from
    :mod:`sqm.methods.agreement`, with their intervals. Read κ with Landis & Koch (1977):
    > 0.6 substantial, > 0.8 almost perfect.

    >>> from sqm.domain.checklist_template import template_checklist
    >>> lay = compile_checklist(template_checklist())
    >>> a = np.tile(lay.scale_max, (3, 1)); b = a.copy(); b[0, 0] = 0
    >>> r = calibration_agreement(lay, a, b, [100, 90, 80], [95, 90, 82])
    >>> r.n_pairs, round(r.mean_abs_diff, 2)
    (3, 2.33)
    """
    lay = compile_checklist(layout) if isinstance(layout, Checklist) else layout
    a = as_matrix(answers_a, "answers_a", allow_nan=True)
    b = as_matrix(answers_b, "answers_b", allow_nan=True)
    if a.shape != b.shape or a.shape[1] != lay.n_items:
        raise MethodInputError(
            f"answers_a and answers_b must both be pairs × {lay.n_items}, got {a.shape} and {b.shape}"
        )
    ta = np.asarray(totals_a, dtype=float).ravel()
    tb = np.asarray(totals_b, dtype=float).ravel()
    if ta.size != a.shape[0] or tb.size != a.shape[0]:
        raise MethodInputError("totals_a and totals_b need one total per pair")
    yn_a, yn_b = a[:, lay.yes_no], b[:, lay.yes_no]
    both_flat = ~(np.isnan(yn_a.ravel()) | np.isnan(yn_b.ravel()))
    if not both_flat.any():
        raise MethodInputError("answers_a and answers_b share no yes/no item answered by both")
    kap = cohen_kappa(yn_a.ravel()[both_flat], yn_b.ravel()[both_flat])
    both = ~(np.isnan(yn_a) | np.isnan(yn_b))
    with np.errstate(invalid="ignore"):
        agree = np.where(both, yn_a == yn_b, np.nan)
        item_agree = pd.Series(
            np.nanmean(agree, axis=0) if both.any() else np.nan,
            index=np.asarray(lay.item_codes)[lay.yes_no],
        )
    nan = float("nan")
    icc_row: dict[str, float] | None = None
    if ta.size >= 2:
        try:
            tab = icc(np.c_[ta, tb])
            icc_row = {k: float(str(tab.at["ICC1", k])) for k in ("icc", "lower", "upper")}
        except MethodInputError:  # totals that do not vary: ICC is undefined, κ still reported
            icc_row = None
    return CalibrationResult(
        n_pairs=int(a.shape[0]),
        kappa_yes_no=float(kap.kappa),
        kappa_low=float(kap.lower),
        kappa_high=float(kap.upper),
        icc_total=nan if icc_row is None else icc_row["icc"],
        icc_low=nan if icc_row is None else icc_row["lower"],
        icc_high=nan if icc_row is None else icc_row["upper"],
        mean_abs_diff=float(np.mean(np.abs(ta - tb))),
        item_agreement=item_agree,
    )


def inspector_leniency(
    visits: pd.DataFrame,
    *,
    alpha: float = 0.05,
    min_points: float = 3.0,
    min_visits: int = 5,
    store: str = "store",
    inspector: str = "inspector",
    total: str = "total",
) -> pd.DataFrame:
    """Flag inspectors who score consistently above (lenient) or below (severe) their peers.

    Residual of a visit = its total − the mean total of the *other* inspectors' visits to the
    same store (visits of stores no other inspector saw carry no information and are
    dropped). Per inspector: mean residual, its one-sample t-test against 0, Holm-adjusted
    p-values across inspectors; flagged "lenient"/"severe" when p_holm < ``alpha``, the mean
    residual is at least ``min_points`` and there are at least ``min_visits`` residuals.

    >>> df = pd.DataFrame({"store": ["s1", "s1", "s2", "s2"], "inspector": ["x", "y", "x", "y"],
    ...                    "total": [90., 80., 85., 75.]})
    >>> inspector_leniency(df, min_visits=2)["mean_residual"].tolist()
    [10.0, -10.0]
    """
    for col in (store, inspector, total):
        if col not in visits.columns:
            raise MethodInputError(f"visits lacks the column {col!r}")
    df = visits[[store, inspector, total]].copy()
    df.columns = pd.Index(["store", "inspector", "total"])
    by_si = df.groupby(["store", "inspector"], sort=False)["total"].agg(["sum", "count"])
    by_s = df.groupby("store")["total"].agg(["sum", "count"])
    by_s.columns = pd.Index(["sum_store", "count_store"])
    j = df.join(by_si, on=["store", "inspector"]).join(by_s, on="store")
    other_n = j["count_store"] - j["count"]
    keep = other_n > 0
    other_mean = (j["sum_store"] - j["sum"])[keep] / other_n[keep]
    res = pd.DataFrame(
        {"inspector": j["inspector"][keep], "residual": j["total"][keep] - other_mean}
    )
    rows = []
    for name, grp in res.groupby("inspector", sort=True):
        r = grp["residual"].to_numpy(dtype=float)
        n = r.size
        if n >= 2 and r.std(ddof=1) > 0:
            t, p = stats.ttest_1samp(r, 0.0)
        else:
            t, p = np.nan, np.nan
        rows.append((name, n, float(r.mean()), float(t), float(p)))
    out = pd.DataFrame(rows, columns=["inspector", "n", "mean_residual", "t", "p"])
    out["p_holm"] = _holm(out["p"].to_numpy(dtype=float))
    sig = (
        (out["p_holm"] < alpha)
        & (out["mean_residual"].abs() >= min_points)
        & (out["n"] >= min_visits)
    )
    out["flag"] = np.where(sig, np.where(out["mean_residual"] > 0, "lenient", "severe"), "")
    return out


def _holm(p: FloatArray) -> FloatArray:
    """Holm (1979) step-down adjusted p-values; NaN stays NaN."""
    out = np.full_like(p, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    if ok.size == 0:
        return out
    order = ok[np.argsort(p[ok])]
    m = order.size
    adj = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out[order] = np.minimum(adj, 1.0)
    return out


@dataclass(frozen=True)
class InspectorEffects:
    """Two-way additive fit total = μ + a_store + b_inspector + e (least squares, Σ n_i b_i = 0)."""

    inspector_effect: pd.Series  # b_i, points above (+) or below (−) the average inspector
    store_effect: pd.Series  # μ + a_s: the store's level with inspector effects removed
    corrected: FloatArray  # per visit: total − b_inspector
    iterations: int


def inspector_effects(
    visits: pd.DataFrame,
    *,
    store: str = "store",
    inspector: str = "inspector",
    total: str = "total",
    tol: float = 1e-10,
    max_iter: int = 10_000,
) -> InspectorEffects:
    """Correct visit totals for inspector leniency with a two-way additive fixed-effects model.

    Fits y_v = c_{s(v)} + b_{i(v)} + e_v by least squares (alternating projections /
    backfitting, which converges to the least-squares solution of the dummy-variable
    regression ``y ~ C(store) + C(inspector)``), with the visit-weighted mean of b set to 0
    so "0" is the average inspector. Stores are whatever unit is constant across the
    inspectors compared — pass "store-period" labels to let stores change over time.
    Inspector effects are only comparable within a connected set (inspectors linked by
    shared stores); the rotation rule makes the set connected in practice.

    >>> df = pd.DataFrame({"store": ["s1", "s1", "s2", "s2"], "inspector": ["x", "y", "x", "y"],
    ...                    "total": [90., 80., 85., 75.]})
    >>> inspector_effects(df).inspector_effect.round(6).to_dict()
    {'x': 5.0, 'y': -5.0}
    """
    for col in (store, inspector, total):
        if col not in visits.columns:
            raise MethodInputError(f"visits lacks the column {col!r}")
    y = visits[total].to_numpy(dtype=float)
    if np.isnan(y).any():
        raise MethodInputError(f"visits[{total!r}] has missing values")
    s_codes, s_idx = np.unique(visits[store].to_numpy(), return_inverse=True)
    i_codes, i_idx = np.unique(visits[inspector].to_numpy(), return_inverse=True)
    n_s = np.bincount(s_idx).astype(float)
    n_i = np.bincount(i_idx).astype(float)
    b = np.zeros(i_codes.size)
    c = np.bincount(s_idx, weights=y) / n_s
    iterations = 0
    for iterations in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        c = np.bincount(s_idx, weights=y - b[i_idx]) / n_s
        b_new = np.bincount(i_idx, weights=y - c[s_idx]) / n_i
        b_new -= np.average(b_new, weights=n_i)
        step = float(np.max(np.abs(b_new - b)))
        b = b_new
        if step < tol:
            break
    c = np.bincount(s_idx, weights=y - b[i_idx]) / n_s
    return InspectorEffects(
        inspector_effect=pd.Series(b, index=i_codes, name="inspector_effect"),
        store_effect=pd.Series(c, index=s_codes, name="store_effect"),
        corrected=y - b[i_idx],
        iterations=iterations,
    )
