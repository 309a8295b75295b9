"""Read weight-profile files (CSV or xlsx): one row per (profile, node), parsed and checked
cell by cell here; :func:`read_weight_profiles` returns the profiles' rows and an
:class:`~sqm.ingest.errors.ImportReport`. Checking them against the stored indicator systems
and checklists and writing them is
:func:`sqm.services.evaluation.weight_profile.import_weight_profiles`.

A profile weighs an indicator-system version (``system_code``; upserted by profile code) or
an inspection checklist version (``checklist_code``): then the rows weigh the checklist's
indicators (node_code = indicator code, together 1), the key is tier × in/out of province ×
stage × traffic band (high/normal/low, all required), and importing sets the weights in force
for that key — a new revision unless the active one already has these weights; the file's
profile code only groups the rows.

The rows of one profile are its **whole** set of local weights (a weight of the profile
that is not in the file is removed). Headers (Chinese or English):

===============  ===============  ======================================================
field            Chinese header   content
===============  ===============  ======================================================
profile_code     权重方案编码      code of the profile (required)
profile_name_zh  权重方案名称      Chinese name (required for a new profile)
profile_name_en  权重方案英文名称  English name
system_code      指标体系编码      indicator system the weights are over (required)
system_version   指标体系版本      its version; empty: the latest version
checklist_code   检查表编码        or: the inspection checklist the weights are over
checklist_version 检查表版本       its version; empty: the latest version
tier             门店等级          store tier it applies to (旗舰核心店/一级店/超市店/合作店
                                   or flagship_core/…); empty: every tier
in_province      省内              是/否; empty: in and out of the province
traffic_band     客流档位          high/low or 高/低 (checklists also normal/中); empty:
                                   every band
stage            阶段              early/mature or 初期/深化期; empty: every stage
valid_from       生效期间          first period: 2026-01, 2026Q1 or 2026 (new profiles)
valid_to         失效期间          last period; empty: open-ended
method           方法              manual/ahp/group_ahp/delphi/entropy/critic/pca/
                                   customer_importance/combined or 人工录入/层次分析法/…
                                   (empty: manual)
inputs           方法输入          what the method was fed, a JSON object (empty: kept)
note             说明              how the weights were made (checklist profiles)
node_code        指标编码          code of the weighted node (required)
weight           权重              local weight among its siblings, 0…1 (or 0%…100%)
===============  ===============  ======================================================

Profile-level cells may be repeated on every row or given once (on any row of the
profile); rows that give them must agree. The local weights of the siblings under each
parent must sum to 1 (within 0.001).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqm.domain.indicator import WeightMethod
from sqm.domain.org import TIER_LABELS
from sqm.domain.period import PeriodSpec
from sqm.ingest.errors import ImportReport
from sqm.ingest.tabular import Column, RowReader, Table, choices, read_table

COLUMNS: tuple[Column, ...] = (
    Column("profile_code", "权重方案编码", ("方案编码", "profile", "profile code"), required=True),
    Column("profile_name_zh", "权重方案名称", ("方案名称", "profile name")),
    Column("profile_name_en", "权重方案英文名称", ("方案英文名称", "profile name (en)")),
    Column("system_code", "指标体系编码", ("体系编码", "system", "system code")),
    Column("system_version", "指标体系版本", ("体系版本", "version", "system version")),
    Column("checklist_code", "检查表编码", ("检查表", "checklist", "checklist code")),
    Column("checklist_version", "检查表版本", ("checklist version",)),
    Column("tier", "门店等级", ("等级", "store tier", "store_tier")),
    Column("in_province", "省内", ("是否省内", "in province")),
    Column("traffic_band", "客流档位", ("客流等级", "traffic band")),
    Column("stage", "阶段", ("实施阶段", "programme stage")),
    Column("valid_from", "生效期间", ("起始期间", "valid from")),
    Column("valid_to", "失效期间", ("截止期间", "valid to")),
    Column("method", "方法", ("赋权方法", "权重方法", "weight method")),
    Column("inputs", "方法输入", ("输入", "method inputs")),
    Column("note", "说明", ("备注", "method note")),
    Column(
        "node_code", "指标编码", ("节点编码", "编码", "node", "code", "node code"), required=True
    ),
    Column("weight", "权重", ("本地权重", "local weight"), required=True),
)

TIER_CHOICES = choices((t.value, v) for t, v in TIER_LABELS.items())
BAND_LABELS = {"high": "高", "normal": "中", "low": "低"}
BAND_CHOICES = choices(
    [("high", ["高", "高客流"]), ("normal", ["中", "一般"]), ("low", ["低", "低客流"])]
)
STAGE_LABELS = {"early": "初期", "mature": "深化期"}
STAGE_CHOICES = choices([("early", ["初期", "起步期"]), ("mature", ["深化期", "成熟期"])])
METHOD_LABELS: dict[str, str] = {
    "manual": "人工录入",
    "ahp": "层次分析法",
    "group_ahp": "群组层次分析法",
    "delphi": "德尔菲法",
    "entropy": "熵权法",
    "critic": "CRITIC法",
    "pca": "主成分法",
    "customer_importance": "顾客导出重要性",
    "combined": "主客观组合",
}
METHOD_CHOICES = choices(
    [(m.value, [METHOD_LABELS[m.value]]) for m in WeightMethod]
    + [("manual", ["手工", "手工录入", "专家打分"]), ("critic", ["critic 法"])]
)
#: Profile-level fields shared by the rows of one profile.
PROFILE_FIELDS = (
    "profile_name_zh",
    "profile_name_en",
    "system_code",
    "system_version",
    "checklist_code",
    "checklist_version",
    "tier",
    "in_province",
    "traffic_band",
    "stage",
    "valid_from",
    "valid_to",
    "method",
    "inputs",
    "note",
)


@dataclass
class ProfileRows:
    """The rows of one profile: shared fields (value and the row that gave it), weights."""

    code: str
    first_line: int
    shared: dict[str, tuple[Any, int]] = field(default_factory=dict)
    weights: dict[str, tuple[float, int]] = field(default_factory=dict)


_MISSING = object()
_KEPT_WHEN_EMPTY = frozenset({"profile_name_zh", "valid_from", "inputs"})


def _parse_shared(r: RowReader) -> dict[str, Any]:
    """Profile-level cells of a row that are filled in (empty cells say nothing)."""
    out: dict[str, Any] = {}
    for f in ("profile_name_zh", "profile_name_en", "system_code", "checklist_code", "note"):
        t = r.text(f, max_len=2000 if f == "note" else 200)
        if t is not None:
            out[f] = t
    for f in ("system_version", "checklist_version"):
        if r.raw(f) not in (None, ""):
            v = r.integer(f, lo=1)
            out[f] = v if v is not None else _MISSING
    specs: list[tuple[str, Any]] = [
        ("tier", lambda: r.choice("tier", TIER_CHOICES, what="store tier")),
        ("in_province", lambda: r.boolean("in_province")),
        ("traffic_band", lambda: r.choice("traffic_band", BAND_CHOICES, what="traffic band")),
        ("stage", lambda: r.choice("stage", STAGE_CHOICES, what="stage")),
        ("valid_from", lambda: r.period("valid_from")),
        ("valid_to", lambda: r.period("valid_to")),
        ("method", lambda: r.choice("method", METHOD_CHOICES, what="method")),
    ]
    for f, read in specs:
        if r.raw(f) not in (None, "") and str(r.raw(f)).strip():
            value = read()
            out[f] = value if value is not None else _MISSING
    text = r.text("inputs")
    if text is not None:
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            r.error("inputs", text, "not_json", f"not JSON: {exc.msg} at character {exc.pos}")
            obj = _MISSING
        if obj is not _MISSING and not isinstance(obj, dict):
            r.error("inputs", text, "not_json", "expected a JSON object {...}")
            obj = _MISSING
        out["inputs"] = obj
    return out


def _collect(report: ImportReport, table: Table) -> dict[str, ProfileRows]:
    profiles: dict[str, ProfileRows] = {}
    for row in table.rows:
        r = RowReader(row, table, report)
        code = r.text("profile_code", required=True, max_len=64)
        node = r.text("node_code", required=True, max_len=64)
        weight = r.number("weight", lo=0, hi=1, required=True, percent=True)
        shared = _parse_shared(r)
        if code is None:
            continue
        prof = profiles.setdefault(code, ProfileRows(code, row.number))
        for f, value in shared.items():
            if value is _MISSING:
                continue
            have = prof.shared.get(f)
            if have is None:
                prof.shared[f] = (value, row.number)
            elif have[0] != value:
                r.error(
                    f,
                    r.raw(f),
                    "conflicting_value",
                    f"profile {code} has {have[0]!r} here in row {have[1]}",
                )
        if node is None or weight is None:
            continue
        if node in prof.weights:
            r.error(
                "node_code",
                node,
                "duplicate_code",
                f"profile {code} already weighs {node} in row {prof.weights[node][1]}",
            )
            continue
        prof.weights[node] = (weight, row.number)
    return profiles


@dataclass
class WeightFile:
    """A read weight file: its table (headers as given), the profiles' rows by code and the
    report of every bad cell so far (more are added when the profiles meet the store)."""

    table: Table
    profiles: dict[str, ProfileRows]
    report: ImportReport


def _check_kind(report: ImportReport, table: Table, prof: ProfileRows) -> None:
    """A profile names an indicator system or a checklist; a checklist profile has a whole key
    and no periods (it weighs its checklist version)."""
    col = table.headers.get
    has_system, has_list = "system_code" in prof.shared, "checklist_code" in prof.shared
    if has_system == has_list:
        report.add(
            prof.first_line,
            col("system_code", "system_code"),
            "",
            "required",
            f"profile {prof.code} needs either an indicator system (指标体系编码 / system_code) "
            "or a checklist (检查表编码 / checklist_code)" + (", not both" if has_system else ""),
        )
        return
    if has_system:
        band = prof.shared.get("traffic_band")
        if band is not None and band[0] == "normal":
            report.add(
                band[1],
                col("traffic_band", "traffic_band"),
                band[0],
                "unknown_value",
                "an indicator-system profile's traffic band is high, low or empty",
            )
        return
    for f in ("tier", "stage", "traffic_band"):
        if f not in prof.shared:
            report.add(
                prof.first_line,
                col(f, f),
                "",
                "required",
                f"no row gives the {f} of checklist profile {prof.code}",
            )
    for f in ("valid_from", "valid_to"):
        if f in prof.shared:
            report.add(
                prof.shared[f][1],
                col(f, f),
                prof.shared[f][0],
                "not_allowed",
                f"checklist profile {prof.code} weighs its checklist version; leave {f} empty",
            )


def check_periods(report: ImportReport, table: Table, prof: ProfileRows, exists: bool) -> None:
    """An indicator-system profile's periods: the first one given (for a new profile), and
    the last one not before it."""
    col = table.headers.get
    vf, vt = prof.shared.get("valid_from"), prof.shared.get("valid_to")
    if vf is None and not exists:
        report.add(
            prof.first_line,
            col("valid_from", "valid_from"),
            "",
            "required",
            f"no row gives the first period (生效期间) of profile {prof.code}",
        )
    elif (
        vf is not None
        and vt is not None
        and PeriodSpec.parse(vt[0]).end < PeriodSpec.parse(vf[0]).start
    ):
        report.add(
            vt[1],
            col("valid_to", "valid_to"),
            vt[0],
            "out_of_range",
            f"ends before it starts ({vf[0]})",
        )


def read_weight_profiles(data: bytes, filename: str, *, dry_run: bool = False) -> WeightFile:
    r"""Parse a weight file and check what the file alone can tell: cells, repeated profile
    fields that disagree, doubled nodes, the kind of each profile. Nothing is read from or
    written to the store.

    >>> wf = read_weight_profiles("profile_code,system_code,node_code,weight\nP,S,A,1\n".encode(), "w.csv")
    >>> wf.report.ok, list(wf.profiles), wf.profiles["P"].weights
    (True, ['P'], {'A': (1.0, 2)})
    """
    report = ImportReport(kind="weights", dry_run=dry_run)
    table = read_table(data, filename, COLUMNS, report)
    profiles = _collect(report, table)
    for prof in profiles.values():
        _check_kind(report, table, prof)
    return WeightFile(table, profiles, report)
