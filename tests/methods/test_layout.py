"""The methods package keeps its shape: a public ``__all__`` and a mirror test per module.

As in pingouin's tree, ``tests/methods`` mirrors ``src/sqm/methods`` one to one
(``<module>.py`` ↔ ``test_<module>.py``); the rest of SQM imports from a methods module
only the names that module declares public; and every docstring example runs.
"""

from __future__ import annotations

import ast
import doctest
import importlib
from pathlib import Path

import pytest

import sqm
import sqm.methods

SRC = Path(sqm.__file__).resolve().parent
METHODS = Path(sqm.methods.__file__).resolve().parent
TESTS = Path(__file__).resolve().parent
MODULES = sorted(p.stem for p in METHODS.glob("*.py") if p.stem != "__init__")


@pytest.mark.parametrize("name", MODULES)
def test_module_declares_its_public_names(name: str) -> None:
    module = importlib.import_module(f"sqm.methods.{name}")
    public = getattr(module, "__all__", None)
    assert public is not None, f"sqm.methods.{name} has no __all__"
    missing = [n for n in public if not hasattr(module, n)]
    assert not missing, f"sqm.methods.{name}.__all__ names what it lacks: {missing}"
    assert len(set(public)) == len(public)


@pytest.mark.parametrize("name", [m for m in MODULES if not m.startswith("_")])
def test_module_has_its_mirror_test(name: str) -> None:
    assert (TESTS / f"test_{name}.py").is_file(), f"tests/methods/test_{name}.py is missing"


def _imports_from_methods(path: Path) -> list[tuple[str, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqm.methods."):
            found += [(node.module or "", alias.name) for alias in node.names]
    return found


def test_the_rest_of_sqm_imports_only_public_names() -> None:
    wrong = []
    for path in sorted(SRC.rglob("*.py")):
        if METHODS in path.parents:
            continue
        for module, name in _imports_from_methods(path):
            if name not in importlib.import_module(module).__all__:
                wrong.append(f"{path.relative_to(SRC)}: {module}.{name}")
    assert not wrong, "imports of names outside __all__:\n" + "\n".join(wrong)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(f"sqm.methods.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
