"""``sqm network …``: load counters, compute KPIs, backtest and run the early warning."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from sqm.methods.alert_rules import Direction, Rule

console = Console()


def _rules(kpi: str, fire: float, recover: float, k: int) -> dict[str, Rule]:
    from sqm.domain.kpi_catalogue import shipped_catalogue
    from sqm.methods.alert_rules import StaticThreshold, Sustained

    d: Direction = "higher" if shipped_catalogue()[kpi].direction.value == "higher" else "lower"
    return {
        "static": StaticThreshold(fire, recover, d),
        "sustained": Sustained(fire, k=k, direction=d),
    }


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
        from sqm.ingest.network import MeasurementDataset, NetworkIngestError
        from sqm.services.demo_network import network_data_dir

        mapping = json.loads(column_map.read_text(encoding="utf-8")) if column_map else None
        ds = MeasurementDataset(dataset or network_data_dir() / "counters")
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
        from sqm.services.demo_network import network_data_dir
        from sqm.services.network_kpi import (
            DuckDbKpiEngine,
            Grain,
            Level,
            SparkKpiEngine,
            local_spark_session,
        )

        root = network_data_dir()
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

    @group.command("backtest")
    def backtest_cmd(
        kpi: str = typer.Option("rrc_setup_sr"),
        fire: float = typer.Option(95.0, help="static threshold"),
        recover: float = typer.Option(98.0, help="recovery level"),
        k: int = typer.Option(3, help="consecutive bad hours for the sustained rule"),
        start: datetime = typer.Option(...),
        end: datetime = typer.Option(...),
    ) -> None:
        """How many alerts the static and sustained rules would have raised (per cell, hourly)."""
        from sqm.services.demo_network import network_data_dir
        from sqm.services.network_kpi import DuckDbKpiEngine
        from sqm.services.network_watch import backtest_cells

        rules = _rules(kpi, fire, recover, k)
        root = network_data_dir()
        bt = backtest_cells(
            DuckDbKpiEngine(root / "counters", root / "inventory.parquet"), kpi, rules, start, end
        )
        table = Table("rule", "alerts", "cells alerting", "active hours")
        for r in bt.itertuples(index=False):
            table.add_row(str(r.rule), str(r.alerts), str(r.cells_alerting), str(r.active_hours))
        console.print(table)

    @group.command("watch")
    def watch_cmd(
        kpi: str = typer.Option("rrc_setup_sr"),
        fire: float = typer.Option(95.0),
        recover: float = typer.Option(98.0),
        k: int = typer.Option(3),
        send: bool = typer.Option(True, help="send notifications for new alerts"),
    ) -> None:
        """Run the rules on the last week of hourly KPIs and update the alerts."""
        from sqm.cli.main import engine_from_env
        from sqm.services.demo_network import network_data_dir
        from sqm.services.network_kpi import DuckDbKpiEngine
        from sqm.services.network_watch import watch
        from sqm.store.audit import Actor, acting_as
        from sqm.store.engine import make_sessionmaker, transaction

        rules = _rules(kpi, fire, recover, k)
        root = network_data_dir()
        eng = DuckDbKpiEngine(root / "counters", root / "inventory.parquet")
        with (
            acting_as(Actor(None, "network-watch")),
            transaction(make_sessionmaker(engine_from_env())) as s,
        ):
            r = watch(s, eng, kpi, rules, send=send)
        console.print(
            f"{r.cells} cells, {r.firing} firing, {r.new_alerts} new alert(s), "
            f"{r.resolved} resolved, {r.notified} notification(s) sent"
        )
