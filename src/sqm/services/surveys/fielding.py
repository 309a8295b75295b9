"""Fielding surveys: storing instrument versions, planning waves, issuing links, taking
submissions all-or-nothing, audited amendments, and reading answers back for analysis.

A submission is written in a transaction whose first statement is a write: a single-use
token is marked used by ``… WHERE used_at IS NULL``, the quota cell's counter is raised by
a conditional UPDATE (``achieved < target``), and the response row is inserted. Either all
happen or none, and two concurrent submissions can never take the same last place in a
cell or use the same token twice (SQLite serialises writers; PostgreSQL locks the row).
Look-ups (store, instrument) happen before, outside the write transaction, so a SQLite
writer never has to upgrade a read snapshot. The web page hands submissions to a group
commit (:mod:`sqm.store.group_commit`): many customers' submissions share one transaction
and one commit, each still decided as if alone (:func:`write_submissions`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    Integer,
    and_,
    bindparam,
    func,
    insert,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from sqm.domain.errors import RuleError
from sqm.domain.instrument import (
    FieldError,
    Instrument,
    QuestionType,
    coerce_answers,
    revise,
    validate_answers,
)
from sqm.domain.instrument_templates import SEGMENT_CODES
from sqm.domain.wave import ANY_SEGMENT, FullPolicy, LinkMode, QuotaCell, Wave, WaveStatus
from sqm.ingest.survey_answers import (
    AnswerImportError,
    ColumnMapping,
    import_answers,
    read_table,
    suggest_mapping,
)
from sqm.lazy import lazy_import
from sqm.services.surveys.links import (
    GuardDecision,
    LinkError,
    LinkSigner,
    SubmissionGuard,
    answers_fingerprint,
    token_id,
)
from sqm.services.surveys.quota import plan_quotas
from sqm.store.base import utcnow
from sqm.store.models import (
    OrgUnit,
    Period,
    SurveyAmendment,
    SurveyInstrument,
    SurveyQuota,
    SurveyResponse,
    SurveyToken,
    SurveyWave,
)

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_import("pandas")

# ---------------------------------------------------------------- instruments

_INSTRUMENT_CACHE: dict[tuple[int, str], Instrument] = {}


def instrument_of(row: SurveyInstrument) -> Instrument:
    """The domain instrument stored in ``row`` (cached by id and content hash)."""
    key = (row.id, row.content_hash)
    inst = _INSTRUMENT_CACHE.get(key)
    if inst is None:
        inst = Instrument.from_dict(row.definition)
        _INSTRUMENT_CACHE[key] = inst
    return inst


def store_instrument(session: Session, inst: Instrument) -> SurveyInstrument:
    """Store an instrument, applying the versioning rule of :func:`revise`.

    Same content as the latest version → that row; changed content and no answers on the
    latest version → the latest row is updated in place; changed content after answers →
    a new row with the next version number.
    """
    latest = session.scalar(
        select(SurveyInstrument)
        .where(SurveyInstrument.code == inst.code)
        .order_by(SurveyInstrument.version.desc())
        .limit(1)
    )
    if latest is None:
        row = _instrument_row(inst)
        session.add(row)
        session.flush()
        return row
    current = instrument_of(latest)
    has_answers = bool(
        session.scalar(
            select(func.count(SurveyResponse.id)).where(SurveyResponse.instrument_id == latest.id)
        )
    )
    kept = revise(current, inst, has_answers=has_answers)
    if kept is current:
        return latest
    if kept.version == latest.version:
        latest.definition = kept.to_dict()
        latest.content_hash = kept.content_hash
        latest.name_zh, latest.name_en = kept.name.zh, kept.name.en
        session.flush()
        return latest
    row = _instrument_row(kept)
    session.add(row)
    session.flush()
    return row


def _instrument_row(inst: Instrument) -> SurveyInstrument:
    return SurveyInstrument(
        code=inst.code,
        version=inst.version,
        kind=inst.kind,
        audience=inst.audience,
        name_zh=inst.name.zh,
        name_en=inst.name.en,
        content_hash=inst.content_hash,
        definition=inst.to_dict(),
    )


# ---------------------------------------------------------------- waves


def create_wave(
    session: Session,
    *,
    code: str,
    period: Period,
    instrument: SurveyInstrument,
    stores: Sequence[OrgUnit],
    total: int,
    minimum: int = 5,
    segment_shares: Mapping[str, float] | None = None,
    full_policy: FullPolicy = FullPolicy.OVER_QUOTA,
    link_mode: LinkMode = LinkMode.OPEN,
    status: WaveStatus = WaveStatus.OPEN,
    name: str = "",
) -> SurveyWave:
    """Create a wave with quotas: ``total`` answers over ``stores`` in proportion to their
    traffic, at least ``minimum`` each, split by segment when ``segment_shares`` is given."""
    if not stores:
        raise RuleError("stores must list at least one store")
    traffic = {s.code: float(s.traffic or 0) for s in stores}
    cells = plan_quotas(traffic, total, minimum=minimum, segment_shares=segment_shares)
    wave = SurveyWave(
        code=code,
        name=name or code,
        period_id=period.id,
        instrument_id=instrument.id,
        full_policy=full_policy.value,
        link_mode=link_mode.value,
        status=status.value,
        interlocked=segment_shares is not None,
    )
    session.add(wave)
    session.flush()
    by_code = {s.code: s.id for s in stores}
    session.execute(
        insert(SurveyQuota),
        [
            {
                "wave_id": wave.id,
                "unit_id": by_code[c.unit],
                "segment": c.segment,
                "target": c.target,
                "achieved": 0,
                "over_quota": 0,
            }
            for c in cells
        ],
    )
    return wave


def wave_of(session: Session, wave: SurveyWave) -> Wave:
    """The domain wave (with its quota cells keyed by store code) of a stored wave."""
    rows = session.execute(
        select(OrgUnit.code, SurveyQuota.segment, SurveyQuota.target)
        .join(OrgUnit, OrgUnit.id == SurveyQuota.unit_id)
        .where(SurveyQuota.wave_id == wave.id)
        .order_by(SurveyQuota.id)
    ).all()
    return Wave(
        code=wave.code,
        period=wave.period.code,
        instrument_code=wave.instrument.code,
        instrument_version=wave.instrument.version,
        quotas=tuple(QuotaCell(u, s, t) for u, s, t in rows),
        full_policy=FullPolicy(wave.full_policy),
        link_mode=LinkMode(wave.link_mode),
        status=WaveStatus(wave.status),
        interlocked=wave.interlocked,
        name=wave.name,
    )


def issue_tokens(
    session: Session, signer: LinkSigner, wave: SurveyWave, unit: OrgUnit, count: int
) -> list[str]:
    """``count`` single-use tokens for one store; only their hashes are stored."""
    tokens = signer.issue(wave.code, unit.code, count)
    if tokens:
        session.execute(
            insert(SurveyToken),
            [{"wave_id": wave.id, "unit_id": unit.id, "token_sha256": token_id(t)} for t in tokens],
        )
    return tokens


def quota_rows(
    session: Session, wave: SurveyWave, unit_ids: Sequence[int] | None = None
) -> pd.DataFrame:
    """Quota progress straight from the counters: one row per cell with store code and
    names, target, achieved, over-quota and fill in percent."""
    q = (
        select(
            OrgUnit.id.label("unit_id"),
            OrgUnit.code.label("unit"),
            OrgUnit.name_zh,
            OrgUnit.name_en,
            SurveyQuota.segment,
            SurveyQuota.target,
            SurveyQuota.achieved,
            SurveyQuota.over_quota,
        )
        .join(OrgUnit, OrgUnit.id == SurveyQuota.unit_id)
        .where(SurveyQuota.wave_id == wave.id)
        .order_by(OrgUnit.code, SurveyQuota.segment)
    )
    if unit_ids is not None:
        q = q.where(SurveyQuota.unit_id.in_(list(unit_ids)))
    frame = pd.DataFrame(session.execute(q).mappings().all())
    if frame.empty:
        return frame
    frame["fill_pct"] = (
        100.0 * frame[["achieved", "target"]].min(axis=1) / frame["target"].clip(lower=1)
    )
    return frame


# ---------------------------------------------------------------- submissions


class Outcome(StrEnum):
    """What happened to a submission."""

    ACCEPTED = "accepted"
    ACCEPTED_OVER_QUOTA = "accepted_over_quota"
    SCREENED_OUT = "screened_out"
    CELL_CLOSED = "cell_closed"
    WAVE_CLOSED = "wave_closed"
    TOKEN_USED = "token_used"
    BAD_LINK = "bad_link"
    INVALID = "invalid"
    DUPLICATE = "duplicate"
    RATE_LIMITED = "rate_limited"

    @property
    def stored(self) -> bool:
        """Whether the answers were stored."""
        return self in (Outcome.ACCEPTED, Outcome.ACCEPTED_OVER_QUOTA)


@dataclass(frozen=True)
class Submission:
    """The result of :func:`submit`."""

    outcome: Outcome
    response_id: int | None = None
    errors: list[FieldError] = field(default_factory=list)


@dataclass(frozen=True)
class LinkTarget:
    """What a verified link leads to (looked up once per request)."""

    wave_id: int
    wave_code: str
    status: str
    full_policy: str
    interlocked: bool
    unit_id: int
    unit_code: str
    unit_name_zh: str
    unit_name_en: str
    instrument_id: int
    instrument: Instrument
    single_use: bool
    token_sha256: str | None


def resolve_link(session: Session, signer: LinkSigner, token: str) -> LinkTarget:
    """Verify a link and look up its wave, store and instrument; raises :class:`LinkError`
    for a forged link or one naming an unknown wave or a store outside the wave."""
    claims = signer.verify(token)
    wave = session.scalar(select(SurveyWave).where(SurveyWave.code == claims.wave))
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == claims.unit))
    if wave is None or unit is None:
        raise LinkError("the survey link names an unknown wave or store")
    in_wave = session.scalar(
        select(func.count(SurveyQuota.id)).where(
            SurveyQuota.wave_id == wave.id, SurveyQuota.unit_id == unit.id
        )
    )
    if not in_wave:
        raise LinkError("the store is not part of this wave")
    if claims.single_use and wave.link_mode != LinkMode.TOKEN.value:
        raise LinkError("this wave does not use single-use links")
    return LinkTarget(
        wave_id=wave.id,
        wave_code=wave.code,
        status=wave.status,
        full_policy=wave.full_policy,
        interlocked=wave.interlocked,
        unit_id=unit.id,
        unit_code=unit.code,
        unit_name_zh=unit.name_zh,
        unit_name_en=unit.name_en or unit.name_zh,
        instrument_id=wave.instrument_id,
        instrument=instrument_of(wave.instrument),
        single_use=claims.single_use,
        token_sha256=claims.token_id if claims.single_use else None,
    )


def token_state(session: Session, target: LinkTarget) -> str:
    """``"ok"``, ``"used"`` or ``"unknown"`` for a single-use link (``"ok"`` for open links)."""
    if not target.single_use:
        return "ok"
    used = session.execute(
        select(SurveyToken.used_at).where(SurveyToken.token_sha256 == target.token_sha256)
    ).first()
    if used is None:
        return "unknown"
    return "used" if used[0] is not None else "ok"


def segment_of(answers: Mapping[str, Any]) -> str | None:
    """The respondent's segment name from the coded ``segment`` answer."""
    code = answers.get("segment")
    return SEGMENT_CODES.get(int(code)) if isinstance(code, int | float) else None


