"""The programme: initiatives, their activities per phase, recognitions, actions.

Everything is written with :meth:`excx.store.Store.write`, so an operation stores
all of its rows or none. Checks run before the write and name what was wrong and
what would be accepted.

>>> import excx, pyarrow as pa
>>> from excx.journey import programme
>>> store = excx.connect("duckdb://:memory:")
>>> store.init()
>>> store.write({"units": pa.table({"unit_id": ["b1"], "name": ["B1"],
...                                 "kind": ["branch"]})})
>>> crm = programme.add_initiative(store, name="Omnichannel CRM",
...                                starts_on="2025-01-01", ends_on="2025-12-31")
>>> act = programme.add_activity(store, crm, phase="activate", name="CRM pilot",
...                              units=["b1"], starts_on="2025-03-01",
...                              ends_on="2025-06-30")
>>> programme.activities(store)[["phase", "name", "units"]].to_dict("records")
[{'phase': 'activate', 'name': 'CRM pilot', 'units': 'b1'}]
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence

import ibis
import pandas as pd
import pyarrow as pa

from excx.errors import InputError
from excx.schema import ACTIVITY_STATUSES, PHASES
from excx.store import Store

__all__ = [
    "add_initiative",
    "add_activity",
    "recognise",
    "add_action",
    "initiatives",
    "activities",
    "activity",
    "parse_date",
]

DateLike = str | dt.date


def parse_date(value: DateLike | None, *, field: str) -> dt.date:
    """An ISO date (``YYYY-MM-DD``) or :class:`datetime.date`, else InputError."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if value is None or str(value).strip() == "":
        raise InputError(f"{field} is missing; give a date as YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InputError(
            f"{field}={value!r} is not a date; give it as YYYY-MM-DD"
        ) from None


def _new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _check_span(starts_on: dt.date, ends_on: dt.date, what: str) -> None:
    if ends_on < starts_on:
        raise InputError(
            f"{what}: ends_on {ends_on} is before starts_on {starts_on}; "
            "the end must be on or after the start"
        )


def _require_new(store: Store, table: str, key: str, value: str) -> None:
    if len(store.existing_keys(table, pa.array([value]))):
        raise InputError(f"{table}: {key} {value!r} already exists; pick another id")


def add_initiative(
    store: Store,
    *,
    name: str,
    starts_on: DateLike,
    ends_on: DateLike,
    owner: str | None = None,
    initiative_id: str | None = None,
) -> str:
    """Store a new initiative (for example "new omnichannel CRM"); return its id.

    Parameters
    ----------
    store
        The open, initialised store.
    name, owner
        What the initiative is called and who answers for it.
    starts_on, ends_on
        Its span (ISO dates, inclusive); activities must fall inside it.
    initiative_id
        An id of your choice; a random ``ini-…`` id when omitted.

    Examples
    --------
    >>> import excx
    >>> store = excx.connect("duckdb://:memory:"); store.init()
    >>> add_initiative(store, name="CRM", starts_on="2025-01-01",
    ...                ends_on="2025-06-30", initiative_id="crm")
    'crm'
    """
    if not name or not name.strip():
        raise InputError("initiative name is empty; give a short title")
    start = parse_date(starts_on, field="starts_on")
    end = parse_date(ends_on, field="ends_on")
    _check_span(start, end, f"initiative {name!r}")
    initiative_id = initiative_id or _new_id("ini")
    _require_new(store, "initiatives", "initiative_id", initiative_id)
    row = {
        "initiative_id": [initiative_id],
        "name": [name.strip()],
        "owner": [owner],
        "starts_on": [start],
        "ends_on": [end],
        "created_at": [dt.datetime.now(dt.UTC).replace(tzinfo=None)],
    }
    store.write({"initiatives": pa.table(row)})
    return initiative_id


