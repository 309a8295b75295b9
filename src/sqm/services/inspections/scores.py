"""Store inspection scores as read models: the ranking of a period, a store's scorecard and
the inspectors' quality — one function each, shared by the pages, the JSON API and the
downloads.

A store's rank does not depend on who looks at it: :func:`store_ranking` ranks every store
of the organisation in its peer group (with the checklist version in force for the grades)
and only then keeps the stores the viewer may see. A store manager therefore reads the same
rank, interval and number of peers for their store as the quality analyst does.

>>> RANK_PEERS
('tier', 'city', 'province', 'all')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from sqm.domain.org import TIER_LABELS, UnitKind
from sqm.ingest.tabular import csv_bytes
from sqm.lazy import lazy_import
from sqm.methods.visit_score import (
    CalibrationResult,
    inspector_effects,
    inspector_leniency,
    peer_ranks,
    store_period_scores,
)
from sqm.services.inspections.visits import (
    InspectionError,
    calibration_summary,
    checklist_of,
    current_checklist,
)
from sqm.services.scope import Principal
from sqm.store.models import OrgUnit, Period, User
from sqm.store.models.inspection import InspectionRectification, InspectionVisit

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_import("numpy")
    pd = lazy_import("pandas")

Peer = Literal["tier", "city", "province", "all"]
RANK_PEERS: tuple[str, ...] = ("tier", "city", "province", "all")
N_BOOT = 300
SEED = 7
CORRECTION_PERIODS = 6  # inspector effects are fitted over the last six months


class UnknownPeriod(InspectionError):
    """A period code that names no period."""


# ------------------------------------------------------------------ ranking


@dataclass(frozen=True)
class RankedStore:
    """One store's line of the ranking: score with interval, rank among its peers with
    interval, change since its previous period (None when it has none)."""

    unit: OrgUnit
    code: str
    name: str  # in the caller's language
    name_zh: str
    label: str  # tier (or competitor brand) in the caller's language
    tier: str | None
    competitor: bool
    peer: str  # the peer group's label: tier code, 'competitor', a city or province, 'all'
    period: str
    n: int
    score: float
    low: float
    high: float
    grade: str
    rank: int
    rank_low: int
    rank_high: int
    n_peers: int
    change: float | None
    change_low: float | None
    change_high: float | None
    change_sig: bool


@dataclass(frozen=True)
class StoreRanking:
    """The ranking of ``period`` (None when no visit was ever accepted) as the viewer sees it;
    ``periods``: the codes of every period with accepted visits, newest first."""

    period: str | None
    periods: list[str]
    peer: str
    corrected: bool
    rows: list[RankedStore]


def ranking_periods(session: Session) -> list[Period]:
    """Periods with accepted visits, newest first."""
    ids = select(InspectionVisit.period_id).where(InspectionVisit.status == "accepted")
    return list(
        session.scalars(
            select(Period).where(Period.id.in_(ids.distinct())).order_by(Period.code.desc())
        )
    )


def _tier_label(unit: OrgUnit, locale: str) -> str:
    li = 0 if locale == "zh" else 1
    if unit.kind == UnitKind.COMPETITOR_STORE:
        return ("竞品 " if li == 0 else "Competitor ") + (unit.brand or "")
    return TIER_LABELS[unit.tier][li] if unit.tier else ""


def _ancestor(path: str, depth: int) -> int | None:
    parts = path.strip("/").split("/")  # /company/province/city/…
    return int(parts[depth - 1]) if len(parts) >= depth else None


def _peer_groups(
    session: Session, units: list[OrgUnit], peer: str, locale: str
) -> tuple[list[str], list[str]]:
    """(keys ranked in, labels shown) of each unit's peer group."""
    if peer == "tier":
        keys = [
            "competitor" if u.kind == UnitKind.COMPETITOR_STORE else str(u.tier or "")
            for u in units
        ]
        return keys, keys
    if peer in ("province", "city"):
        depth = 2 if peer == "province" else 3
        anc = [_ancestor(u.path, depth) for u in units]
        ids = sorted({a for a in anc if a is not None})
        names = {
            a.id: a.name(locale)
            for a in session.scalars(select(OrgUnit).where(OrgUnit.id.in_(ids)))
        }
        keys = [str(a) if a is not None else "—" for a in anc]
        return keys, [names.get(a, "—") if a is not None else "—" for a in anc]
    return ["all"] * len(units), ["all"] * len(units)


def _nan(x: Any) -> float | None:
    return None if x is None or x != x else float(x)