@dataclass(frozen=True)
class PendingSubmission:
    """A validated submission waiting to be written (see :func:`prepare_submission`)."""

    target: LinkTarget
    answers: dict[str, Any]
    segment: str | None
    cell_segment: str
    lang: str
    client: str | None
    channel: str


def prepare_submission(
    target: LinkTarget,
    raw_answers: Mapping[str, Any],
    *,
    lang: str = "zh",
    client: str | None = None,
    guard: SubmissionGuard | None = None,
    channel: str = "web",
) -> PendingSubmission | Submission:
    """Check a submission before any write: the link's wave is open (as last looked up), the
    answers are valid, and the open-link guard lets this device through. Returns what to
    write, or the final :class:`Submission` when there is nothing to write."""
    if target.status != WaveStatus.OPEN.value:
        return Submission(Outcome.WAVE_CLOSED)
    inst = target.instrument
    errors = validate_answers(inst, raw_answers)
    if errors:
        return Submission(Outcome.INVALID, errors=errors)
    answers = coerce_answers(inst, raw_answers)
    segment = segment_of(answers)
    cell_segment = segment if target.interlocked and segment else ANY_SEGMENT
    if guard is not None and client is not None and not target.single_use:
        decision = guard.check(client, target.unit_code, answers_fingerprint(answers))
        if decision is GuardDecision.DUPLICATE:
            return Submission(Outcome.DUPLICATE)
        if decision is GuardDecision.RATE_LIMITED:
            return Submission(Outcome.RATE_LIMITED)
    return PendingSubmission(target, answers, segment, cell_segment, lang, client, channel)


