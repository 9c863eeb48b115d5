"""A small random omnichannel company written to the store, and a plain-Python oracle.

The oracle recomputes every KPI with loops over the very rows written to the store,
using only ``math``, ``statistics`` and the t quantile from scipy, so that the
engine expressions and the NumPy interval code are checked against an independent
implementation of DESIGN.md's definitions.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from statistics import NormalDist

import pyarrow as pa
import pytest
from scipy import stats

from excx.schema import CHANNELS, SERVED_BY

UNITS = [
    # unit_id, parent_id, kind, region
    ("co", None, "company", None),
    ("north", "co", "region", "north"),
    ("south", "co", "region", "south"),
    ("b1", "north", "branch", "north"),
    ("b2", "north", "branch", "north"),
    ("b3", "south", "branch", "south"),
    ("cc", "south", "contact_centre", "south"),
    ("t1", "cc", "team", "south"),
    ("t2", "cc", "team", "south"),
]
FRONT_UNITS = ["b1", "b2", "b3", "t1", "t2"]
ROLES = ["agent", "advisor", "lead"]
ITEMS = ["q1", "q2", "q3", "q4"]


def _maybe(rng: random.Random, value, missing: float = 0.08):
    return None if rng.random() < missing else value


@dataclass
class Company:
    """The rows written to the store, as plain dicts, and the oracle over them."""

    customers: list[dict] = field(default_factory=list)
    employees: list[dict] = field(default_factory=list)
    items: list[dict] = field(default_factory=list)

    @property
    def parent(self) -> dict:
        return {u: p for u, p, _, _ in UNITS}

    @property
    def region(self) -> dict:
        return {u: r for u, _, _, r in UNITS}

    def ancestors(self, unit):
        while unit is not None:
            yield unit
            unit = self.parent[unit]

    def engagement_scores(self) -> dict:
        answers = defaultdict(list)
        for item in self.items:
            answers[item["response_id"]].append(item["value"])
        return {r: (sum(v) / len(v) - 1) / 4 * 100 for r, v in answers.items()}

    def scored(self, kpi: str) -> list[tuple[dict, float]]:
        """(row, score) for every non-missing answer of `kpi`."""
        if kpi == "engagement":
            scores = self.engagement_scores()
            return [
                (row, scores[row["response_id"]])
                for row in self.employees
                if row["response_id"] in scores
            ]
        rows = self.employees if kpi == "enps" else self.customers
        return [(row, row[kpi]) for row in rows if row[kpi] is not None]

    def groups(self, kpi, by, *, period="month", rollup=False) -> dict:
        """Group key (tuple over `by`) to the list of scores."""
        out = defaultdict(list)
        for row, score in self.scored(kpi):
            units = list(self.ancestors(row["unit_id"])) if rollup else [row["unit_id"]]
            for unit in units or [None]:
                key = []
                for column in by:
                    if column == "unit_id":
                        key.append(unit)
                    elif column == "region":
                        key.append(self.region.get(unit))
                    elif column == "period":
                        key.append(
                            period_start(row["submitted_at"], period).isoformat()
                        )
                    else:
                        key.append(row[column])
                out[tuple(key)].append(score)
        return out

    def oracle(self, kpi, by, *, period="month", rollup=False, level=0.95) -> dict:
        """Group key to (n, value, ci_low, ci_high) by DESIGN.md's definitions."""
        result = {}
        for key, scores in self.groups(kpi, by, period=period, rollup=rollup).items():
            result[key] = (len(scores), *oracle_estimate(kpi, scores, level))
        return result


