"""Export org units, indicator systems and weight profiles in the import formats
(:mod:`sqm.ingest.org_units`, :mod:`sqm.ingest.indicator_systems`,
:mod:`sqm.ingest.weight_profiles`), as CSV or xlsx with Chinese or English headers.

With ``lang="zh"`` coded values are written in Chinese too (门店, 旗舰核心店, 是/否,
越高越好…); with ``lang="en"`` as codes. Both import back: an export imported into the same
database changes nothing.

>>> # Path("units.xlsx").write_bytes(export_org_units(session, fmt="xlsx", lang="zh"))
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from sqlalchemy import false, func, or_, select
from sqlalchemy.orm import Session

from sqm.domain.checklist import Checklist
from sqm.domain.org import KIND_LABELS, TIER_LABELS, UnitKind
from sqm.ingest import indicator_systems as ind
from sqm.ingest import org_units as org
from sqm.ingest import weight_profiles as wp
from sqm.ingest.tabular import Fmt, Lang, write_table
from sqm.services.evaluation.indicator_system import tree_rows
from sqm.store.models import IndicatorSystem, OrgUnit, WeightProfile

ExportKind = Literal["org", "indicators", "weights"]


def _yes_no(v: bool | None, lang: Lang) -> str | None:
    if v is None:
        return None
    if lang == "zh":
        return "是" if v else "否"
    return "true" if v else "false"


def _plain(v: object) -> Any:
    return getattr(v, "value", v)


def org_unit_records(
    units: Sequence[OrgUnit], lang: Lang, codes: Mapping[int, str]
) -> list[dict[str, Any]]:
    """Rows of the org-unit file for ``units``; ``codes`` maps unit ids to codes (for
    the parent code column)."""
    out = []
    for u in units:
        kind, tier, status = _plain(u.kind), _plain(u.tier), _plain(u.status)
        zh = lang == "zh"
        out.append(
            {
                "code": u.code,
                "name_zh": u.name_zh,
                "name_en": u.name_en,
                "kind": KIND_LABELS[UnitKind(kind)][0] if zh else kind,
                "parent_code": codes.get(u.parent_id) if u.parent_id is not None else None,
                "tier": (TIER_LABELS[tier][0] if zh else tier) if tier else None,
                "in_province": _yes_no(u.in_province, lang),
                "area_type": (
                    {"urban": "城区", "county": "县域"}.get(u.area_type, u.area_type)
                    if zh and u.area_type
                    else u.area_type
                ),
                "traffic": u.traffic,
                "customers": u.customers,
                "lat": u.lat,
                "lon": u.lon,
                "address": u.address,
                "opened_on": u.opened_on,
                "status": org.STATUS_LABELS[status][0] if zh else status,
                "brand": u.brand,
            }
        )
    return out


def export_org_units(
    session: Session,
    *,
    fmt: Fmt = "csv",
    lang: Lang = "zh",
    scope_paths: Sequence[str] | None = None,
) -> bytes:
    """The org units (parents first, by depth then code; only those under ``scope_paths`` when given) as a
    file :func:`sqm.services.imports.import_org_units` reads back unchanged."""
    stmt = select(OrgUnit).order_by(OrgUnit.depth, OrgUnit.code)
    if scope_paths is not None:
        stmt = stmt.where(or_(false(), *(OrgUnit.path.startswith(p) for p in scope_paths)))
    units = list(session.scalars(stmt))
    codes = {int(i): str(c) for i, c in session.execute(select(OrgUnit.id, OrgUnit.code))}
    records = org_unit_records(units, lang, codes)
    return write_table(org.COLUMNS, records, fmt=fmt, lang=lang, sheet="org")


def indicator_records(system: IndicatorSystem, lang: Lang) -> list[dict[str, Any]]:
    """Rows of the indicator file for one system version, depth first."""
    zh = lang == "zh"
    by_id = {n.id: n.code for n in system.nodes}
    out = []
    for row in tree_rows(system):
        n = row.node
        level, source, direction = _plain(n.level), _plain(n.source), _plain(n.direction)
        out.append(
            {
                "system_code": system.code,
                "system_name_zh": system.name_zh,
                "system_name_en": system.name_en,
                "code": n.code,
                "parent_code": by_id.get(n.parent_id) if n.parent_id else None,
                "level": ind.LEVEL_LABELS[level][0] if zh else level,
                "name_zh": n.name_zh,
                "name_en": n.name_en,
                "definition_zh": n.definition_zh,
                "definition_en": n.definition_en,
                "source": (ind.SOURCE_LABELS[source] if zh else source) if source else None,
                "source_ref": n.source_ref,
                "direction": ind.DIRECTION_LABELS[direction] if zh else direction,
                "scale_min": n.scale_min,
                "scale_max": n.scale_max,
                "unit": n.unit,
                "target": n.target,
                "warning": n.warning,
                "is_veto": _yes_no(bool(n.is_veto), lang),
            }
        )
    return out


def latest_systems(session: Session, codes: Sequence[str] | None = None) -> list[IndicatorSystem]:
    """The latest version of every indicator system (or of those in ``codes``)."""
    latest = (
        select(IndicatorSystem.code, func.max(IndicatorSystem.version).label("v"))
        .group_by(IndicatorSystem.code)
        .subquery()
    )
    stmt = (
        select(IndicatorSystem)
        .join(
            latest,
            (IndicatorSystem.code == latest.c.code) & (IndicatorSystem.version == latest.c.v),
        )
        .order_by(IndicatorSystem.code)
    )
    if codes:
        stmt = stmt.where(IndicatorSystem.code.in_(list(codes)))
    return list(session.scalars(stmt))


def export_indicator_systems(
    session: Session, *, fmt: Fmt = "csv", lang: Lang = "zh", codes: Sequence[str] | None = None
) -> bytes:
    """The latest version of each indicator system as an indicator file."""
    records = [r for s in latest_systems(session, codes) for r in indicator_records(s, lang)]
    return write_table(ind.COLUMNS, records, fmt=fmt, lang=lang, sheet="indicators")


def weight_records(profile: WeightProfile, lang: Lang) -> list[dict[str, Any]]:
    """Rows of the weight file for one profile, in the order of its indicator tree (or of its
    checklist's indicators); ``inputs`` (JSON) is written on the profile's first row only."""
    zh = lang == "zh"
    tier, stage, method = _plain(profile.tier), _plain(profile.stage), _plain(profile.method)
    band = profile.traffic_band
    shared = {
        "profile_code": profile.code,
        "profile_name_zh": profile.name_zh,
        "profile_name_en": profile.name_en,
        "tier": (TIER_LABELS[tier][0] if zh else tier) if tier else None,
        "in_province": _yes_no(profile.in_province, lang),
        "traffic_band": (wp.BAND_LABELS.get(band, band) if zh else band) if band else None,
        "stage": (wp.STAGE_LABELS.get(stage, stage) if zh else stage) if stage else None,
        "valid_from": profile.valid_from,
        "valid_to": profile.valid_to,
        "method": wp.METHOD_LABELS.get(method, method) if zh else method,
    }
    pairs: list[tuple[str, float]]
    if profile.checklist is not None:
        row = profile.checklist
        shared.update(checklist_code=row.code, checklist_version=row.version, note=profile.note)
        weights = profile.checklist_weights or {}
        cl = Checklist.model_validate(row.definition)
        pairs = [(i.code, float(weights[i.code])) for i in cl.indicators() if i.code in weights]
    else:
        system = profile.system
        assert system is not None
        shared.update(system_code=system.code, system_version=system.version)
        by_node = {w.node_id: w.weight for w in profile.weights}
        pairs = [
            (r.node.code, by_node[r.node.id]) for r in tree_rows(system) if r.node.id in by_node
        ]
    out: list[dict[str, Any]] = []
    for code, weight in pairs:
        rec = dict(shared, node_code=code, weight=weight)
        if not out:
            rec["inputs"] = json.dumps(profile.inputs or {}, ensure_ascii=False)
        out.append(rec)
    return out


def export_weight_profiles(
    session: Session, *, fmt: Fmt = "csv", lang: Lang = "zh", codes: Sequence[str] | None = None
) -> bytes:
    """Every weight profile (or those in ``codes``) as a weight file: the indicator systems'
    profiles and the checklists' profiles in force (their replaced revisions stay home)."""
    stmt = select(WeightProfile).where(WeightProfile.active.is_(True)).order_by(WeightProfile.code)
    if codes:
        stmt = stmt.where(WeightProfile.code.in_(list(codes)))
    records = [r for p in session.scalars(stmt) for r in weight_records(p, lang)]
    return write_table(wp.COLUMNS, records, fmt=fmt, lang=lang, sheet="weights")


def export_table(
    session: Session,
    kind: ExportKind,
    *,
    fmt: Fmt = "csv",
    lang: Lang = "zh",
    scope_paths: Sequence[str] | None = None,
) -> bytes:
    """Export ``kind`` ("org", "indicators" or "weights"); ``scope_paths`` limits org units.

    >>> # data = export_table(session, "weights", fmt="xlsx", lang="en")
    >>> # import_weight_profiles(session, data, "w.xlsx").changed → False
    """
    if kind == "org":
        return export_org_units(session, fmt=fmt, lang=lang, scope_paths=scope_paths)
    if kind == "indicators":
        return export_indicator_systems(session, fmt=fmt, lang=lang)
    if kind == "weights":
        return export_weight_profiles(session, fmt=fmt, lang=lang)
    raise ValueError(f"kind must be org, indicators or weights, not {kind!r}")