def store_ranking(
    session: Session,
    principal: Principal,
    period: str | None = None,
    *,
    peer: str = "tier",
    corrected: bool = False,
    locale: str = "zh",
    store: str | None = None,
) -> StoreRanking:
    """Rank the stores of ``period`` (default: the latest with accepted visits) among their
    peers over the WHOLE organisation, then keep the ones ``principal`` sees (and ``store``,
    a store code, if given).

    Score = mean of the store's accepted visits' totals with a bootstrap interval; grade
    from the checklist version in force; rank among the stores of the same ``peer`` group
    (tier — competitors among competitors —, city, province or all) with a bootstrap
    interval; change since the store's previous period with accepted visits. With
    ``corrected`` each visit's total first loses its inspector's fitted effect (a two-way
    store + inspector model over the last six periods).

    An unknown period code raises :class:`UnknownPeriod`; a period without accepted visits
    has an empty ranking.

    >>> # store_ranking(session, principal, "2026-11", peer="city").rows[0].rank
    """
    if peer not in RANK_PEERS:
        raise InspectionError(f"peer must be one of {', '.join(RANK_PEERS)}, not {peer!r}")
    periods = ranking_periods(session)
    codes = [x.code for x in periods]
    if period is None:
        period = codes[0] if codes else None
    elif (
        period not in codes
        and session.scalar(select(Period.id).where(Period.code == period)) is None
    ):
        raise UnknownPeriod(f"period: no period '{period}'", {"period": period})
    empty = StoreRanking(period, codes, peer, corrected, [])
    if period is None or period not in codes:
        return empty
    k = codes.index(period)
    fit = periods[k : k + (CORRECTION_PERIODS if corrected else 2)]
    df = pd.DataFrame(
        session.execute(
            select(
                InspectionVisit.unit_id,
                InspectionVisit.period_id,
                InspectionVisit.total,
                InspectionVisit.inspector_id,
            ).where(
                InspectionVisit.status == "accepted",
                InspectionVisit.period_id.in_([x.id for x in fit]),
                InspectionVisit.total.is_not(None),
            )
        ).all(),
        columns=["store", "period_id", "total", "inspector"],
    )
    if corrected and df["inspector"].nunique() > 1:
        df["total"] = inspector_effects(df).corrected
    shown = {x.id: x.code for x in periods[k : k + 2]}  # this period and the one before
    df = df[df["period_id"].isin(list(shown))].copy()
    if df.empty:
        return empty
    df["period"] = df["period_id"].map(shown)
    cl = checklist_of(current_checklist(session))
    sc = store_period_scores(df, layout=cl, n_boot=N_BOOT, seed=SEED)
    fr = sc.frame
    by_id = {
        u.id: u
        for u in session.scalars(
            select(OrgUnit).where(OrgUnit.id.in_(df["store"].unique().tolist()))
        )
    }
    units = [by_id[int(s)] for s in fr["store"]]
    keys, labels = _peer_groups(session, units, peer, locale)
    rk = peer_ranks(sc, keys)
    rows = []
    for u, label, rec, r in zip(
        units, labels, fr.to_dict("records"), rk.to_dict("records"), strict=True
    ):
        if rec["period"] != period or not principal.sees(u):
            continue
        if store is not None and u.code != store:
            continue
        rows.append(
            RankedStore(
                unit=u,
                code=u.code,
                name=u.name(locale),
                name_zh=u.name_zh,
                label=_tier_label(u, locale),
                tier=u.tier,
                competitor=u.kind == UnitKind.COMPETITOR_STORE,
                peer=label,
                period=period,
                n=int(rec["n_visits"]),
                score=float(rec["score"]),
                low=float(rec["score_low"]),
                high=float(rec["score_high"]),
                grade=str(rec["grade"]),
                rank=int(r["rank"]),
                rank_low=int(r["rank_low"]),
                rank_high=int(r["rank_high"]),
                n_peers=int(r["n_peers"]),
                change=_nan(rec["change"]),
                change_low=_nan(rec["change_low"]),
                change_high=_nan(rec["change_high"]),
                change_sig=bool(rec["change_significant"]),
            )
        )
    rows.sort(key=lambda x: (x.peer, x.rank, x.code))
    return StoreRanking(period, codes, peer, corrected, rows)


@dataclass(frozen=True)
class SectionComparison:
    """Mean section score of our stores and of competitor stores (None: no visit)."""

    name: str
    own: float | None
    competitor: float | None