def submit(
    factory: sessionmaker[Session],
    target: LinkTarget,
    raw_answers: Mapping[str, Any],
    *,
    lang: str = "zh",
    client: str | None = None,
    guard: SubmissionGuard | None = None,
    channel: str = "web",
    retries: int = 5,
) -> Submission:
    """Store one respondent's answers all-or-nothing, in a transaction of its own (see the
    module docstring). The web page batches submissions with :func:`write_submissions`
    through a group commit instead; both take the same path to the database."""
    pending = prepare_submission(
        target, raw_answers, lang=lang, client=client, guard=guard, channel=channel
    )
    if isinstance(pending, Submission):
        return pending
    for attempt in range(retries):
        with factory() as session:
            try:
                result = write_submissions(session, [pending])[0]
                session.commit()
                return result
            except OperationalError as exc:  # SQLite "database is locked" past the busy timeout
                session.rollback()
                if "locked" not in str(exc).lower() or attempt == retries - 1:
                    raise
            except BaseException:
                session.rollback()
                raise
        time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


# Statements built once: a submission only binds values (no per-request SQL construction).
_FREE_TOKEN = (
    update(SurveyToken).where(SurveyToken.token_sha256 == bindparam("p_token")).values(used_at=None)
)
_CELL = and_(
    SurveyQuota.wave_id == bindparam("p_wave"),
    SurveyQuota.unit_id == bindparam("p_unit"),
    SurveyQuota.segment == bindparam("p_segment"),
)
_TAKE_PLACE = (
    update(SurveyQuota)
    .where(_CELL, SurveyQuota.achieved < SurveyQuota.target)
    .values(achieved=SurveyQuota.achieved + 1)
)
_COUNT_OVER = (
    update(SurveyQuota)
    .where(_CELL)
    .values(over_quota=SurveyQuota.over_quota + bindparam("p_n", type_=Integer))
)
_INSERT_RESPONSES = insert(SurveyResponse).returning(
    SurveyResponse.id, sort_by_parameter_order=True
)
_OPEN_WAVES = select(SurveyWave.id).where(
    SurveyWave.id.in_(bindparam("p_waves", expanding=True)),
    SurveyWave.status == WaveStatus.OPEN.value,
)


