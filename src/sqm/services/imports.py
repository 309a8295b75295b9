"""File imports of the foundation's kinds — org units, indicator systems, weight profiles —
read and validated by :mod:`sqm.ingest`, then written by the service that owns the kind.

Every import is all-or-nothing: a file with any error writes nothing (the report lists
every bad cell), and a good file is written into the caller's session (flushed, not
committed), so the caller commits it as one transaction or rolls it back for a dry run.
Re-importing the same file changes nothing.

>>> sorted(IMPORTERS)
['indicators', 'org', 'weights']
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from sqlalchemy.orm import Session

from sqm.ingest.errors import ImportReport
from sqm.ingest.indicator_systems import read_indicator_systems
from sqm.ingest.org_units import read_org_units
from sqm.services.evaluation.indicator_system import apply_indicator_systems
from sqm.services.evaluation.weight_profile import import_weight_profiles
from sqm.services.exports import ExportKind
from sqm.services.org_tree import apply_org_rows

Progress = Callable[[int, int], None]


def import_org_units(
    session: Session,
    data: bytes,
    filename: str,
    *,
    scope_paths: Sequence[str] | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Validate the whole org-unit file and, when it has no error, upsert its units by code
    (within ``scope_paths``, the importer's scope; None: no limit).

    >>> # report = import_org_units(session, Path("units.xlsx").read_bytes(), "units.xlsx")
    >>> # report.summary() → 'org: 340 rows read; 340 created, 0 updated, 0 unchanged, 0 deleted'
    """
    parsed = read_org_units(session, data, filename, scope_paths=scope_paths, dry_run=dry_run)
    if not parsed.report.ok:
        return parsed.report
    return apply_org_rows(session, parsed.rows, parsed.report, progress)


def import_indicator_systems(
    session: Session,
    data: bytes,
    filename: str,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Validate the whole indicator-system file and, when it has no error, upsert each
    system in it (counts are of indicator nodes).

    >>> # import_indicator_systems(s, Path("store_sq.csv").read_bytes(), "store_sq.csv")
    >>> # → 'indicators: 62 rows read; 0 created, 0 updated, 62 unchanged, 0 deleted'
    """
    parsed = read_indicator_systems(data, filename, dry_run=dry_run)
    if not parsed.report.ok:
        return parsed.report
    return apply_indicator_systems(session, parsed, progress)


class Importer(Protocol):
    """An importer: ``(session, data, filename, *, dry_run, progress) → ImportReport``."""

    def __call__(
        self,
        session: Session,
        data: bytes,
        filename: str,
        *,
        dry_run: bool = ...,
        progress: Progress | None = ...,
    ) -> ImportReport: ...


IMPORTERS: dict[ExportKind, Importer] = {
    "org": import_org_units,
    "indicators": import_indicator_systems,
    "weights": import_weight_profiles,
}
"""The importer of each kind (the same kinds :func:`sqm.services.exports.export_table`
writes, so an exported file imports back unchanged)."""


def run_import(
    session: Session,
    kind: ExportKind,
    data: bytes,
    filename: str,
    *,
    scope_paths: Sequence[str] | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import ``data`` as ``kind``; org units are limited to ``scope_paths`` (None: no limit).

    Raises :class:`sqm.ingest.errors.ImportRejected` (with the report) when a service
    refuses a record after the file validated; the caller then rolls back.
    """
    if kind == "org":
        return import_org_units(
            session, data, filename, scope_paths=scope_paths, dry_run=dry_run, progress=progress
        )
    return IMPORTERS[kind](session, data, filename, dry_run=dry_run, progress=progress)
