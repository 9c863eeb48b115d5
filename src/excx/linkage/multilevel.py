r"""Random-intercept models of customer scores fitted from sufficient statistics.

Customers are nested in units; the unit's employee experience is a covariate of
the cell (unit, or unit × period) the customer was served in. Because every
covariate is constant within a cell, the individual-level likelihood depends on the
data only through per-cell counts, sums and sums of squares, so the model is fitted
exactly from what the engine aggregates — no customer row leaves the database.

The same code fits ordinary individual rows (every row its own cell), which is how
it is checked against lme4 and statsmodels.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import optimize, stats

from excx.errors import InputError, SmallSampleWarning
from excx.linkage.results import LinkageResult

__all__ = ["multilevel", "random_intercept"]

logger = logging.getLogger("excx")

#: Fewest units a random-intercept variance is estimated from.
MIN_UNITS = 5


def multilevel(
    cells: pd.DataFrame,
    *,
    y: str = "nps",
    x: str = "enps",
    unit: str = "unit_id",
    period: str = "period",
    centre: bool = True,
    method: str = "reml",
) -> LinkageResult:
    r"""Customer score on the unit's EX, unit random intercept, from cell sums.

    Parameters
    ----------
    cells
        One row per unit (or unit × period) with ``x`` and, for the customer
        score ``y``, the columns ``{y}_n`` (answers), ``{y}_sum`` (sum of the
        scores) and ``{y}_sumsq`` (sum of squared scores). For NPS the score of
        one customer is +100 (promoter), 0 or −100 (detractor). Lacking the
        sums, ``{y}`` (cell mean) and ``{y}_var`` (plug-in variance of that
        mean, population variance / n, as :func:`excx.linkage.panel.panel`
        delivers it) give them exactly: sum = n·ȳ, sumsq = n²·var + n·ȳ².
    y, x
        Customer score prefix and EX column (e.g. ``enps``).
    unit, period
        Grouping column; ``period`` only counts periods when present.
    centre
        Split ``x`` into ``{x}_between`` (the unit's customer-weighted mean of
        ``x``, centred at the customer-weighted grand mean) and ``{x}_within``
        (cell value minus the unit mean; present only when ``x`` varies within
        units). With ``centre=False`` ``x`` enters as it is.
    method
        ``"reml"`` (default) or ``"ml"``.

    Returns
    -------
    LinkageResult
        Model ``multilevel``; terms ``Intercept`` and the EX terms. ``extras``:
        ``unit_variance``, ``residual_variance``, ``icc``, ``log_likelihood``,
        ``method``.

    Notes
    -----
    Model: :math:`y_{iuc} = z_{uc}'\beta + a_u + e_{iuc}`,
    :math:`a_u \sim N(0, \tau^2)`, :math:`e \sim N(0, \sigma^2)`. With
    :math:`\theta = \tau^2/\sigma^2` and :math:`\gamma_u = \theta/(1 + n_u\theta)`,
    the marginal covariance of unit u inverts in closed form, so all that is
    needed are the per-unit moments :math:`n_u`, :math:`Z'Z`, :math:`Z'1`,
    :math:`Z'y`, :math:`1'y`, :math:`y'y`, built from cell counts, sums and sums
    of squares. With :math:`A = \sum_u (Z'Z - \gamma_u Z'1\,1'Z)`,
    :math:`b = \sum_u (Z'y - \gamma_u Z'1\,1'y)`, :math:`c = \sum_u (y'y -
    \gamma_u (1'y)^2)`, :math:`\hat\beta = A^{-1}b` and
    :math:`RSS = c - b'\hat\beta`, the profiled REML criterion is

    .. math::
        -2\ell_R(\theta) = (N-p)\{1 + \log(2\pi\,RSS/(N-p))\}
        + \sum_u \log(1 + n_u\theta) + \log\det A,

    minimised over :math:`\log\theta` (grid, then bounded Brent; θ = 0 is
    checked). :math:`\hat\sigma^2 = RSS/(N-p)`, :math:`\hat\tau^2 =
    \theta\hat\sigma^2`, :math:`\mathrm{cov}(\hat\beta) = \hat\sigma^2 A^{-1}`,
    Wald z p-values. ML replaces :math:`N-p` by N and drops
    :math:`\log\det A`. Cells with a null ``x`` (suppressed) are left out with a
    :class:`~excx.errors.SmallSampleWarning`.

    Examples
    --------
    >>> import pandas as pd
    >>> cells = pd.DataFrame({"unit_id": list("abcdef"),
    ...     "enps": [10.0, 20, 30, 40, 50, 60], "nps_n": [4, 4, 4, 4, 4, 4],
    ...     "nps_sum": [0.0, 100, 100, 200, 300, 200],
    ...     "nps_sumsq": [20000.0, 30000, 10000, 20000, 30000, 20000]})
    >>> r = multilevel(cells)
    >>> list(r.params.index)
    ['Intercept', 'enps_between']
    """
    columns = [f"{y}_n", f"{y}_sum", f"{y}_sumsq"]
    if not {columns[1], columns[2]} <= set(cells.columns) and {
        y,
        f"{y}_var",
        columns[0],
    } <= set(cells.columns):
        n_cell = cells[columns[0]]
        cells = cells.assign(
            **{
                columns[1]: n_cell * cells[y],
                columns[2]: n_cell**2 * cells[f"{y}_var"] + n_cell * cells[y] ** 2,
            }
        )
    missing = [c for c in [unit, x, *columns] if c not in cells.columns]
    if missing:
        raise InputError(f"cells have no column(s) {missing}; they have {list(cells)}")
    if cells[x].notna().sum() == 0:
        raise InputError(
            f"every {x} cell is null (suppressed by the privacy threshold or not "
            "collected); no multilevel model can be estimated"
        )
    used = cells.loc[cells[x].notna() & cells[columns].notna().all(axis=1)]
    used = used.loc[used[columns[0]].gt(0)]
    dropped = int(cells[x].isna().sum())
    if dropped:
        warnings.warn(
            f"{dropped} cell(s) with a null {x} (suppressed or not collected) "
            "were left out",
            SmallSampleWarning,
            stacklevel=2,
        )
    if used[unit].nunique() < 2:
        raise InputError(
            f"{used[unit].nunique()} unit(s) have both {x} and {y} answers; a "
            "multilevel model needs at least 2"
        )
    n = used[f"{y}_n"].to_numpy(dtype=float)
    sums = used[f"{y}_sum"].to_numpy(dtype=float)
    squares = used[f"{y}_sumsq"].to_numpy(dtype=float)
    bad = np.flatnonzero(squares - sums**2 / n < -1e-9 * np.maximum(squares, 1))
    if len(bad):
        raise InputError(
            f"cells row {used.index[bad[0]]}: {y}_sumsq is smaller than "
            f"{y}_sum²/{y}_n, which no set of scores can produce"
        )

    design, names = _cell_design(used, x=x, unit=unit, n=n, centre=centre)
    n_periods = used[period].nunique() if period in used.columns else 1
    return _fit(
        used[unit].to_numpy(),
        design,
        names,
        n,
        sums,
        squares,
        method=method,
        n_periods=n_periods,
        x=x,
    )


def random_intercept(
    rows: pd.DataFrame,
    *,
    y: str,
    x: Sequence[str],
    unit: str,
    method: str = "reml",
) -> LinkageResult:
    """The same random-intercept fit on individual rows (any covariates).

    Each row is its own cell, so covariates may vary within units (as ``Days``
    does in lme4's sleepstudy). Terms: ``Intercept`` then ``x``.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"g": list("aabbccddee"), "t": [0, 1] * 5,
    ...     "score": [1.0, 2.2, 2.0, 2.9, 0.5, 1.7, 1.5, 2.4, 3.0, 4.1]})
    >>> r = random_intercept(rows, y="score", x=["t"], unit="g")
    >>> round(float(r.params["t"]), 2)
    1.06
    """
    missing = [c for c in [unit, y, *x] if c not in rows.columns]
    if missing:
        raise InputError(f"rows have no column(s) {missing}; they have {list(rows)}")
    rows = rows.dropna(subset=[unit, y, *x])
    values = rows[y].to_numpy(dtype=float)
    design = np.column_stack([np.ones(len(rows)), rows[list(x)].to_numpy(float)])
    return _fit(
        rows[unit].to_numpy(),
        design,
        ["Intercept", *x],
        np.ones(len(rows)),
        values,
        values**2,
        method=method,
        n_periods=1,
        x=x[0] if x else "x",
    )


def _cell_design(
    cells: pd.DataFrame, *, x: str, unit: str, n: np.ndarray, centre: bool
) -> tuple[np.ndarray, list[str]]:
    """Intercept plus EX (split into between and within parts when centring)."""
    value = cells[x].to_numpy(dtype=float)
    if not centre:
        return np.column_stack([np.ones(len(cells)), value]), ["Intercept", x]
    weights = pd.Series(n * value).groupby(cells[unit].to_numpy()).transform("sum")
    totals = pd.Series(n).groupby(cells[unit].to_numpy()).transform("sum")
    unit_mean = (weights / totals).to_numpy()
    between = unit_mean - np.sum(n * value) / np.sum(n)
    within = value - unit_mean
    columns, names = [np.ones(len(cells)), between], ["Intercept", f"{x}_between"]
    if np.abs(within).max() > 1e-12 * max(1.0, np.abs(value).max()):
        columns.append(within)
        names.append(f"{x}_within")
    return np.column_stack(columns), names


def _unit_moments(codes: np.ndarray, z: np.ndarray, n, sums, squares) -> dict:
    """Per-unit n, Z'1, 1'y, Z'Z, Z'y, y'y from per-cell counts and sums."""
    groups = codes.max() + 1
    p = z.shape[1]
    moments = {
        "n": np.bincount(codes, weights=n, minlength=groups),
        "sy": np.bincount(codes, weights=sums, minlength=groups),
        "yy": np.bincount(codes, weights=squares, minlength=groups),
        "sx": np.zeros((groups, p)),
        "xy": np.zeros((groups, p)),
        "xx": np.zeros((groups, p, p)),
    }
    np.add.at(moments["sx"], codes, n[:, None] * z)
    np.add.at(moments["xy"], codes, sums[:, None] * z)
    np.add.at(moments["xx"], codes, n[:, None, None] * z[:, :, None] * z[:, None, :])
    return moments


