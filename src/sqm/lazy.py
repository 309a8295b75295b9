"""Heavy libraries imported on first use, so that starting SQM stays fast (issue 20).

``sqm --help`` and the web app's first answer need none of pandas, SciPy, DuckDB …, yet
the modules of every layer name them at the top. A module binds such a library with
:func:`lazy_import` (and imports it for real under ``TYPE_CHECKING``, for mypy)::

    if TYPE_CHECKING:
        import pandas as pd
    else:
        pd = lazy_import("pandas")

The first attribute read (``pd.DataFrame``) imports the library and puts the module
itself in the place of the stand-in in the importing module's namespace: from then on
``pd`` is pandas, exactly as after ``import pandas as pd`` (no cost per use, and a test
that patches ``pandas.x`` patches what the module uses).

>>> json = lazy_import("json")
>>> type(json).__name__
'_LazyModule'
>>> json.dumps([1])
'[1]'
>>> type(json).__name__
'module'
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any


class _LazyModule(ModuleType):
    """Stands for the module ``__name__`` until something is read from it."""

    def __init__(self, name: str, namespace: dict[str, Any]) -> None:
        super().__init__(name)
        self._lazy_namespace = namespace

    def __getattr__(self, attr: str) -> Any:
        # only called for names the stand-in lacks, i.e. every name (importing is
        # thread-safe: the import lock; replacing the stand-in is idempotent)
        module = importlib.import_module(self.__name__)
        namespace = self._lazy_namespace
        for key, value in list(namespace.items()):
            if value is self:
                namespace[key] = module
        return getattr(module, attr)


def lazy_import(name: str) -> ModuleType:
    """A stand-in for ``import name`` in the calling module, importing ``name`` when
    first used and then replaced there by the module itself."""
    return _LazyModule(name, sys._getframe(1).f_globals)
