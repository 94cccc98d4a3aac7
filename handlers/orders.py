"""Order status: looked up when an order system is plugged in, else where to look; a person."""

from __future__ import annotations

from bot.core.messages import Button
from bot.dialogue.turn import Turn
from bot.features.orders.plugin import STATUSES, order_system
from handlers.followup import offer
from nlu import intents


async def show_order_status(turn: Turn) -> None:
    buttons = (Button(turn.t("intent_titles.human_agent"), f"/{intents.HUMAN_AGENT}"),)
    found = turn.parse.first_entity("order_id") if turn.parse is not None else None
    order_id = str(found) if found is not None else turn.argument.strip() or None
    system = order_system(turn.settings)
    if system is not None and order_id and turn.member is not None:
        order = await system.find_order(order_id=order_id, member_no=turn.member.member_no)
        if order is None:
            turn.say(turn.t("orders.not_found", order=order_id), buttons=buttons)
        else:
            status = order.status if order.status in STATUSES else "placed"
            lines = [turn.t(f"orders.status_{status}", order=order.order_id)]
            if order.carrier and order.tracking_no:
                lines.append(turn.t("orders.tracking", carrier=order.carrier,
                                    number=order.tracking_no))
            turn.say("\n".join(lines))
            return
    else:
        key = "orders.where_with_id" if order_id else "orders.where"
        turn.say("\n".join((turn.t(key, order=order_id or ""), turn.t("orders.offer_person"))),
                 buttons=buttons)
    offer(turn, intents.HUMAN_AGENT)
