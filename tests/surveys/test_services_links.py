"""Survey links, tokens, guards and QR codes."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import png
import pytest

from sqm.services.surveys.links import (
    GuardDecision,
    LinkError,
    LinkSigner,
    SubmissionGuard,
    answers_fingerprint,
    qr_matrix,
    qr_png,
    qr_svg,
    survey_url,
    token_id,
)

SECRET = b"test-secret-0123456789abcdef"


def test_open_link_is_deterministic_and_verifies() -> None:
    s = LinkSigner(SECRET)
    a = s.open_link("2026-10", "GZ-001")
    assert a == s.open_link("2026-10", "GZ-001")
    claims = s.verify(a)
    assert (claims.wave, claims.unit, claims.single_use) == ("2026-10", "GZ-001", False)
    assert s.open_link("2026-10", "GZ-002") != a


def test_single_use_tokens_are_unique_and_verify() -> None:
    s = LinkSigner(SECRET)
    tokens = s.issue("2026-10", "GZ-001", 200)
    assert len(set(tokens)) == 200
    assert all(s.verify(t).single_use for t in tokens)
    assert len({token_id(t) for t in tokens}) == 200
    assert token_id(tokens[0]) == s.verify(tokens[0]).token_id


def test_tampered_or_foreign_links_are_refused() -> None:
    s = LinkSigner(SECRET)
    token = s.open_link("2026-10", "GZ-001")
    kind, payload, sig = token.split(".")
    # swap the store inside the payload, keep the signature
    other_payload = s.open_link("2026-10", "GZ-002").split(".")[1]
    with pytest.raises(LinkError):
        s.verify(f"{kind}.{other_payload}.{sig}")
    # an open link cannot be turned into a single-use token
    with pytest.raises(LinkError):
        s.verify(f"t.{payload}.{sig}")
    with pytest.raises(LinkError):
        LinkSigner(b"another-secret-0123456789abcdef").verify(token)
    with pytest.raises(LinkError):
        s.verify("garbage")


def test_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        LinkSigner(b"short")


def test_guard_rate_and_duplicates() -> None:
    g = SubmissionGuard(max_per_window=3, window_s=600, duplicate_s=3600)
    assert g.check("c1", "S1", "fp1", now=0).value == "ok"
    assert g.check("c1", "S1", "fp1", now=10) is GuardDecision.DUPLICATE
    assert g.check("c2", "S1", "fp1", now=10) is GuardDecision.OK  # another client
    assert g.check("c1", "S1", "fp2", now=20) is GuardDecision.OK
    assert g.check("c1", "S1", "fp3", now=30) is GuardDecision.OK
    assert g.check("c1", "S1", "fp4", now=40) is GuardDecision.RATE_LIMITED
    assert g.check("c1", "S2", "fp4", now=40) is GuardDecision.OK  # another store
    assert g.check("c1", "S1", "fp4", now=601) is GuardDecision.OK  # window moved on
    assert g.check("c1", "S1", "fp1", now=3601) is GuardDecision.OK  # duplicate window over


def test_fingerprint_ignores_key_order() -> None:
    assert answers_fingerprint({"a": 1, "b": [1, 2]}) == answers_fingerprint({"b": [1, 2], "a": 1})
    assert answers_fingerprint({"a": 1}) != answers_fingerprint({"a": 2})


def _finder_ok(m: list[list[bool]], r0: int, c0: int) -> bool:
    # ISO/IEC 18004 finder pattern: 7x7 dark ring, 5x5 light ring, 3x3 dark centre.
    for r in range(7):
        for c in range(7):
            ring = max(abs(r - 3), abs(c - 3))
            if m[r0 + r][c0 + c] != (ring != 2):
                return False
    return True


def test_qr_png_pixels_are_the_module_matrix_with_finder_patterns() -> None:
    url = survey_url("https://sqm.example", LinkSigner(SECRET).open_link("2026-10", "GZ-001"))
    matrix = qr_matrix(url, border=4)
    n = len(matrix)
    modules = n - 8
    assert (modules - 17) % 4 == 0  # a QR version v has 17 + 4v modules per side
    for r0, c0 in ((4, 4), (4, n - 11), (n - 11, 4)):
        assert _finder_ok(matrix, r0, c0)
    width, height, rows, info = png.Reader(bytes=qr_png(url, box_size=3, border=4)).read()
    assert (width, height) == (3 * n, 3 * n)
    pixels = [list(row) for row in rows]
    planes = info["planes"]
    for r in range(n):
        for c in range(n):
            value = pixels[3 * r + 1][(3 * c + 1) * planes]
            assert (value == 0) == matrix[r][c]


def test_qr_svg_draws_every_dark_module() -> None:
    data = "https://sqm.example/s/x"
    svg = qr_svg(data)
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    path = next(el for el in root.iter() if el.tag.endswith("path"))
    squares = re.findall(r"M[\d.]+,[\d.]+H", path.attrib["d"])
    dark = sum(sum(row) for row in qr_matrix(data))
    assert len(squares) == dark


def test_survey_url() -> None:
    assert survey_url("https://a.b/", "o.x.y", "en") == "https://a.b/s/o.x.y?lang=en"
    assert io is not None
