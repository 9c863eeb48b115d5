"""One month of employee and customer answers, drawn in vectorised numpy.

Answers come back *wide*: one row per response with an ``item_<item_id>`` column per
item (null when not answered), which is what the generic import profile reads.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from excx.synth._latent import (
    MANAGER_SHARE,
    Latent,
    customer_weight,
    employee_weight,
    item_weight,
)
from excx.synth._params import (
    CUSTOMER_ITEMS,
    EMPLOYEE_ITEMS,
    ROLES,
    TENURE_BANDS,
    SynthParams,
    answer_distributions,
)
from excx.synth._structure import Organisation

EMPLOYEE_SURVEY = "pulse-{month}"
CUSTOMER_SURVEY = "cx-transactional"
ROLE_SHARES = (1 - 0.30 - MANAGER_SHARE, 0.30, MANAGER_SHARE)
TENURE_SHARES = (0.15, 0.30, 0.25, 0.30)
CSAT_MISSING, CES_MISSING = 0.05, 0.10


def draw(
    weight: np.ndarray, uniform: np.ndarray, scale: str, *, first: int
) -> np.ndarray:
    """Answer by inverse CDF of the mix (1 - w) x low + w x high at `uniform`."""
    low, high = answer_distributions(scale)
    cdf_low, cdf_high = np.cumsum(low)[:-1], np.cumsum(high)[:-1]
    cdf = cdf_low + weight[:, None] * (cdf_high - cdf_low)
    return first + (uniform[:, None] >= cdf).sum(axis=1)


def _coherent(common: np.ndarray, coherence: float, rng: np.random.Generator):
    """A uniform that equals the respondent's common draw with prob. `coherence`."""
    own = rng.random(len(common))
    return np.where(rng.random(len(common)) < coherence, common, own)


def _month_bounds(params: SynthParams, month: int) -> tuple[dt.datetime, int]:
    start = dt.date.fromisoformat(params.start)
    year, month0 = divmod(start.month - 1 + month, 12)
    first = dt.datetime(start.year + year, month0 + 1, 1)
    year, month0 = divmod(month0 + 1, 12)
    following = dt.datetime(first.year + year, month0 + 1, 1)
    return first, int((following - first).total_seconds())


def _timestamps(params, month, n, rng) -> pa.Array:
    first, seconds = _month_bounds(params, month)
    offsets = rng.integers(0, seconds, n).astype("timedelta64[s]")
    return pa.array(np.datetime64(first, "s") + offsets)


def _ids(prefix: str, month: int, n: int) -> pa.Array:
    numbers = pc.utf8_lpad(pc.cast(pa.array(np.arange(n)), pa.string()), 7, "0")
    return pc.binary_join_element_wise(f"{prefix}{month + 1:02d}-", numbers, "")


def _pick(values: tuple[str, ...], shares, n: int, rng) -> pa.Array:
    index = rng.choice(len(values), size=n, p=np.asarray(shares) / np.sum(shares))
    return pa.DictionaryArray.from_arrays(
        pa.array(index, pa.int32()), pa.array(values)
    ).cast(pa.string())


def _masked(values: np.ndarray, missing: np.ndarray) -> pa.Array:
    return pa.array(values.astype(np.int16), mask=missing)


def employees(
    org: Organisation,
    latent: Latent,
    params: SynthParams,
    month: int,
    rng: np.random.Generator,
) -> pa.Table:
    """The month's pulse answers: eNPS and the engagement items, wide."""
    respondents = rng.binomial(org.headcount, params.employee_response_rate)
    unit = np.repeat(np.arange(len(org.unit_id)), respondents)
    n = len(unit)
    role = rng.choice(len(ROLES), size=n, p=ROLE_SHARES)
    weight = employee_weight(
        params, latent.engagement[unit, month + 1], role == ROLES.index("manager")
    )

    common = rng.random(n)
    enps = draw(weight, _coherent(common, params.answer_coherence, rng), "nps", first=0)
    first, _ = _month_bounds(params, month)
    columns = {
        "response_id": _ids("e", month, n),
        "survey_id": pa.array([EMPLOYEE_SURVEY.format(month=f"{first:%Y-%m}")] * n),
        "unit_id": pa.array(org.unit_id[unit]),
        "submitted_at": _timestamps(params, month, n, rng),
        "enps": pa.array(enps.astype(np.int16)),
        "role": pa.array(np.array(ROLES)[role]),
        "tenure_band": _pick(TENURE_BANDS, TENURE_SHARES, n, rng),
    }
    for item in EMPLOYEE_ITEMS:
        uniform = _coherent(common, params.answer_coherence, rng)
        columns[f"item_{item}"] = pa.array(
            draw(weight, uniform, "five", first=1).astype(np.int16)
        )
    return pa.table(columns)


