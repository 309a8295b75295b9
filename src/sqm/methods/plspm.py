"""PLS path modelling (PLS-PM) for satisfaction-index models such as ECSI and ACSI.

The estimator follows Lohmöller's and Wold's iterative algorithm exactly as the R package
``plspm`` implements it (Sanchez 2013, *PLS Path Modeling with R*, ch. 4 and appendix):

* manifest variables (MVs) are centred and, when ``scaled=True``, divided by their
  population standard deviation (``scaled=False`` only centres them);
* outer weights start at 1 per MV, normalised so that each latent variable (LV) has unit
  variance; each iteration computes the outer estimates ``Y = scale(X W) * sqrt((n-1)/n)``,
  the inner weights ``E`` (centroid: sign of the correlation; factorial: the correlation;
  path: regression coefficients on predecessors and correlations with successors), the
  inner estimates ``Z = Y E`` and new outer weights (mode A: ``X_b' Z_b / n``; mode B: least
  squares of ``Z_b`` on ``X_b``);
* convergence when ``Σ (|w_old| − |w_new|)² < tol``; reaching ``max_iter`` counts as failure;
* final weights give LV scores of unit (population) variance; an LV whose MVs correlate
  mostly negatively with it is sign-flipped (R's ``get_scores`` rule; R flips only the
  scores, here the LV's outer weights flip with them so that scores = X·w always holds);
* path coefficients by OLS of each endogenous LV on its predecessors, loadings as the
  correlation of each MV with its own LV, total effects ``(I − B)⁻¹ − I``.

Every step is written on the MVs' covariance matrix ``S`` (population, of the treated data),
so that the bootstrap can run thousands of resamples at once: the Gram matrix of each
resample comes from one matrix product of the resample counts with the MV cross products,
then the iterations run on stacked ``(resamples, p, p)`` arrays.

References: Wold (1982); Lohmöller (1989) *Latent Variable Path Modeling with Partial Least
Squares*; Tenenhaus, Esposito Vinzi, Chatelin & Lauro (2005) *PLS path modeling*, CSDA 48;
Sanchez (2013); Fornell et al. (1996) *The American Customer Satisfaction Index*, J. Marketing
60 (0–100 index).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from sqm.lazy import lazy_import
from sqm.methods._validation import (
    MAX_CONDITION,
    FloatArray,
    MethodInputError,
    check_well_conditioned,
    condition_numbers,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd
else:
    np = lazy_import("numpy")
    npt = lazy_import("numpy.typing")
    pd = lazy_import("pandas")

__all__ = [
    "PLSBootstrap",
    "PLSResult",
    "PathModel",
    "Scheme",
    "bootstrap_estimates",
    "build_model",
    "fit",
    "total_effects",
]

Scheme = Literal["centroid", "factorial", "path"]
BoolArray = npt.NDArray[np.bool_]
_SCHEMES = ("centroid", "factorial", "path")


# ----------------------------------------------------------------------------------------
# Model specification
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PathModel:
    """A validated PLS path model: latent variables, their blocks, modes and inner paths.

    ``adjacency[i, j] == 1`` when LV ``i`` has a direct path to LV ``j`` (rows = from,
    columns = to). ``membership[k]`` is the index of the LV measured by MV ``k``.
    """

    lvs: tuple[str, ...]
    mvs: tuple[str, ...]
    membership: npt.NDArray[np.int_]
    mode_b: BoolArray
    adjacency: FloatArray
    paths: tuple[tuple[str, str], ...]

    @property
    def outer_design(self) -> FloatArray:
        """The outer design matrix (MVs × LVs): 1 where the MV belongs to the LV's block."""
        odm = np.zeros((len(self.mvs), len(self.lvs)))
        odm[np.arange(len(self.mvs)), self.membership] = 1.0
        return odm

    @property
    def endogenous(self) -> tuple[str, ...]:
        """LVs with at least one predecessor, in model order."""
        return tuple(lv for j, lv in enumerate(self.lvs) if self.adjacency[:, j].any())

    def block(self, lv: int) -> npt.NDArray[np.int_]:
        """Column positions of the MVs of LV number ``lv``."""
        return np.flatnonzero(self.membership == lv)


