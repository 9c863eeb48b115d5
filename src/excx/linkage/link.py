"""Run the whole linkage analysis on a store: what ``excx link`` prints.

One call builds the unit × period panel in the engine, checks that unit means are
reliable enough to correlate, and fits the correlation, the lagged fixed-effects
models in both directions (naive and corrected for sampling error), the multilevel
model and the service-profit chain, returning every estimate in one tidy frame.

>>> import excx
>>> from excx.linkage.link import link
>>> store = excx.connect("duckdb://:memory:")
>>> store.init()
>>> link(store).estimates.empty
True
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import ibis
import numpy as np
import pandas as pd

from excx.errors import InputError
from excx.linkage.chain import MIN_BOOT, chain
from excx.linkage.correlation import correlation
from excx.linkage.fixed_effects import fixed_effects
from excx.linkage.icc import group_moments, icc_from_groups
from excx.linkage.measurement_error import fixed_effects_corrected
from excx.linkage.multilevel import multilevel
from excx.linkage.panel import panel as build_panel
from excx.linkage.results import FRAME_COLUMNS, LinkageResult
from excx.metrics.kpis import DETRACTOR_MAX, PROMOTER_MIN
from excx.store import Store

__all__ = ["LinkageReport", "link", "ESTIMATE_COLUMNS"]

log = logging.getLogger("excx")

ESTIMATE_COLUMNS = [c for c in FRAME_COLUMNS if c != "reason"] + ["reason"]


@dataclass
class LinkageReport:
    """Everything ``excx link`` reports.

    Attributes
    ----------
    estimates
        One row per model and term: ``model, term, estimate, std_error, ci_low,
        ci_high, p_value, n_units, n_periods, reason``.
    results
        The results objects by model name, for ``summary()`` and ``reading()``.
    reliability
        ICC(1), ICC(2) and mean per-unit reliability of unit eNPS and unit NPS.
    panel
        The unit × period panel the models ran on (ungated: do not display per
        unit without :func:`excx.linkage.panel.displayable`).
    timings
        Seconds spent in engine aggregation, models and bootstrap.
    """

    estimates: pd.DataFrame
    results: dict[str, LinkageResult]
    reliability: pd.DataFrame
    panel: pd.DataFrame
    timings: dict[str, float] = field(default_factory=dict)

    def readings(self) -> list[str]:
        """The plain-language reading of every model, caveats included."""
        return [r.reading() for r in self.results.values()]


def link(
    store: Store,
    *,
    period: str = "month",
    lag: int = 1,
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
    controls: tuple[str, ...] = (),
) -> LinkageReport:
    """Estimate how unit eNPS relates to unit NPS and revenue.

    Parameters
    ----------
    store
        The open store.
    period
        Panel grain: ``month`` or ``quarter``.
    lag
        Periods between the driver and the outcome in the lagged models.
    n_boot, seed
        Cluster-bootstrap draws (over units) and their seed.
    level
        Interval level.
    controls
        Panel columns entered as time-varying controls in the fixed-effects
        models and the chain (e.g. ``human_share``, ``unit_size``).

    Returns
    -------
    LinkageReport
        Model names in ``estimates``: ``correlation``,
        ``correlation_disattenuated``, ``fixed_effects``,
        ``fixed_effects_corrected``, ``fixed_effects_reverse``, ``multilevel``,
        ``chain_indirect``, ``chain_money``. A model that cannot be estimated
        (too few units or periods, a constant regressor, …) has a row whose
        ``reason`` says why, and null figures.
    """
    if lag < 1:
        raise InputError(f"lag={lag!r}; accepted: a whole number of periods ≥ 1")
    if n_boot < MIN_BOOT:
        raise InputError(f"n_boot={n_boot!r}; accepted: at least {MIN_BOOT} draws")

    clock = _Clock()
    with clock("engine"):
        frame = build_panel(store, period=period)
        reliability = _reliability(store)
    if frame.empty:
        return LinkageReport(_empty(), {}, reliability, frame, clock.seconds)

    panel_all = frame
    frame = _without_single_answers(frame)
    results: dict[str, LinkageResult] = {}
    options = {"lag": lag, "controls": tuple(controls)}
    with clock("models"):
        corrected = _attempt(
            "fixed_effects_corrected",
            lambda: fixed_effects_corrected(frame, level=level, **options),
        )
        # The corrected model fits the naive one on the same sample (see
        # _without_single_answers); reuse it rather than fit it twice.
        naive = corrected.extras.get("naive")
        if naive is None:
            naive = _attempt("fixed_effects", lambda: fixed_effects(frame, **options))
        results["fixed_effects"] = naive
        results["fixed_effects_reverse"] = _attempt(
            "fixed_effects_reverse",
            lambda: fixed_effects(frame, reverse=True, **options),
        )
        results["fixed_effects_corrected"] = corrected
        results["multilevel"] = _attempt(
            "multilevel", lambda: multilevel(panel_all, y="nps", x="enps")
        )
    with clock("bootstrap"):
        correlations = _unit_correlation(panel_all, reliability, level, n_boot, seed)
        results["chain_indirect"] = _attempt(
            "chain_indirect",
            lambda: chain(
                frame,
                lag=lag,
                n_boot=n_boot,
                seed=seed,
                controls=tuple(controls),
                x_variance="enps_var",
                x_n="enps_n",
            ),
        )

    rows = [correlations] + [r.to_frame(level) for r in results.values()]
    estimates = pd.concat(rows, ignore_index=True).reindex(columns=ESTIMATE_COLUMNS)
    reason = estimates["reason"].astype(object)
    estimates["reason"] = reason.where(reason.notna() & (reason != ""), None)
    log.info(
        "linkage: %s", ", ".join(f"{k} {v:.2f} s" for k, v in clock.seconds.items())
    )
    return LinkageReport(estimates, results, reliability, panel_all, clock.seconds)


class _Clock:
    """Adds up wall time per named step."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, step: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            spent = time.perf_counter() - started
            self.seconds[step] = self.seconds.get(step, 0.0) + spent


