"""Evidence checks on submitted visits: place, time, length and reused photos.

A visit goes to review ("needs review") instead of straight into the scores when

- the check-in point is farther than ``radius_m`` from the store (haversine distance),
- the check-in time is not on the planned date or outside the store's opening hours,
- the visit is shorter than ``min_minutes`` or longer than ``max_minutes``,
- a photo is byte-identical to a photo of another visit (SHA-256), or looks the same
  (average hash within ``max_hamming`` bits — a re-saved or resized copy).

References: Sinnott (1984) "Virtues of the haversine", *Sky & Telescope* 68(2):159;
the average hash (aHash) of Krawetz (2011) "Looks like it", hackerfactor.com.

>>> haversine_m(39.9042, 116.4074, 39.9042, 116.4074)
0.0
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from sqm.lazy import lazy_import
from sqm.methods._validation import FloatArray, MethodInputError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
else:
    np = lazy_import("numpy")
    npt = lazy_import("numpy.typing")

__all__ = [
    "EARTH_RADIUS_M",
    "EvidenceReview",
    "EvidenceRules",
    "PhotoFingerprint",
    "VisitEvidence",
    "average_hash",
    "check_visit",
    "duplicate_photo_pairs",
    "hamming",
    "haversine_m",
    "sha256_hex",
]

EARTH_RADIUS_M = 6_371_008.8  # IUGG mean Earth radius (R1)


def haversine_m(
    lat1: npt.ArrayLike,
    lon1: npt.ArrayLike,
    lat2: npt.ArrayLike,
    lon2: npt.ArrayLike,
    *,
    radius_m: float = EARTH_RADIUS_M,
) -> FloatArray | float:
    """Great-circle distance in metres between points given in decimal degrees (vectorised).

    d = 2R·asin(√(sin²(Δφ/2) + cos φ1 cos φ2 sin²(Δλ/2)))

    >>> round(float(haversine_m(36.12, -86.67, 33.94, -118.40, radius_m=6_372_800)) / 1000, 2)
    2887.26
    """
    p1, l1, p2, l2 = (np.radians(np.asarray(v, dtype=float)) for v in (lat1, lon1, lat2, lon2))
    for name, v in (("lat1", p1), ("lat2", p2)):
        if np.any(np.abs(v) > np.pi / 2 + 1e-12):
            raise MethodInputError(f"{name} must be a latitude within ±90°")
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin((l2 - l1) / 2) ** 2
    d = 2 * radius_m * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    return float(d) if np.ndim(d) == 0 else np.asarray(d, dtype=float)


def sha256_hex(data: bytes) -> str:
    """SHA-256 of a file's bytes as hex: identical files share it.

    >>> sha256_hex(b"abc")[:16]
    'ba7816bf8f01cfea'
    """
    return hashlib.sha256(data).hexdigest()


def average_hash(data: bytes, size: int = 8) -> int | None:
    """64-bit average hash of an image (grey, size×size, bit = pixel > mean); None if unreadable.

    Needs Pillow; returns None when Pillow is missing or the bytes are not an image, so the
    exact SHA-256 check still runs.
    """
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is optional
        return None
    try:
        with Image.open(io.BytesIO(data)) as im:
            small = im.convert("L").resize((size, size), Image.Resampling.BILINEAR)
            px = np.asarray(small, dtype=float).ravel()
    except Exception:  # any undecodable upload simply has no perceptual hash
        return None
    bits = px > px.mean()
    return int("".join("1" if b else "0" for b in bits), 2)


def hamming(a: int, b: int) -> int:
    """Number of differing bits between two hashes.

    >>> hamming(0b1011, 0b0001)
    2
    """
    return (a ^ b).bit_count()


@dataclass(frozen=True)
class PhotoFingerprint:
    """A photo's identity for reuse checks: the visit it belongs to and its hashes."""

    visit_id: str
    photo_id: str
    sha256: str
    ahash: int | None = None

    @classmethod
    def of(cls, visit_id: str, photo_id: str, data: bytes) -> PhotoFingerprint:
        """Fingerprint photo bytes (SHA-256 and, with Pillow, the average hash)."""
        return cls(visit_id, photo_id, sha256_hex(data), average_hash(data))


