"""Importance–performance map analysis (IPMA) on a fitted PLS path model.

For a target latent variable (say customer satisfaction or loyalty), IPMA sets each driver's
*importance* — its unstandardised total effect on the target — against its *performance* —
its mean score on a 0–100 index — so that an analyst sees which drivers matter most and
perform worst (Ringle & Sarstedt 2016; Hair et al. 2018, *Advanced Issues in PLS-SEM*, ch. 3).

Construct level: the LV index scores (see :meth:`PLSResult.index_scores`) are regressed
along the inner model, giving unstandardised path coefficients; their total effects on the
target are the importances. Performance is the mean index score.

Indicator level: the importance of manifest variable ``k`` of LV ``l`` is its rescaled
outer weight times the LV's total effect on the target, ``w̃_k · T_l→target``; its
performance is ``100 · (mean x_k − min) / (max − min)``.

Reference: Ringle, C. M. & Sarstedt, M. (2016), Gain more insight from your PLS-SEM results:
the importance-performance map analysis, *Industrial Management & Data Systems* 116(9).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqm.lazy import lazy_import
from sqm.methods._validation import MethodInputError, check_well_conditioned
from sqm.methods.plspm import PLSResult, total_effects

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_import("numpy")
    pd = lazy_import("pandas")

__all__ = ["IPMAResult", "ipma"]


@dataclass(frozen=True)
class IPMAResult:
    """An importance–performance map for one target LV.

    ``constructs``: one row per LV with a route to the target — ``importance``
    (unstandardised total effect on the target, index points per index point),
    ``total_effect`` (standardised), ``performance`` (mean 0–100 index).
    ``indicators``: one row per MV of those LVs — ``lv``, ``importance``, ``performance``.
    ``target_performance`` is the target's mean index.
    """

    target: str
    constructs: pd.DataFrame
    indicators: pd.DataFrame
    target_performance: float
    path_coefficients: pd.DataFrame


def _unstandardised_paths(result: PLSResult, index: pd.DataFrame) -> pd.DataFrame:
    """OLS path coefficients (with intercept) of each endogenous LV's index on its predecessors'."""
    lvs = list(result.model.lvs)
    adj = result.model.adjacency
    coef = np.zeros((len(lvs), len(lvs)))
    values = index.to_numpy()
    for k in range(len(lvs)):
        pred = np.flatnonzero(adj[:, k])
        if pred.size:
            design = check_well_conditioned(
                np.column_stack([np.ones(values.shape[0]), values[:, pred]]),
                f"the index scores of {lvs[k]!r}'s predecessors (with the intercept)",
                f"the unstandardised path coefficients into {lvs[k]!r}",
            )
            beta = np.linalg.lstsq(design, values[:, k], rcond=None)[0]
            coef[pred, k] = beta[1:]
    return pd.DataFrame(coef, index=lvs, columns=lvs)


def ipma(
    result: PLSResult,
    target: str,
    scale_min: float | None = None,
    scale_max: float | None = None,
) -> IPMAResult:
    """Importance–performance map analysis of the drivers of ``target`` (Ringle & Sarstedt 2016).

    Importance of LV ``l`` = its unstandardised total effect on ``target``, from the
    path model re-estimated on 0–100 index scores: ``T = (I − B_u)⁻¹ − I``. Performance =
    mean index score. At indicator level, importance ``w̃_k · T_l→target`` (rescaled outer
    weight times its LV's total effect) and performance ``100 (x̄_k − min)/(max − min)``.
    ``scale_min``/``scale_max`` are the ends of the questionnaire scale (default: observed).

    >>> from sqm.methods import plspm
    >>> rng = np.random.default_rng(0)
    >>> f = rng.normal(size=(200, 1))
    >>> df = pd.DataFrame(5 + f + rng.normal(size=(200, 4)), columns=["a1", "a2", "b1", "b2"])
    >>> df[["b1", "b2"]] += 0.5 * df[["a1", "a2"]].to_numpy()
    >>> res = plspm.fit(df, {"A": ["a1", "a2"], "B": ["b1", "b2"]}, [("A", "B")])
    >>> ipma(res, "B").constructs.round(2).to_dict("index")
    {'A': {'importance': 1.21, 'total_effect': 0.86, 'performance': 40.68}}
    """
    lvs = list(result.model.lvs)
    if target not in lvs:
        raise MethodInputError(
            f"target must be one of the model's latent variables {lvs}, got {target!r}"
        )
    t = lvs.index(target)
    drivers = [j for j in range(len(lvs)) if _has_route(result.model.adjacency, j, t)]
    if not drivers:
        raise MethodInputError(
            f"target {target!r} has no predecessors; IPMA needs an endogenous target"
        )
    index = result.index_scores(scale_min, scale_max)
    lo = float(result._data.min()) if scale_min is None else float(scale_min)
    hi = float(result._data.max()) if scale_max is None else float(scale_max)
    unstd = _unstandardised_paths(result, index)
    total_u = total_effects(unstd.to_numpy())
    performance = index.mean(axis=0)
    constructs = pd.DataFrame(
        {
            "importance": [total_u[j, t] for j in drivers],
            "total_effect": [float(result.total_effects.to_numpy()[j, t]) for j in drivers],
            "performance": [float(performance.iloc[j]) for j in drivers],
        },
        index=pd.Index([lvs[j] for j in drivers], name="lv"),
    )
    weights = result.unstandardised_weights()
    mv_mean = result._data.mean(axis=0)
    rows = []
    for k, mv in enumerate(result.model.mvs):
        j = int(result.model.membership[k])
        if j in drivers:
            rows.append(
                (
                    mv,
                    lvs[j],
                    float(weights.iloc[k]) * total_u[j, t],
                    100.0 * (mv_mean[k] - lo) / (hi - lo),
                )
            )
    indicators = pd.DataFrame(rows, columns=["mv", "lv", "importance", "performance"]).set_index(
        "mv"
    )
    return IPMAResult(
        target=target,
        constructs=constructs,
        indicators=indicators,
        target_performance=float(performance.iloc[t]),
        path_coefficients=unstd,
    )


def _has_route(adjacency: np.ndarray, i: int, j: int) -> bool:
    """Whether a directed route leads from LV ``i`` to LV ``j`` in the inner model."""
    reach = adjacency.astype(bool)
    step = reach.copy()
    for _ in range(adjacency.shape[0]):
        if step[i, j]:
            return True
        step = (step.astype(int) @ reach.astype(int)) > 0
    return False
