"""Generate the reference numbers in weights_*.json and ranking_*.json (run once, by hand).

Run in a throw-away virtualenv, not in the project's:

    python3 -m venv /tmp/ref-mcdm
    /tmp/ref-mcdm/bin/pip install pymcdm==1.4.0 ahpy==2.1 pydecision==5.1.8 numpy
    /tmp/ref-mcdm/bin/pip install --no-deps pydecision==5.1.8   # its GUI/LLM extras are not needed
    /tmp/ref-mcdm/bin/python tests/methods/data/weights_make_reference.py

The numbers come from the libraries' own functions; this file only feeds them the data.
"""

import json
from importlib.metadata import version
from pathlib import Path

import ahpy
import numpy as np
from pyDecision.algorithm.critic import critic_method
from pyDecision.algorithm.gra import gra_method
from pymcdm import normalizations as pn
from pymcdm.helpers import normalize_matrix
from pymcdm.methods import TOPSIS
from pymcdm.weights import critic_weights, entropy_weights

HERE = Path(__file__).resolve().parent

# Eight stores × five criteria: CSAT (benefit), complaints per 1,000 customers (cost),
# mean wait in minutes (cost), NPS (benefit), inspection score (benefit).
STORES = np.array(
    [
        [82.0, 3.1, 6.5, 31.0, 88.0],
        [76.0, 4.8, 9.0, 12.0, 79.0],
        [90.0, 1.9, 4.0, 45.0, 93.0],
        [71.0, 5.5, 12.5, 5.0, 70.0],
        [85.0, 2.6, 7.0, 28.0, 85.0],
        [79.0, 3.9, 5.5, 22.0, 90.0],
        [88.0, 2.2, 8.5, 40.0, 76.0],
        [74.0, 4.1, 10.0, 15.0, 82.0],
    ]
)
BENEFIT = [True, False, False, True, True]
TYPES = np.array([1 if b else -1 for b in BENEFIT])
WEIGHTS = np.array([0.3, 0.2, 0.15, 0.2, 0.15])

# Hwang & Yoon (1981) fighter-aircraft example: max speed (Mach), ferry range (NM),
# max payload (lb), acquisition cost ($M, cost), reliability, manoeuvrability
# (qualitative, on the 1-9 interval scale: high = 7, average = 5, very high = 9, low = 3).
AIRCRAFT = np.array(
    [
        [2.0, 1500, 20000, 5.5, 5, 9],
        [2.5, 2700, 18000, 6.5, 3, 5],
        [1.8, 2000, 21000, 4.5, 7, 7],
        [2.2, 1800, 20000, 5.0, 5, 5],
    ],
    dtype=float,
)
AIRCRAFT_BENEFIT = [True, True, True, False, True, True]
AIRCRAFT_WEIGHTS = np.array([0.2, 0.1, 0.1, 0.1, 0.2, 0.3])


def objective_weights() -> dict:
    all_benefit = np.ones(STORES.shape[1], dtype=int)
    z = normalize_matrix(STORES, pn.minmax_normalization, TYPES)
    return {
        "source": f"pymcdm {version('pymcdm')}, pyDecision {version('pydecision')}",
        "data": STORES.tolist(),
        "benefit": BENEFIT,
        # pymcdm.weights.entropy_weights takes proportions of the raw values (no direction).
        "entropy_raw_pymcdm": entropy_weights(STORES).tolist(),
        # The usual form: pymcdm's own min-max normalisation by direction, then its entropy.
        # pymcdm sets e_j = 0 for a column holding a zero, so a column with p = 0 differs
        # from 0·ln 0 = 0; recorded as a caveat, not used for a standardised matrix.
        "standardised_matrix_pymcdm": z.tolist(),
        # pymcdm.weights.critic_weights min-max normalises every column as a benefit.
        "critic_all_benefit_pymcdm": critic_weights(STORES, all_benefit).tolist(),
        # pyDecision's critic_method is Diakoulaki's direction-aware form.
        "critic_pydecision": critic_method(
            STORES, ["max" if b else "min" for b in BENEFIT]
        ).tolist(),
    }


