"""``sqm inspections …``: plan a month of store visits with the CP-SAT planner."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

console = Console()


def register(app: typer.Typer) -> None:
    """Add the ``inspections`` command group to the CLI."""
    group = typer.Typer(help="Store inspections: monthly visit plan.")
    app.add_typer(group, name="inspections")

    @group.command("plan")
    def plan(
        period: str = typer.Argument(..., help="month to plan, e.g. 2026-12"),
        xlsx: Path | None = typer.Option(None, help="write the plan to this Excel file"),
        save: bool = typer.Option(False, help="store the plan entries (replaces planned ones)"),
        time_limit: float = typer.Option(50.0, help="solver time for the whole month, seconds"),
    ) -> None:
        """Plan a month: visits per tier, priorities, rotation, capacity, travel; report the gap."""
        from sqlalchemy import select

        from sqm.cli.main import engine_from_env
        from sqm.services.inspections.planning import (
            plan_period,
            plan_summary,
            planning_frames,
            save_plan,
        )
        from sqm.services.inspections.visit_plan import PlanRules, export_plan_xlsx
        from sqm.store.audit import Actor, acting_as
        from sqm.store.engine import make_sessionmaker, transaction
        from sqm.store.models import Period

        with acting_as(Actor(None, "cli")), transaction(make_sessionmaker(engine_from_env())) as s:
            p = s.scalar(select(Period).where(Period.code == period))
            if p is None:
                console.print(f"[red]no period {period!r}[/red]")
                raise typer.Exit(1)
            with console.status("planning…"):
                result = plan_period(s, p, PlanRules(time_limit_s=time_limit))
            summary = plan_summary(result)
            console.print(
                f"{summary['visits']:.0f} visits by {summary['inspectors']:.0f} inspectors; "
                f"objective {summary['objective']:.0f}, bound {summary['bound']:.0f}, "
                f"gap {summary['gap']:.1%} (to the best bound {summary['best_bound']:.0f}: "
                f"{summary['gap_to_best_bound']:.1%}); rules broken: {summary['rules_broken']:.0f}"
            )
            for c in result.conflicts:
                console.print(f"[yellow]{c.message}[/yellow]")
            for v in result.violations[:30]:
                console.print(f"[yellow]{v.rule}: {v.message}[/yellow]")
            if xlsx is not None:
                stores, inspectors, _ = planning_frames(s, p)
                export_plan_xlsx(result, stores, inspectors, xlsx)
                console.print(f"written {xlsx}")
            if save:
                n = save_plan(s, p, result)
                console.print(f"{n} plan entries stored for {period}")
