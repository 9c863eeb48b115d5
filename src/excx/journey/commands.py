"""``excx journey …``: the programme, its effects and maturity from the terminal.

A thin shell over :mod:`excx.journey`. Importing this module adds the ``journey``
sub-app to :data:`excx.cli.app` (``excx.cli`` imports it at its end).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

import excx
from excx.cli import StoreOption, app, console, err_console, known_errors
from excx.errors import ExcxWarning, InputError
from excx.journey import maturity, programme
from excx.journey._display import print_frame

journey_app = typer.Typer(
    no_args_is_help=True,
    help="The Employee Engagement Journey: initiatives, activities, effects.",
)

UnitsOption = Annotated[
    list[str] | None, typer.Option("--unit", help="A unit_id involved (repeatable).")
]


@journey_app.command("add-initiative")
@known_errors
def add_initiative(
    name: Annotated[str, typer.Argument(help="Title, e.g. 'New omnichannel CRM'.")],
    starts_on: Annotated[str, typer.Option(help="First day, YYYY-MM-DD.")],
    ends_on: Annotated[str, typer.Option(help="Last day, YYYY-MM-DD.")],
    owner: Annotated[str | None, typer.Option(help="Who answers for it.")] = None,
    initiative_id: Annotated[str | None, typer.Option("--id", help="Own id.")] = None,
    store: StoreOption = None,
) -> None:
    """Add an initiative."""
    with excx.connect(store) as opened:
        made = programme.add_initiative(
            opened,
            name=name,
            starts_on=starts_on,
            ends_on=ends_on,
            owner=owner,
            initiative_id=initiative_id,
        )
    console.print(f"initiative {made} added")


@journey_app.command("add-activity")
@known_errors
def add_activity(
    initiative_id: Annotated[str, typer.Argument(help="The initiative's id.")],
    phase: Annotated[
        str, typer.Option(help="know, tell, activate, reward, listen, measure.")
    ],
    name: Annotated[str, typer.Option(help="What the activity is.")],
    starts_on: Annotated[str, typer.Option(help="First day, YYYY-MM-DD.")],
    ends_on: Annotated[str, typer.Option(help="Last day, YYYY-MM-DD.")],
    unit: UnitsOption = None,
    owner: Annotated[str | None, typer.Option(help="Who runs it.")] = None,
    status: Annotated[str, typer.Option(help="planned, active, done, cancelled.")] = (
        "planned"
    ),
    evidence: Annotated[str | None, typer.Option(help="Link or note.")] = None,
    activity_id: Annotated[str | None, typer.Option("--id", help="Own id.")] = None,
    store: StoreOption = None,
) -> None:
    """Add an activity of one phase, with the units involved."""
    with excx.connect(store) as opened:
        made = programme.add_activity(
            opened,
            initiative_id,
            phase=phase,
            name=name,
            units=unit or [],
            starts_on=starts_on,
            ends_on=ends_on,
            owner=owner,
            status=status,
            evidence=evidence,
            activity_id=activity_id,
        )
    console.print(f"activity {made} added with {len(set(unit or []))} unit(s)")


@journey_app.command()
@known_errors
def recognise(
    unit_id: Annotated[str, typer.Argument(help="The unit recognised.")],
    period: Annotated[str, typer.Option(help="A day of the month, YYYY-MM-DD.")],
    kind: Annotated[str, typer.Option(help="award, bonus, thanks, ...")],
    activity: Annotated[str | None, typer.Option(help="Related activity id.")] = None,
    note: Annotated[str | None, typer.Option(help="Free text.")] = None,
    store: StoreOption = None,
) -> None:
    """Record a recognition of a unit (Reward phase)."""
    with excx.connect(store) as opened:
        made = programme.recognise(
            opened,
            unit_id=unit_id,
            period=period,
            kind=kind,
            activity_id=activity,
            note=note,
        )
    console.print(f"recognition {made} recorded")


@journey_app.command("add-action")
@known_errors
def add_action(
    unit_id: Annotated[str, typer.Argument(help="The unit the action is for.")],
    description: Annotated[str, typer.Option(help="What was done.")],
    opened_on: Annotated[str, typer.Option(help="YYYY-MM-DD.")],
    closed_on: Annotated[str | None, typer.Option(help="YYYY-MM-DD.")] = None,
    store: StoreOption = None,
) -> None:
    """Record an action taken on employee feedback (Listen phase)."""
    with excx.connect(store) as opened:
        made = programme.add_action(
            opened,
            unit_id=unit_id,
            description=description,
            opened_on=opened_on,
            closed_on=closed_on,
        )
    console.print(f"action {made} recorded")


@journey_app.command("list")
@known_errors
def list_(
    initiative: Annotated[
        str | None, typer.Option(help="Only this initiative.")
    ] = None,
    store: StoreOption = None,
) -> None:
    """List initiatives and their activities, phase by phase."""
    with excx.connect(store) as opened:
        initiatives = programme.initiatives(opened)
        activities = programme.activities(opened, initiative_id=initiative)
    if initiative is not None:
        initiatives = initiatives[initiatives["initiative_id"] == initiative]
    columns = ["initiative_id", "name", "starts_on", "ends_on", "activities", "units"]
    print_frame(initiatives[columns], "Initiatives")
    columns = [
        "activity_id",
        "initiative_id",
        "phase",
        "name",
        "status",
        "starts_on",
        "ends_on",
        "units",
    ]
    print_frame(activities[columns], "Activities")


@journey_app.command()
@known_errors
def kpis(
    initiative_id: Annotated[str, typer.Argument(help="The initiative.")],
    phase: Annotated[str | None, typer.Option(help="Only this phase.")] = None,
    measure: Annotated[
        bool, typer.Option(help="Also run the linkage models (slow).")
    ] = False,
    store: StoreOption = None,
) -> None:
    """Each phase's KPIs for an initiative, from the data."""
    from excx.journey.phases import phase_kpis

    with excx.connect(store) as opened:
        frame = phase_kpis(
            opened,
            initiative_id,
            phases=[phase] if phase else None,
            include_measure=measure,
        )
    shown = frame.drop(columns=["note"]).assign(
        suppressed=frame["suppressed"].map({True: "hidden", False: ""})
    )
    print_frame(shown, f"Phase KPIs of {initiative_id}")


