"""The latent unit x month states and what they imply in expectation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from excx.synth._params import SynthParams, answer_distributions
from excx.synth._structure import CUSTOMERS_PER_EMPLOYEE, Organisation

ENGAGEMENT_BOUND = 3.0
MANAGER_SHARE = 0.08


@dataclass(frozen=True)
class Latent:
    """Latent states, shape (units, months + 1); column 0 is the unobserved month -1.

    Attributes
    ----------
    engagement
        E[u, t]: unit mean engagement plus an AR(1) deviation, clipped to [-3, 3].
    quality
        Q[u, t] = engagement_on_quality * E[u, t] + quality_noise * eta[u, t].
    """

    engagement: np.ndarray
    quality: np.ndarray


def simulate(
    org: Organisation, params: SynthParams, rng: np.random.Generator
) -> Latent:
    """Draw E and Q for every serving unit and month (loop over months only)."""
    n_units, n_months = len(org.unit_id), params.months + 1
    unit_mean = (
        params.affluence_on_engagement * org.unit_affluence
        + params.unit_engagement_sd * rng.standard_normal(n_units)
    )
    phi, sd = params.engagement_ar, params.engagement_sd
    deviation = np.empty((n_units, n_months))
    deviation[:, 0] = sd * rng.standard_normal(n_units)
    innovation_sd = sd * np.sqrt(1 - phi**2)
    for t in range(1, n_months):
        deviation[:, t] = phi * deviation[:, t - 1] + innovation_sd * (
            rng.standard_normal(n_units)
        )
    engagement = np.clip(
        unit_mean[:, None] + deviation, -ENGAGEMENT_BOUND, ENGAGEMENT_BOUND
    )

    # Uniform noise of unit variance keeps Q bounded, so no weight is ever clipped.
    eta = rng.uniform(-np.sqrt(3), np.sqrt(3), (n_units, n_months))
    quality = params.engagement_on_quality * engagement + params.quality_noise * eta
    return Latent(engagement, quality)


def employee_weight(params: SynthParams, engagement, is_manager=0.0):
    """Mixing weight of an employee's answers."""
    return (
        params.employee_weight
        + params.employee_slope * engagement
        + params.manager_shift * is_manager
    )


def customer_weight(params: SynthParams, quality_before, affluence, is_store):
    """Mixing weight of a human-served customer's NPS, CSAT and CES answers."""
    return (
        params.customer_weight
        + params.store_shift * is_store
        + params.customer_slope
        * (quality_before + params.affluence_on_customers * affluence)
    )


def item_weight(params: SynthParams, quality_before, is_store):
    """Mixing weight of a human-served customer's service-quality items.

    Items measure the service only: regional affluence does not enter.
    """
    return (
        params.customer_weight
        + params.store_shift * is_store
        + params.customer_slope * quality_before
    )


def expected_panel(
    org: Organisation, latent: Latent, params: SynthParams, periods: np.ndarray
) -> pa.Table:
    """Unit x month table of latent states and expected unit scores.

    ``expected_nps`` at month t is the expected NPS of the unit's human-served
    customers at t (it depends on Q at t - 1); ``expected_enps`` and
    ``expected_engagement`` are the expected answers of the unit's employees at t,
    at the pulse's role mix (8% managers).
    """
    n_units = len(org.unit_id)
    engagement = latent.engagement[:, 1:]
    quality = latent.quality[:, 1:]
    quality_before = latent.quality[:, :-1]
    affluence = org.unit_affluence[:, None]

    w_employee = employee_weight(params, engagement, MANAGER_SHARE)
    w_customer = customer_weight(
        params, quality_before, affluence, org.is_branch[:, None]
    )
    low, high = (dist @ np.arange(1, 6) for dist in answer_distributions("five"))
    engagement_index = 100 * ((low + w_employee * (high - low)) - 1) / 4

    def flat(values):
        return np.asarray(np.broadcast_to(values, engagement.shape)).ravel()

    return pa.table(
        {
            "unit_id": flat(org.unit_id[:, None]),
            "period": pa.array(np.tile(periods, n_units)),
            "affluence": flat(affluence),
            "engagement": flat(engagement),
            "quality": flat(quality),
            "expected_enps": flat(params.nps_at(w_employee)),
            "expected_engagement": flat(engagement_index),
            "expected_nps": flat(params.nps_at(w_customer)),
        }
    )


def outcomes(
    org: Organisation, panel: pa.Table, params: SynthParams, rng: np.random.Generator
) -> pa.Table:
    """Monthly revenue, customers and churn of each branch, driven by expected NPS.

    customers ~ Poisson(300 x headcount); churned ~ Binomial(customers, churn_rate -
    churn_per_nps_point x NPS); revenue = customers x (revenue_per_customer x (1 +
    affluence_on_revenue x affluence) + revenue_per_nps_point x NPS) x a mean-one
    log-normal factor (sd 3%). Contact-centre teams own no customers: no rows.
    """
    months = params.months
    branch_rows = np.repeat(org.is_branch, months)
    branch_panel = panel.filter(pa.array(branch_rows))
    nps = branch_panel.column("expected_nps").to_numpy()
    affluence = branch_panel.column("affluence").to_numpy()
    book = np.repeat(org.headcount[org.is_branch] * CUSTOMERS_PER_EMPLOYEE, months)

    customers = rng.poisson(book)
    churn = np.clip(params.churn_rate - params.churn_per_nps_point * nps, 0, 1)
    churned = rng.binomial(customers, churn)
    per_customer = (
        params.revenue_per_customer * (1 + params.affluence_on_revenue * affluence)
        + params.revenue_per_nps_point * nps
    )
    noise = np.exp(0.03 * rng.standard_normal(len(nps)) - 0.03**2 / 2)
    return pa.table(
        {
            "unit_id": branch_panel.column("unit_id"),
            "period": branch_panel.column("period"),
            "revenue": np.round(customers * per_customer * noise, 2),
            "customers": customers.astype(np.int64),
            "churned": churned.astype(np.int64),
        }
    )


__all__ = [
    "Latent",
    "simulate",
    "expected_panel",
    "outcomes",
    "employee_weight",
    "customer_weight",
    "item_weight",
]
