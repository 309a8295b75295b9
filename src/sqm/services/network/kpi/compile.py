"""Compile declared KPIs to SQL that DuckDB and Spark SQL both run.

Every KPI becomes, per group (unit × period),

    Σ num, Σ den, Σ samples  →  value = scale · Σ num / Σ den   if Σ samples ≥ min_samples
                                        NULL (guarded)           otherwise

with rows where either side of the ratio is missing left out of both sums, so a missing
counter never biases the ratio. Only the time-bucket expression differs by dialect.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqm.domain.errors import RuleError
from sqm.domain.kpi import Aggregation, Expression, KpiDefinition
from sqm.services.network.kpi.levels import Grain, Level


class Dialect(StrEnum):
    DUCKDB = "duckdb"
    SPARK = "spark"


class KpiQueryError(RuleError):
    """A KPI query asks for something the data cannot give; the message says what."""


def bucket_sql(grain: Grain, dialect: Dialect, column: str = "ts") -> str:
    """SQL for the start of the period that contains ``column``."""
    if grain is Grain.QUARTER_HOUR:
        if dialect is Dialect.DUCKDB:
            return f"time_bucket(INTERVAL 15 MINUTE, {column})"
        return f"timestamp_seconds(CAST(floor(unix_timestamp({column}) / 900) * 900 AS BIGINT))"
    part = {Grain.HOUR: "hour", Grain.DAY: "day", Grain.WEEK: "week", Grain.MONTH: "month"}[grain]
    return f"CAST(date_trunc('{part}', {column}) AS TIMESTAMP)"


def _ts_literal(t: datetime) -> str:
    return f"TIMESTAMP '{t:%Y-%m-%d %H:%M:%S}'"


@dataclass(frozen=True)
class CompiledKpi:
    """The SQL pieces of one KPI inside a grouped query."""

    code: str
    num: str
    den: str
    samples: str
    failures: str | None
    traffic: str | None
    scale: float
    min_samples: float


def _service_guard(kpi: KpiDefinition, sql: str) -> str:
    if not kpi.services:
        return sql
    names = ", ".join("'" + s.replace("'", "''") + "'" for s in kpi.services)
    return f"CASE WHEN service IN ({names}) THEN {sql} END"


def compile_kpi(kpi: KpiDefinition, nullable: Collection[str] | None = None) -> CompiledKpi:
    """Row-level SQL for one KPI's numerator, denominator, samples, failures and traffic.

    ``nullable``: the columns that may hold missing values (None: assume all may). The
    pair filter that keeps a row out of both sums when either side is missing is emitted
    only when a column of the ratio can be missing.
    """
    num, den = kpi.numerator.sql(), kpi.denominator.sql()
    if kpi.aggregation is Aggregation.TIME_WEIGHTED_MEAN:
        num = f"({num} * {den})"
    cols = set(kpi.numerator.columns) | set(kpi.denominator.columns)
    if nullable is None or cols & set(nullable):
        # Pair filter: a row counts only when both sides of the ratio are present.
        both = f"({num}) IS NOT NULL AND ({den}) IS NOT NULL"
        pnum = _service_guard(kpi, f"CASE WHEN {both} THEN {num} END")
        pden = _service_guard(kpi, f"CASE WHEN {both} THEN {den} END")
    else:
        pnum, pden = _service_guard(kpi, num), _service_guard(kpi, den)
    samples = pden if kpi.samples is None else _service_guard(kpi, kpi.samples.sql())

    def opt(e: Expression | None) -> str | None:
        return None if e is None else _service_guard(kpi, e.sql())

    return CompiledKpi(
        code=kpi.code,
        num=pnum,
        den=pden,
        samples=samples,
        failures=opt(kpi.failures),
        traffic=opt(kpi.traffic),
        scale=kpi.scale,
        min_samples=kpi.min_samples,
    )


def _needed(k: KpiDefinition, ranking: bool) -> list[str]:
    exprs = [k.numerator, k.denominator, k.samples]
    if ranking:
        exprs += [k.failures, k.traffic]
    out: list[str] = []
    for e in exprs:
        if e is not None:
            out.extend(c for c in e.columns if c not in out)
    return out


def _check(
    kpis: Sequence[KpiDefinition], available: Sequence[str], *, ranking: bool = False
) -> None:
    if not kpis:
        raise KpiQueryError("kpis: ask for at least one KPI")
    sources = {k.source for k in kpis}
    if len(sources) > 1:
        raise KpiQueryError(
            "kpis: all KPIs of one query must read the same source, found "
            + ", ".join(sorted(s.value for s in sources))
        )
    have = set(available)
    for k in kpis:
        missing = [c for c in _needed(k, ranking) if c not in have]
        if k.services and "service" not in have:
            missing.append("service")
        if missing:
            raise KpiQueryError(
                f"KPI {k.code!r} needs column(s) {', '.join(missing)} that the data lack"
            )


def unit_sql(level: Level, measurement_columns: Sequence[str]) -> tuple[str, bool]:
    """The SQL naming a row's unit at ``level`` and whether the inventory must be joined."""
    if level is Level.NETWORK:
        return "'all'", False
    if level.value in measurement_columns:
        return f"m.{level.value}", False
    if "cell_id" not in measurement_columns:
        raise KpiQueryError(f"level {level.name.lower()}: the data have neither it nor cell_id")
    return f"inv.{level.value}", True


