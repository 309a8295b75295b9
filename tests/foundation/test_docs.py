"""Every code path the docs name exists (datasette's test_docs.py idea).

Scans README.md and docs/*.md for dotted ``sqm.…`` paths — a module, a module attribute
(``sqm.store.audit.record``) or an entry point (``sqm.web.asgi:app``) — and for
``src/sqm/…`` file paths, and checks that each imports or exists. Paths with a placeholder
(``<capability>``, ``<yours>``, the example name ``sqm.services.x``) are skipped, and so is
the SQLite file name ``sqm.db``.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# a dotted path not preceded by a word character, a dot or a slash (so ./var/sqm.db is not one)
DOTTED = re.compile(r"(?<![\w./-])sqm(?:\.[\w<>]+)+(?::[\w<>]+)?")
FILES = re.compile(r"(?<![\w/])src/sqm/[\w<>./-]*[\w/>]")
PLACEHOLDER = re.compile(r"<[^>]*>|(?:^|[.:])x(?:$|[.:])")
NOT_CODE = {"sqm.db"}
# modules that do real work when imported (build the app, freeze the GC): their attribute
# is looked up in the source instead
ENTRY_POINTS = {"sqm.web.asgi"}


def _named(pattern: re.Pattern[str]) -> list[tuple[str, str]]:
    found = {
        (doc.relative_to(ROOT).as_posix(), m.group(0))
        for doc in DOCS
        for m in pattern.finditer(doc.read_text(encoding="utf-8"))
    }
    return sorted(
        (doc, path) for doc, path in found if not PLACEHOLDER.search(path) and path not in NOT_CODE
    )


def _defines(module: str, name: str) -> bool:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return name in names


def _resolve(path: str) -> None:
    """Import the longest module prefix of ``path`` and look the rest up as attributes."""
    module_part, _, entry = path.partition(":")
    parts = module_part.split(".")
    cut = 1
    while cut < len(parts) and _is_module(".".join(parts[: cut + 1])):
        cut += 1
    module = ".".join(parts[:cut])
    rest = parts[cut:] + ([entry] if entry else [])
    if module in ENTRY_POINTS:
        assert len(rest) == 1 and _defines(module, rest[0]), f"{path}: not in {module}"
        return
    obj: object = importlib.import_module(module)
    for attr in rest:
        assert hasattr(obj, attr), f"{path}: {module} has no {'.'.join(rest)}"
        obj = getattr(obj, attr)


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # the parent is a module, not a package
        return False


def test_the_docs_name_code_paths() -> None:
    # the scan itself must find something, or a broken pattern would pass silently
    assert len(_named(DOTTED)) >= 20
    assert ("docs/FOUNDATION.md", "sqm.web.asgi:app") in _named(DOTTED)


@pytest.mark.parametrize(("doc", "path"), _named(DOTTED), ids=lambda v: str(v))
def test_dotted_path_imports(doc: str, path: str) -> None:
    _resolve(path)


@pytest.mark.parametrize(("doc", "path"), _named(FILES), ids=lambda v: str(v))
def test_file_path_exists(doc: str, path: str) -> None:
    assert (ROOT / path).exists(), f"{doc} names {path}, which does not exist"