_USE_TOKENS = (
    update(SurveyToken)
    .where(
        tuple_(SurveyToken.token_sha256, SurveyToken.wave_id).in_(
            bindparam("p_tokens", expanding=True)
        ),
        SurveyToken.used_at.is_(None),
    )
    .values(used_at=bindparam("p_now"))
    .returning(SurveyToken.token_sha256, SurveyToken.wave_id)
)

# PostgreSQL: every cell of a batch in one statement. The cells are locked in id order (no
# deadlock between two writers), read as they are once locked, and each takes
# min(k, room) places; RETURNING gives the room it had, so each submission learns whether
# it got a place exactly as if the k had come one at a time.
_TAKE_PLACES_PG = text(
    """
    WITH wanted AS (
        SELECT * FROM unnest(CAST(:waves AS integer[]), CAST(:units AS integer[]),
                             CAST(:segments AS varchar[]), CAST(:ks AS integer[]))
                 AS w(wave_id, unit_id, segment, k)
    ), locked AS (
        SELECT q.id, q.target - q.achieved AS room, w.k
        FROM survey_quota q
        JOIN wanted w ON q.wave_id = w.wave_id AND q.unit_id = w.unit_id AND q.segment = w.segment
        ORDER BY q.id
        FOR UPDATE OF q
    )
    UPDATE survey_quota q
    SET achieved = q.achieved + LEAST(l.k, GREATEST(l.room, 0)),
        over_quota = q.over_quota
            + CASE WHEN :count_over THEN l.k - LEAST(l.k, GREATEST(l.room, 0)) ELSE 0 END
    FROM locked l
    WHERE q.id = l.id
    RETURNING q.wave_id, q.unit_id, q.segment, LEAST(l.k, GREATEST(l.room, 0)) AS taken
    """
)


