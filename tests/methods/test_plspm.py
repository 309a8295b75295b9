"""PLS path modelling, tested against R plspm, plspm-python and seminr (IPMA: test_ipma.py).

References (all stored under tests/methods/data, see README.md there):
- R plspm's output for the ECSI ``satisfaction`` data, classic ECSI model, scaled = FALSE,
  as in Sanchez (2013) *PLS Path Modeling with R*, ch. 4 (plspm_r_satisfaction_*.csv; the
  fixtures of GoogleCloudPlatform/plspm-python's tests/data).
- seminr's output for the ``mobi`` data with a mode-B block and the path scheme
  (plspm_seminr_mobi_*.csv; same source).
- PyPI plspm 0.5.7 (plspm-python) run on the same data (plspm_python_reference.json).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sqm.methods import plspm
from sqm.methods._validation import MethodInputError

DATA = Path(__file__).resolve().parent / "data"
LVS = ["IMAG", "EXPE", "QUAL", "VAL", "SAT", "LOY"]
ECSI_PATHS = [
    ("IMAG", "EXPE"), ("IMAG", "SAT"), ("IMAG", "LOY"), ("EXPE", "QUAL"), ("EXPE", "VAL"),
    ("EXPE", "SAT"), ("QUAL", "VAL"), ("QUAL", "SAT"), ("VAL", "SAT"), ("SAT", "LOY"),
]  # fmt: skip


@pytest.fixture(scope="module")
def satisfaction(shared_data: Path) -> pd.DataFrame:
    # first column holds R's row names (see the data README)
    return pd.read_csv(shared_data / "ecsi" / "satisfaction.csv", index_col=0)


@pytest.fixture(scope="module")
def mobi(shared_data: Path) -> pd.DataFrame:
    return pd.read_csv(shared_data / "ecsi" / "mobi.csv", index_col=0)


@pytest.fixture(scope="module")
def blocks(satisfaction: pd.DataFrame) -> dict[str, list[str]]:
    return {lv: [c for c in satisfaction.columns if c.startswith(lv.lower())] for lv in LVS}


@pytest.fixture(scope="module")
def ecsi_fit(satisfaction: pd.DataFrame, blocks: dict[str, list[str]]) -> plspm.PLSResult:
    return plspm.fit(satisfaction, blocks, ECSI_PATHS, scaled=False)


# ---------------------------------------------------------------- R plspm (Sanchez 2013)


@pytest.mark.parametrize("scheme", ["centroid", "factorial", "path"])
def test_outer_model_matches_r_plspm(satisfaction, blocks, scheme):
    ref = pd.read_csv(DATA / f"plspm_r_satisfaction_outer_{scheme}.csv", index_col=0)
    res = plspm.fit(satisfaction, blocks, ECSI_PATHS, scheme=scheme, scaled=False)
    np.testing.assert_allclose(res.outer_weights[ref.index], ref["weight"], atol=1e-8)
    np.testing.assert_allclose(res.loadings[ref.index], ref["loading"], atol=1e-8)


def test_effects_r2_and_scores_match_r_plspm(ecsi_fit):
    eff = pd.read_csv(DATA / "plspm_r_satisfaction_effects.csv").set_index(["from", "to"])
    ours = ecsi_fit.effects.loc[eff.index]
    np.testing.assert_allclose(ours[["direct", "indirect", "total"]], eff, atol=1e-8)
    assert set(ecsi_fit.effects.index) == set(eff.index)
    for (src, dst), row in eff.iterrows():
        assert ecsi_fit.path_coefficients.loc[src, dst] == pytest.approx(row["direct"], abs=1e-8)
        assert ecsi_fit.total_effects.loc[src, dst] == pytest.approx(row["total"], abs=1e-8)
    summary = pd.read_csv(DATA / "plspm_r_satisfaction_inner_summary.csv", index_col=0)
    np.testing.assert_allclose(ecsi_fit.r2, summary.loc[ecsi_fit.r2.index, "r_squared"], atol=1e-8)
    assert list(ecsi_fit.r2.index) == ["EXPE", "QUAL", "VAL", "SAT", "LOY"]
    scores = pd.read_csv(DATA / "plspm_r_satisfaction_scores_head.csv")
    np.testing.assert_allclose(ecsi_fit.scores.iloc[:10][LVS], scores[LVS], atol=1e-8)


def test_all_mode_b_r2_matches_r_plspm(satisfaction, blocks):
    ref = pd.read_csv(DATA / "plspm_r_satisfaction_modeb_inner_summary.csv", index_col=0)
    res = plspm.fit(satisfaction, blocks, ECSI_PATHS, modes=dict.fromkeys(LVS, "B"), scaled=False)
    np.testing.assert_allclose(res.r2, ref.loc[res.r2.index, "r_squared"], atol=1e-8)


def test_mobi_with_mode_b_matches_seminr(mobi):
    mobi_blocks = {
        "Expectation": ["CUEX1", "CUEX2", "CUEX3"],
        "Quality": [f"PERQ{i}" for i in range(1, 8)],
        "Loyalty": ["CUSL1", "CUSL2", "CUSL3"],
        "Image": [f"IMAG{i}" for i in range(1, 6)],
        "Complaints": ["CUSCO"],
    }
    paths = [("Expectation", "Loyalty"), ("Quality", "Loyalty"), ("Image", "Expectation"),
             ("Complaints", "Loyalty")]  # fmt: skip
    res = plspm.fit(mobi, mobi_blocks, paths, modes={"Quality": "B"}, scheme="path", tol=1e-8)
    outer = pd.read_csv(DATA / "plspm_seminr_mobi_outer.csv", index_col=0)
    # seminr stops on another criterion: agreement to its tolerance, not to rounding
    np.testing.assert_allclose(res.outer_weights[outer.index], outer["weight"], atol=1e-4)
    np.testing.assert_allclose(res.loadings[outer.index], outer["loading"], atol=1e-4)
    ref_paths = pd.read_csv(DATA / "plspm_seminr_mobi_paths.csv", index_col=0)
    ours = res.path_coefficients.loc[ref_paths.index, ref_paths.columns]
    np.testing.assert_allclose(ours, ref_paths, atol=1e-4)


# ---------------------------------------------------------------- plspm-python 0.5.7

PY_REF = json.loads((DATA / "plspm_python_reference.json").read_text())


@pytest.mark.parametrize("case", sorted(PY_REF))
def test_matches_plspm_python(case, satisfaction, mobi):
    job, ref = PY_REF[case]["job"], PY_REF[case]["result"]
    data = mobi if case.startswith("mobi") else satisfaction
    res = plspm.fit(
        data, job["blocks"], [tuple(p) for p in job["paths"]], modes=job["modes"],
        scheme=job["scheme"], scaled=job["scaled"], tol=job.get("tol", 1e-6),
    )  # fmt: skip
    # plspm-python's standardised route (Scale.NUM) stops on a score criterion, R's and
    # ours on the weights: same fixed point, agreement at the tolerance's level
    atol = 1e-4 if job["scaled"] else 1e-10
    lvs = list(res.model.lvs)
    paths = pd.DataFrame(ref["path_coefficients"]).T.loc[lvs, lvs]
    np.testing.assert_allclose(res.path_coefficients, paths, atol=atol)
    np.testing.assert_allclose(
        res.outer_weights, pd.Series(ref["outer_weights"])[list(res.model.mvs)], atol=atol
    )
    np.testing.assert_allclose(
        res.loadings, pd.Series(ref["loadings"])[list(res.model.mvs)], atol=atol
    )
    np.testing.assert_allclose(res.r2, pd.Series(ref["r2"])[res.r2.index], atol=atol)
    for src, dst, total in ref["total_effects"]:
        assert res.total_effects.loc[src, dst] == pytest.approx(total, abs=atol)
    np.testing.assert_allclose(res.scores.iloc[:10], np.array(ref["scores_head"]), atol=atol)


# ---------------------------------------------------------------- properties


@settings(max_examples=15, deadline=None)
@given(
    column=st.sampled_from(["imag1", "expe3", "qual2", "val4", "sat1", "loy2"]),
    factor=st.floats(0.01, 100.0),
    shift=st.floats(-50.0, 50.0),
)
def test_standardised_results_invariant_to_rescaling_an_item(
    satisfaction, blocks, column, factor, shift
):
    base = plspm.fit(satisfaction, blocks, ECSI_PATHS, modes={"QUAL": "B"}, scaled=True)
    moved = satisfaction.copy()
    moved[column] = moved[column] * factor + shift
    res = plspm.fit(moved, blocks, ECSI_PATHS, modes={"QUAL": "B"}, scaled=True)
    np.testing.assert_allclose(res.path_coefficients, base.path_coefficients, atol=1e-9)
    np.testing.assert_allclose(res.outer_weights, base.outer_weights, atol=1e-9)
    np.testing.assert_allclose(res.loadings, base.loadings, atol=1e-9)
    np.testing.assert_allclose(res.scores, base.scores, atol=1e-8)
    # the 0-100 index is built on the original scale, so it is not invariant: it is
    # checked against its definition instead
    np.testing.assert_allclose(res.unstandardised_weights().groupby(
        pd.Series([res.model.lvs[j] for j in res.model.membership], index=res.model.mvs)
    ).sum(), 1.0)  # fmt: skip


def test_scores_standardised_and_consistent_with_weights(satisfaction, blocks):
    res = plspm.fit(satisfaction, blocks, ECSI_PATHS, scheme="path", scaled=True)
    np.testing.assert_allclose(res.scores.mean(), 0.0, atol=1e-12)
    np.testing.assert_allclose(res.scores.std(ddof=0), 1.0, atol=1e-12)
    x = satisfaction[list(res.model.mvs)]
    z = (x - x.mean()) / x.std(ddof=0)
    for lv in LVS:
        cols = blocks[lv]
        np.testing.assert_allclose(z[cols].to_numpy() @ res.outer_weights[cols], res.scores[lv])
        corr = [np.corrcoef(satisfaction[c], res.scores[lv])[0, 1] for c in cols]
        np.testing.assert_allclose(res.loadings[cols], corr, atol=1e-12)


def test_index_scores_follow_the_acsi_definition(ecsi_fit, satisfaction, blocks):
    index = ecsi_fit.index_scores(1, 10)
    w = ecsi_fit.unstandardised_weights()
    for lv in LVS:
        cols = blocks[lv]
        assert w[cols].sum() == pytest.approx(1.0)
        expected = 100 * (satisfaction[cols].to_numpy() @ w[cols].to_numpy() - 1) / 9
        np.testing.assert_allclose(index[lv], expected)
        # index is an increasing affine map of the standardised score
        assert np.corrcoef(index[lv], ecsi_fit.scores[lv])[0, 1] == pytest.approx(1.0)
    top = satisfaction.copy()
    top.iloc[0, :27] = 10
    top.iloc[1, :27] = 1
    res = plspm.fit(top, blocks, ECSI_PATHS, scaled=False).index_scores(1, 10)
    np.testing.assert_allclose(res.iloc[0], 100.0)
    np.testing.assert_allclose(res.iloc[1], 0.0, atol=1e-12)
    with pytest.raises(MethodInputError, match="scale_max"):
        ecsi_fit.index_scores(10, 1)


# ---------------------------------------------------------------- bootstrap


def test_bootstrap_equals_refitting_each_resample(satisfaction, blocks):
    res = plspm.fit(satisfaction, blocks, ECSI_PATHS, modes={"QUAL": "B"}, scheme="path")
    boot = res.bootstrap(12, seed=7, chunk=12)
    # the documented draw: one chunk of rng.integers(0, n, (chunk, n)) row indices
    rows = np.random.default_rng(7).integers(0, len(satisfaction), size=(12, len(satisfaction)))
    for b in range(12):
        ref = plspm.fit(
            satisfaction.iloc[rows[b]], blocks, ECSI_PATHS, modes={"QUAL": "B"}, scheme="path"
        )
        np.testing.assert_allclose(
            boot.draws["outer_weights"].iloc[b], ref.outer_weights, atol=1e-10
        )
        np.testing.assert_allclose(boot.draws["loadings"].iloc[b], ref.loadings, atol=1e-10)
        np.testing.assert_allclose(boot.draws["r2"].iloc[b], ref.r2, atol=1e-10)
        paths = [ref.path_coefficients.loc[a, c] for a, c in res.model.paths]
        np.testing.assert_allclose(boot.draws["paths"].iloc[b], paths, atol=1e-10)
        totals = [ref.total_effects.loc[a, c] for a, c in boot.total_effects.index]
        np.testing.assert_allclose(boot.draws["total_effects"].iloc[b], totals, atol=1e-10)
    assert boot.failed == 0


def test_bootstrap_is_reproducible_and_summarised(ecsi_fit):
    a = ecsi_fit.bootstrap(300, seed=11)
    b = ecsi_fit.bootstrap(300, seed=11, chunk=7)  # chunking does not change the draws' order
    c = ecsi_fit.bootstrap(300, seed=12)
    pd.testing.assert_frame_equal(a.paths, ecsi_fit.bootstrap(300, seed=11).paths)
    assert not np.allclose(a.paths["std_error"], c.paths["std_error"])
    draws = a.draws["paths"]
    np.testing.assert_allclose(a.paths["std_error"], draws.std(ddof=1))
    np.testing.assert_allclose(a.paths["perc_lower"], draws.quantile(0.025))
    np.testing.assert_allclose(
        a.paths["original"], [ecsi_fit.path_coefficients.loc[s, t] for s, t in a.paths.index]
    )
    assert list(a.r2.index) == list(ecsi_fit.r2.index)
    assert a.n_resamples == 300 and a.failed == 0
    assert b.paths.shape == a.paths.shape


def test_bootstrap_se_agree_with_plspm_python(satisfaction, blocks):
    """plspm-python's bootstrap (1,000 resamples, unseeded) against ours: equal in law.

    Monte-Carlo error of a standard error is about 1/sqrt(2B): 2.2 % for plspm-python's
    1,000 resamples, 1.6 % for our 2,000, so 15 % is about five standard errors.
    """
    ref = json.loads((DATA / "plspm_python_bootstrap_ecsi.json").read_text())
    boot = plspm.fit(satisfaction, blocks, ECSI_PATHS, scaled=True).bootstrap(2000, seed=2026)
    compared = 0
    for table in ("paths", "loadings", "outer_weights", "r2", "total_effects"):
        ours = getattr(boot, table)
        for key, row in ref[table].items():
            label = tuple(key.split(" -> ")) if " -> " in key else key
            if label not in ours.index:
                continue
            compared += 1
            assert ours.loc[label, "std_error"] == pytest.approx(row["std_error"], rel=0.15), (
                table,
                key,
            )
            assert ours.loc[label, "original"] == pytest.approx(row["original"], abs=1e-4)
    assert compared >= 60


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda d, b, p: (d, {**b, "SAT": ["sat1", "nope"]}, p), "nope"),
        (lambda d, b, p: (d, b, [*p, ("SAT", "GHOST")]), "unknown latent variable 'GHOST'"),
        (lambda d, b, p: (d, b, [*p, ("LOY", "IMAG")]), "cycle"),
        (lambda d, b, p: (d, b, [*p, ("SAT", "SAT")]), "self-loop"),
        (lambda d, b, p: (d.assign(val2=5), b, p), "constant"),
        (lambda d, b, p: (d.assign(qual3=d["qual3"].where(d.index != 17)), b, p), "NaN"),
        (lambda d, b, p: (d.iloc[:2], b, p), "at least"),
        (lambda d, b, p: (d, {**b, "LOY": ["loy1", "sat1"]}, p), "more than one block"),
        (lambda d, b, p: (d, {**b, "X": ["gender"]}, p), "no path"),
        (
            lambda d, b, p: (d.assign(gender="x"), {**b, "X": ["gender"]}, [*p, ("X", "SAT")]),
            "numeric",
        ),
    ],
)
def test_bad_input_is_named(satisfaction, blocks, change, match):
    data, b, p = change(satisfaction, blocks, ECSI_PATHS)
    with pytest.raises(MethodInputError, match=match):
        plspm.fit(data, b, p)


def test_bad_options_are_named(satisfaction, blocks):
    with pytest.raises(MethodInputError, match="scheme"):
        plspm.fit(satisfaction, blocks, ECSI_PATHS, scheme="horst")  # type: ignore[arg-type]
    with pytest.raises(MethodInputError, match="modes"):
        plspm.fit(satisfaction, blocks, ECSI_PATHS, modes={"SAT": "C"})
    with pytest.raises(MethodInputError, match="modes"):
        plspm.fit(satisfaction, blocks, ECSI_PATHS, modes={"GHOST": "A"})
    with pytest.raises(MethodInputError, match="converge"):
        plspm.fit(satisfaction, blocks, ECSI_PATHS, max_iter=2, tol=1e-30)
    res = plspm.fit(satisfaction, blocks, ECSI_PATHS)
    with pytest.raises(MethodInputError, match="resamples"):
        res.bootstrap(1)
    with pytest.raises(MethodInputError, match="at least 10 rows"):
        plspm.fit(satisfaction.iloc[:8], blocks, ECSI_PATHS).bootstrap(50)


def test_bootstrap_counts_resamples_with_a_constant_item_as_failed():
    rng = np.random.default_rng(0)
    factor = rng.normal(size=(12, 1))
    data = pd.DataFrame(factor + 0.3 * rng.normal(size=(12, 4)), columns=["a1", "a2", "b1", "b2"])
    data["b1"] = 0.0
    data.loc[0, "b1"] = 1.0  # constant in every resample that misses row 0
    res = plspm.fit(data, {"A": ["a1", "a2"], "B": ["b1", "b2"]}, [("A", "B")])
    boot = res.bootstrap(200, seed=1, chunk=200)
    rows = np.random.default_rng(1).integers(0, 12, size=(200, 12))
    assert boot.failed == int((~(rows == 0).any(axis=1)).sum()) > 0
    assert len(boot.draws["paths"]) == 200 - boot.failed


# ---------------------------------------------------------------- (nearly) singular matrices


def _copy(column: pd.Series, noise: float, seed: int = 0) -> pd.Series:
    return column + noise * np.random.default_rng(seed).normal(size=len(column))


@pytest.mark.parametrize("noise", [0.0, 1e-13])
def test_mode_b_block_with_a_copied_item_is_refused(satisfaction, blocks, noise, monkeypatch):
    # the refusal comes from the block's condition number, not from LAPACK
    monkeypatch.setattr("numpy.linalg.solve", lambda a, b: np.zeros(np.shape(b)))
    data = satisfaction.assign(val5=_copy(satisfaction["val1"], noise))
    b = {**blocks, "VAL": [*blocks["VAL"], "val5"]}
    with pytest.raises(MethodInputError, match="mode-B block 'VAL' is singular or nearly so"):
        plspm.fit(data, b, ECSI_PATHS, modes={"VAL": "B"})


@pytest.mark.parametrize("scheme", ["centroid", "path"])
@pytest.mark.parametrize("noise", [0.0, 1e-13])
def test_collinear_predecessors_are_refused(scheme, noise):
    rng = np.random.default_rng(2)
    f = rng.normal(size=(100, 1))
    data = pd.DataFrame(f + rng.normal(size=(100, 2)), columns=["a1", "c1"])
    data["b1"] = _copy(data["a1"], noise)
    with pytest.raises(MethodInputError, match=r"'C''s predecessors \(A, B\) is singular"):
        plspm.fit(
            data, {"A": ["a1"], "B": ["b1"], "C": ["c1"]}, [("A", "C"), ("B", "C")], scheme=scheme
        )


def test_bootstrap_counts_resamples_with_a_singular_block_as_failed():
    rng = np.random.default_rng(0)
    factor = rng.normal(size=(12, 1))
    data = pd.DataFrame(factor + 0.3 * rng.normal(size=(12, 4)), columns=["a1", "a2", "b1", "b2"])
    data["b2"] = data["b1"]
    data.loc[0, "b2"] += 1.0  # b2 copies b1 in every resample that misses row 0
    res = plspm.fit(data, {"A": ["a1", "a2"], "B": ["b1", "b2"]}, [("A", "B")], modes={"B": "B"})
    boot = res.bootstrap(200, seed=1, chunk=200)
    rows = np.random.default_rng(1).integers(0, 12, size=(200, 12))
    assert boot.failed == int((~(rows == 0).any(axis=1)).sum()) > 0
    assert len(boot.draws["paths"]) == 200 - boot.failed


def test_total_effects_equal_the_inverse_formula(ecsi_fit):
    b = ecsi_fit.path_coefficients.to_numpy()
    eye = np.eye(len(b))
    expected = np.linalg.inv(eye - b) - eye
    np.testing.assert_allclose(ecsi_fit.total_effects.to_numpy(), expected, atol=1e-14)
    np.testing.assert_allclose(plspm.total_effects(np.stack([b, 2 * b]))[0], expected, atol=1e-14)
