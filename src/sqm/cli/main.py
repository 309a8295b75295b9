"""The ``sqm`` command line (Typer + Rich). Each capability adds its sub-commands here."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape

from sqm.domain.errors import RuleError

if TYPE_CHECKING:
    from sqlalchemy import Engine

# Start-up: ``sqm --help`` and every command's ``--help`` import only Typer and Rich (and
# the light ``sqm.domain.errors``). Everything else — SQLAlchemy, the settings, the
# services with their pandas, SciPy, openpyxl … — is imported inside the command that uses
# it; ``tests/foundation/test_startup.py`` keeps it so.

console = Console()


class _Commands(typer.core.TyperGroup):
    """The root command group: a :class:`RuleError` from any command (a service, an
    importer or a method refusing its input) is printed as its message, exit code 1."""

    def invoke(self, ctx: typer._click.core.Context) -> object:
        try:
            return super().invoke(ctx)
        except RuleError as exc:
            console.print(f"[red]{escape(exc.message)}[/]")
            raise typer.Exit(1) from exc


app = typer.Typer(
    cls=_Commands,
    help="SQM — service-quality management for telecom operators.",
    no_args_is_help=True,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")


def engine_from_env() -> Engine:
    """The engine of ``SQM_DATABASE_URL`` (a SQLite file under ./var by default)."""
    from sqm.config import get_settings
    from sqm.store.engine import make_engine

    return make_engine(get_settings().database_url)


def _ensure_secret_key() -> None:
    """Write a random secret key into the instance's settings file if it has none."""
    from sqm.config import ensure_secret_key, get_settings

    written = ensure_secret_key(get_settings().data_dir)
    if written is not None:
        console.print(f"[green]secret key[/] written to {written} (keep it private)")


def _reset(engine: Engine) -> None:
    from sqlalchemy import inspect, text

    from sqm.store.base import Base

    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(url.database + suffix).unlink(missing_ok=True)
        return
    import sqm.store.models  # noqa: F401

    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        if inspect(conn).has_table("alembic_version"):
            conn.execute(text("DROP TABLE alembic_version"))


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("heads", help="target revision")) -> None:
    """Bring the database schema up to date (all capability branches)."""
    from sqm.store.migrate import current_heads, upgrade

    engine = engine_from_env()
    upgrade(engine, revision)
    console.print(
        f"[green]schema at[/] {', '.join(sorted(current_heads(engine)))} ({engine.url.render_as_string()})"
    )


@db_app.command("current")
def db_current() -> None:
    """Show the revisions the database is at."""
    from sqm.store.migrate import current_heads

    console.print(", ".join(sorted(current_heads(engine_from_env()))) or "(empty)")


@app.command()
def init(
    admin_user: str = typer.Option("admin", help="user name of the first administrator"),
    admin_password: str = typer.Option("", help="password (asked for when not given)"),
    company_code: str = typer.Option("HQ", help="code of the root org unit"),
    company_name: str = typer.Option("总公司", help="Chinese name of the root org unit"),
) -> None:
    """Create the schema, the root org unit and the first administrator."""
    from sqlalchemy import select

    from sqm.domain.org import UnitKind
    from sqm.domain.roles import Role
    from sqm.services.org_tree import place
    from sqm.services.users import create_user, grant
    from sqm.store.engine import make_sessionmaker, transaction
    from sqm.store.migrate import upgrade
    from sqm.store.models import OrgUnit

    _ensure_secret_key()
    engine = engine_from_env()
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as s:
        root = s.scalar(select(OrgUnit).where(OrgUnit.parent_id.is_(None)))
        if root is None:
            root = OrgUnit(code=company_code, name_zh=company_name, kind=UnitKind.COMPANY)
            place(s, root, None)
        password = admin_password or getpass.getpass(f"password for {admin_user}: ")
        user = create_user(s, admin_user, password, admin_user)
        grant(s, None, user, Role.ADMIN, root)
    console.print(f"[green]initialised[/]: root unit {root.code}, administrator {admin_user}")