def section_comparison(
    session: Session, principal: Principal, period: str, locale: str = "zh"
) -> list[SectionComparison]:
    """Mean section scores of our stores and of competitor stores in ``principal``'s scope
    over ``period``'s accepted visits, side by side, in the checklist's section order."""
    rows = session.execute(
        select(OrgUnit.kind, InspectionVisit.section_scores)
        .join(OrgUnit, OrgUnit.id == InspectionVisit.unit_id)
        .join(Period, Period.id == InspectionVisit.period_id)
        .where(InspectionVisit.status == "accepted", Period.code == period, principal.unit_filter())
    ).all()
    if not rows:
        return []
    secs = pd.DataFrame([dict(s or {}) for _, s in rows]).astype(float)
    secs["group"] = ["competitor" if k == UnitKind.COMPETITOR_STORE else "own" for k, _ in rows]
    means: dict[str, dict[str, float]] = {
        str(g): {str(c): float(v) for c, v in row.items()}
        for g, row in secs.groupby("group").mean().to_dict("index").items()
    }
    out = []
    for sec in checklist_of(current_checklist(session)).sections:
        own = means.get("own", {}).get(sec.code, float("nan"))
        comp = means.get("competitor", {}).get(sec.code, float("nan"))
        out.append(
            SectionComparison(
                name=sec.name_zh if locale == "zh" else sec.name_en,
                own=None if np.isnan(own) else round(own, 1),
                competitor=None if np.isnan(comp) else round(comp, 1),
            )
        )
    return out


@dataclass(frozen=True)
class RankingPage:
    """The ranking page: the ranking and our stores against competitors by section."""

    ranking: StoreRanking
    comparison: list[SectionComparison]


def ranking_page(
    session: Session,
    principal: Principal,
    period: str | None,
    *,
    peer: str = "tier",
    corrected: bool = False,
    locale: str = "zh",
) -> RankingPage:
    """What the ranking page shows; a period without accepted visits (or an unknown code,
    e.g. from an old bookmark) shows the latest period instead."""
    if peer not in RANK_PEERS:
        peer = "all"
    if period is not None and period not in {x.code for x in ranking_periods(session)}:
        period = None
    ranking = store_ranking(
        session, principal, period, peer=peer, corrected=corrected, locale=locale
    )
    comparison = (
        section_comparison(session, principal, ranking.period, locale)
        if ranking.period is not None
        else []
    )
    return RankingPage(ranking, comparison)


RANKING_COLUMNS: tuple[tuple[str, str], ...] = (
    ("period", "期间"),
    ("peer", "对标组"),
    ("rank", "排名"),
    ("rank_low", "排名下限"),
    ("rank_high", "排名上限"),
    ("n_peers", "组内门店数"),
    ("store_code", "门店编码"),
    ("store_name", "门店"),
    ("kind", "类型"),
    ("n_visits", "检查次数"),
    ("score", "得分"),
    ("score_low", "得分下限"),
    ("score_high", "得分上限"),
    ("grade", "等级"),
    ("change", "变化"),
    ("change_low", "变化下限"),
    ("change_high", "变化上限"),
    ("change_significant", "变化显著"),
)


def ranking_csv(
    session: Session,
    principal: Principal,
    period: str | None = None,
    *,
    peer: str = "tier",
    corrected: bool = False,
    locale: str = "zh",
) -> tuple[str | None, bytes]:
    """The ranking (:func:`store_ranking`) as a CSV file for Excel: (period, bytes); headers
    and names in ``locale``, text cells that Excel would run as formulas quoted."""
    ranking = store_ranking(
        session, principal, period, peer=peer, corrected=corrected, locale=locale
    )
    zh = locale == "zh"
    header = [zh_ if zh else en for en, zh_ in RANKING_COLUMNS]
    rows = [
        [
            r.period,
            r.peer,
            r.rank,
            r.rank_low,
            r.rank_high,
            r.n_peers,
            r.code,
            r.name,
            r.label,
            r.n,
            round(r.score, 2),
            round(r.low, 2),
            round(r.high, 2),
            r.grade,
            None if r.change is None else round(r.change, 2),
            None if r.change_low is None else round(r.change_low, 2),
            None if r.change_high is None else round(r.change_high, 2),
            int(r.change_sig),
        ]
        for r in ranking.rows
    ]
    return ranking.period, csv_bytes(header, rows)


# ------------------------------------------------------------------ one store


@dataclass(frozen=True)
class StoreCard:
    """A store's inspection scorecard: monthly trend (chart spec), the latest month's
    section means, its last accepted visits and its open 整改 tasks."""

    trend: dict[str, Any]
    sections: list[tuple[str, float]]
    visits: list[InspectionVisit]
    tasks: list[InspectionRectification]


