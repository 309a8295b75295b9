"""Agreement of experts across Delphi rounds: Kendall's W and per-item consensus.

Ratings are experts × items (one row per expert, one column per indicator being rated,
e.g. importance 1–5 or 1–9). Kendall's coefficient of concordance W says whether the
experts order the items alike (0: no agreement, 1: identical orders); the Delphi round
summary says, item by item, whether opinions have converged.

References
----------
- Kendall, M. G. & Babington Smith, B. (1939). The problem of m rankings.
  *Annals of Mathematical Statistics* 10(3), 275-287.
- Siegel, S. & Castellan, N. J. (1988). *Nonparametric Statistics for the Behavioral
  Sciences*, 2nd ed., §9.4 (W with the correction for ties; χ² = m(n − 1)W).
- von der Gracht, H. A. (2012). Consensus measurement in Delphi studies.
  *Technological Forecasting & Social Change* 79, 1525-1536 (IQR and CV rules).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqm.lazy import lazy_import
from sqm.methods._validation import MethodInputError, as_matrix

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import scipy.stats as stats
else:
    np = lazy_import("numpy")
    pd = lazy_import("pandas")
    stats = lazy_import("scipy.stats")

__all__ = ["ConsensusRule", "DelphiRound", "KendallW", "delphi_round", "kendall_w"]


@dataclass(frozen=True)
class KendallW:
    """Kendall's W with its chi-square test: ``w``, ``chi2`` = m(n − 1)W, ``df`` = n − 1,
    ``p_value``; ``m`` raters, ``n`` items; ``tie_corrected`` says whether ties were corrected."""

    w: float
    chi2: float
    df: int
    p_value: float
    m: int
    n: int
    tie_corrected: bool


def kendall_w(ratings: Any, *, correct_ties: bool = True) -> KendallW:
    """Kendall's coefficient of concordance W of m raters over n items.

    Each rater's ratings are ranked (average ranks for ties); R_i is item i's rank sum and
    S = Σ (R_i − R̄)². W = 12 S / (m²(n³ − n) − m Σ_j T_j) with T_j = Σ (t³ − t) over the
    groups of tied ranks of rater j (T = 0 without the correction). Significance: χ² =
    m(n − 1)W with n − 1 degrees of freedom (which is Friedman's statistic).

    >>> r = kendall_w([[1, 2, 3, 4], [1, 3, 2, 4], [2, 1, 3, 4]])
    >>> round(r.w, 4), r.df
    (0.7778, 3)
    """
    a = as_matrix(ratings, "ratings")
    m, n = a.shape
    if m < 2:
        raise MethodInputError(f"ratings needs at least 2 raters (rows), got {m}")
    if n < 2:
        raise MethodInputError(f"ratings needs at least 2 items (columns), got {n}")
    ranks = stats.rankdata(a, axis=1)
    r = ranks.sum(axis=0)
    s = float(((r - r.mean()) ** 2).sum())
    ties = 0.0
    if correct_ties:
        for row in a:
            _, counts = np.unique(row, return_counts=True)
            ties += float((counts**3 - counts).sum())
    denom = m**2 * (n**3 - n) - m * ties
    if denom <= 0:
        raise MethodInputError("every rater gave every item the same rating: W is undefined")
    w = 12.0 * s / denom
    chi2 = m * (n - 1) * w
    return KendallW(
        w=w,
        chi2=chi2,
        df=n - 1,
        p_value=float(stats.chi2.sf(chi2, n - 1)),
        m=m,
        n=n,
        tie_corrected=correct_ties,
    )


@dataclass(frozen=True)
class ConsensusRule:
    """When an item counts as agreed: IQR ≤ ``max_iqr`` and CV ≤ ``max_cv`` (either may be
    None to skip it), and, if ``min_share`` is set, at least that share of experts rating
    ≥ ``agree_at``. Defaults suit a 1–5 importance scale (IQR ≤ 1, CV ≤ 0.25)."""

    max_iqr: float | None = 1.0
    max_cv: float | None = 0.25
    min_share: float | None = None
    agree_at: float | None = None


@dataclass(frozen=True)
class DelphiRound:
    """One Delphi round: ``items`` (per item: n, mean, sd, median, q1, q3, iqr, cv, share
    agreeing if asked, consensus), ``kendall`` (W over all items), ``consensus`` (every item
    agreed), ``rule``."""

    items: pd.DataFrame
    kendall: KendallW
    consensus: bool
    rule: ConsensusRule


def delphi_round(ratings: Any, rule: ConsensusRule | None = None) -> DelphiRound:
    """Summarise a Delphi round of expert ratings (experts × items) and test consensus.

    Per item: median, quartiles (linear interpolation, numpy's default), IQR, mean,
    sample sd and CV = sd / mean; consensus by ``rule``. Kendall's W (tie-corrected) over
    the items says whether experts also agree on their order.

    >>> r = delphi_round(pd.DataFrame({"a": [5, 5, 4, 5], "b": [2, 4, 1, 5]}))
    >>> r.items["consensus"].tolist(), r.consensus
    ([True, False], False)
    """
    rule = rule or ConsensusRule()
    frame = ratings if isinstance(ratings, pd.DataFrame) else pd.DataFrame(np.asarray(ratings))
    a = as_matrix(frame, "ratings", min_rows=2)
    q1, med, q3 = np.quantile(a, [0.25, 0.5, 0.75], axis=0)
    mean = a.mean(axis=0)
    sd = a.std(axis=0, ddof=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cv = np.where(mean != 0, sd / np.abs(mean), np.nan)
    items = pd.DataFrame(
        {
            "n": a.shape[0],
            "mean": mean,
            "sd": sd,
            "median": med,
            "q1": q1,
            "q3": q3,
            "iqr": q3 - q1,
            "cv": cv,
        },
        index=frame.columns,
    )
    ok = np.ones(a.shape[1], dtype=bool)
    if rule.max_iqr is not None:
        ok &= items["iqr"].to_numpy() <= rule.max_iqr
    if rule.max_cv is not None:
        ok &= np.nan_to_num(items["cv"].to_numpy(), nan=np.inf) <= rule.max_cv
    if rule.min_share is not None:
        if rule.agree_at is None:
            raise MethodInputError(
                "rule.min_share needs rule.agree_at (the rating that counts as agree)"
            )
        share = (a >= rule.agree_at).mean(axis=0)
        items["share_agree"] = share
        ok &= share >= rule.min_share
    items["consensus"] = ok
    return DelphiRound(items=items, kendall=kendall_w(a), consensus=bool(ok.all()), rule=rule)
