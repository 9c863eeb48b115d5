"""Lagged two-way fixed-effects models of the unit × period panel.

Customer experience at period t is regressed on employee experience at t − lag
within units, with unit and period effects and errors clustered by unit
(:func:`fixed_effects`); ``reverse=True`` asks the opposite question.
:func:`fixed_effects_corrected` removes the attenuation that the sampling error of
a unit-period eNPS from a handful of answers causes.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from linearmodels import PanelOLS
from scipy import stats

from excx.errors import InputError, SmallSampleWarning
from excx.linkage.results import LinkageResult, compare

__all__ = [
    "with_lags",
    "fixed_effects",
    "fixed_effects_both_directions",
    "fixed_effects_corrected",
]

logger = logging.getLogger("excx")

#: Fewest units with at least two periods that a clustered estimate accepts.
MIN_UNITS = 5
#: What a sampling-variance column can hold (see fixed_effects_corrected).
VARIANCE_KINDS = ("plug_in", "adjusted_wald", "unbiased")
_ASSOCIATIONAL = (
    "associational: unit and period effects remove stable differences between "
    "units and company-wide shocks, not time-varying confounders; compare with "
    "the reverse direction before reading it as cause"
)


def _period_ordinal(values: pd.Series) -> pd.Series:
    """Consecutive periods as consecutive integers (months, quarters, years)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        months = values.dt.year * 12 + values.dt.month - 1
        distinct = np.unique(months.dropna().to_numpy())
        step = int(np.diff(distinct).min()) if len(distinct) > 1 else 1
        return (months // step).astype("int64")
    if pd.api.types.is_integer_dtype(values):
        return values.astype("int64")
    raise InputError(
        f"period column has dtype {values.dtype}; accepted: datetime (month or "
        "quarter starts) or integer periods"
    )


def with_lags(
    panel: pd.DataFrame,
    columns: Sequence[str],
    lags: Sequence[int] = (1,),
    *,
    unit: str = "unit_id",
    period: str = "period",
) -> pd.DataFrame:
    """Add lagged and lead copies of columns within each unit.

    Parameters
    ----------
    panel
        One row per unit and period.
    columns
        Columns to shift.
    lags
        Positive k adds ``<col>_lag<k>`` (value k periods earlier); negative k
        adds ``<col>_lead<|k|>`` (value |k| periods later).
    unit, period
        Key columns. Periods are datetimes (month or quarter starts; the step
        is the smallest gap between distinct periods) or integers.

    Returns
    -------
    pandas.DataFrame
        A copy of ``panel`` with the new columns. A value is null when the unit
        has no row exactly k periods away (gaps are never bridged).

    Examples
    --------
    >>> import pandas as pd
    >>> p = pd.DataFrame({"unit_id": ["a", "a", "a"], "enps": [10.0, 20.0, 30.0],
    ...     "period": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-04-01"])})
    >>> with_lags(p, ["enps"])["enps_lag1"].tolist()
    [nan, 10.0, nan]
    """
    missing = [c for c in [unit, period, *columns] if c not in panel.columns]
    if missing:
        raise InputError(f"panel has no column(s) {missing}; it has {list(panel)}")
    if panel.duplicated([unit, period]).any():
        raise InputError(f"panel has duplicate ({unit}, {period}) rows")

    out = panel.copy()
    ordinal = _period_ordinal(out[period])
    source = out[[unit, *columns]].assign(_ordinal=ordinal)
    for k in lags:
        if k == 0:
            continue
        suffix = f"_lag{k}" if k > 0 else f"_lead{-k}"
        shifted = source.assign(_ordinal=source["_ordinal"] + k).rename(
            columns={c: f"{c}{suffix}" for c in columns}
        )
        merged = pd.DataFrame({unit: out[unit], "_ordinal": ordinal}).merge(
            shifted, on=[unit, "_ordinal"], how="left", validate="many_to_one"
        )
        for c in columns:
            out[f"{c}{suffix}"] = merged[f"{c}{suffix}"].to_numpy()
    return out


def _term(column: str, lag: int) -> str:
    return f"{column}_lag{lag}" if lag > 0 else column


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


def fixed_effects_corrected(
    panel: pd.DataFrame,
    *,
    y: str = "nps",
    x: str = "enps",
    x_variance: str = "enps_var",
    x_n: str | None = "enps_n",
    x_variance_kind: str = "plug_in",
    lag: int = 1,
    controls: Sequence[str] = (),
    unit: str = "unit_id",
    period: str = "period",
    level: float = 0.95,
) -> LinkageResult:
    r"""Fixed-effects estimate corrected for sampling error in the EX regressor.

    Parameters
    ----------
    panel
        As for :func:`fixed_effects`, plus ``x_variance`` and ``x_n``.
    x_variance, x_n, x_variance_kind
        Sampling variance of each ``x`` cell, respondents per cell, and what the
        variance is: ``"plug_in"`` (default; the panel's ``enps_var``,
        100²·(pP + pD − (pP − pD)²)/n), ``"adjusted_wald"`` (the same with
        Rocks' pseudo-observations, n + 3) or ``"unbiased"`` (used as it is;
        ``x_n`` not needed). The first two are converted exactly to the
        unbiased variance of the plain score (see Notes).
    y, x, lag, controls, unit, period
        As for :func:`fixed_effects`.
    level
        Interval level used in the reading.

    Returns
    -------
    LinkageResult
        Model ``fixed_effects_corrected``, one term (e.g. ``enps_lag1``).
        ``extras["naive"]`` holds the uncorrected :func:`fixed_effects` result
        (show both with :func:`~excx.linkage.results.compare`) and
        ``extras["reliability"]`` the estimated λ.

    Notes
    -----
    Let :math:`\tilde x` be the lagged driver after removing unit and period
    means and residualising on the (demeaned) controls, :math:`\tilde y` the
    outcome treated alike, and :math:`s^2_{ut}` the sampling variance of the
    lagged driver in row (u, t). Removing unit and period means keeps a share
    :math:`k_{ut} = (1 - 1/T_u)(1 - 1/N_t)` of that error variance
    (:math:`T_u` rows of unit u, :math:`N_t` rows of period t; exact for a
    balanced panel, an approximation otherwise), so

    .. math::
        \lambda = 1 - \frac{\sum_{ut} k_{ut} s^2_{ut}}{\sum_{ut}\tilde x^2_{ut}},
        \qquad \hat\beta_c = \hat\beta_{naive} / \lambda
        = \frac{\sum \tilde x\tilde y}{\sum (\tilde x^2 - k s^2)}.

    This is the method-of-moments errors-in-variables estimator with known
    error variance (regression calibration). Its variance is the unit-clustered
    sandwich (delta method) of the estimating equation
    :math:`\sum_u \psi_u(\beta) = 0`, :math:`\psi_u = \sum_t [\tilde x(\tilde y
    - \beta\tilde x) + \beta k s^2]`, times G/(G−1) for G units, with a normal
    interval; the demeaning is treated as fixed. Only the EX driver is
    corrected; controls are taken as error-free.

    An understated error variance leaves the correction short: the plug-in
    variance is low by (n − 1)/n and is multiplied by n/(n − 1); the
    adjusted-Wald variance (DESIGN.md: ¾ promoter and ¾ detractor added,
    n + 3) is low by about (n − 1)/(n + 3), so promoter and detractor counts
    are recovered from the score and that variance, P − D = n·x/100 and
    P + D = (n + 3)·((n + 3)·V/100² + ((P − D)/(n + 3))²) − 3/2, and the unbiased
    variance 100²·((P + D)/n − ((P − D)/n)²)/(n − 1) is used.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(3)
    >>> true = rng.normal(0, 20, 400)
    >>> p = pd.DataFrame({"unit_id": np.repeat(np.arange(40), 10),
    ...     "period": np.tile(pd.date_range("2026-01-01", periods=10, freq="MS"), 40),
    ...     "enps": true + rng.normal(0, 20, 400), "enps_var": 400.0})
    >>> p["nps"] = 0.5 * pd.Series(true).groupby(p["unit_id"]).shift(1)
    >>> p["nps"] += rng.normal(0, 2, 400)
    >>> r = fixed_effects_corrected(p, x_variance_kind="unbiased")
    >>> bool(r.extras["naive"].params["enps_lag1"] < r.params["enps_lag1"])
    True
    """
    model = "fixed_effects_corrected"
    frame, term = _estimation_sample(
        panel,
        y=y,
        x=x,
        lag=lag,
        controls=controls,
        extra=_error_columns(x_variance, x_n, x_variance_kind),
        unit=unit,
        period=period,
    )
    variance = _sampling_variance(frame, term, x_variance, x_n, x_variance_kind, lag)
    naive = _fit(
        frame,
        outcome=y,
        driver=x,
        term=term,
        controls=controls,
        lag=lag,
        model="fixed_effects",
    )
    if naive.reason is not None:
        return LinkageResult.without_estimate(
            model,
            [term],
            naive.reason,
            n_units=naive.n_units,
            n_periods=naive.n_periods,
            n_obs=naive.n_obs,
        )
    estimate = _corrected_moments(frame, y, term, variance, controls)
    if estimate["reliability"] <= 0.1:
        result = LinkageResult.without_estimate(
            model,
            [term],
            f"the within-unit variation of {term} is mostly sampling noise "
            f"(reliability λ = {estimate['reliability']:.2f}); no correction "
            "is reliable",
            n_units=naive.n_units,
            n_periods=naive.n_periods,
            n_obs=naive.n_obs,
        )
        result.extras.update(naive=naive, reliability=estimate["reliability"])
        return result
    return _corrected_result(naive, estimate, term=term, y=y, x=x, lag=lag, level=level)


def _error_columns(x_variance: str, x_n: str | None, kind: str) -> tuple[str, ...]:
    """Columns the error variance needs, after checking the kind."""
    if kind not in VARIANCE_KINDS:
        raise InputError(
            f"x_variance_kind={kind!r}; accepted: {', '.join(VARIANCE_KINDS)}"
        )
    if kind == "unbiased":
        return (x_variance,)
    if x_n is None:
        raise InputError(f"x_variance_kind={kind!r} needs x_n (respondents per cell)")
    return (x_variance, x_n)


def _sampling_variance(
    frame: pd.DataFrame,
    term: str,
    x_variance: str,
    x_n: str | None,
    kind: str,
    lag: int,
) -> np.ndarray:
    """Unbiased sampling variance of the (lagged) driver, per row."""
    variance = frame[_term(x_variance, lag)].to_numpy(dtype=float)
    if kind == "unbiased":
        return variance
    n = frame[_term(x_n, lag)].to_numpy(dtype=float)
    if np.any(n < 2):
        raise InputError(f"{x_n} must be at least 2 respondents in every used cell")
    if kind == "plug_in":
        return variance * n / (n - 1)
    net = n * frame[term].to_numpy(dtype=float) / 100
    both = (n + 3) * ((n + 3) * variance / 100**2 + (net / (n + 3)) ** 2) - 1.5
    return 100**2 * (both / n - (net / n) ** 2) / (n - 1)


def _corrected_moments(
    frame: pd.DataFrame,
    y: str,
    term: str,
    variance: np.ndarray,
    controls: Sequence[str],
) -> dict[str, float]:
    """Reliability, corrected slope and its clustered sandwich variance."""
    demeaned = _demean(frame, [y, term, *controls])
    x_t, y_t = demeaned[term].to_numpy(), demeaned[y].to_numpy()
    if controls:
        c = demeaned[list(controls)].to_numpy()
        x_t = x_t - c @ np.linalg.lstsq(c, x_t, rcond=None)[0]
        y_t = y_t - c @ np.linalg.lstsq(c, y_t, rcond=None)[0]
    per_unit = frame.groupby("_unit")["_period"].transform("size").to_numpy()
    per_period = frame.groupby("_period")["_unit"].transform("size").to_numpy()
    error_var = variance * (1 - 1 / per_unit) * (1 - 1 / per_period)

    sxx, sxy, d = x_t @ x_t, x_t @ y_t, error_var.sum()
    beta = sxy / (sxx - d)
    score = pd.Series(x_t * (y_t - beta * x_t) + beta * error_var)
    per_unit = score.groupby(frame["_unit"].to_numpy()).sum().to_numpy()
    groups = len(per_unit)
    variance_beta = groups / (groups - 1) * (per_unit @ per_unit) / (sxx - d) ** 2
    return {
        "beta": float(beta),
        "std_error": float(np.sqrt(variance_beta)),
        "reliability": float(1 - d / sxx),
        "naive_beta": float(sxy / sxx),
    }


def _corrected_result(
    naive: LinkageResult,
    estimate: dict[str, float],
    *,
    term: str,
    y: str,
    x: str,
    lag: int,
    level: float,
) -> LinkageResult:
    beta, se, lam = estimate["beta"], estimate["std_error"], estimate["reliability"]
    z = stats.norm.ppf((1 + level) / 2)
    p_value = 2 * stats.norm.sf(abs(beta / se))
    naive_beta = float(naive.params[term])
    statement = (
        f"Corrected for sampling error in {x} (reliability λ = {lam:.2f}), a "
        f"10-point within-unit rise in {x} goes with {10 * beta:+.2f} points of {y} "
        f"{lag} period(s) later ({level:.0%} interval {10 * (beta - z * se):+.2f} "
        f"to {10 * (beta + z * se):+.2f}); uncorrected: {10 * naive_beta:+.2f}."
    )
    caveats = [_ASSOCIATIONAL]
    if lam < 0.5:
        caveats.append(
            f"reliability λ = {lam:.2f} is low: more than half of the within-unit "
            f"variation of {x} is sampling noise, so the correction is large and "
            "its interval wide"
        )
    return LinkageResult(
        model="fixed_effects_corrected",
        params=pd.Series({term: beta}),
        std_errors=pd.Series({term: se}),
        pvalues=pd.Series({term: p_value}),
        n_units=naive.n_units,
        n_periods=naive.n_periods,
        n_obs=naive.n_obs,
        statements=(statement,),
        caveats=tuple(caveats),
        extras={"naive": naive, "reliability": lam},
    )
