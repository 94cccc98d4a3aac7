"""Points answers: balance with what expires soon, recent history, the expiry schedule."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from bot.core.messages import Button
from bot.core.storage.models import PointTransaction
from bot.dialogue.turn import Turn
from bot.features.loyalty.ledger import list_transactions
from bot.features.loyalty.points import REDEEM
from bot.features.loyalty.service import member_points, member_zone
from bot.settings import localized
from handlers.format import points
from nlu import intents

HISTORY_PAGE = 5


def _date(turn: Turn, day: date) -> str:
    return turn.services.translator.format_date(turn.language, day)


async def show_balance(turn: Turn) -> None:
    assert turn.member is not None
    summary, today = await member_points(turn.session, member=turn.member,
                                         settings=turn.settings, now=turn.now)
    soon_days = turn.settings.membership.points.expiring_soon_days
    lines = [turn.t("points.balance", points=points(summary.balance))]
    expiring = summary.expiring_by(today + timedelta(days=soon_days))
    if expiring:
        first = min(lot.expires_on for lot in expiring)
        amount = sum(lot.remaining for lot in expiring)
        lines.append(turn.t("points.expiring", points=points(amount), date=_date(turn, first)))
    else:
        lines.append(turn.t("points.none_expiring", days=soon_days))
    turn.say("\n".join(lines), buttons=(
        Button(turn.t("buttons.redeem"), f"/{intents.POINTS_REDEEM}"),
        Button(turn.t("buttons.history"), "/history"),
        Button(turn.t("buttons.expiry"), "/expiry"),
    ))


def _reason(turn: Turn, row: PointTransaction) -> str:
    """The entry's reason; a reward's name in the customer's language for redemptions."""
    if row.kind == REDEEM and row.reason:
        for reward in turn.settings.rewards:
            if row.reason in reward.names.values():
                return localized(reward.names, turn.language)
    return row.reason or turn.t(f"kinds.{row.kind}")


async def show_history(turn: Turn) -> None:
    assert turn.member is not None
    page = int(turn.argument) if turn.argument.isdigit() else 0
    rows = await list_transactions(turn.session, member_id=turn.member.id,
                                   limit=HISTORY_PAGE + 1, offset=page * HISTORY_PAGE)
    if not rows:
        turn.say(turn.t("history.empty"))
        return
    zone = member_zone(turn.member, turn.settings)
    lines = [turn.t("history.header")]
    for row in rows[:HISTORY_PAGE]:
        lines.append(turn.t(
            "history.item",
            date=_date(turn, row.occurred_at.astimezone(zone).date()),
            sign="+" if row.points > 0 else "-",
            points=points(abs(row.points)),
            reason=_reason(turn, row),
        ))
    more: tuple[Button, ...] = ()
    if len(rows) > HISTORY_PAGE:
        more = (Button(turn.t("history.more"), f"/history {page + 1}"),)
    turn.say("\n".join(lines), buttons=more)


async def show_expiry(turn: Turn) -> None:
    assert turn.member is not None
    summary, _today = await member_points(turn.session, member=turn.member,
                                          settings=turn.settings, now=turn.now)
    by_day: dict[date, int] = defaultdict(int)
    for lot in summary.lots:
        if lot.remaining > 0 and lot.expires_on != date.max:
            by_day[lot.expires_on] += lot.remaining
    if not by_day:
        turn.say(turn.t("expiry.none"))
        return
    lines = [turn.t("expiry.header")]
    lines += [turn.t("expiry.item", date=_date(turn, day), points=points(amount))
              for day, amount in sorted(by_day.items())]
    turn.say("\n".join(lines))