def _profile(log_theta: float, m: dict, reml: bool) -> tuple[float, dict]:
    """−2 log-likelihood profiled over β and σ², at θ = exp(log_theta)."""
    theta = 0.0 if log_theta == -np.inf else np.exp(log_theta)
    gamma = theta / (1 + m["n"] * theta)
    a = m["xx"].sum(0) - np.einsum("u,ui,uj->ij", gamma, m["sx"], m["sx"])
    b = m["xy"].sum(0) - np.einsum("u,ui->i", gamma * m["sy"], m["sx"])
    c = m["yy"].sum() - np.sum(gamma * m["sy"] ** 2)
    beta = np.linalg.solve(a, b)
    rss = c - b @ beta
    total, p = m["n"].sum(), len(b)
    dof = total - p if reml else total
    deviance = dof * (1 + np.log(2 * np.pi * rss / dof))
    deviance += np.sum(np.log1p(m["n"] * theta))
    if reml:
        deviance += np.linalg.slogdet(a)[1]
    return deviance, {"beta": beta, "a": a, "sigma2": rss / dof, "theta": theta}


def _optimise(m: dict, reml: bool) -> tuple[float, dict]:
    """Grid over log θ, then bounded Brent around the best grid point."""
    grid = np.linspace(-20, 10, 61)
    values = [_profile(g, m, reml)[0] for g in grid]
    best = int(np.argmin(values))
    low, high = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    found = optimize.minimize_scalar(
        lambda g: _profile(g, m, reml)[0],
        bounds=(low, high),
        method="bounded",
        options={"xatol": 1e-10},
    )
    boundary = _profile(-np.inf, m, reml)
    if boundary[0] <= found.fun:
        return boundary
    return _profile(found.x, m, reml)


