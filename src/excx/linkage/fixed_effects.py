"""Lagged two-way fixed-effects models of the unit × period panel.

Customer experience at period t is regressed on employee experience at t − lag
within units, with unit and period effects and errors clustered by unit
(:func:`fixed_effects`); ``reverse=True`` asks the opposite question.
:func:`~excx.linkage.measurement_error.fixed_effects_corrected` removes the
attenuation that the sampling error of a unit-period eNPS from a handful of
answers causes.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from linearmodels import PanelOLS

from excx.errors import InputError, SmallSampleWarning
from excx.linkage.lags import _term, with_lags
from excx.linkage.results import LinkageResult, compare

__all__ = [
    "fixed_effects",
    "fixed_effects_both_directions",
]

logger = logging.getLogger("excx")

#: Fewest units with at least two periods that a clustered estimate accepts.
MIN_UNITS = 5
_ASSOCIATIONAL = (
    "associational: unit and period effects remove stable differences between "
    "units and company-wide shocks, not time-varying confounders; compare with "
    "the reverse direction before reading it as cause"
)


def _estimation_sample(
    panel: pd.DataFrame,
    *,
    y: str,
    x: str,
    lag: int,
    controls: Sequence[str],
    extra: Sequence[str],
    unit: str,
    period: str,
) -> tuple[pd.DataFrame, str]:
    """Lag ``x`` and ``extra``, drop incomplete rows and one-period units."""
    needed = [unit, period, y, x, *controls, *extra]
    missing = [c for c in needed if c not in panel.columns]
    if missing:
        raise InputError(f"panel has no column(s) {missing}; it has {list(panel)}")
    if lag < 0:
        raise InputError(f"lag must be 0 or a positive number of periods, got {lag}")
    if panel[x].notna().sum() == 0:
        raise InputError(
            f"every {x} cell is null (suppressed by the privacy threshold or not "
            "collected); no linkage can be estimated"
        )

    term = _term(x, lag)
    lagged = with_lags(panel, [x, *extra], (lag,), unit=unit, period=period)
    shifted_extra = [_term(c, lag) for c in extra]
    frame = lagged[[unit, period, y, term, *controls, *shifted_extra]].dropna()
    frame = frame.rename(columns={unit: "_unit", period: "_period"})

    periods_per_unit = frame.groupby("_unit")["_period"].transform("size")
    single = frame.loc[periods_per_unit < 2, "_unit"].nunique()
    if single:
        warnings.warn(
            f"{single} unit(s) have a single complete period and were dropped: "
            "fixed effects learn nothing from them",
            SmallSampleWarning,
            stacklevel=3,
        )
    frame = frame.loc[periods_per_unit >= 2].reset_index(drop=True)

    n_units, n_periods = frame["_unit"].nunique(), frame["_period"].nunique()
    if n_units < MIN_UNITS or n_periods < 2:
        raise InputError(
            f"too few units or periods with {y} and {term} observed: {n_units} "
            f"unit(s) with ≥2 periods over {n_periods} period(s); unit-clustered "
            f"fixed effects need at least {MIN_UNITS} units and 2 periods"
        )
    return frame, term


def _demean(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Remove unit and period means (alternating projections to convergence)."""
    values = frame[list(columns)].astype(float)
    scale = values.abs().max().replace(0, 1.0)
    for _ in range(1000):
        before = values
        values = values - values.groupby(frame["_unit"]).transform("mean")
        values = values - values.groupby(frame["_period"]).transform("mean")
        if ((values - before).abs().max() / scale).max() < 1e-12:
            break
    return values


def _check_design(
    demeaned: pd.DataFrame, term: str, controls: Sequence[str]
) -> str | None:
    """None if estimable; a reason when the regressor has no within variation."""
    spread = demeaned[term].std()
    if not np.isfinite(spread) or spread < 1e-9 * max(1.0, demeaned[term].abs().max()):
        return (
            f"{term} does not vary within units once period effects are removed, "
            "so its effect cannot be told apart from the fixed effects"
        )
    if controls:
        design = demeaned[[term, *controls]].to_numpy()
        if np.linalg.matrix_rank(design) < design.shape[1]:
            raise InputError(
                f"controls {list(controls)} are collinear with each other or with "
                f"{term} after removing unit and period means; drop the redundant "
                "one(s)"
            )
    return None