def build_model(
    blocks: Mapping[str, Sequence[str]],
    paths: Sequence[tuple[str, str]],
    modes: Mapping[str, str] | None = None,
) -> PathModel:
    """Check a PLS path model's specification and return it as a :class:`PathModel`.

    Rules: every block names at least one MV and no MV sits in two blocks; every path joins
    two known LVs, is not a self-loop, and the inner model is acyclic (a recursive model, as
    PLS-PM requires); every LV takes part in at least one path; modes are "A" or "B".

    >>> m = build_model({"IMAG": ["i1", "i2"], "SAT": ["s1"]}, [("IMAG", "SAT")])
    >>> m.lvs, m.endogenous
    (('IMAG', 'SAT'), ('SAT',))
    """
    if not isinstance(blocks, Mapping) or len(blocks) < 2:
        raise MethodInputError(
            "blocks must map at least two latent variables to their manifest columns, "
            f"got {blocks!r}"
        )
    lvs = tuple(str(lv) for lv in blocks)
    mvs: list[str] = []
    membership: list[int] = []
    for j, lv in enumerate(lvs):
        cols = blocks[lv]
        if isinstance(cols, str) or len(cols) == 0:
            raise MethodInputError(
                f"blocks[{lv!r}] must be a non-empty list of column names, got {cols!r}"
            )
        for col in cols:
            if col in mvs:
                raise MethodInputError(
                    f"blocks: column {col!r} is listed in more than one block "
                    f"(again in {lv!r}); each manifest variable measures one latent variable"
                )
            mvs.append(str(col))
            membership.append(j)
    index = {lv: j for j, lv in enumerate(lvs)}
    adjacency = np.zeros((len(lvs), len(lvs)))
    clean_paths: list[tuple[str, str]] = []
    for pair in paths:
        if len(pair) != 2:
            raise MethodInputError(f"paths must be (from, to) pairs, got {pair!r}")
        src, dst = str(pair[0]), str(pair[1])
        for end in (src, dst):
            if end not in index:
                raise MethodInputError(
                    f"paths: ({src!r}, {dst!r}) names unknown latent variable {end!r}; "
                    f"known latent variables are the keys of blocks: {list(lvs)}"
                )
        if src == dst:
            raise MethodInputError(f"paths: self-loop ({src!r}, {dst!r}) is not allowed")
        if adjacency[index[src], index[dst]] == 0:
            adjacency[index[src], index[dst]] = 1.0
            clean_paths.append((src, dst))
    if not clean_paths:
        raise MethodInputError("paths must hold at least one (from, to) pair")
    _check_acyclic(lvs, adjacency)
    for j, lv in enumerate(lvs):
        if not adjacency[j, :].any() and not adjacency[:, j].any():
            raise MethodInputError(
                f"latent variable {lv!r} takes part in no path; every latent variable of a "
                "PLS path model must be connected to the inner model"
            )
    mode_b = np.zeros(len(lvs), dtype=bool)
    for lv, mode in (modes or {}).items():
        if lv not in index:
            raise MethodInputError(f"modes names unknown latent variable {lv!r}")
        if str(mode).upper() not in ("A", "B"):
            raise MethodInputError(f"modes[{lv!r}] must be 'A' or 'B', got {mode!r}")
        mode_b[index[lv]] = str(mode).upper() == "B"
    return PathModel(
        lvs=lvs,
        mvs=tuple(mvs),
        membership=np.asarray(membership, dtype=int),
        mode_b=mode_b,
        adjacency=adjacency,
        paths=tuple(clean_paths),
    )


def _check_acyclic(lvs: tuple[str, ...], adjacency: FloatArray) -> None:
    """Raise when the inner model has a cycle (Kahn's topological sort leaves nodes over)."""
    indegree = adjacency.astype(bool).sum(axis=0)
    ready = [j for j in range(len(lvs)) if indegree[j] == 0]
    seen = 0
    while ready:
        j = ready.pop()
        seen += 1
        for k in np.flatnonzero(adjacency[j]):
            indegree[k] -= 1
            if indegree[k] == 0:
                ready.append(int(k))
    if seen < len(lvs):
        stuck = [lvs[j] for j in range(len(lvs)) if indegree[j] > 0]
        raise MethodInputError(
            f"paths form a cycle through {stuck}; PLS path models must be recursive (acyclic)"
        )


# ----------------------------------------------------------------------------------------
# Covariance-based kernel, batched over a leading axis of resamples
# ----------------------------------------------------------------------------------------


@dataclass
class _Estimates:
    """Estimates for a stack of ``b`` covariance matrices (leading axis = resample)."""

    weights: FloatArray  # (b, p, L) block-diagonal outer weights, unit-variance LVs
    loadings: FloatArray  # (b, p)
    lv_corr: FloatArray  # (b, L, L)
    paths: FloatArray  # (b, L, L), rows = from, columns = to
    r2: FloatArray  # (b, L), zero for exogenous LVs
    total: FloatArray  # (b, L, L)
    converged: BoolArray  # (b,)
    iterations: npt.NDArray[np.int_]  # (b,)
    ill_conditioned: BoolArray  # (b,) a matrix to solve with was (nearly) singular


def _ill_conditioned(a: FloatArray, strict: bool, name: str, what: str) -> BoolArray:
    """Which matrices of the stack ``a`` (b, k, k; symmetric) are (nearly) singular.

    The test is :data:`MAX_CONDITION` on each matrix's condition number. When ``strict``
    (a single fit) the first such matrix raises :class:`MethodInputError` naming it.
    """
    ill = ~(condition_numbers(a, symmetric=True) <= MAX_CONDITION)
    if strict and ill.any():
        check_well_conditioned(a[int(np.argmax(ill))], name, what)
    return ill


