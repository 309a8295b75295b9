"""The customer's survey page: no account, reached by a store's signed link or QR code.

``GET /s/{token}`` shows the questionnaire (one question group at a time on a phone,
with progress; every group is in one form so it also works without JavaScript);
``POST /s/{token}`` stores the answers all-or-nothing and shows the thank-you page, or
shows the form again with the messages next to the fields. A used token, a closed wave
or a full quota cell gets a clear page of its own. The page loads one small stylesheet
and one small script from this server — no CDN.
"""

from __future__ import annotations

import hashlib
import time
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict

from sqm.domain.instrument import QuestionType, visible_questions
from sqm.services.surveys import fielding
from sqm.services.surveys.links import LinkError, SubmissionGuard
from sqm.store.group_commit import GroupCommit
from sqm.web.surveys.deps import link_signer
from sqm.web.templating import templates

router = APIRouter(include_in_schema=False)

_GUARD = SubmissionGuard(max_per_window=5, window_s=600)

MESSAGES: dict[str, dict[str, str]] = {
    "bad_link": {
        "zh": "此调查链接无效。请重新扫描门店的二维码。",
        "en": "This survey link is not valid. Please scan the store's QR code again.",
    },
    "token_used": {
        "zh": "此链接已经使用过，感谢您的参与！",
        "en": "This link has already been used. Thank you for taking part!",
    },
    "wave_closed": {
        "zh": "本次调查已结束，感谢您的关注。",
        "en": "This survey has ended. Thank you for your interest.",
    },
    "cell_closed": {
        "zh": "本门店的调查名额已满，感谢您的关注。",
        "en": "This store's survey is full. Thank you for your interest.",
    },
    "screened_out": {
        "zh": "感谢您的参与！本次调查的名额已满。",
        "en": "Thank you for taking part! The survey is already full.",
    },
    "duplicate": {
        "zh": "我们已经收到您的答卷，无需重复提交。",
        "en": "We already have your answers; there is no need to send them again.",
    },
    "rate_limited": {
        "zh": "提交过于频繁，请稍后再试。",
        "en": "Too many submissions from this device; please try again later.",
    },
    "thanks": {"zh": "感谢您的参与！", "en": "Thank you for taking part!"},
}

REFUSAL_STATUS: dict[str, int] = {
    "token_used": 410,
    "wave_closed": 410,
    "cell_closed": 409,
    "screened_out": 200,
    "duplicate": 200,
    "rate_limited": 429,
}
"""The HTTP status of each submission that was not stored (by outcome)."""


_TARGET_TTL_S = 3.0  # links are looked up once; the write re-reads the wave's status


def _target(request: Request, token: str) -> fielding.LinkTarget:
    """The link's wave/store/instrument, cached briefly: a busy store's QR code is opened
    by many phones, and a submission then needs no look-up queries at all."""
    cache: dict[str, tuple[float, fielding.LinkTarget]] | None = getattr(
        request.app.state, "survey_targets", None
    )
    if cache is None:
        cache = request.app.state.survey_targets = {}
    now = time.monotonic()
    hit = cache.get(token)
    if hit is not None and now - hit[0] < _TARGET_TTL_S:
        return hit[1]
    with request.app.state.sessionmaker() as session:
        target = fielding.resolve_link(session, link_signer(request), token)
    if len(cache) > 10_000:
        cache.clear()
    cache[token] = (now, target)
    return target


def _writer(request: Request) -> GroupCommit[fielding.PendingSubmission, fielding.Submission]:
    """The app's group commit for submissions: customers' answers arriving together share
    one transaction, and the page waits for it without blocking other requests."""
    writer: GroupCommit[fielding.PendingSubmission, fielding.Submission] | None = getattr(
        request.app.state, "survey_writer", None
    )
    if writer is None:
        writer = GroupCommit(
            request.app.state.sessionmaker, fielding.write_submissions, name="survey"
        )
        request.app.state.survey_writer = writer
    return writer