@dataclass(frozen=True)
class VisitEvidence:
    """What a submitted visit claims: where and when the inspector checked in and out."""

    visit_id: str
    store_lat: float
    store_lon: float
    checkin_lat: float | None
    checkin_lon: float | None
    started_at: datetime | None
    ended_at: datetime | None
    planned_date: date | None = None
    opening: tuple[time, time] | None = None  # store opening hours
    photos: Sequence[PhotoFingerprint] = ()


@dataclass(frozen=True)
class EvidenceRules:
    """Thresholds of the evidence checks (configurable per programme)."""

    radius_m: float = 300.0
    min_minutes: float = 10.0
    max_minutes: float = 120.0
    max_hamming: int = 5
    require_planned_date: bool = True


@dataclass(frozen=True)
class EvidenceReview:
    """Result of the checks: whether the visit needs review and why (code, message) pairs."""

    visit_id: str
    needs_review: bool
    reasons: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    distance_m: float | None = None
    minutes: float | None = None


def check_visit(
    visit: VisitEvidence,
    other_photos: Iterable[PhotoFingerprint] = (),
    rules: EvidenceRules | None = None,
) -> EvidenceReview:
    """Run all evidence checks on one visit against the photos of other visits.

    Reason codes: ``no_checkin_location``, ``far_from_store``, ``no_times``,
    ``ends_before_start``, ``too_short``, ``too_long``, ``not_planned_date``,
    ``outside_opening_hours``, ``photo_reused`` (exact), ``photo_near_duplicate``.

    >>> v = VisitEvidence("v1", 31.2304, 121.4737, 31.2404, 121.4737,
    ...                   datetime(2026, 11, 3, 10, 0), datetime(2026, 11, 3, 10, 5))
    >>> [code for code, _ in check_visit(v).reasons]
    ['far_from_store', 'too_short']
    """
    r = rules or EvidenceRules()
    reasons: list[tuple[str, str]] = []
    dist: float | None = None
    if visit.checkin_lat is None or visit.checkin_lon is None:
        reasons.append(("no_checkin_location", "签到无定位 / check-in has no location"))
    else:
        dist = float(
            haversine_m(visit.store_lat, visit.store_lon, visit.checkin_lat, visit.checkin_lon)
        )
        if dist > r.radius_m:
            reasons.append(
                (
                    "far_from_store",
                    f"签到点距门店 {dist:.0f} 米,超过 {r.radius_m:.0f} 米 / check-in "
                    f"{dist:.0f} m from the store, limit {r.radius_m:.0f} m",
                )
            )
    minutes: float | None = None
    if visit.started_at is None or visit.ended_at is None:
        reasons.append(("no_times", "缺少开始或结束时间 / start or end time missing"))
    else:
        minutes = (visit.ended_at - visit.started_at).total_seconds() / 60
        if minutes < 0:
            reasons.append(("ends_before_start", "结束早于开始 / ends before it starts"))
        elif minutes < r.min_minutes:
            reasons.append(
                (
                    "too_short",
                    f"检查时长 {minutes:.0f} 分钟,少于 {r.min_minutes:.0f} 分钟 / visit "
                    f"lasted {minutes:.0f} min, minimum {r.min_minutes:.0f}",
                )
            )
        elif minutes > r.max_minutes:
            reasons.append(
                (
                    "too_long",
                    f"检查时长 {minutes:.0f} 分钟,超过 {r.max_minutes:.0f} 分钟 / visit "
                    f"lasted {minutes:.0f} min, maximum {r.max_minutes:.0f}",
                )
            )
        if (
            r.require_planned_date
            and visit.planned_date is not None
            and visit.started_at.date() != visit.planned_date
        ):
            reasons.append(
                (
                    "not_planned_date",
                    f"实际日期 {visit.started_at.date()} 与计划 {visit.planned_date} 不符 / "
                    f"visited on {visit.started_at.date()}, planned {visit.planned_date}",
                )
            )
        if visit.opening is not None:
            o, c = visit.opening
            if not (o <= visit.started_at.time() and visit.ended_at.time() <= c):
                reasons.append(
                    (
                        "outside_opening_hours",
                        f"检查时间不在营业时间 {o:%H:%M}–{c:%H:%M} 内 / visit outside "
                        f"opening hours {o:%H:%M}–{c:%H:%M}",
                    )
                )
    reasons.extend(_photo_reasons(visit, other_photos, r))
    return EvidenceReview(visit.visit_id, bool(reasons), tuple(reasons), dist, minutes)


