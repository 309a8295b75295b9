"""``sqm import org|indicators|weights FILE [--dry-run]`` and
``sqm export org|indicators|weights FILE [--lang zh|en]``.

An import checks the whole file first; a bad file prints a table of every bad cell (row as
Excel shows it, column, value, rule) and exits with code 1, writing nothing. A good file
is written in one transaction and the command prints how many records were created,
updated or left unchanged. ``--dry-run`` does everything except commit. The file formats
are described in ``docs/import_formats.md``.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import typer
from rich.console import Console

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from sqm.ingest.errors import ImportReport
    from sqm.services.exports import ExportKind
    from sqm.services.imports import Importer

# the services (pandas, openpyxl …) are imported by the commands that run, not by ``--help``
console = Console()
import_app = typer.Typer(
    help="Import org units, indicator systems or weight profiles (CSV or xlsx).",
    no_args_is_help=True,
)
export_app = typer.Typer(
    help="Export org units, indicator systems or weight profiles (CSV or xlsx).",
    no_args_is_help=True,
)


class _Undo(Exception):
    """Rolls the import's transaction back (dry run, or a file with errors)."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__(report.summary())
        self.report = report


def register(app: typer.Typer) -> None:
    """Add ``sqm import …`` and ``sqm export …`` to the ``sqm`` command."""
    app.add_typer(import_app, name="import")
    app.add_typer(export_app, name="export")


def run_import(kind: ExportKind, file: Path, *, dry_run: bool) -> ImportReport:
    """Import ``file`` as ``kind`` into ``SQM_DATABASE_URL`` in one transaction.

    The transaction is rolled back when the file has errors or ``dry_run`` is set.
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from sqm.cli.main import engine_from_env
    from sqm.ingest.errors import ImportRejected
    from sqm.services.imports import IMPORTERS
    from sqm.store.audit import Actor, acting_as
    from sqm.store.engine import make_sessionmaker, transaction

    data = file.read_bytes()
    factory = make_sessionmaker(engine_from_env())
    importer = IMPORTERS[kind]
    actor = Actor(None, f"cli:{getpass.getuser()}")
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(f"writing {file.name}", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            with acting_as(actor), transaction(factory) as session:
                report = _call(importer, session, data, file.name, dry_run, progress)
                if dry_run or not report.ok:
                    raise _Undo(report)
        except _Undo as undo:
            report = undo.report
        except ImportRejected as rejected:
            report = rejected.report
    return report


def _call(
    importer: Importer,
    session: Session,
    data: bytes,
    name: str,
    dry_run: bool,
    progress: Callable[[int, int], None],
) -> ImportReport:
    return importer(session, data, name, dry_run=dry_run, progress=progress)


def print_report(report: ImportReport) -> None:
    """The report on the terminal: errors as a table, else the counts and notes."""
    from rich.table import Table

    from sqm.ingest.errors import RULES

    if report.ignored_columns:
        console.print(
            f"[yellow]ignored columns (not recognised):[/] {', '.join(report.ignored_columns)}"
        )
    if report.errors:
        table = Table(title=f"{len(report.errors)} errors — nothing was written", show_lines=False)
        for col in ("row", "column", "value", "rule", "message"):
            table.add_column(col, overflow="fold", justify="right" if col == "row" else "left")
        for e in report.sorted_errors():
            table.add_row(str(e.row), e.column, e.value, e.rule, e.message)
        console.print(table)
        rules = sorted({e.rule for e in report.errors})
        for rule in rules:
            console.print(f"  [dim]{rule}: {RULES[rule]}[/]")
        console.print(f"[red]{report.summary()}[/]")
        return
    for note in report.notes:
        console.print(f"  {note}")
    colour = "cyan" if report.dry_run else "green"
    console.print(f"[{colour}]{report.summary()}[/]")


def _import(kind: ExportKind, file: Path, dry_run: bool, as_json: bool) -> None:
    from sqlalchemy.exc import DBAPIError

    try:
        report = run_import(kind, file, dry_run=dry_run)
    except DBAPIError as exc:
        # Usually a database that was never initialised or is behind the code's schema.
        console.print(
            f"[red]database error: {exc.orig}[/]\nrun `sqm db upgrade` (or `sqm init`) first?"
        )
        raise typer.Exit(2) from exc
    if as_json:
        print(report.to_json())
    else:
        print_report(report)
    if not report.ok:
        raise typer.Exit(1)


FILE_ARG = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="CSV or xlsx")
DRY_RUN = typer.Option(False, "--dry-run", help="check and count, but write nothing")
AS_JSON = typer.Option(False, "--json", help="print the report as JSON")


@import_app.command("org")
def import_org(file: Path = FILE_ARG, dry_run: bool = DRY_RUN, as_json: bool = AS_JSON) -> None:
    """Import org units (upserted by code; parents may come after their children)."""
    _import("org", file, dry_run, as_json)


@import_app.command("indicators")
def import_indicators(
    file: Path = FILE_ARG, dry_run: bool = DRY_RUN, as_json: bool = AS_JSON
) -> None:
    """Import indicator systems (each system's rows are its whole tree)."""
    _import("indicators", file, dry_run, as_json)


@import_app.command("weights")
def import_weights(file: Path = FILE_ARG, dry_run: bool = DRY_RUN, as_json: bool = AS_JSON) -> None:
    """Import weight profiles (one row per profile and node)."""
    _import("weights", file, dry_run, as_json)


OUT_ARG = typer.Argument(..., dir_okay=False, help="output file: .csv or .xlsx")
LANG = typer.Option("zh", "--lang", help="headers and coded values in zh or en")


def _export(kind: ExportKind, file: Path, lang: str) -> None:
    from sqm.cli.main import engine_from_env
    from sqm.services.exports import export_table
    from sqm.store.engine import make_sessionmaker

    suffix = file.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        console.print(f"[red]{file.name}: the file must end in .csv or .xlsx[/]")
        raise typer.Exit(2)
    if lang not in ("zh", "en"):
        console.print(f"[red]--lang must be zh or en, not {lang!r}[/]")
        raise typer.Exit(2)
    fmt: Literal["csv", "xlsx"] = "csv" if suffix == ".csv" else "xlsx"
    language: Literal["zh", "en"] = "zh" if lang == "zh" else "en"
    with make_sessionmaker(engine_from_env())() as session:
        data = export_table(session, kind, fmt=fmt, lang=language)
    file.write_bytes(data)
    console.print(f"[green]wrote[/] {file} ({len(data):,} bytes)")


@export_app.command("org")
def export_org(file: Path = OUT_ARG, lang: str = LANG) -> None:
    """Export every org unit, parents first."""
    _export("org", file, lang)


@export_app.command("indicators")
def export_indicators(file: Path = OUT_ARG, lang: str = LANG) -> None:
    """Export the latest version of every indicator system."""
    _export("indicators", file, lang)


@export_app.command("weights")
def export_weights(file: Path = OUT_ARG, lang: str = LANG) -> None:
    """Export every weight profile."""
    _export("weights", file, lang)
