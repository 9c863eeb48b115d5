"""Maturity questionnaire: scores, priorities, refusals, storage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from excx.errors import InputError
from excx.journey import maturity


def test_profile_scores_and_orders_weakest_first():
    answers = {item: 5 for item in maturity.ITEMS}
    # Hand computation: organisation answers 2, 3, 4 -> mean 3 -> 100 * 2 / 4 = 50;
    # data answers 1, 1, 2 -> mean 4/3 -> 100 * (1/3) / 4 = 8.33.
    answers |= {"organisation_1": 2, "organisation_2": 3, "organisation_3": 4}
    answers |= {"data_1": 1, "data_2": 1, "data_3": 2}
    profile = maturity.score(answers)
    assert profile["dimension"].tolist()[:2] == ["data", "organisation"]
    assert profile["value"].tolist()[:2] == pytest.approx([100 / 12, 50.0])
    assert profile["value"].iloc[2:].tolist() == [100.0, 100.0, 100.0]
    assert profile["priority"].tolist() == [1, 2, 3, 4, 5]
    assert "one store" in profile["recommendation"].iloc[0]
    assert profile["n"].tolist() == [3] * 5


def test_several_respondents_and_unanswered_dimension_last():
    frame = pd.DataFrame(
        {"item_id": ["budget_1", "budget_1", "change_2"], "value": [1, 3, 5]}
    )
    profile = maturity.score(frame)
    # budget: mean of 1 and 3 = 2 -> 25; change: 5 -> 100; the rest unanswered.
    assert profile[["dimension", "value"]].head(2).values.tolist() == [
        ["budget", 25.0],
        ["change", 100.0],
    ]
    assert np.isnan(profile["value"].iloc[2:]).all()
    assert profile["n"].iloc[2:].tolist() == [0, 0, 0]


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"budget_9": 3}, "unknown maturity item"),
        ({"budget_1": 6}, "accepted: whole numbers 1..5"),
        ({"budget_1": 2.5}, "has answer 2.5"),
        ({"budget_1": "x"}, "has answer 'x'"),
    ],
)
def test_bad_answers_are_refused(answers, message):
    with pytest.raises(InputError, match=message):
        maturity.score(answers)


def test_record_and_read_back(store):
    answers = {"commitment_1": 4, "data_3": 2}
    assessment = maturity.record(store, answers, assessment_id="q1")
    stored = maturity.answers_of(store, assessment)
    assert dict(zip(stored["item_id"], stored["value"], strict=True)) == answers
    with pytest.raises(InputError, match="already exists"):
        maturity.record(store, answers, assessment_id="q1")
    with pytest.raises(InputError, match="accepted"):
        maturity.record(store, {"data_1": 0}, assessment_id="q2")
    assert store.count("maturity_answers") == 2
