"""Chinese first: every message a template shows has a Chinese translation in a catalogue."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sqm.web.i18n import gettext_for, negotiate
from sqm.web.nav import NAV

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "sqm" / "web" / "templates"
MSG = re.compile(r"""_\(\s*(?:"([^"]+)"|'([^']+)')\s*\)""")


def _msgids() -> list[tuple[str, str]]:
    out = []
    for f in sorted(TEMPLATES.rglob("*.html")):
        for m in MSG.finditer(f.read_text(encoding="utf-8")):
            out.append((f.relative_to(TEMPLATES).as_posix(), m.group(1) or m.group(2)))
    out += [("nav.py", n.label) for n in NAV]
    return out


def test_every_template_message_has_chinese() -> None:
    zh = gettext_for("zh")
    missing = sorted({f"{f}: {msg}" for f, msg in _msgids() if zh.gettext(msg) == msg})
    assert missing == [], "untranslated:\n" + "\n".join(missing)


def test_no_message_is_translated_two_ways() -> None:
    """The catalogues are merged into one: a message translated differently in two of them
    shows whichever was loaded last on every page (a wave "open" once read 未处理)."""
    from babel.messages.pofile import read_po

    seen: dict[str, tuple[str, str]] = {}
    clashes = []
    for po in sorted((TEMPLATES.parent.parent / "locale" / "zh" / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as fh:
            for m in read_po(fh):
                if not m.id or not m.string or m.context:
                    continue
                first = seen.setdefault(str(m.id), (po.name, str(m.string)))
                if first[1] != m.string:
                    clashes.append(f"{m.id!r}: {first} vs {(po.name, m.string)}")
    assert clashes == []


@pytest.mark.parametrize(
    ("requested", "header", "expected"),
    [
        (None, None, "zh"),
        ("en", "zh-CN", "en"),
        (None, "en-GB,en;q=0.8", "en"),
        (None, "fr-FR", "zh"),
        ("xx", None, "zh"),
    ],
)
def test_locale_negotiation(requested: str | None, header: str | None, expected: str) -> None:
    assert negotiate(requested, header) == expected
