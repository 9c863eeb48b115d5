"""Public survey pages: ``/s/pulse/{token}`` (employees), ``/s/cx/{link}`` (customers).

The link is the credential; the form carries a hidden ``form_token`` derived from
it under the secret (anti-forgery), so a form posted from elsewhere without the
page is refused. An answer is committed before the thank-you page is sent.
Every 4xx stores nothing.
"""

from __future__ import annotations

import asyncio
import functools
import hmac

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from excx.api import customer_links, surveys
from excx.api.deps import SettingsDep, StoreDep, checkout
from excx.api.pages import TEXTS, language, render
from excx.api.security import derive
from excx.schema import SCORE_RANGES

router = APIRouter(include_in_schema=False)

MAX_COMMENT = 2000


def _message(lang: str, key: str, status_code: int) -> HTMLResponse:
    """The one-sentence page `key` (thanks, used, closed, …) in `lang`."""
    return HTMLResponse(_message_html(lang, key), status_code=status_code)


@functools.lru_cache(maxsize=64)
def _message_html(lang: str, key: str) -> bytes:
    text = TEXTS[lang][key]
    return render("message.html", lang=lang, title=text, text=text).body


def _score(form, name: str, scale: str, errors: list, *, required: bool):
    """The integer answer `name` within ``SCORE_RANGES[scale]``, or None."""
    raw = str(form.get(name, "")).strip()
    low, high = SCORE_RANGES[scale]
    if not raw:
        if required:
            errors.append(f"{name}: required, {low}–{high}")
        return None
    if not raw.lstrip("-").isdigit() or not low <= int(raw) <= high:
        errors.append(f"{name}: {raw[:20]!r} is not a whole number {low}–{high}")
        return None
    return int(raw)


def _comment(form, errors: list) -> str | None:
    comment = str(form.get("comment", "")).strip()
    if len(comment) > MAX_COMMENT:
        errors.append(f"comment: {len(comment)} characters; at most {MAX_COMMENT}")
    return comment or None


def _forged(form, settings, credential: str) -> bool:
    expected = derive(settings.secret_key, "form", credential)
    return not hmac.compare_digest(str(form.get("form_token", "")), expected)


def _pulse_state(store, token: str):
    """(token and survey, None) for an answerable token, else (None, problem)."""
    survey = surveys.token_survey(store, token)
    if survey is None:
        return None, ("unknown", 404)
    if survey["used"]:
        return None, ("used", 410)
    if not survey["open"]:
        return None, ("closed", 410)
    return survey, None


def _pulse_page(request, settings, token, survey, *, answers=None, errors=()):
    lang = language(request)
    questions = survey["questions"]
    return render(
        "pulse.html",
        status_code=422 if errors else 200,
        lang=lang,
        t=TEXTS[lang],
        title=TEXTS[lang]["pulse_title"],
        action=f"/s/pulse/{token}?lang={lang}",
        form_token=derive(settings.secret_key, "form", token),
        items=[q for q in questions if q not in ("enps", "comment")],
        comment="comment" in questions,
        answers=answers or {},
        errors=list(errors),
        max_comment=MAX_COMMENT,
    )


@router.get("/s/pulse/{token}", response_class=HTMLResponse)
def pulse_form(
    token: str, request: Request, store: StoreDep, settings: SettingsDep
) -> HTMLResponse:
    survey, problem = _pulse_state(store, token)
    if problem:
        return _message(language(request), *problem)
    return _pulse_page(request, settings, token, survey)


@router.post("/s/pulse/{token}", response_class=HTMLResponse)
async def pulse_submit(token: str, request: Request) -> HTMLResponse:
    return await _submit(request, _answer_pulse, token)


async def _submit(request: Request, answer, credential: str) -> HTMLResponse:
    """Read the form, then run `answer` with a store in one worker thread.

    The busiest routes take the store and the settings themselves rather than
    through FastAPI dependencies, and hand the work to the app's own thread
    pool (one thread per store connection) rather than anyio's: together those
    cost about as much CPU (~0.6 ms) as the store work of an answer. The store
    is taken once the form has arrived.
    """
    form = await request.form()
    settings = request.app.state.settings
    async with checkout(request) as store:
        threads = request.app.state.store_threads
        return await asyncio.get_running_loop().run_in_executor(
            threads, answer, request, store, settings, credential, form
        )


