"""Row-level errors of the network importers, and the checks that raise them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sqm.domain.errors import RuleError


class NetworkIngestError(RuleError):
    """A file or row that cannot be loaded; names the file, the line and the field.

    ``line`` is the 1-based line of the file (the header is line 1), or None when the
    problem concerns the whole file.
    """

    def __init__(self, file: str, line: int | None, field: str | None, rule: str) -> None:
        self.file, self.line, self.field, self.rule = file, line, field, rule
        where = file + (f", line {line}" if line is not None else "")
        where += f", field {field!r}" if field else ""
        super().__init__(f"{where}: {rule}")


def csv_line(index: int, header_lines: int = 1) -> int:
    """The file line of data row ``index`` (0-based) under ``header_lines`` header lines."""
    return index + header_lines + 1


def require_columns(df: pd.DataFrame, columns: Sequence[str], file: str) -> None:
    """Raise if any of ``columns`` is absent from the file's header."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise NetworkIngestError(
            file, 1, missing[0], f"required column(s) missing: {', '.join(missing)}"
        )


def numeric(
    df: pd.DataFrame,
    column: str,
    file: str,
    *,
    missing: Sequence[str] = ("",),
    allow_missing: bool = True,
    minimum: float | None = None,
    maximum: float | None = None,
    integer: bool = False,
) -> pd.Series:
    """Parse one text column as numbers; raise naming the first bad line and the rule."""
    raw = df[column].astype("string").str.strip()
    is_missing = raw.isna() | raw.isin(list(missing))
    values = pd.to_numeric(raw.mask(is_missing), errors="coerce").astype(float)
    bad = values.isna() & ~is_missing
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise NetworkIngestError(file, csv_line(i), column, f"{raw.iloc[i]!r} is not a number")
    if not allow_missing and is_missing.any():
        i = int(np.flatnonzero(is_missing.to_numpy())[0])
        raise NetworkIngestError(file, csv_line(i), column, "value is required")
    checks: list[tuple[pd.Series, str]] = []
    if minimum is not None:
        checks.append((values < minimum, f"must be at least {minimum:g}"))
    if maximum is not None:
        checks.append((values > maximum, f"must be at most {maximum:g}"))
    if integer:
        checks.append((values.notna() & (values != values.round()), "must be a whole number"))
    for mask, rule in checks:
        if mask.any():
            i = int(np.flatnonzero(mask.to_numpy())[0])
            raise NetworkIngestError(file, csv_line(i), column, f"{values.iloc[i]:g} {rule}")
    return values


def timestamps(df: pd.DataFrame, column: str, file: str, fmt: str | None = None) -> pd.Series:
    """Parse a timestamp column (naive local time); raise naming the first bad line."""
    raw = df[column].astype("string").str.strip()
    parsed = pd.to_datetime(raw, format=fmt, errors="coerce")
    bad = parsed.isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise NetworkIngestError(file, csv_line(i), column, f"{raw.iloc[i]!r} is not a timestamp")
    return parsed.astype("datetime64[us]")


def read_table(path: str, **kwargs: object) -> pd.DataFrame:
    """Read a CSV (all columns as text) or a Parquet file; raise a file-level error."""
    name = str(path)
    try:
        if name.endswith(".parquet"):
            return pd.read_parquet(name)
        return pd.read_csv(name, dtype=str, keep_default_na=False, **kwargs)  # type: ignore[call-overload]
    except FileNotFoundError:
        raise NetworkIngestError(name, None, None, "file not found") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise NetworkIngestError(name, None, None, f"cannot be read: {exc}") from exc
