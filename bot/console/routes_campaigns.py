"""Campaigns for supervisors: create (with a preview first), follow, cancel."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from bot.app_proactive import planner_for
from bot.console.auth import Actor
from bot.console.web import acting, kefu_of, now_of, problem, render, viewing
from bot.core import audit
from bot.core.crypto import mask_name
from bot.core.storage.db import transaction
from bot.features.proactive import campaigns
from bot.features.proactive.campaigns import CampaignError
from bot.features.proactive.segments import Segment
from bot.features.security.permissions import Action

router = APIRouter()
Supervisor = Annotated[Actor, viewing(Action.SUPERVISE_CASES)]
SupervisorDoing = Annotated[Actor, acting(Action.SUPERVISE_CASES)]
TIERS = ("standard", "silver", "gold", "diamond")


def _segment(form: dict[str, str]) -> Segment:
    values: dict[str, Any] = {
        "tiers": [t for t in TIERS if form.get(f"tier_{t}")],
        "cities": [c.strip() for c in form.get("cities", "").split(",") if c.strip()],
        "stores": [s.strip() for s in form.get("stores", "").split(",") if s.strip()],
        "channels": [c.strip() for c in form.get("channels", "").split(",") if c.strip()],
        "languages": [lang.strip() for lang in form.get("languages", "").split(",")
                      if lang.strip()],
    }
    for key in ("birthday_month", "min_points", "max_points", "last_purchase_before",
                "last_purchase_after"):
        if form.get(key, "").strip():
            values[key] = form[key].strip()
    return Segment.model_validate(values)


def _texts(form: dict[str, str]) -> dict[str, str]:
    return {lang: form[field].strip() for lang, field in
            (("zh-Hans", "text_zh_hans"), ("zh-Hant", "text_zh_hant"), ("en", "text_en"))
            if form.get(field, "").strip()}


async def _list_page(request: Request, *, form: dict[str, str] | None = None,
                     preview: dict[str, Any] | None = None, error: str | None = None,
                     status_code: int = 200) -> Response:
    async with kefu_of(request).sessions() as session:
        rows = [await campaigns.status(session, campaign_id=c.id)
                for c in await campaigns.list_campaigns(session)]
    return render(request, "campaigns.html", status_code=status_code,
                  campaigns=[r.as_json() for r in rows if r is not None], form=form or {},
                  preview=preview, error=error, tiers=TIERS)


@router.get("/console/campaigns", include_in_schema=False)
async def campaigns_page(request: Request, _actor: Supervisor) -> Response:
    return await _list_page(request)


@router.post("/console/campaigns", include_in_schema=False)
async def create_or_preview(request: Request, actor: SupervisorDoing) -> Response:
    """``action=preview`` shows who would be reached; ``action=create`` schedules it."""
    form = {k: str(v) for k, v in (await request.form()).items()}
    kefu = kefu_of(request)
    now = now_of(request)
    try:
        segment = _segment(form)
    except ValidationError as exc:
        return await _list_page(request, form=form, status_code=422, error="; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()))
    texts = _texts(form)
    send_at = None
    if form.get("send_at", "").strip():
        try:
            send_at = datetime.fromisoformat(form["send_at"].strip())
        except ValueError:
            return await _list_page(request, form=form, status_code=422,
                                    error=f"start {form['send_at']!r} is not a date-time such "
                                          "as 2027-01-20T10:00")
        if send_at.tzinfo is None:  # read in the default zone, as the CLI does
            send_at = send_at.replace(tzinfo=ZoneInfo(kefu.settings.app.default_timezone))
    planner = planner_for(kefu)
    try:
        if form.get("action") == "create":
            async with transaction(kefu.sessions) as session:
                campaign, _seen = await campaigns.create(
                    session, planner, name=form.get("name", ""), segment=segment, texts=texts,
                    now=now, send_at=send_at, actor=actor.principal.actor)
                await audit.record(session, actor=actor.principal.actor,
                                   action="campaign.create", subject=f"campaign:{campaign.id}",
                                   detail={"segment": campaign.segment})
            return RedirectResponse(f"/console/campaigns/{campaign.id}", status_code=303)
        async with kefu.sessions() as session:
            seen = await campaigns.preview(session, planner, segment=segment, texts=texts,
                                           now=now)
            sample = []
            for target in seen.sample:
                name = kefu.directory.name(target.member)
                masked = mask_name(name)
                sample.append({"member": target.member.member_no,
                               "channel": target.identity.channel if target.identity else "",
                               "text": target.text.replace(name, masked)
                               if name and masked else target.text})
    except CampaignError as exc:
        return await _list_page(request, form=form, status_code=422, error=str(exc))
    return await _list_page(request, form=form, preview={
        "matched": seen.matched, "reachable": seen.reachable, "skipped": seen.skipped,
        "sample": sample})


@router.get("/console/campaigns/{campaign_id}", include_in_schema=False)
async def campaign_page(request: Request, campaign_id: int, _actor: Supervisor) -> Response:
    async with kefu_of(request).sessions() as session:
        found = await campaigns.status(session, campaign_id=campaign_id)
    if found is None:
        return problem(request, 404, f"campaign {campaign_id} does not exist")
    data = found.as_json()
    total = max(data["recipients"], 1)
    done = data["sent"] + data["failed"] + data["skipped"]
    following = data["status"] in (campaigns.SCHEDULED, campaigns.SENDING) or data["pending"]
    return render(request, "campaign.html", campaign=data, percent=round(100 * done / total),
                  following=bool(following))


@router.post("/console/campaigns/{campaign_id}/cancel", include_in_schema=False)
async def cancel_campaign(request: Request, campaign_id: int,
                          actor: SupervisorDoing) -> Response:
    try:
        async with transaction(kefu_of(request).sessions) as session:
            await campaigns.cancel(session, campaign_id=campaign_id, now=now_of(request))
            await audit.record(session, actor=actor.principal.actor, action="campaign.cancel",
                               subject=f"campaign:{campaign_id}")
    except CampaignError as exc:
        return problem(request, 404, str(exc))
    return RedirectResponse(f"/console/campaigns/{campaign_id}", status_code=303)