def rankings() -> dict:
    topsis = TOPSIS(pn.vector_normalization)
    gra_pyd = gra_method(
        STORES,
        ["max" if b else "min" for b in BENEFIT],
        WEIGHTS,
        epsilon=0.5,
        graph=False,
        verbose=False,
    )
    return {
        "source": f"pymcdm {version('pymcdm')}, pyDecision {version('pydecision')}",
        "data": STORES.tolist(),
        "benefit": BENEFIT,
        "weights": WEIGHTS.tolist(),
        "topsis_vector_pymcdm": topsis(STORES, WEIGHTS, TYPES).tolist(),
        # pyDecision divides Σ w ξ by the number of alternatives; multiply back by m.
        "grey_relational_pydecision_times_m": (gra_pyd * STORES.shape[0]).tolist(),
        "aircraft": {
            "data": AIRCRAFT.tolist(),
            "benefit": AIRCRAFT_BENEFIT,
            "weights": AIRCRAFT_WEIGHTS.tolist(),
            "topsis_vector_pymcdm": topsis(
                AIRCRAFT, AIRCRAFT_WEIGHTS, np.array([1 if b else -1 for b in AIRCRAFT_BENEFIT])
            ).tolist(),
        },
    }


def ahp_examples() -> dict:
    drinks = {
        ("coffee", "wine"): 9, ("coffee", "tea"): 5, ("coffee", "beer"): 2, ("coffee", "soda"): 1,
        ("coffee", "milk"): 1, ("coffee", "water"): 1 / 2, ("wine", "tea"): 1 / 3,
        ("wine", "beer"): 1 / 9, ("wine", "soda"): 1 / 9, ("wine", "milk"): 1 / 9,
        ("wine", "water"): 1 / 9, ("tea", "beer"): 1 / 3, ("tea", "soda"): 1 / 4,
        ("tea", "milk"): 1 / 3, ("tea", "water"): 1 / 9, ("beer", "soda"): 1 / 2,
        ("beer", "milk"): 1, ("beer", "water"): 1 / 3, ("soda", "milk"): 2,
        ("soda", "water"): 1 / 2, ("milk", "water"): 1 / 3,
    }  # fmt: skip
    out: dict = {"source": f"AHPy {version('ahpy')}"}
    d = ahpy.Compare("Drinks", drinks, precision=6, random_index="saaty")
    out["drinks"] = {
        "comparisons": [[a, b, v] for (a, b), v in drinks.items()],
        "weights": d.local_weights,
        "cr_saaty2005": d.consistency_ratio,
    }
    crit = {
        ("Experience", "Education"): 4, ("Experience", "Charisma"): 3, ("Experience", "Age"): 7,
        ("Education", "Charisma"): 1 / 3, ("Education", "Age"): 3, ("Charisma", "Age"): 5,
    }  # fmt: skip
    subs = {
        "Experience": {("Moll", "Nell"): 1 / 4, ("Moll", "Sue"): 4, ("Nell", "Sue"): 9},
        "Education": {("Moll", "Nell"): 3, ("Moll", "Sue"): 1 / 5, ("Nell", "Sue"): 1 / 7},
        "Charisma": {("Moll", "Nell"): 5, ("Moll", "Sue"): 9, ("Nell", "Sue"): 4},
        "Age": {("Moll", "Nell"): 1 / 3, ("Moll", "Sue"): 5, ("Nell", "Sue"): 9},
    }
    c = ahpy.Compare("Criteria", crit, precision=6, random_index="dd")
    children = [ahpy.Compare(k, v, precision=6, random_index="dd") for k, v in subs.items()]
    c.add_children(children)
    out["leader"] = {
        "criteria": [[a, b, v] for (a, b), v in crit.items()],
        "alternatives": {k: [[a, b, v] for (a, b), v in s.items()] for k, s in subs.items()},
        "criteria_weights": c.local_weights,
        "criteria_cr_donegan_dodd": c.consistency_ratio,
        "target_weights": c.target_weights,
        "child_cr_donegan_dodd": {ch.name: ch.consistency_ratio for ch in children},
    }
    vehicle = {
        ("Cost", "Safety"): 3, ("Cost", "Style"): 7, ("Cost", "Capacity"): 3,
        ("Safety", "Style"): 9, ("Safety", "Capacity"): 1, ("Style", "Capacity"): 1 / 7,
    }  # fmt: skip
    v = ahpy.Compare("Criteria", vehicle, precision=6, random_index="saaty")
    out["vehicle_criteria"] = {
        "comparisons": [[a, b, x] for (a, b), x in vehicle.items()],
        "weights": v.local_weights,
        "cr_saaty2005": v.consistency_ratio,
    }
    return out


if __name__ == "__main__":
    (HERE / "weights_pymcdm.json").write_text(json.dumps(objective_weights(), indent=1))
    (HERE / "ranking_pymcdm.json").write_text(json.dumps(rankings(), indent=1))
    (HERE / "weights_ahpy.json").write_text(json.dumps(ahp_examples(), indent=1))
    print("written")
