"""Redeeming points: the catalogue, a choice, a confirmation with buttons, then the debit."""

from __future__ import annotations

import functools
from typing import Any

from bot.core.messages import Button
from bot.core.storage.vouchers import unused_vouchers
from bot.dialogue.commands import parse_command
from bot.dialogue.forms import Form, Slot, affirmed, start_form, yes_no_buttons
from bot.dialogue.registry import Registry
from bot.dialogue.turn import Turn
from bot.features.loyalty.service import member_standing
from bot.features.loyalty.stock import stock_left
from bot.features.loyalty.vouchers import issue_vouchers
from bot.settings import Reward, localized
from handlers.followup import Followup
from handlers.format import points
from handlers.rewards import catalogue, find_reward, redeem_reward
from nlu import intents

REDEEM_FORM = "redeem"


def _reward(turn: Turn, code: Any) -> Reward | None:
    return next((r for r in turn.settings.rewards if r.code == code), None)


def _name(turn: Turn, reward: Reward) -> str:
    return localized(reward.names, turn.language)


def parse_reward(turn: Turn, text: str) -> str | None:
    command = parse_command(text)
    if command is not None:
        text = command.argument if command.name == intents.POINTS_REDEEM else ""
    found = find_reward(turn.settings, text)
    return found.code if found else None


def reward_buttons(turn: Turn) -> tuple[Button, ...]:
    return tuple(Button(turn.t("redeem.button", reward=_name(turn, r), points=points(r.points)),
                        f"/{intents.POINTS_REDEEM} {r.code}")
                 for r in catalogue(turn.settings))


def _confirm_values(turn: Turn, values: dict[str, Any]) -> dict[str, Any]:
    reward = _reward(turn, values["choice"]["code"])
    cost = reward.points if reward else 0
    balance = int(values["balance"])
    return {"reward": _name(turn, reward) if reward else "", "points": points(cost),
            "balance": points(balance), "after": points(balance - cost)}


def _affordable(values: dict[str, Any]) -> bool:
    """Ask for the confirmation only when the points suffice and the reward is in stock."""
    in_stock = values["choice"]["code"] not in values.get("sold_out", ())
    return in_stock and int(values["choice"]["cost"]) <= int(values["balance"])


def parse_choice(turn: Turn, text: str) -> dict[str, Any] | None:
    code = parse_reward(turn, text)
    reward = _reward(turn, code)
    return {"code": code, "cost": reward.points} if reward else None


async def show_rewards(turn: Turn, *, followup: Followup) -> None:
    """points_redeem: what the points buy, then the chosen reward's confirmation."""
    assert turn.member is not None
    standing = await member_standing(turn.session, member=turn.member, settings=turn.settings,
                                     now=turn.now)
    balance = standing.points.balance
    await issue_vouchers(turn.session, member=turn.member, tier=standing.tier,
                         birthday=turn.services.directory.birthday(turn.member),
                         day=standing.today, settings=turn.settings, now=turn.now)
    held = await unused_vouchers(turn.session, member_id=turn.member.id)
    if held:
        names = {v.code: localized(v.names, turn.language)
                 for rule in turn.settings.membership.tiers for v in rule.vouchers}
        separator = ", " if turn.language == "en" else "、"
        turn.say(turn.t("redeem.vouchers", vouchers=separator.join(
            names.get(v.code, v.code) for v in held)))
    rewards = catalogue(turn.settings)
    if not rewards:
        turn.say(turn.t("redeem.no_rewards"))
        return
    if balance < rewards[0].points:
        turn.say(turn.t("redeem.short_all", balance=points(balance),
                        reward=_name(turn, rewards[0]), points=points(rewards[0].points)))
        return
    left = await stock_left(turn.session, rewards, now=turn.now)
    values: dict[str, Any] = {"balance": balance,
                              "ref": f"redeem:{turn.conversation.id}:{turn.message_id}",
                              "sold_out": [code for code, n in left.items() if n == 0]}
    chosen = parse_choice(turn, turn.argument) or parse_choice(turn, turn.text)
    if chosen is None:
        lines = [turn.t("redeem.header", balance=points(balance))]
        lines += [turn.t("redeem.item_sold_out" if left.get(r.code) == 0 else "redeem.item",
                         number=number, reward=_name(turn, r), points=points(r.points))
                  for number, r in enumerate(rewards, start=1)]
        turn.say("\n".join(lines))
    else:
        values["choice"] = chosen
    await start_form(turn, followup.form(REDEEM_FORM), values=values)


async def finish_redemption(turn: Turn, values: dict[str, Any]) -> None:
    assert turn.member is not None
    reward = _reward(turn, values["choice"]["code"])
    assert reward is not None
    balance = int(values.get("balance", 0))
    if reward.code in values.get("sold_out", ()):  # known before the confirmation
        turn.say(turn.t("redeem.sold_out", reward=_name(turn, reward)))
        return
    if "confirm" not in values:  # the choice costs more than the balance: never asked
        turn.say(turn.t("redeem.short", reward=_name(turn, reward), points=points(reward.points),
                        balance=points(balance)))
        return
    if not values["confirm"]:
        turn.say(turn.t("redeem.cancelled"))
        return
    result = await redeem_reward(turn.session, member=turn.member, reward=reward,
                                 ref=str(values["ref"]), settings=turn.settings, now=turn.now)
    if result.status == "short":
        turn.say(turn.t("redeem.short", reward=_name(turn, reward), points=points(reward.points),
                        balance=points(result.balance)))
    elif result.status == "sold_out":  # the last one went while the member confirmed
        turn.say(turn.t("redeem.sold_out", reward=_name(turn, reward)))
    elif result.status == "already":
        turn.say(turn.t("redeem.already", balance=points(result.balance)))
    else:
        turn.say(turn.t("redeem.done", reward=_name(turn, reward), points=points(reward.points),
                        balance=points(result.balance),
                        number=f"R{result.transaction_id or 0:08d}"))


def register(registry: Registry, followup: Followup) -> None:
    registry.forms.add(Form(REDEEM_FORM, (
        Slot("choice", "redeem.ask_reward", parse_choice, invalid="redeem.unknown_reward",
             buttons=reward_buttons),
        Slot("confirm", "redeem.confirm", affirmed, buttons=yes_no_buttons,
             prompt_values=_confirm_values, when=_affordable),
    ), on_complete=finish_redemption))
    handler = functools.partial(show_rewards, followup=followup)
    registry.add(intents.POINTS_REDEEM, functools.update_wrapper(handler, show_rewards),
                 needs_member=True)