def _solve(
    a: FloatArray,
    rhs: FloatArray,
    strict: bool,
    name: str,
    what: str,
    *,
    always_check: bool = True,
) -> tuple[FloatArray, BoolArray]:
    """Solve ``a x = rhs`` for each matrix of the stack ``a`` (b, k, k), ``rhs`` (b, k).

    An ill-conditioned matrix raises when ``strict``; otherwise (bootstrap resamples) it
    is flagged in the returned mask and solved as the identity, so that the rest of the
    stack goes on and the flagged resample is counted as failed.

    ``always_check=False`` (the path scheme's inner weights, solved at every iteration)
    skips the check on resamples unless LAPACK refuses a matrix outright: the same
    regressions are checked on the final estimates (the path coefficients), so a resample
    still fails on the condition number alone, and the iterations cost a plain solve.
    """
    if not (strict or always_check):
        try:
            x = np.asarray(np.linalg.solve(a, rhs[:, :, None])[:, :, 0], dtype=np.float64)
            return x, np.zeros(a.shape[0], dtype=bool)
        except np.linalg.LinAlgError:
            pass
    ill = _ill_conditioned(a, strict, name, what)
    if ill.any():
        a = np.where(ill[:, None, None], np.eye(a.shape[-1]), a)
    x = np.asarray(np.linalg.solve(a, rhs[:, :, None])[:, :, 0], dtype=np.float64)
    return x, ill


def total_effects(paths: Any) -> FloatArray:
    """Total effects ``T = (I − B)⁻¹ − I`` of path coefficients ``B`` (rows = from).

    The inner model is acyclic, so ``B`` is nilpotent and ``T = B + B² + … + B^(L−1)``
    exactly: a finite sum of products, with no inverse to take. ``paths`` may be one
    ``(L, L)`` matrix or a stack ``(b, L, L)``.

    >>> float(total_effects([[0.0, 0.5, 0.2], [0.0, 0.0, 0.4], [0.0, 0.0, 0.0]])[0, 2])
    0.4
    """
    b = np.asarray(paths, dtype=float)
    total = b.copy()
    power = b.copy()
    for _ in range(b.shape[-1] - 2):
        power = power @ b
        total = total + power
    return total


def _standardise(cov: FloatArray) -> FloatArray:
    """Covariance → correlation, per matrix of the stack."""
    sd = np.sqrt(np.einsum("bii->bi", cov))
    return cov / (sd[:, :, None] * sd[:, None, :])


def _predecessors(model: PathModel, k: int) -> str:
    return ", ".join(model.lvs[j] for j in np.flatnonzero(model.adjacency[:, k]))


def _inner_weights(
    lv_corr: FloatArray, model: PathModel, scheme: str, strict: bool
) -> tuple[FloatArray, BoolArray]:
    """Inner weights E (b, L, L) from the outer estimates' correlations, as R plspm's.

    Also returns which matrices of the stack met an ill-conditioned regression (path
    scheme only; see :func:`_solve`).
    """
    ill = np.zeros(lv_corr.shape[0], dtype=bool)
    link = model.adjacency + model.adjacency.T
    if scheme == "centroid":
        return np.sign(lv_corr * link), ill
    if scheme == "factorial":
        return lv_corr * link, ill
    inner = np.zeros_like(lv_corr)
    for k in range(len(model.lvs)):
        pred = np.flatnonzero(model.adjacency[:, k])
        if pred.size:
            # regression of LV k on its predecessors (R's "follow" in get_path_scheme)
            a = lv_corr[:, pred[:, None], pred[None, :]]
            rhs = lv_corr[:, pred, k]
            inner[:, pred, k], bad = _solve(
                a,
                rhs,
                strict,
                f"the correlation matrix of {model.lvs[k]!r}'s predecessors "
                f"({_predecessors(model, k)})",
                f"the path scheme's inner weights of {model.lvs[k]!r}",
                always_check=False,
            )
            ill |= bad
        succ = np.flatnonzero(model.adjacency[k, :])
        if succ.size:
            inner[:, succ, k] = lv_corr[:, succ, k]
    return inner, ill