def source_sql(
    level: Level,
    grain: Grain,
    dialect: Dialect,
    measurement_columns: Sequence[str],
    *,
    measurements: str,
    inventory: str,
    start: datetime | None,
    end: datetime | None,
) -> str:
    """FROM/WHERE part giving rows with ``unit`` and ``period`` columns added."""
    unit, join = unit_sql(level, measurement_columns)
    if grain is Grain.DAY and "day" in measurement_columns:
        # A dataset written by MeasurementDataset is partitioned by the day of ``ts``: the
        # partition value is that day, and reading it is cheaper than truncating ``ts``.
        bucket = "CAST(m.day AS TIMESTAMP)"
    else:
        bucket = bucket_sql(grain, dialect, "m.ts")
    where = []
    if start is not None:
        where.append(f"m.ts >= {_ts_literal(start)}")
    if end is not None:
        where.append(f"m.ts < {_ts_literal(end)}")
    sql = f"SELECT m.*, CAST({unit} AS STRING) AS unit, {bucket} AS period FROM {measurements} m"
    if join:
        sql += f" JOIN {inventory} inv ON m.cell_id = inv.cell_id"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return sql


def _sums(compiled: Sequence[CompiledKpi]) -> tuple[list[str], list[str], list[str]]:
    """Row sums, sums of sums, and the final value columns of compiled KPIs."""
    inner, middle, outer = [], [], []
    for k in compiled:
        c = k.code
        # Counters are summed as DOUBLE: exact for counts below 2^53, and DuckDB's integer
        # SUM widens to 128 bits, which halves the speed.
        inner += [
            f"SUM(CAST({k.num} AS DOUBLE)) AS {c}__num",
            f"SUM(CAST({k.den} AS DOUBLE)) AS {c}__den",
            f"SUM(CAST({k.samples} AS DOUBLE)) AS {c}__n",
        ]
        middle += [
            f"SUM({c}__num) AS {c}__num",
            f"SUM({c}__den) AS {c}__den",
            f"SUM({c}__n) AS {c}__n",
        ]
        guarded = f"(COALESCE({c}__n, 0) < {float(k.min_samples)!r})"
        outer += [
            f"CASE WHEN {guarded} OR {c}__den = 0 THEN NULL "
            f"ELSE {float(k.scale)!r} * {c}__num / {c}__den END AS {c}",
            f"{c}__num",
            f"{c}__den",
            f"{c}__n",
            f"{guarded} AS {c}__guarded",
        ]
    return inner, middle, outer


def cell_sums_sql(
    kpis: Sequence[KpiDefinition],
    grain: Grain,
    dialect: Dialect,
    measurement_columns: Sequence[str],
    *,
    measurements: str = "measurements",
    start: datetime | None = None,
    end: datetime | None = None,
    nullable: Collection[str] | None = None,
) -> str:
    """Per cell and period, the sums every KPI needs (``cell_id, period, <code>__num,
    <code>__den, <code>__n``): one scan of the measurements that all roll-ups share."""
    _check(kpis, measurement_columns)
    inner, _, _ = _sums([compile_kpi(x, nullable) for x in kpis])
    src = source_sql(
        Level.CELL,
        grain,
        dialect,
        measurement_columns,
        measurements=measurements,
        inventory="inventory",
        start=start,
        end=end,
    )
    return (
        f"SELECT unit AS cell_id, period, {', '.join(inner)} FROM ({src}) s GROUP BY unit, period"
    )


