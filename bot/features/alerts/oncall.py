"""Puts on-call alerts in the outbox, in the same transaction as what caused them, once each
(a dedupe key per case and deadline): the dispatcher delivers them with its retries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.i18n import Translator
from bot.core.messages import OutboundMessage
from bot.core.storage.models_cases import Case
from bot.features.cases.sla import zone_of
from bot.outbox import store as outbox
from bot.settings import Settings

# The outbox channel of the WeCom group robot; Telegram alerts use the telegram channel.
WECOM = "oncall-wecom"
TELEGRAM = "telegram"
PURPOSE = "alert"


def targets(settings: Settings) -> list[tuple[str, str]]:
    """(outbox channel, recipient) of every configured on-call chat."""
    found = []
    if settings.alerts.wecom_webhook_url:
        found.append((WECOM, "group-robot"))
    if settings.alerts.telegram_chat_id:
        found.append((TELEGRAM, settings.alerts.telegram_chat_id))
    return found


async def send_alert(session: AsyncSession, settings: Settings, *, text: str, key: str,
                     now: datetime) -> int:
    """Enqueues ``text`` to every on-call chat; returns how many were new."""
    added = 0
    for channel, recipient in targets(settings):
        new = await outbox.enqueue(session, OutboundMessage(channel, recipient, text),
                                   identity_id=None, now=now, purpose=PURPOSE,
                                   dedupe_key=f"{key}:{channel}")
        added += new is not None
    return added


def _link(settings: Settings, case: Case) -> str:
    base = settings.server.public_url
    return f"{base.rstrip('/')}/console/cases/{case.id}" if base else ""


def _local(case: Case, when: datetime | None) -> str:
    return "-" if when is None else f"{when.astimezone(zone_of(case.timezone)):%m-%d %H:%M}"


async def urgent_case(session: AsyncSession, settings: Settings, translator: Translator, *,
                      case: Case, now: datetime) -> int:
    """An urgent case was opened: on-call hears of it now, business hours or not."""
    if not settings.alerts.urgent_cases:
        return 0
    text = translator.text(settings.alerts.language, "alerts.urgent", number=case.number,
                           kind=case.kind, channel=case.channel,
                           due=_local(case, case.first_response_due_at),
                           link=_link(settings, case)).strip()
    return await send_alert(session, settings, text=text, key=f"alert:urgent:{case.id}",
                            now=now)


async def breach(session: AsyncSession, settings: Settings, translator: Translator, *,
                 case: Case, deadline: str, due: datetime, now: datetime) -> int:
    """A deadline passed (the supervisors were told in the console too)."""
    if not settings.alerts.breaches:
        return 0
    language = settings.alerts.language
    text = translator.text(language, "alerts.breach", number=case.number,
                           priority=case.priority,
                           deadline=translator.text(language, f"alerts.{deadline}"),
                           due=_local(case, due),
                           assignee=(str(case.assignee_id) if case.assignee_id is not None
                                     else translator.text(language, "alerts.unassigned")),
                           link=_link(settings, case)).strip()
    return await send_alert(session, settings, text=text,
                            key=f"alert:breach:{case.id}:{deadline}:{due.isoformat()}", now=now)
