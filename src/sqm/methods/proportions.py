"""Proportions, Net Promoter Score and means with confidence intervals.

Weighted versions use the Kish effective sample size ``n_eff = (Σw)² / Σw²`` in
place of ``n`` (an approximation that ignores any correlation between the weights
and the answers; see :mod:`sqm.methods.survey_weights` for linearisation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from sqm.lazy import lazy_import
from sqm.methods._validation import FloatArray, MethodInputError

if TYPE_CHECKING:
    import numpy as np
    import scipy.stats as stats
else:
    np = lazy_import("numpy")
    stats = lazy_import("scipy.stats")

__all__ = [
    "MeanInterval",
    "NPSResult",
    "effective_n",
    "mean_interval",
    "nps",
    "weighted_proportion_interval",
    "wilson_interval",
]


def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise MethodInputError(f"confidence must be in (0, 1), got {confidence}")
    return float(stats.norm.isf((1 - confidence) / 2))


def _weights(weights: Any, n: int) -> FloatArray | None:
    if weights is None:
        return None
    w = np.asarray(weights, dtype=float).ravel()
    if w.shape[0] != n:
        raise MethodInputError(
            f"weights must have one value per observation ({n}), got {w.shape[0]}"
        )
    if np.isnan(w).any() or (w < 0).any() or not np.isfinite(w).all():
        raise MethodInputError("weights must be finite and non-negative (no NaN)")
    if w.sum() <= 0:
        raise MethodInputError("weights must not all be zero")
    return w


def effective_n(weights: Any) -> float:
    """Kish's effective sample size ``(Σw)² / Σw²`` (equals n for equal weights).

    >>> effective_n([1, 1, 2, 2])
    3.6
    """
    w = _weights(weights, int(np.size(weights)))
    assert w is not None
    return float(w.sum() ** 2 / (w**2).sum())


def wilson_interval(successes: Any, n: Any, confidence: float = 0.95) -> tuple[Any, Any]:
    """Wilson score interval for a binomial proportion.

    ``(p̂ + z²/2n ± z·√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n)``. Unlike the Wald interval it
    stays inside [0, 1] and keeps its coverage for small n or p̂ near 0 or 1 — the
    right interval for a store's share of satisfied customers out of a handful of
    answers. ``successes`` and ``n`` may be arrays (one interval per element) and
    ``n`` may be an effective (non-integer) sample size. Returns ``(lower, upper)``,
    floats for scalar input.

    Reference: Wilson, E. B. (1927), *JASA* 22, 209–212; matches
    ``statsmodels.stats.proportion.proportion_confint(method="wilson")``.

    >>> lo, hi = wilson_interval(8, 10)
    >>> round(lo, 4), round(hi, 4)
    (0.4902, 0.9433)
    """
    z = _z(confidence)
    x = np.asarray(successes, dtype=float)
    m = np.asarray(n, dtype=float)
    if np.isnan(x).any() or np.isnan(m).any():
        raise MethodInputError("successes and n must not be missing (NaN)")
    if (m <= 0).any():
        raise MethodInputError("n must be positive")
    if (x < 0).any() or (x > m).any():
        raise MethodInputError("successes must lie between 0 and n")
    p = x / m
    denom = 1 + z**2 / m
    centre = (p + z**2 / (2 * m)) / denom
    half = z * np.sqrt(p * (1 - p) / m + z**2 / (4 * m**2)) / denom
    lower = np.clip(centre - half, 0.0, 1.0)
    upper = np.clip(centre + half, 0.0, 1.0)
    if lower.ndim == 0:
        return float(lower), float(upper)
    return lower, upper


def weighted_proportion_interval(
    indicator: Any, weights: Any = None, confidence: float = 0.95
) -> tuple[float, float, float]:
    """Proportion of 1s in a 0/1 indicator with a Wilson interval on the effective n.

    Returns ``(p, lower, upper)``. With weights, ``p = Σw·y / Σw`` and the Wilson
    interval uses ``n_eff`` (Kish) as the sample size.

    >>> p, lo, hi = weighted_proportion_interval([1, 1, 0, 1])
    >>> p
    0.75
    """
    y = np.asarray(indicator, dtype=float).ravel()
    if y.size == 0:
        raise MethodInputError("indicator is empty")
    if np.isnan(y).any() or not np.isin(y, (0.0, 1.0)).all():
        raise MethodInputError("indicator must contain only 0 and 1 (no NaN)")
    w = _weights(weights, y.size)
    if w is None:
        p, n = float(y.mean()), float(y.size)
    else:
        p = float((w * y).sum() / w.sum())
        n = float(w.sum() ** 2 / (w**2).sum())
    lo, hi = wilson_interval(p * n, n, confidence)
    return p, float(lo), float(hi)


@dataclass(frozen=True)
class NPSResult:
    """Net Promoter Score on the −100…100 scale with its uncertainty.

    ``promoters``, ``passives``, ``detractors`` are (weighted) shares; ``n`` the number
    of answers and ``n_eff`` the (Kish) effective sample size; ``se`` the standard
    error of the score (in NPS points); ``lower``/``upper`` the interval bounds.
    """

    nps: float
    promoters: float
    passives: float
    detractors: float
    n: int
    n_eff: float
    se: float
    lower: float
    upper: float
    method: str


def nps(
    scores: Any,
    weights: Any = None,
    confidence: float = 0.95,
    method: Literal["wald", "adjusted_wald"] = "wald",
) -> NPSResult:
    """Net Promoter Score from 0–10 likelihood-to-recommend answers.

    Promoters answer 9–10, passives 7–8, detractors 0–6; ``NPS = 100·(p_P − p_D)``.
    The trinomial variance of ``p_P − p_D`` is ``(p_P + p_D − (p_P − p_D)²) / n``
    (the variance of a score coded +1/0/−1), so ``se = 100·√that``.

    ``method="wald"``: ``NPS ± z·se``. ``method="adjusted_wald"``: add 3/4 of an
    answer to promoters and to detractors and 3 to ``n`` before computing the
    shares, variance and interval (Rocks 2016; Sauro & Lewis, *Quantifying the User
    Experience*, 2nd ed.) — better coverage for small samples; the point estimate
    ``nps`` stays the observed one. Bounds are clipped to [−100, 100]. With
    ``weights``, shares are weighted and ``n`` becomes ``n_eff``.

    >>> r = nps([10, 9, 9, 8, 7, 6, 3, 10, 10, 5])
    >>> r.nps, round(r.se, 2)
    (20.0, 27.57)
    """
    x = np.asarray(scores, dtype=float).ravel()
    if x.size < 2:
        raise MethodInputError(f"scores needs at least 2 answers, got {x.size}")
    if np.isnan(x).any():
        raise MethodInputError(
            f"scores has a missing value (NaN) at position {int(np.argmax(np.isnan(x)))}; "
            "drop unanswered questions first"
        )
    bad = (x < 0) | (x > 10) | (x != np.round(x))
    if bad.any():
        raise MethodInputError(
            f"scores must be whole numbers 0–10, found {x[bad][0]} at position {int(np.argmax(bad))}"
        )
    if method not in ("wald", "adjusted_wald"):
        raise MethodInputError(f"method must be 'wald' or 'adjusted_wald', got {method!r}")
    z = _z(confidence)
    w = _weights(weights, x.size)
    if w is None:
        w = np.ones_like(x)
    total = w.sum()
    prom_w, det_w = w[x >= 9].sum(), w[x <= 6].sum()
    p_p, p_d = prom_w / total, det_w / total
    n_eff = float(total**2 / (w**2).sum())
    if method == "adjusted_wald":
        n_adj = n_eff + 3.0
        a_p = (p_p * n_eff + 0.75) / n_adj
        a_d = (p_d * n_eff + 0.75) / n_adj
        centre = a_p - a_d
        var = (a_p + a_d - centre**2) / n_adj
    else:
        centre = p_p - p_d
        var = (p_p + p_d - centre**2) / n_eff
    se = float(np.sqrt(max(var, 0.0)))
    return NPSResult(
        nps=float(100 * (p_p - p_d)),
        promoters=float(p_p),
        passives=float(1 - p_p - p_d),
        detractors=float(p_d),
        n=int(x.size),
        n_eff=n_eff,
        se=100 * se,
        lower=float(max(-100.0, 100 * (centre - z * se))),
        upper=float(min(100.0, 100 * (centre + z * se))),
        method=method,
    )


@dataclass(frozen=True)
class MeanInterval:
    """A mean with its standard error and Student-t interval (``df = n_eff − 1``)."""

    mean: float
    sd: float
    se: float
    lower: float
    upper: float
    n: int
    n_eff: float


def mean_interval(x: Any, weights: Any = None, confidence: float = 0.95) -> MeanInterval:
    """Mean with a Student-t confidence interval: ``x̄ ± t_{n−1}·s/√n``.

    With ``weights``: weighted mean ``Σwx/Σw``, the weighted standard deviation
    ``s_w = √(Σw(x − x̄_w)² / Σw · n_eff/(n_eff − 1))``, ``se = s_w/√n_eff`` and
    ``t`` on ``n_eff − 1`` degrees of freedom (Kish approximation). Equal weights
    give exactly the unweighted result.

    >>> r = mean_interval([4, 5, 6, 5, 5])
    >>> r.mean, round(r.lower, 3), round(r.upper, 3)
    (5.0, 4.122, 5.878)
    """
    v = np.asarray(x, dtype=float).ravel()
    if v.size < 2:
        raise MethodInputError(f"x needs at least 2 observations for an interval, got {v.size}")
    if np.isnan(v).any() or not np.isfinite(v).all():
        raise MethodInputError(
            f"x has a missing or infinite value at position {int(np.argmax(~np.isfinite(v)))}"
        )
    if not 0 < confidence < 1:
        raise MethodInputError(f"confidence must be in (0, 1), got {confidence}")
    w = _weights(weights, v.size)
    if w is None:
        mean = float(v.mean())
        sd = float(v.std(ddof=1))
        n_eff = float(v.size)
    else:
        n_eff = float(w.sum() ** 2 / (w**2).sum())
        if n_eff <= 1:
            raise MethodInputError("weights leave an effective sample size ≤ 1; no interval")
        mean = float((w * v).sum() / w.sum())
        sd = float(np.sqrt((w * (v - mean) ** 2).sum() / w.sum() * n_eff / (n_eff - 1)))
    se = sd / np.sqrt(n_eff)
    t = float(stats.t.isf((1 - confidence) / 2, n_eff - 1))
    se = float(se)
    return MeanInterval(mean, sd, se, mean - t * se, mean + t * se, int(v.size), n_eff)
