"""The privacy_request intent: rights explained, a confirmed request recorded, nothing more."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.app import Kefu
from bot.core import audit
from bot.core.messages import InboundMessage
from bot.core.storage.db import transaction
from bot.features.privacy import requests
from tests.factories import bound_member


def said(text: str, sender: str = "alice") -> InboundMessage:
    return InboundMessage(channel="web", sender_id=sender, text=text,
                          received_at=datetime.now(UTC))


async def test_rights_are_explained_with_export_and_erase_buttons(kefu: Kefu) -> None:
    await bound_member(kefu)
    (reply,) = await kefu.dialogue.handle(said("/privacy_request"))
    assert "删除" in reply.text and "180" in reply.text
    assert [b.payload for b in reply.buttons] == ["/privacy_request export",
                                                  "/privacy_request erase"]


async def test_confirmed_erasure_request_is_recorded_and_audited(kefu: Kefu) -> None:
    await bound_member(kefu)
    (question,) = await kefu.dialogue.handle(said("/privacy_request erase"))
    assert [b.payload for b in question.buttons] == ["/privacy_confirm erase", "/privacy_cancel"]
    (done,) = await kefu.dialogue.handle(said("/privacy_confirm erase"))
    async with transaction(kefu.sessions) as session:
        (request,) = await requests.list_requests(session, status=requests.PENDING)
        assert (request.kind, request.source) == ("erase", "web")
        (entry,) = await audit.search(session, action=audit.PRIVACY_REQUEST)
        assert entry.actor == "member:M100001" and entry.detail["kind"] == "erase"
    assert f"#{request.id}" in done.text
    # Nothing was erased yet: staff check identity and run `kefu members erase`.
    (balance,) = await kefu.dialogue.handle(said("/points"))
    assert "1,200" in balance.text


async def test_confirmation_without_the_question_starts_nothing(kefu: Kefu) -> None:
    await bound_member(kefu)
    (reply,) = await kefu.dialogue.handle(said("/privacy_confirm erase"))
    await kefu.dialogue.handle(said("/privacy_request export"))
    (mismatch,) = await kefu.dialogue.handle(said("/privacy_confirm erase"))
    async with transaction(kefu.sessions) as session:
        assert await requests.list_requests(session) == []
    assert reply.text == mismatch.text


async def test_cancel_and_the_english_free_text_path(kefu: Kefu) -> None:
    await bound_member(kefu)
    await kefu.dialogue.handle(said("/lang en"))
    (question,) = await kefu.dialogue.handle(said("/privacy_request export"))
    assert "copy" in question.text
    (cancelled,) = await kefu.dialogue.handle(said("/privacy_cancel"))
    assert "nothing was requested" in cancelled.text
    (late,) = await kefu.dialogue.handle(said("/privacy_confirm export"))
    async with transaction(kefu.sessions) as session:
        assert await requests.list_requests(session) == []
    assert "my personal data" in late.text


async def test_unbound_visitor_hears_what_is_held_without_buttons(kefu: Kefu) -> None:
    (reply,) = await kefu.dialogue.handle(said("/privacy_request", sender="stranger"))
    assert "180" in reply.text and not reply.buttons
