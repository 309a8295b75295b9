"""What an import reports: every bad cell (row, column, value, rule, message) and, when the
file was good, how many records it created, updated, left unchanged or deleted.

Row numbers are the ones the user sees in Excel: the header is row 1, the first data row
is row 2. A file-level problem (a missing column, an unreadable file) has row 1 (the
header) or row 0 (the file as a whole).

>>> report = ImportReport(kind="org")
>>> report.add(3, "parent_code", "GD-XX", "parent_not_found", "no unit with code GD-XX")
>>> report.ok, report.errors[0].row
(False, 3)
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from sqm.domain.errors import RuleError

#: The rules an importer may report, with a short English explanation of each.
RULES: dict[str, str] = {
    "bad_file": "the file cannot be read as CSV or Excel",
    "missing_column": "a required column is missing from the header row",
    "duplicate_column": "two header cells name the same field",
    "required": "a required field is empty",
    "duplicate_code": "the same code appears twice in the file",
    "unknown_value": "the value is not one of the accepted values",
    "not_a_number": "the value is not a number",
    "not_an_integer": "the value is not a whole number",
    "out_of_range": "the number lies outside the allowed range",
    "not_a_date": "the value is not a date",
    "not_a_boolean": "the value is not yes/no",
    "not_a_period": "the value is not a period code (2026-10, 2026Q4, 2026)",
    "parent_not_found": "the parent code is neither in the file nor in the database",
    "parent_kind": "the parent is of a kind this row may not sit under",
    "cycle": "the parents form a cycle",
    "out_of_scope": "the unit would lie outside the org subtree you may edit",
    "conflicting_value": "rows of the same system or profile disagree on a shared field",
    "unknown_system": "no indicator system with this code (and version)",
    "unknown_node": "no indicator node with this code in the system",
    "unknown_checklist": "no inspection checklist with this code (and version)",
    "not_allowed": "the field must stay empty for this kind of record",
    "weights_sum": "the weights of sibling nodes do not sum to 1",
    "not_json": "the value is not a JSON object",
    "rejected": "the service refused the record",
}


@dataclass(frozen=True, slots=True)
class RowError:
    """One bad cell: where it is, what was found and which rule it breaks."""

    row: int
    column: str
    value: str
    rule: str
    message: str

    def __str__(self) -> str:
        shown = f" (found {self.value!r})" if self.value else ""
        return f"row {self.row}, column {self.column}: {self.message}{shown} [{self.rule}]"


@dataclass
class ImportReport:
    """The outcome of one import: errors (then nothing was written) or counts of changes.

    ``created``/``updated``/``unchanged``/``deleted`` count records of the imported kind
    (org units, indicator nodes, weights); ``notes`` says what else happened (a new
    draft version of a published indicator system, for instance).
    """

    kind: str
    rows_read: int = 0
    errors: list[RowError] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    notes: list[str] = field(default_factory=list)
    dry_run: bool = False
    #: Header cells the importer did not recognise (ignored, reported so typos show).
    ignored_columns: list[str] = field(default_factory=list)

    def add(self, row: int, column: str, value: object, rule: str, message: str) -> None:
        """Record one bad cell (``rule`` is a key of :data:`RULES`)."""
        if rule not in RULES:
            raise ValueError(f"rule {rule!r} is not one of {sorted(RULES)}")
        shown = "" if value is None else str(value)
        self.errors.append(RowError(row, column, shown, rule, message))

    @property
    def ok(self) -> bool:
        """True when the file had no error (and so was, or would be, written)."""
        return not self.errors

    @property
    def changed(self) -> bool:
        """Whether writing this file changed anything."""
        return bool(self.created or self.updated or self.deleted)

    def sorted_errors(self) -> list[RowError]:
        """Errors in file order (row, then column)."""
        return sorted(self.errors, key=lambda e: (e.row, e.column, e.rule))

    def summary(self) -> str:
        """One line for a terminal or a page.

        >>> ImportReport(kind="org", rows_read=3, created=1, unchanged=2).summary()
        'org: 3 rows read; 1 created, 0 updated, 2 unchanged, 0 deleted'
        """
        if self.errors:
            bad_rows = len({e.row for e in self.errors})
            return (
                f"{self.kind}: {self.rows_read} rows read; {len(self.errors)} errors in "
                f"{bad_rows} rows; nothing written"
            )
        verb = " (dry run, nothing written)" if self.dry_run else ""
        return (
            f"{self.kind}: {self.rows_read} rows read; {self.created} created, "
            f"{self.updated} updated, {self.unchanged} unchanged, {self.deleted} deleted{verb}"
        )

    def format_table(self) -> str:
        """The errors as a plain-text table (row, column, value, rule, message).

        >>> r = ImportReport(kind="org")
        >>> r.add(2, "kind", "shop", "unknown_value", "unknown kind")
        >>> print(r.format_table().splitlines()[2])
        2    kind    shop   unknown_value  unknown kind
        """
        head = ("row", "column", "value", "rule", "message")
        body = [(str(e.row), e.column, e.value, e.rule, e.message) for e in self.sorted_errors()]
        widths = [max(len(r[i]) for r in [head, *body]) for i in range(4)]
        lines = []
        for r in [head, (*("-" * w for w in widths), "-" * 7), *body]:
            cells = [r[i].ljust(widths[i]) for i in range(4)]
            lines.append("  ".join([*cells, r[4]]).rstrip())
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for the API and ``--json`` output)."""
        return {
            "kind": self.kind,
            "ok": self.ok,
            "dry_run": self.dry_run,
            "rows_read": self.rows_read,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
            "notes": list(self.notes),
            "ignored_columns": list(self.ignored_columns),
            "errors": [asdict(e) for e in self.sorted_errors()],
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON text (UTF-8, Chinese kept readable)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)


class ImportRejected(RuleError):
    """Raised inside a write when a service refuses a record after validation passed.

    Carries the report so the caller can show it; the transaction rolls back.
    """

    def __init__(self, report: ImportReport) -> None:
        super().__init__(report.summary())
        self.report = report
