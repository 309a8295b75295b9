"""Bulk complaint import into the store: every row or none.

The file is validated first (:func:`sqm.ingest.complaints.read_complaint_table`); only a file
without errors is written, in one transaction, through the same idempotent intake as the API
(a row whose source id is already stored is skipped and counted, not duplicated).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from sqm.ingest.complaints import ComplaintImport, RowIssue
from sqm.lazy import lazy_import
from sqm.services.complaints import handling as ch
from sqm.store.models import Complaint, OrgUnit

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_import("pandas")


@dataclass
class ImportOutcome:
    """What an import wrote: new complaints, already-known ones, and row errors (then nothing)."""

    created: int = 0
    already_known: int = 0
    errors: list[RowIssue] = field(default_factory=list)


def store_import(
    session: Session,
    result: ComplaintImport,
    source_system: str = "import",
    default_unit: str | None = None,
) -> ImportOutcome:
    """Write a validated complaint file; with any row error nothing is written.

    Rows must name a ``unit`` known to the org tree unless ``default_unit`` is given; an
    unknown unit is a row error (row numbers as in the file, header = row 1).
    """
    out = ImportOutcome(errors=list(result.errors))
    if out.errors:
        return out
    df = result.complaints
    units = {u.code: u for u in session.scalars(select(OrgUnit))}
    for pos, given in enumerate(df["unit"].tolist()):
        code = given or default_unit
        if code is None or code not in units:
            out.errors.append(
                RowIssue(pos + 2, "unit", "not a known org unit code", str(code or ""))
            )
    if out.errors:
        return out
    with session.begin_nested():
        for _, row in df.iterrows():
            code = str(row.get("unit") or default_unit)
            data = ch.ComplaintInput(
                source_system=source_system,
                source_id=str(row["source_id"]),
                channel=str(row["channel"]),
                received_at=pd.Timestamp(row["received_at"]).to_pydatetime(),
                unit_code=code,
                text=str(row.get("text") or ""),
                customer_ref=row.get("customer_ref") or None,
                subcategory=row.get("subcategory") or None,
                complaint_class=row.get("complaint_class") or None,
                repeat_of_source_id=row.get("repeat_of") or None,
            )
            c, created = ch.intake(session, data, units[code])
            out.created += created
            out.already_known += not created
            if created:
                _apply_outcome(session, c, row)
    return out


def _apply_outcome(session: Session, c: Complaint, row: pd.Series) -> None:
    """Carry times, status, satisfaction and contacts of an imported (historic) complaint."""
    for col in ("first_response_at", "resolved_at"):
        v = row.get(col)
        if v is not None and not pd.isna(v):
            setattr(c, col, pd.Timestamp(v).to_pydatetime())
    status = row.get("status")
    if status and status != c.status:
        c.status = str(status)
    sat = row.get("satisfaction")
    if sat is not None and not pd.isna(sat):
        c.satisfaction = int(sat)
    contacts = row.get("contacts")
    if contacts is not None and not pd.isna(contacts):
        c.contacts = int(contacts)
