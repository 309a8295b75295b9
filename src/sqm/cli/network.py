"""``sqm network …``: load counters, compute KPIs, backtest and run the early warning."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from sqm.services.network.rule_set import RuleSpec

console = Console()

RULES_HELP = "TOML rule set (default: the packaged one, sqm/domain/alert_rules_default.toml)"


def _rule_set(path: Path | None, kpi: str | None) -> list[RuleSpec]:
    """The rule set from ``path`` (or the packaged one), only ``kpi``'s rules if given;
    a bad file stops the command with the loader's message (rule and field)."""
    from sqm.services.network.rule_set import load_rule_set

    specs = load_rule_set(path)
    if kpi is not None:
        specs = [s for s in specs if s.kpi == kpi]
        if not specs:
            console.print(f"[red]no rule in the rule set watches {kpi!r}[/red]")
            raise typer.Exit(1)
    return specs


def register(app: typer.Typer) -> None:
    """Add the ``network`` command group to the CLI."""
    group = typer.Typer(help="Network quality: counters, KPIs, early warning.")
    app.add_typer(group, name="network")

    @group.command("import-counters")
    def import_counters(
        paths: list[Path],
        column_map: Path | None = typer.Option(None, help="JSON {vendor column: canonical name}"),
        dataset: Path | None = typer.Option(None, help="dataset folder (default: data dir)"),
    ) -> None:
        """Append 15-minute counter files to the Parquet dataset; a bad file is named with
        its line and field and nothing of it is written."""
        from sqm.config import get_settings
        from sqm.ingest.network import MeasurementDataset, NetworkIngestError

        mapping = json.loads(column_map.read_text(encoding="utf-8")) if column_map else None
        ds = MeasurementDataset(dataset or get_settings().network_dir / "counters")
        failed = 0
        for p in paths:
            try:
                r = ds.append_file(p, column_map=mapping)
            except NetworkIngestError as exc:
                console.print(f"[red]{exc}[/red]")
                failed += 1
                continue
            note = " (already loaded; replaced, not doubled)" if r.repeat else ""
            console.print(f"{p.name}: {r.rows:,} rows, days {', '.join(r.days)}{note}")
        if failed:
            raise typer.Exit(1)

    @group.command("kpis")
    def kpis(
        kpi: list[str] = typer.Option(["rrc_setup_sr", "drop_rate", "dl_user_thp"], "--kpi"),
        level: str = typer.Option("city", help="cell_id|site_id|district|city|province|network"),
        grain: str = typer.Option("day", help="15min|hour|day|week|month"),
        start: datetime | None = typer.Option(None),
        end: datetime | None = typer.Option(None),
        engine: str = typer.Option("duckdb", help="duckdb or spark"),
    ) -> None:
        """Print KPI values (ratios of sums) per unit and period."""
        from sqm.config import get_settings
        from sqm.services.network.kpi import (
            DuckDbKpiEngine,
            Grain,
            Level,
            SparkKpiEngine,
            local_spark_session,
        )

        root = get_settings().network_dir
        if engine == "spark":
            df = SparkKpiEngine(
                local_spark_session(), root / "counters", root / "inventory.parquet"
            ).kpis(kpi, Level(level), Grain(grain), start=start, end=end)
        else:
            df = DuckDbKpiEngine(root / "counters", root / "inventory.parquet").kpis(
                kpi, Level(level), Grain(grain), start=start, end=end
            )
        table = Table("unit", "period", *kpi)
        for rec in df.head(200).to_dict("records"):
            vals = [rec.get(k) for k in kpi]
            table.add_row(
                str(rec["unit"]),
                str(rec["period"]),
                *("—" if v is None or v != v else f"{float(v):.3f}" for v in vals),
            )
        console.print(table)

    @group.command("store-kpis")
    def store_kpis_cmd(
        period: str = typer.Argument(..., help="month, e.g. 2026-11"),
        write: bool = typer.Option(True, help="store the values for the scorecard"),
    ) -> None:
        """Summarise the month's counters of each store's cells into the scorecard's
        network values (ratio of sums per store, with n and standard error)."""
        from sqlalchemy import select

        from sqm.cli.main import engine_from_env
        from sqm.config import get_settings
        from sqm.services.network.kpi import DuckDbKpiEngine
        from sqm.services.network.store_kpis import store_kpis, write_store_kpis
        from sqm.store.audit import Actor, acting_as
        from sqm.store.engine import make_sessionmaker, transaction
        from sqm.store.models import Period

        root = get_settings().network_dir
        eng = DuckDbKpiEngine(root / "counters", root / "inventory.parquet")
        with (
            acting_as(Actor(None, "network-store-kpis")),
            transaction(make_sessionmaker(engine_from_env())) as s,
        ):
            p = s.scalar(select(Period).where(Period.code == period))
            if p is None or p.kind != "month":
                console.print(f"[red]period {period!r}: no such month[/red]")
                raise typer.Exit(1)
            values = store_kpis(s, eng, p)
            written = write_store_kpis(s, p, values) if write else 0
        table = Table("reference", "stores", "mean value", "median se")
        for ref, g in values.groupby("source_ref"):
            table.add_row(
                str(ref), str(len(g)), f"{g['value'].mean():.3f}", f"{g['se'].median():.3f}"
            )
        console.print(table)
        console.print(f"{written} value(s) written for {period}")

    @group.command("backtest")
    def backtest_cmd(
        start: datetime = typer.Option(...),
        end: datetime = typer.Option(...),
        rules: Path | None = typer.Option(None, "--rules", help=RULES_HELP),
        kpi: str | None = typer.Option(None, help="only the rules on this KPI"),
    ) -> None:
        """How many alerts each rule of the rule set would have raised (per cell)."""
        from sqm.config import get_settings
        from sqm.services.network.kpi import DuckDbKpiEngine
        from sqm.services.network.watch import backtest_rule_set

        specs = _rule_set(rules, kpi)
        root = get_settings().network_dir
        bt = backtest_rule_set(
            DuckDbKpiEngine(root / "counters", root / "inventory.parquet"), specs, start, end
        )
        table = Table("rule", "kpi", "kind", "level", "alerts", "cells alerting", "active periods")
        for r in bt.itertuples(index=False):
            table.add_row(
                str(r.rule),
                str(r.kpi),
                str(r.kind),
                str(r.level),
                str(r.alerts),
                str(r.cells_alerting),
                str(r.active_hours),
            )
        console.print(table)

    @group.command("watch")
    def watch_cmd(
        rules: Path | None = typer.Option(None, "--rules", help=RULES_HELP),
        kpi: str | None = typer.Option(None, help="only the rules on this KPI"),
        lookback_days: int = typer.Option(28, help="history the rules see (baselines need weeks)"),
        send: bool = typer.Option(True, help="send notifications for new alerts"),
    ) -> None:
        """Run the rule set on recent per-cell KPIs and update the alerts."""
        from sqm.cli.main import engine_from_env
        from sqm.config import get_settings
        from sqm.services.network.kpi import DuckDbKpiEngine
        from sqm.services.network.watch import watch_rule_set
        from sqm.store.audit import Actor, acting_as
        from sqm.store.engine import make_sessionmaker, transaction

        specs = _rule_set(rules, kpi)
        root = get_settings().network_dir
        eng = DuckDbKpiEngine(root / "counters", root / "inventory.parquet")
        with (
            acting_as(Actor(None, "network-watch")),
            transaction(make_sessionmaker(engine_from_env())) as s,
        ):
            r = watch_rule_set(s, eng, specs, lookback_days=lookback_days, send=send)
        console.print(
            f"{len(specs)} rule(s), {r.cells} cells, {r.firing} firing, "
            f"{r.new_alerts} new alert(s), {r.resolved} resolved, {r.notified} notification(s) sent"
        )
