r"""The service-profit chain as a path model of sequential regressions.

Employee experience → service quality → customer loyalty → revenue: every variable
of the path is regressed on all the variables before it (a full recursive model,
Hayes' serial mediation), with unit and period effects removed by demeaning. The
indirect effect is the product of the consecutive path coefficients; intervals come
from a unit-resampling (cluster) bootstrap computed from per-unit cross-product
matrices, so a draw is a weighted sum, not a refit.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from excx.errors import InputError, SmallSampleWarning
from excx.linkage.fixed_effects import MIN_UNITS, _demean
from excx.linkage.lags import with_lags
from excx.linkage.measurement_error import _error_columns, _sampling_variance
from excx.linkage.results import LinkageResult

__all__ = ["chain"]

logger = logging.getLogger("excx")

_LABEL = (
    "associational: the paths are conditional associations within units over "
    "time; reading them as causal needs a design that moves EX from outside "
    "(a staggered programme roll-out, an encouragement design) or an instrument"
)


# A floor against meaningless percentile intervals (and division by zero draws).
MIN_BOOT = 10


def chain(
    panel: pd.DataFrame,
    *,
    path: Sequence[str] = ("enps", "quality", "nps", "revenue"),
    lag: int = 1,
    n_boot: int = 2000,
    seed: int = 0,
    effects: str | None = "two_way",
    controls: Sequence[str] = (),
    x_variance: str | None = None,
    x_n: str | None = None,
    x_variance_kind: str = "plug_in",
    unit: str | None = "unit_id",
    period: str | None = "period",
    money_step: float | None = 10.0,
    periods_per_year: int | None = None,
    currency: str = "€",
) -> LinkageResult:
    r"""Path model of the service-profit chain with cluster-bootstrap intervals.

    Parameters
    ----------
    panel
        Unit × period rows (or, with ``effects=None`` and ``unit=None``,
        independent rows such as one per respondent).
    path
        Variables in causal order; the first is lagged by ``lag`` periods.
    lag
        Periods between the first variable and the rest (0 = same period).
    n_boot, seed
        Bootstrap draws (at least 2,000 recommended) and their seed.
    effects
        ``"two_way"``: remove unit and period means from every variable;
        ``None``: plain regressions with an intercept.
    controls
        Extra columns entered in every equation.
    x_variance, x_n, x_variance_kind
        Optional sampling variance of the first variable, respondents per cell
        and the kind of variance, as in
        :func:`~excx.linkage.fixed_effects_corrected`: when given,
        the paths are corrected for its sampling error by subtracting the
        retained error variance from each unit's cross-product matrix.
    unit, period
        Key columns; ``unit`` is the resampling cluster (``None``: every row).
    money_step
        Size of the EX change translated into outcome and money (``None``: no
        ``chain_money`` rows).
    periods_per_year
        Periods in a year for the money row; inferred from monthly or quarterly
        datetime periods when not given.
    currency
        Symbol used in the reading.

    Returns
    -------
    LinkageResult
        Model ``chain_indirect`` with one term per path coefficient
        (``"quality~enps_lag1"``, …), ``indirect`` (product along the chain),
        ``direct`` (last on first) and ``total`` (all paths). With
        ``money_step``, ``chain_money`` rows: ``{path[-2]}_per_{step}_{first}``
        and ``{path[-1]}_per_{step}_{first}_per_year``. Percentile intervals
        from the draws (:attr:`~LinkageResult.draws`); p-values are two-sided
        bootstrap proportions (floored at 1/n_boot).

    Notes
    -----
    Variables :math:`v_1..v_K` (:math:`v_1` lagged), after demeaning. Equation
    k regresses :math:`v_k` on :math:`v_1..v_{k-1}` and the controls. Let
    :math:`M_u = Z_u'Z_u` be unit u's cross-product matrix of all variables
    (plus an intercept when ``effects=None``). Every coefficient is a function
    of :math:`M = \sum_u M_u`; a bootstrap draw resamples units with
    replacement, i.e. :math:`M^{(b)} = \sum_u w_{bu} M_u` with multinomial
    counts :math:`w_b`, computed for all draws as one (B, J) @ (J, k²) product.
    With the coefficient matrix B (:math:`B_{kj}` = effect of :math:`v_j` on
    :math:`v_k`), total effects are :math:`(I - B)^{-1} - I`; the indirect
    effect is :math:`\prod_k B_{k+1,k}`. The money row is ``money_step`` × the
    total effect of :math:`v_1` on :math:`v_K` × periods per year: a sustained
    change over one year, in the unit of :math:`v_K` per unit and period. The
    demeaning is done once on the full sample (not per draw). With
    ``x_variance``, :math:`M_u[v_1, v_1]` is reduced by
    :math:`\sum_t k_{ut}s^2_{ut}` (the method-of-moments errors-in-variables
    correction of :func:`~excx.linkage.fixed_effects_corrected`, with
    :math:`k_{ut} = 1` when ``effects=None``), so every path is corrected and
    the correction is resampled with its unit.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=200)
    >>> m = 0.5 * x + rng.normal(size=200)
    >>> rows = pd.DataFrame({"x": x, "m": m, "y": 0.4 * m + rng.normal(size=200)})
    >>> r = chain(rows, path=("x", "m", "y"), lag=0, effects=None, unit=None,
    ...           period=None, money_step=None, n_boot=500)
    >>> bool(0.1 < r.params["indirect"] < 0.35)  # true indirect effect 0.2
    True
    """
    if n_boot < MIN_BOOT:
        raise InputError(
            f"n_boot={n_boot!r}; accepted: at least {MIN_BOOT} bootstrap draws "
            "(2,000 or more for the reported intervals)"
        )
    error = _error_columns(x_variance, x_n, x_variance_kind) if x_variance else ()
    frame, names = _prepare(panel, path, lag, effects, controls, unit, period, error)
    design = names + list(controls)
    if effects == "two_way":
        values = _demean(frame, design).to_numpy()
    else:
        values = np.column_stack([np.ones(len(frame)), frame[design].to_numpy(float)])
    offset = 0 if effects == "two_way" else 1
    reason = _check_design(values[:, offset:], design, len(names), effects)
    if reason is not None:
        return LinkageResult.without_estimate(
            "chain_indirect",
            ["indirect", "direct", "total"],
            reason,
            n_units=int(frame["_unit"].nunique()),
            n_periods=int(frame["_period"].nunique()),
            n_obs=len(frame),
        )
    codes, units = pd.factorize(frame["_unit"])
    moments = _unit_moments(codes, values, len(units))
    if error:
        moments[:, offset, offset] -= _error_per_unit(
            frame, codes, names[0], error, lag, effects, x_variance_kind
        )

    point = _effects(moments.sum(0)[None], len(names), offset)
    weights = np.random.default_rng(seed).multinomial(
        len(units), np.full(len(units), 1 / len(units)), size=n_boot
    )
    draws = _effects(
        (weights @ moments.reshape(len(units), -1)).reshape(n_boot, *moments.shape[1:]),
        len(names),
        offset,
    )
    params, draws = _terms(point, draws, names)
    if money_step is not None:
        per_year = periods_per_year or _periods_per_year(frame)
        params, draws = _money(params, draws, names, money_step, per_year)
    logger.info(
        "chain %s: %d rows, %d units, %d draws", names, len(frame), len(units), n_boot
    )
    return _result(params, draws, frame, names, money_step, currency)


def _prepare(panel, path, lag, effects, controls, unit, period, error):
    """Lag the first variable, drop incomplete rows, check what is estimable."""
    if len(path) < 2:
        raise InputError(f"path needs at least two variables, got {list(path)}")
    if effects not in ("two_way", None):
        raise InputError(f"effects must be 'two_way' or None, got {effects!r}")
    if effects == "two_way" and (unit is None or period is None):
        raise InputError("effects='two_way' needs both unit and period columns")
    keys = [c for c in (unit, period) if c is not None]
    missing = [c for c in [*keys, *path, *controls, *error] if c not in panel.columns]
    if missing:
        raise InputError(f"panel has no column(s) {missing}; it has {list(panel)}")
    if panel[path[0]].notna().sum() == 0:
        raise InputError(f"every {path[0]} cell is null (suppressed or not collected)")

    first = f"{path[0]}_lag{lag}" if lag > 0 else path[0]
    if lag > 0:
        if unit is None or period is None:
            raise InputError("a lag needs unit and period columns")
        panel = with_lags(panel, [path[0], *error], (lag,), unit=unit, period=period)
    names = [first, *path[1:]]
    shifted = [f"{c}_lag{lag}" if lag > 0 else c for c in error]
    frame = panel[[*keys, *names, *controls, *shifted]].dropna().reset_index(drop=True)
    frame["_unit"] = frame[unit] if unit is not None else np.arange(len(frame))
    frame["_period"] = frame[period] if period is not None else 0

    if effects == "two_way":
        sizes = frame.groupby("_unit")["_period"].transform("size")
        if (sizes < 2).any():
            warnings.warn(
                f"{frame.loc[sizes < 2, '_unit'].nunique()} unit(s) have a single "
                "complete period and were dropped",
                SmallSampleWarning,
                stacklevel=3,
            )
            frame = frame.loc[sizes >= 2].reset_index(drop=True)
    if frame["_unit"].nunique() < MIN_UNITS:
        raise InputError(
            f"too few units with every path variable observed: "
            f"{frame['_unit'].nunique()}; the cluster bootstrap needs at least "
            f"{MIN_UNITS}"
        )
    return frame, names


def _error_per_unit(frame, codes, first, error, lag, effects, kind) -> np.ndarray:
    """Per unit, the sampling-error variance the (demeaned) first variable keeps."""
    x_n = error[1] if len(error) == 2 else None
    variance = _sampling_variance(frame, first, error[0], x_n, kind, lag)
    if effects == "two_way":
        per_unit = frame.groupby("_unit")["_period"].transform("size").to_numpy()
        per_period = frame.groupby("_period")["_unit"].transform("size").to_numpy()
        variance = variance * (1 - 1 / per_unit) * (1 - 1 / per_period)
    return np.bincount(codes, weights=variance, minlength=codes.max() + 1)


def _check_design(values, design, k, effects) -> str | None:
    """A reason when a path variable is constant; an error for collinear columns."""
    scale = np.maximum(np.abs(values).max(0), 1.0)
    flat = [
        name
        for name, sd in zip(design, values.std(0) / scale, strict=True)
        if sd < 1e-10
    ]
    if flat:
        where = " within units once period effects are removed" if effects else ""
        return f"{', '.join(flat)} do(es) not vary{where}; the paths are not estimable"
    if np.linalg.matrix_rank(values) < values.shape[1]:
        raise InputError(
            f"path variables and controls {design} are collinear"
            f"{' after removing unit and period means' if effects else ''}; drop "
            "the redundant control(s)"
        )
    return None


def _unit_moments(codes: np.ndarray, values: np.ndarray, groups: int) -> np.ndarray:
    """Per-unit cross-product matrices Z_u'Z_u, shape (J, k, k)."""
    moments = np.zeros((groups, values.shape[1], values.shape[1]))
    np.add.at(moments, codes, values[:, :, None] * values[:, None, :])
    return moments


