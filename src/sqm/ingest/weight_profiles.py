"""Import weight profiles from CSV or xlsx: one row per (profile, node), upserted by
profile code through :func:`sqm.services.evaluation.weight_profile.upsert_profile`.

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
tier             门店等级          store tier it applies to (旗舰核心店/一级店/超市店/合作店
                                   or flagship_core/…); empty: every tier
in_province      省内              是/否; empty: in and out of the province
traffic_band     客流档位          high/low or 高/低; empty: every band
stage            阶段              early/mature or 初期/深化期; empty: every stage
valid_from       生效期间          first period: 2026-01, 2026Q1 or 2026 (new profiles)
valid_to         失效期间          last period; empty: open-ended
method           方法              manual/ahp/group_ahp/delphi/entropy/critic/pca/
                                   customer_importance/combined or 人工录入/层次分析法/…
                                   (empty: manual)
inputs           方法输入          what the method was fed, a JSON object (empty: kept)
node_code        指标编码          code of the weighted node (required)
weight           权重              local weight among its siblings, 0…1 (or 0%…100%)
===============  ===============  ======================================================

Profile-level cells may be repeated on every row or given once (on any row of the
profile); rows that give them must agree. The local weights of the siblings under each
parent must sum to 1 (within 0.001).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sqm.domain.indicator import WeightMethod
from sqm.domain.org import TIER_LABELS
from sqm.domain.period import PeriodSpec
from sqm.ingest.errors import ImportRejected, ImportReport
from sqm.ingest.tabular import Column, RowReader, Table, choices, read_table
from sqm.services.evaluation.weight_profile import WeightRuleError, upsert_profile
from sqm.store.models import IndicatorSystem, WeightProfile

Progress = Callable[[int, int], None]

COLUMNS: tuple[Column, ...] = (
    Column("profile_code", "权重方案编码", ("方案编码", "profile", "profile code"), required=True),
    Column("profile_name_zh", "权重方案名称", ("方案名称", "profile name")),
    Column("profile_name_en", "权重方案英文名称", ("方案英文名称", "profile name (en)")),
    Column("system_code", "指标体系编码", ("体系编码", "system", "system code"), required=True),
    Column("system_version", "指标体系版本", ("体系版本", "version", "system version")),
    Column("tier", "门店等级", ("等级", "store tier", "store_tier")),
    Column("in_province", "省内", ("是否省内", "in province")),
    Column("traffic_band", "客流档位", ("客流等级", "traffic band")),
    Column("stage", "阶段", ("实施阶段", "programme stage")),
    Column("valid_from", "生效期间", ("起始期间", "valid from")),
    Column("valid_to", "失效期间", ("截止期间", "valid to")),
    Column("method", "方法", ("赋权方法", "权重方法", "weight method")),
    Column("inputs", "方法输入", ("输入", "method inputs")),
    Column(
        "node_code", "指标编码", ("节点编码", "编码", "node", "code", "node code"), required=True
    ),
    Column("weight", "权重", ("本地权重", "local weight"), required=True),
)

TIER_CHOICES = choices((t.value, v) for t, v in TIER_LABELS.items())
BAND_LABELS = {"high": "高", "low": "低"}
BAND_CHOICES = choices([("high", ["高", "高客流"]), ("low", ["低", "低客流"])])
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
    "tier",
    "in_province",
    "traffic_band",
    "stage",
    "valid_from",
    "valid_to",
    "method",
    "inputs",
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
    for f in ("profile_name_zh", "profile_name_en", "system_code"):
        t = r.text(f, max_len=200)
        if t is not None:
            out[f] = t
    if r.raw("system_version") not in (None, ""):
        v = r.integer("system_version", lo=1)
        out["system_version"] = v if v is not None else _MISSING
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


def _system_of(
    session: Session, report: ImportReport, table: Table, prof: ProfileRows, exists: bool
) -> IndicatorSystem | None:
    col = table.headers.get
    if "profile_name_zh" not in prof.shared and not exists:
        report.add(
            prof.first_line,
            col("profile_name_zh", "profile_name_zh"),
            "",
            "required",
            f"no row names the new profile {prof.code} (权重方案名称 / profile_name_zh)",
        )
    if "system_code" not in prof.shared:
        report.add(
            prof.first_line,
            col("system_code", "system_code"),
            "",
            "required",
            f"no row gives the indicator system of profile {prof.code}",
        )
        return None
    code, line = prof.shared["system_code"]
    stmt = select(IndicatorSystem).where(IndicatorSystem.code == code)
    version = prof.shared.get("system_version")
    if version is not None:
        stmt = stmt.where(IndicatorSystem.version == version[0])
    system = session.scalar(stmt.order_by(IndicatorSystem.version.desc()).limit(1))
    if system is None:
        shown = f"{code} v{version[0]}" if version is not None else code
        report.add(
            line,
            col("system_code", "system_code"),
            code,
            "unknown_system",
            f"no indicator system {shown} in SQM",
        )
    return system


def _check_weights(
    report: ImportReport, table: Table, prof: ProfileRows, system: IndicatorSystem, exists: bool
) -> None:
    col = table.headers.get
    by_code = {n.code: n for n in system.nodes}
    code_of = {n.id: n.code for n in system.nodes}
    groups: dict[str | None, list[str]] = defaultdict(list)
    for node, (_, line) in prof.weights.items():
        n = by_code.get(node)
        if n is None:
            report.add(
                line,
                col("node_code", "node_code"),
                node,
                "unknown_node",
                f"no node {node} in {system.code} v{system.version}",
            )
            continue
        groups[code_of.get(n.parent_id) if n.parent_id else None].append(node)
    for parent, codes in groups.items():
        total = sum(prof.weights[c][0] for c in codes)
        if abs(total - 1.0) > 1e-3:
            lines = sorted(prof.weights[c][1] for c in codes)
            parts = ", ".join(f"{c}={prof.weights[c][0]:g}" for c in sorted(codes))
            report.add(
                lines[0],
                col("weight", "weight"),
                f"{total:.4f}",
                "weights_sum",
                f"weights under {parent or '(root)'} in profile {prof.code} (rows "
                f"{', '.join(map(str, lines))}) sum to {total:.4f}, not 1: {parts}",
            )
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


def import_weight_profiles(
    session: Session,
    data: bytes,
    filename: str,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Validate the whole file and, when it has no error, upsert every profile in it.

    Counts in the report are of profiles (a profile is updated when any field or weight
    changed). Writes go to ``session`` (flushed, not committed).

    >>> # import_weight_profiles(s, Path("weights.xlsx").read_bytes(), "weights.xlsx")
    >>> # → 'weights: 496 rows read; 0 created, 0 updated, 8 unchanged, 0 deleted'
    """
    report = ImportReport(kind="weights", dry_run=dry_run)
    table = read_table(data, filename, COLUMNS, report)
    profiles = _collect(report, table)
    systems: dict[str, IndicatorSystem] = {}
    known = set(session.scalars(select(WeightProfile.code).where(WeightProfile.code.in_(profiles))))
    for prof in profiles.values():
        system = _system_of(session, report, table, prof, prof.code in known)
        if system is not None:
            systems[prof.code] = system
            _check_weights(report, table, prof, system, prof.code in known)
    if not report.ok:
        return report
    for i, prof in enumerate(profiles.values(), start=1):
        existing = session.scalar(select(WeightProfile).where(WeightProfile.code == prof.code))

        def get(
            name: str,
            default: Any,
            prof: ProfileRows = prof,
            existing: WeightProfile | None = existing,
        ) -> Any:
            if name in prof.shared:
                return prof.shared[name][0]
            # Name, first period and inputs cannot be cleared: no value keeps the stored one.
            if existing is not None and (name in _KEPT_WHEN_EMPTY or not table.has(name)):
                return getattr(existing, name.removeprefix("profile_"))
            return default

        try:
            _, changed = upsert_profile(
                session,
                code=prof.code,
                name_zh=get("profile_name_zh", ""),
                name_en=get("profile_name_en", ""),
                system=systems[prof.code],
                weights={c: w for c, (w, _) in prof.weights.items()},
                tier=get("tier", None),
                in_province=get("in_province", None),
                traffic_band=get("traffic_band", None),
                stage=get("stage", None),
                valid_from=get("valid_from", ""),
                valid_to=get("valid_to", None),
                method=get("method", "manual"),
                inputs=get("inputs", {}),
            )
        except WeightRuleError as exc:
            report.add(prof.first_line, "profile_code", prof.code, "rejected", str(exc))
            raise ImportRejected(report) from exc
        if existing is None:
            report.created += 1
        elif changed:
            report.updated += 1
        else:
            report.unchanged += 1
        if progress is not None:
            progress(i, len(profiles))
    return report
