"""Designing inspections: editing checklist versions and the weight profiles that weigh them.

Checklists. An editor sends the whole tree at once (sections → indicators → items, each
with bilingual texts); :func:`checklist_from_fields` turns the form's fields into a
validated :class:`~sqm.domain.checklist.Checklist` or raises :class:`DesignError` listing
every problem with the node and field it belongs to. :func:`save_checklist` then keeps the
versioning rule: a version that visits were filled against is never changed — saving it
creates the next version (old visits keep theirs); a version without visits is updated in
place. Edited weight profiles follow a new version when it weighs the same indicators.

Weight profiles (one per tier × in/out of province × stage × traffic class) are set

- by hand: percentages per indicator that must sum to 100 (:func:`manual_weights`);
- by AHP: a pairwise comparison of the sections (Saaty 1–9 scale) whose priorities become
  the section weights, refused when the consistency ratio is 0.10 or more
  (:func:`ahp_on_sections`, :func:`sqm.methods.weights.ahp`);
- from customers: the derived importance of the store intercept survey's 13 items for
  overall satisfaction (relative weights, Johnson 2000), mapped to the indicators that check
  the same element (:data:`~sqm.domain.checklist_template.SURVEY_ITEM_INDICATORS`) and
  blended with the plan's template profile (:func:`survey_importance`).

Every save is a new row of the one weight-profile table (:class:`~sqm.store.models.WeightProfile`,
``kind = "checklist"``, written by :mod:`sqm.services.evaluation.weight_profile`) with its
method, its inputs (matrix, survey periods, α…), who saved it and when; the previous row stays,
inactive, so the history can be read back and reproduced.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sqm.domain.checklist import (
    Capability,
    Checklist,
    ChecklistItem,
    Evidence,
    GradeBand,
    Indicator,
    ItemKind,
    Section,
    SectionKind,
    WeightProfile,
)
from sqm.domain.checklist_template import (
    SURVEY_ITEM_INDICATORS,
    ProfileKey,
    profile_keys,
)
from sqm.domain.errors import ConflictError, RuleError
from sqm.domain.org import UnitKind
from sqm.lazy import lazy_import
from sqm.methods.weights import AHPResult, ahp
from sqm.services.evaluation import weight_profile as wp
from sqm.services.inspections import visits as iv
from sqm.services.scope import Principal
from sqm.store.audit import record
from sqm.store.models import OrgUnit, Period
from sqm.store.models import WeightProfile as StoredProfile
from sqm.store.models.inspection import InspectionChecklist, InspectionVisit

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_import("numpy")
    pd = lazy_import("pandas")

#: Largest gap between the entered percentages' sum and 100 that is taken as rounding.
PERCENT_TOLERANCE = 0.1


@dataclass(frozen=True)
class FieldError:
    """One problem of a submitted design: the node (form key, or "" for the checklist), the
    field, and what is wrong."""

    node: str
    field: str
    message: str


class DesignError(RuleError):
    """A checklist or weight profile that breaks a rule; ``errors`` lists every problem."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__(
            "; ".join(f"{e.node + '.' if e.node else ''}{e.field}: {e.message}" for e in errors)
        )


class DesignConflict(ConflictError):
    """The checklist changed since the editor was opened."""


# ------------------------------------------------------------------ checklist versions


@dataclass(frozen=True)
class VersionInfo:
    """A stored checklist version (a row of the checklist list): the number of visits made
    with it, whether new visits use it, and how many sections, indicators, items, veto
    items and critical items it has."""

    row: InspectionChecklist
    n_visits: int
    current: bool  # the version new visits use
    n_sections: int = 0
    n_indicators: int = 0
    n_items: int = 0
    n_veto: int = 0
    n_critical: int = 0


def _version_info(row: InspectionChecklist, n_visits: int, current: bool) -> VersionInfo:
    cl = iv.checklist_of(row)
    items = cl.items()
    return VersionInfo(
        row,
        n_visits,
        current,
        n_sections=len(cl.sections),
        n_indicators=len(cl.indicators()),
        n_items=len(items),
        n_veto=sum(1 for it in items if it.veto),
        n_critical=sum(1 for it in items if it.critical),
    )


