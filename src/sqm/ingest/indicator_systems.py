"""Read indicator systems (指标体系) from CSV or xlsx: one row per node, to be upserted by
system code and node code through :func:`sqm.services.evaluation.indicator_system.upsert_system`
(:func:`sqm.services.evaluation.indicator_system.apply_indicator_systems` writes what
:func:`read_indicator_systems` validated; :func:`sqm.services.imports.import_indicator_systems`
does both).

A file may hold several systems; the rows of one system are its **whole** tree (a node of
the latest version that is not in the file is deleted, with its weights). A published
version is never edited: if the rows differ from it, a new draft version is made; if they
are the same, nothing happens. Headers (Chinese or English):

===============  ===============  ======================================================
field            Chinese header   content
===============  ===============  ======================================================
system_code      指标体系编码      code of the system (required)
system_name_zh   指标体系名称      its Chinese name (required on at least one row)
system_name_en   指标体系英文名称  its English name
code             编码              node code, unique within the system (required)
parent_code      上级编码          parent node code; empty for a dimension
level            层级              dimension/indicator/item or 维度/指标/考核项
                                   (also 一级指标/二级指标/三级指标) (required)
name_zh          名称              Chinese name (required)
name_en          英文名称          English name
definition_zh    定义              definition (Chinese)
definition_en    英文定义          definition (English)
source           来源              survey_item/inspection_item/network_kpi/
                                   complaint_metric/manual or 顾客调查/暗访检查/网络指标/
                                   投诉指标/手工录入
source_ref       来源引用          what the source calls it (a survey item, a KPI code…)
direction        方向              higher/lower or 越高越好/越低越好 (empty: higher)
scale_min        最小值            lower end of the scale
scale_max        最大值            upper end of the scale (≥ 最小值)
unit             单位              unit of measurement (%, 分, ms…)
target           目标值            target
warning          预警值            warning threshold
is_veto          一票否决          是/否 (empty: no)
===============  ===============  ======================================================

System-level cells (code, names) are repeated on every row or given on the first row of
the system only; rows that give them must agree. An absent column leaves that field of
existing nodes as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqm.domain.indicator import LEVEL_ORDER, NodeLevel
from sqm.ingest.errors import ImportReport
from sqm.ingest.tabular import Column, RowReader, Table, choices, read_table

COLUMNS: tuple[Column, ...] = (
    Column("system_code", "指标体系编码", ("体系编码", "system", "system code"), required=True),
    Column("system_name_zh", "指标体系名称", ("体系名称", "system name")),
    Column("system_name_en", "指标体系英文名称", ("体系英文名称", "system name (en)")),
    Column("code", "编码", ("指标编码", "node_code", "node code"), required=True),
    Column("parent_code", "上级编码", ("上级指标编码", "parent", "parent code")),
    Column("level", "层级", ("级别", "指标层级"), required=True),
    Column("name_zh", "名称", ("指标名称", "中文名称", "name"), required=True),
    Column("name_en", "英文名称", ("指标英文名称", "english name")),
    Column("definition_zh", "定义", ("指标定义", "说明", "definition")),
    Column("definition_en", "英文定义", ("definition (en)",)),
    Column("source", "来源", ("数据来源",)),
    Column("source_ref", "来源引用", ("来源编码", "source ref", "source reference")),
    Column("direction", "方向", ("指标方向", "极性")),
    Column("scale_min", "最小值", ("量程下限", "min", "scale min")),
    Column("scale_max", "最大值", ("量程上限", "max", "scale max")),
    Column("unit", "单位", ("计量单位",)),
    Column("target", "目标值", ("目标",)),
    Column("warning", "预警值", ("预警阈值", "警戒值", "warning threshold")),
    Column("is_veto", "一票否决", ("否决项", "veto", "is veto")),
)

LEVEL_LABELS: dict[str, tuple[str, str]] = {
    "dimension": ("维度", "Dimension"),
    "indicator": ("指标", "Indicator"),
    "item": ("考核项", "Item"),
}
LEVEL_CHOICES = choices(
    [
        ("dimension", ["维度", "一级指标", "一级"]),
        ("indicator", ["指标", "二级指标", "二级"]),
        ("item", ["考核项", "三级指标", "三级", "考核点", "检查项目"]),
    ]
)
SOURCE_LABELS: dict[str, str] = {
    "survey_item": "顾客调查",
    "inspection_item": "暗访检查",
    "network_kpi": "网络指标",
    "complaint_metric": "投诉指标",
    "manual": "手工录入",
}
SOURCE_CHOICES = choices(
    [
        ("survey_item", ["顾客调查", "问卷", "问卷题目", "调查"]),
        ("inspection_item", ["暗访检查", "检查", "检查项", "暗访"]),
        ("network_kpi", ["网络指标", "网络 kpi", "网络kpi", "kpi"]),
        ("complaint_metric", ["投诉指标", "投诉"]),
        ("manual", ["手工录入", "人工录入", "手工"]),
    ]
)
DIRECTION_LABELS = {"higher": "越高越好", "lower": "越低越好"}
DIRECTION_CHOICES = choices(
    [
        ("higher", ["越高越好", "正向", "高优", "higher_is_better", "higher is better"]),
        ("lower", ["越低越好", "负向", "逆向", "低优", "lower_is_better", "lower is better"]),
    ]
)
_TEXT_FIELDS = ("name_en", "definition_zh", "definition_en")
_OPTIONAL_TEXT = (("source_ref", 128), ("unit", 32))
_NUMBERS = ("scale_min", "scale_max", "target", "warning")


@dataclass
class NodeRow:
    """A parsed node row: its line, its system's cells and the node's values."""

    line: int
    system_code: str
    system_name_zh: str | None
    system_name_en: str | None
    values: dict[str, Any]


@dataclass
class SystemRows:
    """All rows of one system in the file."""

    code: str
    rows: list[NodeRow] = field(default_factory=list)
    name_zh: str | None = None
    name_en: str | None = None


def _parse(r: RowReader) -> NodeRow | None:
    system_code = r.text("system_code", required=True, max_len=64)
    code = r.text("code", required=True, max_len=64)
    v: dict[str, Any] = {"code": code, "parent_code": r.text("parent_code", max_len=64)}
    v["level"] = r.choice("level", LEVEL_CHOICES, required=True, what="level")
    v["name_zh"] = r.text("name_zh", required=True, max_len=200)
    for f in _TEXT_FIELDS:
        if r.has(f):
            v[f] = r.text(f, max_len=200 if f == "name_en" else None) or ""
    if r.has("source"):
        v["source"] = r.choice("source", SOURCE_CHOICES, what="source")
    for f, n in _OPTIONAL_TEXT:
        if r.has(f):
            v[f] = r.text(f, max_len=n)
    if r.has("direction"):
        v["direction"] = r.choice("direction", DIRECTION_CHOICES, what="direction") or "higher"
    for f in _NUMBERS:
        if r.has(f):
            v[f] = r.number(f)
    if r.has("is_veto"):
        v["is_veto"] = bool(r.boolean("is_veto"))
    lo, hi = v.get("scale_min"), v.get("scale_max")
    if lo is not None and hi is not None and lo > hi:
        r.error("scale_max", r.raw("scale_max"), "out_of_range", f"must be ≥ 最小值 {lo:g}")
    if system_code is None or code is None:
        return None
    return NodeRow(
        r.row.number,
        system_code,
        r.text("system_name_zh", max_len=200),
        r.text("system_name_en", max_len=200),
        v,
    )


def _shared(
    report: ImportReport, table: Table, sys: SystemRows, row: NodeRow, name: str, value: str | None
) -> None:
    """Set a system-level value from a row, or report that it disagrees with an earlier one."""
    if value is None:
        return
    have = getattr(sys, name)
    if have is None:
        setattr(sys, name, value)
    elif have != value:
        report.add(
            row.line,
            table.headers.get(name if name != "name_zh" else "system_name_zh", name),
            value,
            "conflicting_value",
            f"system {sys.code} is already named {have!r} in an earlier row",
        )


def _check_tree(report: ImportReport, table: Table, sys: SystemRows) -> None:
    col = table.headers.get
    by_code: dict[str, NodeRow] = {}
    for row in sys.rows:
        c = row.values["code"]
        if c in by_code:
            report.add(
                row.line,
                col("code", "code"),
                c,
                "duplicate_code",
                f"code {c} already appears in row {by_code[c].line} of system {sys.code}",
            )
        else:
            by_code[c] = row
    for row in by_code.values():
        level, parent = row.values["level"], row.values["parent_code"]
        if level is None:
            continue
        if parent is None:
            if level != NodeLevel.DIMENSION:
                report.add(
                    row.line,
                    col("parent_code", "parent_code"),
                    "",
                    "parent_kind",
                    f"a {level} needs a parent; only a dimension sits at the root",
                )
            continue
        pr = by_code.get(parent)
        if pr is None:
            report.add(
                row.line,
                col("parent_code", "parent_code"),
                parent,
                "parent_not_found",
                f"no node {parent} in system {sys.code} in this file",
            )
            continue
        plevel = pr.values["level"]
        if (
            plevel is not None
            and LEVEL_ORDER[NodeLevel(level)] != LEVEL_ORDER[NodeLevel(plevel)] + 1
        ):
            report.add(
                row.line,
                col("parent_code", "parent_code"),
                parent,
                "parent_kind",
                f"a {level} cannot sit under {parent} (a {plevel}): dimension → indicator → item",
            )
    for row in by_code.values():
        seen, cur = {row.values["code"]}, row.values["parent_code"]
        while cur is not None and cur in by_code:
            if cur == row.values["code"]:
                report.add(
                    row.line,
                    col("parent_code", "parent_code"),
                    row.values["parent_code"],
                    "cycle",
                    f"{row.values['code']} would be its own ancestor (through {cur})",
                )
                break
            if cur in seen:
                break  # a cycle above this node, reported on its own rows
            seen.add(cur)
            cur = by_code[cur].values["parent_code"]
    if sys.name_zh is None and sys.rows:
        report.add(
            sys.rows[0].line,
            col("system_name_zh", "system_name_zh"),
            "",
            "required",
            f"no row names system {sys.code} (指标体系名称 / system_name_zh)",
        )


@dataclass
class IndicatorImport:
    """A read and validated indicator-system file: the report and, when it has no error,
    the rows of each system (what
    :func:`sqm.services.evaluation.indicator_system.apply_indicator_systems` writes).
    ``names_en_given`` says whether the file has the system English name column (absent:
    stored English names are kept)."""

    report: ImportReport
    systems: list[SystemRows]
    names_en_given: bool


def read_indicator_systems(data: bytes, filename: str, *, dry_run: bool = False) -> IndicatorImport:
    """Read and validate the whole file (each system's tree on its own; nothing is read
    from or written to the database); with any error the systems are empty.

    >>> # parsed = read_indicator_systems(Path("store_sq.csv").read_bytes(), "store_sq.csv")
    >>> # [s.code for s in parsed.systems] → ['STORE_SQ']
    """
    report = ImportReport(kind="indicators", dry_run=dry_run)
    table = read_table(data, filename, COLUMNS, report)
    systems: dict[str, SystemRows] = {}
    for row in table.rows:
        parsed = _parse(RowReader(row, table, report))
        if parsed is None:
            continue
        sys = systems.setdefault(parsed.system_code, SystemRows(parsed.system_code))
        sys.rows.append(parsed)
        _shared(report, table, sys, parsed, "name_zh", parsed.system_name_zh)
        _shared(report, table, sys, parsed, "name_en", parsed.system_name_en)
    for sys in systems.values():
        _check_tree(report, table, sys)
    good = list(systems.values()) if report.ok else []
    return IndicatorImport(report, good, table.has("system_name_en"))
