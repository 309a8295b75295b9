"""Reliability and validity checks against pingouin, factor_analyzer and published formulas.

References:
- pingouin 0.7.0 ``cronbach_alpha`` on its own datasets (``cronbach_alpha.csv``: α = 0.5917,
  CI [0.195, 0.840]; ``cronbach_wide_missing.csv``: α = 0.7327 pairwise, 0.8017 listwise —
  the values in pingouin's documentation), live and as stored numbers.
- factor_analyzer 0.5.1 ``calculate_bartlett_sphericity`` on its test01.csv,
  ``calculate_kmo`` on test02.csv and ``FactorAnalyzer`` (minres / ml / principal ×
  none / varimax / promax) on test02.csv, stored in data/reliability_reference.json
  (produced by data/reliability_make_reference.py) and checked live.
- ECSI mobile-phone data (R plspm ``satisfaction``) for block-wise α and ω.
- Composite reliability / AVE: Fornell & Larcker (1981) formulas on a hand-worked case.
- HTMT: Henseler, Ringle & Sarstedt (2015) eq. 6 on a hand-worked correlation structure.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from conftest import shared_data_dir
from sqm.methods._validation import MethodInputError
from sqm.methods.reliability import (
    alpha_if_deleted,
    ave,
    bartlett,
    block_alphas,
    composite_reliability,
    cronbach_alpha,
    cronbach_alpha_ci,
    efa,
    fornell_larcker,
    htmt,
    kmo,
    mcdonald_omega,
)

HERE = Path(__file__).resolve().parent
REF = json.loads((HERE / "data" / "reliability_reference.json").read_text())


REL = shared_data_dir() / "reliability"


def _public(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"public data set not found at {path}")
    return path


@pytest.fixture(scope="module")
def alpha_long() -> pd.DataFrame:
    long = pd.read_csv(_public(REL / "pingouin_cronbach_alpha.csv"))
    return long.pivot(index="Subj", columns="Items", values="Scores")


@pytest.fixture(scope="module")
def alpha_missing() -> pd.DataFrame:
    return pd.read_csv(_public(REL / "pingouin_cronbach_wide_missing.csv"), encoding="utf-8-sig")


@pytest.fixture(scope="module")
def ecsi() -> pd.DataFrame:
    return pd.read_csv(_public(shared_data_dir() / "ecsi" / "satisfaction.csv"), index_col=0)


@pytest.fixture(scope="module")
def test01() -> pd.DataFrame:
    return pd.read_csv(_public(REL / "factor_analyzer_test01.csv"))


@pytest.fixture(scope="module")
def test02() -> pd.DataFrame:
    return pd.read_csv(_public(REL / "factor_analyzer_test02.csv"))


ECSI_BLOCKS = ["IMAG", "EXPE", "QUAL", "VAL", "SAT", "LOY"]


def block(ecsi: pd.DataFrame, name: str) -> pd.DataFrame:
    return ecsi[[c for c in ecsi.columns if c.startswith(name.lower())]]


def patched_factor_analyzer(monkeypatch: pytest.MonkeyPatch) -> Any:
    """factor_analyzer 0.5.1 passes a keyword scikit-learn ≥ 1.8 renamed; rename it
    (for this test only)."""
    import factor_analyzer.factor_analyzer as ffa
    import sklearn.utils.validation as skv

    def check_array(x: Any, force_all_finite: Any = True, **kw: Any) -> Any:
        return skv.check_array(x, ensure_all_finite=force_all_finite, **kw)

    monkeypatch.setattr(ffa, "check_array", check_array)
    return ffa


# --- Cronbach's alpha ---------------------------------------------------------------


def test_alpha_matches_pingouin_documented_value(alpha_long: pd.DataFrame) -> None:
    stored = REF["cronbach"]["pingouin_cronbach_alpha"]
    assert cronbach_alpha(alpha_long) == pytest.approx(stored["alpha"], abs=1e-12)
    assert cronbach_alpha(alpha_long) == pytest.approx(0.5917, abs=5e-5)  # pingouin docs


def test_alpha_feldt_interval_matches_pingouin(alpha_long: pd.DataFrame) -> None:
    r = cronbach_alpha_ci(alpha_long)
    lo, hi = REF["cronbach"]["pingouin_cronbach_alpha"]["ci95"]
    # pingouin rounds its bounds to 3 decimals.
    assert (round(r.lower, 3), round(r.upper, 3)) == (lo, hi)
    assert r.lower < r.alpha < r.upper


@pytest.mark.parametrize(
    ("policy", "key", "documented"),
    [
        ("pairwise", "pingouin_wide_missing_pairwise", 0.7327),
        ("listwise", "pingouin_wide_missing_listwise", 0.8017),
    ],
)
def test_alpha_missing_policies_match_pingouin(
    alpha_missing: pd.DataFrame, policy: Any, key: str, documented: float
) -> None:
    a = cronbach_alpha(alpha_missing, nan_policy=policy)
    assert a == pytest.approx(REF["cronbach"][key]["alpha"], abs=1e-12)
    assert a == pytest.approx(documented, abs=5e-5)


def test_alpha_live_pingouin_on_ecsi_blocks(ecsi: pd.DataFrame) -> None:
    pg = pytest.importorskip("pingouin")
    for name in ECSI_BLOCKS:
        items = block(ecsi, name)
        ours = cronbach_alpha(items)
        assert ours == pytest.approx(REF["cronbach"]["ecsi_blocks"][name], abs=1e-12)
        assert ours == pytest.approx(pg.cronbach_alpha(data=items)[0], abs=1e-12)


def test_block_alphas_on_ecsi_match_stored_pingouin(ecsi: pd.DataFrame) -> None:
    blocks = {name: list(block(ecsi, name).columns) for name in ECSI_BLOCKS}
    table = block_alphas(ecsi, blocks)
    for name in ECSI_BLOCKS:
        assert table.loc[name, "alpha"] == pytest.approx(
            REF["cronbach"]["ecsi_blocks"][name], abs=1e-12
        )
        assert table.loc[name, "n_items"] == len(blocks[name])
    assert (table["lower"] < table["alpha"]).all() and (table["alpha"] < table["upper"]).all()


def test_alpha_if_deleted_equals_alpha_of_remaining_items(ecsi: pd.DataFrame) -> None:
    items = block(ecsi, "QUAL")
    aid = alpha_if_deleted(items)
    for col in items.columns:
        assert aid[col] == pytest.approx(cronbach_alpha(items.drop(columns=col)), abs=1e-12)


def test_alpha_listwise_ci_uses_complete_rows(alpha_missing: pd.DataFrame) -> None:
    complete = alpha_missing.dropna()
    r = cronbach_alpha_ci(alpha_missing, nan_policy="listwise")
    assert r == pytest.approx(tuple(cronbach_alpha_ci(complete)))


def test_alpha_rejects_bad_input() -> None:
    with pytest.raises(MethodInputError, match="zero variance"):
        cronbach_alpha([[1, 2, 3], [1, 3, 4], [1, 4, 4]])
    with pytest.raises(MethodInputError, match="at least 2 items"):
        cronbach_alpha([[1], [2], [3]])
    with pytest.raises(MethodInputError, match="at least 2 respondents"):
        cronbach_alpha([[1, 2, 3]])
    with pytest.raises(MethodInputError, match="nan_policy"):
        cronbach_alpha([[1, 2], [2, 3], [3, 5]], nan_policy="drop")  # type: ignore[arg-type]
    with pytest.raises(MethodInputError, match="numeric"):
        cronbach_alpha(pd.DataFrame({"a": ["x", "y"], "b": ["z", "w"]}))


@settings(max_examples=40, deadline=None)
@given(
    arrays(np.float64, (12, 4), elements=st.integers(1, 7).map(float)),
    st.floats(0.5, 20),
    st.floats(-50, 50),
)
def test_alpha_is_invariant_to_a_common_linear_rescaling(
    x: np.ndarray, scale: float, shift: float
) -> None:
    if (x.std(axis=0) == 0).any():
        with pytest.raises(MethodInputError):
            cronbach_alpha(x)
        return
    a = cronbach_alpha(x)
    assert a <= 1 + 1e-12
    assert cronbach_alpha(x * scale + shift) == pytest.approx(a, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31 - 1), st.floats(0.0, 0.4))
def test_pairwise_alpha_equals_alpha_from_pandas_pairwise_covariance(
    seed: int, missing: float
) -> None:
    # Independent route: pandas' pairwise-complete DataFrame.cov (what pingouin uses).
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.integers(1, 8, size=(40, 5)).astype(float) + rng.normal(size=(40, 1)))
    x = x.mask(rng.random(x.shape) < missing)
    cov = x.cov()
    if cov.isna().any().any() or (np.diag(cov) <= 1e-9).any():
        return
    k = 5
    expected = k / (k - 1) * (1 - np.trace(cov) / cov.to_numpy().sum())
    assert cronbach_alpha(x) == pytest.approx(expected, abs=1e-10)


def test_constant_item_with_rounding_noise_is_rejected() -> None:
    x = np.column_stack([np.full(30, 0.1), np.arange(30.0), np.arange(30.0) ** 0.5])
    with pytest.raises(MethodInputError, match="zero variance"):
        cronbach_alpha(x)


# --- KMO and Bartlett -----------------------------------------------------------------


def test_bartlett_matches_factor_analyzer_test01(test01: pd.DataFrame) -> None:
    chi2, p = bartlett(test01)
    assert chi2 == pytest.approx(REF["bartlett_test01"]["chi2"], rel=1e-10)
    assert p == pytest.approx(REF["bartlett_test01"]["p"], abs=1e-300)


def test_bartlett_p_value_on_a_small_case_matches_chi2_formula() -> None:
    # Hand case: two items with r = 0.5, n = 20 → χ² = −(19 − 9/6)·ln(0.75), df = 1.
    from scipy import stats

    x = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]] * 5)
    x[:6, 1] = x[:6, 0]  # pushes r to 0.5
    r = np.corrcoef(x, rowvar=False)[0, 1]
    expected = -(19 - 9 / 6) * np.log(1 - r**2)
    chi2, p = bartlett(x)
    assert chi2 == pytest.approx(expected, rel=1e-12)
    assert p == pytest.approx(stats.chi2.sf(expected, 1), rel=1e-12)


def test_kmo_matches_factor_analyzer_test02(test02: pd.DataFrame) -> None:
    per_item, overall = kmo(test02)
    ref = REF["kmo_test02"]
    assert overall == pytest.approx(ref["overall"], abs=1e-12)
    assert per_item.to_dict() == pytest.approx(ref["per_item"], abs=1e-12)


def test_kmo_and_bartlett_live_factor_analyzer(test01: pd.DataFrame, test02: pd.DataFrame) -> None:
    fa = pytest.importorskip("factor_analyzer")
    per_item, overall = kmo(test02)
    ref_items, ref_overall = fa.calculate_kmo(test02)
    assert overall == pytest.approx(ref_overall, abs=1e-12)
    np.testing.assert_allclose(per_item.to_numpy(), ref_items, atol=1e-12)
    assert bartlett(test01)[0] == pytest.approx(fa.calculate_bartlett_sphericity(test01)[0])


def test_kmo_rejects_singular_and_constant_items() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 2))
    with pytest.raises(MethodInputError, match="singular"):
        kmo(np.column_stack([x, x.sum(axis=1)]))
    with pytest.raises(MethodInputError, match="zero variance"):
        bartlett(np.column_stack([x, np.ones(50)]))
    with pytest.raises(MethodInputError, match="NaN"):
        kmo(np.where(np.eye(50, 2) == 1, np.nan, x))


def _near_singular(seed: int = 0) -> np.ndarray:
    """Four items, the last equal to the first plus noise of size 1e-13."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(80, 3)) + rng.normal(size=(80, 1))
    return np.column_stack([x, x[:, 0] + 1e-13 * rng.normal(size=80)])


