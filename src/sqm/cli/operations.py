"""``sqm backup FILE`` and ``sqm restore FILE --yes``: consistent backups of the database
(SQLite's online backup API, or ``pg_dump``) taken while the server runs, and restores that
check the backup's schema version (see :mod:`sqm.services.backup`)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

console = Console()


def register(app: typer.Typer) -> None:
    """Add ``backup`` and ``restore`` to the ``sqm`` command."""

    @app.command("backup")
    def backup_cmd(
        dest: Path = typer.Argument(..., help="the backup file to write (must not exist)"),
    ) -> None:
        """Back up the database of SQM_DATABASE_URL; safe while the server is writing."""
        from sqm.cli.main import engine_from_env
        from sqm.services import backup as svc

        engine = engine_from_env()
        try:
            info = svc.backup(engine, dest)
        finally:
            engine.dispose()
        console.print(f"[green]backup written[/] {info.path} (schema {', '.join(info.schema)})")

    @app.command("restore")
    def restore_cmd(
        source: Path = typer.Argument(..., help="a file written by sqm backup"),
        yes: bool = typer.Option(False, "--yes", help="replace the current database"),
    ) -> None:
        """Replace the database of SQM_DATABASE_URL by a backup (stop the server first)."""
        from sqm.config import get_settings
        from sqm.services import backup as svc

        url = get_settings().database_url
        info = svc.read_backup(source)
        if not yes:
            console.print(f"[red]this replaces the database at {url}; add --yes to go on[/]")
            raise typer.Exit(1)
        svc.restore(source, url)
        console.print(f"[green]restored[/] {source} (schema {', '.join(info.schema)}) into {url}")
