"""Building blocks of the phase KPIs: item shares, voice, actions, rows."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from excx import privacy
from excx.metrics import compute
from excx.metrics._rows import units_frame
from excx.metrics.intervals import t_interval, wilson_interval
from excx.privacy import PrivacyRule
from excx.store import Store

AGREE_MIN = 4
COLUMNS = [
    "phase",
    "kpi",
    "unit_id",
    "period",
    "n",
    "value",
    "ci_low",
    "ci_high",
    "suppressed",
    "note",
]


def row(phase: str, kpi: str, **values) -> pd.DataFrame:
    """One KPI row; columns not given are null (``suppressed`` False)."""
    base = {"phase": phase, "kpi": kpi, "suppressed": False}
    return pd.DataFrame([base | values]).reindex(columns=COLUMNS)


def tidy(frame: pd.DataFrame, phase: str, kpi: str | None, *, note: str):
    """A metrics-style frame (n, value, ci_low, ci_high, suppressed) as KPI rows."""
    out = frame.copy()
    out["phase"] = phase
    if kpi is not None:
        out["kpi"] = kpi
    out["note"] = note
    return out.reindex(columns=COLUMNS)


def slope(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares slope of y on x and its standard error."""
    x_centred = x - x.mean()
    beta = float((x_centred * (y - y.mean())).sum() / (x_centred**2).sum())
    residuals = y - y.mean() - beta * x_centred
    variance = (residuals**2).sum() / (len(x) - 2) if len(x) > 2 else np.nan
    return beta, float(np.sqrt(variance / (x_centred**2).sum()))


def item_shares(
    store: Store,
    units: list[str],
    months: list[dt.date],
    *,
    prefix: str,
    rule: PrivacyRule | None = None,
) -> pd.DataFrame:
    """Share of employees agreeing (4–5) with each item starting with `prefix`,
    per unit and month.

    The engine counts every unit and month; each item's cells pass
    :func:`excx.privacy.gate` as a whole (complete sibling sets), and only then
    are the initiative's `units` and `months` selected.
    """
    items = store.table("employee_items")
    items = items.filter(items.item_id.startswith(prefix))
    answers = store.table("employee_responses").select(
        "response_id", "unit_id", "submitted_at"
    )
    rows = items.join(answers, "response_id").mutate(
        period=lambda t: t.submitted_at.truncate("M").cast("date")
    )
    cells = rows.group_by(["item_id", "unit_id", "period"]).aggregate(
        n=rows.count(), successes=rows.count(where=rows.value >= AGREE_MIN)
    )
    frame = store.to_pyarrow(cells).to_pandas()
    if frame.empty:
        return frame.reindex(columns=[*COLUMNS, "successes"])
    low, high = wilson_interval(frame["successes"], frame["n"])
    frame = frame.assign(
        value=100 * frame["successes"] / frame["n"],
        ci_low=100 * low,
        ci_high=100 * high,
    )
    frame["period"] = pd.to_datetime(frame["period"]).dt.strftime("%Y-%m-%d")
    gated = []
    for item_id, cells_of_item in frame.groupby("item_id"):
        shown = privacy.gate(
            cells_of_item.reset_index(drop=True),
            by=["unit_id", "period"],
            units=units_frame(store),
            period="month",
            rule=rule or PrivacyRule(),
        )
        gated.append(shown.assign(kpi=f"item_{item_id}"))
    frame = pd.concat(gated, ignore_index=True)
    chosen = {m.isoformat() for m in months}
    frame = frame[frame["unit_id"].isin(units) & frame["period"].isin(chosen)]
    return frame.sort_values(["kpi", "period", "unit_id"], ignore_index=True)


def pooled_trend(cells: pd.DataFrame) -> tuple[int, float, float, float] | None:
    """Slope (points per month) of the monthly share pooled over shown cells.

    Each month's share is ``Σ successes / Σ n`` over its shown unit cells; the
    slope is least squares over months, with a t interval on k − 2 degrees of
    freedom. None with fewer than three months.
    """
    shown = cells[~cells["suppressed"].astype(bool)]
    months = shown.groupby("period")[["successes", "n"]].sum().sort_index()
    if len(months) < 3:
        return None
    share = 100 * months["successes"] / months["n"]
    index = pd.to_datetime(months.index).to_period("M").astype("int64")
    beta, se = slope(np.asarray(index, dtype=float), share.to_numpy(dtype=float))
    k = float(len(months))
    # t_interval's mean ± t(n − 1) sd / √n with n = k − 1, sd = se √(k − 1).
    low, high = t_interval(
        np.array([k - 1]), np.array([beta]), np.array([se * np.sqrt(k - 1)])
    )
    return len(months), beta, float(low[0]), float(high[0])