def checklist_versions(session: Session) -> list[VersionInfo]:
    """Every stored checklist version, newest first within each code, with visit counts
    and the size of its tree (the checklist list's rows).

    The template is stored on first use, so the list is never empty.
    """
    iv.ensure_template_checklist(session)
    counts = dict(
        session.execute(
            select(InspectionVisit.checklist_id, func.count(InspectionVisit.id)).group_by(
                InspectionVisit.checklist_id
            )
        ).all()
    )
    rows = list(
        session.scalars(
            select(InspectionChecklist).order_by(
                InspectionChecklist.code, InspectionChecklist.version.desc()
            )
        )
    )
    current: dict[str, int] = {}
    for r in rows:  # newest first: the first active version of a code is the one in use
        if r.active and r.code not in current:
            current[r.code] = r.id
    return [_version_info(r, int(counts.get(r.id, 0)), current.get(r.code) == r.id) for r in rows]


def visit_count(session: Session, checklist_id: int) -> int:
    """How many visits (drafts included) were filled against a checklist version."""
    n = session.scalar(
        select(func.count(InspectionVisit.id)).where(InspectionVisit.checklist_id == checklist_id)
    )
    return int(n or 0)


def revision_of(row: InspectionChecklist) -> str:
    """A token that changes whenever the stored version changes (for edit conflicts)."""
    return f"{row.version}:{row.updated_at.isoformat() if row.updated_at else ''}"


# ------------------------------------------------------------------ the editor's fields

Fields = Mapping[str, Sequence[str]]
_LEVELS = ("section", "indicator", "item")
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


def checklist_nodes(cl: Checklist) -> list[dict[str, Any]]:
    """The checklist as the editor's flat node list (keys s0, s0i1, s0i1t2…), in tree order.

    >>> from sqm.domain.checklist_template import template_checklist
    >>> nodes = checklist_nodes(template_checklist())
    >>> [(n["key"], n["level"], n["parent"]) for n in nodes[:3]]
    [('s0', 'section', ''), ('s0i0', 'indicator', 's0'), ('s0i0t0', 'item', 's0i0')]
    """
    out: list[dict[str, Any]] = []
    for a, sec in enumerate(cl.sections):
        sk = f"s{a}"
        out.append(
            {
                "key": sk,
                "level": "section",
                "parent": "",
                **sec.model_dump(mode="json", exclude={"indicators"}),
            }
        )
        for b, ind in enumerate(sec.indicators):
            ik = f"{sk}i{b}"
            out.append(
                {
                    "key": ik,
                    "level": "indicator",
                    "parent": sk,
                    **ind.model_dump(mode="json", exclude={"items"}),
                }
            )
            for c, it in enumerate(ind.items):
                d = it.model_dump(mode="json")
                d["evidence"] = sorted(d["evidence"])
                out.append({"key": f"{ik}t{c}", "level": "item", "parent": ik, **d})
    return out


def header_of(cl: Checklist) -> dict[str, Any]:
    """The checklist-wide fields of the editor: names, pass mark, critical cap, grade bands."""
    return {
        "name_zh": cl.name_zh,
        "name_en": cl.name_en,
        "pass_mark": cl.pass_mark,
        "critical_cap_grade": cl.critical_cap_grade,
        "bands": [b.model_dump(mode="json") for b in cl.grade_bands],
    }


def _one(fields: Fields, name: str) -> str:
    vals = fields.get(name) or []
    return str(vals[-1]).strip() if vals else ""