def _take_places(
    conn: Connection, wanted: dict[tuple[int, int, str], int], count_over: dict[int, bool]
) -> dict[tuple[int, int, str], int]:
    """Places taken per quota cell (wave, unit, segment) for ``k`` submissions each; cells
    of waves whose policy keeps over-quota answers also count the rest as over quota."""
    cells = sorted(wanted)
    if conn.dialect.name == "postgresql":
        taken: dict[tuple[int, int, str], int] = {}
        for flag in sorted({count_over[c[0]] for c in cells}):
            part = [c for c in cells if count_over[c[0]] == flag]
            rows = conn.execute(
                _TAKE_PLACES_PG,
                {
                    "waves": [c[0] for c in part],
                    "units": [c[1] for c in part],
                    "segments": [c[2] for c in part],
                    "ks": [wanted[c] for c in part],
                    "count_over": flag,
                },
            )
            taken.update({(w, u, seg): n for w, u, seg, n in rows})
        return taken
    # SQLite: no network round trips to save, and UPDATE … FROM cannot return the room it
    # had; one conditional UPDATE per place, stopping at the first refusal.
    taken = {}
    for cell in cells:
        params = {"p_wave": cell[0], "p_unit": cell[1], "p_segment": cell[2]}
        n = 0
        while n < wanted[cell] and conn.execute(_TAKE_PLACE, params).rowcount == 1:
            n += 1
        taken[cell] = n
        over = wanted[cell] - n
        if over and count_over[cell[0]]:
            conn.execute(_COUNT_OVER, {**params, "p_n": over})
    return taken


def write_submissions(session: Session, pending: Sequence[PendingSubmission]) -> list[Submission]:
    """Write many checked submissions in ``session``'s transaction (the caller commits) and
    return each one's outcome, in order.

    Every submission is decided as if it had come alone, in the order given: a single-use
    token already used gives ``token_used`` (of two submissions with one token in a batch,
    the first wins); in a quota cell with room for r of its k submissions the first r get a
    place and the rest, by the wave's policy, ``screened_out``, ``cell_closed`` (the token
    is handed back) or an over-quota answer. A wave closed since its link was looked up is
    read inside the same transaction, so its answers are refused exactly: ``wave_closed``.
    Statements are set-based (tokens in one, cells in one on PostgreSQL), so a batch costs
    a few round trips whatever its size.
    """
    if not pending:
        return []
    conn = session.connection()
    now = utcnow()
    outcome: dict[int, Outcome] = {}
    tokens = sorted(
        {(p.target.token_sha256, p.target.wave_id) for p in pending if p.target.single_use},
        key=lambda t: (t[0] or "", t[1]),
    )
    if tokens:
        fresh = {
            (r[0], r[1]) for r in conn.execute(_USE_TOKENS, {"p_tokens": tokens, "p_now": now})
        }
        for i, p in enumerate(pending):
            key = (p.target.token_sha256, p.target.wave_id)
            if not p.target.single_use:
                continue
            if key in fresh:
                fresh.discard(key)  # a second use of it in this batch is refused
            else:
                outcome[i] = Outcome.TOKEN_USED
    wanted: dict[tuple[int, int, str], int] = {}
    for i, p in enumerate(pending):
        if i not in outcome:
            cell = (p.target.wave_id, p.target.unit_id, p.cell_segment)
            wanted[cell] = wanted.get(cell, 0) + 1
    count_over = {
        p.target.wave_id: p.target.full_policy == FullPolicy.OVER_QUOTA.value for p in pending
    }
    room = _take_places(conn, wanted, count_over) if wanted else {}
    refused_tokens: list[str] = []
    for i, p in enumerate(pending):
        if i in outcome:
            continue
        cell = (p.target.wave_id, p.target.unit_id, p.cell_segment)
        if room.get(cell, 0) > 0:
            room[cell] -= 1
            outcome[i] = Outcome.ACCEPTED
        elif count_over[p.target.wave_id]:
            outcome[i] = Outcome.ACCEPTED_OVER_QUOTA
        else:
            outcome[i] = (
                Outcome.SCREENED_OUT
                if p.target.full_policy == FullPolicy.THANK_AND_END.value
                else Outcome.CELL_CLOSED
            )
            if p.target.single_use and p.target.token_sha256:
                refused_tokens.append(p.target.token_sha256)
    for sha in sorted(refused_tokens):
        conn.execute(_FREE_TOKEN, {"p_token": sha})
    # Read after the first writes: a SQLite writer then already holds the lock, so it
    # never has to upgrade a read snapshot that another process has made stale.
    waves = sorted(count_over)
    open_waves = set(conn.execute(_OPEN_WAVES, {"p_waves": waves}).scalars())
    if len(open_waves) < len(waves):
        session.rollback()
        keep = [i for i, p in enumerate(pending) if p.target.wave_id in open_waves]
        again = write_submissions(session, [pending[i] for i in keep])
        merged = [Submission(Outcome.WAVE_CLOSED)] * len(pending)
        for i, result in zip(keep, again, strict=True):
            merged[i] = result
        return merged
    stored = [i for i in range(len(pending)) if outcome[i].stored]
    ids: list[int] = []
    if stored:
        ids = list(
            conn.execute(
                _INSERT_RESPONSES,
                [
                    {
                        "wave_id": pending[i].target.wave_id,
                        "unit_id": pending[i].target.unit_id,
                        "instrument_id": pending[i].target.instrument_id,
                        "segment": pending[i].segment,
                        "over_quota": outcome[i] is Outcome.ACCEPTED_OVER_QUOTA,
                        "channel": pending[i].channel,
                        "source_ref": None,
                        "token_sha256": pending[i].target.token_sha256,
                        "client_hash": pending[i].client,
                        "lang": pending[i].lang,
                        "submitted_at": now,
                        "answers": pending[i].answers,
                    }
                    for i in stored
                ],
            ).scalars()
        )
    response_id = dict(zip(stored, ids, strict=True))
    return [Submission(outcome[i], response_id.get(i)) for i in range(len(pending))]


