"""``sqm survey …``: import answers from questionnaire platforms, export raw answers, print
store links and QR codes, show quota progress."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from sqm.store.models import SurveyWave

# each command imports the services it runs (pandas, SciPy, qrcode …), not ``--help``
survey_app = typer.Typer(help="Customer surveys: imports, exports, links, quota progress.")
console = Console()


def _factory() -> sessionmaker[Session]:
    from sqm.config import get_settings
    from sqm.store.engine import make_engine, make_sessionmaker

    return make_sessionmaker(make_engine(get_settings().database_url))


def _wave(session: Session, code: str) -> SurveyWave:
    from sqlalchemy import select

    from sqm.store.models import SurveyWave

    wave = session.scalar(select(SurveyWave).where(SurveyWave.code == code))
    if wave is None:
        console.print(f"[red]no wave {code!r}[/red]")
        raise typer.Exit(1)
    return wave


@survey_app.command("import")
def import_command(
    wave_code: str,
    file: Path,
    mapping: Path | None = typer.Option(
        None, help="saved column mapping (JSON); drafted when absent"
    ),
    save_mapping: Path | None = typer.Option(None, help="write the mapping used to this file"),
    skip_rows: int = typer.Option(0, help="rows under the header to skip (Qualtrics: 2)"),
) -> None:
    """Import a platform export (CSV/XLSX) into a wave: every row checked, all or nothing."""
    from rich.table import Table

    from sqm.ingest.survey_answers import (
        AnswerImportError,
        ColumnMapping,
        import_answers,
        read_table,
        suggest_mapping,
    )
    from sqm.services.surveys.fielding import (
        ImportRefused,
        import_into_wave,
        instrument_of,
        quota_rows,
    )

    factory = _factory()
    with factory() as s:
        wave = _wave(s, wave_code)
        inst = instrument_of(wave.instrument)
        units = set(quota_rows(s, wave)["unit"])
        wave_id = wave.id
    table = read_table(file.read_bytes(), file.name)
    cm = ColumnMapping.load(mapping) if mapping else suggest_mapping(table.columns, inst)
    if skip_rows:
        cm.skip_rows = skip_rows
    if save_mapping:
        cm.save(save_mapping)
    try:
        imported = import_answers(table, inst, cm, known_units=units)
        n = import_into_wave(factory, wave_id, imported.answers)
    except AnswerImportError as exc:
        report = Table("row", "column", "field", "problem")
        for e in exc.errors:
            report.add_row(str(e.row), e.column, e.field, e.message.zh)
        console.print(report)
        console.print(f"[red]{len(exc.errors)} problem(s); nothing imported[/red]")
        raise typer.Exit(1) from exc
    except ImportRefused as exc:
        for p in exc.problems:
            console.print(f"[red]{p}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"imported {n} answers into {wave_code}")


@survey_app.command("export")
def export_command(wave_code: str, out: Path, lang: str = typer.Option("zh")) -> None:
    """Export a wave's raw answers; the format follows the file name (.csv, .xlsx, .sav)."""
    from sqm.services.surveys import export as survey_export
    from sqm.services.surveys.fielding import answers_frame, instrument_of

    factory = _factory()
    with factory() as s:
        wave = _wave(s, wave_code)
        frame = answers_frame(s, [wave.id])
        inst = instrument_of(wave.instrument)
    suffix = out.suffix.lower()
    if suffix == ".sav":
        survey_export.write_sav(frame, inst, out, lang)
    elif suffix == ".xlsx":
        out.write_bytes(survey_export.to_excel(frame, inst, lang))
    elif suffix == ".csv":
        out.write_bytes(survey_export.to_csv(frame, inst, lang))
    else:
        console.print("[red]use a .csv, .xlsx or .sav file name[/red]")
        raise typer.Exit(1)
    console.print(f"wrote {len(frame)} answers to {out}")


@survey_app.command("links")
def links_command(
    wave_code: str,
    base_url: str = typer.Option("http://localhost:8000"),
    qr_dir: Path | None = typer.Option(None, help="write <store>.png and <store>.svg here"),
) -> None:
    """Print every store's open link of a wave (and write QR codes to print)."""
    from sqm.config import get_settings
    from sqm.services.surveys.fielding import quota_rows
    from sqm.services.surveys.links import LinkSigner, qr_png, qr_svg, survey_url

    signer = LinkSigner(get_settings().secret_key.encode("utf-8").ljust(16, b"."))
    factory = _factory()
    with factory() as s:
        wave = _wave(s, wave_code)
        units = sorted(set(quota_rows(s, wave)["unit"]))
    links = {u: survey_url(base_url, signer.open_link(wave_code, u)) for u in units}
    if qr_dir:
        qr_dir.mkdir(parents=True, exist_ok=True)
        for u, url in links.items():
            (qr_dir / f"{u}.png").write_bytes(qr_png(url))
            (qr_dir / f"{u}.svg").write_text(qr_svg(url), encoding="utf-8")
    console.print_json(json.dumps(links, ensure_ascii=False))


@survey_app.command("tokens")
def tokens_command(
    wave_code: str,
    store: str,
    count: int = typer.Argument(..., min=1, max=100_000),
    base_url: str = typer.Option("http://localhost:8000"),
) -> None:
    """Issue single-use links for invited customers of one store (printed one per line;
    only their hashes are stored, so keep the printout)."""
    from sqlalchemy import select

    from sqm.config import get_settings
    from sqm.services.surveys.fielding import issue_tokens, quota_rows
    from sqm.services.surveys.links import LinkSigner, survey_url
    from sqm.store.models import OrgUnit

    signer = LinkSigner(get_settings().secret_key.encode("utf-8").ljust(16, b"."))
    factory = _factory()
    with factory() as s:
        wave = _wave(s, wave_code)
        if wave.link_mode != "token":
            console.print(f"[red]wave {wave_code} uses open links, not single-use tokens[/red]")
            raise typer.Exit(1)
        unit = s.scalar(select(OrgUnit).where(OrgUnit.code == store))
        if unit is None or store not in set(quota_rows(s, wave)["unit"]):
            console.print(f"[red]store {store!r} is not part of wave {wave_code}[/red]")
            raise typer.Exit(1)
        tokens = issue_tokens(s, signer, wave, unit, count)
        s.commit()
    for t in tokens:
        print(survey_url(base_url, t))


@survey_app.command("quota")
def quota_command(wave_code: str) -> None:
    """Quota progress of a wave per store (and segment)."""
    from rich.table import Table

    from sqm.services.surveys.fielding import quota_rows

    factory = _factory()
    with factory() as s:
        rows = quota_rows(s, _wave(s, wave_code))
    table = Table("store", "segment", "target", "achieved", "over quota", "fill %")
    for r in rows.to_dict("records"):
        table.add_row(
            r["unit"],
            r["segment"],
            str(r["target"]),
            str(r["achieved"]),
            str(r["over_quota"]),
            f"{r['fill_pct']:.0f}",
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``sqm survey`` to the CLI."""
    app.add_typer(survey_app, name="survey")