def _without_single_answers(frame: pd.DataFrame) -> pd.DataFrame:
    """Null the EX side of unit-periods with a single employee answer.

    One answer says nothing about its own sampling variance, which the
    corrected models need; the same cells are left out of every model so that
    the naive and corrected estimates rest on the same sample.
    """
    single = frame["enps_n"].fillna(0) < 2
    if single.any():
        log.info(
            "linkage: %d unit-period(s) with < 2 employee answers left out",
            single.sum(),
        )
    return frame.assign(
        enps=frame["enps"].mask(single),
        enps_var=frame["enps_var"].mask(single),
    )


def _attempt(model: str, fit: Callable[[], LinkageResult]) -> LinkageResult:
    """Fit a model; input that cannot support it becomes a result with a reason."""
    try:
        return fit()
    except InputError as exc:
        return LinkageResult.without_estimate(model, ["enps"], str(exc))


def _reliability(store: Store) -> pd.DataFrame:
    """ICC(1), ICC(2) and mean reliability of unit eNPS and unit NPS scores.

    Each answer is scored +100 (promoter), 0 or −100 (detractor), so that the
    unit mean of the scores is the unit's (e)NPS; the group moments are
    computed in the engine.
    """
    frames = []
    for name, table, column in (
        ("enps", "employee_responses", "enps"),
        ("nps", "customer_responses", "nps"),
    ):
        answers = store.table(table)
        answers = answers.filter(answers[column].notnull() & answers.unit_id.notnull())
        score = ibis.cases(
            (answers[column] >= PROMOTER_MIN, 100.0),
            (answers[column] <= DETRACTOR_MAX, -100.0),
            else_=0.0,
        )
        moments = group_moments(
            answers.mutate(score=score), value="score", group="unit_id"
        )
        if len(moments) < 3:
            continue
        icc = icc_from_groups(moments).assign(kpi=name)
        frames.append(icc)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _unit_correlation(
    frame: pd.DataFrame, reliability: pd.DataFrame, level: float, n_boot: int, seed: int
) -> pd.DataFrame:
    """Correlation of pooled unit eNPS and unit NPS, raw and disattenuated."""
    pooled = (
        frame.assign(
            enps_total=frame["enps"] * frame["enps_n"],
            nps_total=frame["nps"] * frame["nps_n"],
        )
        .groupby("unit_id")[["enps_total", "enps_n", "nps_total", "nps_n"]]
        .sum()
    )
    units = (
        pd.DataFrame(
            {
                "unit_id": pooled.index,
                "enps": pooled["enps_total"] / pooled["enps_n"],
                "nps": pooled["nps_total"] / pooled["nps_n"],
                "weight": pooled["nps_n"],
            }
        )
        .replace([np.inf, -np.inf], np.nan)
        .dropna()
    )
    periods = int(frame["period"].nunique())
    units = units[units["weight"] > 0]
    try:
        if len(units) < 3:
            raise InputError(
                f"{len(units)} unit(s) have both eNPS and NPS answers; a unit-level "
                "correlation needs at least 3"
            )
        table = correlation(
            units,
            x="enps",
            y="nps",
            weights="weight",
            level=level,
            n_boot=n_boot,
            seed=seed,
            reliability_x=_mean_reliability(reliability, "enps"),
            reliability_y=_mean_reliability(reliability, "nps"),
        )
    except InputError as exc:
        return pd.DataFrame(
            {
                "model": ["correlation", "correlation_disattenuated"],
                "term": "enps",
                "n_units": len(units),
                "n_periods": periods,
                "reason": str(exc),
            }
        )
    fisher = table[table["interval"] == "fisher"]
    names = {"r": "correlation", "r_disattenuated": "correlation_disattenuated"}
    return pd.DataFrame(
        {
            "model": fisher["statistic"].map(names).to_numpy(),
            "term": "enps",
            "estimate": fisher["value"].to_numpy(),
            "std_error": np.nan,
            "ci_low": fisher["ci_low"].to_numpy(),
            "ci_high": fisher["ci_high"].to_numpy(),
            "p_value": fisher["p_value"].to_numpy(),
            "n_units": fisher["n_units"].to_numpy(),
            "n_periods": periods,
            "reason": fisher["reason"].replace("", None).to_numpy(),
        }
    )


def _mean_reliability(reliability: pd.DataFrame, kpi: str) -> float | None:
    if reliability.empty:
        return None
    rows = reliability[
        (reliability["kpi"] == kpi) & (reliability["statistic"] == "mean_reliability")
    ]
    value = float(rows["value"].iloc[0]) if len(rows) else np.nan
    return value if 0 < value <= 1 else None


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=ESTIMATE_COLUMNS)
