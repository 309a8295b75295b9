"""Importance–performance map analysis, tested against openpls-engine and its own definition.

References (tests/methods/data, see README.md there): PyPI openpls-engine 1.13.0's IPMA on
the ECSI ``satisfaction`` data with the classic ECSI model, scale 1–10
(plspm_openpls_ipma.json, made by benchmarks/plspm/ipma_reference.py). The importance is
also checked as the unstandardised total effect: the standardised one times
sd(target)/sd(driver) of the index scores.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sqm.methods import plspm
from sqm.methods._validation import MethodInputError
from sqm.methods.ipma import _unstandardised_paths, ipma

DATA = Path(__file__).resolve().parent / "data"
LVS = ["IMAG", "EXPE", "QUAL", "VAL", "SAT", "LOY"]
ECSI_PATHS = [
    ("IMAG", "EXPE"), ("IMAG", "SAT"), ("IMAG", "LOY"), ("EXPE", "QUAL"), ("EXPE", "VAL"),
    ("EXPE", "SAT"), ("QUAL", "VAL"), ("QUAL", "SAT"), ("VAL", "SAT"), ("SAT", "LOY"),
]  # fmt: skip


@pytest.fixture(scope="module")
def ecsi_fit(shared_data: Path) -> plspm.PLSResult:
    # first column holds R's row names (see the data README)
    data = pd.read_csv(shared_data / "ecsi" / "satisfaction.csv", index_col=0)
    blocks = {lv: [c for c in data.columns if c.startswith(lv.lower())] for lv in LVS}
    return plspm.fit(data, blocks, ECSI_PATHS, scaled=False)


IPMA_REF = json.loads((DATA / "plspm_openpls_ipma.json").read_text())


@pytest.mark.parametrize("target", ["SAT", "LOY"])
def test_ipma_matches_openpls(ecsi_fit, target):
    ref = IPMA_REF[target]
    m = ipma(ecsi_fit, target, scale_min=1, scale_max=10)
    perf = pd.Series(ref["lv_performance"])
    np.testing.assert_allclose(m.constructs.loc[perf.index, "performance"], perf, atol=1e-9)
    std = pd.Series(ref["lv_importance_standardised"])
    np.testing.assert_allclose(m.constructs.loc[std.index, "total_effect"], std, atol=1e-9)
    ind = pd.Series(ref["indicator_performance"])
    np.testing.assert_allclose(m.indicators["performance"], ind[m.indicators.index], atol=1e-9)


def test_ipma_importance_is_the_unstandardised_total_effect(ecsi_fit):
    m = ipma(ecsi_fit, "LOY", scale_min=1, scale_max=10)
    index = ecsi_fit.index_scores(1, 10)
    sd = index.std()
    # an unstandardised effect is the standardised one times sd(target)/sd(driver)
    expected = m.constructs["total_effect"] * sd["LOY"] / sd[m.constructs.index]
    np.testing.assert_allclose(m.constructs["importance"], expected, rtol=1e-10)
    w = ecsi_fit.unstandardised_weights()
    for mv, row in m.indicators.iterrows():
        assert row["importance"] == pytest.approx(w[mv] * m.constructs.loc[row["lv"], "importance"])
    assert m.target_performance == pytest.approx(index["LOY"].mean())
    with pytest.raises(MethodInputError, match="no predecessors"):
        ipma(ecsi_fit, "IMAG")
    with pytest.raises(MethodInputError, match="target"):
        ipma(ecsi_fit, "NOPE")


@pytest.mark.parametrize("noise", [0.0, 1e-13])
def test_collinear_predecessor_indices_are_refused(ecsi_fit, noise):
    index = ecsi_fit.index_scores(1, 10)
    rng = np.random.default_rng(0)
    index["EXPE"] = index["IMAG"] + noise * rng.normal(size=len(index))  # SAT ← IMAG, EXPE
    with pytest.raises(MethodInputError, match=r"'SAT''s predecessors .* singular or nearly so"):
        _unstandardised_paths(ecsi_fit, index)


def test_well_conditioned_paths_match_an_ols_fit(ecsi_fit):
    index = ecsi_fit.index_scores(1, 10)
    coef = _unstandardised_paths(ecsi_fit, index)
    x = np.column_stack([np.ones(len(index)), index[["IMAG", "EXPE", "QUAL", "VAL"]]])
    beta = np.linalg.lstsq(x, index["SAT"].to_numpy(), rcond=None)[0]
    np.testing.assert_allclose(coef.loc[["IMAG", "EXPE", "QUAL", "VAL"], "SAT"], beta[1:])
