"""take_passive: a reply row is answered passively or sent by the dispatcher, never both and
never neither; the rest of the turn becomes due for the dispatcher."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.core.messages import OutboundMessage
from bot.core.storage.db import make_sessionmaker, transaction
from bot.core.storage.models import OutboxMessage
from bot.outbox import store as outbox
from bot.outbox.dispatcher import ChannelPolicy, Dispatcher
from tests.conftest import Database

HOLD = timedelta(seconds=30)


class Recorder:
    name = "wechat"

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, message: OutboundMessage) -> str | None:
        self.sent.append(message.text)
        return None

    async def aclose(self) -> None:
        return None


async def queue(database: Database, texts: list[str], now: datetime) -> list[int]:
    ids: list[int] = []
    async with transaction(make_sessionmaker(database.engine)) as session:
        for text in texts:
            row_id = await outbox.enqueue(session, OutboundMessage("wechat", "o1", text),
                                          identity_id=None, now=now, not_before=now + HOLD)
            assert row_id is not None
            ids.append(row_id)
    return ids


async def rows(database: Database) -> list[OutboxMessage]:
    async with make_sessionmaker(database.engine)() as session:
        return list((await session.execute(select(OutboxMessage).order_by(OutboxMessage.id)))
                    .scalars())


async def test_passive_rows_are_sent_and_the_rest_is_due_for_the_dispatcher(
        database: Database) -> None:
    now = datetime.now(UTC)
    ids = await queue(database, ["one", "two", "three"], now)
    async with transaction(make_sessionmaker(database.engine)) as session:
        taken = await outbox.take_passive(session, ids=ids[:1], rest=ids[1:], now=now,
                                          rest_due=now)
    assert [row.payload["text"] for row in taken] == ["one"]
    sender = Recorder()
    dispatcher = Dispatcher(sessions=make_sessionmaker(database.engine),
                            senders={"wechat": sender},
                            policies={"wechat": ChannelPolicy(per_second=1000)})
    while await dispatcher.run_once():
        pass
    assert sender.sent == ["two", "three"]  # not held back for the passive hold, not "one"
    assert [(r.status, r.delivered_via) for r in await rows(database)] == [
        ("sent", "passive"), ("sent", "api"), ("sent", "api")]


async def test_a_row_the_dispatcher_holds_is_not_taken_passively(database: Database) -> None:
    now = datetime.now(UTC)
    ids = await queue(database, ["one"], now)
    async with transaction(make_sessionmaker(database.engine)) as session:
        await outbox.mark_sent(session, outbox_id=ids[0], now=now, via="api")
    async with transaction(make_sessionmaker(database.engine)) as session:
        taken = await outbox.take_passive(session, ids=ids, rest=[], now=now, rest_due=now)
    assert taken == []
    assert [(r.status, r.delivered_via) for r in await rows(database)] == [("sent", "api")]


async def test_a_retry_gets_the_passive_texts_again(database: Database) -> None:
    from bot.core.storage.conversations import current_conversation, record_inbound, record_outbound
    from bot.core.storage.members import ensure_identity

    now = datetime.now(UTC)
    async with transaction(make_sessionmaker(database.engine)) as session:
        identity = await ensure_identity(session, channel="wechat", external_id="o1", now=now)
        conversation = await current_conversation(session, identity=identity, now=now)
        inbound_id = await record_inbound(session, conversation=conversation, channel="wechat",
                                          channel_message_id="msg:1", text="hi", now=now)
        assert inbound_id is not None
        reply = await record_outbound(session, conversation=conversation, channel="wechat",
                                      reply_to_id=inbound_id, text="a\n\nb", buttons=None,
                                      now=now)
        ids = [await outbox.enqueue(session, OutboundMessage("wechat", "o1", text),
                                    identity_id=identity.id, now=now, message_id=reply.id,
                                    not_before=now + HOLD) for text in ("a", "b")]
    async with transaction(make_sessionmaker(database.engine)) as session:
        await outbox.take_passive(session, ids=[i for i in ids[:1] if i], rest=[], now=now,
                                  rest_due=now)
    async with make_sessionmaker(database.engine)() as session:
        assert await outbox.passive_texts(session, message_id=inbound_id) == ["a"]