def _lang(request: Request, inst_lang: str | None = None) -> str:
    lang = request.query_params.get("lang") or inst_lang
    if lang in ("zh", "en"):
        return lang
    accept = request.headers.get("accept-language", "")
    return "en" if accept.lower().startswith("en") else "zh"


def _client(request: Request) -> str:
    host = request.client.host if request.client else ""
    agent = request.headers.get("user-agent", "")
    return hashlib.sha256(f"{host}|{agent}".encode()).hexdigest()


def _message(request: Request, key: str, lang: str, status: int) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        "surveys/public_message.html",
        {"lang": lang, "message": MESSAGES[key][lang], "key": key},
        status_code=status,
    )


class AnswersForm(BaseModel):
    """The customer's posted questionnaire. Its fields are the instrument's questions, which
    differ from link to link, so they cannot be declared: the model keeps every posted
    field (``extra="allow"``; a multiple-choice field sent several times arrives as a list)
    and :func:`fielding.answers_from_form` picks the instrument's answers out of them —
    the instrument, not this form, decides which fields count. Only ``lang`` (the language
    the customer answered in) is the form's own."""

    model_config = ConfigDict(extra="allow")

    lang: str = ""


def _page(
    request: Request,
    target: fielding.LinkTarget,
    token: str,
    lang: str,
    answers: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    inst = target.instrument
    answers = answers or {}
    shown = {q.code for q in visible_questions(inst, answers)} if answers else None
    return templates.TemplateResponse(
        request,
        "surveys/public_form.html",
        {
            "lang": lang,
            "inst": inst,
            "dims": inst.dimension_map(),
            "token": token,
            "store": target.unit_name_en if lang == "en" else target.unit_name_zh,
            "answers": answers,
            "errors": errors or {},
            "shown": shown,
            "QuestionType": QuestionType,
        },
        status_code=status,
    )


@router.get("/s/{token}", response_class=HTMLResponse)
def survey_form(request: Request, token: str) -> Response:
    """The questionnaire of one store's link."""
    lang = _lang(request)
    try:
        target = _target(request, token)
    except LinkError:
        return _message(request, "bad_link", lang, 404)
    with request.app.state.sessionmaker() as session:
        state = fielding.token_state(session, target)
    if state == "unknown":
        return _message(request, "bad_link", lang, 404)
    if state == "used":
        return _message(request, "token_used", lang, 410)
    if target.status != "open":
        return _message(request, "wave_closed", lang, 410)
    return _page(request, target, token, lang)


@router.post("/s/{token}", response_class=HTMLResponse)
async def survey_submit(
    request: Request, token: str, form: Annotated[AnswersForm, Form()]
) -> Response:
    """Store the answers (all or nothing) and thank the customer."""
    lang = form.lang or _lang(request)
    lang = lang if lang in ("zh", "en") else "zh"
    factory = request.app.state.sessionmaker
    try:
        target = _target(request, token)
    except LinkError:
        return _message(request, "bad_link", lang, 404)
    if target.single_use:
        with factory() as session:
            if fielding.token_state(session, target) == "unknown":
                return _message(request, "bad_link", lang, 404)
    answers = fielding.answers_from_form(target.instrument, form.model_extra or {})
    pending = fielding.prepare_submission(
        target, answers, lang=lang, client=_client(request), guard=_GUARD
    )
    result = (
        pending
        if isinstance(pending, fielding.Submission)
        else await _writer(request).submit(pending)
    )
    if result.outcome is fielding.Outcome.INVALID:
        errors = {e.field: e.message.get(lang) for e in result.errors}
        return _page(request, target, token, lang, answers, errors, status=422)
    if result.outcome.stored:
        thanks = target.instrument.thanks
        return templates.TemplateResponse(
            request,
            "surveys/public_message.html",
            {
                "lang": lang,
                "message": thanks.get(lang) if thanks else MESSAGES["thanks"][lang],
                "key": "thanks",
            },
        )
    key = result.outcome.value
    return _message(request, key, lang, REFUSAL_STATUS.get(key, 400))