def _exactly_singular(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(80, 3))
    return np.column_stack([x, x[:, 0] - 2.0 * x[:, 1]])


@pytest.mark.parametrize("data", [_near_singular, _exactly_singular])
@pytest.mark.parametrize(
    "method",
    [
        kmo,
        bartlett,
        lambda x: efa(x, 2, method="minres"),
        lambda x: efa(x, 2, method="ml"),
        lambda x: mcdonald_omega(x),
    ],
    ids=["kmo", "bartlett", "efa_minres", "efa_ml", "omega"],
)
def test_singular_and_near_singular_items_are_refused_from_the_matrix(
    data: Any, method: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The decision must not depend on LAPACK: make inverse and determinant succeed
    # silently, as they may on another machine's BLAS (rcond ~1e-17 gives only a warning).
    monkeypatch.setattr("scipy.linalg.inv", lambda a, *args, **kw: np.eye(len(a)))
    monkeypatch.setattr("numpy.linalg.slogdet", lambda a: (1.0, -1.0))
    with pytest.raises(MethodInputError, match=r"correlation matrix is singular or nearly so"):
        method(data())


def test_well_conditioned_items_give_unchanged_results_without_warnings(
    test01: pd.DataFrame, test02: pd.DataFrame
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        per_item, overall = kmo(test02)
        chi2, p = bartlett(test01)
        efa(test02, 3, rotation="promax")
    ref = REF["kmo_test02"]
    assert per_item.to_dict() == pytest.approx(ref["per_item"], abs=1e-12)
    assert overall == pytest.approx(ref["overall"], abs=1e-12)
    assert chi2 == pytest.approx(REF["bartlett_test01"]["chi2"], rel=1e-10)
    assert p == pytest.approx(REF["bartlett_test01"]["p"], abs=1e-300)


# --- EFA ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["minres", "ml", "principal"])
@pytest.mark.parametrize("rotation", [None, "varimax", "promax"])
def test_efa_matches_factor_analyzer_test02(
    test02: pd.DataFrame, method: Any, rotation: Any
) -> None:
    ref = REF["efa_test02_3factors"][f"{method}_{rotation}"]
    r = efa(test02, 3, rotation=rotation, method=method)
    # minres / ml go through an L-BFGS-B optimum: agreement to ~1e-7 is the optimizer's.
    tol = 1e-12 if method == "principal" else 1e-5
    np.testing.assert_allclose(r.loadings.to_numpy(), ref["loadings"], atol=tol)
    np.testing.assert_allclose(r.communalities.to_numpy(), ref["communalities"], atol=tol)
    np.testing.assert_allclose(r.uniquenesses.to_numpy(), ref["uniquenesses"], atol=tol)
    np.testing.assert_allclose(r.variance.to_numpy(), ref["variance"], atol=tol)
    if ref["phi"] is None:
        assert r.factor_correlation is None
    else:
        assert r.factor_correlation is not None
        np.testing.assert_allclose(r.factor_correlation.to_numpy(), ref["phi"], atol=1e-4)
    assert r.converged
    np.testing.assert_allclose(
        r.eigenvalues.to_numpy(), np.sort(np.linalg.eigvalsh(test02.corr().to_numpy()))[::-1]
    )


def test_efa_live_factor_analyzer_varimax(
    test02: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("factor_analyzer")
    ffa = patched_factor_analyzer(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fa = ffa.FactorAnalyzer(n_factors=2, method="minres", rotation="varimax").fit(test02)
    r = efa(test02, 2, rotation="varimax")
    np.testing.assert_allclose(r.loadings.to_numpy(), fa.loadings_, atol=1e-5)


def test_efa_communalities_and_variance_are_consistent(ecsi: pd.DataFrame) -> None:
    items = ecsi.drop(columns="gender")
    r = efa(items, 4, rotation="varimax")
    # An orthogonal rotation moves variance between factors, not the communalities.
    unrotated = efa(items, 4, rotation=None)
    np.testing.assert_allclose(r.communalities, unrotated.communalities, atol=1e-10)
    assert r.variance.loc["ss_loadings"].sum() == pytest.approx(r.communalities.sum())
    assert r.variance.loc["cumulative"].iloc[-1] == pytest.approx(r.communalities.mean())


def test_efa_rejects_bad_arguments(test02: pd.DataFrame) -> None:
    with pytest.raises(MethodInputError, match="n_factors"):
        efa(test02, 10)
    with pytest.raises(MethodInputError, match="n_factors"):
        efa(test02, 0)
    with pytest.raises(MethodInputError, match="method"):
        efa(test02, 2, method="paf")  # type: ignore[arg-type]
    with pytest.raises(MethodInputError, match="rotation"):
        efa(test02, 2, rotation="oblimin")  # type: ignore[arg-type]


# --- omega, CR, AVE, Fornell–Larcker, HTMT ------------------------------------------


def test_omega_from_factor_analyzer_one_factor_loadings(ecsi: pd.DataFrame) -> None:
    for name in ECSI_BLOCKS:
        assert mcdonald_omega(block(ecsi, name)) == pytest.approx(
            REF["omega_ecsi_minres"][name]["omega"], abs=1e-6
        )


def test_omega_equals_alpha_for_parallel_items() -> None:
    # Equal loadings and uniquenesses (a parallel/tau-equivalent model): ω = α in the
    # population; with a huge exactly-structured sample they agree closely.
    rng = np.random.default_rng(11)
    f = rng.normal(size=200_000)
    x = np.column_stack([0.7 * f + np.sqrt(0.51) * rng.normal(size=f.size) for _ in range(5)])
    assert mcdonald_omega(x) == pytest.approx(cronbach_alpha(x), abs=2e-3)
    # Population value: 5·0.49 / (5·0.49 + 0.51) · … = (3.5²)/(3.5² + 5·0.51)
    assert mcdonald_omega(x) == pytest.approx(3.5**2 / (3.5**2 + 5 * 0.51), abs=3e-3)


def test_composite_reliability_and_ave_hand_case() -> None:
    # Hand-worked: λ = (0.7, 0.8, 0.9): (Σλ)² = 5.76, Σ(1−λ²) = 1.06, Σλ² = 1.94.
    assert composite_reliability([0.7, 0.8, 0.9]) == pytest.approx(5.76 / 6.82)
    assert ave([0.7, 0.8, 0.9]) == pytest.approx(1.94 / 3)
    with pytest.raises(MethodInputError, match="standardized"):
        ave([0.7, 1.2])


def test_fornell_larcker_table() -> None:
    rng = np.random.default_rng(5)
    a = rng.normal(size=400)
    b = 0.6 * a + 0.8 * rng.normal(size=400)
    scores = pd.DataFrame({"A": a, "B": b})
    r = fornell_larcker(scores, {"A": 0.64, "B": 0.30})
    corr = float(np.corrcoef(a, b)[0, 1])
    assert r.matrix.loc["A", "A"] == pytest.approx(0.8)
    assert r.matrix.loc["A", "B"] == pytest.approx(corr)
    assert r.passed["A"] == (0.8 > abs(corr))
    assert r.passed["B"] == (np.sqrt(0.30) > abs(corr))
    with pytest.raises(MethodInputError, match="no AVE"):
        fornell_larcker(scores, {"A": 0.5})
    from_loadings = fornell_larcker(scores, {"A": [0.8, 0.8], "B": 0.30})
    pd.testing.assert_frame_equal(from_loadings.matrix, r.matrix)


def test_htmt_hand_case_from_a_known_correlation_matrix() -> None:
    # Items whose correlation matrix is exactly R below (built by a Cholesky factor of R
    # applied to whitened noise): within-block r = 0.6 and 0.5, between-block 0.3 and 0.2.
    # HTMT = mean(0.3, 0.2, 0.2, 0.3) / sqrt(0.6·0.5) = 0.25 / 0.5477.
    r = np.array(
        [
            [1.0, 0.6, 0.3, 0.2],
            [0.6, 1.0, 0.2, 0.3],
            [0.3, 0.2, 1.0, 0.5],
            [0.2, 0.3, 0.5, 1.0],
        ]
    )
    rng = np.random.default_rng(3)
    z = rng.normal(size=(500, 4))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False)).T)
    x = pd.DataFrame(z @ np.linalg.cholesky(r).T, columns=["a1", "a2", "b1", "b2"])
    h = htmt(x, {"A": ["a1", "a2"], "B": ["b1", "b2"]})
    assert h.loc["A", "B"] == pytest.approx(0.25 / np.sqrt(0.3), abs=1e-10)
    assert h.loc["B", "A"] == h.loc["A", "B"]
    assert h.loc["A", "A"] == 1.0


def test_htmt_on_ecsi_is_symmetric_and_rejects_single_item_blocks(ecsi: pd.DataFrame) -> None:
    blocks = {name: list(block(ecsi, name).columns) for name in ECSI_BLOCKS}
    h = htmt(ecsi, blocks)
    np.testing.assert_allclose(h.to_numpy(), h.to_numpy().T)
    assert ((h.to_numpy() > 0) & (h.to_numpy() <= 1.5)).all()
    with pytest.raises(MethodInputError, match="at least 2 per block"):
        htmt(ecsi, {"A": ["imag1"], "B": ["sat1", "sat2"]})
    with pytest.raises(MethodInputError, match="not in items"):
        htmt(ecsi, {"A": ["imag1", "nope"], "B": ["sat1", "sat2"]})
