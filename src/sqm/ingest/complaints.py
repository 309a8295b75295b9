"""Complaint importers: the bulk template (CSV/Excel) and the public Comcast data set.

Both validate every row before anything is accepted and return a report naming the row,
the column and the rule for each problem, so a caller writes either every row or none
(nothing half-written).  Row numbers are spreadsheet rows: the header is row 1, the first
data row is row 2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqm.domain.complaint_taxonomy import (
    CATEGORIES,
    Channel,
    ComplaintClass,
    Status,
    all_subcategories,
    default_class,
)
from sqm.lazy import lazy_import

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_import("numpy")
    pd = lazy_import("pandas")

Source = str | Path | IO[bytes] | IO[str]


@dataclass(frozen=True, slots=True)
class RowIssue:
    """One finding about one cell: an error (row rejected) or a note (row fixed and kept)."""

    row: int
    column: str
    rule: str
    value: str = ""

    def __str__(self) -> str:
        shown = f" (found {self.value!r})" if self.value != "" else ""
        return f"row {self.row}, column {self.column!r}: {self.rule}{shown}"


@dataclass
class ComplaintImport:
    """Result of reading a complaint file.

    ``complaints`` holds the canonical rows (empty when ``errors`` is non-empty and the import
    is all-or-nothing); ``notes`` records every fix applied to a kept row.
    """

    rows_read: int
    complaints: pd.DataFrame
    errors: list[RowIssue] = field(default_factory=list)
    notes: list[RowIssue] = field(default_factory=list)
    facts: dict[str, object] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when no row was rejected."""
        return not self.errors

    def summary(self) -> str:
        """One line for a CLI or a page: rows read, accepted, rejected, fixed."""
        fixed = len({n.row for n in self.notes})
        return (
            f"{self.rows_read} rows read, {len(self.complaints)} accepted, "
            f"{len({e.row for e in self.errors})} rejected, {fixed} fixed"
        )


# ---------------------------------------------------------------------------------------------
# The bulk template

#: Canonical template columns and the Chinese headers accepted for them.
TEMPLATE_COLUMNS: dict[str, tuple[str, ...]] = {
    "source_id": ("投诉编号", "工单号", "source id"),
    "channel": ("渠道", "受理渠道"),
    "received_at": ("受理时间", "投诉时间"),
    "customer_ref": ("客户号码", "客户标识", "customer"),
    "unit": ("所属单位", "门店", "区域"),
    "category": ("投诉大类", "大类"),
    "subcategory": ("投诉小类", "小类"),
    "text": ("投诉内容", "内容", "description"),
    "status": ("状态",),
    "complaint_class": ("投诉等级", "class"),
    "first_response_at": ("首次响应时间",),
    "resolved_at": ("解决时间", "办结时间"),
    "satisfaction": ("满意度",),
    "contacts": ("接触次数",),
    "repeat_of": ("重复投诉关联", "关联工单"),
}
REQUIRED = ("source_id", "channel", "received_at")

_CHANNEL_ALIASES: dict[str, Channel] = {c.value: c for c in Channel}
_CHANNEL_ALIASES.update({c.name_zh: c for c in Channel})
_CHANNEL_ALIASES.update({c.name_en.lower(): c for c in Channel})
_CHANNEL_ALIASES.update(
    {
        "10000号": Channel.HOTLINE,
        "10086": Channel.HOTLINE,
        "10010": Channel.HOTLINE,
        "热线": Channel.HOTLINE,
        "app": Channel.APP,
        "微信": Channel.SOCIAL,
        "微博": Channel.SOCIAL,
        "营业厅": Channel.STORE,
        "工信部": Channel.REGULATOR,
        "通信管理局": Channel.REGULATOR,
        "申诉": Channel.REGULATOR,
    }
)
_STATUS_ALIASES: dict[str, Status] = {s.value: s for s in Status} | {s.name_zh: s for s in Status}
_CATEGORY_CODES = {c.code for c in CATEGORIES}
_SUB_CODES = {s.code: s for s in all_subcategories()}


