"""Coverage of the corrected fixed-effects interval on panels with a known effect.

Run: ``.venv/bin/python benchmarks/bench_linkage_coverage.py [n_seeds]``
(default 100). Prints how many of the seeds' corrected 95% intervals cover the true
lagged effect, and how many of the naive ones do.

The data-generating process (``simulate_panel``) is the documented panel-level
synthetic company that the linkage tests also use.

Data-generating process, unit u in region g(u), month t
-------------------------------------------------------
- confounders: region effect r_g ~ N(0, 15²) and unit effect a_u ~ N(0, 10²) raise
  both eNPS and NPS levels (so a cross-sectional comparison is biased);
- true eNPS: E_ut = 10 + r_g + a_u + s_t + w_ut, with company-wide month shocks
  s_t ~ N(0, 5²) and within-unit AR(1) w_ut = 0.5 w_u,t-1 + N(0, 17²);
- observed eNPS from n_ut ~ 15 + Poisson(5) employees: promoter and detractor
  shares (0.7 ± E/100)/2 drawn multinomially; ``enps_var`` is the plug-in
  variance 100²·(pP + pD − (pP − pD)²)/n, as ``excx.linkage.panel`` delivers it;
- service quality Q_ut = 60 + 0.5 a_u + 0.4 E_u,t-1 + N(0, 4²);
- NPS_ut = 20 + 0.8 r_g + 1.5 a_u + 2 s_t + 0.5 Q_ut + 0.1 E_u,t-1 + N(0, 6²),
  so the true total effect of E_{t-1} on NPS_t is 0.4 · 0.5 + 0.1 = ``TRUE_EFFECT``;
- revenue_ut = 100 000 + 1 000 a_u + 200 NPS_ut + N(0, 2 000²) € per month.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pandas as pd

TRUE_EFFECT = 0.3  # NPS points per eNPS point one month earlier (0.4·0.5 + 0.1)
TRUE_QUALITY_PATH = 0.4  # quality on lagged true eNPS
TRUE_NPS_ON_QUALITY = 0.5
TRUE_REVENUE_PER_NPS = 200.0  # € per unit per month per NPS point


def simulate_panel(
    seed: int, *, n_units: int = 60, n_periods: int = 18, n_regions: int = 4
) -> pd.DataFrame:
    """One synthetic unit × month panel following the process above."""
    rng = np.random.default_rng(seed)
    region = rng.integers(0, n_regions, n_units)
    region_effect = rng.normal(0, 15, n_regions)[region]
    unit_effect = rng.normal(0, 10, n_units)
    month_shock = rng.normal(0, 5, n_periods + 1)

    within = np.zeros((n_units, n_periods + 1))
    within[:, 0] = rng.normal(0, 17 / np.sqrt(1 - 0.25), n_units)
    for t in range(1, n_periods + 1):
        within[:, t] = 0.5 * within[:, t - 1] + rng.normal(0, 17, n_units)
    true_enps = np.clip(
        10 + (region_effect + unit_effect)[:, None] + month_shock + within, -65, 65
    )

    n = 15 + rng.poisson(5, (n_units, n_periods + 1))
    promoter = (0.7 + true_enps / 100) / 2
    pvals = np.stack([promoter, 0.7 - promoter, np.full_like(promoter, 0.3)], -1)
    counts = rng.multinomial(n, pvals)
    enps = 100 * (counts[..., 0] - counts[..., 1]) / n
    share_p, share_d = counts[..., 0] / n, counts[..., 1] / n
    enps_var = 100**2 * (share_p + share_d - (share_p - share_d) ** 2) / n

    lagged = true_enps[:, :-1]
    shape = (n_units, n_periods)
    quality = 60 + 0.5 * unit_effect[:, None] + TRUE_QUALITY_PATH * lagged
    quality = quality + rng.normal(0, 4, shape)
    nps = (
        20
        + 0.8 * region_effect[:, None]
        + 1.5 * unit_effect[:, None]
        + 2 * month_shock[1:]
        + TRUE_NPS_ON_QUALITY * quality
        + (TRUE_EFFECT - TRUE_QUALITY_PATH * TRUE_NPS_ON_QUALITY) * lagged
        + rng.normal(0, 6, shape)
    )
    revenue = (
        100_000
        + 1_000 * unit_effect[:, None]
        + TRUE_REVENUE_PER_NPS * nps
        + rng.normal(0, 2_000, shape)
    )

    periods = pd.date_range("2025-01-01", periods=n_periods + 1, freq="MS")
    frame = pd.DataFrame(
        {
            "unit_id": np.repeat([f"u{u:03d}" for u in range(n_units)], n_periods),
            "region": np.repeat([f"r{g}" for g in region], n_periods),
            "period": np.tile(periods[1:], n_units),
            "enps": enps[:, 1:].ravel(),
            "enps_n": n[:, 1:].ravel(),
            "enps_var": enps_var[:, 1:].ravel(),
            "nps": nps.ravel(),
            "quality": quality.ravel(),
            "revenue": revenue.ravel(),
        }
    )
    first = pd.DataFrame(
        {
            "unit_id": [f"u{u:03d}" for u in range(n_units)],
            "region": [f"r{g}" for g in region],
            "period": periods[0],
            "enps": enps[:, 0],
            "enps_n": n[:, 0],
            "enps_var": enps_var[:, 0],
        }
    )
    return pd.concat([first, frame], ignore_index=True)


def coverage(seeds: range) -> dict[str, int]:
    """How many seeds' naive and corrected 95% intervals cover TRUE_EFFECT."""
    from excx.linkage import fixed_effects_corrected

    covered = {"naive": 0, "corrected": 0, "seeds": 0}
    for seed in seeds:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = fixed_effects_corrected(simulate_panel(seed))
        naive = result.extras["naive"].conf_int().loc["enps_lag1"]
        corrected = result.conf_int().loc["enps_lag1"]
        covered["naive"] += bool(naive.ci_low <= TRUE_EFFECT <= naive.ci_high)
        covered["corrected"] += bool(
            corrected.ci_low <= TRUE_EFFECT <= corrected.ci_high
        )
        covered["seeds"] += 1
    return covered


if __name__ == "__main__":
    n_seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    result = coverage(range(n_seeds))
    print(
        f"true effect {TRUE_EFFECT}: corrected 95% interval covers it in "
        f"{result['corrected']}/{result['seeds']} seeds; naive in "
        f"{result['naive']}/{result['seeds']}"
    )