def _effects(m: np.ndarray, k: int, offset: int) -> np.ndarray:
    """Coefficient matrices B (draws, k, k) from stacked moment matrices."""
    draws = m.shape[0]
    coef = np.zeros((draws, k, k))
    extra = list(range(offset + k, m.shape[1]))
    for target in range(1, k):
        predictors = list(range(offset)) + list(range(offset, offset + target)) + extra
        a = m[:, predictors][:, :, predictors]
        b = m[:, predictors, offset + target]
        try:
            solved = np.linalg.solve(a, b[..., None])[..., 0]
        except np.linalg.LinAlgError:
            solved = np.einsum("bij,bj->bi", np.linalg.pinv(a), b)
        coef[:, target, :target] = solved[:, offset : offset + target]
    return coef


def _terms(point: np.ndarray, draws: np.ndarray, names: list[str]):
    """Named path coefficients, indirect, direct and total effects."""
    k = len(names)
    labels, columns = [], []
    for target in range(1, k):
        for source in range(target):
            labels.append(f"{names[target]}~{names[source]}")
            columns.append((target, source))

    def table(coef: np.ndarray) -> pd.DataFrame:
        total = np.linalg.inv(np.eye(k)[None] - coef) - np.eye(k)[None]
        frame = pd.DataFrame(
            {
                label: coef[:, t, s]
                for label, (t, s) in zip(labels, columns, strict=True)
            }
        )
        frame["indirect"] = np.prod([coef[:, i + 1, i] for i in range(k - 1)], 0)
        frame["direct"] = coef[:, k - 1, 0]
        frame["total"] = total[:, k - 1, 0]
        frame["_total_penultimate"] = total[:, k - 2, 0]
        return frame

    return table(point).iloc[0], table(draws)