@app.command()
def demo(
    reset: bool = typer.Option(False, "--reset", help="drop everything first"),
    seed: int = typer.Option(20261125, help="random seed (same seed, same demo)"),
) -> None:
    """Build the demo organisation and its data (deterministic)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from sqm.services.demo import DEMO_PASSWORD, demo_logins_table, run_demo
    from sqm.store.migrate import upgrade

    _ensure_secret_key()
    engine = engine_from_env()
    if reset:
        _reset(engine)
        engine = engine_from_env()
    upgrade(engine)
    with Progress(
        TextColumn("[bold]{task.description:<24}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("demo", total=1)

        def progress(name: str, i: int, n: int) -> None:
            bar.update(task, description=name, completed=i, total=n)

        try:
            run_demo(engine, seed=seed, progress=progress)
        except RuntimeError as exc:
            console.print(f"[red]{exc}[/]")
            raise typer.Exit(1) from exc
    table = Table(title=f"Demo logins (password: {DEMO_PASSWORD})")
    table.add_column("user")
    table.add_column("role")
    for user, role in demo_logins_table():
        table.add_row(user, role)
    console.print(table)


@app.command()
def evaluate(
    period: list[str] = typer.Argument(
        None, help="period codes (2026-10 …); all months when omitted"
    ),
    system: str = typer.Option("STORE_SQ", help="indicator system code"),
) -> None:
    """Score every store for the periods and roll the scores up the org tree."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table
    from sqlalchemy import select

    from sqm.services.evaluation.evaluate import evaluate_period
    from sqm.store.engine import make_sessionmaker, transaction
    from sqm.store.models import Period

    factory = make_sessionmaker(engine_from_env())
    with factory() as s:
        codes = period or list(
            s.scalars(select(Period.code).where(Period.kind == "month").order_by(Period.code))
        )
    table = Table(title="Evaluation")
    for col in ("period", "system", "scored", "coverage", "changed"):
        table.add_column(col)
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console
    ) as bar:
        task = bar.add_task("evaluating", total=len(codes))
        for code in codes:
            with transaction(factory) as s:
                out = evaluate_period(s, code, system_code=system)
            table.add_row(
                out.period,
                out.system,
                str(out.scored),
                f"{out.mean_coverage:.0%}",
                str(out.changed),
            )
            for w in out.warnings[:3]:
                console.print(f"[yellow]{code}: {w}[/]")
            bar.advance(task)
    console.print(table)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8000),
    workers: int = typer.Option(1, help="worker processes"),
) -> None:
    """Serve the web app and the JSON API. Anything but a loopback address needs a secret
    key of the instance's own (``sqm init`` writes one; or set SQM_SECRET_KEY)."""
    import uvicorn

    from sqm.config import get_settings, is_loopback, weak_secret_key
    from sqm.services.demo import DEMO_PASSWORD

    if not is_loopback(host) and weak_secret_key(get_settings().secret_key):
        console.print(
            f"[red]refusing to serve on {escape(host)} with the default or a short secret "
            "key: anyone could sign a session cookie.[/] Run `sqm init` (it writes a random "
            "key into <data_dir>/settings.env) or set SQM_SECRET_KEY to 32+ random "
            "characters (python -c 'import secrets; print(secrets.token_urlsafe(48))')."
        )
        raise typer.Exit(2)

    console.print(f"SQM on [bold]http://{host}:{port}[/]  (demo password: {DEMO_PASSWORD})")
    uvicorn.run("sqm.web.asgi:app", host=host, port=port, workers=workers, log_level="info")


def _register_capabilities() -> None:
    """Sub-commands of the capabilities (import, export, surveys, visits, …)."""
    import importlib

    for mod in CAPABILITY_COMMANDS:
        importlib.import_module(mod).register(app)


#: Modules exposing ``register(app: typer.Typer)``. Each capability adds one line.
CAPABILITY_COMMANDS: list[str] = [
    "sqm.cli.surveys",
    "sqm.cli.io_commands",
    "sqm.cli.complaints",
    "sqm.cli.inspections",
    "sqm.cli.network",
    "sqm.cli.operations",
]

_register_capabilities()