def _photo_reasons(
    visit: VisitEvidence, others: Iterable[PhotoFingerprint], r: EvidenceRules
) -> list[tuple[str, str]]:
    foreign = [p for p in others if p.visit_id != visit.visit_id]
    by_sha: dict[str, str] = {p.sha256: p.visit_id for p in foreign}
    hashed = [(p.ahash, p.visit_id) for p in foreign if p.ahash is not None]
    out: list[tuple[str, str]] = []
    for ph in visit.photos:
        if ph.sha256 in by_sha:
            out.append(
                (
                    "photo_reused",
                    f"照片 {ph.photo_id} 与检查 {by_sha[ph.sha256]} 的照片完全相同 / photo "
                    f"{ph.photo_id} is identical to one of visit {by_sha[ph.sha256]}",
                )
            )
            continue
        if ph.ahash is None:
            continue
        for h, vid in hashed:
            if hamming(ph.ahash, h) <= r.max_hamming:
                out.append(
                    (
                        "photo_near_duplicate",
                        f"照片 {ph.photo_id} 与检查 {vid} 的照片高度相似 / photo {ph.photo_id} "
                        f"looks like one of visit {vid}",
                    )
                )
                break
    return out


def duplicate_photo_pairs(
    photos: Sequence[PhotoFingerprint], max_hamming: int = 5
) -> list[tuple[str, str, int]]:
    """All pairs of photos from *different* visits that are exact or near duplicates.

    Returns (photo_id, photo_id, hamming distance; 0 for byte-identical). Vectorised over the
    64-bit hashes, fine for tens of thousands of photos per month.

    >>> a = PhotoFingerprint("v1", "p1", "x", 0b1111)
    >>> b = PhotoFingerprint("v2", "p2", "y", 0b1110)
    >>> duplicate_photo_pairs([a, b])
    [('p1', 'p2', 1)]
    """
    out: list[tuple[str, str, int]] = []
    by_sha: dict[str, list[int]] = {}
    for i, p in enumerate(photos):
        by_sha.setdefault(p.sha256, []).append(i)
    exact: set[tuple[int, int]] = set()
    for idx in by_sha.values():
        for a_i in range(len(idx)):
            for b_i in range(a_i + 1, len(idx)):
                i, j = idx[a_i], idx[b_i]
                if photos[i].visit_id != photos[j].visit_id:
                    exact.add((i, j))
                    out.append((photos[i].photo_id, photos[j].photo_id, 0))
    with_hash = [i for i, p in enumerate(photos) if p.ahash is not None]
    if len(with_hash) > 1:
        h = np.array([photos[i].ahash for i in with_hash], dtype=np.uint64)
        visit = np.array([photos[i].visit_id for i in with_hash])
        for a_pos in range(len(with_hash) - 1):
            x = np.bitwise_xor(h[a_pos + 1 :], h[a_pos])
            dist = np.array([int(v).bit_count() for v in x]) if x.size < 64 else _popcount(x)
            hit = np.flatnonzero((dist <= max_hamming) & (visit[a_pos + 1 :] != visit[a_pos]))
            for off in hit:
                i, j = with_hash[a_pos], with_hash[a_pos + 1 + off]
                if (i, j) not in exact:
                    out.append((photos[i].photo_id, photos[j].photo_id, int(dist[off])))
    return out


def _popcount(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
    """Bit count of each 64-bit word (vectorised SWAR popcount)."""
    v = x.astype(np.uint64)
    v = v - ((v >> np.uint64(1)) & np.uint64(0x5555555555555555))
    v = (v & np.uint64(0x3333333333333333)) + ((v >> np.uint64(2)) & np.uint64(0x3333333333333333))
    v = (v + (v >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return ((v * np.uint64(0x0101010101010101)) >> np.uint64(56)).astype(np.int64)
