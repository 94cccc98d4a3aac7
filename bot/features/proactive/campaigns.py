"""Campaigns: create (checked), preview, expand into the outbox exactly once, cancel, status."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import KefuError
from bot.core.messages import OutboundMessage
from bot.core.storage.models import ChannelIdentity, Member, OutboxMessage
from bot.core.storage.models_proactive import Campaign, CampaignRecipient
from bot.core.storage.upsert import insert_many_ignore
from bot.features.loyalty.ledger import ledger_entries
from bot.features.loyalty.points import summarise
from bot.features.loyalty.service import member_zone
from bot.features.proactive import consent, store
from bot.features.proactive.compose import fill
from bot.features.proactive.greetings import Planner, choose_identity, valid_zone
from bot.features.proactive.quiet import release_at
from bot.features.proactive.segments import Segment, select_members
from bot.features.proactive.settings import unknown_placeholders
from bot.features.proactive.templates import wechat_extra
from bot.outbox import store as outbox
from bot.settings import LANGUAGES, localized

SCHEDULED, SENDING, DONE, CANCELLED = "scheduled", "sending", "done", "cancelled"
QUEUED, SKIPPED = "queued", "skipped"
PURPOSE = "campaign"
FIELDS = frozenset({"name", "tier", "points"})
# A start time this far in the past is still "now" (the operator's clock, a slow prompt).
GRACE = timedelta(minutes=1)
NO_CONSENT = "no promotions consent in the consent history"
NO_CHANNEL = "no channel that can reach the member (bound, subscribed, deliverable here)"


class CampaignError(KefuError):
    """A campaign cannot be created or changed as asked; the message says why."""


def check_texts(texts: dict[str, str]) -> None:
    if not texts or not any(text.strip() for text in texts.values()):
        raise CampaignError("the campaign needs a text")
    unknown_languages = sorted(set(texts) - set(LANGUAGES))
    if unknown_languages:
        raise CampaignError(f"unknown language(s) {unknown_languages}; use {list(LANGUAGES)}")
    unknown = unknown_placeholders(texts, FIELDS)  # type: ignore[arg-type]
    if unknown:
        raise CampaignError(
            f"unknown template variable(s) {', '.join('{' + u + '}' for u in unknown)}; "
            f"a campaign text may use {', '.join('{' + f + '}' for f in sorted(FIELDS))}")


@dataclass(frozen=True, slots=True)
class Target:
    member: Member
    language: str
    text: str
    identity: ChannelIdentity | None = None
    skipped: str | None = None


@dataclass(frozen=True, slots=True)
class Preview:
    matched: int
    reachable: int
    skipped: dict[str, int]
    sample: list[Target] = field(default_factory=list)


async def _targets(session: AsyncSession, planner: Planner, members: list[Member],
                   texts: dict[str, str], today: date) -> list[Target]:
    ids = [m.id for m in members]
    consented = await consent.consenting(session, member_ids=ids, kind=consent.PROMOTIONS)
    identities = await store.identities_by_member(session, member_ids=ids)
    opted_out = await store.opt_outs(
        session, identity_ids=[i.id for found in identities.values() for i in found])
    proactive = planner.proactive()
    targets: list[Target] = []
    uses_points = any("{points" in text for text in texts.values())
    for member in members:
        identity = None
        skipped: str | None = None
        if valid_zone(member.timezone) is None:
            skipped = f"invalid time zone {member.timezone!r}"
        elif member.id not in consented:
            skipped = NO_CONSENT
        else:
            identity = choose_identity(
                member=member, identities=identities.get(member.id, []),
                channels=proactive.channels, deliverable=planner.deliverable,
                topic=consent.PROMOTIONS, opted_out=opted_out)
            if identity is None:
                skipped = NO_CHANNEL
        language = identity.language if identity is not None and identity.language \
            else member.language
        values: dict[str, Any] = {
            "name": planner.directory.name(member)
            or planner.translator.text(language, "proactive.dear_member"),
            "tier": localized(planner.settings.tier(member.tier).names, language)}
        if uses_points and skipped is None:
            entries = await ledger_entries(session, member_id=member.id,
                                           zone=member_zone(member, planner.settings))
            values["points"] = f"{summarise(entries, today=today).balance:,}"
        text = fill(localized(texts, language), values)  # type: ignore[arg-type]
        targets.append(Target(member, language, text, identity, skipped))
    return targets


async def preview(session: AsyncSession, planner: Planner, *, segment: Segment,
                  texts: dict[str, str], now: datetime, sample: int = 5) -> Preview:
    """How many members the segment matches, how many can be reached, and a sample."""
    check_texts(texts)
    problems = segment.check_places(planner.settings)
    if problems:
        raise CampaignError("; ".join(problems))
    members = await select_members(session, segment, settings=planner.settings,
                                   directory=planner.directory, today=now.date())
    targets = await _targets(session, planner, members, texts, now.date())
    reasons = Counter(t.skipped for t in targets if t.skipped is not None)
    reachable = [t for t in targets if t.skipped is None]
    return Preview(matched=len(targets), reachable=len(reachable), skipped=dict(reasons),
                   sample=reachable[:sample])


async def create(session: AsyncSession, planner: Planner, *, name: str, segment: Segment,
                 texts: dict[str, str], now: datetime, send_at: datetime | None,
                 actor: str) -> tuple[Campaign, Preview]:
    """A scheduled campaign; refused when nobody can be reached or the time has passed."""
    if not name.strip():
        raise CampaignError("the campaign needs a name")
    if send_at is not None and send_at.tzinfo is None:
        raise CampaignError("the start time needs a time zone (e.g. 2027-01-20T10:00+08:00)")
    if send_at is not None and send_at < now - GRACE:
        raise CampaignError(f"the start time {send_at.isoformat()} is in the past")
    seen = await preview(session, planner, segment=segment, texts=texts, now=now)
    if seen.matched == 0:
        raise CampaignError("the segment matches no member; widen the filters")
    if seen.reachable == 0:
        raise CampaignError(f"none of the {seen.matched} matching member(s) can be reached: "
                            + ", ".join(f"{n} × {r}" for r, n in seen.skipped.items()))
    campaign = Campaign(name=name.strip()[:120], status=SCHEDULED,
                        segment=segment.model_dump(mode="json", exclude_defaults=True),
                        texts=dict(texts), send_at=send_at or now, created_by=actor[:128],
                        created_at=now)
    session.add(campaign)
    await session.flush()
    return campaign, seen


async def due(session: AsyncSession, *, now: datetime) -> list[int]:
    result = await session.execute(
        select(Campaign.id).where(Campaign.status.in_((SCHEDULED, SENDING)),
                                  Campaign.send_at <= now).order_by(Campaign.send_at))
    return list(result.scalars())


async def _locked(session: AsyncSession, campaign_id: int) -> Campaign | None:
    statement = select(Campaign).where(Campaign.id == campaign_id)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    campaign: Campaign | None = (await session.execute(statement)).scalar_one_or_none()
    return campaign


def dedupe_key(campaign_id: int, member_id: int) -> str:
    return f"campaign:{campaign_id}:{member_id}"


async def expand_batch(session: AsyncSession, planner: Planner, *, campaign_id: int,
                       now: datetime, batch: int = 500) -> int | None:
    """Queues the next ``batch`` members of a due campaign in this transaction: recipient
    rows, outbox rows (unique per campaign and member) and the cursor move together, so a
    crash anywhere loses or repeats nothing. Returns how many were handled, ``None`` when
    the campaign is finished, cancelled or being expanded by another process."""
    campaign = await _locked(session, campaign_id)
    if campaign is None or campaign.status not in (SCHEDULED, SENDING):
        return None
    if campaign.status == SCHEDULED:
        campaign.status, campaign.started_at = SENDING, now
    segment = Segment.model_validate(campaign.segment)
    members = await select_members(session, segment, settings=planner.settings,
                                   directory=planner.directory, today=now.date(),
                                   after_id=campaign.cursor, limit=batch)
    if not members:
        campaign.status, campaign.finished_at = DONE, now
        return None
    proactive = planner.proactive()
    targets = await _targets(session, planner, members, campaign.texts, now.date())
    sendable = [t for t in targets if t.identity is not None]
    queued: list[tuple[OutboundMessage, int | None, str, dict[str, Any]]] = []
    due: list[datetime] = []
    for target in sendable:
        identity = target.identity
        assert identity is not None
        zone = valid_zone(target.member.timezone)
        assert zone is not None  # checked by _targets
        queued.append((OutboundMessage(identity.channel, identity.external_id, target.text),
                       identity.id, dedupe_key(campaign.id, target.member.id),
                       wechat_extra(proactive, channel=identity.channel, purpose=PURPOSE,
                                    text=target.text, day=now.astimezone(zone).date(),
                                    name=planner.directory.name(target.member) or "") or {}))
        due.append(release_at(now, zone, proactive))
    ids = await outbox.enqueue_many(session, queued, now=now, purpose=PURPOSE, not_before=due)
    await insert_many_ignore(session, CampaignRecipient, [
        {"campaign_id": campaign.id, "member_id": t.member.id,
         "status": QUEUED if t.identity is not None else SKIPPED,
         "reason": (t.skipped or "")[:200] or None,
         "channel": t.identity.channel if t.identity is not None else None,
         "outbox_id": ids.get(dedupe_key(campaign.id, t.member.id)), "created_at": now}
        for t in targets], conflict=["campaign_id", "member_id"])
    campaign.recipients = int(await session.scalar(
        select(func.count()).select_from(CampaignRecipient)
        .where(CampaignRecipient.campaign_id == campaign.id)) or 0)
    campaign.cursor = members[-1].id
    return len(members)


async def cancel(session: AsyncSession, *, campaign_id: int, now: datetime) -> Campaign:
    """Stops a campaign: nothing more is queued, and its unsent messages are withdrawn."""
    campaign = await session.get(Campaign, campaign_id, with_for_update=True)
    if campaign is None:
        raise CampaignError(f"no campaign {campaign_id}")
    if campaign.status == CANCELLED:
        return campaign
    campaign.status, campaign.cancelled_at = CANCELLED, now
    pending = select(CampaignRecipient.outbox_id).where(
        CampaignRecipient.campaign_id == campaign_id, CampaignRecipient.outbox_id.is_not(None))
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(pending), OutboxMessage.status == outbox.PENDING)
        .values(status=outbox.FAILED, last_error="campaign cancelled", lease_owner=None,
                lease_until=None)
        .execution_options(synchronize_session=False))
    return campaign


@dataclass(frozen=True, slots=True)
class Status:
    campaign: Campaign
    sent: int
    failed: int
    pending: int
    skipped: int
    reasons: dict[str, int]

    @property
    def handled(self) -> int:
        return self.sent + self.failed + self.skipped

    def as_json(self) -> dict[str, Any]:
        c = self.campaign
        return {"id": c.id, "name": c.name, "status": c.status,
                "send_at": c.send_at.isoformat(), "segment": c.segment,
                "recipients": c.recipients, "sent": self.sent, "failed": self.failed,
                "pending": self.pending, "skipped": self.skipped, "reasons": self.reasons,
                "created_by": c.created_by,
                "finished_at": c.finished_at.isoformat() if c.finished_at else None,
                "cancelled_at": c.cancelled_at.isoformat() if c.cancelled_at else None}


async def status(session: AsyncSession, *, campaign_id: int) -> Status | None:
    campaign = await session.get(Campaign, campaign_id, populate_existing=True)
    if campaign is None:
        return None
    rows = await session.execute(
        select(CampaignRecipient.status, OutboxMessage.status, func.coalesce(
            CampaignRecipient.reason, OutboxMessage.last_error), func.count())
        .outerjoin(OutboxMessage, OutboxMessage.id == CampaignRecipient.outbox_id)
        .where(CampaignRecipient.campaign_id == campaign_id)
        .group_by(CampaignRecipient.status, OutboxMessage.status, func.coalesce(
            CampaignRecipient.reason, OutboxMessage.last_error)))
    counts: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for recipient_status, sent_status, reason, count in rows.all():
        kind = SKIPPED if recipient_status == SKIPPED else (sent_status or outbox.FAILED)
        counts[kind] += count
        if kind in (SKIPPED, outbox.FAILED) and reason:
            reasons[reason] += count
    return Status(campaign, sent=counts[outbox.SENT], failed=counts[outbox.FAILED],
                  pending=counts[outbox.PENDING], skipped=counts[SKIPPED],
                  reasons=dict(reasons))


async def list_campaigns(session: AsyncSession, *, limit: int = 50) -> list[Campaign]:
    result = await session.execute(select(Campaign).order_by(Campaign.id.desc()).limit(limit))
    return list(result.scalars())
