"""Survey waves: one fielding of one instrument version in one period, with quotas.

A *wave* (调查批次) asks a set of target units (stores) one instrument version during one
evaluation period. Quotas are set per *cell*: a store alone, or a store × segment cell
when the wave is *interlocked* (交叉配额). What happens to a respondent whose cell is
already full is the wave's :class:`FullPolicy`:

- ``close`` — the cell is closed: the respondent is told the survey is closed for them and
  nothing is stored;
- ``thank_and_end`` — the respondent is thanked and the survey ends (a market-research
  "screen-out"); nothing is stored;
- ``over_quota`` — the answer is kept and flagged over-quota (analysts may use or drop it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from sqm.domain.errors import RuleError

ANY_SEGMENT = "*"


class FullPolicy(StrEnum):
    """What a wave does with a respondent whose quota cell is full."""

    CLOSE = "close"
    THANK_AND_END = "thank_and_end"
    OVER_QUOTA = "over_quota"


class WaveStatus(StrEnum):
    """Life cycle of a wave: planned, collecting answers, closed."""

    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class LinkMode(StrEnum):
    """How customers reach the survey: an open per-store link or single-use tokens."""

    OPEN = "open"
    TOKEN = "token"


class Admission(StrEnum):
    """The decision on one submission."""

    ACCEPT = "accept"
    ACCEPT_OVER_QUOTA = "accept_over_quota"
    SCREEN_OUT = "screen_out"  # thanked and ended, not stored
    CELL_CLOSED = "cell_closed"  # quota cell full and closed, not stored
    WAVE_CLOSED = "wave_closed"  # wave not open, not stored
    UNKNOWN_UNIT = "unknown_unit"  # store not in the wave, not stored

    @property
    def stored(self) -> bool:
        """Whether an answer with this decision is stored."""
        return self in (Admission.ACCEPT, Admission.ACCEPT_OVER_QUOTA)


@dataclass(frozen=True)
class QuotaCell:
    """The target number of answers for one store (``segment`` = ``"*"``) or store × segment."""

    unit: str
    segment: str
    target: int

    def __post_init__(self) -> None:
        if self.target < 0:
            raise RuleError(
                f"quota for unit {self.unit!r}, segment {self.segment!r}: target must be ≥ 0, "
                f"got {self.target}"
            )

    @property
    def key(self) -> tuple[str, str]:
        """(unit, segment) — the cell's identity within a wave."""
        return (self.unit, self.segment)


@dataclass(frozen=True)
class Wave:
    """One fielding of an instrument version.

    ``period`` is the evaluation period code (e.g. ``"2026-10"``); ``segments`` are the
    customer segments quotas are split by (empty when not interlocked).
    """

    code: str
    period: str
    instrument_code: str
    instrument_version: int
    quotas: tuple[QuotaCell, ...]
    full_policy: FullPolicy = FullPolicy.OVER_QUOTA
    link_mode: LinkMode = LinkMode.OPEN
    status: WaveStatus = WaveStatus.DRAFT
    interlocked: bool = False
    name: str = ""

    def __post_init__(self) -> None:
        keys = [c.key for c in self.quotas]
        if len(set(keys)) != len(keys):
            raise RuleError(f"wave {self.code!r}: a quota cell (unit, segment) is listed twice")
        for c in self.quotas:
            if self.interlocked == (c.segment == ANY_SEGMENT):
                rule = "a segment per cell" if self.interlocked else "segment '*' per cell"
                raise RuleError(
                    f"wave {self.code!r}, unit {c.unit!r}: interlocked={self.interlocked} needs {rule}"
                )

    @property
    def units(self) -> tuple[str, ...]:
        """Target units in quota order, each once."""
        return tuple(dict.fromkeys(c.unit for c in self.quotas))

    @property
    def total_target(self) -> int:
        """Sum of all cell targets."""
        return sum(c.target for c in self.quotas)

    def cell_for(self, unit: str, segment: str | None) -> QuotaCell | None:
        """The quota cell an answer from ``unit`` (and ``segment``) counts in, if any."""
        key = (unit, segment if self.interlocked and segment is not None else ANY_SEGMENT)
        for c in self.quotas:
            if c.key == key:
                return c
        return None

    def admit(
        self, unit: str, segment: str | None, achieved: Mapping[tuple[str, str], int]
    ) -> Admission:
        """Decide what happens to a submission from ``unit``/``segment``.

        ``achieved`` holds the answers already counted per cell key (over-quota answers
        excluded). In an interlocked wave an answer without a segment counts in no cell and
        is treated like one whose cell is full.

        >>> w = Wave("w", "2026-10", "nps_csat", 1, (QuotaCell("S1", "*", 2),),
        ...          full_policy=FullPolicy.CLOSE, status=WaveStatus.OPEN)
        >>> w.admit("S1", None, {("S1", "*"): 1}), w.admit("S1", None, {("S1", "*"): 2})
        (<Admission.ACCEPT: 'accept'>, <Admission.CELL_CLOSED: 'cell_closed'>)
        """
        if self.status is not WaveStatus.OPEN:
            return Admission.WAVE_CLOSED
        if unit not in self.units:
            return Admission.UNKNOWN_UNIT
        cell = self.cell_for(unit, segment)
        if cell is not None and achieved.get(cell.key, 0) < cell.target:
            return Admission.ACCEPT
        if self.full_policy is FullPolicy.OVER_QUOTA:
            return Admission.ACCEPT_OVER_QUOTA
        if self.full_policy is FullPolicy.THANK_AND_END:
            return Admission.SCREEN_OUT
        return Admission.CELL_CLOSED

    def unit_open(self, unit: str, achieved: Mapping[tuple[str, str], int]) -> bool:
        """Whether a store's link should still invite answers (some cell of it not full,
        or the wave keeps collecting over quota)."""
        if self.status is not WaveStatus.OPEN or unit not in self.units:
            return False
        if self.full_policy is FullPolicy.OVER_QUOTA:
            return True
        return any(achieved.get(c.key, 0) < c.target for c in self.quotas if c.unit == unit)