def rollup_sql(
    kpis: Sequence[KpiDefinition], level: Level, cell_sums: str, *, inventory: str = "inventory"
) -> str:
    """KPI values at ``level`` from a per-cell sums table or query (see
    :func:`cell_sums_sql`): sums of sums, then the ratio; same columns as :func:`kpi_sql`."""
    _, middle, outer = _sums([compile_kpi(x) for x in kpis])
    if level is Level.CELL:
        grouped = f"SELECT cell_id AS unit, period, {', '.join(middle)} FROM {cell_sums} c GROUP BY cell_id, period"
    elif level is Level.NETWORK:
        grouped = (
            f"SELECT 'all' AS unit, period, {', '.join(middle)} FROM {cell_sums} c GROUP BY period"
        )
    else:
        grouped = (
            f"SELECT CAST(inv.{level.value} AS STRING) AS unit, c.period, {', '.join(middle)} "
            f"FROM {cell_sums} c JOIN {inventory} inv ON c.cell_id = inv.cell_id "
            f"GROUP BY inv.{level.value}, c.period"
        )
    return f"SELECT unit, period, {', '.join(outer)} FROM ({grouped}) g ORDER BY unit, period"


def kpi_sql(
    kpis: Sequence[KpiDefinition],
    level: Level,
    grain: Grain,
    dialect: Dialect,
    measurement_columns: Sequence[str],
    *,
    measurements: str = "measurements",
    inventory: str = "inventory",
    start: datetime | None = None,
    end: datetime | None = None,
    nullable: Collection[str] | None = None,
) -> str:
    """One grouped query giving, per unit and period, each KPI's value and its sums.

    Output columns: ``unit, period`` then per KPI ``<code>`` (value or NULL when guarded),
    ``<code>__num``, ``<code>__den``, ``<code>__n`` (samples) and ``<code>__guarded``.
    Above the cell level the sums are first taken per cell and period and only then joined
    to the inventory and summed again (exact, as sums of sums, and the join sees one row
    per cell and period instead of one per measurement).
    """
    _check(kpis, measurement_columns)
    _, join = unit_sql(level, measurement_columns)
    if join:
        per_cell = cell_sums_sql(
            kpis,
            grain,
            dialect,
            measurement_columns,
            measurements=measurements,
            start=start,
            end=end,
            nullable=nullable,
        )
        return rollup_sql(kpis, level, f"({per_cell})", inventory=inventory)
    inner, _, outer = _sums([compile_kpi(x, nullable) for x in kpis])
    src = source_sql(
        level,
        grain,
        dialect,
        measurement_columns,
        measurements=measurements,
        inventory=inventory,
        start=start,
        end=end,
    )
    grouped = f"SELECT unit, period, {', '.join(inner)} FROM ({src}) s GROUP BY unit, period"
    return f"SELECT unit, period, {', '.join(outer)} FROM ({grouped}) g ORDER BY unit, period"


def busy_hour_sql(
    traffic: Expression,
    level: Level,
    dialect: Dialect,
    measurement_columns: Sequence[str],
    *,
    day_grain: Grain = Grain.DAY,
    measurements: str = "measurements",
    inventory: str = "inventory",
    start: datetime | None = None,
    end: datetime | None = None,
) -> str:
    """Per unit and day (or ``day_grain`` period): the clock hour with the most traffic.

    Output: ``unit, period, busy_hour (timestamp), traffic``. Ties go to the earlier hour.
    """
    src = source_sql(
        level,
        Grain.HOUR,
        dialect,
        measurement_columns,
        measurements=measurements,
        inventory=inventory,
        start=start,
        end=end,
    )
    day = bucket_sql(day_grain, dialect, "period")
    return (
        "SELECT unit, day AS period, period AS busy_hour, traffic FROM ("
        "SELECT unit, period, day, traffic, ROW_NUMBER() OVER "
        "(PARTITION BY unit, day ORDER BY traffic DESC, period ASC) AS rk FROM ("
        f"SELECT unit, period, {day} AS day, SUM({traffic.sql()}) AS traffic "
        f"FROM ({src}) s GROUP BY unit, period) h) r WHERE rk = 1 ORDER BY unit, period"
    )


