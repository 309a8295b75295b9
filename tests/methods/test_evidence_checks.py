"""Evidence checks: distance, time, visit length and reused photos.

Haversine reference: Rosetta Code "Haversine formula" — Nashville BNA (36.12, −86.67) to
Los Angeles LAX (33.94, −118.40) = 2887.2599506071106 km with R = 6372.8 km.
"""

from __future__ import annotations

import io
from datetime import date, datetime, time

import numpy as np
import pytest

from sqm.methods.evidence_checks import (
    EvidenceRules,
    PhotoFingerprint,
    VisitEvidence,
    average_hash,
    check_visit,
    duplicate_photo_pairs,
    hamming,
    haversine_m,
)

PIL = pytest.importorskip("PIL.Image")


def test_haversine_rosetta_code() -> None:
    d = haversine_m(36.12, -86.67, 33.94, -118.40, radius_m=6_372_800.0)
    assert float(d) / 1000 == pytest.approx(2887.2599506071106, rel=1e-12)


def test_haversine_vectorised_and_one_degree_of_latitude() -> None:
    d = haversine_m([0.0, 10.0], [0.0, 20.0], [1.0, 10.0], [0.0, 20.0])
    # one degree of arc on the mean Earth sphere = 2πR/360
    assert d[0] == pytest.approx(2 * np.pi * 6_371_008.8 / 360)
    assert d[1] == 0


def _visit(**kw: object) -> VisitEvidence:
    base = dict(
        visit_id="v1",
        store_lat=31.2304,
        store_lon=121.4737,
        checkin_lat=31.2310,
        checkin_lon=121.4740,
        started_at=datetime(2026, 11, 3, 10, 0),
        ended_at=datetime(2026, 11, 3, 10, 40),
        planned_date=date(2026, 11, 3),
        opening=(time(9, 0), time(21, 0)),
    )
    base.update(kw)
    return VisitEvidence(**base)  # type: ignore[arg-type]


def test_clean_visit_passes() -> None:
    r = check_visit(_visit())
    assert not r.needs_review and r.reasons == ()
    assert r.distance_m is not None and r.distance_m < 100 and r.minutes == 40


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"checkin_lat": 31.2404}, "far_from_store"),  # ≈ 1.1 km north
        ({"checkin_lat": None}, "no_checkin_location"),
        ({"ended_at": datetime(2026, 11, 3, 10, 4)}, "too_short"),
        ({"ended_at": datetime(2026, 11, 3, 13, 0)}, "too_long"),
        ({"ended_at": datetime(2026, 11, 3, 9, 0)}, "ends_before_start"),
        ({"planned_date": date(2026, 11, 4)}, "not_planned_date"),
        ({"started_at": datetime(2026, 11, 3, 8, 30)}, "outside_opening_hours"),
    ],
)
def test_each_rule_flags(kw: dict[str, object], code: str) -> None:
    r = check_visit(_visit(**kw))
    assert r.needs_review and code in [c for c, _ in r.reasons]


def test_radius_is_configurable() -> None:
    far = _visit(checkin_lat=31.2404)
    assert not check_visit(far, rules=EvidenceRules(radius_m=2000)).needs_review


def _png(arr: np.ndarray, fmt: str = "PNG", size: tuple[int, int] | None = None) -> bytes:
    im = PIL.fromarray(arr.astype(np.uint8))
    if size:
        im = im.resize(size)
    buf = io.BytesIO()
    im.save(buf, format=fmt)
    return buf.getvalue()


def _photo_pair() -> tuple[bytes, bytes, bytes]:
    rng = np.random.default_rng(4)
    grad = np.add.outer(np.arange(64), np.arange(64)) * 2.0
    img = np.clip(grad[..., None] + rng.normal(0, 5, (64, 64, 3)), 0, 255)
    other = np.clip(255 - grad[..., None] + rng.normal(0, 5, (64, 64, 3)), 0, 255)
    return _png(img), _png(img, "JPEG", (48, 48)), _png(other)


def test_exact_reuse_is_found() -> None:
    original, _, _ = _photo_pair()
    old = PhotoFingerprint.of("v0", "p0", original)
    v = _visit(photos=[PhotoFingerprint.of("v1", "p1", original)])
    r = check_visit(v, [old])
    assert [c for c, _ in r.reasons] == ["photo_reused"]


def test_resized_recompressed_copy_is_a_near_duplicate() -> None:
    original, copy, other = _photo_pair()
    h0, h1, h2 = average_hash(original), average_hash(copy), average_hash(other)
    assert h0 is not None and h1 is not None and h2 is not None
    assert hamming(h0, h1) <= 5 < hamming(h0, h2)
    old = PhotoFingerprint.of("v0", "p0", original)
    r = check_visit(_visit(photos=[PhotoFingerprint.of("v1", "p1", copy)]), [old])
    assert [c for c, _ in r.reasons] == ["photo_near_duplicate"]
    r2 = check_visit(_visit(photos=[PhotoFingerprint.of("v1", "p2", other)]), [old])
    assert not r2.needs_review


def test_photos_of_the_same_visit_are_not_reuse() -> None:
    original, _, _ = _photo_pair()
    p = PhotoFingerprint.of("v1", "p1", original)
    assert not check_visit(_visit(photos=[p]), [p]).needs_review


def test_not_an_image_has_no_hash() -> None:
    assert average_hash(b"not an image") is None


def test_duplicate_pairs_across_visits() -> None:
    original, copy, other = _photo_pair()
    photos = [
        PhotoFingerprint.of("v0", "a", original),
        PhotoFingerprint.of("v1", "b", original),
        PhotoFingerprint.of("v2", "c", copy),
        PhotoFingerprint.of("v3", "d", other),
    ]
    pairs = {(a, b): d for a, b, d in duplicate_photo_pairs(photos)}
    assert pairs[("a", "b")] == 0
    assert ("a", "c") in pairs and ("b", "c") in pairs
    assert not any("d" in k for k in pairs)
