"""Survey collection: surveys, and pulse tokens for employees.

Employee anonymity rests on what is *not* stored: a pulse token is kept only as
its SHA-256 hash with its survey and unit and a used flag, and the answer keeps
the unit and the day, never the token, the invitee or the time of day. Customers
answer through signed links (:mod:`excx.api.customer_links`).

Limits of the anonymity, by design of the export: whoever keeps the exported
links *and* reads the store can hash a link, see whether it was used, and so learn
who answered (not what). If they also watch the used flags day by day, a unit
with a single answer on a day gives that answer away. Delete the export once the
mailer has sent it, and keep reading rights on ``survey_tokens`` to admins. Row
order in the store may also follow submission order; the response id is random.

>>> import excx, pyarrow as pa
>>> store = excx.connect("duckdb://:memory:"); store.init()
>>> store.write({"units": pa.table({"unit_id": ["u1"], "name": ["Unit 1"],
...                                 "kind": ["branch"]})})
>>> create_survey(store, "pulse-1", audience="employee", kind="pulse",
...               items=("pride",))
>>> rows = issue_tokens(store, "pulse-1", {"u1": 2}, base_url="https://x")
>>> len(rows), rows[0]["unit_id"]
(2, 'u1')
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Mapping, Sequence

from excx import schema
from excx.api.db import GENERATION_CTES, arrow_rows, insert, now, run
from excx.api.security import digest, new_secret
from excx.errors import InputError
from excx.store import Store

__all__ = [
    "create_survey",
    "list_surveys",
    "survey_questions",
    "issue_tokens",
    "token_survey",
    "submit_pulse",
]

log = logging.getLogger("excx")
_MAX_TOKENS = 100_000

# PostgreSQL: claim a token and store the answer in one statement (atomic on its
# own, one round trip). A second claim of the token waits for the first, finds
# ``used`` set and inserts nothing.
_PULSE_SQL = f"""
WITH claimed AS (
    UPDATE survey_tokens SET used = true WHERE token_hash = ? AND used = false
    RETURNING survey_id, unit_id
), answer AS (
    INSERT INTO employee_responses
        (response_id, survey_id, unit_id, submitted_at, enps, comment)
    SELECT ?::text, survey_id, unit_id, ?::timestamp, ?::smallint, ?::text
    FROM claimed
    RETURNING response_id
), items AS (
    INSERT INTO employee_items (response_id, item_id, value)
    SELECT answer.response_id, item.item_id, item.value
    FROM answer, unnest(?::text[], ?::smallint[]) AS item (item_id, value)
){GENERATION_CTES}
SELECT response_id FROM answer
"""


def create_survey(
    store: Store,
    survey_id: str,
    *,
    audience: str,
    kind: str,
    items: Sequence[str] = (),
    comment: bool = True,
    opens_at: dt.datetime | None = None,
    closes_at: dt.datetime | None = None,
) -> None:
    """Add a survey: eNPS (employees) or NPS/CSAT/CES (customers), items, comment.

    ``questions`` is stored as a JSON list such as ``["enps", "pride",
    "comment"]``, as the synthetic company writes it.

    Raises
    ------
    InputError
        If the id is taken, or audience or kind is not a canonical value.
    """
    table = schema.TABLES["surveys"]
    for column, value in (("audience", audience), ("kind", kind)):
        if value not in table.allowed[column]:
            accepted = ", ".join(table.allowed[column])
            raise InputError(f"{column} {value!r}; accepted: {accepted}")
    if run(store, "SELECT 1 FROM surveys WHERE survey_id = ?", (survey_id,)):
        raise InputError(f"survey {survey_id!r} exists already")
    scores = ["enps"] if audience == "employee" else ["nps", "csat", "ces"]
    questions = scores + list(items) + (["comment"] if comment else [])
    row = {
        "survey_id": [survey_id],
        "audience": [audience],
        "kind": [kind],
        "opens_at": [opens_at or now()],
        "closes_at": [closes_at],
        "questions": [json.dumps(questions)],
    }
    store.write({"surveys": arrow_rows("surveys", row)})
    log.info("created %s survey %s", audience, survey_id)


def list_surveys(store: Store) -> list[dict]:
    """Every survey, with its questions decoded and its pulse tokens counted."""
    found = run(
        store,
        "SELECT s.survey_id, s.audience, s.kind, s.opens_at, s.closes_at, "
        "s.questions, count(t.token_hash), count(CASE WHEN t.used THEN 1 END) "
        "FROM surveys s LEFT JOIN survey_tokens t ON t.survey_id = s.survey_id "
        "GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1",
    )
    keys = ("survey_id", "audience", "kind", "opens_at", "closes_at", "questions")
    surveys = []
    for row in found:
        survey = dict(zip(keys, row[:6], strict=True))
        survey["questions"] = json.loads(survey["questions"] or "[]")
        survey["tokens_issued"], survey["tokens_used"] = int(row[6]), int(row[7])
        surveys.append(survey)
    return surveys


def survey_questions(
    store: Store, survey_id: str, *, interaction_id: str | None = None
) -> dict | None:
    """Audience, questions and whether the survey is open now; None if unknown.

    With `interaction_id`, ``answered`` also tells whether that customer
    interaction was answered already (one query for both).
    """
    answered = "EXISTS (SELECT 1 FROM survey_interactions WHERE interaction_id = ?)"
    found = run(
        store,
        f"SELECT audience, questions, opens_at, closes_at, {answered} FROM surveys "
        "WHERE survey_id = ?",
        (interaction_id or "", survey_id),
    )
    if not found:
        return None
    audience, questions, opens_at, closes_at, was_answered = found[0]
    survey = {
        "audience": audience,
        "questions": json.loads(questions or "[]"),
        "open": _is_open(opens_at, closes_at),
    }
    if interaction_id is not None:
        survey["answered"] = bool(was_answered)
    return survey


def _is_open(opens_at: dt.datetime | None, closes_at: dt.datetime | None) -> bool:
    current = now()
    return (opens_at is None or opens_at <= current) and (
        closes_at is None or current < closes_at
    )


def issue_tokens(
    store: Store, survey_id: str, invitees: Mapping[str, int], *, base_url: str
) -> list[dict]:
    """One single-use link per invitee, for the company's own mailer.

    Parameters
    ----------
    invitees
        Unit id to the number of its invitees. excx never learns who they are:
        the mailer hands each link of a unit to one of that unit's people.
    base_url
        The service's public address; links are ``{base_url}/s/pulse/{token}``.

    Returns
    -------
    list of dict
        ``unit_id`` and ``link`` per invitee; the tokens themselves are not kept.
    """
    survey = survey_questions(store, survey_id)
    if survey is None or survey["audience"] != "employee":
        raise InputError(f"{survey_id!r} is not an employee survey")
    total = sum(invitees.values())
    if not 0 < total <= _MAX_TOKENS or min(invitees.values()) < 0:
        raise InputError(
            f"{total} invitees; accepted: 1 to {_MAX_TOKENS} per call, no negative "
            "counts"
        )
    known = {u for (u,) in run(store, "SELECT unit_id FROM units")}
    unknown = sorted(set(invitees) - known)
    if unknown:
        raise InputError(f"units {unknown[:10]} are not in the units table")

    pairs = [(u, new_secret()) for u, count in invitees.items() for _ in range(count)]
    rows = {
        "token_hash": [digest(token) for _, token in pairs],
        "survey_id": [survey_id] * len(pairs),
        "unit_id": [u for u, _ in pairs],
        "used": [False] * len(pairs),
    }
    store.write({"survey_tokens": arrow_rows("survey_tokens", rows)})
    log.info("issued %d pulse tokens for %s", len(pairs), survey_id)
    base = base_url.rstrip("/")
    return [{"unit_id": u, "link": f"{base}/s/pulse/{t}"} for u, t in pairs]


def token_survey(store: Store, token: str) -> dict | None:
    """Survey id, unit and used flag of a pulse token, with its survey's
    ``questions`` and ``open`` (None, [] and False if the survey is gone);
    None if the token is unknown. One query."""
    found = run(
        store,
        "SELECT t.survey_id, t.unit_id, t.used, s.survey_id, s.questions, "
        "s.opens_at, s.closes_at FROM survey_tokens t "
        "LEFT JOIN surveys s ON s.survey_id = t.survey_id WHERE t.token_hash = ?",
        (digest(token),),
    )
    if not found:
        return None
    survey_id, unit_id, used, known, questions, opens_at, closes_at = found[0]
    return {
        "survey_id": survey_id,
        "unit_id": unit_id,
        "used": bool(used),
        "questions": json.loads(questions or "[]"),
        "open": known is not None and _is_open(opens_at, closes_at),
    }


def submit_pulse(
    store: Store,
    token: str,
    *,
    enps: int,
    items: Mapping[str, int],
    comment: str | None,
) -> bool:
    """Store one pulse answer if the token is unused; False if it was used.

    Claiming the token (``UPDATE … WHERE used = false``) and writing the answer
    happen in one transaction: both or neither (on PostgreSQL one statement,
    :data:`_PULSE_SQL`). The answer's ``submitted_at`` is the day at midnight;
    the response id is random, unrelated to the token.
    """
    response_id = uuid.uuid4().hex
    day = dt.datetime.combine(now().date(), dt.time())
    if store.backend == "postgres":
        values = (digest(token), response_id, day, enps, comment or None)
        stored = run(store, _PULSE_SQL, (*values, list(items), list(items.values())))
        return bool(stored)

    with store.transaction():
        claimed = run(
            store,
            "UPDATE survey_tokens SET used = true "
            "WHERE token_hash = ? AND used = false RETURNING survey_id, unit_id",
            (digest(token),),
        )
        if not claimed:
            return False  # nothing changed: committing is harmless
        survey_id, unit_id = claimed[0]
        answer = {
            "response_id": response_id,
            "survey_id": survey_id,
            "unit_id": unit_id,
            "submitted_at": day,
            "enps": enps,
            "comment": comment or None,
        }
        insert(store, "employee_responses", [answer])
        insert(
            store,
            "employee_items",
            [
                {"response_id": response_id, "item_id": item, "value": value}
                for item, value in items.items()
            ],
        )
    return True