def add_activity(
    store: Store,
    initiative_id: str,
    *,
    phase: str,
    name: str,
    units: Sequence[str],
    starts_on: DateLike,
    ends_on: DateLike,
    owner: str | None = None,
    status: str = "planned",
    evidence: str | None = None,
    participants: Mapping[str, int] | None = None,
    eligible: Mapping[str, int] | None = None,
    activity_id: str | None = None,
) -> str:
    """Store an activity of one phase of an initiative, with its units; return its id.

    Parameters
    ----------
    store
        The open, initialised store.
    initiative_id
        The initiative it belongs to.
    phase
        One of ``know, tell, activate, reward, listen, measure``.
    name, owner, evidence
        Title, who runs it, and where its evidence lives (a link or a note).
    units
        The ``unit_id`` of every unit involved; at least one, all known.
    starts_on, ends_on
        Its span (ISO dates, inclusive), inside the initiative's span.
    status
        ``planned``, ``active``, ``done`` or ``cancelled``.
    participants, eligible
        Per unit: employees who took part, and employees who could have.
    activity_id
        An id of your choice; a random ``act-…`` id when omitted.

    Raises
    ------
    InputError
        Unknown initiative, phase, status or units; no units; missing or reversed
        dates; or another initiative whose span overlaps this one already has
        activities in one of these units (the message names both initiatives).
        Nothing is written then.
    """
    phase, status = phase.strip().lower(), status.strip().lower()
    if phase not in PHASES:
        raise InputError(f"phase={phase!r}; accepted: {', '.join(PHASES)}")
    if status not in ACTIVITY_STATUSES:
        raise InputError(f"status={status!r}; accepted: {', '.join(ACTIVITY_STATUSES)}")
    units = sorted({u.strip() for u in units if u and u.strip()})
    if not units:
        raise InputError(
            f"activity {name!r} has no units; give the unit_id of every unit involved"
        )
    start = parse_date(starts_on, field="starts_on")
    end = parse_date(ends_on, field="ends_on")
    _check_span(start, end, f"activity {name!r}")

    initiative = _initiative_row(store, initiative_id)
    if start < initiative["starts_on"] or end > initiative["ends_on"]:
        raise InputError(
            f"activity {name!r} runs {start}..{end}, outside initiative "
            f"{initiative_id!r} ({initiative['starts_on']}..{initiative['ends_on']})"
        )
    _check_units(store, units)
    _check_overlap(store, initiative, units)
    activity_id = activity_id or _new_id("act")
    _require_new(store, "activities", "activity_id", activity_id)

    for label, counts in (("participants", participants), ("eligible", eligible)):
        stray = sorted(set(counts or {}) - set(units))
        if stray:
            raise InputError(f"{label} names units not in the activity: {stray}")
    activity_row = {
        "activity_id": [activity_id],
        "initiative_id": [initiative_id],
        "phase": [phase],
        "name": [name.strip()],
        "owner": [owner],
        "starts_on": [start],
        "ends_on": [end],
        "status": [status],
        "evidence": [evidence],
    }
    unit_rows = {
        "activity_id": [activity_id] * len(units),
        "unit_id": units,
        "participants": [(participants or {}).get(u) for u in units],
        "eligible": [(eligible or {}).get(u) for u in units],
    }
    store.write(
        {"activities": pa.table(activity_row), "activity_units": pa.table(unit_rows)}
    )
    return activity_id


def recognise(
    store: Store,
    *,
    unit_id: str,
    period: DateLike,
    kind: str,
    activity_id: str | None = None,
    note: str | None = None,
) -> str:
    """Record a recognition of a unit in a month (Reward phase); return its id.

    ``period`` may be any day of the month; the month's first day is stored.
    """
    if not kind or not kind.strip():
        raise InputError("recognition kind is empty; e.g. 'award', 'bonus', 'thanks'")
    month = parse_date(period, field="period").replace(day=1)
    _check_units(store, [unit_id])
    if activity_id is not None and not len(
        store.existing_keys("activities", pa.array([activity_id]))
    ):
        raise InputError(f"activity {activity_id!r} does not exist")
    recognition_id = _new_id("rec")
    row = {
        "recognition_id": [recognition_id],
        "unit_id": [unit_id],
        "period": [month],
        "kind": [kind.strip()],
        "activity_id": [activity_id],
        "note": [note],
    }
    store.write({"recognitions": pa.table(row)})
    return recognition_id


def add_action(
    store: Store,
    *,
    unit_id: str,
    description: str,
    opened_on: DateLike,
    closed_on: DateLike | None = None,
) -> str:
    """Record an action taken on employee feedback (Listen phase); return its id."""
    if not description or not description.strip():
        raise InputError("action description is empty; say what was done")
    opened = parse_date(opened_on, field="opened_on")
    closed = None if closed_on is None else parse_date(closed_on, field="closed_on")
    if closed is not None:
        _check_span(opened, closed, f"action {description!r}")
    _check_units(store, [unit_id])
    action_id = _new_id("fba")
    row = {
        "action_id": [action_id],
        "unit_id": [unit_id],
        "opened_on": [opened],
        "closed_on": pa.array([closed], pa.date32()),
        "description": [description.strip()],
    }
    store.write({"feedback_actions": pa.table(row)})
    return action_id


