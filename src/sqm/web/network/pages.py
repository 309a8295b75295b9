"""Network pages: overview per region, cell map, worst cells, cell page, alert list.

KPIs are computed on request by the DuckDB engine over the Parquet counter dataset,
restricted to the cells whose serving unit the user may see.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import pandas as pd
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from sqm.config import get_settings
from sqm.domain.kpi_catalogue import shipped_catalogue
from sqm.domain.roles import Permission
from sqm.services.network.alerts import AlertError, acknowledge, resolve
from sqm.services.network.kpi import DuckDbKpiEngine, Grain, Level
from sqm.services.scope import Principal
from sqm.store.models import OrgUnit
from sqm.store.models.network import NetworkAlert, NetworkCell, NetworkSilence
from sqm.web.deps import csrf_protect, get_db, load_form, require, unit_in_scope
from sqm.web.errors import InvalidInput, NotFound
from sqm.web.templating import render, request_locale

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(load_form), Depends(csrf_protect)]
)
viewer = require(Permission.VIEW_NETWORK)
manager = require(Permission.MANAGE_ALERTS)

OVERVIEW_KPIS = [
    "rrc_setup_sr",
    "bearer_setup_sr",
    "drop_rate",
    "ho_sr",
    "dl_user_thp",
    "availability",
]
MAP_KPIS = ["rrc_setup_sr", "drop_rate", "ho_sr", "dl_user_thp", "availability"]


def _counters() -> Path | None:
    p = get_settings().network_dir / "counters"
    return p if p.exists() and any(p.rglob("*.parquet")) else None


def _cells(db: Session, p: Principal) -> pd.DataFrame:
    rows = db.execute(
        select(
            NetworkCell.id,
            NetworkCell.cell_id,
            NetworkCell.site_id,
            NetworkCell.district,
            NetworkCell.city,
            NetworkCell.province,
            NetworkCell.tech,
            NetworkCell.band,
            NetworkCell.lat,
            NetworkCell.lon,
            NetworkCell.unit_id,
        )
        .join(OrgUnit, OrgUnit.id == NetworkCell.unit_id)
        .where(p.unit_filter())
    ).all()
    return pd.DataFrame(
        rows,
        columns=[
            "pk",
            "cell_id",
            "site_id",
            "district",
            "city",
            "province",
            "tech",
            "band",
            "lat",
            "lon",
            "unit_id",
        ],
    )


def _engine(cells: pd.DataFrame) -> DuckDbKpiEngine | None:
    path = _counters()
    if path is None or cells.empty:
        return None
    return DuckDbKpiEngine(path, cells)


def _window(engine: DuckDbKpiEngine, days: int) -> tuple[datetime, datetime]:
    last = engine.sql("SELECT max(ts) AS t FROM measurements")["t"].iloc[0]
    end = pd.Timestamp(last).normalize() + pd.Timedelta(days=1)
    return (end - pd.Timedelta(days=days)).to_pydatetime(), end.to_pydatetime()


def _labels(locale: str) -> dict[str, str]:
    return {c: k.label(locale) + f" ({k.unit})" for c, k in shipped_catalogue().items()}


def _in_scope_cells(df: pd.DataFrame, cells: pd.DataFrame) -> pd.DataFrame:
    # Inner join of the engine's output with the visible inventory (the engine joined it
    # already; this keeps the page code honest if that ever changes).
    return df[df["unit"].isin(set(cells["cell_id"]))]


@router.get("/network")
def overview(
    request: Request,
    level: str = "province",
    p: Principal = Depends(viewer),
    db: Session = Depends(get_db),
) -> Response:
    locale = request_locale(request)
    if level not in ("province", "city", "district"):
        raise InvalidInput("level must be province, city or district")
    cells = _cells(db, p)
    engine = _engine(cells)
    ctx: dict[str, object] = {
        "has_data": engine is not None,
        "level": level,
        "labels": _labels(locale),
        "kpis": OVERVIEW_KPIS,
    }
    if engine is not None:
        start, end = _window(engine, 28)
        lvl = Level(level)
        weekly = engine.kpis(OVERVIEW_KPIS, lvl, Grain.DAY, start=end - timedelta(days=7), end=end)
        table = engine.kpis(OVERVIEW_KPIS, lvl, Grain.MONTH, start=end - timedelta(days=7), end=end)
        daily = engine.kpis(
            ["rrc_setup_sr", "drop_rate", "dl_user_thp"], lvl, Grain.DAY, start=start, end=end
        )
        engine.close()
        days = sorted({d.strftime("%m-%d") for d in daily["period"]})
        charts = []
        for code in ("rrc_setup_sr", "drop_rate", "dl_user_thp"):
            series = [
                {"name": u, "data": [None if pd.isna(v) else round(float(v), 3) for v in g[code]]}
                for u, g in daily.groupby("unit")
            ]
            charts.append(
                {
                    "title": _labels(locale)[code],
                    "spec": {"type": "line", "labels": days, "series": series},
                }
            )
        ctx |= {
            "rows": table.to_dict("records"),
            "charts": charts,
            "window": f"{(end - timedelta(days=7)):%Y-%m-%d} – {(end - timedelta(days=1)):%Y-%m-%d}",
            "n_days": len(weekly["period"].unique()),
        }
    ctx["open_alerts"] = len(_alerts(db, p, "open"))
    return render(request, "network/overview.html", ctx)


@router.get("/network/map")
def cell_map(
    request: Request,
    kpi: str = "rrc_setup_sr",
    p: Principal = Depends(viewer),
    db: Session = Depends(get_db),
) -> Response:
    if kpi not in MAP_KPIS:
        raise InvalidInput(f"kpi must be one of {', '.join(MAP_KPIS)}")
    locale = request_locale(request)
    cells = _cells(db, p)
    engine = _engine(cells)
    option: dict[str, object] | None = None
    if engine is not None:
        start, end = _window(engine, 7)
        df = _in_scope_cells(
            engine.kpis([kpi], Level.CELL, Grain.MONTH, start=start, end=end), cells
        )
        engine.close()
        vals = df.groupby("unit")[kpi].mean()
        merged = cells.assign(value=cells["cell_id"].map(vals)).dropna(subset=["value"])
        k = shipped_catalogue()[kpi]
        lo, hi = float(merged["value"].quantile(0.02)), float(merged["value"].quantile(0.98))
        option = {
            "tooltip": {"trigger": "item"},
            "xAxis": {"type": "value", "scale": True, "name": "lon"},
            "yAxis": {"type": "value", "scale": True, "name": "lat"},
            "visualMap": {
                "min": lo,
                "max": hi,
                "calculable": True,
                "dimension": 2,
                "inRange": {
                    "color": ["#d73027", "#fee08b", "#1a9850"]
                    if k.direction.value == "higher"
                    else ["#1a9850", "#fee08b", "#d73027"]
                },
                "right": 0,
                "top": "middle",
            },
            "series": [
                {
                    "type": "scatter",
                    "symbolSize": 6,
                    "data": [
                        [round(float(lo_), 5), round(float(la), 5), round(float(v), 3), str(c)]
                        for lo_, la, v, c in zip(
                            merged["lon"],
                            merged["lat"],
                            merged["value"],
                            merged["cell_id"],
                            strict=True,
                        )
                    ],
                }
            ],
        }
    return render(
        request,
        "network/map.html",
        {"option": option, "kpi": kpi, "kpis": MAP_KPIS, "labels": _labels(locale)},
    )


@router.get("/network/worst")
def worst(
    request: Request,
    kpi: str = "rrc_setup_sr",
    rank_by: str = "failures",
    p: Principal = Depends(viewer),
    db: Session = Depends(get_db),
) -> Response:
    cat = shipped_catalogue()
    choices = [c for c in OVERVIEW_KPIS if cat[c].failures is not None]
    if kpi not in choices or rank_by not in ("failures", "impact"):
        raise InvalidInput(f"kpi must be one of {', '.join(choices)}; rank_by failures or impact")
    cells = _cells(db, p)
    engine = _engine(cells)
    rows: list[dict[str, object]] = []
    if engine is not None:
        start, end = _window(engine, 7)
        df = _in_scope_cells(
            engine.worst_cells(kpi, rank_by=rank_by, limit=30, start=start, end=end), cells
        )
        engine.close()
        pk = dict(zip(cells["cell_id"], cells["pk"], strict=True))
        site = dict(zip(cells["cell_id"], cells["site_id"], strict=True))
        rows = [
            {
                **{str(k): v for k, v in r.items()},
                "pk": pk.get(r["unit"]),
                "site": site.get(r["unit"]),
            }
            for r in df.to_dict("records")
        ]
    return render(
        request,
        "network/worst.html",
        {
            "rows": rows,
            "kpi": kpi,
            "kpis": choices,
            "rank_by": rank_by,
            "labels": _labels(request_locale(request)),
        },
    )


@router.get("/network/cells/{cell_pk}")
def cell_page(
    request: Request, cell_pk: int, p: Principal = Depends(viewer), db: Session = Depends(get_db)
) -> Response:
    cell = db.get(NetworkCell, cell_pk)
    if cell is None:
        raise NotFound("no such cell in your scope")
    unit = unit_in_scope(db, p, cell.unit_id)
    locale = request_locale(request)
    cells = pd.DataFrame([{"cell_id": cell.cell_id, "site_id": cell.site_id}])
    engine = _engine(cells)
    charts = []
    if engine is not None:
        start, end = _window(engine, 7)
        df = engine.kpis(
            ["rrc_setup_sr", "drop_rate", "dl_user_thp", "prb_dl_util"],
            Level.CELL,
            Grain.HOUR,
            start=start,
            end=end,
        )
        engine.close()
        labels = [t.strftime("%m-%d %H:00") for t in df["period"]]
        for code in ("rrc_setup_sr", "drop_rate", "dl_user_thp", "prb_dl_util"):
            charts.append(
                {
                    "title": _labels(locale)[code],
                    "spec": {
                        "type": "line",
                        "labels": labels,
                        "values": [None if pd.isna(v) else round(float(v), 3) for v in df[code]],
                    },
                }
            )
    alerts = db.scalars(
        select(NetworkAlert)
        .where(NetworkAlert.site_id == cell.site_id)
        .order_by(NetworkAlert.first_fired_at.desc())
    ).all()
    return render(
        request,
        "network/cell.html",
        {"cell": cell, "unit": unit, "charts": charts, "alerts": alerts},
    )


def _alerts(db: Session, p: Principal, status: str) -> list[NetworkAlert]:
    q = (
        select(NetworkAlert)
        .join(OrgUnit, OrgUnit.id == NetworkAlert.unit_id)
        .where(p.unit_filter())
    )
    if status != "all":
        q = q.where(NetworkAlert.status == status)
    return list(db.scalars(q.order_by(NetworkAlert.first_fired_at.desc()).limit(500)))


@router.get("/network/alerts")
def alert_list(
    request: Request,
    status: str = "open",
    p: Principal = Depends(viewer),
    db: Session = Depends(get_db),
) -> Response:
    if status not in ("open", "acknowledged", "resolved", "all"):
        raise InvalidInput("status must be open, acknowledged, resolved or all")
    visible = _visible_scopes(db, p)
    silences = [
        x
        for x in db.scalars(
            select(NetworkSilence).order_by(NetworkSilence.starts_at.desc()).limit(200)
        )
        if x.scope in visible
    ]
    return render(
        request,
        "network/alerts.html",
        {
            "alerts": _alerts(db, p, status),
            "status": status,
            "can_manage": p.can(Permission.MANAGE_ALERTS),
            "silences": silences,
        },
    )


def _visible_scopes(db: Session, p: Principal) -> set[str]:
    cells = _cells(db, p)
    return set(cells["site_id"]) | set(cells["cell_id"])


@router.post("/network/silences", response_model=None)
def add_silence(
    scope: str = Form(...),
    kpi: str = Form(""),
    starts_at: datetime = Form(...),
    ends_at: datetime = Form(...),
    reason: str = Form(...),
    p: Principal = Depends(manager),
    db: Session = Depends(get_db),
) -> RedirectResponse:
    """A maintenance window: matching alerts are kept but not sent."""
    scope = scope.strip()
    if scope not in _visible_scopes(db, p):
        raise InvalidInput(f"scope: {scope!r} is not a site or cell in your area")
    if kpi and kpi not in shipped_catalogue():
        raise InvalidInput(f"kpi: {kpi!r} is not in the KPI catalogue")
    start, end = (t if t.tzinfo else t.replace(tzinfo=UTC) for t in (starts_at, ends_at))
    if end <= start:
        raise InvalidInput("ends_at must be after starts_at")
    if not reason.strip():
        raise InvalidInput("reason: say why the alerts are silenced")
    db.add(
        NetworkSilence(
            scope=scope,
            kpi=kpi or None,
            starts_at=start,
            ends_at=end,
            reason=reason.strip()[:300],
            created_by=p.user_id,
        )
    )
    return RedirectResponse("/network/alerts", status_code=303)


def _alert_in_scope(db: Session, p: Principal, alert_id: int) -> NetworkAlert:
    alert = db.get(NetworkAlert, alert_id)
    if alert is None:
        raise NotFound("no such alert in your scope")
    unit_in_scope(db, p, alert.unit_id)
    return alert


@router.post("/network/alerts/{alert_id}/ack", response_model=None)
def alert_ack(
    alert_id: int,
    comment: str = Form(""),
    p: Principal = Depends(manager),
    db: Session = Depends(get_db),
) -> RedirectResponse:
    alert = _alert_in_scope(db, p, alert_id)
    try:
        acknowledge(db, alert, p.user_id, comment, datetime.now(UTC))
    except AlertError as exc:
        raise InvalidInput(str(exc)) from exc
    return RedirectResponse("/network/alerts", status_code=303)


@router.post("/network/alerts/{alert_id}/resolve", response_model=None)
def alert_resolve(
    alert_id: int,
    note: str = Form(""),
    p: Principal = Depends(manager),
    db: Session = Depends(get_db),
) -> RedirectResponse:
    alert = _alert_in_scope(db, p, alert_id)
    try:
        resolve(db, alert, p.user_id, note, datetime.now(UTC))
    except AlertError as exc:
        raise InvalidInput(str(exc)) from exc
    return RedirectResponse("/network/alerts?status=resolved", status_code=303)


def _shared_data() -> Path:
    explicit = get_settings().shared_data or os.environ.get("SQM_SHARED_DATA")
    return Path(explicit) if explicit else Path.cwd().parent / "shared" / "data"


@lru_cache(maxsize=4)
def _crowd(path: str) -> pd.DataFrame:
    from sqm.ingest.network import read_cn_crowd

    return read_cn_crowd(path)


@router.get("/network/crowd")
def crowd(
    request: Request,
    tech: str = "5G",
    isp: str = "China Mobile",
    p: Principal = Depends(viewer),
) -> Response:
    """Crowd-sourced speed tests: our operator against the others, province by province."""
    from sqm.services.network.kpi.crowd import crowd_benchmark

    if tech not in ("4G", "5G"):
        raise InvalidInput("tech must be 4G or 5G")
    path = _shared_data() / "network" / "cn_crowd" / f"{tech}.csv"
    ctx: dict[str, object] = {"tech": tech, "isp": isp, "rows": [], "spec": None}
    if path.exists():
        df = _crowd(str(path))
        isps = sorted(
            x for x in df["isp"].unique() if x in ("China Mobile", "China Telecom", "China Unicom")
        )
        if isp not in isps:
            raise InvalidInput(f"isp must be one of {', '.join(isps)}")
        b = crowd_benchmark(df, isp, by="province", min_tests=30)
        b = b.sort_values(f"{isp}_median", ascending=False, na_position="last")
        rows = []
        for r in b.to_dict("records"):
            rows.append(
                {
                    "province": r["province"],
                    "n": r.get(f"{isp}_n"),
                    "median": r.get(f"{isp}_median"),
                    "p10": r.get(f"{isp}_p10"),
                    "others": {o: r.get(f"{o}_median") for o in isps if o != isp},
                    "rank": r.get("our_rank"),
                    "gap": r.get("gap_to_best"),
                }
            )
        ctx |= {
            "rows": rows,
            "isps": isps,
            "spec": {
                "type": "line",
                "labels": [str(r["province"]) for r in rows],
                "series": [
                    {
                        "name": o,
                        "data": [
                            None if pd.isna(v) else round(float(v), 1) for v in b[f"{o}_median"]
                        ],
                    }
                    for o in isps
                ],
            },
        }
    return render(request, "network/crowd.html", ctx)
