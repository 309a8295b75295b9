"""``sqm complaints …``: import complaint files, train the category suggester, scan hotspots."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

# pandas, SQLAlchemy and the services are imported by the command that runs
console = Console()


def register(app: typer.Typer) -> None:
    """Add the ``complaints`` command group to the CLI."""
    group = typer.Typer(help="Complaints: import, category model, hotspots and their alerts.")
    app.add_typer(group, name="complaints")

    @group.command("import")
    def import_file(
        path: Path,
        source_system: str = typer.Option(
            "import", help="source system recorded on every complaint"
        ),
        default_unit: str | None = typer.Option(None, help="org unit code for rows without one"),
    ) -> None:
        """Import a complaint template (CSV/Excel): all rows or none, errors by row and column."""
        from sqm.cli.main import engine_from_env
        from sqm.ingest.complaints import read_complaint_table
        from sqm.services.complaints.imports import store_import
        from sqm.store.audit import Actor, acting_as
        from sqm.store.engine import make_sessionmaker, transaction

        result = read_complaint_table(path)
        with acting_as(Actor(None, "cli")), transaction(make_sessionmaker(engine_from_env())) as s:
            out = store_import(s, result, source_system, default_unit)
            if out.errors:
                for e in out.errors[:50]:
                    console.print(f"[red]{e}[/red]")
                console.print(f"[red]{len(out.errors)} error(s); nothing was written.[/red]")
                raise typer.Exit(1)
        console.print(f"{out.created} new complaint(s), {out.already_known} already known.")

    @group.command("check-comcast")
    def check_comcast(path: Path) -> None:
        """Load the public Comcast complaints file and report its quirks (nothing is stored)."""
        from sqm.ingest.complaints import load_comcast

        r = load_comcast(path)
        console.print(r.summary())
        for e in r.errors:
            console.print(f"[red]{e}[/red]")
        console.print(r.facts)

    @group.command("train-classifier")
    def train_classifier(
        with_corrections: bool = typer.Option(True, help="add confirmed categories from the store"),
    ) -> None:
        """Train the category suggester (generated texts + confirmed complaints) and save it under var/."""
        from sqlalchemy import select

        from sqm.cli.main import engine_from_env
        from sqm.services.complaints import classifier as svc
        from sqm.store.engine import make_sessionmaker
        from sqm.store.models import Complaint

        pairs: list[tuple[str, str]] = []
        if with_corrections:
            with make_sessionmaker(engine_from_env())() as s:
                rows = s.execute(
                    select(Complaint.text, Complaint.subcategory).where(
                        Complaint.category_confirmed.is_(True),
                        Complaint.subcategory.is_not(None),
                        Complaint.source_system != "demo",
                    )
                ).all()
                pairs = [(t, sc) for t, sc in rows if t and sc]
        model = svc.retrain(pairs)
        console.print(
            f"trained on generated texts + {len(pairs)} confirmed complaint(s); saved to {svc.save(model)}"
        )

    @group.command("hotspots")
    def scan_hotspots(days: int = 7, baseline_days: int = 56, fdr: float = 0.05) -> None:
        """Unit × category cells whose complaints rose significantly in the last ``days``."""
        import pandas as pd
        from sqlalchemy import func, select

        from sqm.cli.main import engine_from_env
        from sqm.methods.complaint_measures import HotspotWindow, hotspots
        from sqm.store.engine import make_sessionmaker
        from sqm.store.models import Complaint, OrgUnit

        with make_sessionmaker(engine_from_env())() as s:
            rows = s.execute(
                select(
                    OrgUnit.code,
                    func.coalesce(Complaint.subcategory, Complaint.category),
                    Complaint.received_at,
                ).join(OrgUnit, Complaint.unit_id == OrgUnit.id)
            ).all()
        df = pd.DataFrame(rows, columns=["unit", "category", "received_at"]).dropna()
        if df.empty:
            console.print("no complaints")
            return
        df["received_at"] = pd.to_datetime(df["received_at"], utc=True).dt.tz_localize(None)
        end = df["received_at"].max().normalize() + pd.Timedelta(days=1)
        h = hotspots(df, HotspotWindow.trailing(end, days, baseline_days), fdr=fdr)
        t = Table("unit", "category", "current", "expected", "ratio", "q")
        for r in h[h["hotspot"]].reset_index().to_dict("records"):
            t.add_row(
                str(r["unit"]),
                str(r["category"]),
                str(int(r["count_current"])),
                f"{r['expected']:.1f}",
                f"{r['rate_ratio']:.2f}",
                f"{r['q_value']:.2g}",
            )
        console.print(t)

    @group.command("watch")
    def watch_alerts(
        as_of: str | None = typer.Option(
            None,
            help="end of the scan window, a local date (default: the day after the latest complaint)",
        ),
        days: int = typer.Option(21, help="days of the current window"),
        baseline_days: int = typer.Option(84, help="days of the baseline before it"),
        fdr: float = typer.Option(0.05, help="false discovery rate (Benjamini–Hochberg)"),
        by: str = typer.Option("subcategory", help="test unit × subcategory or unit × category"),
        notify: bool = typer.Option(True, help="post new alerts to the opted-in webhook routes"),
    ) -> None:
        """Scan for complaint hotspots and raise, update or clear complaint alerts (run daily)."""
        from datetime import date, datetime, time

        from rich.progress import Progress

        from sqm.cli.main import engine_from_env
        from sqm.services.complaints import alerts as svc
        from sqm.services.complaints.handling import default_calendar
        from sqm.store.audit import Actor, acting_as
        from sqm.store.engine import make_sessionmaker, transaction

        if by not in ("subcategory", "category"):
            raise typer.BadParameter("--by must be subcategory or category")
        end = (
            datetime.combine(date.fromisoformat(as_of), time(0), tzinfo=default_calendar().zone)
            if as_of
            else None
        )
        settings = svc.WatchSettings(
            current_days=days,
            baseline_days=baseline_days,
            fdr=fdr,
            by="category" if by == "category" else "subcategory",
        )
        with (
            Progress(console=console, transient=True) as bar,
            acting_as(Actor(None, "complaint-watch")),
            transaction(make_sessionmaker(engine_from_env())) as s,
        ):
            task = bar.add_task("scan", total=3)

            def step(stage: str, done: int, total: int) -> None:
                bar.update(task, description=stage, completed=done, total=total)

            r = svc.watch(s, end, settings, notify=notify, progress=step)
            t = Table("alert", "unit", "category", "complaints", "expected", "ratio", "q", "change")
            for change, alerts in (
                ("raised", r.raised),
                ("updated", r.updated),
                ("resolved", r.resolved),
            ):
                for a in alerts:
                    t.add_row(
                        str(a.id),
                        a.unit.code,
                        a.code,
                        str(a.count_current),
                        f"{a.expected:.1f}",
                        "∞" if a.rate_ratio is None else f"{a.rate_ratio:.2f}",
                        f"{a.q_value:.2g}",
                        change,
                    )
        console.print(t)
        w = r.window
        console.print(
            f"window {w.current_start:%Y-%m-%d} – {w.current_end:%Y-%m-%d} against "
            f"{w.baseline_start:%Y-%m-%d} –: {r.tested} cell(s) tested, {r.hotspots} hotspot(s); "
            f"{len(r.raised)} raised, {len(r.updated)} updated, {len(r.resolved)} resolved, "
            f"{r.notified} notification(s) sent"
        )

    @group.command("escalate")
    def escalate() -> None:
        """Record escalations due now (run it every few minutes from a scheduler)."""
        from sqm.cli.main import engine_from_env
        from sqm.services.complaints.handling import escalate_due
        from sqm.store.audit import Actor, acting_as
        from sqm.store.engine import make_sessionmaker, transaction

        with (
            acting_as(Actor(None, "sla-clock")),
            transaction(make_sessionmaker(engine_from_env())) as s,
        ):
            notices = escalate_due(s)
        t = Table("complaint", "unit", "level", "first response", "resolution")
        for n in notices:
            t.add_row(
                str(n.complaint_id),
                n.unit_code,
                n.level,
                n.first_response_state,
                n.resolution_state,
            )
        console.print(t)
        console.print(f"{len(notices)} new escalation(s)")