def period_start(moment: dt.datetime, grain: str) -> dt.date:
    if grain == "month":
        return dt.date(moment.year, moment.month, 1)
    if grain == "quarter":
        return dt.date(moment.year, 3 * ((moment.month - 1) // 3) + 1, 1)
    return dt.date(moment.year, 1, 1)


def oracle_estimate(kpi: str, scores: list, level: float) -> tuple:
    """Value and interval of one group, written out with plain Python."""
    n = len(scores)
    z = NormalDist().inv_cdf(0.5 + level / 2)
    if kpi in ("nps", "enps"):
        promoters = sum(1 for s in scores if s >= 9)
        detractors = sum(1 for s in scores if s <= 6)
        p = (promoters + 0.75) / (n + 3)
        d = (detractors + 0.75) / (n + 3)
        half = z * math.sqrt((p + d - (p - d) ** 2) / (n + 3))
        value = 100 * (promoters - detractors) / n
        low, high = 100 * (p - d - half), 100 * (p - d + half)
        return value, max(low, -100), min(high, 100)
    if kpi == "csat":
        share = sum(1 for s in scores if s >= 4) / n
        centre = (share + z * z / (2 * n)) / (1 + z * z / n)
        half = (
            z
            / (1 + z * z / n)
            * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n))
        )
        return 100 * share, 100 * max(centre - half, 0), 100 * min(centre + half, 1)
    mean = sum(scores) / n
    if n < 2:
        return mean, math.nan, math.nan
    sd = math.sqrt(sum((s - mean) ** 2 for s in scores) / (n - 1))
    half = stats.t.ppf(0.5 + level / 2, n - 1) * sd / math.sqrt(n)
    low_bound, high_bound = (1, 7) if kpi == "ces" else (0, 100)
    return mean, max(mean - half, low_bound), min(mean + half, high_bound)


def make_company(seed: int = 7, customers: int = 2000, employees: int = 300) -> Company:
    """Random answers with a seed: nulls, null units, several months and years."""
    rng = random.Random(seed)
    start = dt.datetime(2025, 11, 1)
    company = Company()
    for i in range(customers):
        company.customers.append(
            {
                "response_id": f"c{i}",
                "submitted_at": start
                + dt.timedelta(minutes=rng.randrange(0, 240 * 1440)),
                "channel": rng.choice(CHANNELS),
                "served_by": rng.choice(SERVED_BY),
                "unit_id": rng.choice(FRONT_UNITS + [None]),
                "nps": _maybe(rng, rng.randint(0, 10)),
                "csat": _maybe(rng, rng.randint(1, 5)),
                "ces": _maybe(rng, rng.randint(1, 7)),
            }
        )
    for i in range(employees):
        response_id = f"e{i}"
        company.employees.append(
            {
                "response_id": response_id,
                "submitted_at": start + dt.timedelta(days=rng.randrange(0, 240)),
                "unit_id": rng.choice(FRONT_UNITS),
                "role": rng.choice(ROLES),
                "enps": _maybe(rng, rng.randint(0, 10)),
            }
        )
        if rng.random() < 0.05:
            continue  # answered eNPS only
        engaged = rng.gauss(3.4, 0.9)  # one latent level per respondent
        for item in ITEMS:
            if rng.random() > 0.06:
                value = min(5, max(1, round(engaged + rng.gauss(0, 0.6))))
                company.items.append(
                    {"response_id": response_id, "item_id": item, "value": value}
                )
    return company


def write_company(store, company: Company) -> None:
    units = pa.table(
        {
            "unit_id": [u[0] for u in UNITS],
            "name": [u[0].upper() for u in UNITS],
            "parent_id": [u[1] for u in UNITS],
            "kind": [u[2] for u in UNITS],
            "region": [u[3] for u in UNITS],
        }
    )
    store.write(
        {
            "units": units,
            "customer_responses": pa.Table.from_pylist(company.customers),
            "employee_responses": pa.Table.from_pylist(company.employees),
            "employee_items": pa.Table.from_pylist(company.items),
        }
    )


@pytest.fixture
def company(store) -> Company:
    """The random company, written to the (parametrised) store."""
    made = make_company()
    write_company(store, made)
    return made


@pytest.fixture
def company_file(tmp_path) -> tuple[str, Company]:
    """A smaller random company in a DuckDB file: (store URL, company)."""
    import excx

    url = f"duckdb://{tmp_path / 'company.duckdb'}"
    made = make_company(customers=400, employees=120)
    with excx.connect(url) as store:
        store.init()
        write_company(store, made)
    return url, made
