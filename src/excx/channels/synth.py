"""Interaction logs for the synthetic bank, with a set bot-to-human hand-off cost.

:func:`interactions` turns each customer response of a
:class:`excx.synth.Company` into the journey that led to it:

- human-served answers: the human contact at the answer's unit, preceded with
  probability ``handoff_share`` by a bot chat 10 minutes earlier (a hand-off);
  otherwise, with probability 0.2, by a visit to a branch of the same region
  (drawn at random, possibly the same one) two days earlier, so that journeys
  span units; and with probability 0.3 by a self-service web visit a day
  earlier;
- bot-served and self-service answers: that one contact.

The hand-off cost is set exactly in expectation: a hand-off journey's NPS answer
is replaced by 0 with probability ``p = cost / (100 + E[u,t])``, where E is the
unit's expected human-served NPS that month (``company.truth.panel``); a 0 scores
−100, so the expected NPS becomes ``(1 − p) E − 100 p = E − cost``. Whether a
journey had a hand-off is drawn independently of everything else, so the cost
does not depend on unit engagement (the true ``handoff_x_enps`` is 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from excx.errors import InputError

__all__ = ["HandoffTruth", "interactions"]


@dataclass(frozen=True)
class HandoffTruth:
    """What :func:`interactions` set: the NPS cost of a bot-to-human hand-off
    (points, positive = loss) and the share of human journeys with one."""

    handoff_cost: float
    handoff_share: float
    handoff_x_enps: float = 0.0


def interactions(
    company,
    *,
    handoff_cost: float = 15.0,
    handoff_share: float = 0.3,
    seed: int = 0,
    responses: pa.Table | None = None,
) -> tuple[dict[str, pa.Table], HandoffTruth]:
    """The company's interaction log and answers with a set hand-off cost.

    `responses` are the customer answers to start from (default: the
    company's own), for example those :func:`excx.journey.synth.programme`
    returns with an activity's effect.

    Returns
    -------
    tables, truth
        ``interactions`` and ``customer_responses`` (the company's, with the
        hand-off cost applied: write it instead of the company's own), and a
        :class:`HandoffTruth`.

    Examples
    --------
    >>> from excx.synth import generate
    >>> tables, truth = interactions(generate("small", seed=0), handoff_cost=15)
    >>> truth.handoff_cost, tables["interactions"].num_rows > 20_000
    (15.0, True)
    """
    if not 0 < handoff_share < 1:
        raise InputError(f"handoff_share={handoff_share}; accepted: between 0 and 1")
    if not 0 <= handoff_cost < 100:
        raise InputError(f"handoff_cost={handoff_cost}; accepted: 0 to under 100")
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(11,)))
    if responses is None:
        responses = company.tables["customer_responses"]
    answers = responses.select(
        ["response_id", "submitted_at", "channel", "served_by", "unit_id"]
    ).to_pandas()
    human = (answers["served_by"] == "human").to_numpy()
    handoff = human & (rng.random(len(answers)) < handoff_share)
    other_branch = human & ~handoff & (rng.random(len(answers)) < 0.2)
    web_first = human & (rng.random(len(answers)) < 0.3)

    units = company.organisation.units.to_pandas()
    events = [_final_steps(answers)]
    events.append(_bot_steps(answers[handoff]))
    events.append(_branch_steps(answers[other_branch], units, rng))
    events.append(_web_steps(answers[web_first]))
    log = pd.concat(events, ignore_index=True)
    log = log.sort_values(["customer_ref", "occurred_at"], ignore_index=True)

    scored = _apply_cost(responses, answers, company, handoff, handoff_cost, rng)
    tables = {
        "interactions": pa.Table.from_pandas(log, preserve_index=False),
        "customer_responses": scored,
    }
    return tables, HandoffTruth(float(handoff_cost), float(handoff_share))


def _event_frame(answers, occurred_at, channel, served_by, unit_id, response_id):
    return pd.DataFrame(
        {
            "customer_ref": "c-" + answers["response_id"],
            "occurred_at": occurred_at,
            "channel": channel,
            "unit_id": unit_id,
            "served_by": served_by,
            "response_id": response_id,
        }
    )


def _final_steps(answers: pd.DataFrame) -> pd.DataFrame:
    """The contact each answer is about, an hour before the answer."""
    return _event_frame(
        answers,
        answers["submitted_at"] - pd.Timedelta(hours=1),
        answers["channel"],
        answers["served_by"],
        answers["unit_id"],
        answers["response_id"],
    )


def _bot_steps(answers: pd.DataFrame) -> pd.DataFrame:
    return _event_frame(
        answers,
        answers["submitted_at"] - pd.Timedelta(minutes=70),
        "chatbot",
        "bot",
        None,
        None,
    )


def _web_steps(answers: pd.DataFrame) -> pd.DataFrame:
    return _event_frame(
        answers,
        answers["submitted_at"] - pd.Timedelta(days=1, hours=1),
        "web",
        "self_service",
        None,
        None,
    )


def _branch_steps(answers, units, rng) -> pd.DataFrame:
    """A visit to a random branch of the answer's region, two days earlier."""
    branches = units[units["kind"] == "branch"]
    region_of = units.set_index("unit_id")["region"]
    regions = region_of.reindex(answers["unit_id"]).to_numpy()
    chosen = []
    for region, index in pd.Series(range(len(answers))).groupby(regions):
        pool = branches.loc[branches["region"] == region, "unit_id"].to_numpy()
        chosen.append(pd.Series(rng.choice(pool, len(index)), index=index.to_numpy()))
    unit = pd.concat(chosen).sort_index().to_numpy() if chosen else []
    return _event_frame(
        answers,
        answers["submitted_at"] - pd.Timedelta(days=2, hours=1),
        "store",
        "human",
        unit,
        None,
    )


def _apply_cost(responses, answers, company, handoff, cost, rng) -> pa.Table:
    expected = company.truth.panel.to_pandas()[["unit_id", "period", "expected_nps"]]
    expected["period"] = pd.to_datetime(expected["period"])
    month = answers["submitted_at"].dt.to_period("M").dt.to_timestamp()
    base = (
        pd.DataFrame({"unit_id": answers["unit_id"], "period": month})
        .merge(expected, on=["unit_id", "period"], how="left")["expected_nps"]
        .to_numpy(dtype=float)
    )
    nps = responses.column("nps")
    missing = nps.is_null().to_numpy(zero_copy_only=False)
    with np.errstate(invalid="ignore"):
        probability = np.where(handoff, cost / (100 + base), 0.0)
    replace = handoff & ~missing & (rng.random(len(answers)) < probability)
    values = np.where(replace, 0, nps.fill_null(0).to_numpy(zero_copy_only=False))
    index = responses.schema.get_field_index("nps")
    return responses.set_column(
        index, "nps", pa.array(values, pa.int16(), mask=missing)
    )