# ---------------------------------------------------------------- amendments


def amend(
    session: Session,
    response_id: int,
    changes: Mapping[str, Any],
    *,
    reason: str,
    user_id: int | None,
) -> list[SurveyAmendment]:
    """Correct answers of a stored response: each change becomes an audited
    :class:`SurveyAmendment`; the original answers stay as written. The corrected answers
    must still satisfy the instrument."""
    if not reason.strip():
        raise RuleError("reason: an amendment needs a reason")
    response = session.get(SurveyResponse, response_id)
    if response is None:
        raise RuleError(f"response_id: no response {response_id}")
    inst = instrument_of(session.get_one(SurveyInstrument, response.instrument_id))
    current = current_answers(session, response)
    merged = {**current, **changes}
    merged = {k: v for k, v in merged.items() if v is not None}
    errors = validate_answers(inst, merged)
    if errors:
        raise RuleError(
            "changes: the corrected answers break the instrument: "
            + "; ".join(f"{e.field}: {e.message.en}" for e in errors)
        )
    clean = coerce_answers(inst, {k: changes[k] for k in changes if changes[k] is not None})
    rows = []
    for name in changes:
        row = SurveyAmendment(
            response_id=response_id,
            field=name,
            old_value=current.get(name),
            new_value=clean.get(name),
            reason=reason,
            user_id=user_id,
        )
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def current_answers(session: Session, response: SurveyResponse) -> dict[str, Any]:
    """A response's answers with its amendments applied in order."""
    out = dict(response.answers)
    for a in session.scalars(
        select(SurveyAmendment)
        .where(SurveyAmendment.response_id == response.id)
        .order_by(SurveyAmendment.id)
    ):
        if a.new_value is None:
            out.pop(a.field, None)
        else:
            out[a.field] = a.new_value
    return out


# ---------------------------------------------------------------- answers for analysis


def store_geography(session: Session) -> dict[int, dict[str, Any]]:
    """Per org unit id: code, names, tier, city and province (from the org tree)."""
    units = session.execute(
        select(
            OrgUnit.id, OrgUnit.code, OrgUnit.name_zh, OrgUnit.kind, OrgUnit.parent_id, OrgUnit.tier
        )
    ).all()
    by_id = {u.id: u for u in units}
    out: dict[int, dict[str, Any]] = {}
    for u in units:
        city = province = None
        p = by_id.get(u.parent_id) if u.parent_id else None
        while p is not None:
            if p.kind == "city" and city is None:
                city = p.name_zh
            if p.kind == "province" and province is None:
                province = p.name_zh
            p = by_id.get(p.parent_id) if p.parent_id else None
        out[u.id] = {
            "unit": u.code,
            "unit_name": u.name_zh,
            "tier": u.tier,
            "city": city,
            "province": province,
        }
    return out


