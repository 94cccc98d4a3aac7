from bot.app import Kefu
from bot.core.storage.members import find_identity
from bot.core.storage.models import Member
from handlers.preferences import GREETINGS, PROMOTIONS, may_send, topics_in
from tests.conftest import FIXED_NOW
from tests.factories import bound_member
from tests.handlers.conftest import Chat


def test_topics_are_read_from_the_message() -> None:
    assert topics_in("不要再发促销广告了") == [PROMOTIONS]
    assert topics_in("stop birthday greetings") == [GREETINGS]
    assert topics_in("退订") == []


async def _allowed(kefu: Kefu, channel: str = "web") -> dict[str, bool]:
    async with kefu.sessions() as session:
        identity = await find_identity(session, channel=channel, external_id="alice")
        assert identity is not None and identity.member_id is not None
        member = await session.get(Member, identity.member_id)
        return {t: await may_send(session, identity=identity, member=member, topic=t)
                for t in (GREETINGS, PROMOTIONS)}


async def test_unsubscribe_is_effective_at_once_per_channel(kefu: Kefu, chat: Chat) -> None:
    member = await bound_member(kefu)
    await bound_member_on_console(kefu, member)
    assert await _allowed(kefu) == {GREETINGS: True, PROMOTIONS: False}  # default consent
    await chat.say("/subscribe promotions")
    assert await _allowed(kefu) == {GREETINGS: True, PROMOTIONS: True}
    assert "立即生效" in await chat.say("/unsubscribe")
    assert await _allowed(kefu) == {GREETINGS: False, PROMOTIONS: False}
    assert await _allowed(kefu, "console") == {GREETINGS: True, PROMOTIONS: True}
    assert "所有渠道" in await chat.say("/unsubscribe all")
    assert await _allowed(kefu, "console") == {GREETINGS: False, PROMOTIONS: False}


async def bound_member_on_console(kefu: Kefu, member: Member) -> None:
    from bot.core.storage import members as store
    from bot.core.storage.db import transaction
    from tests.conftest import FIXED_NOW

    async with transaction(kefu.sessions) as session:
        identity = await store.ensure_identity(session, channel="console", external_id="alice",
                                               now=FIXED_NOW)
        fresh = await session.get(Member, member.id)
        assert fresh is not None
        await store.bind_identity(session, identity=identity, member=fresh, now=FIXED_NOW)


def _dialogue(kefu: Kefu, **nlu_settings: float) -> Chat:
    from dataclasses import replace

    from bot.dialogue.pipeline import Dialogue
    from bot.dialogue.registry import Registry
    from handlers import register_all

    services = kefu.services
    if nlu_settings:
        settings = services.settings.model_copy(update={
            "nlu": services.settings.nlu.model_copy(update=nlu_settings)})
        services = replace(services, settings=settings)
    return Chat(Dialogue(services=services, sessions=kefu.sessions,
                         registry=register_all(Registry()), clock=lambda: FIXED_NOW))


INJECTION = "'; DROP TABLE messages; --"  # the embedded model reads unsubscribe at 0.63


async def test_an_unsure_unsubscribe_changes_nothing_until_confirmed(kefu_nlu: Kefu) -> None:
    await bound_member(kefu_nlu)
    chat = _dialogue(kefu_nlu)
    before = await _allowed(kefu_nlu)
    replies = await chat.send(INJECTION)
    assert [b.payload for r in replies for b in r.buttons] == ["/affirm", "/deny"]
    assert await _allowed(kefu_nlu) == before == {GREETINGS: True, PROMOTIONS: False}
    await chat.say("/deny")
    assert await _allowed(kefu_nlu) == before
    await chat.say(INJECTION)
    await chat.say("yes")
    assert await _allowed(kefu_nlu) == {GREETINGS: False, PROMOTIONS: False}


async def test_the_confidence_needed_is_configurable(kefu_nlu: Kefu) -> None:
    await bound_member(kefu_nlu)
    lenient = _dialogue(kefu_nlu, destructive_confidence=0.5)
    assert "no more" in await lenient.say(INJECTION)  # 0.63 ≥ 0.5: at once
    assert await _allowed(kefu_nlu) == {GREETINGS: False, PROMOTIONS: False}
async def test_subscribe_and_unsubscribe_everywhere_go_through_the_consent_history(
        kefu: Kefu, chat: Chat) -> None:
    from bot.features.privacy.requests import consent_history
    from bot.features.proactive.consent import PROMOTIONS as KIND
    from bot.features.proactive.consent import consenting

    member = await bound_member(kefu)
    await chat.say("/subscribe promotions")
    async with kefu.sessions() as session:
        assert await consenting(session, member_ids=[member.id], kind=KIND) == {member.id}
    await chat.say("/unsubscribe all")
    async with kefu.sessions() as session:
        history = await consent_history(session, member_id=member.id)
        assert await consenting(session, member_ids=[member.id], kind=KIND) == set()
    assert [(e.kind, e.granted, e.source) for e in history] == [
        ("promotions", True, "web"), ("greetings", False, "web"), ("promotions", False, "web")]
