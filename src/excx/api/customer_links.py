"""Customer post-interaction surveys: signed links and their answers.

A link carries its attribution (survey, interaction, channel, served_by, unit,
expiry) under an HMAC, so a customer cannot move their answer to another unit or
channel; an interaction is answered once.

>>> import datetime as dt
>>> url = customer_link("k" * 32, base_url="https://x", survey_id="cx-1",
...                     interaction_id="i1", channel="chatbot", served_by="bot",
...                     unit_id=None, expires_at=dt.datetime(2099, 1, 1))
>>> read_customer_link(url.rsplit("/", 1)[1], secret="k" * 32)["channel"]
'chatbot'
>>> read_customer_link(url.rsplit("/", 1)[1], secret="other" * 8) is None
True
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping

from excx import schema
from excx.api.db import GENERATION_CTES, insert, now, run
from excx.api.security import sign, verify_signed
from excx.errors import InputError
from excx.store import Store

__all__ = ["customer_link", "read_customer_link", "submit_customer"]

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
){GENERATION_CTES}
SELECT response_id FROM answer
"""


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
