"""Public survey links, single-use tokens, submission guards and QR codes.

Every store in a wave gets a link a customer opens without an account. Two kinds:

- an **open link** per store — the same for everyone who scans the store's QR code; it is
  signed, so store and wave cannot be swapped or guessed, and submissions through it pass a
  :class:`SubmissionGuard` (rate limit per client and duplicate detection);
- **single-use tokens** — one per invited customer (e.g. sent after a purchase by SMS);
  unguessable (128 random bits) and signed; the store layer records the token's
  :func:`token_id` when it is used, so a second use is refused.

Tokens look like ``o.<payload>.<signature>`` or ``t.<payload>.<signature>``: the payload is
URL-safe base64 of ``wave|unit[|nonce]`` and the signature HMAC-SHA256 of the kind and
payload under the server secret (RFC 2104), truncated to 128 bits.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqm.domain.errors import MissingError, RuleError

if TYPE_CHECKING:
    import qrcode

_SIG_BYTES = 16
_NONCE_BYTES = 16


class LinkError(RuleError):
    """A link or token that is malformed or whose signature does not match."""


@dataclass(frozen=True)
class LinkClaims:
    """What a verified link says: the wave, the store, and whether it is single-use."""

    wave: str
    unit: str
    single_use: bool
    token_id: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LinkSigner:
    """Signs and verifies survey links with a server secret.

    >>> signer = LinkSigner(b"0123456789abcdef0123456789abcdef")
    >>> token = signer.open_link("2026-10-servqual", "GZ-001")
    >>> signer.verify(token).unit
    'GZ-001'
    """

    def __init__(self, secret: bytes | str) -> None:
        key = secret.encode("utf-8") if isinstance(secret, str) else secret
        if len(key) < 16:
            raise RuleError(
                f"secret must be at least 16 bytes, got {len(key)}; use the app's secret key"
            )
        self._key = key

    def _sign(self, kind: str, payload: str) -> str:
        mac = hmac.new(self._key, f"{kind}.{payload}".encode("ascii"), hashlib.sha256)
        return _b64(mac.digest()[:_SIG_BYTES])

    def _make(self, kind: str, parts: list[str]) -> str:
        for part in parts:
            if "|" in part or not part:
                raise RuleError(f"link part {part!r} must be non-empty and contain no '|'")
        payload = _b64("|".join(parts).encode("utf-8"))
        return f"{kind}.{payload}.{self._sign(kind, payload)}"

    def open_link(self, wave: str, unit: str) -> str:
        """The open-link token of one store in one wave (deterministic: printing the QR code
        twice gives the same code)."""
        return self._make("o", [wave, unit])

    def single_use(self, wave: str, unit: str) -> str:
        """A fresh single-use token for one invited customer of ``unit``."""
        return self._make("t", [wave, unit, _b64(secrets.token_bytes(_NONCE_BYTES))])

    def issue(self, wave: str, unit: str, count: int) -> list[str]:
        """``count`` fresh single-use tokens for ``unit``."""
        if count < 0:
            raise RuleError(f"count must be ≥ 0, got {count}")
        return [self.single_use(wave, unit) for _ in range(count)]

    def verify(self, token: str) -> LinkClaims:
        """Check a token's signature and return its claims, or raise :class:`LinkError`."""
        try:
            kind, payload, sig = token.split(".")
        except ValueError as exc:
            raise LinkError("malformed survey link") from exc
        if kind not in ("o", "t") or not hmac.compare_digest(sig, self._sign(kind, payload)):
            raise LinkError("survey link signature does not match")
        parts = _unb64(payload).decode("utf-8").split("|")
        if (kind == "o" and len(parts) != 2) or (kind == "t" and len(parts) != 3):
            raise LinkError("malformed survey link")
        return LinkClaims(
            wave=parts[0], unit=parts[1], single_use=kind == "t", token_id=token_id(token)
        )


