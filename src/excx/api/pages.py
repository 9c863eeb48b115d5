"""Server-rendered pages: Jinja2 with autoescape, Italian and English, no CDN.

>>> render("message.html", title="<b>", text="ok").body.count(b"&lt;b&gt;")
2
"""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

__all__ = ["render", "language", "TEXTS", "LANGUAGES"]

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    auto_reload=False,  # compiled once per process; no stat() of the file per page
)

LANGUAGES = ("en", "it")

#: Every sentence the survey pages show, per language.
TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "pulse_title": "How is work going?",
        "pulse_intro": "Anonymous: your answer is stored with your unit and the day "
        "only.",
        "enps": "How likely are you to recommend your workplace to a friend?",
        "items": "How much do you agree? (1 = not at all, 5 = completely)",
        "cx_title": "How did we do?",
        "nps": "How likely are you to recommend us to a friend or colleague?",
        "csat": "How satisfied are you with this contact?",
        "ces": "How easy was it to get what you needed? (1 = very hard, 7 = very easy)",
        "comment": "Anything you would like to add? (optional)",
        "submit": "Send",
        "thanks": "Thank you: your answer has been saved.",
        "used": "This link has already been used to answer.",
        "unknown": "This survey link is not valid.",
        "closed": "This survey is closed.",
        "expired": "This survey link has expired.",
        "forged": "This survey link has been altered and cannot be used.",
        "invalid": "Please check your answers:",
        "not_at_all": "not at all",
        "completely": "completely",
        "pride": "I am proud to work here.",
        "recommend_work": "I would recommend working here.",
        "intent_to_stay": "I see myself working here in two years.",
        "energy": "I feel energised by my work.",
        "purpose": "My work has a clear purpose.",
    },
    "it": {
        "pulse_title": "Come va il lavoro?",
        "pulse_intro": "Anonimo: la risposta è registrata solo con la tua unità e "
        "il giorno.",
        "enps": "Quanto consiglieresti il tuo posto di lavoro a un amico?",
        "items": "Quanto sei d'accordo? (1 = per niente, 5 = del tutto)",
        "cx_title": "Com'è andata?",
        "nps": "Quanto ci consiglieresti a un amico o a un collega?",
        "csat": "Quanto sei soddisfatto di questo contatto?",
        "ces": "Quanto è stato facile ottenere ciò che ti serviva? "
        "(1 = molto difficile, 7 = molto facile)",
        "comment": "Vuoi aggiungere qualcosa? (facoltativo)",
        "submit": "Invia",
        "thanks": "Grazie: la tua risposta è stata salvata.",
        "used": "Questo link è già stato usato per rispondere.",
        "unknown": "Questo link al questionario non è valido.",
        "closed": "Questo questionario è chiuso.",
        "expired": "Questo link al questionario è scaduto.",
        "forged": "Questo link al questionario è stato alterato e non può essere "
        "usato.",
        "invalid": "Controlla le risposte:",
        "not_at_all": "per niente",
        "completely": "del tutto",
        "pride": "Sono orgoglioso di lavorare qui.",
        "recommend_work": "Consiglierei di lavorare qui.",
        "intent_to_stay": "Mi vedo qui tra due anni.",
        "energy": "Il mio lavoro mi dà energia.",
        "purpose": "Il mio lavoro ha uno scopo chiaro.",
    },
}


def language(request: Request) -> str:
    """``?lang=`` if given and known, else the first known Accept-Language."""
    asked = request.query_params.get("lang", "")
    if asked in LANGUAGES:
        return asked
    header = request.headers.get("accept-language", "")
    for part in header.split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "en"


def render(template: str, *, status_code: int = 200, **context) -> HTMLResponse:
    """`template` rendered with `context` (every value escaped)."""
    html = _env.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status_code)
