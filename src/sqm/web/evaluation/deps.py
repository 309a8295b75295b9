"""Path objects of the evaluation pages: an indicator system version and one of its nodes.

Indicator systems are company-wide (not scoped to org units): the dependencies answer 404
for an id that does not exist, or a node of another system.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from sqm.services.evaluation.indicator_system import get_system, system_node
from sqm.store.models import IndicatorNode, IndicatorSystem
from sqm.web.deps import Db

_Id = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _system(sid: _Id, db: Db) -> IndicatorSystem:
    return get_system(db, sid)


SystemById = Annotated[IndicatorSystem, Depends(_system)]
"""The indicator system version of the path's ``{sid}`` (404 if absent)."""


def _node(system: SystemById, nid: _Id, db: Db) -> IndicatorNode:
    return system_node(db, system, nid)


NodeOfSystem = Annotated[IndicatorNode, Depends(_node)]
"""The node ``{nid}`` of the system ``{sid}`` (404 if absent or of another system)."""