def _estimate(
    cov: FloatArray,
    model: PathModel,
    scheme: str,
    n: int,
    max_iter: int,
    tol: float,
    strict: bool = True,
) -> _Estimates:
    """Run the PLS-PM algorithm on a stack of MV covariance matrices ``cov`` (b, p, p).

    ``cov`` is the population covariance of the treated (centred, maybe standardised) MVs.
    Each matrix stops at its own iteration, exactly as a separate run of R plspm would.
    A (nearly) singular matrix to solve with — a mode-B block's covariance, the
    correlations of an LV's predecessors — raises when ``strict``; otherwise that
    matrix's estimates are flagged ``ill_conditioned`` and not ``converged``.
    """
    b, p, _ = cov.shape
    n_lv = len(model.lvs)
    odm = model.outer_design
    rows = np.arange(p)
    member = model.membership
    shrink = (n - 1) / n  # R: Y = scale(X W) * sqrt((n-1)/n), i.e. pop. sd (n-1)/n
    blocks_b = [model.block(j) for j in range(n_lv) if model.mode_b[j]]
    lv_b = [j for j in range(n_lv) if model.mode_b[j]]
    cov_bb = [cov[:, idx[:, None], idx[None, :]] for idx in blocks_b]
    ill = np.zeros(b, dtype=bool)
    for j, cbb in zip(lv_b, cov_bb, strict=True):
        # fixed over the iterations: check each mode-B block's matrix once
        bad = _ill_conditioned(
            cbb,
            strict,
            f"the covariance matrix of mode-B block {model.lvs[j]!r}",
            f"the outer weights of {model.lvs[j]!r} (a regression on its block)",
        )
        cbb[bad] = np.eye(cbb.shape[-1])
        ill |= bad

    var0 = np.einsum("pl,bpq,ql->bl", odm, cov, odm)
    w = np.broadcast_to(1.0 / np.sqrt(var0)[:, member], (b, p)).copy()  # (b, p) by MV
    w_old = w.copy()
    active = np.ones(b, dtype=bool)
    converged = np.zeros(b, dtype=bool)
    iterations = np.zeros(b, dtype=int)
    for it in range(1, max_iter + 1):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        c = cov[idx]
        wm = np.zeros((idx.size, p, n_lv))
        wm[:, rows, member] = w[idx]
        sw = c @ wm  # cov(X, X W)
        lv_var = np.einsum("bpl,bpl->bl", wm, sw)
        sd = np.sqrt(lv_var)
        lv_corr = np.swapaxes(wm, 1, 2) @ sw / (sd[:, :, None] * sd[:, None, :])
        inner, bad = _inner_weights(lv_corr, model, scheme, strict)
        ill[idx] |= bad
        # cov(X, Z) with Z = Y E and Y = X W diag(1/sd) * shrink
        xz = (sw * (shrink / sd)[:, None, :]) @ inner
        w_new = xz[:, rows, member]
        for idx_b, j, cbb in zip(blocks_b, lv_b, cov_bb, strict=True):
            w_new[:, idx_b] = np.linalg.solve(cbb[idx], xz[:, idx_b, j][:, :, None])[:, :, 0]
        diff = np.sum((np.abs(w_old[idx]) - np.abs(w_new)) ** 2, axis=1)
        w[idx] = w_new
        iterations[idx] = it
        done = diff < tol
        if it == max_iter:
            # R plspm treats stopping at maxiter as non-convergence, even if diff < tol
            done[:] = False
            active[idx] = False
        else:
            converged[idx[done]] = True
            active[idx[done]] = False
        w_old[idx] = w_new

    wm = np.zeros((b, p, n_lv))
    wm[:, rows, member] = w
    sw = cov @ wm
    lv_sd = np.sqrt(np.einsum("bpl,bpl->bl", wm, sw))
    wm = wm / lv_sd[:, None, :]
    sw = sw / lv_sd[:, None, :]
    # sign ambiguity, as R plspm's get_scores: flip an LV whose own MVs mostly
    # correlate negatively with it (a tie counts as negative)
    own = np.sign(sw[:, rows, member])  # (b, p)
    votes = own @ odm  # (b, L): net sign vote of each block
    flip = np.where(np.sign(votes) > 0, 1.0, -1.0)
    wm = wm * flip[:, None, :]
    sw = sw * flip[:, None, :]
    mv_sd = np.sqrt(np.einsum("bpp->bp", cov))
    loadings = sw[:, rows, member] / mv_sd
    lv_corr = np.swapaxes(wm, 1, 2) @ sw
    paths = np.zeros((b, n_lv, n_lv))
    r2 = np.zeros((b, n_lv))
    for k in range(n_lv):
        pred = np.flatnonzero(model.adjacency[:, k])
        if pred.size:
            a = lv_corr[:, pred[:, None], pred[None, :]]
            rhs = lv_corr[:, pred, k]
            beta, bad = _solve(
                a,
                rhs,
                strict,
                f"the correlation matrix of {model.lvs[k]!r}'s predecessors "
                f"({_predecessors(model, k)})",
                f"the path coefficients into {model.lvs[k]!r}",
            )
            ill |= bad
            paths[:, pred, k] = beta
            r2[:, k] = np.sum(beta * rhs, axis=1)
    return _Estimates(
        weights=wm,
        loadings=loadings,
        lv_corr=lv_corr,
        paths=paths,
        r2=r2,
        total=total_effects(paths),
        converged=converged & ~ill,
        iterations=iterations,
        ill_conditioned=ill,
    )


# ----------------------------------------------------------------------------------------
# Results
# ----------------------------------------------------------------------------------------