def _read_table(source: Source, sheet: str | int = 0) -> pd.DataFrame:
    name = str(getattr(source, "name", source))
    if name.lower().endswith((".xlsx", ".xlsm")):
        return pd.read_excel(source, sheet_name=sheet, dtype=str, keep_default_na=False)
    return pd.read_csv(source, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _none_if_blank(values: pd.Series) -> pd.Series:
    """Empty cells as None (object dtype): pandas' string dtype would turn None into NaN,
    which a later ``value or None`` takes for a value."""
    return values.astype(object).where(values != "", None)


def _canonical_headers(columns: list[str]) -> tuple[dict[str, str], list[str]]:
    lookup = {}
    for canon, aliases in TEMPLATE_COLUMNS.items():
        for a in (canon, *aliases):
            lookup[a.strip().lower()] = canon
    rename, unknown = {}, []
    for col in columns:
        key = str(col).strip().lower()
        if key in lookup:
            rename[col] = lookup[key]
        else:
            unknown.append(str(col))
    return rename, unknown


def _parse_times(values: pd.Series, tz: ZoneInfo) -> tuple[pd.Series, pd.Series]:
    """Parse datetimes; naive ones are local to ``tz``.  Returns (UTC times, bad mask)."""
    parsed: list[pd.Timestamp | None] = []
    bad: list[bool] = []
    for raw in values.tolist():
        s = str(raw).strip()
        ts = None
        if s:
            try:
                ts = pd.Timestamp(s)
            except (ValueError, TypeError):
                ts = None
            if ts is None or pd.isna(ts):
                bad.append(True)
                parsed.append(None)
                continue
            ts = (ts.tz_localize(tz) if ts.tzinfo is None else ts).tz_convert("UTC")
        bad.append(False)
        parsed.append(ts)
    out = pd.Series(pd.DatetimeIndex(parsed, tz="UTC"), index=values.index)
    return out, pd.Series(bad, index=values.index)


def read_complaint_table(
    source: Source, default_tz: str = "Asia/Shanghai", sheet: str | int = 0
) -> ComplaintImport:
    """Read and validate a complaint template (CSV in UTF-8 with or without BOM, or .xlsx).

    Every row is checked; when any row breaks a rule the result holds all the errors and
    no complaints, so nothing is half-written.  Rules: required ``source_id``, ``channel``,
    ``received_at``; ``source_id`` unique in the file; known channel, status, class,
    category and a sub-category that belongs to it; parseable timestamps (naive ones are
    local to ``default_tz``) with first response and resolution not before receipt;
    satisfaction 1–5; contacts a whole number ≥ 1.

    >>> import io
    >>> csv = "source_id,channel,received_at\\nA1,hotline,2026-03-01 10:00\\nA2,fax,\\n"
    >>> r = read_complaint_table(io.StringIO(csv))
    >>> [str(e) for e in r.errors]
    ["row 3, column 'channel': unknown channel; use one of hotline, app, web, social_media, store_counter, email, regulator (found 'fax')", "row 3, column 'received_at': required value is empty"]
    """
    tz = ZoneInfo(default_tz)
    raw = _read_table(source, sheet)
    rename, unknown = _canonical_headers(list(raw.columns))
    errors: list[RowIssue] = [
        RowIssue(1, col, "unknown column; see the template's headers") for col in unknown
    ]
    df = raw.rename(columns=rename)
    for col in REQUIRED:
        if col not in df.columns:
            errors.append(RowIssue(1, col, "required column is missing"))
    if any(e.row == 1 for e in errors):
        return ComplaintImport(len(raw), pd.DataFrame(), errors)
    for col in TEMPLATE_COLUMNS:
        if col not in df.columns:
            df[col] = ""
    df = df.map(lambda v: str(v).strip())
    rownum = pd.Series(np.arange(2, len(df) + 2), index=df.index)

    def flag(mask: pd.Series, column: str, rule: str) -> None:
        for i in df.index[mask.to_numpy()]:
            errors.append(RowIssue(int(rownum[i]), column, rule, str(df.at[i, column])))

    for col in REQUIRED:
        flag(df[col] == "", col, "required value is empty")
    dup = df["source_id"].duplicated(keep="first") & (df["source_id"] != "")
    flag(dup, "source_id", "source_id appears more than once in the file")

    channel = df["channel"].str.lower().map(lambda v: _CHANNEL_ALIASES.get(v))
    flag(
        (df["channel"] != "") & channel.isna(),
        "channel",
        "unknown channel; use one of " + ", ".join(c.value for c in Channel),
    )
    status = df["status"].map(
        lambda v: _STATUS_ALIASES.get(v.lower() if v.isascii() else v) if v else Status.NEW
    )
    flag(
        status.isna(), "status", "unknown status; use one of " + ", ".join(s.value for s in Status)
    )
    klass = df["complaint_class"].map(
        lambda v: ComplaintClass(v) if v in ComplaintClass._value2member_map_ else None
    )
    flag(
        (df["complaint_class"] != "") & klass.isna(),
        "complaint_class",
        "unknown class; use one of " + ", ".join(c.value for c in ComplaintClass),
    )

    cat = df["category"]
    sub = df["subcategory"]
    flag((cat != "") & ~cat.isin(_CATEGORY_CODES), "category", "unknown category code")
    sub_known = sub.isin(list(_SUB_CODES))
    flag((sub != "") & ~sub_known, "subcategory", "unknown sub-category code")
    sub_parent = sub.str.split(".", n=1).str[0]
    flag(
        sub_known & (cat != "") & (sub_parent != cat),
        "subcategory",
        "sub-category does not belong to the category",
    )
    cat = cat.where(cat != "", sub_parent.where(sub_known, ""))

    times = {}
    for col in ("received_at", "first_response_at", "resolved_at"):
        times[col], bad = _parse_times(df[col], tz)
        flag(bad, col, "not a date-time (use ISO 8601, e.g. 2026-03-01 10:15)")
    for col in ("first_response_at", "resolved_at"):
        flag(times[col] < times["received_at"], col, "is before received_at")

    sat = pd.to_numeric(df["satisfaction"].replace("", np.nan), errors="coerce")
    flag(
        (df["satisfaction"] != "") & ~sat.between(1, 5),
        "satisfaction",
        "must be a number from 1 to 5",
    )
    contacts = pd.to_numeric(df["contacts"].replace("", np.nan), errors="coerce")
    flag(
        (df["contacts"] != "") & ~((contacts >= 1) & (contacts % 1 == 0)),
        "contacts",
        "must be a whole number ≥ 1",
    )

    errors.sort(
        key=lambda e: (
            e.row,
            list(TEMPLATE_COLUMNS).index(e.column) if e.column in TEMPLATE_COLUMNS else -1,
        )
    )
    if errors:
        return ComplaintImport(len(df), pd.DataFrame(), errors)
    ch = channel.map(str)
    out = pd.DataFrame(
        {
            "source_id": df["source_id"],
            "channel": ch,
            "complaint_class": [
                str(k if k is not None else default_class(Channel(c)))
                for k, c in zip(klass, ch, strict=True)
            ],
            "received_at": times["received_at"],
            "first_response_at": times["first_response_at"],
            "resolved_at": times["resolved_at"],
            "customer_ref": _none_if_blank(df["customer_ref"]),
            "unit": _none_if_blank(df["unit"]),
            "category": _none_if_blank(cat),
            "subcategory": _none_if_blank(sub),
            "text": df["text"],
            "status": status.map(str),
            "satisfaction": sat,
            "contacts": contacts,
            "repeat_of": _none_if_blank(df["repeat_of"]),
        }
    )
    return ComplaintImport(len(df), out.reset_index(drop=True))


# ---------------------------------------------------------------------------------------------
# The public Comcast data set

COMCAST_CHANNELS: dict[str, Channel] = {
    "Customer Care Call": Channel.HOTLINE,
    "Internet": Channel.WEB,
}
#: Comcast statuses onto ours: Open = taken in, nobody on it yet; Pending = being worked.
COMCAST_STATUSES: dict[str, Status] = {
    "Open": Status.NEW,
    "Pending": Status.IN_PROGRESS,
    "Solved": Status.RESOLVED,
    "Closed": Status.CLOSED,
}
_COMCAST_COLUMNS = [
    "Ticket #",
    "Customer Complaint",
    "Date",
    "Date_month_year",
    "Time",
    "Received Via",
    "City",
    "State",
    "Zip code",
    "Status",
    "Filing on Behalf of Someone",
]
_DMY = re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{2})$")


