"""Request dependencies of the survey pages and API: the app's link signer and the scoped
objects of a path (a wave, a response), each 404 outside the caller's scope.

Put the permission alias before a scoped object in a handler's signature
(``p: SurveyManager, w: WaveInScope``), so that a caller without the permission gets 403
before the object's 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from sqm.services.surveys import waves
from sqm.services.surveys.links import LinkSigner
from sqm.store.models import SurveyResponse
from sqm.web.deps import Db
from sqm.web.permissions import SignedIn


def link_signer(request: Request) -> LinkSigner:
    """The app's signer of survey links and tokens (made once from the secret key)."""
    signer: LinkSigner | None = getattr(request.app.state, "survey_signer", None)
    if signer is None:
        signer = LinkSigner(request.app.state.settings.secret_key.encode("utf-8").ljust(16, b"."))
        request.app.state.survey_signer = signer
    return signer


Signer = Annotated[LinkSigner, Depends(link_signer)]
"""The app's survey link signer."""


def _wave_in_scope(
    wave_id: Annotated[int, Path(ge=1, le=2**63 - 1)], db: Db, p: SignedIn
) -> waves.ScopedWave:
    return waves.visible_wave(db, p, wave_id)


WaveInScope = Annotated[waves.ScopedWave, Depends(_wave_in_scope)]
"""The wave of the path's ``{wave_id}`` with the caller's org units
(:class:`~sqm.services.surveys.waves.ScopedWave`); 404 when none of its target stores lies
in the caller's scope."""


def _response_in_scope(
    response_id: Annotated[int, Path(ge=1, le=2**63 - 1)], db: Db, p: SignedIn
) -> SurveyResponse:
    return waves.visible_response(db, p, response_id)


ResponseInScope = Annotated[SurveyResponse, Depends(_response_in_scope)]
"""The stored survey response of the path's ``{response_id}``; 404 when its store lies
outside the caller's scope."""