_SUMMARY_COLUMNS = ["original", "mean", "std_error", "perc_lower", "perc_upper"]


@dataclass(frozen=True)
class PLSBootstrap:
    """Bootstrap distribution of a PLS path model's estimates (Efron's nonparametric bootstrap).

    Each table has one row per estimate and the columns ``original`` (full-sample value),
    ``mean``, ``std_error`` (standard deviation over resamples, ``ddof=1``, as R plspm) and
    ``perc_lower`` / ``perc_upper`` (percentile interval at ``level``, numpy's linear
    quantile = R's type 7). ``draws`` keeps the resample values of each table.
    Resamples on which the algorithm did not converge are dropped and counted in ``failed``,
    as are those with a constant item or a (nearly) singular matrix to solve with.
    """

    paths: pd.DataFrame
    total_effects: pd.DataFrame
    loadings: pd.DataFrame
    outer_weights: pd.DataFrame
    r2: pd.DataFrame
    n_resamples: int
    failed: int
    level: float
    seed: int | None
    draws: dict[str, pd.DataFrame] = field(repr=False)


@dataclass(frozen=True)
class PLSResult:
    """A fitted PLS path model.

    ``path_coefficients`` and ``total_effects`` are LV × LV frames, rows = from, columns =
    to; ``r2`` is by endogenous LV; ``loadings`` and ``outer_weights`` are by MV (weights
    apply to the treated MVs: standardised when ``scaled``, else centred); ``scores`` are
    the LV scores with mean 0 and population variance 1, as R plspm's ``scores``.
    """

    model: PathModel
    scheme: str
    scaled: bool
    path_coefficients: pd.DataFrame
    total_effects: pd.DataFrame
    r2: pd.Series
    loadings: pd.Series
    outer_weights: pd.Series
    lv_correlations: pd.DataFrame
    scores: pd.DataFrame
    iterations: int
    max_iter: int
    tol: float
    _data: FloatArray = field(repr=False)
    _mv_sd: FloatArray = field(repr=False)

    @property
    def effects(self) -> pd.DataFrame:
        """Direct, indirect and total effect for every pair joined by a directed route.

        Indexed by (from, to); the indirect effect is the total minus the direct effect.

        >>> # result.effects.loc[("IMAG", "LOY"), "indirect"]
        """
        rows = []
        for i, src in enumerate(self.model.lvs):
            for j, dst in enumerate(self.model.lvs):
                total = float(self.total_effects.to_numpy()[i, j])
                direct = float(self.path_coefficients.to_numpy()[i, j])
                if _reaches(self.model.adjacency, i, j):
                    rows.append((src, dst, direct, total - direct, total))
        frame = pd.DataFrame(rows, columns=["from", "to", "direct", "indirect", "total"])
        return frame.set_index(["from", "to"])

    def unstandardised_weights(self) -> pd.Series:
        """Outer weights on the original MV scale, normalised to sum to 1 within each block.

        ``w̃_k = (w_k / s_k) / Σ_{j∈block} (w_j / s_j)`` with ``s_k`` the MV's population
        standard deviation when ``scaled`` (1 otherwise): the ACSI/ECSI weights from which an
        LV's 0–100 index is built (Fornell et al. 1996).

        >>> # result.unstandardised_weights().groupby(level=0).sum() → 1 per block
        """
        raw = self.outer_weights.to_numpy() / (self._mv_sd if self.scaled else 1.0)
        sums = np.zeros(len(self.model.lvs))
        np.add.at(sums, self.model.membership, raw)
        if np.any(sums == 0):
            bad = [self.model.lvs[j] for j in np.flatnonzero(sums == 0)]
            raise MethodInputError(f"outer weights of {bad} sum to 0; no index can be built")
        return pd.Series(raw / sums[self.model.membership], index=list(self.model.mvs))

    def index_scores(
        self, scale_min: float | None = None, scale_max: float | None = None
    ) -> pd.DataFrame:
        """LV scores rescaled to a 0–100 index, as in the ACSI and ECSI.

        ``index_i = 100 · (Σ_k w̃_k x_ik − min) / (max − min)``, with ``w̃`` the
        unstandardised weights (see :meth:`unstandardised_weights`) and ``min``/``max`` the
        ends of the manifest scale (for a 1–10 questionnaire, 1 and 10). When not given they
        default to the smallest and largest value observed over all the model's MVs. Index
        0 means every item at the bottom of the scale, 100 every item at the top (if some
        weights are negative the index can leave [0, 100]).

        Reference: Fornell, Johnson, Anderson, Cha & Bryant (1996), J. Marketing 60(4).

        >>> # fit(df, blocks, paths).index_scores(1, 10)["SAT"].mean()
        """
        lo = float(self._data.min()) if scale_min is None else float(scale_min)
        hi = float(self._data.max()) if scale_max is None else float(scale_max)
        if not hi > lo:
            raise MethodInputError(
                f"scale_max must exceed scale_min, got scale_min={lo}, scale_max={hi}"
            )
        w = self.unstandardised_weights().to_numpy()
        wm = np.zeros((len(self.model.mvs), len(self.model.lvs)))
        wm[np.arange(len(self.model.mvs)), self.model.membership] = w
        raw = self._data @ wm
        return pd.DataFrame(
            100.0 * (raw - lo) / (hi - lo), index=self.scores.index, columns=list(self.model.lvs)
        )

    def bootstrap(
        self,
        n: int = 500,
        seed: int | None = None,
        *,
        level: float = 0.95,
        chunk: int | None = None,
    ) -> PLSBootstrap:
        """Bootstrap standard errors and percentile intervals of the model's estimates.

        Draws ``n`` resamples of the respondents with replacement, re-treats each resample
        (centring, and standardising when ``scaled``) and refits the model from scratch with
        the same scheme, tolerance and iteration limit, as R plspm's ``boot.val``. Returns
        standard errors and percentile intervals for path coefficients, total effects,
        loadings, outer weights and R². The same ``seed`` gives the same result.

        All resamples of a chunk are estimated together: the Gram matrix of resample ``b``
        is ``c_b' Q`` with ``c_b`` its row counts and ``Q`` the MV cross products, then the
        iterations run on stacked covariance matrices.

        >>> # boot = fit(df, blocks, paths).bootstrap(5000, seed=1)
        >>> # boot.paths.loc[("SAT", "LOY"), "std_error"]
        """
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 2:
            raise MethodInputError(f"n (number of resamples) must be an integer ≥ 2, got {n!r}")
        if not 0 < level < 1:
            raise MethodInputError(f"level must lie strictly between 0 and 1, got {level!r}")
        rows = self._data.shape[0]
        if rows < 10:
            raise MethodInputError(f"bootstrap needs at least 10 rows of data, got {rows}")
        est = bootstrap_estimates(
            self._data, self.model, self.scheme, self.scaled, int(n), seed,
            max_iter=self.max_iter, tol=self.tol, chunk=chunk,
        )  # fmt: skip
        return _summarise_bootstrap(self, est, int(n), level, seed)


