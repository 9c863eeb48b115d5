"""The report's journey page: the six phases, their status and KPIs, effects, maturity.

Every figure comes from :mod:`excx.journey`: phase KPIs from
:func:`excx.journey.phases.phase_kpis` (employee figures already through the
privacy gate, hidden cells shown as suppressed), effects from
:func:`excx.journey.did.did` (which refuses, with a reason, when the treated
units are too few to show), the maturity profile from
:func:`excx.journey.maturity.score`. This module only lays them out; the page
opens offline with the vendored Vega scripts.

>>> import pandas as pd
>>> acts = pd.DataFrame({"phase": ["know", "know", "tell"],
...                      "status": ["done", "done", "planned"]})
>>> phase_status(acts)[["phase", "activities", "status"]].head(3).values.tolist()
[['know', 2, 'done'], ['tell', 1, 'planned'], ['activate', 0, 'not started']]
"""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from collections.abc import Sequence
from html import escape
from pathlib import Path

import altair as alt
import pandas as pd

from excx.errors import ExcxWarning, InputError, PrivacyError
from excx.journey import maturity, programme
from excx.report.page import html_table, number, text, value_cell, write_page
from excx.schema import ACTIVITY_STATUSES, PHASES
from excx.store import Store

__all__ = [
    "phase_status",
    "activity_effects",
    "latest_maturity",
    "event_study_chart",
    "write_journey_page",
]

log = logging.getLogger("excx")

EFFECT_COLUMNS = ["activity_id", "name", "outcome", "term", "relative_period"]
EFFECT_COLUMNS += ["estimate", "ci_low", "ci_high", "p_value", "n_units", "n_treated"]


def phase_status(activities: pd.DataFrame) -> pd.DataFrame:
    """One row per phase: activities counted by status, and the phase's status.

    Returns
    -------
    pandas.DataFrame
        ``phase, activities`` (cancelled ones left out), one count column per
        status, and ``status``: ``done`` when every activity is done, ``planned``
        when none has started, ``active`` otherwise, ``not started`` without
        activities.
    """
    live = activities[activities["status"] != "cancelled"]
    counts = pd.crosstab(live["phase"], live["status"]).reindex(
        index=list(PHASES), columns=list(ACTIVITY_STATUSES), fill_value=0
    )
    counts = counts.fillna(0).astype(int)
    total = counts[["planned", "active", "done"]].sum(axis=1)
    status = pd.Series("active", index=counts.index)
    status[counts["done"] == total] = "done"
    status[counts["planned"] == total] = "planned"
    status[total == 0] = "not started"
    frame = counts.assign(activities=total, status=status).reset_index()
    return frame.rename(columns={"index": "phase"})[
        ["phase", "activities", *ACTIVITY_STATUSES, "status"]
    ]


def activity_effects(
    store: Store,
    initiative_id: str,
    *,
    outcomes: Sequence[str] = ("enps", "nps"),
    period: str = "month",
    level: float = 0.95,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """DiD effect and event study of every activity of an initiative.

    The unit × period panel is built once and passed to
    :func:`excx.journey.did.did` for each activity (not cancelled) and outcome.

    Returns
    -------
    effects, notes
        ``effects``: columns ``EFFECT_COLUMNS``, term ``did`` (the effect) and
        ``event`` rows. ``notes``: ``activity_id, name, outcome, note``, why an
        activity has no result (the library's message) or its warnings.
    """
    from excx.journey.did import did
    from excx.linkage.panel import panel

    acts = programme.activities(store, initiative_id=initiative_id)
    acts = acts[acts["status"] != "cancelled"]
    cells = panel(store, period=period) if len(acts) else None
    effects, notes = [], []
    for act in acts.itertuples(index=False):
        design = {"units": (act.units or "").split(","), "starts_on": act.starts_on}
        label = {"activity_id": act.activity_id, "name": act.name}
        for outcome in outcomes:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ExcxWarning)
                try:
                    result = did(cells, design, outcome=outcome, level=level)
                except (InputError, PrivacyError) as exc:
                    notes.append(label | {"outcome": outcome, "note": str(exc)})
                    continue
            effects.append(result.to_frame().assign(**label, outcome=outcome))
            notes += [
                label | {"outcome": outcome, "note": str(w.message)}
                for w in caught
                if issubclass(w.category, ExcxWarning)
            ]
    effects = pd.concat(effects, ignore_index=True) if effects else pd.DataFrame()
    notes_columns = ["activity_id", "name", "outcome", "note"]
    return effects.reindex(columns=EFFECT_COLUMNS), pd.DataFrame(
        notes, columns=notes_columns
    )