def _answer_pulse(request, store, settings, token: str, form) -> HTMLResponse:
    """Check, validate and store one pulse answer (in a worker thread: one hop
    for every statement); the page to send back."""
    lang = language(request)
    survey, problem = _pulse_state(store, token)
    if problem:
        return _message(lang, *problem)
    if _forged(form, settings, token):
        return _message(lang, "forged", 403)

    errors: list[str] = []
    enps = _score(form, "enps", "enps", errors, required=True)
    items = {}
    for item in survey["questions"]:
        if item not in ("enps", "comment"):
            value = _score(form, f"item_{item}", "item", errors, required=False)
            if value is not None:
                items[item] = value
    comment = _comment(form, errors) if "comment" in survey["questions"] else None
    if errors:
        answers = {k: str(v) for k, v in form.items() if k != "form_token"}
        return _pulse_page(
            request, settings, token, survey, answers=answers, errors=errors
        )

    stored = surveys.submit_pulse(store, token, enps=enps, items=items, comment=comment)
    return _message(lang, "thanks" if stored else "used", 200 if stored else 410)


def _customer_state(store, settings, link: str):
    """(attribution, None) for an answerable link, else (None, problem)."""
    attribution = customer_links.read_customer_link(link, secret=settings.secret_key)
    if attribution is None:
        return None, ("forged", 403)
    if attribution["expired"]:
        return None, ("expired", 410)
    survey = surveys.survey_questions(
        store, attribution["survey_id"], interaction_id=attribution["interaction_id"]
    )
    if survey is None or survey["audience"] != "customer" or not survey["open"]:
        return None, ("closed", 410)
    if survey["answered"]:
        return None, ("used", 409)
    return attribution, None


def _customer_page(request, settings, link, *, answers=None, errors=()):
    lang = language(request)
    return render(
        "customer.html",
        status_code=422 if errors else 200,
        lang=lang,
        t=TEXTS[lang],
        title=TEXTS[lang]["cx_title"],
        action=f"/s/cx/{link}?lang={lang}",
        form_token=derive(settings.secret_key, "form", link),
        answers=answers or {},
        errors=list(errors),
        max_comment=MAX_COMMENT,
    )


@router.get("/s/cx/{link}", response_class=HTMLResponse)
def customer_form(
    link: str, request: Request, store: StoreDep, settings: SettingsDep
) -> HTMLResponse:
    _, problem = _customer_state(store, settings, link)
    if problem:
        return _message(language(request), *problem)
    return _customer_page(request, settings, link)


@router.post("/s/cx/{link}", response_class=HTMLResponse)
async def customer_submit(link: str, request: Request) -> HTMLResponse:
    return await _submit(request, _answer_customer, link)


def _answer_customer(request, store, settings, link: str, form) -> HTMLResponse:
    """Check, validate and store one customer answer (in a worker thread); the
    page to send back."""
    lang = language(request)
    attribution, problem = _customer_state(store, settings, link)
    if problem:
        return _message(lang, *problem)
    if _forged(form, settings, link):
        return _message(lang, "forged", 403)

    errors: list[str] = []
    scores = {
        "nps": _score(form, "nps", "nps", errors, required=True),
        "csat": _score(form, "csat", "csat", errors, required=False),
        "ces": _score(form, "ces", "ces", errors, required=False),
    }
    comment = _comment(form, errors)
    if errors:
        answers = {k: str(v) for k, v in form.items() if k != "form_token"}
        return _customer_page(request, settings, link, answers=answers, errors=errors)

    stored = customer_links.submit_customer(
        store, attribution, scores=scores, comment=comment
    )
    return _message(lang, "thanks" if stored else "used", 200 if stored else 409)