def customers(
    org: Organisation,
    latent: Latent,
    params: SynthParams,
    month: int,
    n: int,
    rng: np.random.Generator,
) -> pa.Table:
    """The month's customer answers: NPS, CSAT, CES and service items, wide."""
    served = rng.choice(
        3,
        size=n,
        p=(
            params.human_share,
            params.bot_share,
            1 - params.human_share - params.bot_share,
        ),
    )
    volume = org.headcount / org.headcount.sum()
    unit = np.where(served == 0, rng.choice(len(volume), size=n, p=volume), -1)
    human = unit >= 0
    is_branch = human & org.is_branch[np.maximum(unit, 0)]
    channel = _channels(served, is_branch, rng)

    weight, items_weight = _customer_weights(
        org, latent, params, month, served, unit, is_branch, rng
    )

    common = rng.random(n)
    coherent = params.answer_coherence
    columns = {
        "response_id": _ids("c", month, n),
        "survey_id": pa.array([CUSTOMER_SURVEY] * n),
        "submitted_at": _timestamps(params, month, n, rng),
        "channel": channel,
        "served_by": pa.array(np.array(["human", "bot", "self_service"])[served]),
        "unit_id": pa.array(org.unit_id[np.maximum(unit, 0)], mask=~human),
        "nps": _masked(
            draw(weight, _coherent(common, coherent, rng), "nps", first=0),
            np.zeros(n, bool),
        ),
        "csat": _masked(
            draw(weight, _coherent(common, coherent, rng), "five", first=1),
            rng.random(n) < CSAT_MISSING,
        ),
        "ces": _masked(
            draw(weight, _coherent(common, coherent, rng), "seven", first=1),
            rng.random(n) < CES_MISSING,
        ),
    }
    answers_items = rng.random(n) < params.item_response_rate
    for item in CUSTOMER_ITEMS:
        asked = answers_items & (human | (item == "speed"))
        uniform = _coherent(common, coherent, rng)
        columns[f"item_{item}"] = _masked(
            draw(items_weight, uniform, "five", first=1), ~asked
        )
    return pa.table(columns)


def _customer_weights(org, latent, params, month, served, unit, is_branch, rng):
    """Answer weights of each customer: (NPS/CSAT/CES, service items).

    Human contacts follow the unit's quality of the month before; bots and
    self-service have fixed weights. Affluence moves every customer's loyalty
    answers but not the service items. Customers of unit-less contacts come from a
    region drawn uniformly.
    """
    human = unit >= 0
    region = np.where(
        human,
        org.region_index[np.maximum(unit, 0)],
        rng.integers(0, len(org.affluence), len(unit)),
    )
    affluence = org.affluence[region]
    quality_before = np.where(human, latent.quality[np.maximum(unit, 0), month], 0.0)
    shift = params.customer_slope * params.affluence_on_customers * affluence
    weight = np.select(
        [served == 0, served == 1],
        [
            customer_weight(params, quality_before, affluence, is_branch),
            params.bot_weight + shift,
        ],
        params.self_service_weight + shift,
    )
    items_weight = np.where(
        human, item_weight(params, quality_before, is_branch), weight - shift
    )
    return weight, items_weight


def _channels(served: np.ndarray, is_branch: np.ndarray, rng) -> pa.Array:
    """Branch contacts are in store; team contacts by phone or a chat escalated to an
    agent; bots answer chat or the phone; self-service is the web site or the app."""
    draw_ = rng.random(len(served))
    channel = np.select(
        [
            is_branch,
            served == 0,
            served == 1,
        ],
        [
            np.full(len(served), "store"),
            np.where(draw_ < 0.85, "contact_centre", "chatbot"),
            np.where(draw_ < 0.7, "chatbot", "contact_centre"),
        ],
        np.where(draw_ < 0.45, "web", "app"),
    )
    return pa.array(channel)