def latest_maturity(store: Store) -> tuple[str | None, pd.DataFrame | None]:
    """The most recent stored maturity assessment and its profile (None, None
    without one). Ties on the day go to the largest assessment id."""
    table = store.table("maturity_answers")
    latest = (
        table.select("assessment_id", "answered_on")
        .distinct()
        .order_by([table.answered_on.desc(), table.assessment_id.desc()])
        .limit(1)
    )
    found = store.to_pyarrow(latest).to_pylist()
    if not found:
        return None, None
    assessment_id = found[0]["assessment_id"]
    return assessment_id, maturity.score(maturity.answers_of(store, assessment_id))


def event_study_chart(rows: pd.DataFrame, *, title: str, level: float = 0.95):
    """Event-study estimates by period relative to the start, with intervals."""
    rows = rows[["relative_period", "estimate", "ci_low", "ci_high"]]
    base = alt.Chart(rows, title=alt.Title(title, subtitle=f"{level:.0%} intervals"))
    base = base.encode(x=alt.X("relative_period:Q", title="periods from the start"))
    whiskers = base.mark_rule(color="#333").encode(
        y=alt.Y("ci_low:Q", title="effect (points)"), y2="ci_high:Q"
    )
    dots = base.mark_point(filled=True, color="#1b6ca8").encode(
        y="estimate:Q",
        tooltip=[
            "relative_period:Q",
            alt.Tooltip("estimate:Q", format=".2f"),
            alt.Tooltip("ci_low:Q", format=".2f"),
            alt.Tooltip("ci_high:Q", format=".2f"),
        ],
    )
    zero = alt.Chart(pd.DataFrame({"y": [0]})).mark_rule(strokeDash=[4, 4])
    return alt.layer(zero.encode(y="y:Q"), whiskers, dots).properties(
        width=380, height=200
    )