def store_card(session: Session, unit: OrgUnit, locale: str = "zh") -> StoreCard:
    """The scorecard of ``unit`` (the caller checked it is in scope)."""
    rows = session.execute(
        select(Period.code, InspectionVisit.total, InspectionVisit.section_scores)
        .join(Period, Period.id == InspectionVisit.period_id)
        .where(InspectionVisit.unit_id == unit.id, InspectionVisit.status == "accepted")
        .order_by(Period.code)
    ).all()
    df = pd.DataFrame(rows, columns=["period", "total", "sections"])
    trend: dict[str, Any] = {"type": "line", "labels": [], "values": []}
    sections: list[tuple[str, float]] = []
    if not df.empty:
        m = df.groupby("period")["total"].mean()
        trend = {
            "type": "line",
            "labels": list(m.index),
            "values": [round(float(x), 1) for x in m.to_numpy()],
        }
        last = df[df["period"] == m.index[-1]]
        sec = pd.DataFrame(list(last["sections"])).astype(float).mean()
        cl = checklist_of(current_checklist(session))
        sections = [
            (s.name_zh if locale == "zh" else s.name_en, round(float(sec.get(s.code, np.nan)), 1))
            for s in cl.sections
            if not np.isnan(sec.get(s.code, np.nan))
        ]
    visits = list(
        session.scalars(
            select(InspectionVisit)
            .where(InspectionVisit.unit_id == unit.id, InspectionVisit.status == "accepted")
            .order_by(InspectionVisit.planned_date.desc())
            .limit(24)
        )
    )
    tasks = list(
        session.scalars(
            select(InspectionRectification)
            .where(
                InspectionRectification.unit_id == unit.id,
                InspectionRectification.status == "open",
            )
            .order_by(InspectionRectification.due_date)
        )
    )
    return StoreCard(trend, sections, visits, tasks)


# ------------------------------------------------------------------ inspectors


@dataclass(frozen=True)
class InspectorRow:
    """An inspector's leniency flag (mean residual against peers on the same stores,
    Holm-adjusted p) and fitted effect (points above or below the average inspector)."""

    name: str
    n: int
    mean_residual: float
    p: float
    flag: str
    effect: float


@dataclass(frozen=True)
class InspectorQuality:
    """Inspector quality over the last six periods with visits, in a reviewer's scope."""

    rows: list[InspectorRow]
    periods: list[str]
    n_visits: int
    calibration: CalibrationResult | None


def inspector_quality(session: Session, principal: Principal) -> InspectorQuality:
    """Leniency/severity flags, inspector effects and calibration agreement over the accepted
    visits of the last six periods with visits, at the stores in ``principal``'s scope."""
    visited = select(InspectionVisit.period_id).distinct()
    periods = list(
        session.scalars(
            select(Period).where(Period.id.in_(visited)).order_by(Period.code.desc()).limit(6)
        )
    )
    in_window = [
        InspectionVisit.status == "accepted",
        InspectionVisit.period_id.in_([x.id for x in periods]),
        principal.unit_filter(),
    ]
    df = pd.DataFrame(
        session.execute(
            select(InspectionVisit.unit_id, InspectionVisit.inspector_id, InspectionVisit.total)
            .join(OrgUnit, OrgUnit.id == InspectionVisit.unit_id)
            .where(*in_window)
        ).all(),
        columns=["store", "inspector", "total"],
    )
    rows: list[InspectorRow] = []
    if len(df) and df["inspector"].nunique() > 1:
        flags = inspector_leniency(df).set_index("inspector")
        eff = inspector_effects(df).inspector_effect
        names = {
            u.id: u.display_name
            for u in session.scalars(select(User).where(User.id.in_([int(i) for i in eff.index])))
        }
        recs = {int(str(k)): v for k, v in flags.to_dict("index").items()}
        for key, b in eff.sort_values().items():
            i = int(str(key))
            f = recs.get(i)
            rows.append(
                InspectorRow(
                    name=names.get(i, str(i)),
                    n=int(f["n"]) if f is not None else 0,
                    mean_residual=float(f["mean_residual"]) if f is not None else float("nan"),
                    p=float(f["p_holm"]) if f is not None else float("nan"),
                    flag=str(f["flag"]) if f is not None else "",
                    effect=float(b),
                )
            )
    cal_visits = list(
        session.scalars(
            select(InspectionVisit)
            .join(OrgUnit, OrgUnit.id == InspectionVisit.unit_id)
            .where(InspectionVisit.purpose == "calibration", *in_window)
        )
    )
    return InspectorQuality(
        rows=rows,
        periods=[x.code for x in periods],
        n_visits=len(df),
        calibration=calibration_summary(session, cal_visits),
    )
