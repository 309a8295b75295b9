"""Designing instruments and planning waves from the analyst's pages.

Instruments: the list with versions and answers, a new instrument from a shipped template
(stored at once) or from scratch (a draft, stored on its first valid save), and saving an
edited draft under the versioning rule of :func:`sqm.services.surveys.fielding.store_instrument`
(answers exist for the latest version → a new version; else that version is replaced).

Waves: a form's raw values are checked field by field (:func:`check_wave_request`); a
valid request is a :class:`WavePlan` whose quota allocation can be previewed
(:func:`allocation_preview`) and then created in one transaction with its quota cells and,
for single-use links, its tokens (:func:`create_planned_wave`).

Every check returns messages keyed by the form field they concern, in Chinese and English;
nothing is written while any of them stands.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, TypeVar

from sqlalchemy import false, func, or_, select
from sqlalchemy.orm import Session

from sqm.domain.errors import MissingError, RuleError
from sqm.domain.instrument import QuestionType, Text
from sqm.domain.instrument_draft import (
    NAME_MAX,
    REQUIRED,
    DimensionDraft,
    GroupDraft,
    InstrumentDraft,
    check_draft,
    code_problem,
    new_question,
    renamed,
)
from sqm.domain.instrument_templates import SEGMENT_CODES, TEMPLATES
from sqm.domain.org import TIER_LABELS, StoreTier, UnitKind, UnitStatus
from sqm.domain.wave import FullPolicy, LinkMode, QuotaCell, WaveStatus
from sqm.methods.sampling import allocate_proportional
from sqm.services.scope import Principal
from sqm.services.surveys.fielding import create_wave, instrument_of, issue_tokens, store_instrument
from sqm.services.surveys.links import LinkSigner
from sqm.services.surveys.quota import plan_quotas, sample_size_for_margin
from sqm.store.models import OrgUnit, Period, SurveyInstrument, SurveyResponse, SurveyWave

# ---------------------------------------------------------------- instruments


@dataclass(frozen=True)
class InstrumentSummary:
    """One instrument code in the list: its latest version and what hangs on it."""

    code: str
    name_zh: str
    name_en: str
    kind: str
    audience: str
    latest_version: int
    versions: int
    answers: int
    waves: int


@dataclass(frozen=True)
class VersionInfo:
    """One stored version of an instrument with the answers and waves that use it."""

    id: int
    version: int
    content_hash: str
    created_at: datetime
    questions: int
    answers: int
    waves: int


def _answers_by_row(session: Session) -> dict[int, int]:
    return {
        i: int(n)
        for i, n in session.execute(
            select(SurveyResponse.instrument_id, func.count(SurveyResponse.id)).group_by(
                SurveyResponse.instrument_id
            )
        )
    }


def _waves_by_row(session: Session) -> dict[int, int]:
    return {
        i: int(n)
        for i, n in session.execute(
            select(SurveyWave.instrument_id, func.count(SurveyWave.id)).group_by(
                SurveyWave.instrument_id
            )
        )
    }


def instrument_summaries(session: Session) -> list[InstrumentSummary]:
    """Every instrument code with its latest version, number of versions, answers and waves
    (over all versions), ordered by code.

    >>> # [s.code for s in instrument_summaries(session)] → ['intercept', 'servqual']
    """
    rows = list(
        session.scalars(
            select(SurveyInstrument).order_by(SurveyInstrument.code, SurveyInstrument.version)
        )
    )
    answers, waves = _answers_by_row(session), _waves_by_row(session)
    by_code: dict[str, list[SurveyInstrument]] = {}
    for r in rows:
        by_code.setdefault(r.code, []).append(r)
    out = []
    for code, versions in by_code.items():
        last = versions[-1]
        out.append(
            InstrumentSummary(
                code=code,
                name_zh=last.name_zh,
                name_en=last.name_en,
                kind=last.kind,
                audience=last.audience,
                latest_version=last.version,
                versions=len(versions),
                answers=sum(answers.get(v.id, 0) for v in versions),
                waves=sum(waves.get(v.id, 0) for v in versions),
            )
        )
    return out


def version_history(session: Session, code: str) -> list[VersionInfo]:
    """The stored versions of instrument ``code``, newest first (empty if unknown)."""
    rows = session.scalars(
        select(SurveyInstrument)
        .where(SurveyInstrument.code == code)
        .order_by(SurveyInstrument.version.desc())
    )
    answers, waves = _answers_by_row(session), _waves_by_row(session)
    return [
        VersionInfo(
            id=r.id,
            version=r.version,
            content_hash=r.content_hash,
            created_at=r.created_at,
            questions=len(instrument_of(r).questions),
            answers=answers.get(r.id, 0),
            waves=waves.get(r.id, 0),
        )
        for r in rows
    ]


def usage_of(session: Session, instrument_id: int) -> tuple[int, int]:
    """``(answers, waves)`` on one stored instrument version."""
    answers = session.scalar(
        select(func.count(SurveyResponse.id)).where(SurveyResponse.instrument_id == instrument_id)
    )
    waves = session.scalar(
        select(func.count(SurveyWave.id)).where(SurveyWave.instrument_id == instrument_id)
    )
    return int(answers or 0), int(waves or 0)


def latest_row(session: Session, code: str) -> SurveyInstrument | None:
    """The latest stored version of instrument ``code``."""
    return session.scalar(
        select(SurveyInstrument)
        .where(SurveyInstrument.code == code)
        .order_by(SurveyInstrument.version.desc())
        .limit(1)
    )


def version_row(session: Session, code: str, version: int) -> SurveyInstrument | None:
    """Version ``version`` of instrument ``code``."""
    return session.scalar(
        select(SurveyInstrument).where(
            SurveyInstrument.code == code, SurveyInstrument.version == version
        )
    )


def instrument_row(session: Session, code: str, version: int | None = None) -> SurveyInstrument:
    """Version ``version`` of instrument ``code`` (the latest when None); raises
    :class:`~sqm.domain.errors.MissingError` (404) when there is none."""
    row = latest_row(session, code) if version is None else version_row(session, code, version)
    if row is None:
        raise MissingError("no such instrument or version")
    return row


def template_choices() -> list[tuple[str, Text]]:
    """``(template code, name)`` of the shipped templates, in their catalogue order."""
    return [(code, build().name) for code, build in TEMPLATES.items()]


def suggest_code(session: Session, base: str) -> str:
    """``base`` if no instrument has that code yet, else ``base_2``, ``base_3`` …"""
    taken = set(session.scalars(select(SurveyInstrument.code).distinct()))
    if base not in taken:
        return base
    n = 2
    while f"{base}_{n}" in taken:
        n += 1
    return f"{base}_{n}"


@dataclass
class StartResult:
    """What starting a new instrument gave: a stored row (from a template), a draft to edit
    (from scratch), or the problems with the request."""

    row: SurveyInstrument | None = None
    draft: InstrumentDraft | None = None
    errors: dict[str, Text] = field(default_factory=dict)


def start_instrument(
    session: Session, *, template: str, code: str, name_zh: str, name_en: str
) -> StartResult:
    """Start a new instrument called ``code``.

    From a template: a copy of it under ``code`` (names default to the template's) is stored
    as version 1. From scratch (``template == ""``): a draft with one dimension and one
    group holding one question, stored only when first saved valid.
    """
    code, name_zh, name_en = code.strip(), name_zh.strip(), name_en.strip()
    errors: dict[str, Text] = {}
    problem = code_problem(code, instrument=True)
    if problem is not None:
        errors["code"] = problem
    elif code == "new":  # /survey-design/instruments/new is the page to start one
        errors["code"] = Text("“new”是保留字", "'new' is reserved")
    elif latest_row(session, code) is not None:
        errors["code"] = Text("已有同代码的问卷", "An instrument with this code exists")
    if template and template not in TEMPLATES:
        errors["template"] = Text("请选择模板或空白问卷", "Choose a template or an empty one")
    for key, value in (("name_zh", name_zh), ("name_en", name_en)):
        if len(value) > NAME_MAX:
            errors[key] = Text(f"最多 {NAME_MAX} 个字符", f"At most {NAME_MAX} characters")
        elif not template and not value:
            errors[key] = REQUIRED
    if errors:
        return StartResult(errors=errors)
    if template:
        base = TEMPLATES[template]()
        inst = renamed(base, code, Text(name_zh or base.name.zh, name_en or base.name.en))
        return StartResult(row=store_instrument(session, inst))
    draft = InstrumentDraft(
        code=code,
        name_zh=name_zh,
        name_en=name_en,
        dimensions=[DimensionDraft("overall", "总体评价", "Overall")],
        groups=[GroupDraft("page1", "第一页", "Page 1")],
    )
    draft.groups[0].questions.append(new_question(draft))
    return StartResult(draft=draft)


Change = Literal["created", "updated", "new_version", "unchanged"]


@dataclass
class SaveResult:
    """The outcome of saving a draft: the stored row and what happened, or the problems."""

    row: SurveyInstrument | None = None
    change: Change | None = None
    errors: dict[str, Text] = field(default_factory=dict)


def save_draft(session: Session, draft: InstrumentDraft, *, new: bool) -> SaveResult:
    """Check a draft and store it; nothing is written when any field is wrong.

    ``new`` saves an instrument that does not exist yet (its code must be free); otherwise
    the draft revises the latest version of its code: when answers exist for that version
    the result is a new version (``"new_version"``, the answers keep theirs), when none do
    that version is replaced (``"updated"``), and an unchanged draft changes nothing
    (``"unchanged"``). The kind of an existing instrument (which analysis applies) stays.
    """
    latest = latest_row(session, draft.code) if draft.code else None
    if new and latest is not None:
        return SaveResult(
            errors={"code": Text("已有同代码的问卷", "An instrument with this code exists")}
        )
    if not new:
        if latest is None:
            raise RuleError(f"code: no instrument {draft.code!r} to revise")
        draft.kind = latest.kind
    inst, errors = check_draft(draft)
    if inst is None:
        return SaveResult(errors=errors)
    if latest is None:
        return SaveResult(row=store_instrument(session, inst), change="created")
    old_id, old_hash = latest.id, latest.content_hash
    row = store_instrument(session, inst)
    if row.id != old_id:
        change: Change = "new_version"
    else:
        change = "unchanged" if row.content_hash == old_hash else "updated"
    return SaveResult(row=row, change=change)


# ---------------------------------------------------------------- sample size


@dataclass(frozen=True)
class SampleSize:
    """A sample-size calculation as typed, with its result ``n`` or the problems."""

    margin: str
    confidence: str
    population: str
    sd: str
    n: int | None = None
    n_infinite: int | None = None
    errors: dict[str, Text] = field(default_factory=dict)


CONFIDENCES: tuple[str, ...] = ("90", "95", "99")


def sample_size(margin: str, confidence: str, population: str = "", sd: str = "") -> SampleSize:
    """Interviews needed for a margin of error, from a calculator's raw inputs.

    ``margin`` is in percentage points for a proportion, or in score points for a mean score
    when a standard deviation ``sd`` is given; ``confidence`` in percent; ``population`` is
    optional (finite-population correction). ``n_infinite`` is the size without it.

    >>> sample_size("5", "95").n, sample_size("5", "95", "10000").n
    (385, 370)
    """
    errors: dict[str, Text] = {}
    m = _number(margin)
    mean = bool(sd.strip())
    s = _number(sd) if mean else None
    if mean and (s is None or s <= 0):
        errors["sd"] = Text("标准差须为正数", "The standard deviation must be positive")
    if m is None or m <= 0 or (not mean and m >= 100):
        errors["margin"] = Text(
            "误差须为正数（比例时小于 100）",
            "The margin must be positive (below 100 for a proportion)",
        )
    if confidence not in CONFIDENCES:
        errors["confidence"] = Text("置信度可为 90、95 或 99", "Confidence may be 90, 95 or 99")
    pop: float | None = None
    if population.strip():
        pop = _number(population)
        if pop is None or pop < 1:
            errors["population"] = Text(
                "总体须为不小于 1 的数", "The population must be at least 1"
            )
    if errors or m is None:
        return SampleSize(margin, confidence, population, sd, errors=errors)
    conf = int(confidence) / 100.0
    e = m if mean else m / 100.0
    n = sample_size_for_margin(e, confidence=conf, sd=s, population=pop)
    n_inf = sample_size_for_margin(e, confidence=conf, sd=s)
    return SampleSize(margin, confidence, population, sd, n=n, n_infinite=n_inf)


def _number(raw: str) -> float | None:
    try:
        value = float(raw.strip())
    except (ValueError, AttributeError):
        return None
    return value if value == value and abs(value) != float("inf") else None


# ---------------------------------------------------------------- waves

WAVE_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
NO_TIER = "-"
#: Segments of interlocked quotas, in the order of their answer codes.
SEGMENTS: tuple[str, ...] = tuple(SEGMENT_CODES[c] for c in sorted(SEGMENT_CODES))
MAX_TOTAL = 100_000
MAX_TOKENS = 20_000
_Row = TypeVar("_Row", OrgUnit, Period, SurveyInstrument)


@dataclass
class WaveRequest:
    """The new-wave form as typed (all strings; ``tiers`` the ticked boxes)."""

    code: str = ""
    name: str = ""
    period_id: str = ""
    instrument_id: str = ""
    root_id: str = ""
    tiers: list[str] = field(default_factory=lambda: [t.value for t in StoreTier])
    total: str = ""
    minimum: str = "5"
    interlocked: bool = False
    shares: dict[str, str] = field(default_factory=lambda: {"ordinary": "70", "business": "30"})
    full_policy: str = FullPolicy.OVER_QUOTA.value
    link_mode: str = LinkMode.OPEN.value
    tokens_per_store: str = ""
    open_now: bool = True


@dataclass
class WavePlan:
    """A checked new-wave request, ready to preview or create."""

    code: str
    name: str
    period: Period
    instrument: SurveyInstrument
    root: OrgUnit
    stores: list[OrgUnit]
    total: int
    minimum: int
    segment_shares: dict[str, float] | None
    full_policy: FullPolicy
    link_mode: LinkMode
    tokens_per_store: int | None
    status: WaveStatus
    cells: tuple[QuotaCell, ...] = ()


def period_choices(session: Session) -> list[Period]:
    """Periods a wave may be planned in (not locked), newest first."""
    return list(
        session.scalars(
            select(Period)
            .where(Period.status != "locked")
            .order_by(Period.start.desc(), Period.kind)
        )
    )


def instrument_choices(session: Session) -> list[SurveyInstrument]:
    """Every stored instrument version, latest versions of each code first."""
    rows = list(
        session.scalars(
            select(SurveyInstrument).order_by(
                SurveyInstrument.code, SurveyInstrument.version.desc()
            )
        )
    )
    return rows


def subtree_choices(session: Session, principal: Principal) -> list[OrgUnit]:
    """The org units (company down to district) in the principal's scope whose stores a
    wave may target, in tree order."""
    kinds = [UnitKind.COMPANY, UnitKind.PROVINCE, UnitKind.CITY, UnitKind.DISTRICT]
    return list(
        session.scalars(
            select(OrgUnit)
            .where(principal.unit_filter(), OrgUnit.kind.in_(kinds))
            .order_by(OrgUnit.path)
        )
    )


def target_stores(
    session: Session, principal: Principal, root: OrgUnit, tiers: Sequence[str]
) -> list[OrgUnit]:
    """The active stores under ``root`` in the principal's scope whose tier is ticked
    (:data:`NO_TIER` stands for stores without a tier), by code."""
    tier_values = [t for t in tiers if t != NO_TIER]
    tier_cond = or_(
        OrgUnit.tier.in_(tier_values), OrgUnit.tier.is_(None) if NO_TIER in tiers else false()
    )
    return list(
        session.scalars(
            select(OrgUnit)
            .where(
                principal.unit_filter(),
                OrgUnit.path.startswith(root.path),
                OrgUnit.kind == UnitKind.STORE,
                OrgUnit.status == UnitStatus.ACTIVE,
                tier_cond,
            )
            .order_by(OrgUnit.code)
        )
    )


def _int_field(
    errors: dict[str, Text], key: str, raw: str, low: int, high: int, *, needed: bool = True
) -> int | None:
    raw = raw.strip()
    if not raw:
        if needed:
            errors[key] = REQUIRED
        return None
    if not re.fullmatch(r"\d+", raw) or not low <= int(raw) <= high:
        errors[key] = Text(
            f"填写 {low} 到 {high} 之间的整数", f"Enter a whole number from {low} to {high}"
        )
        return None
    return int(raw)


def _row_by_id(session: Session, model: type[_Row], raw: str) -> _Row | None:
    return session.get(model, int(raw)) if re.fullmatch(r"\d{1,12}", raw.strip()) else None


def check_wave_request(
    session: Session, principal: Principal, req: WaveRequest
) -> tuple[WavePlan | None, dict[str, Text]]:
    """Check a new-wave request field by field; return the plan (with its quota cells) when
    every rule holds, else ``None`` and the problems by form field.

    Rules: a free wave code usable in links; a period that is not locked; a stored
    instrument version; a subtree in the user's scope and at least one tier, which must
    select at least one active store; a total of at least minimum × stores; for interlocked
    quotas an instrument with the segment question and segment shares adding up to 100; a
    known full-cell policy and link type; a token count per store for single-use links.
    """
    errors: dict[str, Text] = {}
    code = req.code.strip()
    if not code:
        errors["code"] = REQUIRED
    elif not WAVE_CODE.match(code):
        errors["code"] = Text(
            "代码只含字母、数字、_、. 和 -（最多 64 个）",
            "A code has only letters, digits, _, . and - (at most 64)",
        )
    elif session.scalar(select(SurveyWave.id).where(SurveyWave.code == code)) is not None:
        errors["code"] = Text("已有同代码的调查批次", "A wave with this code exists")
    name = req.name.strip()
    if len(name) > NAME_MAX:
        errors["name"] = Text(f"最多 {NAME_MAX} 个字符", f"At most {NAME_MAX} characters")
    period = _row_by_id(session, Period, req.period_id)
    if period is None:
        errors["period_id"] = Text("请选择评价期", "Choose a period")
    elif period.status == "locked":
        errors["period_id"] = Text("该评价期已发布锁定", "This period is published and locked")
    instrument = _row_by_id(session, SurveyInstrument, req.instrument_id)
    if instrument is None:
        errors["instrument_id"] = Text("请选择问卷版本", "Choose an instrument version")
    root = _row_by_id(session, OrgUnit, req.root_id)
    if root is None or not principal.sees(root):
        errors["root_id"] = Text("请选择您范围内的组织", "Choose a unit in your scope")
        root = None
    tiers = [t for t in req.tiers if t in {s.value for s in StoreTier} | {NO_TIER}]
    if not tiers:
        errors["tiers"] = Text("至少选择一个门店等级", "Tick at least one store tier")
    stores = target_stores(session, principal, root, tiers) if root is not None and tiers else []
    if root is not None and tiers and not stores:
        errors["root_id"] = Text(
            "所选范围和等级下没有营业中的门店", "No active store under this unit with these tiers"
        )
    minimum = _int_field(errors, "minimum", req.minimum, 1, 1000)
    total = _int_field(errors, "total", req.total, 1, MAX_TOTAL)
    if total is not None and minimum is not None and stores and total < minimum * len(stores):
        errors["total"] = Text(
            f"至少需要 {minimum * len(stores)}（{len(stores)} 家门店 × 每店 {minimum}）",
            f"At least {minimum * len(stores)} needed ({len(stores)} stores × {minimum} each)",
        )
    shares: dict[str, float] | None = None
    if req.interlocked:
        shares = {}
        for seg in SEGMENTS:
            value = _int_field(errors, f"share_{seg}", req.shares.get(seg, ""), 0, 100)
            if value is not None:
                shares[seg] = float(value)
        if len(shares) == len(SEGMENTS) and sum(shares.values()) != 100:
            errors["share_business"] = Text(
                f"各类客户的占比之和须为 100，现为 {sum(shares.values()):g}",
                f"The segment shares must add up to 100; they add up to {sum(shares.values()):g}",
            )
        if instrument is not None and not _has_segment_question(instrument):
            errors["interlocked"] = Text(
                "该问卷没有客户类型题（segment），不能按客户类型交叉配额",
                "This instrument has no segment question, so quotas cannot be interlocked",
            )
    try:
        policy = FullPolicy(req.full_policy)
    except ValueError:
        errors["full_policy"] = Text("请选择名额满后的处理方式", "Choose what a full cell does")
        policy = FullPolicy.OVER_QUOTA
    try:
        link_mode = LinkMode(req.link_mode)
    except ValueError:
        errors["link_mode"] = Text("请选择链接类型", "Choose a link type")
        link_mode = LinkMode.OPEN
    tokens: int | None = None
    if link_mode is LinkMode.TOKEN:
        tokens = _int_field(errors, "tokens_per_store", req.tokens_per_store, 1, 5000, needed=False)
    if errors or period is None or instrument is None or root is None:
        return None, errors
    if total is None or minimum is None:  # unreachable: a missing number is an error above
        return None, errors
    cells = plan_quotas(
        {s.code: float(s.traffic or 0) for s in stores},
        total,
        minimum=minimum,
        segment_shares=shares,
    )
    if link_mode is LinkMode.TOKEN:
        count = tokens * len(stores) if tokens else sum(c.target for c in cells)
        if count > MAX_TOKENS:
            errors["tokens_per_store"] = Text(
                f"一次最多发放 {MAX_TOKENS} 个一次性链接（现为 {count}）",
                f"At most {MAX_TOKENS} single-use links at once (this makes {count})",
            )
            return None, errors
    plan = WavePlan(
        code=code,
        name=name or code,
        period=period,
        instrument=instrument,
        root=root,
        stores=stores,
        total=total,
        minimum=minimum,
        segment_shares={k: v / 100.0 for k, v in shares.items()} if shares else None,
        full_policy=policy,
        link_mode=link_mode,
        tokens_per_store=tokens,
        status=WaveStatus.OPEN if req.open_now else WaveStatus.DRAFT,
        cells=cells,
    )
    return plan, {}


def _has_segment_question(row: SurveyInstrument) -> bool:
    """Whether answers to the instrument name the customer segment the way quota cells are
    counted (:func:`sqm.services.surveys.fielding.segment_of`)."""
    return any(
        q.code == "segment"
        and q.qtype is QuestionType.SINGLE
        and {o.code for o in q.options} == set(SEGMENT_CODES)
        for q in instrument_of(row).questions
    )


@dataclass(frozen=True)
class AllocationRow:
    """One store of a previewed wave: traffic, its plain proportional share of the total,
    the quota after the minimum and rounding, and its cells by segment."""

    code: str
    name_zh: str
    name_en: str
    tier: str | None
    traffic: int
    proportional: float
    target: int
    at_minimum: bool
    segments: dict[str, int]


@dataclass(frozen=True)
class AllocationPreview:
    """The quota allocation of a wave plan, store by store, with totals."""

    rows: list[AllocationRow]
    total: int
    traffic: int
    at_minimum: int
    segments: tuple[str, ...]


def allocation_preview(plan: WavePlan) -> AllocationPreview:
    """How the plan shares its total over its stores (and segments).

    ``proportional`` is ``total × traffic / Σ traffic`` before the minimum; ``target`` is
    the store's quota after the minimum and the largest-remainder rounding
    (:func:`sqm.methods.sampling.allocate_proportional`).
    """
    traffic = {s.code: float(s.traffic or 0) for s in plan.stores}
    per_store = allocate_proportional(traffic, plan.total, minimum=plan.minimum)
    weight = sum(traffic.values())
    cells: dict[str, dict[str, int]] = {}
    for c in plan.cells:
        cells.setdefault(c.unit, {})[c.segment] = c.target
    rows = [
        AllocationRow(
            code=s.code,
            name_zh=s.name_zh,
            name_en=s.name_en,
            tier=s.tier,
            traffic=int(s.traffic or 0),
            proportional=plan.total * traffic[s.code] / weight if weight else 0.0,
            target=int(per_store[s.code]),
            at_minimum=int(per_store[s.code]) == plan.minimum,
            segments=cells.get(s.code, {}),
        )
        for s in plan.stores
    ]
    return AllocationPreview(
        rows=rows,
        total=plan.total,
        traffic=int(weight),
        at_minimum=sum(r.at_minimum for r in rows),
        segments=tuple(plan.segment_shares) if plan.segment_shares else (),
    )


def plan_fingerprint(plan: WavePlan) -> str:
    """What the analyst saw in the preview of a wave plan: the page sends it back with
    *create*, and a wave is created only when the plan checked again has the same
    fingerprint (nothing changed since the preview)."""
    content = {
        "code": plan.code,
        "name": plan.name,
        "period": plan.period.id,
        "instrument": plan.instrument.id,
        "cells": [[c.unit, c.segment, c.target] for c in plan.cells],
        "policy": plan.full_policy.value,
        "link": plan.link_mode.value,
        "tokens": plan.tokens_per_store,
        "status": plan.status.value,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def create_planned_wave(
    session: Session, signer: LinkSigner, plan: WavePlan
) -> tuple[SurveyWave, dict[str, list[str]]]:
    """Create the wave of a checked plan with its quota cells and, for single-use links,
    its tokens (``tokens_per_store`` each, or as many as each store's quota); returns the
    wave and the new tokens by store code — shown once, only their hashes are stored."""
    wave = create_wave(
        session,
        code=plan.code,
        period=plan.period,
        instrument=plan.instrument,
        stores=plan.stores,
        total=plan.total,
        minimum=plan.minimum,
        segment_shares=plan.segment_shares,
        full_policy=plan.full_policy,
        link_mode=plan.link_mode,
        status=plan.status,
        name=plan.name,
    )
    tokens: dict[str, list[str]] = {}
    if plan.link_mode is LinkMode.TOKEN:
        targets: dict[str, int] = {}
        for c in plan.cells:
            targets[c.unit] = targets.get(c.unit, 0) + c.target
        for store in plan.stores:
            count = plan.tokens_per_store or targets.get(store.code, 0)
            tokens[store.code] = issue_tokens(session, signer, wave, store, count)
    session.flush()
    return wave, tokens


def tier_label(tier: str | None, locale: str) -> str:
    """The tier's name in ``locale`` (``–`` for none)."""
    if tier is None:
        return "–"
    try:
        zh, en = TIER_LABELS[StoreTier(tier)]
    except ValueError:
        return tier
    return en if locale == "en" else zh