def token_id(token: str) -> str:
    """The identifier under which a used token is recorded: SHA-256 of the token (hex),
    so the database never holds a usable token."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def answers_fingerprint(answers: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of one respondent's answers, used to spot a double
    submission of the same form.

    >>> answers_fingerprint({"a": 1, "b": 2}) == answers_fingerprint({"b": 2, "a": 1})
    True
    """
    text = json.dumps(dict(answers), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class GuardDecision(StrEnum):
    """What a submission guard says about a submission through an open link."""

    OK = "ok"
    DUPLICATE = "duplicate"
    RATE_LIMITED = "rate_limited"


class SubmissionGuard:
    """Duplicate and rate protection for open links, in memory, thread-safe.

    A client (a hash of address, user agent and cookie, made by the web layer) may submit at
    most ``max_per_window`` answers per store within ``window_s`` seconds, and the same
    answers from the same client to the same store within ``duplicate_s`` seconds count once.

    >>> g = SubmissionGuard(max_per_window=2, window_s=60)
    >>> [g.check("c1", "S1", f"fp{i}", now=0.0).value for i in range(3)]
    ['ok', 'ok', 'rate_limited']
    """

    def __init__(
        self, *, max_per_window: int = 3, window_s: float = 600.0, duplicate_s: float = 86400.0
    ) -> None:
        if max_per_window < 1 or window_s <= 0 or duplicate_s <= 0:
            raise RuleError("max_per_window must be ≥ 1 and windows > 0")
        self.max_per_window = max_per_window
        self.window_s = window_s
        self.duplicate_s = duplicate_s
        self._recent: dict[tuple[str, str], deque[float]] = {}
        self._seen: dict[tuple[str, str, str], float] = {}
        self._lock = threading.Lock()

    def check(
        self, client: str, unit: str, fingerprint: str, now: float | None = None
    ) -> GuardDecision:
        """Decide on one submission and, when it is OK, record it."""
        t = time.monotonic() if now is None else now
        with self._lock:
            seen_at = self._seen.get((client, unit, fingerprint))
            if seen_at is not None and t - seen_at < self.duplicate_s:
                return GuardDecision.DUPLICATE
            times = self._recent.setdefault((client, unit), deque())
            while times and t - times[0] >= self.window_s:
                times.popleft()
            if len(times) >= self.max_per_window:
                return GuardDecision.RATE_LIMITED
            times.append(t)
            self._seen[(client, unit, fingerprint)] = t
            if len(self._seen) > 100_000:
                self._forget(t)
            return GuardDecision.OK

    def _forget(self, now: float) -> None:
        # Bound memory on a long-running server: drop what no longer matters.
        self._seen = {k: v for k, v in self._seen.items() if now - v < self.duplicate_s}
        self._recent = {k: d for k, d in self._recent.items() if d and now - d[-1] < self.window_s}


# ---------------------------------------------------------------- QR codes


def _qr(data: str, border: int, box_size: int) -> qrcode.QRCode:
    import qrcode  # here, not at start-up (it brings Pillow)

    if not data:
        raise RuleError("QR data must not be empty")
    # Level M survives a crease or a smudge on a printed counter card (15 % recovery).
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=border
    )
    code.add_data(data)
    code.make(fit=True)
    return code


def qr_matrix(data: str, border: int = 4) -> list[list[bool]]:
    """The QR code modules of ``data`` (True = dark), including a ``border``-module quiet zone."""
    return [list(row) for row in _qr(data, border, 1).get_matrix()]


def qr_png(data: str, *, box_size: int = 10, border: int = 4) -> bytes:
    """A QR code for ``data`` as PNG bytes (black on white, ``box_size`` pixels per module).

    >>> qr_png("https://sqm.example/s/o.x.y")[:4]
    b'\\x89PNG'
    """
    import qrcode.image.pure

    image = _qr(data, border, box_size).make_image(image_factory=qrcode.image.pure.PyPNGImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


def qr_svg(data: str, *, border: int = 4) -> str:
    """A QR code for ``data`` as a standalone SVG document (one path, scales to any size)."""
    import qrcode.image.svg

    image = _qr(data, border, 10).make_image(image_factory=qrcode.image.svg.SvgPathImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode("utf-8")


def survey_url(base_url: str, token: str, lang: str | None = None) -> str:
    """The public URL of a survey link: ``<base>/s/<token>`` (``?lang=en`` when asked)."""
    url = f"{base_url.rstrip('/')}/s/{token}"
    return f"{url}?lang={lang}" if lang else url


def open_links(
    signer: LinkSigner, base_url: str, wave_code: str, unit_codes: Iterable[str]
) -> dict[str, str]:
    """The public URL of each store's open link in a wave, by store code.

    >>> signer = LinkSigner(b"0123456789abcdef")
    >>> list(open_links(signer, "https://sqm.example", "W1", ["S001"]))
    ['S001']
    """
    return {u: survey_url(base_url, signer.open_link(wave_code, u)) for u in unit_codes}


QR_FORMATS: dict[str, str] = {"png": "image/png", "svg": "image/svg+xml"}
"""The QR code image formats (file extension → media type)."""


def qr_image(data: str, fmt: str) -> bytes:
    """The QR code of ``data`` as a ``png`` or ``svg`` image (see :data:`QR_FORMATS`);
    another format raises :class:`~sqm.domain.errors.MissingError`.

    >>> qr_image("https://sqm.example/s/x", "svg")[:5]
    b'<?xml'
    """
    if fmt == "png":
        return qr_png(data)
    if fmt == "svg":
        return qr_svg(data).encode("utf-8")
    raise MissingError("QR codes come as .png or .svg")


def token_links(base_url: str, tokens: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    """The public URLs of single-use tokens, by store code.

    >>> token_links("https://sqm.example/", {"S001": ["t.a.b"]})
    {'S001': ['https://sqm.example/s/t.a.b']}
    """
    return {unit: [survey_url(base_url, t) for t in toks] for unit, toks in tokens.items()}


def links_csv(links: Mapping[str, Iterable[str]]) -> str:
    """Links by store as CSV text (``store,link``, one row per link) to hand to a mailer.

    >>> links_csv({"S001": ["https://x/s/1", "https://x/s/2"]}).splitlines()
    ['store,link', 'S001,https://x/s/1', 'S001,https://x/s/2']
    """
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["store", "link"])
    for unit, urls in links.items():
        writer.writerows([unit, u] for u in urls)
    return buf.getvalue()