def initiatives(store: Store) -> pd.DataFrame:
    """Every initiative, with its number of activities and units, by start date."""
    counts = (
        _activity_units(store)
        .group_by("initiative_id")
        .aggregate(
            activities=lambda t: t.activity_id.nunique(),
            units=lambda t: t.unit_id.nunique(),
        )
    )
    table = store.table("initiatives")
    joined = table.left_join(counts, "initiative_id").select(
        table, counts.activities, counts.units
    )
    frame = store.to_pyarrow(joined).to_pandas()
    frame[["activities", "units"]] = frame[["activities", "units"]].fillna(0)
    return frame.sort_values(["starts_on", "initiative_id"], ignore_index=True)


def activities(store: Store, *, initiative_id: str | None = None) -> pd.DataFrame:
    """Every activity (of one initiative), with its units comma-separated.

    Columns: the ``activities`` table's, then ``units`` and ``participants``
    (summed over units, null when none recorded). Ordered by phase, then start.
    """
    table = store.table("activities")
    if initiative_id is not None:
        table = table.filter(table.initiative_id == initiative_id)
    members = store.table("activity_units")
    per_activity = members.group_by("activity_id").aggregate(
        units=members.unit_id.group_concat(",", order_by=members.unit_id),
        participants=members.participants.sum(),
    )
    joined = table.left_join(per_activity, "activity_id").select(
        table, per_activity.units, per_activity.participants
    )
    frame = store.to_pyarrow(joined).to_pandas()
    frame["phase_order"] = frame["phase"].map({p: i for i, p in enumerate(PHASES)})
    frame = frame.sort_values(["phase_order", "starts_on", "activity_id"])
    return frame.drop(columns="phase_order").reset_index(drop=True)


def activity(store: Store, activity_id: str) -> dict:
    """One activity as a dict, with ``units`` as a sorted list of unit ids."""
    table = store.table("activities")
    rows = store.to_pyarrow(table.filter(table.activity_id == activity_id)).to_pylist()
    if not rows:
        raise InputError(f"activity {activity_id!r} does not exist")
    members = store.table("activity_units")
    chosen = members.filter(members.activity_id == activity_id).select("unit_id")
    units = store.to_pyarrow(chosen).column("unit_id").to_pylist()
    return {**rows[0], "units": sorted(units)}


def _initiative_row(store: Store, initiative_id: str) -> dict:
    table = store.table("initiatives")
    rows = store.to_pyarrow(table.filter(table.initiative_id == initiative_id))
    if not rows.num_rows:
        raise InputError(
            f"initiative {initiative_id!r} does not exist; add it first "
            "(excx journey add-initiative)"
        )
    return rows.to_pylist()[0]


def _check_units(store: Store, units: Sequence[str]) -> None:
    known = set(store.existing_keys("units", pa.array(list(units))).to_pylist())
    unknown = sorted(set(units) - known)
    if unknown:
        raise InputError(
            f"unknown unit(s) {', '.join(unknown)}: not in the units table; "
            "import the units first or use existing unit_id values"
        )


def _activity_units(store: Store) -> ibis.Table:
    members = store.table("activity_units")
    acts = store.table("activities").select("activity_id", "initiative_id")
    return members.join(acts, "activity_id")


def _check_overlap(store: Store, initiative: dict, units: Sequence[str]) -> None:
    """Refuse units already in another initiative whose span overlaps this one."""
    members = _activity_units(store)
    others = store.table("initiatives")
    others = others.filter(
        (others.initiative_id != initiative["initiative_id"])
        & (others.starts_on <= initiative["ends_on"])
        & (others.ends_on >= initiative["starts_on"])
    )
    clash = members.filter(members.unit_id.isin(list(units))).join(
        others, "initiative_id"
    )
    clash = clash.group_by(["initiative_id", "name"]).aggregate(
        units=clash.unit_id.group_concat(",", order_by=clash.unit_id)
    )
    found = store.to_pyarrow(clash).to_pylist()
    if found:
        first = found[0]
        raise InputError(
            f"initiative {initiative['initiative_id']!r} ({initiative['name']}, "
            f"{initiative['starts_on']}..{initiative['ends_on']}) overlaps initiative "
            f"{first['initiative_id']!r} ({first['name']}) on unit(s) "
            f"{first['units']}: one unit may be in one running initiative at a time; "
            "choose other units or non-overlapping dates"
        )
