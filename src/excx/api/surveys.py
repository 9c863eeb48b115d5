"""Survey collection: pulse tokens for employees, signed links for customers.

Employee anonymity rests on what is *not* stored: a pulse token is kept only as
its SHA-256 hash with its survey and unit and a used flag, and the answer keeps
the unit and the day, never the token, the invitee or the time of day. Customer
links carry their attribution (channel, served_by, unit) under an HMAC, so a
customer cannot move their answer to another unit.

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
from excx.api.db import arrow_rows, insert, now, run
from excx.api.security import digest, new_secret, sign, verify_signed
from excx.errors import InputError
from excx.store import Store

__all__ = [
    "create_survey",
    "list_surveys",
    "survey_questions",
    "issue_tokens",
    "token_survey",
    "submit_pulse",
    "customer_link",
    "read_customer_link",
    "submit_customer",
]

log = logging.getLogger("excx")
_MAX_TOKENS = 100_000

# PostgreSQL: when the statement stored an answer, raise the store's generation
# (excx.store.Store.generation) in the same statement: this connection's slot row,
# or a new one, as Store.transaction does. The dashboard cache then sees it.
_GENERATION_CTES = """, raised AS (
    UPDATE store_generation SET generation = generation + 1
    WHERE slot = mod(pg_backend_pid(), 16) AND EXISTS (SELECT 1 FROM answer)
), seeded AS (
    INSERT INTO store_generation (slot, generation)
    SELECT mod(pg_backend_pid(), 16), 1
    WHERE EXISTS (SELECT 1 FROM answer) AND NOT EXISTS (
        SELECT 1 FROM store_generation WHERE slot = mod(pg_backend_pid(), 16)
    )
)"""
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
){_GENERATION_CTES}
SELECT response_id FROM answer
"""
# PostgreSQL: record the interaction and store the answer in one statement; a
# replay finds the interaction (unique key), records nothing and stores nothing.
_CUSTOMER_SQL = f"""
WITH first AS (
    INSERT INTO survey_interactions (interaction_id, survey_id) VALUES (?, ?)
    ON CONFLICT DO NOTHING RETURNING interaction_id
), answer AS (
    INSERT INTO customer_responses (response_id, survey_id, submitted_at, channel,
        served_by, unit_id, nps, csat, ces, comment)
    SELECT ?::text, ?::text, ?::timestamp, ?::text, ?::text, ?::text, ?::smallint,
        ?::smallint, ?::smallint, ?::text
    FROM first
    RETURNING response_id
){_GENERATION_CTES}
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


def customer_link(
    secret: str,
    *,
    base_url: str,
    survey_id: str,
    interaction_id: str,
    channel: str,
    served_by: str,
    unit_id: str | None,
    expires_at: dt.datetime,
) -> str:
    """A signed post-interaction survey link.

    The payload (survey, interaction, channel, served_by, unit, expiry) is
    readable but cannot be changed without the secret: HMAC-SHA256 over it.
    """
    table = schema.TABLES["customer_responses"]
    for column, value in (("channel", channel), ("served_by", served_by)):
        if value not in table.allowed[column]:
            accepted = ", ".join(table.allowed[column])
            raise InputError(f"{column} {value!r}; accepted: {accepted}")
    payload = {
        "s": survey_id,
        "i": interaction_id,
        "c": channel,
        "b": served_by,
        "u": unit_id,
        "e": int(expires_at.replace(tzinfo=dt.UTC).timestamp()),
    }
    return f"{base_url.rstrip('/')}/s/cx/{sign(payload, secret=secret)}"


def read_customer_link(token: str, *, secret: str) -> dict | None:
    """The attribution of a signed link; None if forged. ``expired`` is set."""
    payload = verify_signed(token, secret=secret)
    if payload is None or set(payload) != {"s", "i", "c", "b", "u", "e"}:
        return None
    expires = dt.datetime.fromtimestamp(payload["e"], dt.UTC).replace(tzinfo=None)
    return {
        "survey_id": payload["s"],
        "interaction_id": payload["i"],
        "channel": payload["c"],
        "served_by": payload["b"],
        "unit_id": payload["u"],
        "expired": expires <= now(),
    }


def submit_customer(
    store: Store,
    link: Mapping[str, object],
    *,
    scores: Mapping[str, int | None],
    comment: str | None,
) -> bool:
    """Store one customer answer unless the interaction was answered (False).

    Recording the interaction (``INSERT … ON CONFLICT DO NOTHING``) and writing
    the answer happen in one transaction: both or neither (on PostgreSQL one
    statement, :data:`_CUSTOMER_SQL`).
    """
    answer = {
        "response_id": uuid.uuid4().hex,
        "survey_id": link["survey_id"],
        "submitted_at": now(),
        "channel": link["channel"],
        "served_by": link["served_by"],
        "unit_id": link["unit_id"],
        **{name: scores.get(name) for name in ("nps", "csat", "ces")},
        "comment": comment or None,
    }
    if store.backend == "postgres":
        interaction = (link["interaction_id"], link["survey_id"])
        return bool(run(store, _CUSTOMER_SQL, (*interaction, *answer.values())))

    with store.transaction():
        first = run(
            store,
            "INSERT INTO survey_interactions (interaction_id, survey_id) "
            "VALUES (?, ?) ON CONFLICT DO NOTHING RETURNING interaction_id",
            (link["interaction_id"], link["survey_id"]),
        )
        if not first:
            return False
        insert(store, "customer_responses", [answer])
    return True