def _reaches(adjacency: FloatArray, i: int, j: int) -> bool:
    """Whether a directed route leads from LV ``i`` to LV ``j``."""
    frontier = [i]
    seen: set[int] = set()
    while frontier:
        k = frontier.pop()
        for m in np.flatnonzero(adjacency[k]):
            if m == j:
                return True
            if m not in seen:
                seen.add(int(m))
                frontier.append(int(m))
    return False


# ----------------------------------------------------------------------------------------
# Fitting
# ----------------------------------------------------------------------------------------


def _model_data(data: Any, model: PathModel) -> tuple[FloatArray, pd.Index]:
    """The model's MV columns of ``data`` as floats, after checking them."""
    if not isinstance(data, pd.DataFrame):
        raise MethodInputError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    missing = [c for c in model.mvs if c not in data.columns]
    if missing:
        raise MethodInputError(
            f"blocks name column(s) {missing} that data does not have; "
            f"data has {list(map(str, data.columns))}"
        )
    columns = [data[c] for c in model.mvs]
    bad = [c for c, col in zip(model.mvs, columns, strict=True) if not _numeric(col)]
    if bad:
        raise MethodInputError(f"manifest columns must be numeric; not numeric: {bad}")
    values = np.column_stack([col.to_numpy(dtype=float) for col in columns])
    index = data.index
    if np.isnan(values).any():
        r, c = np.argwhere(np.isnan(values))[0]
        raise MethodInputError(
            f"data has a missing value (NaN) at row {index[r]!r}, column "
            f"{model.mvs[c]!r}; PLS-PM here needs complete data (impute or drop rows first)"
        )
    if np.isinf(values).any():
        r, c = np.argwhere(np.isinf(values))[0]
        raise MethodInputError(
            f"data has an infinite value at row {index[r]!r}, column {model.mvs[c]!r}"
        )
    n_pred = int(model.adjacency.sum(axis=0).max())
    largest_b = max((len(model.block(int(j))) for j in np.flatnonzero(model.mode_b)), default=0)
    need = max(3, n_pred + 2, largest_b + 2)
    if values.shape[0] < need:
        raise MethodInputError(
            f"data needs at least {need} rows for this model (more rows than the largest "
            f"regression it runs), got {values.shape[0]}"
        )
    const = [model.mvs[k] for k in np.flatnonzero(np.ptp(values, axis=0) == 0)]
    if const:
        raise MethodInputError(
            f"manifest column(s) {const} are constant; a constant item carries no "
            "information about its latent variable"
        )
    return values, index


def _numeric(column: Any) -> bool:
    """Whether a column is numeric (a duplicated column name gives a frame: not allowed)."""
    return isinstance(column, pd.Series) and pd.api.types.is_numeric_dtype(column)


