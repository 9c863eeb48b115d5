"""Phase KPIs of an initiative, read from the data rather than typed in.

Each phase has one function returning a tidy frame with the columns
:data:`KPI_COLUMNS`; :func:`phase_kpis` stacks them. Employee figures come from
:func:`excx.metrics.compute` or pass :func:`excx.privacy.gate` (suppressed rows
are kept, with null values); counts of activities, recognitions and actions are
programme records, not answers, and are shown as they are.

The initiative's scope is the units of its activities and its span
(``starts_on``..``ends_on``); the baseline is the months before ``starts_on``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

from excx.errors import InputError
from excx.journey import _kpis
from excx.metrics import compute
from excx.metrics.intervals import wilson_interval
from excx.privacy import PrivacyRule
from excx.schema import PHASES
from excx.store import Store

__all__ = [
    "KPI_COLUMNS",
    "phase_kpis",
    "know",
    "tell",
    "activate",
    "reward",
    "listen",
    "measure",
]

KPI_COLUMNS = _kpis.COLUMNS


def phase_kpis(
    store: Store,
    initiative_id: str,
    *,
    phases: Sequence[str] | None = None,
    include_measure: bool = False,
) -> pd.DataFrame:
    """The KPIs of an initiative's phases, stacked (columns :data:`KPI_COLUMNS`).

    Parameters
    ----------
    phases
        Which phases (``know``, ``tell``, ...); None: all but ``measure``.
    include_measure
        Add ``measure``, which runs the linkage models (seconds to minutes).

    Examples
    --------
    >>> import excx
    >>> store = excx.connect("duckdb://:memory:"); store.init()
    >>> phase_kpis(store, "nope")
    Traceback (most recent call last):
    ...
    excx.errors.InputError: initiative 'nope' does not exist
    """
    functions = {"know": know, "tell": tell, "activate": activate, "reward": reward}
    functions |= {"listen": listen, "measure": measure}
    chosen = [p.lower() for p in phases] if phases else list(PHASES[:-1])
    if include_measure and "measure" not in chosen:
        chosen.append("measure")
    unknown = [p for p in chosen if p not in functions]
    if unknown:
        raise InputError(f"phases {unknown}; accepted: {', '.join(PHASES)}")
    parts = [functions[name](store, initiative_id) for name in chosen]
    return pd.concat([p for p in parts if len(p)], ignore_index=True)[KPI_COLUMNS]


def know(store: Store, initiative_id: str, *, readiness_prefix: str = "readiness"):
    """Baseline eNPS, engagement and readiness items per unit; where to start.

    The baseline is the last month before the initiative starts (or, with no
    answers before, its first month). Readiness items are the employee items
    whose id starts with `readiness_prefix`, as the share agreeing (4–5). Units
    come lowest baseline eNPS first, hidden ones last: where to start. No
    invitations are stored, so ``n`` (respondents) stands in for a response rate.
    """
    scope = _scope(store, initiative_id)
    before = _months_before(store, scope["starts_on"])
    note = "baseline: the month before the start"
    if not before:
        before = _months_between(store, scope["starts_on"], scope["ends_on"])
        note = "no answers before the start: the initiative's first month"
    baseline = before[-1:] if note.startswith("baseline") else before[:1]
    frames = []
    if baseline:
        where = {"unit_id": scope["units"], "period": baseline}
        for name in ("enps", "engagement"):
            frame = compute(store, name, by=("unit_id", "period"), where=where)
            frames.append(_kpis.tidy(frame, "know", name, note=note))
    known = (
        pd.concat(frames, ignore_index=True) if frames else _kpis.row("know", "enps")
    )
    order = known[known["kpi"] == "enps"].sort_values("value", na_position="last")
    rank = {unit: i for i, unit in enumerate(order["unit_id"])}
    known = known.sort_values(
        ["kpi", "unit_id"], key=lambda c: c.map(rank) if c.name == "unit_id" else c
    )
    items = _kpis.item_shares(store, scope["units"], baseline, prefix=readiness_prefix)
    readiness = _kpis.tidy(items, "know", None, note="share agreeing (4-5)")
    return pd.concat([known, readiness], ignore_index=True)[KPI_COLUMNS]


def tell(
    store: Store, initiative_id: str, *, item: str = "journey_vision"
) -> pd.DataFrame:
    """Share agreeing with the vision item per unit and month, and its trend.

    The ``<item>_trend`` row is the least-squares slope, in points per month,
    of the monthly share pooled over the shown unit cells, with a t interval.
    """
    scope = _scope(store, initiative_id)
    months = _months_between(store, scope["starts_on"], scope["ends_on"])
    shares = _kpis.item_shares(store, scope["units"], months, prefix=item)
    frame = _kpis.tidy(shares, "tell", None, note=f"share agreeing with {item}")
    trend = _kpis.pooled_trend(shares) if len(shares) else None
    if trend is not None:
        n, beta, low, high = trend
        frame = pd.concat(
            [
                frame,
                _kpis.row(
                    "tell",
                    f"{item}_trend",
                    n=n,
                    value=beta,
                    ci_low=low,
                    ci_high=high,
                    note="points per month",
                ),
            ],
            ignore_index=True,
        )
    return frame[KPI_COLUMNS]


def activate(store: Store, initiative_id: str) -> pd.DataFrame:
    """Participation per unit in Activate activities, and coverage of units.

    ``participation``: participants / eligible employees per unit, Wilson
    interval (units without recorded counts have a null value). ``coverage``:
    share of the initiative's units involved in at least one Activate activity.
    """
    scope = _scope(store, initiative_id)
    acts = scope["activities"]
    chosen = acts.loc[acts["phase"] == "activate", "activity_id"].tolist()
    members = store.table("activity_units")
    members = members.filter(members.activity_id.isin(chosen or [""]))
    per_unit = members.group_by("unit_id").aggregate(
        participants=members.participants.sum(), eligible=members.eligible.sum()
    )
    frame = store.to_pyarrow(per_unit).to_pandas().sort_values("unit_id")
    eligible = frame["eligible"].to_numpy(dtype=float)
    participants = frame["participants"].to_numpy(dtype=float)
    low, high = wilson_interval(participants, eligible)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = 100 * participants / eligible
    rows = pd.DataFrame(
        {
            "phase": "activate",
            "kpi": "participation",
            "unit_id": frame["unit_id"],
            "n": frame["eligible"],
            "value": share,
            "ci_low": 100 * low,
            "ci_high": 100 * high,
            "suppressed": False,
            "note": "participants / eligible",
        }
    )
    total = len(scope["units"])
    covered = frame["unit_id"].nunique()
    low, high = wilson_interval(np.array([covered]), np.array([total]))
    coverage = _kpis.row(
        "activate",
        "coverage",
        n=total,
        value=100 * covered / total,
        ci_low=100 * low[0],
        ci_high=100 * high[0],
        note="share of the initiative's units in an Activate activity",
    )
    return pd.concat([rows, coverage], ignore_index=True)[KPI_COLUMNS]


def reward(store: Store, initiative_id: str, *, months: int = 3) -> pd.DataFrame:
    """Recognitions per unit and their spread; engagement after vs before.

    ``recognitions`` per unit (count over the span); ``recognised_share`` of the
    initiative's units; ``engagement_change``: mean over recognitions of the
    unit's engagement in the `months` after minus the `months` before the
    recognition month (gated unit-month cells), with a t interval.
    """
    scope = _scope(store, initiative_id)
    table = store.table("recognitions")
    table = table.filter(
        table.unit_id.isin(scope["units"])
        & table.period.between(scope["starts_on"], scope["ends_on"])
    )
    records = store.to_pyarrow(table.select("unit_id", "period")).to_pandas()
    counts = records.groupby("unit_id").size().reindex(scope["units"], fill_value=0)
    rows = pd.DataFrame(
        {
            "phase": "reward",
            "kpi": "recognitions",
            "unit_id": counts.index,
            "n": counts.to_numpy(),
            "value": counts.to_numpy(dtype=float),
            "suppressed": False,
            "note": "recognitions in the span",
        }
    )
    share = 100 * (counts > 0).mean()
    parts = [
        rows,
        _kpis.row(
            "reward",
            "recognised_share",
            n=len(counts),
            value=share,
            note="share of units recognised at least once",
        ),
    ]
    if len(records):
        parts.append(_kpis.engagement_change(store, scope["units"], records, months))
    return pd.concat(parts, ignore_index=True)[KPI_COLUMNS]


def listen(store: Store, initiative_id: str, *, rule: PrivacyRule | None = None):
    """Pulse cadence, respondents per month, comment volume and actions closed.

    ``pulses``: employee pulse surveys opening in the span (value: median days
    between them). ``respondents`` per month over the initiative's units.
    ``comments`` per month, counted only where the month's respondents reach
    the comment threshold. ``actions_closed``: share of feedback actions of the
    initiative's units opened in the span that are closed (Wilson interval).
    """
    rule = rule or PrivacyRule()
    scope = _scope(store, initiative_id)
    start, end = scope["starts_on"], scope["ends_on"]
    surveys = store.table("surveys")
    surveys = surveys.filter(
        (surveys.audience == "employee")
        & (surveys.kind == "pulse")
        & (surveys.opens_at.cast("date").between(start, end))
    )
    opens = store.to_pyarrow(surveys.select("opens_at")).to_pandas()["opens_at"]
    gaps = opens.sort_values().diff().dt.days.dropna()
    parts = [
        _kpis.row(
            "listen",
            "pulses",
            n=len(opens),
            value=float(gaps.median()) if len(gaps) else np.nan,
            note="value: median days between pulses",
        )
    ]
    parts.append(_kpis.monthly_voice(store, scope, rule))
    parts.append(_kpis.actions(store, scope))
    return pd.concat(parts, ignore_index=True)[KPI_COLUMNS]


def measure(store: Store, initiative_id: str, **options) -> pd.DataFrame:
    """The linkage engine's estimates (:func:`excx.linkage.link.link`).

    The models need many units and periods, so they run on the whole store, not
    only the initiative's units; the ``note`` says so. `options` pass through
    (``n_boot``, ``level``, ...).
    """
    from excx.linkage.link import link

    _scope(store, initiative_id)
    estimates = link(store, **options).estimates
    frame = estimates.rename(columns={"estimate": "value", "n_units": "n"})
    frame = frame.assign(
        phase="measure",
        kpi=frame["model"] + ":" + frame["term"],
        unit_id=None,
        period=None,
        suppressed=False,
        note=frame["reason"].fillna("whole store: linkage needs every unit"),
    )
    return frame[KPI_COLUMNS]


def _scope(store: Store, initiative_id: str) -> dict:
    from excx.journey.programme import activities, initiatives

    found = initiatives(store)
    found = found[found["initiative_id"] == initiative_id]
    if found.empty:
        raise InputError(f"initiative {initiative_id!r} does not exist")
    acts = activities(store, initiative_id=initiative_id)
    units = sorted({u for text in acts["units"].dropna() for u in text.split(",")})
    if not units:
        raise InputError(f"initiative {initiative_id!r} has no activities with units")
    row = found.iloc[0]
    return {
        "units": units,
        "starts_on": _date(row["starts_on"]),
        "ends_on": _date(row["ends_on"]),
        "activities": acts,
    }


def _date(value) -> dt.date:
    return pd.Timestamp(value).date()


def _employee_months(store: Store) -> pd.Series:
    table = store.table("employee_responses")
    months = table.submitted_at.truncate("M").cast("date").name("period")
    frame = store.to_pyarrow(months.as_table().distinct()).to_pandas()
    return pd.to_datetime(frame["period"]).dt.date.sort_values()


def _months_before(store: Store, start: dt.date) -> list[dt.date]:
    months = _employee_months(store)
    return months[months < start].tolist()


def _months_between(store: Store, start: dt.date, end: dt.date) -> list[dt.date]:
    months = _employee_months(store)
    first = start.replace(day=1)
    return months[(months >= first) & (months <= end)].tolist()