def engagement_change(
    store: Store, units: list[str], records: pd.DataFrame, months: int
) -> pd.DataFrame:
    """Mean change of unit engagement, `months` after vs before each recognition."""
    cells = compute(store, "engagement", by=("unit_id", "period"))
    cells = cells[cells["unit_id"].isin(units) & ~cells["suppressed"]]
    cells = cells.assign(month=pd.to_datetime(cells["period"]).dt.to_period("M"))
    events = records.assign(
        event=np.arange(len(records)),
        month=pd.to_datetime(records["period"]).dt.to_period("M"),
    )
    offsets = pd.DataFrame({"offset": [*range(-months, 0), *range(1, months + 1)]})
    around = events.merge(offsets, how="cross")
    around["month"] = around["month"] + around["offset"]
    around = around.merge(cells[["unit_id", "month", "value"]], on=["unit_id", "month"])
    around["side"] = np.where(around["offset"] > 0, "after", "before")
    sides = around.pivot_table(index="event", columns="side", values="value")
    changes = (
        (sides.get("after") - sides.get("before")).dropna()
        if len(sides) and {"after", "before"} <= set(sides.columns)
        else pd.Series(dtype=float)
    )
    note = f"engagement {months} months after minus before a recognition"
    if len(changes) < 2:
        return row("reward", "engagement_change", n=len(changes), note=note)
    n = np.array([float(len(changes))])
    low, high = t_interval(n, np.array([changes.mean()]), np.array([changes.std()]))
    return row(
        "reward",
        "engagement_change",
        n=len(changes),
        value=changes.mean(),
        ci_low=low[0],
        ci_high=high[0],
        note=note,
    )


def monthly_voice(store: Store, scope: dict, rule: PrivacyRule) -> pd.DataFrame:
    """Respondents and comments per month over the initiative's units."""
    answers = store.table("employee_responses")
    answers = answers.filter(answers.unit_id.isin(scope["units"])).mutate(
        period=lambda t: t.submitted_at.truncate("M").cast("date")
    )
    answers = answers.filter(
        answers.period.between(scope["starts_on"].replace(day=1), scope["ends_on"])
    )
    has_comment = answers.comment.notnull() & (answers.comment.strip().length() > 0)
    cells = answers.group_by("period").aggregate(
        n=answers.count(), comments=answers.count(where=has_comment)
    )
    frame = store.to_pyarrow(cells).to_pandas()
    if frame.empty:
        return row("listen", "respondents", n=0, note="no answers in the span")
    frame["period"] = pd.to_datetime(frame["period"]).dt.strftime("%Y-%m-%d")
    frame = frame.sort_values("period", ignore_index=True)
    shown = privacy.gate_comments(
        frame.assign(value=frame["comments"].astype(float)),
        by=["period"],
        units=units_frame(store),
        period="month",
        rule=rule,
    )
    respondents = frame.assign(
        phase="listen",
        kpi="respondents",
        value=frame["n"].astype(float),
        suppressed=False,
        note="employee respondents (no invitations stored)",
    )
    comments = shown.assign(
        phase="listen",
        kpi="comments",
        note=f"comments, shown from {rule.min_comments} respondents",
    )
    return pd.concat([respondents, comments], ignore_index=True).reindex(
        columns=COLUMNS
    )


def actions(store: Store, scope: dict) -> pd.DataFrame:
    """Share of feedback actions closed, and median days to close."""
    table = store.table("feedback_actions")
    table = table.filter(
        table.unit_id.isin(scope["units"])
        & table.opened_on.between(scope["starts_on"], scope["ends_on"])
    )
    frame = store.to_pyarrow(table.select("opened_on", "closed_on")).to_pandas()
    if frame.empty:
        return row("listen", "actions_closed", n=0, note="no actions recorded")
    closed = frame["closed_on"].notna()
    low, high = wilson_interval(np.array([closed.sum()]), np.array([len(frame)]))
    days = (
        pd.to_datetime(frame.loc[closed, "closed_on"])
        - pd.to_datetime(frame.loc[closed, "opened_on"])
    ).dt.days
    return pd.concat(
        [
            row(
                "listen",
                "actions_closed",
                n=len(frame),
                value=100 * closed.mean(),
                ci_low=100 * low[0],
                ci_high=100 * high[0],
                note="share of actions closed",
            ),
            row(
                "listen",
                "days_to_close",
                n=int(closed.sum()),
                value=float(days.median()) if len(days) else np.nan,
                note="median days from opened to closed",
            ),
        ],
        ignore_index=True,
    )