def fixed_effects(
    panel: pd.DataFrame,
    *,
    y: str = "nps",
    x: str = "enps",
    lag: int = 1,
    controls: Sequence[str] = (),
    reverse: bool = False,
    unit: str = "unit_id",
    period: str = "period",
) -> LinkageResult:
    r"""Lagged two-way fixed-effects regression, errors clustered by unit.

    Parameters
    ----------
    panel
        Unit × period rows with ``unit``, ``period``, ``y``, ``x`` and controls.
    y, x
        Outcome (customer side) and driver (employee side).
    lag
        Periods between driver and outcome (0 = same period).
    controls
        Contemporaneous control columns.
    reverse
        Regress ``x`` at t on ``y`` at t − lag instead (model
        ``fixed_effects_reverse``).

    Returns
    -------
    LinkageResult
        Model ``fixed_effects`` (or ``fixed_effects_reverse``); the first term is
        the lagged driver (e.g. ``enps_lag1``), then the controls.

    Notes
    -----
    :math:`y_{ut} = \beta\,x_{u,t-\ell} + \gamma' c_{ut} + \alpha_u + \delta_t +
    \varepsilon_{ut}`, estimated by linearmodels' ``PanelOLS`` with entity and
    time effects and unit-clustered covariance. Rows lacking any variable are
    dropped; units left with one period are dropped with a
    :class:`~excx.errors.SmallSampleWarning`. The estimate is associational.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> p = pd.DataFrame({"unit_id": np.repeat(np.arange(8), 6),
    ...     "period": np.tile(pd.date_range("2026-01-01", periods=6, freq="MS"), 8),
    ...     "enps": rng.normal(0, 20, 48)})
    >>> p["nps"] = 0.5 * p.groupby("unit_id")["enps"].shift(1) + rng.normal(0, 1, 48)
    >>> r = fixed_effects(p)
    >>> bool(abs(r.params["enps_lag1"] - 0.5) < 0.1)
    True
    """
    outcome, driver = (x, y) if reverse else (y, x)
    frame, term = _estimation_sample(
        panel,
        y=outcome,
        x=driver,
        lag=lag,
        controls=controls,
        extra=(),
        unit=unit,
        period=period,
    )
    return _fit(
        frame,
        outcome=outcome,
        driver=driver,
        term=term,
        controls=controls,
        lag=lag,
        model="fixed_effects_reverse" if reverse else "fixed_effects",
    )


def _fit(
    frame: pd.DataFrame,
    *,
    outcome: str,
    driver: str,
    term: str,
    controls: Sequence[str],
    lag: int,
    model: str,
) -> LinkageResult:
    """PanelOLS with unit and period effects on a prepared estimation sample."""
    regressors = [term, *controls]
    n_units, n_periods = frame["_unit"].nunique(), frame["_period"].nunique()
    reason = _check_design(_demean(frame, regressors), term, controls)
    if reason is not None:
        return LinkageResult.without_estimate(
            model,
            regressors,
            reason,
            n_units=n_units,
            n_periods=n_periods,
            n_obs=len(frame),
        )

    indexed = frame.set_index(["_unit", "_period"])
    fit = PanelOLS(
        indexed[outcome], indexed[regressors], entity_effects=True, time_effects=True
    ).fit(cov_type="clustered", cluster_entity=True)
    logger.info("%s: %s on %s, %d rows", model, outcome, term, len(frame))

    beta, low, high = fit.params[term], *fit.conf_int().loc[term]
    statement = (
        f"Where {driver} rose 10 points above the unit's usual level (beyond that "
        f"period's company-wide change), {outcome} {lag} period(s) later moved by "
        f"{10 * beta:+.2f} points (95% interval {10 * low:+.2f} to {10 * high:+.2f})."
    )
    caveats = [_ASSOCIATIONAL]
    if model == "fixed_effects":
        caveats.append(
            f"sampling error in {driver} attenuates this estimate towards zero; "
            "see fixed_effects_corrected"
        )
    return LinkageResult(
        model=model,
        params=fit.params.astype(float),
        std_errors=fit.std_errors.astype(float),
        pvalues=fit.pvalues.astype(float),
        n_units=n_units,
        n_periods=n_periods,
        n_obs=len(frame),
        statements=(statement,),
        caveats=tuple(caveats),
        extras={"outcome": outcome, "driver": driver, "lag": lag},
    )


def fixed_effects_both_directions(
    panel: pd.DataFrame,
    *,
    y: str = "nps",
    x: str = "enps",
    lag: int = 1,
    controls: Sequence[str] = (),
    unit: str = "unit_id",
    period: str = "period",
) -> pd.DataFrame:
    """EX → CX and CX → EX side by side, as tidy rows (see :func:`compare`).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(2)
    >>> p = pd.DataFrame({"unit_id": np.repeat(np.arange(8), 6),
    ...     "period": np.tile(pd.date_range("2026-01-01", periods=6, freq="MS"), 8),
    ...     "enps": rng.normal(0, 20, 48), "nps": rng.normal(0, 20, 48)})
    >>> fixed_effects_both_directions(p)["term"].tolist()
    ['enps_lag1', 'nps_lag1']
    """
    options = dict(y=y, x=x, lag=lag, controls=controls, unit=unit, period=period)
    return compare(
        fixed_effects(panel, **options), fixed_effects(panel, reverse=True, **options)
    )
