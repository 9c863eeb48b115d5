"""Results objects shared by the linkage models.

Every linkage model returns a :class:`LinkageResult`: named series of estimates,
standard errors and p-values indexed by term, intervals at any level, one tidy
row per term (:meth:`LinkageResult.to_frame`), a printable summary and a
plain-language reading with its caveats. When a model cannot produce an
estimate, the result says why in :attr:`LinkageResult.reason` instead of
returning bare NaN values.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from excx.errors import InputError

__all__ = ["LinkageResult", "LinkageSummary", "MODEL_NAMES", "compare"]

#: The model names a result row can carry, in display order.
MODEL_NAMES = (
    "fixed_effects",
    "fixed_effects_corrected",
    "fixed_effects_reverse",
    "multilevel",
    "chain_indirect",
    "chain_money",
)

FRAME_COLUMNS = [
    "model",
    "term",
    "estimate",
    "std_error",
    "ci_low",
    "ci_high",
    "p_value",
    "n_units",
    "n_periods",
    "reason",
]


@dataclass(eq=False)
class LinkageResult:
    """Estimates of one linkage model, with their uncertainty and caveats.

    Parameters
    ----------
    model
        One of :data:`MODEL_NAMES`.
    params, std_errors, pvalues
        Series indexed by term (e.g. ``enps_lag1``).
    n_units, n_periods, n_obs
        Units, periods and unit-period rows the estimate rests on.
    reason
        ``None``, or why there is no estimate (the series then hold NaN).
    statements
        Plain-language sentences that :meth:`reading` returns first.
    caveats
        Statistical caveats that :meth:`reading` appends.
    draws
        Bootstrap draws (rows = draws, columns = terms); when given,
        :meth:`conf_int` returns percentile intervals from them, otherwise
        normal intervals ``estimate ± z · std_error``.
    term_models
        Model name per term where it differs from ``model`` (the chain's
        money rows are ``chain_money``).
    extras
        Model-specific values (reliability, variance components, …).

    Examples
    --------
    >>> import pandas as pd
    >>> r = LinkageResult(
    ...     model="fixed_effects",
    ...     params=pd.Series({"enps_lag1": 0.2}),
    ...     std_errors=pd.Series({"enps_lag1": 0.05}),
    ...     pvalues=pd.Series({"enps_lag1": 6e-5}),
    ...     n_units=40, n_periods=12, n_obs=440,
    ... )
    >>> round(float(r.conf_int().loc["enps_lag1", "ci_low"]), 3)
    0.102
    """

    model: str
    params: pd.Series
    std_errors: pd.Series
    pvalues: pd.Series
    n_units: int
    n_periods: int
    n_obs: int
    reason: str | None = None
    statements: tuple[str, ...] = ()
    caveats: tuple[str, ...] = ()
    draws: pd.DataFrame | None = None
    term_models: Mapping[str, str] = field(default_factory=dict)
    extras: dict = field(default_factory=dict)

    @classmethod
    def without_estimate(
        cls,
        model: str,
        terms: Sequence[str],
        reason: str,
        *,
        n_units: int = 0,
        n_periods: int = 0,
        n_obs: int = 0,
    ) -> LinkageResult:
        """A result that carries no estimate, only the reason why."""
        empty = pd.Series(np.nan, index=list(terms), dtype=float)
        return cls(
            model=model,
            params=empty,
            std_errors=empty.copy(),
            pvalues=empty.copy(),
            n_units=n_units,
            n_periods=n_periods,
            n_obs=n_obs,
            reason=reason,
        )

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Intervals per term, columns ``ci_low`` and ``ci_high``.

        Percentile intervals of the bootstrap draws when the model kept them,
        otherwise ``estimate ± z_(1+level)/2 · std_error``.
        """
        if not 0 < level < 1:
            raise InputError(f"level must be between 0 and 1, got {level!r}")
        if self.draws is not None:
            tails = [(1 - level) / 2, (1 + level) / 2]
            bounds = self.draws[self.params.index].quantile(tails).T
            bounds.columns = ["ci_low", "ci_high"]
            return bounds.astype(float)
        z = stats.norm.ppf((1 + level) / 2)
        return pd.DataFrame(
            {
                "ci_low": self.params - z * self.std_errors,
                "ci_high": self.params + z * self.std_errors,
            }
        )

    def to_frame(self, level: float = 0.95) -> pd.DataFrame:
        """One tidy row per term.

        Columns: ``model, term, estimate, std_error, ci_low, ci_high, p_value,
        n_units, n_periods, reason``.
        """
        intervals = self.conf_int(level)
        terms = list(self.params.index)
        return pd.DataFrame(
            {
                "model": [self.term_models.get(t, self.model) for t in terms],
                "term": terms,
                "estimate": self.params.to_numpy(dtype=float),
                "std_error": self.std_errors[terms].to_numpy(dtype=float),
                "ci_low": intervals["ci_low"].to_numpy(dtype=float),
                "ci_high": intervals["ci_high"].to_numpy(dtype=float),
                "p_value": self.pvalues[terms].to_numpy(dtype=float),
                "n_units": self.n_units,
                "n_periods": self.n_periods,
                "reason": self.reason,
            },
            columns=FRAME_COLUMNS,
        )

    def reading(self) -> str:
        """The result in plain language, followed by its caveats."""
        if self.reason is not None:
            return f"No estimate ({self.model}): {self.reason}"
        lines = list(self.statements)
        lines += [f"Caveat: {c}" for c in self.caveats]
        return "\n".join(lines)

    def summary(self, level: float = 0.95) -> LinkageSummary:
        """A table of the estimates that prints as text or HTML."""
        return LinkageSummary(self, level=level)

    def __repr__(self) -> str:
        if self.reason is not None:
            return f"<LinkageResult {self.model}: no estimate, {self.reason}>"
        terms = ", ".join(f"{t}={v:.4g}" for t, v in self.params.items())
        return f"<LinkageResult {self.model}: {terms}>"