def time_consistent_busy_hour_sql(
    traffic: Expression,
    level: Level,
    dialect: Dialect,
    measurement_columns: Sequence[str],
    *,
    measurements: str = "measurements",
    inventory: str = "inventory",
    start: datetime | None = None,
    end: datetime | None = None,
) -> str:
    """Per unit: the time-consistent busy hour (ITU-T E.500 §2.1), the hour of day whose
    traffic averaged over the days of the window is the highest.

    Output: ``unit, hour_of_day (0–23), mean_traffic, days``. Ties go to the earlier hour.
    """
    src = source_sql(
        level,
        Grain.HOUR,
        dialect,
        measurement_columns,
        measurements=measurements,
        inventory=inventory,
        start=start,
        end=end,
    )
    return (
        "SELECT unit, hour_of_day, mean_traffic, days FROM ("
        "SELECT unit, hour_of_day, mean_traffic, days, ROW_NUMBER() OVER "
        "(PARTITION BY unit ORDER BY mean_traffic DESC, hour_of_day ASC) AS rk FROM ("
        "SELECT unit, hour_of_day, SUM(traffic) / COUNT(*) AS mean_traffic, COUNT(*) AS days "
        "FROM (SELECT unit, period, CAST(hour(period) AS INTEGER) AS hour_of_day, "
        f"SUM({traffic.sql()}) AS traffic FROM ({src}) s GROUP BY unit, period) h "
        "GROUP BY unit, hour_of_day) a) r WHERE rk = 1 ORDER BY unit"
    )


def worst_cells_sql(
    kpi: KpiDefinition,
    dialect: Dialect,
    measurement_columns: Sequence[str],
    *,
    level: Level = Level.CELL,
    rank_by: str = "failures",
    limit: int = 20,
    measurements: str = "measurements",
    inventory: str = "inventory",
    start: datetime | None = None,
    end: datetime | None = None,
) -> str:
    """Units ranked by the failures they contribute to ``kpi`` (or by impact = failures ×
    traffic), over the whole window. Units under the minimum-sample guard are kept, with
    their flag, because a cell with few attempts and many failures is still worth a look.

    Output: ``rank, unit, failures, traffic, impact, value, samples, guarded,
    share_of_failures``.
    """
    if kpi.failures is None:
        raise KpiQueryError(f"KPI {kpi.code!r} declares no failures expression to rank by")
    if rank_by not in ("failures", "impact"):
        raise KpiQueryError(f"rank_by must be 'failures' or 'impact', found {rank_by!r}")
    if limit < 1:
        raise KpiQueryError(f"limit must be at least 1, found {limit}")
    _check([kpi], measurement_columns, ranking=True)
    k = compile_kpi(kpi)
    src = source_sql(
        level,
        Grain.MONTH,
        dialect,
        measurement_columns,
        measurements=measurements,
        inventory=inventory,
        start=start,
        end=end,
    )
    traffic = k.traffic or k.den
    order = "failures DESC, unit" if rank_by == "failures" else "impact DESC, failures DESC, unit"
    return (
        f"SELECT ROW_NUMBER() OVER (ORDER BY {order}) AS rank, unit, failures, traffic, impact, "
        f"value, samples, guarded, failures / NULLIF(SUM(failures) OVER (), 0) AS share_of_failures "
        "FROM (SELECT unit, failures, traffic, failures * traffic AS impact, samples, "
        f"(COALESCE(samples, 0) < {float(k.min_samples)!r}) AS guarded, "
        f"CASE WHEN den = 0 THEN NULL ELSE {float(k.scale)!r} * num / den END AS value FROM ("
        f"SELECT unit, CAST(SUM({k.failures}) AS DOUBLE) AS failures, "
        f"CAST(SUM({traffic}) AS DOUBLE) AS traffic, SUM({k.num}) AS num, SUM({k.den}) AS den, "
        f"SUM({k.samples}) AS samples FROM ({src}) s GROUP BY unit) g) w "
        f"ORDER BY rank LIMIT {int(limit)}"
    )