def answers_frame(
    session: Session,
    wave_ids: Sequence[int],
    *,
    unit_ids: Sequence[int] | None = None,
    include_over_quota: bool = True,
) -> pd.DataFrame:
    """The answers of some waves as an analysis frame: one row per response with
    ``respondent_id``, ``wave``, ``period``, ``unit``, ``tier``, ``city``, ``province``,
    ``segment_name``, ``over_quota`` and one column per answer field (amendments applied)."""
    q = (
        select(
            SurveyResponse.id,
            SurveyResponse.unit_id,
            SurveyResponse.segment,
            SurveyResponse.over_quota,
            SurveyResponse.answers,
            SurveyWave.code.label("wave"),
            Period.code.label("period"),
        )
        .join(SurveyWave, SurveyWave.id == SurveyResponse.wave_id)
        .join(Period, Period.id == SurveyWave.period_id)
        .where(SurveyResponse.wave_id.in_(list(wave_ids)))
        .order_by(SurveyResponse.id)
    )
    if unit_ids is not None:
        q = q.where(SurveyResponse.unit_id.in_(list(unit_ids)))
    if not include_over_quota:
        q = q.where(SurveyResponse.over_quota.is_(False))
    rows = session.execute(q).all()
    geo = store_geography(session)
    amended: dict[int, list[SurveyAmendment]] = {}
    if rows:
        for amendment in session.scalars(
            select(SurveyAmendment)
            .join(SurveyResponse, SurveyResponse.id == SurveyAmendment.response_id)
            .where(SurveyResponse.wave_id.in_(list(wave_ids)))
            .order_by(SurveyAmendment.id)
        ):
            amended.setdefault(amendment.response_id, []).append(amendment)
    meta: list[dict[str, Any]] = []
    records: list[dict[str, Any]] = []
    for r in rows:
        g = geo.get(r.unit_id, {})
        meta.append(
            {
                "respondent_id": r.id,
                "wave": r.wave,
                "period": r.period,
                "unit": g.get("unit"),
                "tier": g.get("tier"),
                "city": g.get("city"),
                "province": g.get("province"),
                "segment_name": r.segment,
                "over_quota": bool(r.over_quota),
            }
        )
        given = dict(r.answers)
        for change in amended.get(r.id, []):
            if change.new_value is None:
                given.pop(change.field, None)
            else:
                given[change.field] = change.new_value
        records.append(given)
    frame = pd.concat([pd.DataFrame(meta), pd.DataFrame.from_records(records)], axis=1)
    for col in frame.columns:
        if col not in (
            "wave",
            "period",
            "unit",
            "tier",
            "city",
            "province",
            "segment_name",
            "over_quota",
        ):
            if frame[col].map(lambda v: isinstance(v, list)).any():
                continue
            converted = pd.to_numeric(frame[col], errors="coerce")
            if converted.notna().sum() != frame[col].notna().sum():
                continue  # text answers stay text
            whole = converted.notna().all() and bool((converted % 1 == 0).all())
            frame[col] = converted.astype("int64") if whole else converted.astype("float64")
    return frame


# ---------------------------------------------------------------- imports