def _treat(values: FloatArray, scaled: bool) -> tuple[FloatArray, FloatArray]:
    """Centre, and standardise by the population sd when ``scaled`` (R plspm's treatment)."""
    centred = values - values.mean(axis=0)
    sd = np.sqrt(np.mean(centred**2, axis=0))
    return (centred / sd if scaled else centred), sd


def fit(
    data: pd.DataFrame,
    blocks: Mapping[str, Sequence[str]],
    paths: Sequence[tuple[str, str]],
    modes: Mapping[str, str] | None = None,
    scheme: Scheme = "centroid",
    scaled: bool = True,
    max_iter: int = 100,
    tol: float = 1e-6,
) -> PLSResult:
    """Estimate a PLS path model (Lohmöller/Wold algorithm, as R plspm does).

    ``blocks`` maps each latent variable to its manifest columns of ``data``; ``paths``
    lists the inner model's (from, to) pairs; ``modes`` sets "A" (reflective, default) or
    "B" (formative) per LV; ``scheme`` is the inner weighting scheme ("centroid",
    "factorial" or "path"); ``scaled=False`` only centres the MVs. The iterations stop when
    ``Σ_k (|w_k^old| − |w_k^new|)² < tol``; reaching ``max_iter`` raises.

    Path coefficients are the OLS coefficients of each endogenous LV's scores on its
    predecessors'; R² from the same regressions; loadings are corr(MV, own LV); total
    effects ``T = (I − B)⁻¹ − I`` with ``B`` the path-coefficient matrix.

    References: Lohmöller (1989); Tenenhaus et al. (2005); Sanchez (2013) ch. 4, whose
    ``satisfaction`` example this reproduces to 1e-8 (see ``tests/methods/test_plspm.py``).

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> f = rng.normal(size=(200, 1))
    >>> df = pd.DataFrame(f + rng.normal(size=(200, 4)), columns=["a1", "a2", "b1", "b2"])
    >>> df[["b1", "b2"]] += 0.5 * df[["a1", "a2"]].to_numpy()
    >>> res = fit(df, {"A": ["a1", "a2"], "B": ["b1", "b2"]}, [("A", "B")])
    >>> bool(res.path_coefficients.loc["A", "B"] > 0)
    True
    """
    model = build_model(blocks, paths, modes)
    if scheme not in _SCHEMES:
        raise MethodInputError(f"scheme must be one of {_SCHEMES}, got {scheme!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 2:
        raise MethodInputError(f"max_iter must be an integer ≥ 2, got {max_iter!r}")
    if not tol > 0:
        raise MethodInputError(f"tol must be positive, got {tol!r}")
    values, index = _model_data(data, model)
    n = values.shape[0]
    x, mv_sd = _treat(values, scaled)
    cov = (x.T @ x / n)[None]
    est = _estimate(cov, model, scheme, n, max_iter, tol)
    if not est.converged[0]:
        raise MethodInputError(
            f"the PLS iterations did not converge within max_iter={max_iter} "
            f"(tol={tol}); raise max_iter or check the model"
        )
    lvs = list(model.lvs)
    mvs = list(model.mvs)
    wm = est.weights[0]
    rows = np.arange(len(mvs))
    scores = pd.DataFrame(x @ wm, index=index, columns=lvs)
    return PLSResult(
        model=model,
        scheme=scheme,
        scaled=bool(scaled),
        path_coefficients=pd.DataFrame(est.paths[0], index=lvs, columns=lvs),
        total_effects=pd.DataFrame(est.total[0], index=lvs, columns=lvs),
        r2=pd.Series(
            [est.r2[0, lvs.index(lv)] for lv in model.endogenous],
            index=list(model.endogenous),
            name="r2",
        ),
        loadings=pd.Series(est.loadings[0], index=mvs, name="loading"),
        outer_weights=pd.Series(wm[rows, model.membership], index=mvs, name="weight"),
        lv_correlations=pd.DataFrame(est.lv_corr[0], index=lvs, columns=lvs),
        scores=scores,
        iterations=int(est.iterations[0]),
        max_iter=max_iter,
        tol=float(tol),
        _data=values,
        _mv_sd=mv_sd,
    )


# ----------------------------------------------------------------------------------------
# Bootstrap
# ----------------------------------------------------------------------------------------


def _cross_products(x: FloatArray) -> tuple[FloatArray, npt.NDArray[np.int_], npt.NDArray[np.int_]]:
    """Row-wise products ``x_j x_k`` (j ≤ k) next to ``x`` itself: the moments to resample."""
    iu, ju = np.triu_indices(x.shape[1])
    return np.hstack([x, x[:, iu] * x[:, ju]]), iu, ju


def bootstrap_estimates(
    values: FloatArray,
    model: PathModel,
    scheme: str,
    scaled: bool,
    n_resamples: int,
    seed: int | None,
    *,
    max_iter: int = 100,
    tol: float = 1e-6,
    chunk: int | None = None,
) -> _Estimates:
    """Estimates on ``n_resamples`` bootstrap resamples of the raw MV matrix ``values``.

    Resample ``b`` is described by its row counts ``c_b`` (multinomial, drawn as ``n``
    uniform row indices); its first and second moments are ``c_b' [X, X_j X_k] / n``, one
    matrix product for a whole chunk of resamples. The MVs are first centred on the full
    sample, which keeps the moment subtraction ``E[x x'] − m m'`` accurate.

    >>> # est = bootstrap_estimates(values, model, "centroid", True, 1000, seed=1)
    """
    n, p = values.shape
    centred = values - values.mean(axis=0)
    moments, iu, ju = _cross_products(centred)
    full_cov = centred.T @ centred / n
    full_var = np.diag(full_cov)
    rng = np.random.default_rng(seed)
    if chunk is None:
        # keep the counts block near 128 MB
        chunk = int(max(8, min(n_resamples, 16_000_000 // max(n, 1))))
    parts: list[_Estimates] = []
    for start in range(0, n_resamples, chunk):
        size = min(chunk, n_resamples - start)
        draws = rng.integers(0, n, size=(size, n))
        flat = (draws + (np.arange(size) * n)[:, None]).ravel()
        counts = np.bincount(flat, minlength=size * n).astype(float)
        m = counts.reshape(size, n) @ moments / n
        mean = m[:, :p]
        raw = m[:, p:] - mean[:, iu] * mean[:, ju]
        cov = np.empty((size, p, p))
        cov[:, iu, ju] = raw
        cov[:, ju, iu] = raw
        # a resample in which some item is constant cannot be fitted (R plspm stops on it):
        # it is estimated on a harmless stand-in and then counted as failed
        degenerate = np.any(np.einsum("bii->bi", cov) <= 1e-12 * full_var, axis=1)
        cov[degenerate] = full_cov
        if scaled:
            cov = _standardise(cov)
        part = _estimate(cov, model, scheme, n, max_iter, tol, strict=False)
        part.converged &= ~degenerate
        parts.append(part)
    return _Estimates(
        **{
            name: np.concatenate([getattr(part, name) for part in parts])
            for name in _Estimates.__dataclass_fields__
        }
    )


def _summary(
    original: FloatArray, draws: FloatArray, index: pd.Index, level: float
) -> pd.DataFrame:
    alpha = (1.0 - level) / 2.0
    if draws.shape[0] < 2:
        nan = np.full(original.shape, np.nan)
        cols = [original, nan, nan, nan, nan]
    else:
        lo, hi = np.quantile(draws, [alpha, 1.0 - alpha], axis=0)
        cols = [original, draws.mean(axis=0), draws.std(axis=0, ddof=1), lo, hi]
    return pd.DataFrame(dict(zip(_SUMMARY_COLUMNS, cols, strict=True)), index=index)


def _summarise_bootstrap(
    result: PLSResult, est: _Estimates, n: int, level: float, seed: int | None
) -> PLSBootstrap:
    model = result.model
    ok = est.converged
    lv_pos = {lv: j for j, lv in enumerate(model.lvs)}
    path_idx = pd.MultiIndex.from_tuples(model.paths, names=["from", "to"])
    pi = np.array([lv_pos[a] for a, _ in model.paths])
    pj = np.array([lv_pos[b] for _, b in model.paths])
    eff = result.effects
    ei = np.array([lv_pos[a] for a, _ in eff.index])
    ej = np.array([lv_pos[b] for _, b in eff.index])
    endo = np.array([lv_pos[lv] for lv in model.endogenous])
    rows = np.arange(len(model.mvs))
    mv_idx = pd.Index(list(model.mvs))
    weights = est.weights[ok][:, rows, model.membership]
    tables = {
        "paths": (result.path_coefficients.to_numpy()[pi, pj], est.paths[ok][:, pi, pj], path_idx),
        "total_effects": (eff["total"].to_numpy(), est.total[ok][:, ei, ej], eff.index),
        "loadings": (result.loadings.to_numpy(), est.loadings[ok], mv_idx),
        "outer_weights": (result.outer_weights.to_numpy(), weights, mv_idx),
        "r2": (result.r2.to_numpy(), est.r2[ok][:, endo], result.r2.index),
    }
    summaries = {k: _summary(o, d, idx, level) for k, (o, d, idx) in tables.items()}
    draws = {k: pd.DataFrame(d, columns=idx) for k, (_, d, idx) in tables.items()}
    return PLSBootstrap(
        paths=summaries["paths"],
        total_effects=summaries["total_effects"],
        loadings=summaries["loadings"],
        outer_weights=summaries["outer_weights"],
        r2=summaries["r2"],
        n_resamples=n,
        failed=int((~ok).sum()),
        level=level,
        seed=seed,
        draws=draws,
    )
