"""Heavy libraries imported on first use, so that starting SQM stays fast (issue 20).

``sqm --help`` and the web app's first answer need none of pandas, SciPy, DuckDB …, yet
the modules of every layer name them at the top. A module binds such a library with
:func:`lazy_import` (and imports it for real under ``TYPE_CHECKING``, for mypy)::

    if TYPE_CHECKING:
        import pandas as pd
    else:
        pd = lazy_import("pandas")

The first attribute read (``pd.DataFrame``) imports the library; from then on the names
are read from the proxy's own namespace, as fast as from the module itself.

>>> json = lazy_import("json")
>>> json.dumps([1])
'[1]'
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class _LazyModule(ModuleType):
    """Stands for the module ``__name__`` until something is read from it."""

    def __getattr__(self, attr: str) -> Any:
        # only called for names not in the proxy's namespace yet; importing is
        # thread-safe (the import lock), and copying the namespace is idempotent
        module = importlib.import_module(self.__name__)
        self.__dict__.update(module.__dict__)
        return getattr(module, attr)


def lazy_import(name: str) -> ModuleType:
    """A stand-in for ``import name`` that imports ``name`` when first used."""
    return _LazyModule(name)
