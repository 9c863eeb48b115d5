"""The synthetic company: its tables, generated month by month, and its truth."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from excx.errors import InputError
from excx.synth import _answers, _latent, _structure
from excx.synth._params import (
    CUSTOMER_ITEMS,
    EMPLOYEE_ITEMS,
    SIZES,
    SynthParams,
)

log = logging.getLogger("excx")

ITEM_TABLES = {
    "employee_responses": "employee_items",
    "customer_responses": "customer_items",
}


@dataclass(frozen=True)
class Truth:
    """What the synthetic company was built to contain.

    Attributes
    ----------
    enps_to_nps
        The true lagged effect: change in a unit's expected NPS in month t (its
        human-served customers) per +1 point of the unit's expected eNPS in month
        t - 1, holding regional affluence fixed. NPS points per eNPS point; the same
        for every unit and month because every link is linear (see
        :mod:`excx.synth`).
    nps_to_revenue_per_customer
        Change in monthly revenue per customer of a branch per +1 point of its
        expected NPS in the same month.
    enps_to_revenue_per_customer
        ``enps_to_nps * nps_to_revenue_per_customer``: revenue per customer in month
        t per +1 eNPS point in month t - 1.
    nps_to_churn_rate
        Change in the monthly churn probability per +1 NPS point (negative).
    expected_nps_by_served_by
        Expected NPS of human-, bot- and self-served customers over the whole
        company (humans at the average unit state).
    affluence
        Region name to its affluence in [-1, 1] (the confounder).
    params
        The parameters as a dict.
    panel
        One row per serving unit and month: ``unit_id, period, affluence,
        engagement, quality, expected_enps, expected_engagement, expected_nps``.
    """

    enps_to_nps: float
    nps_to_revenue_per_customer: float
    enps_to_revenue_per_customer: float
    nps_to_churn_rate: float
    expected_nps_by_served_by: dict[str, float]
    affluence: dict[str, float]
    params: dict
    panel: pa.Table = field(repr=False)


@dataclass
class Company:
    """A synthetic omnichannel bank; build it with :func:`generate`.

    Response tables are generated one month at a time from seeds derived from the
    company seed, so :meth:`months` streams them in bounded memory and
    :attr:`tables` (which holds everything) gives the same rows.
    """

    size: str
    seed: int
    params: SynthParams
    organisation: _structure.Organisation = field(repr=False)
    latent: _latent.Latent = field(repr=False)
    truth: Truth = field(repr=False)
    outcomes: pa.Table = field(repr=False)
    customer_counts: np.ndarray = field(repr=False)

    @property
    def periods(self) -> np.ndarray:
        """First day of each month, as numpy dates."""
        start = np.datetime64(self.params.start, "M")
        return (start + np.arange(self.params.months)).astype("datetime64[D]")

    def months(self) -> Iterator[dict[str, pa.Table]]:
        """Yield, month by month, the *wide* ``employee_responses`` and
        ``customer_responses`` (items as ``item_<item_id>`` columns)."""
        for month in range(self.params.months):
            sequence = np.random.SeedSequence(self.seed, spawn_key=(1, month))
            employee_rng, customer_rng = (
                np.random.default_rng(s) for s in sequence.spawn(2)
            )
            org, latent, params = self.organisation, self.latent, self.params
            yield {
                "employee_responses": _answers.employees(
                    org, latent, params, month, employee_rng
                ),
                "customer_responses": _answers.customers(
                    org,
                    latent,
                    params,
                    month,
                    int(self.customer_counts[month]),
                    customer_rng,
                ),
            }

    @cached_property
    def tables(self) -> dict[str, pa.Table]:
        """Every canonical table, in memory (avoid for ``size="large"``)."""
        parts: dict[str, list[pa.Table]] = {}
        for month in self.months():
            for name, wide in month.items():
                responses, items = split_items(wide)
                parts.setdefault(name, []).append(responses)
                parts.setdefault(ITEM_TABLES[name], []).append(items)
        tables = {name: pa.concat_tables(chunks) for name, chunks in parts.items()}
        return {
            "units": self.organisation.units,
            "surveys": self.surveys(),
            **tables,
            "unit_outcomes": self.outcomes,
        }

    def surveys(self) -> pa.Table:
        """The monthly employee pulses and the transactional customer survey."""
        firsts = [dt.datetime.fromisoformat(str(p)) for p in self.periods]
        lasts = [*firsts[1:], _next_month(firsts[-1])]
        pulses = [_answers.EMPLOYEE_SURVEY.format(month=f"{f:%Y-%m}") for f in firsts]
        return pa.table(
            {
                "survey_id": [*pulses, _answers.CUSTOMER_SURVEY],
                "audience": ["employee"] * len(pulses) + ["customer"],
                "kind": ["pulse"] * len(pulses) + ["transactional"],
                "opens_at": pa.array([*firsts, firsts[0]], pa.timestamp("us")),
                "closes_at": pa.array([*lasts, lasts[-1]], pa.timestamp("us")),
                "questions": [json.dumps(["enps", *EMPLOYEE_ITEMS])] * len(pulses)
                + [json.dumps(["nps", "csat", "ces", *CUSTOMER_ITEMS])],
            }
        )


def split_items(wide: pa.Table) -> tuple[pa.Table, pa.Table]:
    """Split a wide responses table into (responses, long items).

    Every ``item_<item_id>`` column becomes rows ``response_id, item_id, value`` of
    the items table; null answers are left out.

    Examples
    --------
    >>> import pyarrow as pa
    >>> wide = pa.table({"response_id": ["r1", "r2"], "item_pride": [4, None]})
    >>> responses, items = split_items(wide)
    >>> responses.column_names, items.to_pylist()
    (['response_id'], [{'response_id': 'r1', 'item_id': 'pride', 'value': 4}])
    """
    item_columns = [c for c in wide.column_names if c.startswith("item_")]
    responses = wide.drop_columns(item_columns)
    parts = []
    for column in item_columns:
        values = wide.column(column)
        answered = pc.is_valid(values)
        ids = wide.column("response_id").filter(answered)
        parts.append(
            pa.table(
                {
                    "response_id": ids,
                    "item_id": pa.array([column.removeprefix("item_")] * len(ids)),
                    "value": values.filter(answered),
                }
            )
        )
    return responses, pa.concat_tables(parts)


def _next_month(first: dt.datetime) -> dt.datetime:
    year, month0 = divmod(first.month, 12)
    return first.replace(year=first.year + year, month=month0 + 1)


def generate(
    size: str = "small", *, seed: int = 0, params: SynthParams | None = None
) -> Company:
    """Build a synthetic omnichannel bank with a known causal structure.

    Parameters
    ----------
    size
        ``"small"`` (30 units, ~20k customer responses: tests), ``"medium"`` (210
        units, ~1.2M: the demo) or ``"large"`` (1,020 units, ~20M: benchmarks;
        stream it with :func:`write_files` rather than :attr:`Company.tables`).
    seed
        Seed of every random draw; the same seed gives the same company.
    params
        The causal parameters; :class:`SynthParams` defaults when omitted.

    Returns
    -------
    Company
        With ``.tables`` (canonical Arrow tables) and ``.truth`` (:class:`Truth`).

    Notes
    -----
    The structure and the meaning of every parameter are described in
    :mod:`excx.synth`. The true lagged effect is

    .. math:: \\theta = \\frac{\\kappa_c \\beta_{EQ}}{\\kappa_e}

    NPS points per eNPS point, where :math:`\\kappa_c` is ``customer_slope``,
    :math:`\\beta_{EQ}` ``engagement_on_quality`` and :math:`\\kappa_e`
    ``employee_slope`` (eNPS and NPS share one pair of answer distributions).

    Examples
    --------
    >>> from excx.synth import generate
    >>> company = generate("small", seed=1)
    >>> round(company.truth.enps_to_nps, 3)
    0.514
    >>> company.tables["customer_responses"].num_rows > 15_000
    True
    """
    if size not in SIZES:
        raise InputError(f"size {size!r} is not known; accepted: {', '.join(SIZES)}")
    params = params or SynthParams()
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0,)))

    organisation = _structure.build(SIZES[size], params, rng)
    latent = _latent.simulate(organisation, params, rng)
    start = np.datetime64(params.start, "M")
    periods = (start + np.arange(params.months)).astype("datetime64[D]")
    panel = _latent.expected_panel(organisation, latent, params, periods)
    outcomes = _latent.outcomes(organisation, panel, params, rng)
    counts = rng.poisson(SIZES[size].customer_responses / params.months, params.months)

    log.info(
        "synthetic %s bank: %d serving units, seed %d",
        size,
        len(organisation.unit_id),
        seed,
    )
    truth = _truth(params, organisation, latent, panel)
    return Company(size, seed, params, organisation, latent, truth, outcomes, counts)


def _truth(params, organisation, latent, panel) -> Truth:
    enps_to_nps = (
        params.customer_slope * params.engagement_on_quality * params.nps_per_weight
    ) / (params.employee_slope * params.enps_per_weight)
    human = float(np.mean(panel.column("expected_nps").to_numpy()))
    return Truth(
        enps_to_nps=enps_to_nps,
        nps_to_revenue_per_customer=params.revenue_per_nps_point,
        enps_to_revenue_per_customer=enps_to_nps * params.revenue_per_nps_point,
        nps_to_churn_rate=-params.churn_per_nps_point,
        expected_nps_by_served_by={
            "human": human,
            "bot": float(params.nps_at(params.bot_weight)),
            "self_service": float(params.nps_at(params.self_service_weight)),
        },
        affluence=dict(
            zip(organisation.region_names, organisation.affluence.tolist(), strict=True)
        ),
        params=params.as_dict(),
        panel=panel,
    )