def write_journey_page(
    store: Store,
    initiative_id: str,
    out: str | Path,
    *,
    outcomes: Sequence[str] = ("enps", "nps"),
    level: float = 0.95,
    effects: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> Path:
    """Write ``out/journey.html`` for one initiative (and ``out/vendor/``).

    Parameters
    ----------
    store
        The open store.
    initiative_id
        The initiative shown.
    out
        Folder of the report (created if missing); the Vega scripts are copied
        into ``out/vendor/`` unless already there.
    outcomes
        Outcomes of the DiD per activity (``enps``, ``nps``).
    level
        Confidence level of the event-study intervals.
    effects
        :func:`activity_effects` of the initiative when already computed
        (`outcomes` and `level` are then theirs).

    Returns
    -------
    pathlib.Path
        The page written.

    Raises
    ------
    InputError
        When the initiative does not exist or has no activities with units.

    Examples
    --------
    >>> import excx, tempfile, pyarrow as pa
    >>> store = excx.connect("duckdb://:memory:"); store.init()
    >>> store.write({"units": pa.table({"unit_id": ["b1"], "name": ["B1"],
    ...                                 "kind": ["branch"]})})
    >>> crm = programme.add_initiative(store, name="CRM", starts_on="2025-01-01",
    ...                                ends_on="2025-12-31")
    >>> _ = programme.add_activity(store, crm, phase="tell", name="Town hall",
    ...     units=["b1"], starts_on="2025-02-03", ends_on="2025-02-03", status="done")
    >>> page = write_journey_page(store, crm, tempfile.mkdtemp())
    >>> 'data-phase="tell" data-status="done"' in page.read_text()
    True
    """
    from excx.journey.phases import phase_kpis

    found = programme.initiatives(store)
    found = found[found["initiative_id"] == initiative_id]
    if found.empty:
        raise InputError(f"initiative {initiative_id!r} does not exist")
    initiative = found.iloc[0]
    acts = programme.activities(store, initiative_id=initiative_id)
    kpis = phase_kpis(store, initiative_id)
    effects, notes = effects or activity_effects(
        store, initiative_id, outcomes=outcomes, level=level
    )
    assessment_id, profile = latest_maturity(store)

    specs = {}
    for i, ((activity_id, outcome), rows) in enumerate(
        effects[effects["term"] == "event"].groupby(["activity_id", "outcome"])
    ):
        name = rows["name"].iloc[0]
        title = f"{name} ({activity_id}): {outcome}"
        specs[f"event-{i}"] = event_study_chart(rows, title=title, level=level)
    fields = {
        "title": escape(f"{initiative['name']} ({initiative_id})"),
        "meta": escape(_meta(store, initiative)),
        "phases": _phases(phase_status(acts), acts),
        "kpis": _kpi_sections(kpis),
        "effects_table": _effects_table(effects, notes, level),
        "event_divs": "".join(f'<div id="{key}"></div>' for key in specs),
        "maturity": _maturity(assessment_id, profile),
    }
    page = write_page(out, "journey.html", fields, specs)
    log.info("wrote journey page %s", page)
    return page


def _meta(store: Store, initiative) -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    span = f"{str(initiative['starts_on'])[:10]} to {str(initiative['ends_on'])[:10]}"
    owner = f", owner {initiative['owner']}" if initiative["owner"] else ""
    return f"{span}{owner}. Generated {now} from a {store.backend} store."


def _phases(status: pd.DataFrame, acts: pd.DataFrame) -> str:
    """Six cards: each phase's status and its activities."""
    cards = []
    for row in status.itertuples(index=False):
        items = "".join(
            f'<li>{escape(a.name)} <span class="status">{escape(a.status)}</span>'
            f"<br><small>{str(a.starts_on)[:10]} to {str(a.ends_on)[:10]}, "
            f'<span title="{text(a.units)}">{_count_units(a.units)}</span></small>'
            "</li>"
            for a in acts[acts["phase"] == row.phase].itertuples(index=False)
        )
        cards.append(
            f'<div class="phase" data-phase="{row.phase}" data-status="{row.status}">'
            f'<h3>{row.phase.capitalize()} <span class="status">{row.status}</span>'
            f"</h3><ul>{items}</ul></div>"
        )
    return "\n".join(cards)


def _count_units(units) -> str:
    count = len([u for u in str(units or "").split(",") if u])
    return f"{count} unit{'s' if count != 1 else ''}"


def _kpi_sections(kpis: pd.DataFrame) -> str:
    """One table per phase with KPIs; each KPI's note said once, below it."""
    parts = []
    for phase in PHASES:
        rows = kpis[kpis["phase"] == phase]
        if rows.empty:
            continue
        notes = rows[["kpi", "note"]].dropna().drop_duplicates()
        said = "".join(
            f"<li><b>{text(n.kpi)}</b>: {text(n.note)}</li>"
            for n in notes.itertuples(index=False)
        )
        parts.append(
            f'<section class="phase-kpis" data-phase="{phase}">'
            f"<h3>{phase.capitalize()}</h3>{_kpi_table(rows)}"
            f'<ul class="notes meta">{said}</ul></section>'
        )
    return "\n".join(parts) or "<p>No KPI from the data yet.</p>"


def _kpi_table(kpis: pd.DataFrame) -> str:
    rows = []
    for k in kpis.itertuples(index=False):
        interval = ""
        if not (k.suppressed or pd.isna(k.ci_low)):
            interval = f"{number(k.ci_low)} to {number(k.ci_high)}"
        period = "" if k.period is None or pd.isna(k.period) else str(k.period)[:10]
        rows.append(
            f'<tr data-kpi="{text(k.kpi)}" data-unit="{text(k.unit_id)}">'
            f"<td>{text(k.kpi)}</td><td>{text(k.unit_id)}</td><td>{period}</td>"
            f"<td>{number(k.n, 0)}</td>{value_cell(k.value, suppressed=k.suppressed)}"
            f"<td>{interval}</td></tr>"
        )
    header = ("KPI", "unit", "period", "n", "value", "interval")
    return html_table(header, rows, css="kpis")


def _effects_table(effects: pd.DataFrame, notes: pd.DataFrame, level: float) -> str:
    rows = []
    for e in effects[effects["term"] == "did"].itertuples(index=False):
        rows.append(
            f'<tr data-activity="{escape(e.activity_id)}" data-outcome="{e.outcome}">'
            f"<td>{escape(e.name)}</td><td>{e.outcome}</td>{value_cell(e.estimate)}"
            f"<td>{number(e.ci_low)} to {number(e.ci_high)}</td>"
            f"<td>{number(e.p_value, 3)}</td>"
            f"<td>{e.n_treated} of {e.n_units}</td></tr>"
        )
    table = html_table(
        ("activity", "outcome", "effect", f"{level:.0%} interval", "p", "units"),
        rows,
        css="effects",
    )
    if effects.empty:
        table = "<p>No activity has a difference-in-differences result.</p>"
    items = "".join(
        f"<li><b>{escape(n.name)}</b>, {n.outcome}: {escape(n.note)}</li>"
        for n in notes.itertuples(index=False)
    )
    return table + (f'<ul class="notes">{items}</ul>' if items else "")


def _maturity(assessment_id: str | None, profile: pd.DataFrame | None) -> str:
    if profile is None:
        return "<p>No maturity assessment stored.</p>"
    rows = [
        f'<tr data-dimension="{p.dimension}"><td>{p.priority}</td>'
        f"<td>{escape(p.label)}</td><td>{p.n}</td>{value_cell(p.value)}"
        f"<td>{escape(p.recommendation) if p.priority == 1 else ''}</td></tr>"
        for p in profile.itertuples(index=False)
    ]
    header = ("priority", "prerequisite", "answers", "score (0-100)", "do first")
    return f'<p class="meta">Assessment {escape(assessment_id)}</p>' + html_table(
        header, rows, css="maturity"
    )