def _periods_per_year(frame: pd.DataFrame) -> int:
    periods = frame["_period"]
    if not pd.api.types.is_datetime64_any_dtype(periods):
        raise InputError(
            "periods_per_year is needed for the money row when periods are not "
            "datetimes"
        )
    months = np.unique(periods.dt.year * 12 + periods.dt.month)
    step = int(np.diff(months).min()) if len(months) > 1 else 1
    return 12 // step


def _money(params, draws, names, step, per_year):
    first = names[0].split("_lag")[0]
    label = f"{step:g}_{first}"
    outcome, money = f"{names[-2]}_per_{label}", f"{names[-1]}_per_{label}_per_year"
    for frame in (params, draws):
        frame[outcome] = step * frame["_total_penultimate"]
        frame[money] = step * frame["total"] * per_year
    return params, draws


def _result(params, draws, frame, names, money_step, currency) -> LinkageResult:
    params = params.drop("_total_penultimate")
    draws = draws.drop(columns="_total_penultimate")
    n_boot = len(draws)
    share_below = (draws <= 0).mean()
    share_above = (draws >= 0).mean()
    pvalues = np.maximum(2 * np.minimum(share_below, share_above), 1 / n_boot)
    low, high = draws.quantile([0.025, 0.975]).to_numpy()

    term_models, statements = {}, []
    idx = {t: i for i, t in enumerate(params.index)}
    statements.append(
        f"Indirect effect along {' → '.join(names)}: {params['indirect']:.4g} "
        f"(95% interval {low[idx['indirect']]:.4g} to {high[idx['indirect']]:.4g}); "
        f"total effect of {names[0]} on {names[-1]}: {params['total']:.4g}."
    )
    if money_step is not None:
        outcome_term, money_term = list(params.index[-2:])
        term_models = {outcome_term: "chain_money", money_term: "chain_money"}
        money = [params[money_term], low[idx[money_term]], high[idx[money_term]]]
        amount, low_amount, high_amount = (_amount(v, currency) for v in money)
        statements.append(
            f"+{money_step:g} {names[0].split('_lag')[0]} points ≈ "
            f"{params[outcome_term]:+.2f} {names[-2]} ≈ {amount} {names[-1]} per "
            f"unit per year (95% interval {low_amount} to {high_amount}); "
            "associational."
        )
    return LinkageResult(
        model="chain_indirect",
        params=params.astype(float),
        std_errors=draws.std(ddof=1),
        pvalues=pvalues,
        n_units=int(frame["_unit"].nunique()),
        n_periods=int(frame["_period"].nunique()),
        n_obs=len(frame),
        statements=tuple(statements),
        caveats=(_LABEL,),
        draws=draws,
        term_models=term_models,
        extras={"path": names, "n_boot": n_boot},
    )


def _amount(value: float, currency: str) -> str:
    return f"{'-' if value < 0 else '+'}{currency}{abs(value):,.0f}"
