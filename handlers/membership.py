"""Membership answers: the member's tier, a tier's benefits, the way to the next tier."""

from __future__ import annotations

from bot.core.messages import Button
from bot.dialogue.dispatch import binding_prompt
from bot.dialogue.turn import Turn
from bot.features.loyalty.service import member_standing
from bot.settings import localized
from handlers.format import money


def tier_name(turn: Turn, code: str) -> str:
    return localized(turn.settings.tier(code).names, turn.language)


def named_tier(turn: Turn) -> str | None:
    """A tier the customer named (entity, or /benefits argument) as its code."""
    if turn.parse is not None:
        value = turn.parse.first_entity("tier")
        if isinstance(value, str):
            return value
    wanted = turn.argument.strip().lower()
    if not wanted:
        return None
    for rule in turn.settings.membership.tiers:
        names = {rule.code, *(name.lower() for name in rule.names.values())}
        short = {name.removesuffix("会员").removesuffix("會員") for name in names}
        if wanted in names or wanted in short:
            return rule.code
    return None


async def show_tier(turn: Turn) -> None:
    assert turn.member is not None
    standing = await member_standing(turn.session, member=turn.member, settings=turn.settings,
                                     now=turn.now)
    turn.say("\n".join((
        turn.t("tier.current", tier=tier_name(turn, standing.tier)),
        turn.t("tier.since_window", spend=money(standing.activity.spend),
               visits=standing.activity.visits),
    )), buttons=(Button(turn.t("buttons.benefits"), "/benefits"),
                 Button(turn.t("buttons.upgrade"), "/upgrade")))


async def show_benefits(turn: Turn) -> None:
    code = named_tier(turn)
    if code is None:
        if turn.member is None:
            binding_prompt(turn)
            return
        standing = await member_standing(turn.session, member=turn.member,
                                         settings=turn.settings, now=turn.now)
        code = standing.tier
    rule = turn.settings.tier(code)
    lines = [turn.t("benefits.header", tier=tier_name(turn, code))]
    lines += [turn.t("benefits.item", benefit=localized(b, turn.language))
              for b in rule.benefits]
    lines.append(turn.t("benefits.other_tiers"))
    turn.say("\n".join(lines))


async def show_upgrade(turn: Turn) -> None:
    assert turn.member is not None
    standing = await member_standing(turn.session, member=turn.member, settings=turn.settings,
                                     now=turn.now)
    gap = standing.gap
    if gap is None:
        top = turn.settings.tier(standing.tier)
        turn.say(turn.t("upgrade.top", tier=tier_name(turn, standing.tier),
                        spend=money(top.min_spend), visits=top.min_visits))
        return
    target = turn.settings.tier(gap.target)
    parts = []
    # Under "any", meeting either spend or visits already satisfies that part of the rule.
    if gap.qualify == "all" or (gap.spend > 0 and gap.visits > 0):
        if gap.spend > 0:
            parts.append(turn.t("upgrade.gap_spend", amount=money(gap.spend)))
        if gap.visits > 0:
            parts.append(turn.t("upgrade.gap_visits", count=gap.visits))
    joined = turn.t("upgrade.joiner_" + gap.qualify).join(parts)
    if gap.tenure_months > 0:
        tenure = turn.t("upgrade.gap_tenure", months=gap.tenure_months)
        joined = turn.t("upgrade.joiner_all").join(p for p in (joined, tenure) if p)
    if not joined:
        turn.say(turn.t("upgrade.met", target=tier_name(turn, gap.target)))
        return
    lines = [turn.t("upgrade.gap", target=tier_name(turn, gap.target), parts=joined),
             turn.t("upgrade.unlocks")]
    lines += [turn.t("benefits.item", benefit=localized(b, turn.language))
              for b in target.benefits]
    turn.say("\n".join(lines))