def nodes_from_fields(fields: Fields) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The header and node list an editor submitted (raw strings, not yet validated), so a
    form with errors can be shown again exactly as it was sent."""
    header: dict[str, Any] = {
        "name_zh": _one(fields, "name_zh"),
        "name_en": _one(fields, "name_en"),
        "pass_mark": _one(fields, "pass_mark"),
        "critical_cap_grade": _one(fields, "critical_cap_grade"),
    }
    cols = ("band_code", "band_name_zh", "band_name_en", "band_min")
    lists = [list(fields.get(c) or []) for c in cols]
    width = max((len(x) for x in lists), default=0)
    bands = []
    for r in range(width):
        code, zh, en, low = (str(x[r]).strip() if r < len(x) else "" for x in lists)
        if code or zh or en or low:
            bands.append({"code": code, "name_zh": zh, "name_en": en, "min_score": low})
    header["bands"] = bands
    nodes: list[dict[str, Any]] = []
    seen: set[str] = set()
    for key in fields.get("node") or []:
        key = str(key)
        if not _KEY.match(key) or key in seen:
            continue  # a tampered or doubled key: the node is not part of the tree
        seen.add(key)
        level = _one(fields, f"{key}.level")
        node: dict[str, Any] = {"key": key, "level": level, "parent": _one(fields, f"{key}.parent")}
        for f in (
            "code",
            "name_zh",
            "name_en",
            "text_zh",
            "text_en",
            "kind",
            "weight",
            "capability",
            "scale_max",
            "points",
            "guide_zh",
            "guide_en",
        ):
            node[f] = _one(fields, f"{key}.{f}")
        for f in ("na_allowed", "veto", "critical"):
            node[f] = bool(_one(fields, f"{key}.{f}"))
        node["evidence"] = sorted({str(v) for v in fields.get(f"{key}.evidence") or []})
        nodes.append(node)
    return header, nodes


def _number(
    errors: list[FieldError], key: str, name: str, raw: Any, *, integer: bool = False
) -> float | int | None:
    try:
        value = float(str(raw).strip())
    except ValueError:
        errors.append(FieldError(key, name, f"must be a number, got {raw!r}"))
        return None
    if integer:
        if value != int(value):
            errors.append(FieldError(key, name, f"must be a whole number, got {raw!r}"))
            return None
        return int(value)
    return value


def _validated(errors: list[FieldError], key: str, model: Any, data: dict[str, Any]) -> Any | None:
    try:
        return model(**data)
    except ValidationError as exc:
        for e in exc.errors():
            loc = ".".join(str(x) for x in e["loc"]) or "node"
            errors.append(FieldError(key, loc, str(e["msg"]).removeprefix("Value error, ")))
        return None


def _item_of(errors: list[FieldError], n: dict[str, Any]) -> ChecklistItem | None:
    key = n["key"]
    kind = n.get("kind") or ""
    if kind not in {k.value for k in ItemKind}:
        errors.append(FieldError(key, "kind", "choose yes/no or a 0–N scale"))
        return None
    scale = (
        1
        if kind == ItemKind.YES_NO.value
        else _number(errors, key, "scale_max", n.get("scale_max") or "", integer=True)
    )
    points = _number(errors, key, "points", n.get("points") or "1")
    bad_ev = [e for e in n.get("evidence", []) if e not in {x.value for x in Evidence}]
    if bad_ev:
        errors.append(FieldError(key, "evidence", f"unknown evidence {bad_ev}"))
    if scale is None or points is None or bad_ev:
        return None
    return _validated(
        errors,
        key,
        ChecklistItem,
        {
            "code": n.get("code", ""),
            "text_zh": n.get("text_zh", ""),
            "text_en": n.get("text_en", ""),
            "kind": kind,
            "scale_max": scale,
            "points": points,
            "na_allowed": bool(n.get("na_allowed")),
            "evidence": frozenset(n.get("evidence", [])),
            "veto": bool(n.get("veto")),
            "critical": bool(n.get("critical")),
            "guide_zh": n.get("guide_zh", ""),
            "guide_en": n.get("guide_en", ""),
        },
    )


_STAND_IN_ITEM = ChecklistItem(code="x", text_zh="x", text_en="x", kind=ItemKind.YES_NO)
_STAND_IN: dict[str, Any] = {
    "items": _STAND_IN_ITEM,
    "indicators": Indicator(code="y", name_zh="y", name_en="y", items=(_STAND_IN_ITEM,)),
}


def _branch(
    errors: list[FieldError],
    node: Mapping[str, Any],
    model: Any,
    kids_field: str,
    kids: Sequence[Any],
    expected: int,
    extra: Mapping[str, Any],
) -> Any | None:
    """A section or indicator from its own fields and its built children. When a child is
    missing or failed, its own fields are still checked (with a stand-in child, so every
    problem is reported at once) but it is not built."""
    key = str(node["key"])
    if not expected:
        child = kids_field.removesuffix("s")
        errors.append(FieldError(key, kids_field, f"needs at least one {child}"))
    weight = _number(errors, key, "weight", node.get("weight") or "1")
    if weight is None:
        return None
    whole = bool(kids) and len(kids) == expected
    data = {
        "code": node.get("code", ""),
        "name_zh": node.get("name_zh", ""),
        "name_en": node.get("name_en", ""),
        "weight": weight,
        **extra,
        kids_field: tuple(kids) if whole else (_STAND_IN[kids_field],),
    }
    built = _validated(errors, key, model, data)
    return built if whole else None


def checklist_from_nodes(
    code: str, version: int, header: Mapping[str, Any], nodes: Sequence[Mapping[str, Any]]
) -> Checklist:
    """The validated checklist an editor's nodes describe, or :class:`DesignError` listing
    every problem (a node without a parent, an empty text, a bad number, a duplicate code…).

    Children keep the order in which they were sent; a node whose parent is not of the level
    above is an error, as is a section without indicators or an indicator without items.

    >>> from sqm.domain.checklist_template import template_checklist
    >>> cl = template_checklist()
    >>> same = checklist_from_nodes(cl.code, 1, header_of(cl), checklist_nodes(cl))
    >>> same == cl
    True
    """
    errors: list[FieldError] = []
    by_key = {str(n["key"]): dict(n) for n in nodes}
    children: dict[str, list[str]] = {k: [] for k in by_key}
    roots: list[str] = []
    for k, n in by_key.items():
        level = n.get("level")
        if level not in _LEVELS:
            errors.append(FieldError(k, "level", f"unknown level {level!r}"))
            continue
        parent = str(n.get("parent") or "")
        if level == "section":
            if parent:
                errors.append(FieldError(k, "parent", "a section has no parent"))
            roots.append(k)
            continue
        want = _LEVELS[_LEVELS.index(level) - 1]
        if by_key.get(parent, {}).get("level") != want:
            errors.append(FieldError(k, "parent", f"a {level} belongs under a {want}"))
            continue
        children[parent].append(k)

    sections: list[Section] = []
    for sk in roots:
        s = by_key[sk]
        indicators = []
        for ik in children[sk]:
            ind = by_key[ik]
            items = [it for tk in children[ik] if (it := _item_of(errors, by_key[tk]))]
            extra = {"capability": ind.get("capability") or Capability.SERVICE_NORMS.value}
            built = _branch(errors, ind, Indicator, "items", items, len(children[ik]), extra)
            if built is not None:
                indicators.append(built)
        extra = {"kind": s.get("kind") or SectionKind.SERVICE.value}
        sec = _branch(errors, s, Section, "indicators", indicators, len(children[sk]), extra)
        if sec is not None:
            sections.append(sec)
    if not roots:
        errors.append(FieldError("", "sections", "a checklist needs at least one section"))

    bands: list[GradeBand] = []
    for r, b in enumerate(header.get("bands") or []):
        low = _number(errors, f"band{r + 1}", "min_score", b.get("min_score", ""))
        if low is None:
            continue
        band = _validated(
            errors,
            f"band{r + 1}",
            GradeBand,
            {
                "code": b.get("code", ""),
                "name_zh": b.get("name_zh", ""),
                "name_en": b.get("name_en", ""),
                "min_score": low,
            },
        )
        if band is not None:
            bands.append(band)
    pass_mark = _number(errors, "", "pass_mark", header.get("pass_mark", ""))
    if errors or pass_mark is None:
        raise DesignError(errors)
    cl = _validated(
        errors,
        "",
        Checklist,
        {
            "code": code,
            "version": version,
            "name_zh": str(header.get("name_zh", "")).strip(),
            "name_en": str(header.get("name_en", "")).strip(),
            "sections": tuple(sections),
            "pass_mark": pass_mark,
            "grade_bands": tuple(bands),
            "critical_cap_grade": str(header.get("critical_cap_grade", "")).strip(),
        },
    )
    if cl is None:
        raise DesignError(errors)
    assert isinstance(cl, Checklist)
    return cl


def checklist_from_fields(code: str, version: int, fields: Fields) -> Checklist:
    """The validated checklist of a submitted editor form (see :func:`nodes_from_fields`)."""
    header, nodes = nodes_from_fields(fields)
    return checklist_from_nodes(code, version, header, nodes)


@dataclass(frozen=True)
class SaveResult:
    """What saving a checklist did: the stored row, whether it is a new version, and how many
    edited weight profiles followed it (``carried``) or no longer fit it (``dropped``)."""

    row: InspectionChecklist
    new_version: bool
    changed: bool
    carried: int = 0
    dropped: int = 0


def _indicator_set(cl: Checklist) -> set[str]:
    return {ind.code for ind in cl.indicators()}


def save_checklist(
    session: Session,
    base: InspectionChecklist,
    edited: Checklist,
    *,
    revision: str | None = None,
    user_id: int | None = None,
) -> SaveResult:
    """Save an edited checklist over version ``base``.

    - nothing changed → nothing is written;
    - visits exist on ``base`` → the next version is stored (old visits keep ``base``), and
      the active edited weight profiles of ``base`` are copied to it when it weighs the same
      indicators (else the plan's template profiles apply to it);
    - no visits → ``base`` is updated in place; its edited profiles that no longer fit are
      retired.

    ``revision`` (from :func:`revision_of` when the editor opened) guards against saving over
    someone else's change: a mismatch raises :class:`DesignConflict`.
    """
    if revision is not None and revision != revision_of(base):
        raise DesignConflict(
            f"checklist {base.code} v{base.version} was changed by someone else since you "
            "opened it; reload the editor to see their version"
        )
    old = iv.checklist_of(base)
    if edited.code != base.code:
        raise DesignError([FieldError("", "code", "the code of a checklist cannot change")])
    fresh = edited.model_copy(update={"version": base.version})
    if fresh == old:
        return SaveResult(base, new_version=False, changed=False)
    fits = _indicator_set(fresh) == _indicator_set(old)
    profiles = wp.active_checklist_profiles(session, base.id)
    if visit_count(session, base.id) == 0:
        base.definition = fresh.model_dump(mode="json")
        base.name_zh, base.name_en = fresh.name_zh, fresh.name_en
        dropped = 0
        if not fits:
            for p in profiles:
                p.active = False
                dropped += 1
        session.flush()
        record(
            session,
            "edit",
            "inspection_checklist",
            str(base.id),
            f"{base.code} v{base.version} edited in place (no visits yet)",
        )
        return SaveResult(base, new_version=False, changed=True, dropped=dropped)
    row = iv.publish_checklist(session, fresh)
    carried = 0
    if fits:
        for p in profiles:
            wp.add_checklist_profile(
                session,
                row,
                wp.key_of(p),
                dict(p.checklist_weights or {}),
                method=p.method,
                inputs={**(p.inputs or {}), "carried_over_from": base.version},
                note=p.note,
                user_id=user_id,
            )
            carried += 1
    session.flush()
    record(
        session,
        "new_version",
        "inspection_checklist",
        str(row.id),
        f"{row.code} v{row.version} from v{base.version} ({visit_count(session, base.id)} "
        "visits keep the old version)",
    )
    return SaveResult(
        row, new_version=True, changed=True, carried=carried, dropped=0 if fits else len(profiles)
    )


def set_active(session: Session, row: InspectionChecklist, active: bool) -> None:
    """Retire a version (new visits stop using it) or bring it back; the last active version
    of a checklist cannot be retired."""
    if not active and row.active:
        others = session.scalar(
            select(func.count(InspectionChecklist.id)).where(
                InspectionChecklist.code == row.code,
                InspectionChecklist.active.is_(True),
                InspectionChecklist.id != row.id,
            )
        )
        if not others:
            raise DesignConflict("active: the last active version of a checklist cannot retire")
    row.active = active


# ------------------------------------------------------------------ weight profiles


@dataclass(frozen=True)
class ProfileState:
    """The profile in force for one key: the domain weights and the stored row behind them
    (``None`` while the plan's template applies)."""

    key: ProfileKey
    profile: WeightProfile
    stored: StoredProfile | None


def profile_state(session: Session, row: InspectionChecklist, key: ProfileKey) -> ProfileState:
    """The profile in force for ``key`` on checklist version ``row``."""
    cl = iv.checklist_of(row)
    stored = iv.stored_profile(session, row.id, key)
    prof = iv.as_weight_profile(stored, cl, key) if stored else iv.template_for(key, cl)
    return ProfileState(key, prof, stored)


def profile_states(session: Session, row: InspectionChecklist) -> list[ProfileState]:
    """All 48 keys of a checklist version with the profile in force for each."""
    cl = iv.checklist_of(row)
    stored = {wp.key_of(p).slug: p for p in wp.active_checklist_profiles(session, row.id)}
    out = []
    for key in profile_keys():
        s = stored.get(key.slug)
        prof = iv.as_weight_profile(s, cl, key) if s else iv.template_for(key, cl)
        out.append(ProfileState(key, prof, s))
    return out


def profile_history(
    session: Session, row: InspectionChecklist, key: ProfileKey
) -> list[StoredProfile]:
    """Every saved profile of ``key`` on this version, newest first (active or not)."""
    return wp.checklist_profile_history(session, row.id, key)


def save_profile(
    session: Session,
    row: InspectionChecklist,
    key: ProfileKey,
    weights: Mapping[str, float],
    *,
    method: str,
    inputs: Mapping[str, Any],
    note: str = "",
    user_id: int | None,
) -> StoredProfile:
    """Store new weights for ``key`` on version ``row`` (the previous row goes inactive).

    The weights must cover exactly the checklist's indicators, each > 0, summing to 1.
    """
    cl = iv.checklist_of(row)
    try:
        prof = WeightProfile(
            code=f"{cl.code}.v{cl.version}.{key.slug}",
            checklist_code=cl.code,
            checklist_version=cl.version,
            tier=key.tier.value,
            in_province=key.in_province,
            stage=key.stage.value,
            traffic=key.traffic,
            indicator_weights={k: float(v) for k, v in weights.items()},
            method=method,
            note=note,
        )
        prof.check_against(cl)
    except (ValidationError, ValueError) as exc:
        raise DesignError([FieldError("", "weights", str(exc))]) from exc
    new = wp.add_checklist_profile(
        session,
        row,
        key,
        dict(prof.indicator_weights),
        method=method,
        inputs=_jsonable(dict(inputs)),
        note=note,
        user_id=user_id,
    )
    record(
        session,
        "set_weights",
        "weight_profile",
        str(new.id),
        f"{cl.code} v{cl.version} {key.slug}: weights set by {method}",
        changes={"method": method},
    )
    return new


def _jsonable(value: Any) -> Any:
    """Plain JSON for a JSON column on any database: numpy numbers become floats, NaN and
    infinities (which PostgreSQL's JSON refuses) become null."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bool | str) or value is None:
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    f = float(value)
    return f if np.isfinite(f) else None


def reset_profile(session: Session, row: InspectionChecklist, key: ProfileKey) -> int:
    """Go back to the plan's template profile for ``key``; returns how many rows retired."""
    n = wp.retire_checklist_profiles(session, row.id, key)
    if n:
        record(
            session,
            "reset_weights",
            "inspection_checklist",
            str(row.id),
            f"{row.code} v{row.version} {key.slug}: back to the plan's template",
        )
    return n


def manual_weights(checklist: Checklist, percents: Mapping[str, str | float]) -> dict[str, float]:
    """Indicator weights from percentages typed by hand: every indicator needs a number
    > 0 and together they must make 100 (within 0.1 for rounding); returned normalised to 1.

    >>> from sqm.domain.checklist_template import template_checklist
    >>> cl = template_checklist()
    >>> n = len(cl.indicators())
    >>> w = manual_weights(cl, {i.code: 100 / n for i in cl.indicators()})
    >>> round(sum(w.values()), 12), round(w["initiative"] * n, 12)
    (1.0, 1.0)
    """
    errors: list[FieldError] = []
    values: dict[str, float] = {}
    for ind in checklist.indicators():
        raw = percents.get(ind.code)
        if raw is None or str(raw).strip() == "":
            errors.append(FieldError(ind.code, "weight", "missing"))
            continue
        v = _number(errors, ind.code, "weight", raw)
        if v is None:
            continue
        if not v > 0:
            errors.append(FieldError(ind.code, "weight", f"must be above 0, got {v:g}"))
            continue
        values[ind.code] = float(v)
    unknown = sorted(set(percents) - {i.code for i in checklist.indicators()})
    if unknown:
        errors.append(FieldError("", "weights", f"unknown indicators {unknown}"))
    total = sum(values.values())
    if not errors and abs(total - 100.0) > PERCENT_TOLERANCE:
        errors.append(
            FieldError("", "sum", f"the weights sum to {total:.2f} %, they must make 100 %")
        )
    if errors:
        raise DesignError(errors)
    return {k: v / total for k, v in values.items()}


def parse_judgment(raw: str) -> float:
    """A pairwise judgment as typed: ``3``, ``1/5``, ``0.2`` → a positive number.

    >>> parse_judgment("1/3"), parse_judgment("5"), parse_judgment(" 0.5 ")
    (0.3333333333333333, 5.0, 0.5)
    """
    text = str(raw).strip()
    try:
        value = float(Fraction(text))
    except (ValueError, ZeroDivisionError) as exc:
        raise ValueError(f"not a judgment: {raw!r} (use 1–9 or 1/2–1/9)") from exc
    if not 1 / 9 - 1e-9 <= value <= 9 + 1e-9:
        raise ValueError(f"judgments lie between 1/9 and 9 on Saaty's scale, got {raw!r}")
    return value


def pairwise_matrix(n: int, upper: Mapping[tuple[int, int], str]) -> np.ndarray:
    """The full reciprocal matrix from its upper triangle (``upper[(i, j)]``, i < j); a
    missing judgment counts as 1 (equal importance). ``DesignError`` names bad entries.

    >>> pairwise_matrix(3, {(0, 1): "3", (0, 2): "5", (1, 2): "3"}).round(3).tolist()
    [[1.0, 3.0, 5.0], [0.333, 1.0, 3.0], [0.2, 0.333, 1.0]]
    """
    a = np.ones((n, n))
    errors = []
    for (i, j), raw in upper.items():
        if not (0 <= i < j < n):
            errors.append(FieldError(f"a{i}_{j}", "judgment", "outside the upper triangle"))
            continue
        if str(raw).strip() == "":
            continue
        try:
            a[i, j] = parse_judgment(raw)
        except ValueError as exc:
            errors.append(FieldError(f"a{i}_{j}", "judgment", str(exc)))
            continue
        a[j, i] = 1.0 / a[i, j]
    if errors:
        raise DesignError(errors)
    return a


@dataclass(frozen=True)
class AhpOutcome:
    """AHP on the sections: the method's result and the profile it gives."""

    result: AHPResult
    sections: list[str]
    section_weights: dict[str, float]
    profile: WeightProfile


def ahp_on_sections(checklist: Checklist, base: WeightProfile, matrix: np.ndarray) -> AhpOutcome:
    """Section weights from a pairwise matrix over the checklist's sections (in order); the
    indicators of a section keep ``base``'s ratios. Inconsistent matrices (CR ≥ 0.10) are
    returned too — :func:`save_ahp` refuses them, the preview shows them."""
    codes = [s.code for s in checklist.sections]
    if matrix.shape != (len(codes), len(codes)):
        raise DesignError(
            [FieldError("", "matrix", f"the matrix must compare the {len(codes)} sections")]
        )
    try:
        res = ahp(matrix)
    except RuleError as exc:
        raise DesignError([FieldError("", "matrix", str(exc))]) from exc
    w = np.asarray(res.weights, dtype=float).ravel()
    sw = dict(zip(codes, w.tolist(), strict=True))
    prof = iv.profile_from_ahp(base, checklist, matrix, allow_inconsistent=True)
    return AhpOutcome(res, codes, sw, prof)


def ahp_inputs(out: AhpOutcome, matrix: np.ndarray, base: WeightProfile) -> dict[str, Any]:
    """What to keep beside AHP weights to reproduce them."""
    r = out.result
    return {
        "sections": out.sections,
        "matrix": [[float(x) for x in row] for row in matrix],
        "section_weights": out.section_weights,
        "lambda_max": r.lambda_max,
        "ci": r.ci,
        "cr": r.cr,
        "ri": r.ri,
        "method": r.method,
        "base": base.code,
    }


# ------------------------------------------------------------------ customer importance


@dataclass(frozen=True)
class SurveyImportance:
    """Customer-derived importance of the intercept items for overall satisfaction, and what
    it gives each checklist indicator (the sum over the items mapped to it)."""

    periods: list[str]
    waves: list[str]
    n: int
    r2: float
    items: pd.DataFrame  # item, indicator, weight, r
    indicators: dict[str, float] = field(default_factory=dict)


def stores_seen_by(session: Session, principal: Principal) -> list[int]:
    """Ids of the stores in ``principal``'s scope (whose customers' answers they may use)."""
    return list(
        session.scalars(
            select(OrgUnit.id).where(principal.unit_filter(), OrgUnit.kind == UnitKind.STORE)
        )
    )


def intercept_periods(session: Session) -> list[str]:
    """Codes of the periods that have store intercept survey waves, newest first."""
    from sqm.store.models import SurveyInstrument, SurveyWave

    rows = session.scalars(
        select(Period.code)
        .join(SurveyWave, SurveyWave.period_id == Period.id)
        .join(SurveyInstrument, SurveyInstrument.id == SurveyWave.instrument_id)
        .where(SurveyInstrument.kind == "intercept")
        .distinct()
        .order_by(Period.code.desc())
    )
    return list(rows)


def survey_importance(
    session: Session,
    checklist: Checklist,
    periods: Sequence[str],
    *,
    unit_ids: Sequence[int] | None = None,
    min_answers: int = 30,
) -> SurveyImportance:
    """Derived importance (relative weights) of the intercept items that match an indicator
    of ``checklist``, from the answers of the intercept waves of ``periods`` (of the stores
    ``unit_ids`` when given); respondents missing an item or the overall rating are left out.
    """
    from sqm.services.surveys.analysis import derived_item_importance
    from sqm.services.surveys.fielding import answers_frame
    from sqm.store.models import SurveyInstrument, SurveyWave

    if not periods:
        raise DesignError([FieldError("", "periods", "choose at least one survey period")])
    waves = list(
        session.execute(
            select(SurveyWave.id, SurveyWave.code)
            .join(SurveyInstrument, SurveyInstrument.id == SurveyWave.instrument_id)
            .join(Period, Period.id == SurveyWave.period_id)
            .where(SurveyInstrument.kind == "intercept", Period.code.in_(list(periods)))
            .order_by(SurveyWave.code)
        ).all()
    )
    if not waves:
        raise DesignError(
            [FieldError("", "periods", f"no intercept survey in {', '.join(periods)}")]
        )
    have = {ind.code for ind in checklist.indicators()}
    mapping = {q: ind for q, ind in SURVEY_ITEM_INDICATORS.items() if ind in have}
    if not mapping:
        raise DesignError(
            [FieldError("", "indicators", "no indicator of this checklist matches a survey item")]
        )
    frame = answers_frame(session, [w for w, _ in waves], unit_ids=unit_ids)
    items = [q for q in mapping if q in frame.columns]
    if "overall" not in frame.columns or not items:
        raise DesignError(
            [FieldError("", "answers", "the survey answers have no overall rating or items")]
        )
    complete = int(frame[[*items, "overall"]].notna().all(axis=1).sum())
    if complete < max(min_answers, len(items) + 2):
        raise DesignError(
            [
                FieldError(
                    "",
                    "answers",
                    f"{complete} complete answers; at least {max(min_answers, len(items) + 2)} "
                    "are needed to derive importance",
                )
            ]
        )
    try:
        imp = derived_item_importance(frame, items, "overall")
    except RuleError as exc:
        raise DesignError([FieldError("", "answers", str(exc))]) from exc
    imp.insert(1, "indicator", imp["item"].map(mapping))
    per_ind = imp.groupby("indicator", sort=False)["weight"].sum()
    return SurveyImportance(
        periods=sorted(periods),
        waves=[c for _, c in waves],
        n=int(imp.attrs.get("n", complete)),
        r2=float(imp.attrs.get("r2", float("nan"))),
        items=imp[["item", "indicator", "weight", "r"]],
        indicators={str(k): float(v) for k, v in per_ind.items()},
    )


def survey_inputs(si: SurveyImportance, alpha: float, base: WeightProfile) -> dict[str, Any]:
    """What to keep beside survey-derived weights to reproduce them."""
    return {
        "periods": si.periods,
        "waves": si.waves,
        "n": si.n,
        "r2": si.r2,
        "importance_method": "relative_weights (Johnson 2000)",
        "item_importance": {
            str(r["item"]): float(r["weight"]) for r in si.items.to_dict("records")
        },
        "mapping": {str(r["item"]): str(r["indicator"]) for r in si.items.to_dict("records")},
        "alpha": alpha,
        "base": base.code,
    }
