"""Declarative early-warning rule sets: a TOML file → validated rules ready to run.

One ``[[rule]]`` table per rule with ``name``, ``kpi`` (a catalogue KPI), ``level`` (the
alert severity: minor | major | critical), ``kind`` and that kind's parameters:

=========  ==============================  ===========================================
kind       firing condition                recovery condition (separate)
=========  ==============================  ===========================================
threshold  ``fire``                        back past ``recover``
sustained  ``k`` intervals past ``bad``    ``recover_k`` good intervals (default k)
baseline   ``z`` robust σ off the same-    within ``z_recover`` σ
           hour-of-week median (``weeks``,
           ``min_weeks``, ``min_deviation``)
trend      Mann–Kendall p < ``alpha`` over trend no longer significant
           ``window`` daily values
ewma       EWMA (``lam``, ``L``) past its  statistic back inside the limit
           limit
cusum      tabular CUSUM (``k``, ``h``)    cumulative sum back under h·σ
=========  ==============================  ===========================================

``ewma`` and ``cusum`` take ``train`` (intervals used to estimate the in-control median
and σ) and ``min_sigma`` (a floor on that σ, in the KPI's unit), or fixed ``mu0`` and
``sigma``. Optional on every rule: ``direction`` (default:
the KPI's from the catalogue) and ``grain`` (``hour``, or ``day``; trend rules are
daily). The rules themselves are in :mod:`sqm.methods.alert_rules`.

>>> rs = load_rule_set()
>>> sorted({r.kind for r in rs})
['baseline', 'cusum', 'ewma', 'sustained', 'threshold', 'trend']
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqm.domain.errors import RuleError
from sqm.domain.kpi_catalogue import shipped_catalogue
from sqm.methods.alert_rules import (
    Baseline,
    CusumRule,
    Direction,
    EwmaRule,
    Rule,
    StaticThreshold,
    Sustained,
    Trend,
)

DEFAULT_RULE_SET = Path(__file__).resolve().parents[2] / "domain" / "alert_rules_default.toml"
KINDS = ("threshold", "sustained", "baseline", "trend", "ewma", "cusum")
LEVELS = ("minor", "major", "critical")
GRAINS = ("hour", "day")
COMMON = ("name", "kpi", "level", "kind", "direction", "grain")

# Per kind: required parameters and optional ones (name → default).
PARAMS: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "threshold": (("fire", "recover"), {}),
    "sustained": (("bad", "k"), {"recover_k": None}),
    "baseline": (("z", "z_recover"), {"weeks": 4, "min_weeks": 2, "min_deviation": 0.0}),
    "trend": (("window", "alpha"), {}),
    "ewma": (("lam", "L"), {"train": 168, "mu0": None, "sigma": None, "min_sigma": 0.0}),
    "cusum": (("k", "h"), {"train": 168, "mu0": None, "sigma": None, "min_sigma": 0.0}),
}
INTEGERS = {"k", "recover_k", "weeks", "min_weeks", "window", "train"}


class RuleSetError(RuleError):
    """A rule set that cannot be used; the message names the rule and the field."""


@dataclass(frozen=True)
class RuleSpec:
    """One rule of a rule set: what it watches, how bad an alert is, and the rule."""

    name: str
    kpi: str
    level: str
    kind: str
    grain: str
    direction: Direction
    rule: Rule


def _number(where: str, key: str, value: object, kind: str) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RuleSetError(f"{where}, field {key!r}: must be a number, found {value!r}")
    if not math.isfinite(value):
        raise RuleSetError(f"{where}, field {key!r}: must be finite, found {value!r}")
    if key in INTEGERS and not (kind == "cusum" and key == "k"):  # CUSUM k is in σ
        if not float(value).is_integer():
            raise RuleSetError(f"{where}, field {key!r}: must be a whole number, found {value!r}")
        return int(value)
    return float(value)


def _check_ranges(where: str, kind: str, p: Mapping[str, Any]) -> None:
    """Ranges the rule classes would otherwise only reject (or misbehave on) at run time."""

    def bad(key: str, rule: str) -> RuleSetError:
        return RuleSetError(f"{where}, field {key!r}: {rule}, found {p[key]!r}")

    for key in ("k", "recover_k", "weeks", "min_weeks") if kind != "cusum" else ():
        if p.get(key) is not None and p[key] < 1:
            raise bad(key, "must be at least 1")
    if kind == "baseline":
        if p["z"] <= 0:
            raise bad("z", "must be positive")
        if not 0 <= p["z_recover"] <= p["z"]:
            raise bad("z_recover", f"must be between 0 and z ({p['z']})")
        if p["min_deviation"] < 0:
            raise bad("min_deviation", "must be 0 or more")
    if kind == "trend":
        if p["window"] < 4:
            raise bad("window", "must be at least 4 days")
        if not 0 < p["alpha"] < 1:
            raise bad("alpha", "must be between 0 and 1")
    if kind == "ewma":
        if not 0 < p["lam"] <= 1:
            raise bad("lam", "must be in (0, 1]")
        if p["L"] <= 0:
            raise bad("L", "must be positive")
    if kind == "cusum":
        if p["k"] < 0:
            raise bad("k", "must be 0 or more")
        if p["h"] <= 0:
            raise bad("h", "must be positive")
    if kind in ("ewma", "cusum"):
        if p["train"] < 2:
            raise bad("train", "must be at least 2")
        if p["sigma"] is not None and p["sigma"] <= 0:
            raise bad("sigma", "must be positive")
        if p["min_sigma"] < 0:
            raise bad("min_sigma", "must be 0 or more")


def _build(kind: str, p: Mapping[str, Any], d: Direction) -> Rule:
    if kind == "threshold":
        return StaticThreshold(p["fire"], p["recover"], d)
    if kind == "sustained":
        return Sustained(p["bad"], k=p["k"], direction=d, recover_k=p["recover_k"])
    if kind == "baseline":
        return Baseline(
            weeks=p["weeks"],
            z=p["z"],
            z_recover=p["z_recover"],
            direction=d,
            min_deviation=p["min_deviation"],
            min_weeks=p["min_weeks"],
        )
    if kind == "trend":
        return Trend(window=p["window"], alpha=p["alpha"], direction=d)
    if kind == "ewma":
        return EwmaRule(p["lam"], p["L"], d, p["train"], p["mu0"], p["sigma"], p["min_sigma"])
    return CusumRule(p["k"], p["h"], d, p["train"], p["mu0"], p["sigma"], p["min_sigma"])


def _rule(i: int, raw: object, catalogue: Mapping[str, Any]) -> RuleSpec:
    if not isinstance(raw, dict):
        raise RuleSetError(f"rule #{i}: must be a table, found {raw!r}")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise RuleSetError(f"rule #{i}, field 'name': must be a non-empty string, found {name!r}")
    where = f"rule {name!r} (#{i})"
    for key in ("kpi", "level", "kind"):
        if key not in raw:
            raise RuleSetError(f"{where}, field {key!r}: missing")
    kpi, level, kind = raw["kpi"], raw["level"], raw["kind"]
    if kpi not in catalogue:
        raise RuleSetError(f"{where}, field 'kpi': {kpi!r} is not in the KPI catalogue")
    if level not in LEVELS:
        raise RuleSetError(f"{where}, field 'level': must be one of {LEVELS}, found {level!r}")
    if kind not in KINDS:
        raise RuleSetError(f"{where}, field 'kind': must be one of {KINDS}, found {kind!r}")
    required, optional = PARAMS[kind]
    unknown = sorted(set(raw) - set(COMMON) - set(required) - set(optional))
    if unknown:
        raise RuleSetError(
            f"{where}, field {unknown[0]!r}: not a parameter of a {kind} rule "
            f"(allowed: {', '.join(required + tuple(optional))})"
        )
    p: dict[str, Any] = {}
    for key in required:
        if key not in raw:
            raise RuleSetError(f"{where}, field {key!r}: missing (required for a {kind} rule)")
        p[key] = _number(where, key, raw[key], kind)
    for key, default in optional.items():
        p[key] = default if raw.get(key) is None else _number(where, key, raw[key], kind)
    _check_ranges(where, kind, p)
    direction = raw.get("direction", catalogue[kpi].direction.value)
    if direction not in ("higher", "lower"):
        raise RuleSetError(
            f"{where}, field 'direction': must be 'higher' or 'lower', found {direction!r}"
        )
    d: Direction = "higher" if direction == "higher" else "lower"
    grain = raw.get("grain", "day" if kind == "trend" else "hour")
    if grain not in GRAINS or (kind == "trend" and grain != "day"):
        allowed = "'day'" if kind == "trend" else f"one of {GRAINS}"
        raise RuleSetError(f"{where}, field 'grain': must be {allowed}, found {grain!r}")
    try:
        rule = _build(kind, p, d)
    except RuleError as exc:  # e.g. recover on the wrong side of fire
        field = "recover" if kind == "threshold" else required[0]
        raise RuleSetError(f"{where}, field {field!r}: {exc}") from None
    return RuleSpec(name.strip(), kpi, level, kind, grain, d, rule)


def parse_rule_set(data: Mapping[str, Any]) -> list[RuleSpec]:
    """Validate a parsed rule-set document (``{"rule": [ {...}, ... ]}``) into rules.

    Raises :class:`RuleSetError` naming the rule and field on the first problem; rule
    names must be unique because an alert's identity is (rule, KPI, site).

    >>> parse_rule_set({"rule": [{"name": "rrc", "kpi": "rrc_setup_sr", "level": "major",
    ...     "kind": "threshold", "fire": 95.0, "recover": 98.0}]})[0].rule
    StaticThreshold(fire=95.0, recover=98.0, direction='higher')
    """
    unknown = sorted(set(data) - {"rule"})
    if unknown:
        raise RuleSetError(f"unknown top-level key {unknown[0]!r}: only [[rule]] tables")
    rules = data.get("rule")
    if not isinstance(rules, list) or not rules:
        raise RuleSetError("the rule set needs at least one [[rule]] table")
    catalogue = shipped_catalogue()
    out: list[RuleSpec] = []
    seen: set[str] = set()
    for i, raw in enumerate(rules, start=1):
        spec = _rule(i, raw, catalogue)
        if spec.name in seen:
            raise RuleSetError(f"rule {spec.name!r} (#{i}), field 'name': used twice")
        seen.add(spec.name)
        out.append(spec)
    return out


def load_rule_set(path: Path | str | None = None) -> list[RuleSpec]:
    """Read and validate a TOML rule set (default: the packaged one)."""
    p = Path(path) if path is not None else DEFAULT_RULE_SET
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise RuleSetError(f"{p.name}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise RuleSetError(f"{p}: cannot read the rule set: {exc.strerror}") from None
    try:
        return parse_rule_set(data)
    except RuleSetError as exc:
        raise RuleSetError(f"{p.name}: {exc}") from None


def group_rules(specs: Sequence[RuleSpec]) -> dict[tuple[str, str], list[RuleSpec]]:
    """The rules by (KPI, grain): each group runs on one KPI series per cell."""
    out: dict[tuple[str, str], list[RuleSpec]] = {}
    for s in specs:
        out.setdefault((s.kpi, s.grain), []).append(s)
    return out
