"""The network KPI catalogue: reads declared KPIs from TOML into :class:`KpiDefinition`.

The shipped catalogue (``kpi_catalogue.toml`` beside this module) covers 3GPP TS 32.450 /
TS 28.554 accessibility, retainability, mobility, integrity and availability from cell
counters, and the ETSI TS 102 250-2 service parameters from active tests. An operator can
load its own file with the same fields.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from sqm.domain.indicator import Direction
from sqm.domain.kpi import (
    Aggregation,
    Expression,
    KpiDefinition,
    KpiDefinitionError,
    KpiFamily,
    MeasurementSource,
    Thresholds,
)

SHIPPED_CATALOGUE = Path(__file__).with_name("kpi_catalogue.toml")

_REQUIRED = (
    "label_en",
    "label_zh",
    "family",
    "source",
    "aggregation",
    "numerator",
    "denominator",
    "unit",
    "direction",
    "standard",
)
_OPTIONAL = (
    "scale",
    "thresholds",
    "min_samples",
    "samples",
    "failures",
    "traffic",
    "services",
    "technologies",
    "description",
)


def _enum(kind: type[Any], value: Any, where: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise KpiDefinitionError(f"{where}: {value!r} is not one of {allowed}") from None


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise KpiDefinitionError(f"{where}: must be a number, found {value!r}")
    return float(value)


def definition_from_mapping(code: str, entry: Mapping[str, Any]) -> KpiDefinition:
    """Build one :class:`KpiDefinition` from its TOML table, checking every field.

    >>> d = definition_from_mapping("x", {"label_en": "X", "label_zh": "X", "family": "mobility",
    ...     "source": "counters", "aggregation": "ratio_of_sums", "numerator": "ho_succ",
    ...     "denominator": "ho_att", "unit": "%", "direction": "higher", "standard": "TS 32.450"})
    >>> d.columns
    ('ho_succ', 'ho_att')
    """
    where = f"KPI {code!r}"
    missing = [k for k in _REQUIRED if k not in entry]
    if missing:
        raise KpiDefinitionError(f"{where}: missing field(s) {', '.join(missing)}")
    unknown = sorted(set(entry) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise KpiDefinitionError(f"{where}: unknown field(s) {', '.join(unknown)}")

    def expr(key: str) -> Expression | None:
        if key not in entry:
            return None
        value = entry[key]
        if not isinstance(value, str):
            raise KpiDefinitionError(f"{where}.{key}: must be an expression string")
        return Expression.parse(value, where=f"{where}.{key}")

    thresholds = None
    if "thresholds" in entry:
        t = entry["thresholds"]
        if not isinstance(t, list) or len(t) != 2:
            raise KpiDefinitionError(f"{where}.thresholds: must be [target, critical], found {t!r}")
        thresholds = Thresholds(
            _number(t[0], f"{where}.thresholds"), _number(t[1], f"{where}.thresholds")
        )
    direction = _enum(Direction, entry["direction"], f"{where}.direction")
    if thresholds is not None:
        worse_is_lower = direction is Direction.HIGHER_IS_BETTER
        if (
            (thresholds.critical > thresholds.target)
            if worse_is_lower
            else (thresholds.critical < thresholds.target)
        ):
            raise KpiDefinitionError(
                f"{where}.thresholds: critical {thresholds.critical} must be on the bad side of "
                f"target {thresholds.target} for direction {direction.value!r}"
            )
    numerator, denominator = expr("numerator"), expr("denominator")
    assert numerator is not None and denominator is not None
    min_samples = _number(entry.get("min_samples", 0), f"{where}.min_samples")
    if min_samples < 0:
        raise KpiDefinitionError(f"{where}.min_samples: must be 0 or more, found {min_samples}")
    return KpiDefinition(
        code=code,
        label_en=str(entry["label_en"]),
        label_zh=str(entry["label_zh"]),
        family=_enum(KpiFamily, entry["family"], f"{where}.family"),
        source=_enum(MeasurementSource, entry["source"], f"{where}.source"),
        aggregation=_enum(Aggregation, entry["aggregation"], f"{where}.aggregation"),
        numerator=numerator,
        denominator=denominator,
        unit=str(entry["unit"]),
        direction=direction,
        standard=str(entry["standard"]),
        scale=_number(entry.get("scale", 1.0), f"{where}.scale"),
        thresholds=thresholds,
        min_samples=min_samples,
        samples=expr("samples"),
        failures=expr("failures"),
        traffic=expr("traffic"),
        services=tuple(str(s) for s in entry.get("services", ())),
        technologies=tuple(str(s) for s in entry.get("technologies", ())),
        description=str(entry.get("description", "")),
    )


def load_catalogue(path: Path | str) -> dict[str, KpiDefinition]:
    """Read a KPI catalogue TOML file (``[kpi.<code>]`` tables) into definitions by code.

    >>> "drop_rate" in load_catalogue(SHIPPED_CATALOGUE)
    True
    """
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise KpiDefinitionError(f"{p.name}: not valid TOML: {exc}") from exc
    table = data.get("kpi")
    if not isinstance(table, dict) or not table:
        raise KpiDefinitionError(f"{p.name}: no [kpi.<code>] tables")
    return {code: definition_from_mapping(code, entry) for code, entry in table.items()}


@cache
def shipped_catalogue() -> dict[str, KpiDefinition]:
    """The catalogue shipped with SQM (read once).

    >>> shipped_catalogue()["ho_sr"].label("zh")
    '切换成功率'
    """
    return load_catalogue(SHIPPED_CATALOGUE)


def kpis_for(source: MeasurementSource) -> list[KpiDefinition]:
    """The shipped KPIs that read one measurement source (counters or tests)."""
    return [k for k in shipped_catalogue().values() if k.source is source]