def load_comcast(source: Source, fix_dates: bool = True) -> ComplaintImport:
    """Load the "Comcast Telecom Consumer Complaints" CSV as it is, every quirk handled or reported.

    - byte-order mark: read as UTF-8-sig, so the first header is ``Ticket #``;
    - the broken row (``Ticket #`` = ``comcas``, the tail of a title split by a line break) is
      rejected with an error naming it; the rest load (this loader is not all-or-nothing:
      the data set is a fixed public file, not an operator's upload);
    - dates: the source wrote month-day, later parsed as day-month whenever the day was ≤ 12.
      With ``fix_dates`` the two fields of every ``Date`` whose first field is ≤ 12 are swapped
      and a note ``date read as month-day`` is recorded for the row; without it the rows are
      kept at face value and flagged ``date_ambiguous``;
    - zip codes that lost their leading zeros are padded to five digits, with a note;
    - channels and statuses are mapped onto ours (:data:`COMCAST_CHANNELS`,
      :data:`COMCAST_STATUSES`), the originals kept in ``source_channel``/``source_status``.

    Times are local and the zone is unknown (42 states), so ``received_at`` is naive.
    """
    raw = pd.read_csv(source, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    missing = [c for c in _COMCAST_COLUMNS if c not in raw.columns]
    if missing:
        return ComplaintImport(
            len(raw),
            pd.DataFrame(),
            [RowIssue(1, c, "required column is missing") for c in missing],
        )
    errors: list[RowIssue] = []
    notes: list[RowIssue] = []
    rows = raw.index.to_numpy() + 2
    ticket_ok = raw["Ticket #"].str.fullmatch(r"\d+")
    for r, v in zip(rows[~ticket_ok], raw.loc[~ticket_ok, "Ticket #"], strict=True):
        errors.append(
            RowIssue(
                int(r),
                "Ticket #",
                "ticket number must be an integer; this row looks like the "
                "tail of a title broken by an embedded line break, so it is not loaded",
                v,
            )
        )
    parts = raw["Date"].str.extract(_DMY).astype(float)
    bad_date = parts.isna().any(axis=1)
    for r, v in zip(rows[bad_date], raw.loc[bad_date, "Date"], strict=True):
        errors.append(RowIssue(int(r), "Date", "date must be dd-mm-yy", v))
    first, second, yy = parts[0], parts[1], parts[2]
    ambiguous = (first <= 12) & ~bad_date
    if fix_dates:
        month = np.where(ambiguous, first, second)
        day = np.where(ambiguous, second, first)
        for r, v in zip(
            rows[ambiguous & ticket_ok], raw.loc[ambiguous & ticket_ok, "Date"], strict=True
        ):
            notes.append(
                RowIssue(int(r), "Date", "date read as month-day (source swapped day and month)", v)
            )
    else:
        month, day = second.to_numpy(), first.to_numpy()
    t = pd.to_datetime(raw["Time"], format="%I:%M:%S %p", errors="coerce")
    bad_time = t.isna()
    for r, v in zip(rows[bad_time], raw.loc[bad_time, "Time"], strict=True):
        errors.append(RowIssue(int(r), "Time", "time must be h:mm:ss AM/PM", v))
    ok = ticket_ok & ~bad_date & ~bad_time
    date_frame = pd.DataFrame(
        {
            "year": 2000 + yy.where(ok, 0),
            "month": pd.Series(month).where(ok.to_numpy(), 1),
            "day": pd.Series(day).where(ok.to_numpy(), 1),
        },
        index=raw.index,
    )
    dates = pd.to_datetime(date_frame.where(ok, 1).astype(int).rename(columns=str), errors="coerce")
    secs = (t - t.dt.normalize()).where(ok)
    received = dates + secs

    zips = raw["Zip code"]
    short = zips.str.fullmatch(r"\d{1,4}")
    for r, v in zip(rows[short & ok], zips[short & ok], strict=True):
        notes.append(RowIssue(int(r), "Zip code", "leading zeros restored to five digits", v))
    bad_zip = ~zips.str.fullmatch(r"\d{1,5}")
    for r, v in zip(rows[bad_zip & ok], zips[bad_zip & ok], strict=True):
        errors.append(RowIssue(int(r), "Zip code", "zip code must be 1–5 digits", v))
    ok &= ~bad_zip
    for col, mapping in (("Received Via", COMCAST_CHANNELS), ("Status", COMCAST_STATUSES)):
        unknown = ~raw[col].isin(list(mapping))
        for r, v in zip(rows[unknown & ok], raw.loc[unknown & ok, col], strict=True):
            errors.append(
                RowIssue(int(r), col, f"unknown value; expected one of {sorted(mapping)}", v)
            )
        ok &= ~unknown

    keep = raw.loc[ok]
    out = pd.DataFrame(
        {
            "source_id": keep["Ticket #"],
            "ticket": keep["Ticket #"].astype(np.int64),
            "row": rows[ok.to_numpy()],
            "text": keep["Customer Complaint"],
            "received_at": received[ok],
            "date_fixed": (
                ambiguous[ok] if fix_dates else pd.Series(False, index=keep.index)
            ).astype(bool),
            "date_ambiguous": (ambiguous[ok] & (not fix_dates)).astype(bool),
            "channel": keep["Received Via"].map(lambda v: COMCAST_CHANNELS[v].value),
            "source_channel": keep["Received Via"],
            "status": keep["Status"].map(lambda v: COMCAST_STATUSES[v].value),
            "source_status": keep["Status"],
            "city": keep["City"],
            "unit": keep["State"],
            "zip_code": keep["Zip code"].str.zfill(5),
            "on_behalf": keep["Filing on Behalf of Someone"].eq("Yes"),
        }
    ).reset_index(drop=True)
    errors.sort(key=lambda e: e.row)
    notes.sort(key=lambda e: e.row)
    facts: dict[str, object] = {
        "dates_fixed": int((ambiguous & ok).sum()) if fix_dates else 0,
        "dates_ambiguous": int((ambiguous & ok).sum()),
        "zip_codes_padded": int((short & ok).sum()),
    }
    if len(out):
        facts.update(date_order_check(out))
    return ComplaintImport(len(raw), out, errors, notes, facts)


def date_order_check(frame: pd.DataFrame, tolerance_days: int = 2) -> dict[str, object]:
    """Check that dates follow ticket order: first and last date, and inversions beyond tolerance.

    Ticket numbers grow with time, so in ticket order a date may go back only a little
    (tickets opened late at night, clock skew).  An inversion is a step back of more than
    ``tolerance_days``.

    >>> df = pd.DataFrame({"ticket": [1, 2, 3], "received_at": pd.to_datetime(
    ...     ["2015-04-01", "2015-04-03", "2015-04-02"])})
    >>> date_order_check(df)["inversions"]
    0
    """
    s = frame.sort_values("ticket")["received_at"].dt.normalize()
    running_max = s.cummax()
    inversions = int(((running_max - s) > pd.Timedelta(days=tolerance_days)).sum())
    return {"first_date": s.min().date(), "last_date": s.max().date(), "inversions": inversions}


__all__ = [
    "COMCAST_CHANNELS",
    "COMCAST_STATUSES",
    "TEMPLATE_COLUMNS",
    "ComplaintImport",
    "RowIssue",
    "date_order_check",
    "load_comcast",
    "read_complaint_table",
]