def _fit(
    units: np.ndarray,
    design: np.ndarray,
    names: list[str],
    n: np.ndarray,
    sums: np.ndarray,
    squares: np.ndarray,
    *,
    method: str,
    n_periods: int,
    x: str,
) -> LinkageResult:
    if method not in ("reml", "ml"):
        raise InputError(f"method must be 'reml' or 'ml', got {method!r}")
    codes, labels = pd.factorize(units)
    n_units = len(labels)
    if n_units < MIN_UNITS:
        raise InputError(
            f"too few units: a unit random intercept needs at least {MIN_UNITS} "
            f"units with answers, got {n_units}"
        )
    if np.linalg.matrix_rank(design) < design.shape[1]:
        return LinkageResult.without_estimate(
            "multilevel",
            names,
            f"{', '.join(names[1:])} do(es) not vary across the cells (or are "
            "collinear), so no slope can be estimated",
            n_units=n_units,
            n_periods=n_periods,
            n_obs=int(n.sum()),
        )

    moments = _unit_moments(codes, design, n, sums, squares)
    deviance, fit = _optimise(moments, method == "reml")
    logger.info("multilevel %s fit: %d units, %d answers", method, n_units, n.sum())
    return _result(fit, deviance, names, n_units, n_periods, int(n.sum()), method, x)


def _result(fit, deviance, names, n_units, n_periods, n_obs, method, x):
    sigma2 = fit["sigma2"]
    tau2 = fit["theta"] * sigma2
    cov = sigma2 * np.linalg.inv(fit["a"])
    params = pd.Series(fit["beta"], index=names)
    errors = pd.Series(np.sqrt(np.diag(cov)), index=names)
    pvalues = pd.Series(2 * stats.norm.sf(np.abs(params / errors)), index=names)

    statements = []
    if f"{x}_between" in params:
        statements.append(
            f"Customers of a unit whose {x} is 10 points above another unit's score "
            f"{10 * params[f'{x}_between']:+.2f} points higher on average (between "
            "units)."
        )
    if f"{x}_within" in params:
        statements.append(
            f"When a unit's {x} is 10 points above its own average, its customers "
            f"score {10 * params[f'{x}_within']:+.2f} points (within units)."
        )
    statements.append(
        f"Units differ with a standard deviation of {np.sqrt(tau2):.1f} points "
        f"beyond {x} (ICC {tau2 / (tau2 + sigma2):.2f})."
    )
    return LinkageResult(
        model="multilevel",
        params=params,
        std_errors=errors,
        pvalues=pvalues,
        n_units=n_units,
        n_periods=n_periods,
        n_obs=n_obs,
        statements=tuple(statements),
        caveats=(
            "associational: the between-unit slope also carries anything else in "
            "which units with high and low EX differ; the within-unit slope is the "
            "firmer of the two",
        ),
        extras={
            "unit_variance": float(tau2),
            "residual_variance": float(sigma2),
            "icc": float(tau2 / (tau2 + sigma2)),
            "log_likelihood": float(-deviance / 2),
            "method": method,
        },
    )
