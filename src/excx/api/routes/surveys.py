"""``/api/v1/surveys``: create surveys, issue pulse links and customer links."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Annotated, Literal

from fastapi import APIRouter, Body
from fastapi.responses import Response
from pydantic import BaseModel, Field

from excx.api import surveys
from excx.api.customer_links import customer_link
from excx.api.deps import SettingsDep, StoreDep, require
from excx.errors import InputError

router = APIRouter(tags=["surveys"], dependencies=[require("admin")])

_Id = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[\w.\-]+$")]


class NewSurvey(BaseModel):
    survey_id: _Id
    audience: Literal["employee", "customer"]
    kind: Literal["engagement", "pulse", "transactional", "relationship"]
    items: list[_Id] = Field(default_factory=list, max_length=50)
    comment: bool = True
    opens_at: dt.datetime | None = None
    closes_at: dt.datetime | None = None


class Interaction(BaseModel):
    interaction_id: _Id
    channel: str
    served_by: str
    unit_id: str | None = None


class CustomerLinks(BaseModel):
    interactions: list[Interaction] = Field(min_length=1, max_length=1000)
    valid_days: Annotated[int, Field(ge=1, le=365)] = 14


@router.get("/surveys", summary="Every survey, with pulse tokens issued and used")
def list_surveys(store: StoreDep) -> list[dict]:
    return surveys.list_surveys(store)


@router.post("/surveys", status_code=201, summary="Create a survey")
def create_survey(body: NewSurvey, store: StoreDep) -> dict:
    """An employee survey asks eNPS, customer surveys NPS, CSAT and CES; plus
    ``items`` (1–5) and an optional comment."""
    surveys.create_survey(
        store,
        body.survey_id,
        audience=body.audience,
        kind=body.kind,
        items=body.items,
        comment=body.comment,
        opens_at=_naive(body.opens_at),
        closes_at=_naive(body.closes_at),
    )
    return {"survey_id": body.survey_id}


@router.post(
    "/surveys/{survey_id}/tokens",
    summary="Issue single-use pulse links; CSV (unit_id, link) for your mailer",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def issue_tokens(
    survey_id: str,
    units: Annotated[dict[str, Annotated[int, Field(ge=0)]], Body(embed=True)],
    store: StoreDep,
    settings: SettingsDep,
) -> Response:
    """``{"units": {"R1-B001": 12, …}}``: links per unit's invitees. Only the
    tokens' hashes are kept: this CSV is the one copy of the links."""
    links = surveys.issue_tokens(store, survey_id, units, base_url=settings.public_url)
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=["unit_id", "link"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(links)
    filename = f"{survey_id}-links.csv"
    return Response(
        text.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.post(
    "/surveys/{survey_id}/customer-links",
    summary="Signed post-interaction survey links (channel, served_by, unit)",
)
def customer_links(
    survey_id: str, body: CustomerLinks, store: StoreDep, settings: SettingsDep
) -> list[dict]:
    """Each link carries its attribution under an HMAC and expires after
    ``valid_days``; one answer per interaction."""
    survey = surveys.survey_questions(store, survey_id)
    if survey is None or survey["audience"] != "customer":
        raise InputError(f"{survey_id!r} is not a customer survey")
    expires = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(
        days=body.valid_days
    )
    return [
        {
            "interaction_id": i.interaction_id,
            "link": customer_link(
                settings.secret_key,
                base_url=settings.public_url,
                survey_id=survey_id,
                interaction_id=i.interaction_id,
                channel=i.channel,
                served_by=i.served_by,
                unit_id=i.unit_id,
                expires_at=expires,
            ),
        }
        for i in body.interactions
    ]


def _naive(moment: dt.datetime | None) -> dt.datetime | None:
    """UTC without time zone, as the store keeps timestamps."""
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(dt.UTC).replace(tzinfo=None)
