"""The canonical tables: their columns, types, keys and allowed values, in one place.

Everything that reads or writes the store (importers, metrics, the synthetic
company, the service) takes column names, types, ranges and allowed values from
here. DESIGN.md ("Canonical data") describes the same tables in prose.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ibis
import ibis.expr.datatypes as dt

__all__ = [
    "CHANNELS",
    "SERVED_BY",
    "UNIT_KINDS",
    "AUDIENCES",
    "SURVEY_KINDS",
    "ROLES",
    "PHASES",
    "ACTIVITY_STATUSES",
    "SCORE_RANGES",
    "Table",
    "TABLES",
    "table",
]

CHANNELS = ("store", "contact_centre", "web", "app", "chatbot", "email", "social")
SERVED_BY = ("human", "bot", "self_service")
UNIT_KINDS = (
    "company",
    "region",
    "branch",
    "store",
    "contact_centre",
    "team",
    "digital",
)
AUDIENCES = ("employee", "customer")
SURVEY_KINDS = ("engagement", "pulse", "transactional", "relationship")
# Roles of the service's users (excx serve), widest first.
ROLES = ("admin", "analyst", "manager", "viewer")
# The six phases of the Employee Engagement Journey, in order, and activity states.
PHASES = ("know", "tell", "activate", "reward", "listen", "measure")
ACTIVITY_STATUSES = ("planned", "active", "done", "cancelled")

# Inclusive ranges of every scored answer; items are on a 1-5 agreement scale.
SCORE_RANGES: dict[str, tuple[int, int]] = {
    "enps": (0, 10),
    "nps": (0, 10),
    "csat": (1, 5),
    "ces": (1, 7),
    "item": (1, 5),
}


@dataclass(frozen=True)
class Table:
    """One canonical table.

    Attributes
    ----------
    name
        Table name in the store.
    columns
        Column name to ibis type, in storage order.
    key
        Columns that identify a row.
    required
        Columns that may not be null.
    allowed
        Column name to the values it accepts.
    ranges
        Column name to its inclusive (low, high) range.
    """

    name: str
    columns: dict[str, dt.DataType]
    key: tuple[str, ...]
    required: tuple[str, ...]
    allowed: dict[str, tuple[str, ...]] = field(default_factory=dict)
    ranges: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def schema(self) -> ibis.Schema:
        return ibis.schema(self.columns)


_str, _int, _float = dt.String(), dt.Int16(), dt.Float64()
_ts, _date = dt.Timestamp(), dt.Date()

TABLES: dict[str, Table] = {
    t.name: t
    for t in [
        Table(
            "units",
            {
                "unit_id": _str,
                "name": _str,
                "parent_id": _str,
                "kind": _str,
                "region": _str,
                "valid_from": _date,
                "valid_to": _date,
            },
            key=("unit_id",),
            required=("unit_id", "name", "kind"),
            allowed={"kind": UNIT_KINDS},
        ),
        Table(
            "employee_responses",
            {
                "response_id": _str,
                "survey_id": _str,
                "unit_id": _str,
                "submitted_at": _ts,
                "enps": _int,
                "role": _str,
                "tenure_band": _str,
                "comment": _str,
            },
            key=("response_id",),
            required=("response_id", "unit_id", "submitted_at"),
            ranges={"enps": SCORE_RANGES["enps"]},
        ),
        Table(
            "employee_items",
            {"response_id": _str, "item_id": _str, "value": _int},
            key=("response_id", "item_id"),
            required=("response_id", "item_id", "value"),
            ranges={"value": SCORE_RANGES["item"]},
        ),
        Table(
            "customer_responses",
            {
                "response_id": _str,
                "survey_id": _str,
                "submitted_at": _ts,
                "channel": _str,
                "served_by": _str,
                "unit_id": _str,
                "nps": _int,
                "csat": _int,
                "ces": _int,
                "comment": _str,
            },
            key=("response_id",),
            required=("response_id", "submitted_at", "channel", "served_by"),
            allowed={"channel": CHANNELS, "served_by": SERVED_BY},
            ranges={k: SCORE_RANGES[k] for k in ("nps", "csat", "ces")},
        ),
        Table(
            "customer_items",
            {"response_id": _str, "item_id": _str, "value": _int},
            key=("response_id", "item_id"),
            required=("response_id", "item_id", "value"),
            ranges={"value": SCORE_RANGES["item"]},
        ),
        Table(
            "unit_outcomes",
            {
                "unit_id": _str,
                "period": _date,
                "revenue": _float,
                "customers": dt.Int64(),
                "churned": dt.Int64(),
            },
            key=("unit_id", "period"),
            required=("unit_id", "period"),
        ),
        Table(
            "surveys",
            {
                "survey_id": _str,
                "audience": _str,
                "kind": _str,
                "opens_at": _ts,
                "closes_at": _ts,
                "questions": _str,
            },
            key=("survey_id",),
            required=("survey_id", "audience", "kind"),
            allowed={"audience": AUDIENCES, "kind": SURVEY_KINDS},
        ),
        # The Employee Engagement Journey programme (excx.journey).
        Table(
            "initiatives",
            {
                "initiative_id": _str,
                "name": _str,
                "owner": _str,
                "starts_on": _date,
                "ends_on": _date,
                "created_at": _ts,
            },
            key=("initiative_id",),
            required=("initiative_id", "name", "starts_on", "ends_on"),
        ),
        Table(
            "activities",
            {
                "activity_id": _str,
                "initiative_id": _str,
                "phase": _str,
                "name": _str,
                "owner": _str,
                "starts_on": _date,
                "ends_on": _date,
                "status": _str,
                "evidence": _str,
            },
            key=("activity_id",),
            required=(
                "activity_id",
                "initiative_id",
                "phase",
                "name",
                "starts_on",
                "ends_on",
                "status",
            ),
            allowed={"phase": PHASES, "status": ACTIVITY_STATUSES},
        ),
        Table(
            "activity_units",
            {
                "activity_id": _str,
                "unit_id": _str,
                "participants": dt.Int64(),
                "eligible": dt.Int64(),
            },
            key=("activity_id", "unit_id"),
            required=("activity_id", "unit_id"),
        ),
        Table(
            "recognitions",
            {
                "recognition_id": _str,
                "unit_id": _str,
                "period": _date,
                "kind": _str,
                "activity_id": _str,
                "note": _str,
            },
            key=("recognition_id",),
            required=("recognition_id", "unit_id", "period", "kind"),
        ),
        # Actions taken on employee feedback (the Listen phase closes the loop).
        Table(
            "feedback_actions",
            {
                "action_id": _str,
                "unit_id": _str,
                "opened_on": _date,
                "closed_on": _date,
                "description": _str,
            },
            key=("action_id",),
            required=("action_id", "unit_id", "opened_on", "description"),
        ),
        Table(
            "maturity_answers",
            {
                "assessment_id": _str,
                "item_id": _str,
                "value": _int,
                "answered_on": _date,
            },
            key=("assessment_id", "item_id"),
            required=("assessment_id", "item_id", "value"),
            ranges={"value": SCORE_RANGES["item"]},
        ),
        # Customer interaction logs (excx.channels): one row per contact event; the
        # events of one customer_ref form a journey, and response_id links the
        # survey answer the journey led to.
        Table(
            "interactions",
            {
                "customer_ref": _str,
                "occurred_at": _ts,
                "channel": _str,
                "unit_id": _str,
                "served_by": _str,
                "response_id": _str,
            },
            key=("customer_ref", "occurred_at", "channel", "served_by"),
            required=("customer_ref", "occurred_at", "channel", "served_by"),
            allowed={"channel": CHANNELS, "served_by": SERVED_BY},
        ),
        # One row per imported file: what makes re-importing the same file a no-op.
        Table(
            "imports",
            {
                "import_id": _str,
                "target": _str,
                "source": _str,
                "sha256": _str,
                "rows": dt.Int64(),
                "imported_at": _ts,
            },
            key=("import_id",),
            required=("import_id", "target", "sha256", "rows", "imported_at"),
        ),
        # The service (excx serve): who may log in, with which role and scope.
        Table(
            "users",
            {
                "username": _str,
                "password_hash": _str,
                "role": _str,
                "unit_id": _str,
                "created_at": _ts,
            },
            key=("username",),
            required=("username", "password_hash", "role", "created_at"),
            allowed={"role": ROLES},
        ),
        # Server-side sessions: only a hash of the cookie's random id is stored.
        Table(
            "sessions",
            {
                "session_hash": _str,
                "username": _str,
                "created_at": _ts,
                "expires_at": _ts,
            },
            key=("session_hash",),
            required=("session_hash", "username", "created_at", "expires_at"),
        ),
        # Single-use pulse tokens: a hash, the survey and unit; never the invitee.
        Table(
            "survey_tokens",
            {
                "token_hash": _str,
                "survey_id": _str,
                "unit_id": _str,
                "used": dt.Boolean(),
            },
            key=("token_hash",),
            required=("token_hash", "survey_id", "unit_id", "used"),
        ),
        # Customer interactions already answered: what refuses a replayed link.
        Table(
            "survey_interactions",
            {"interaction_id": _str, "survey_id": _str},
            key=("interaction_id",),
            required=("interaction_id", "survey_id"),
        ),
        # Raised by one in every committed write (Store.transaction): the
        # state that cached figures are keyed by. A few rows (one per slot, a
        # PostgreSQL connection's pid modulo 16); the generation is their sum.
        Table(
            "store_generation",
            {"slot": _int, "generation": dt.Int64()},
            key=("slot",),
            required=("slot", "generation"),
        ),
    ]
}


def table(name: str) -> Table:
    """Return the canonical table called `name`.

    Raises
    ------
    InputError
        If no canonical table has that name.
    """
    from excx.errors import InputError

    try:
        return TABLES[name]
    except KeyError:
        known = ", ".join(TABLES)
        raise InputError(f"unknown table {name!r}; known tables: {known}") from None