class ImportRefused(RuleError):
    """An import of answers into a wave refused as a whole; ``problems`` lists why."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            f"{len(problems)} problem(s), nothing imported: " + "; ".join(problems[:3])
        )


def import_into_wave(
    factory: sessionmaker[Session],
    wave_id: int,
    answers: pd.DataFrame,
) -> int:
    """Store answers brought in from a questionnaire platform (checked by
    :func:`sqm.ingest.survey_answers.import_answers`) as responses of a wave, in one
    transaction: all rows or none.

    Each row needs ``unit`` (a store of the wave); a ``respondent_id`` is kept as the
    response's source reference, and a reference already imported into the wave refuses the
    whole file (importing the same export twice counts nothing twice). Quota counters are
    raised; answers beyond a cell's target are stored flagged over-quota, since they were
    collected already.
    """
    with factory() as session:
        wave = session.get(SurveyWave, wave_id)
        if wave is None:
            raise ImportRefused([f"no wave {wave_id}"])
        inst = instrument_of(wave.instrument)
        fields = set(inst.field_map())
        cells = {
            (q.unit.code, q.segment): q
            for q in session.scalars(select(SurveyQuota).where(SurveyQuota.wave_id == wave.id))
        }
        units = {u: c.unit_id for (u, _), c in cells.items()}
        refs = [str(r) for r in answers["respondent_id"]] if "respondent_id" in answers else []
        problems: list[str] = []
        if refs:
            known = set(
                session.scalars(
                    select(SurveyResponse.source_ref).where(
                        SurveyResponse.wave_id == wave.id, SurveyResponse.source_ref.in_(refs)
                    )
                )
            )
            problems += [
                f"respondent {r} is already imported into {wave.code}"
                for r in sorted(x for x in known if x)
            ]
        rows: list[dict[str, Any]] = []
        taken: dict[tuple[str, str], int] = {}
        for k, record in enumerate(answers.to_dict("records")):
            unit = record.get("unit")
            if unit not in units:
                problems.append(f"row {k + 1}: store {unit!r} is not part of wave {wave.code}")
                continue
            given = {
                f: v
                for f, v in record.items()
                if f in fields and v is not None and not (isinstance(v, float) and v != v)
            }
            clean = coerce_answers(inst, given)
            segment = segment_of(clean)
            key = (str(unit), segment if wave.interlocked and segment else ANY_SEGMENT)
            cell = cells.get(key)
            n = taken.get(key, 0)
            over = cell is None or cell.achieved + n >= cell.target
            taken[key] = n + 1
            rows.append(
                {
                    "wave_id": wave.id,
                    "unit_id": units[unit],
                    "instrument_id": wave.instrument_id,
                    "segment": segment,
                    "over_quota": over,
                    "channel": "import",
                    "source_ref": refs[k] if refs else None,
                    "lang": "zh",
                    "submitted_at": utcnow(),
                    "answers": clean,
                }
            )
        if problems:
            raise ImportRefused(problems)
        try:
            if rows:
                session.execute(insert(SurveyResponse), rows)
            for key, n in taken.items():
                cell = cells.get(key)
                if cell is None:
                    continue
                room = max(cell.target - cell.achieved, 0)
                session.execute(
                    update(SurveyQuota)
                    .where(SurveyQuota.id == cell.id)
                    .values(
                        achieved=SurveyQuota.achieved + min(n, room),
                        over_quota=SurveyQuota.over_quota + max(n - room, 0),
                    )
                )
            session.commit()
        except BaseException:
            session.rollback()
            raise
    return len(rows)


@dataclass(frozen=True)
class FileImport:
    """An uploaded file imported into a wave: ``done`` answers stored, or the problems
    (row by row, in both languages) that refused the whole file."""

    done: int | None
    errors: list[dict[str, Any]]


def import_file(
    session: Session,
    factory: sessionmaker[Session],
    wave: SurveyWave,
    unit_ids: Sequence[int],
    data: bytes,
    filename: str,
    *,
    mapping_json: str = "",
    skip_rows: str = "0",
) -> FileImport:
    """Check every row of a questionnaire platform's export (CSV/XLSX) and import all of it
    into ``wave`` (:func:`import_into_wave`), or report every problem and import nothing.

    Rows must name a store of the wave among ``unit_ids`` (the caller's scope). Without
    ``mapping_json`` (a saved :class:`ColumnMapping`) the columns are matched to the
    instrument's fields by :func:`suggest_mapping`; ``skip_rows`` header rows are skipped.
    """
    inst = instrument_of(wave.instrument)
    quota = quota_rows(session, wave, unit_ids)
    units = set(quota["unit"]) if not quota.empty else set()
    try:
        table = read_table(data, filename)
        mapping_text = mapping_json.strip()
        mapping = (
            ColumnMapping.from_json(mapping_text)
            if mapping_text
            else suggest_mapping(table.columns, inst)
        )
        mapping.skip_rows = int(skip_rows) if skip_rows.isdigit() else 0
        imported = import_answers(table, inst, mapping, known_units=units)
        return FileImport(import_into_wave(factory, wave.id, imported.answers), [])
    except AnswerImportError as exc:
        return FileImport(None, [e.to_dict() for e in exc.errors])
    except ImportRefused as exc:
        return FileImport(
            None, [{"row": "", "column": "", "field": "", "zh": x, "en": x} for x in exc.problems]
        )


def answers_from_form(inst: Instrument, form: Mapping[str, Any]) -> dict[str, Any]:
    """The instrument's answers out of a posted form given as ``name → value``, where a
    field sent several times (a multiple-choice question) maps to the list of its values.

    Fields the instrument does not ask are dropped, blank answers are left out, text is
    stripped; a single-choice field sent twice keeps its last value (as a browser's form
    parser does).

    >>> from sqm.domain.instrument_templates import nps_csat
    >>> answers_from_form(nps_csat(), {"nps": " 9 ", "csat": "", "csrf_token": "x"})
    {'nps': '9'}
    """
    out: dict[str, Any] = {}
    for f in inst.fields():
        value = form.get(f.name)
        values = value if isinstance(value, list) else [] if value is None else [value]
        if f.qtype is QuestionType.MULTIPLE:
            if values:
                out[f.name] = values
            continue
        if values and str(values[-1]).strip() != "":
            out[f.name] = str(values[-1]).strip()
    return out
