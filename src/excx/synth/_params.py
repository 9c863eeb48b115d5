"""Parameters of the synthetic bank and the true effects they imply."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from excx.errors import InputError

__all__ = [
    "SynthParams",
    "Size",
    "SIZES",
    "EMPLOYEE_ITEMS",
    "CUSTOMER_ITEMS",
    "ROLES",
    "TENURE_BANDS",
    "answer_distributions",
]

EMPLOYEE_ITEMS = ("pride", "recommend_work", "intent_to_stay", "energy", "purpose")
CUSTOMER_ITEMS = ("competence", "courtesy", "speed")
ROLES = ("front_office", "back_office", "manager")
TENURE_BANDS = ("<1y", "1-3y", "3-5y", "5y+")

# Every answer is drawn from a mix of a "low" and a "high" distribution over its
# scale; the mixing weight w in [0, 1] carries the latent state. Expected scores are
# therefore exactly linear in w. Index i holds the probability of answer low + i.
_NPS_LOW = (0.06, 0.04, 0.05, 0.07, 0.08, 0.12, 0.13, 0.15, 0.14, 0.09, 0.07)
_NPS_HIGH = (0.00, 0.00, 0.01, 0.01, 0.01, 0.02, 0.03, 0.07, 0.15, 0.30, 0.40)
_FIVE_LOW = (0.15, 0.30, 0.30, 0.20, 0.05)
_FIVE_HIGH = (0.01, 0.03, 0.11, 0.40, 0.45)
_SEVEN_LOW = (0.12, 0.18, 0.20, 0.20, 0.15, 0.10, 0.05)
_SEVEN_HIGH = (0.01, 0.02, 0.04, 0.08, 0.20, 0.35, 0.30)


def answer_distributions(scale: str) -> tuple[np.ndarray, np.ndarray]:
    """Return the (low, high) answer distributions of `scale`.

    `scale` is ``"nps"`` (0-10, also eNPS), ``"five"`` (1-5: CSAT and every item)
    or ``"seven"`` (1-7: CES, higher = easier).
    """
    pairs = {
        "nps": (_NPS_LOW, _NPS_HIGH),
        "five": (_FIVE_LOW, _FIVE_HIGH),
        "seven": (_SEVEN_LOW, _SEVEN_HIGH),
    }
    low, high = pairs[scale]
    return np.array(low), np.array(high)


def _nps_of(distribution: np.ndarray) -> float:
    """100 x (share 9-10 - share 0-6) of a 0-10 distribution."""
    return float(100 * (distribution[9:].sum() - distribution[:7].sum()))


@dataclass(frozen=True)
class Size:
    """How big the bank is: serving units per region and answers over 24 months."""

    branches_per_region: int
    teams_per_region: int
    customer_responses: int


SIZES: dict[str, Size] = {
    "small": Size(branches_per_region=4, teams_per_region=1, customer_responses=20_000),
    "medium": Size(
        branches_per_region=30, teams_per_region=5, customer_responses=1_200_000
    ),
    "large": Size(
        branches_per_region=150, teams_per_region=20, customer_responses=20_000_000
    ),
}


@dataclass(frozen=True)
class SynthParams:
    """Every number that sets the causal structure of the synthetic bank.

    Latent states are on a standard-deviation-like scale; weights are the mixing
    weights between the "low" and "high" answer distributions (see
    :func:`answer_distributions`). The defaults give a bank with human-served NPS near
    +5, bot NPS near -20, eNPS near +5 and a true lagged effect of 0.514 NPS points
    per eNPS point.

    Attributes
    ----------
    months, start
        Number of months and the first month (ISO date of its first day).
    regions
        Number of regions; their affluence is spread evenly over [-1, 1].
    affluence_on_engagement
        Shift of a unit's mean engagement per unit of regional affluence.
    unit_engagement_sd
        Standard deviation of unit mean engagement around its regional level.
    engagement_ar, engagement_sd
        AR(1) coefficient and stationary standard deviation of monthly engagement
        around the unit mean. Engagement is clipped to [-3, 3].
    engagement_on_quality, quality_noise
        Service quality Q = engagement_on_quality * E + quality_noise * eta, with
        eta uniform of unit variance (bounded, so Q never needs clipping).
    employee_weight, employee_slope, manager_shift
        Employee answer weight = employee_weight + employee_slope * E, plus
        manager_shift for managers.
    customer_weight, customer_slope, affluence_on_customers
        Human-served customer weight at t = customer_weight + channel shift +
        customer_slope * (Q[t-1] + affluence_on_customers * affluence).
    store_shift
        Extra customer weight of branch (store) contacts over contact-centre ones.
    bot_weight, self_service_weight
        Customer weight of bot and self-service contacts (before affluence); bots
        are set below people.
    revenue_per_customer, revenue_per_nps_point, affluence_on_revenue
        Monthly revenue per customer = revenue_per_customer * (1 +
        affluence_on_revenue * affluence) + revenue_per_nps_point * NPS, where NPS
        is the unit's expected NPS that month.
    churn_rate, churn_per_nps_point
        Monthly churn probability = churn_rate - churn_per_nps_point * NPS.
    small_unit_share
        Share of branches with 5-15 employees (their monthly cells often fall under
        the privacy threshold).
    employee_response_rate, item_response_rate, answer_coherence
        Monthly pulse participation; share of customer responses that answer the
        service items; probability that an answer reuses the respondent's common
        uniform draw (makes answers of one respondent agree; margins unchanged).
    human_share, bot_share
        Shares of customer responses served by people and by bots; the rest is
        self-service.
    """

    months: int = 24
    start: str = "2025-01-01"
    regions: int = 6
    affluence_on_engagement: float = 0.5
    unit_engagement_sd: float = 0.5
    engagement_ar: float = 0.5
    engagement_sd: float = 0.8
    engagement_on_quality: float = 0.6
    quality_noise: float = 0.5
    employee_weight: float = 0.45
    employee_slope: float = 0.14
    manager_shift: float = 0.06
    customer_weight: float = 0.42
    customer_slope: float = 0.12
    affluence_on_customers: float = 0.4
    store_shift: float = 0.04
    bot_weight: float = 0.22
    self_service_weight: float = 0.38
    revenue_per_customer: float = 40.0
    revenue_per_nps_point: float = 0.2
    affluence_on_revenue: float = 0.15
    churn_rate: float = 0.012
    churn_per_nps_point: float = 0.0001
    small_unit_share: float = 0.2
    employee_response_rate: float = 0.7
    item_response_rate: float = 0.6
    answer_coherence: float = 0.7
    human_share: float = 0.65
    bot_share: float = 0.12

    def __post_init__(self) -> None:
        self._check_weights()

    def as_dict(self) -> dict:
        """The parameters as a plain dict (for the truth record)."""
        return asdict(self)

    def _check_weights(self) -> None:
        """Refuse parameters under which a mixing weight would leave [0, 1].

        The linear truth holds only while no weight is clipped, so this checks the
        extreme states: E in [-3, 3], Q within its bounded range, affluence in
        [-1, 1].
        """
        e_max = 3.0
        q_max = self.engagement_on_quality * e_max + self.quality_noise * np.sqrt(3)
        employee = (
            self.employee_weight - self.employee_slope * e_max,
            self.employee_weight + self.employee_slope * e_max + self.manager_shift,
        )
        context = q_max + self.affluence_on_customers
        base = self.customer_weight + max(self.store_shift, 0.0)
        customer = (
            self.customer_weight
            + min(self.store_shift, 0.0)
            - self.customer_slope * context,
            base + self.customer_slope * context,
        )
        shift = self.customer_slope * self.affluence_on_customers
        others = (
            min(self.bot_weight, self.self_service_weight) - shift,
            max(self.bot_weight, self.self_service_weight) + shift,
        )
        for name, (low, high) in {
            "employee": employee,
            "customer": customer,
            "bot/self-service": others,
        }.items():
            if low < 0 or high > 1:
                raise InputError(
                    f"SynthParams: the {name} answer weight would range over "
                    f"[{low:.3f}, {high:.3f}]; accepted: within [0, 1] (lower the "
                    "slopes or move the base weights)"
                )
        if not 0 <= self.human_share + self.bot_share <= 1:
            raise InputError(
                "SynthParams: human_share + bot_share must lie in [0, 1], got "
                f"{self.human_share + self.bot_share}"
            )

    @property
    def enps_per_weight(self) -> float:
        """eNPS points per unit of employee answer weight."""
        low, high = answer_distributions("nps")
        return _nps_of(high) - _nps_of(low)

    @property
    def nps_per_weight(self) -> float:
        """NPS points per unit of customer answer weight."""
        return self.enps_per_weight

    def nps_at(self, weight: np.ndarray | float) -> np.ndarray | float:
        """Expected NPS of answers drawn with mixing `weight`."""
        low, _ = answer_distributions("nps")
        return _nps_of(low) + weight * self.nps_per_weight
