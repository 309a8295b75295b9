"""Translations through gettext catalogues (Babel).

Message ids are English; Chinese is the default locale. Every ``*.po`` file under
``sqm/locale/<lang>/LC_MESSAGES/`` is merged into that language's catalogue, so each
capability keeps its own file (``messages.po``, ``network.po``, ``complaints.po``…).
The catalogues are compiled in memory at start-up: no build step, no stale ``.mo``.
"""

from __future__ import annotations

import gettext
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
SUPPORTED = ("zh", "en")
DEFAULT_LOCALE = "zh"


@lru_cache(maxsize=8)
def translations(locale: str) -> gettext.NullTranslations:
    """The merged gettext translations of ``locale`` (English ids pass through for en)."""
    folder = LOCALE_DIR / locale / "LC_MESSAGES"
    merged = Catalog(locale=locale)
    for po in sorted(folder.glob("*.po")) if folder.is_dir() else []:
        with po.open("rb") as fh:
            cat = read_po(fh, locale=locale)
        for msg in cat:
            if msg.id and msg.string:
                merged.add(msg.id, msg.string, context=msg.context)
    buf = BytesIO()
    write_mo(buf, merged)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def negotiate(requested: str | None, accept_language: str | None = None) -> str:
    """Pick a supported locale: an explicit choice first, then the browser's, then Chinese.

    >>> negotiate(None, "en-US,en;q=0.9")
    'en'
    >>> negotiate("fr")
    'zh'
    """
    if requested in SUPPORTED:
        return str(requested)
    if accept_language:
        for part in accept_language.split(","):
            tag = part.split(";")[0].strip().lower()
            base = tag.split("-")[0]
            if base in SUPPORTED:
                return base
    return DEFAULT_LOCALE


def gettext_for(locale: str) -> gettext.NullTranslations:
    return translations(locale if locale in SUPPORTED else DEFAULT_LOCALE)
