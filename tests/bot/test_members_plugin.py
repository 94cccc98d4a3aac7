"""A retailer's member directory plugged in (members.plugin), with a stand-in CRM."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from bot.app import Kefu, build_kefu
from bot.core.storage import members as member_store
from bot.core.storage.db import transaction
from bot.features.loyalty.integrations import add_key, sign
from bot.features.members.plugin import MemberRecord, member_directory
from bot.server.asgi import create_app
from bot.settings import MembersSettings, Settings


class StandInCrm:
    """What a retailer writes: look members up in their own system (here, a dict)."""

    def __init__(self, settings: Settings) -> None:
        self.members = {
            "M555001": MemberRecord("M555001", phone="+8613955500001", tier="diamond",
                                    birthday=date(1980, 1, 5)),
            "+8613955500002": MemberRecord("M555002", tier=None),
        }
        self.asked: list[str] = []

    async def find_member(self, *, reference: str) -> MemberRecord | None:
        self.asked.append(reference)
        return self.members.get(reference)


def build(settings: Settings) -> StandInCrm:
    return StandInCrm(settings)


@pytest.fixture
async def crm_kefu(settings: Settings) -> AsyncIterator[Kefu]:
    plugged = settings.model_copy(update={
        "members": MembersSettings(plugin="tests.bot.test_members_plugin:build")})
    app = await build_kefu(plugged)
    yield app
    await app.aclose()


async def post_purchase(kefu: Kefu, body: dict[str, str]) -> httpx.Response:
    now = datetime.now(UTC)
    async with transaction(kefu.sessions) as session:
        key = await add_key(session, name="till", actor="test", now=now)
    raw = json.dumps(body).encode()
    ts = str(int(now.timestamp()))
    transport = httpx.ASGITransport(app=create_app(kefu, close_on_shutdown=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://kefu.test") as client:
        return await client.post("/api/v1/purchases", content=raw, headers={
            "X-Kefu-Key": key.key_id, "X-Kefu-Timestamp": ts,
            "X-Kefu-Signature": sign(key.secret, ts, raw)})


def purchase(member: str, ref: str = "pos-1") -> dict[str, str]:
    return {"ref": ref, "member": member, "amount": "128.00",
            "occurred_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat()}


async def test_the_crm_finds_the_member_and_its_tier_decides_the_points(crm_kefu: Kefu) -> None:
    response = await post_purchase(crm_kefu, purchase("M555001"))
    assert response.status_code == 200, response.text
    # diamond in the CRM (2 points per yuan), though Kefu has seen no purchase of theirs
    assert response.json()["tier"] == "diamond" and response.json()["points"] == 256
    async with transaction(crm_kefu.sessions) as session:
        member = await member_store.find_member_by_no(session, member_no="M555001")
        assert member is not None  # added on first sight: the ledger lives in Kefu
        assert crm_kefu.directory.phone(member) == "+8613955500001"


async def test_without_a_crm_tier_kefu_computes_it(crm_kefu: Kefu) -> None:
    response = await post_purchase(crm_kefu, purchase("+8613955500002"))
    assert response.json()["member"] == "M555002"
    assert response.json()["tier"] == "standard" and response.json()["points"] == 128


async def test_a_member_the_crm_does_not_know_is_refused(crm_kefu: Kefu) -> None:
    response = await post_purchase(crm_kefu, purchase("M555999"))
    assert response.status_code == 422 and response.json()["field"] == "member"
    crm = member_directory(crm_kefu.settings)
    assert isinstance(crm, StandInCrm)


def test_no_plugin_means_kefus_own_tables(settings: Settings) -> None:
    assert member_directory(settings) is None