@journey_app.command("did")
@known_errors
def did_(
    activity_id: Annotated[str, typer.Argument(help="The activity to evaluate.")],
    outcome: Annotated[str, typer.Option(help="enps or nps.")] = "enps",
    window: Annotated[int | None, typer.Option(help="Periods each side.")] = None,
    period: Annotated[str, typer.Option(help="month or quarter.")] = "month",
    level: Annotated[float, typer.Option(help="Interval level.")] = 0.95,
    store: StoreOption = None,
) -> None:
    """Did the activity move eNPS or NPS? Difference-in-differences, event study."""
    from excx.journey.did import did

    with excx.connect(store) as opened, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ExcxWarning)
        result = did(
            opened,
            activity_id,
            outcome=outcome,
            window=window,
            period=period,
            level=level,
        )
    print_frame(
        result.to_frame().drop(columns=["n_units", "n_treated", "n_periods"]),
        f"{outcome} effect of {activity_id} ({level:.0%} intervals)",
    )
    row = result.effect.iloc[0]
    console.print(
        f"{int(row['n_treated'])} treated of {int(row['n_units'])} units over "
        f"{int(row['n_periods'])} periods; pre-trend p = "
        f"{result.pretrend['p_value'].iloc[0]:.3g}"
    )
    for warning in caught:
        if issubclass(warning.category, ExcxWarning):
            err_console.print(
                f"[yellow]{warning.category.__name__}[/]: {warning.message}"
            )


@journey_app.command("maturity")
@known_errors
def maturity_(
    answers: Annotated[
        Path | None, typer.Argument(help="CSV with item_id,value columns.")
    ] = None,
    answer: Annotated[
        list[str] | None, typer.Option(help="item_id=value (repeatable).")
    ] = None,
    save: Annotated[bool, typer.Option(help="Store the answers.")] = False,
    assessment: Annotated[str | None, typer.Option(help="Read a stored one.")] = None,
    store: StoreOption = None,
) -> None:
    """Score the maturity questionnaire and say what to do first."""
    pairs = {}
    for text in answer or []:
        item, _, value = text.partition("=")
        if not value.strip().lstrip("-").isdigit():
            raise InputError(f"--answer {text!r}: give item_id=value, value 1..5")
        pairs[item.strip()] = int(value)
    if answers is not None:
        if not answers.exists():
            raise InputError(f"{answers}: no such file")
        frame = pd.read_csv(answers)
        pairs |= dict(
            zip(frame.get("item_id", []), frame.get("value", []), strict=True)
        )
    if assessment is not None or save:
        with excx.connect(store) as opened:
            if save:
                assessment = maturity.record(opened, pairs, assessment_id=assessment)
                console.print(f"assessment {assessment} stored")
            else:
                pairs = maturity.answers_of(opened, assessment)
    if not len(pairs):
        raise InputError(
            f"no answers: give a CSV, --answer item_id=value or --assessment; items: "
            f"{', '.join(maturity.ITEMS)}"
        )
    profile = maturity.score(pairs)
    print_frame(profile[["priority", "label", "n", "value"]], "Readiness (0-100)")
    first = profile.iloc[0]
    console.print(f"[bold]First:[/] {first['label']}: {first['recommendation']}")


app.add_typer(journey_app, name="journey")