class LinkageSummary:
    """Printable summary of a :class:`LinkageResult`."""

    def __init__(self, result: LinkageResult, *, level: float = 0.95) -> None:
        self.result = result
        self.level = level
        self.table = result.to_frame(level).drop(columns=["reason"])

    def _header(self) -> list[str]:
        r = self.result
        return [
            f"Model: {r.model}",
            f"Units: {r.n_units}   Periods: {r.n_periods}   Rows: {r.n_obs}",
            f"Intervals: {self.level:.0%}",
        ]

    def as_text(self) -> str:
        """Fixed-width text: header, one line per term, then the reading."""
        shown = self.table[
            ["term", "estimate", "std_error", "ci_low", "ci_high", "p_value"]
        ]
        body = shown.to_string(index=False, float_format=lambda v: f"{v:.4g}")
        return "\n".join([*self._header(), "", body, "", self.result.reading()])

    def as_html(self) -> str:
        """The same content as an HTML fragment (escaped)."""
        header = "".join(f"<p>{html.escape(line)}</p>" for line in self._header())
        table = self.table.to_html(index=False, float_format=lambda v: f"{v:.4g}")
        reading = "<br>".join(
            html.escape(line) for line in self.result.reading().splitlines()
        )
        return f"<div class='excx-linkage'>{header}{table}<p>{reading}</p></div>"

    def __str__(self) -> str:
        return self.as_text()

    def _repr_html_(self) -> str:
        return self.as_html()


def compare(*results: LinkageResult, level: float = 0.95) -> pd.DataFrame:
    """Rows of several results side by side (e.g. naive and corrected).

    Examples
    --------
    >>> import pandas as pd
    >>> one = LinkageResult.without_estimate("fixed_effects", ["enps_lag1"], "x")
    >>> list(compare(one, one)["model"])
    ['fixed_effects', 'fixed_effects']
    """
    if not results:
        raise InputError("compare needs at least one result")
    return pd.concat([r.to_frame(level) for r in results], ignore_index=True)
