"""Import org units (company, provinces, cities, districts, stores, competitor stores, …)
from CSV or xlsx, upserted by code.

One row per unit. Headers may be Chinese or English (either the field name or the
Chinese header below; a few other spellings are accepted too):

============  ===============  ==========================================================
field         Chinese header   content
============  ===============  ==========================================================
code          编码              unique unit code (required)
name_zh       名称              Chinese name (required)
name_en       英文名称          English name
kind          类型              company, province, city, district, store, channel,
                               hotline_team, network_region, competitor_store — or
                               公司/省/市/区县/门店/渠道/热线班组/网络片区/竞品门店 (required)
parent_code   上级编码          code of the parent unit, in this file or already in SQM;
                               empty only for the company (root)
tier          门店等级          flagship_core/first_level/supermarket/partner or
                               旗舰核心店/一级店/超市店/合作店 (stores only)
in_province   省内              是/否, yes/no, true/false, 1/0
area_type     区域类型          urban/county or 城区/县域
traffic       客流量            customers per month, a whole number ≥ 0
customers     客户数            customers served, a whole number ≥ 0
lat, lon      纬度, 经度        WGS-84 degrees: −90…90 and −180…180
address       地址              postal address
opened_on     开业日期          a date (2024-03-01, 2024/3/1, 2024年3月1日, an Excel date)
status        状态              active/suspended/closed or 营业/暂停/关闭 (empty: active)
brand         品牌              competitor brand (competitor stores)
============  ===============  ==========================================================

A column that is absent leaves that attribute of existing units as it is; an empty cell
in a present column clears it. Rows may come in any order: parents are written before
their children. Every row is checked first — kinds, required fields, the tree's grammar
(:data:`sqm.domain.org.ALLOWED_PARENTS`), duplicates, cycles, ranges, dates, and the
importing user's scope — and only a file without errors is written. Re-importing the
same file changes nothing (no update, no audit entry).

This module reads and validates (:func:`read_org_units`); writing is
:func:`sqm.services.org_tree.apply_org_rows`, and :func:`sqm.services.imports.import_org_units`
does both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sqm.domain.org import ALLOWED_PARENTS, KIND_LABELS, TIER_LABELS, UnitKind, UnitStatus
from sqm.ingest.errors import ImportReport
from sqm.ingest.tabular import Column, RowReader, choices, read_table
from sqm.store.models import OrgUnit

COLUMNS: tuple[Column, ...] = (
    Column("code", "编码", ("单位编码", "门店编码", "unit_code", "unit code"), required=True),
    Column(
        "name_zh",
        "名称",
        ("中文名称", "单位名称", "门店名称", "name", "chinese name"),
        required=True,
    ),
    Column("name_en", "英文名称", ("english name", "name (en)")),
    Column("kind", "类型", ("单位类型", "unit_kind", "unit kind", "type"), required=True),
    Column("parent_code", "上级编码", ("上级单位编码", "parent", "parent code")),
    Column("tier", "门店等级", ("等级", "门店分级", "store tier", "store_tier")),
    Column("in_province", "省内", ("是否省内", "省内外", "in province")),
    Column("area_type", "区域类型", ("城区/县域", "area type", "area")),
    Column("traffic", "客流量", ("月客流量", "客流", "monthly traffic")),
    Column("customers", "客户数", ("客户数量", "customer count")),
    Column("lat", "纬度", ("latitude",)),
    Column("lon", "经度", ("longitude", "lng")),
    Column("address", "地址", ("详细地址",)),
    Column("opened_on", "开业日期", ("开业时间", "opened", "opening date")),
    Column("status", "状态", ("营业状态",)),
    Column("brand", "品牌", ("竞品品牌", "competitor brand")),
)

KIND_CHOICES = choices((k.value, v) for k, v in KIND_LABELS.items())
TIER_CHOICES = choices((t.value, v) for t, v in TIER_LABELS.items())
AREA_CHOICES = choices([("urban", ["城区", "市区", "城市"]), ("county", ["县域", "县城", "农村"])])
STATUS_LABELS: dict[str, tuple[str, str]] = {
    UnitStatus.ACTIVE: ("营业", "Active"),
    UnitStatus.SUSPENDED: ("暂停", "Suspended"),
    UnitStatus.CLOSED: ("关闭", "Closed"),
}
STATUS_CHOICES = choices(
    [
        ("active", ["营业", "正常", "在营", "营业中"]),
        ("suspended", ["暂停", "停业", "暂停营业"]),
        ("closed", ["关闭", "已关闭", "闭店", "撤销"]),
    ]
)
#: Attributes compared and written (besides the parent); absent columns are skipped.
ATTRIBUTES = (
    "name_zh",
    "name_en",
    "kind",
    "tier",
    "in_province",
    "area_type",
    "traffic",
    "customers",
    "lat",
    "lon",
    "address",
    "opened_on",
    "status",
    "brand",
)


@dataclass
class OrgRow:
    """One valid-looking row: the unit's code, its parent's code and the values present."""

    line: int
    code: str
    parent_code: str | None
    kind: UnitKind | None
    values: dict[str, Any]


def _parse(reader: RowReader) -> OrgRow | None:
    code = reader.text("code", required=True, max_len=64)
    vals: dict[str, Any] = {}
    name_zh = reader.text("name_zh", required=True, max_len=200)
    if name_zh is not None:
        vals["name_zh"] = name_zh
    kind_code = reader.choice("kind", KIND_CHOICES, required=True, what="unit kind")
    kind = UnitKind(kind_code) if kind_code else None
    if kind is not None:
        vals["kind"] = kind.value
    if reader.has("name_en"):
        vals["name_en"] = reader.text("name_en", max_len=200) or ""
    if reader.has("tier"):
        vals["tier"] = reader.choice("tier", TIER_CHOICES, what="store tier")
    if reader.has("in_province"):
        vals["in_province"] = reader.boolean("in_province")
    if reader.has("area_type"):
        vals["area_type"] = reader.choice("area_type", AREA_CHOICES, what="area type")
    if reader.has("traffic"):
        vals["traffic"] = reader.integer("traffic", lo=0, hi=2_000_000_000)
    if reader.has("customers"):
        vals["customers"] = reader.integer("customers", lo=0, hi=2_000_000_000)
    if reader.has("lat"):
        vals["lat"] = reader.number("lat", lo=-90, hi=90)
    if reader.has("lon"):
        vals["lon"] = reader.number("lon", lo=-180, hi=180)
    if reader.has("address"):
        vals["address"] = reader.text("address", max_len=300)
    if reader.has("opened_on"):
        vals["opened_on"] = reader.day("opened_on")
    if reader.has("status"):
        vals["status"] = reader.choice("status", STATUS_CHOICES, what="status") or "active"
    if reader.has("brand"):
        vals["brand"] = reader.text("brand", max_len=64)
    if vals.get("tier") and kind not in (None, UnitKind.STORE):
        reader.error("tier", reader.raw("tier"), "unknown_value", "only stores have a tier")
    parent = reader.text("parent_code", max_len=64)
    if code is None:
        return None
    return OrgRow(reader.row.number, code, parent, kind, vals)


def _db_tree(session: Session) -> dict[str, tuple[str | None, str, str]]:
    """code → (parent code, kind, path) of every unit in the database."""
    pc = {}
    rows = session.execute(
        select(OrgUnit.id, OrgUnit.code, OrgUnit.parent_id, OrgUnit.kind, OrgUnit.path)
    )
    by_id: dict[int, str] = {}
    raw = list(rows)
    for uid, code, _, _, _ in raw:
        by_id[uid] = code
    for _, code, parent_id, kind, path in raw:
        pc[code] = (by_id.get(parent_id) if parent_id is not None else None, str(kind), path)
    return pc


def validate_org_rows(
    session: Session,
    rows: Sequence[OrgRow],
    report: ImportReport,
    scope_paths: Sequence[str] | None,
    column: Callable[[str], str],
) -> list[OrgRow]:
    """Check the rows against each other and the database; return them parents first.

    Rules: unique codes; the parent exists (in the file or the database); the parent's
    kind is allowed (:data:`ALLOWED_PARENTS`); no cycle; within ``scope_paths`` (the
    importer's scope, ``None`` for no limit): an existing unit must be in scope, and a new
    or moved unit must go under a parent in scope.

    >>> # rows = [OrgRow(2, "S1", "NOPE", UnitKind.STORE, {})]
    >>> # validate_org_rows(session, rows, report, None, str) → report.errors[0].rule
    >>> # 'parent_not_found'
    """
    db = _db_tree(session)
    by_code: dict[str, OrgRow] = {}
    for r in rows:
        if r.code in by_code:
            report.add(
                r.line,
                column("code"),
                r.code,
                "duplicate_code",
                f"code {r.code} already appears in row {by_code[r.code].line}",
            )
            continue
        by_code[r.code] = r

    def kind_of(code: str) -> str | None:
        if code in by_code:
            k = by_code[code].kind
            return k.value if k is not None else None
        return db[code][1] if code in db else None

    def parent_of(code: str) -> str | None:
        if code in by_code:
            return by_code[code].parent_code
        return db[code][0] if code in db else None

    for r in by_code.values():
        if r.parent_code is not None and r.parent_code not in by_code and r.parent_code not in db:
            report.add(
                r.line,
                column("parent_code"),
                r.parent_code,
                "parent_not_found",
                f"no unit with code {r.parent_code} in the file or in SQM",
            )
            continue
        if r.kind is None:
            continue
        pk = kind_of(r.parent_code) if r.parent_code is not None else None
        if r.parent_code is not None and pk is None:
            continue  # the parent's own row has a bad kind, reported there
        allowed = ALLOWED_PARENTS[r.kind]
        if (UnitKind(pk) if pk else None) not in allowed:
            names = ", ".join(sorted(k.value if k else "(none: root)" for k in allowed))
            where = f"under {r.parent_code} ({pk})" if r.parent_code else "at the root"
            report.add(
                r.line,
                column("parent_code") if r.parent_code else column("kind"),
                r.parent_code or r.kind.value,
                "parent_kind",
                f"a {r.kind.value} cannot sit {where}; its parent must be: {names}",
            )
    # Units already in SQM and not in the file keep their parent: its new kind must fit them.
    for code, (parent_code, kind, _) in db.items():
        if code in by_code or parent_code not in by_code:
            continue
        pr = by_code[parent_code]
        if pr.kind is not None and pr.kind not in ALLOWED_PARENTS[UnitKind(kind)]:
            report.add(
                pr.line,
                column("kind"),
                pr.kind.value,
                "parent_kind",
                f"{code} (a {kind}) sits under {pr.code} and cannot sit under a {pr.kind.value}",
            )
    # Cycles through the file and the database (e.g. a unit moved under its descendant).
    for r in by_code.values():
        seen = {r.code}
        cur = parent_of(r.code)
        while cur is not None:
            if cur == r.code:
                report.add(
                    r.line,
                    column("parent_code"),
                    r.parent_code,
                    "cycle",
                    f"{r.code} would be its own ancestor (through {cur})",
                )
                break
            if cur in seen:
                break  # a cycle above this unit, reported on its own rows
            seen.add(cur)
            cur = parent_of(cur)
    if scope_paths is not None:
        _check_scope(by_code, db, report, scope_paths, column)
    return _parents_first(by_code)


def _check_scope(
    by_code: dict[str, OrgRow],
    db: dict[str, tuple[str | None, str, str]],
    report: ImportReport,
    scope_paths: Sequence[str],
    column: Callable[[str], str],
) -> None:
    def seen_path(path: str) -> bool:
        return any(path.startswith(p) for p in scope_paths)

    memo: dict[str, bool] = {}

    def lands_in_scope(code: str, depth: int = 0) -> bool:
        """Whether the unit ``code`` ends up inside the scope after the import."""
        if code in memo:
            return memo[code]
        memo[code] = False  # guards cycles (reported elsewhere)
        if depth > 64:
            return False
        if code not in by_code:
            # An unknown parent is reported as parent_not_found, not twice.
            ok = code not in db or seen_path(db[code][2])
        else:
            r = by_code[code]
            existing = db.get(code)
            if existing is not None and existing[0] == r.parent_code:
                ok = seen_path(existing[2])
            else:
                in_now = existing is None or seen_path(existing[2])
                ok = (
                    in_now
                    and r.parent_code is not None
                    and lands_in_scope(r.parent_code, depth + 1)
                )
        memo[code] = ok
        return ok

    for r in by_code.values():
        if not lands_in_scope(r.code):
            report.add(
                r.line,
                column("parent_code") if r.parent_code else column("code"),
                r.parent_code or r.code,
                "out_of_scope",
                f"{r.code} would lie outside the part of the organisation you may edit",
            )


def _parents_first(by_code: dict[str, OrgRow]) -> list[OrgRow]:
    depth: dict[str, int] = {}

    def d(code: str, guard: int = 0) -> int:
        if code not in depth:
            p = by_code[code].parent_code
            depth[code] = (
                0 if p is None or p not in by_code or guard > len(by_code) else d(p, guard + 1) + 1
            )
        return depth[code]

    return sorted(by_code.values(), key=lambda r: (d(r.code), r.line))


@dataclass
class OrgImport:
    """A read and validated org-unit file: the report and, when it has no error, the rows
    parents first (what :func:`sqm.services.org_tree.apply_org_rows` writes)."""

    report: ImportReport
    rows: list[OrgRow]


def read_org_units(
    session: Session,
    data: bytes,
    filename: str,
    *,
    scope_paths: Sequence[str] | None = None,
    dry_run: bool = False,
) -> OrgImport:
    """Read and validate the whole file against itself and the org tree in ``session``
    (nothing is written); with any error the rows are empty.

    >>> # parsed = read_org_units(session, Path("units.xlsx").read_bytes(), "units.xlsx")
    >>> # parsed.report.ok, len(parsed.rows) → (True, 340)
    """
    report = ImportReport(kind="org", dry_run=dry_run)
    table = read_table(data, filename, COLUMNS, report)
    parsed: list[OrgRow] = []
    for row in table.rows:
        r = _parse(RowReader(row, table, report))
        if r is not None:
            parsed.append(r)
    ordered = validate_org_rows(
        session, parsed, report, scope_paths, lambda f: table.headers.get(f, f)
    )
    return OrgImport(report, ordered if report.ok else [])
