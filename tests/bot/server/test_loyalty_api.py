"""The purchase and refund API through the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot.app import Kefu, build_kefu
from bot.core.storage import members as member_store
from bot.core.storage.db import transaction
from bot.core.storage.models import PointTransaction
from bot.core.storage.models_loyalty import LoyaltyReceipt
from bot.core.storage.security_models import AuditEntry
from bot.features.loyalty.integrations import NewKey, add_key, revoke_key, sign
from bot.features.loyalty.ledger import add_purchase
from bot.features.loyalty.service import member_standing
from bot.server.asgi import create_app
from bot.settings import Settings

NOW = datetime.now(UTC)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Kefu]:
    """Kefu on the real clock: the API checks timestamps against it."""
    app = await build_kefu(settings)
    yield app
    await app.aclose()


@pytest.fixture
async def client(live: Kefu) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(live, close_on_shutdown=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://kefu.test") as c:
        yield c


@pytest.fixture
async def key(live: Kefu) -> NewKey:
    async with transaction(live.sessions) as session:
        return await add_key(session, name="test till", actor="test", now=datetime.now(UTC))


class Api:
    def __init__(self, client: httpx.AsyncClient, key: NewKey) -> None:
        self.client, self.key = client, key
        self.started, self.sent = int(datetime.now(UTC).timestamp()), 0

    def timestamp(self) -> int:
        # A till signs each attempt anew; a distinct second per request keeps signatures
        # distinct even within one clock second (the same signature twice is a replay).
        self.sent += 1
        return self.started - self.sent

    async def post(self, path: str, body: Any, *, timestamp: int | None = None,
                   secret: str | None = None, headers: dict[str, str] | None = None
                   ) -> httpx.Response:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        ts = str(timestamp if timestamp is not None else self.timestamp())
        signed = {"X-Kefu-Key": self.key.key_id, "X-Kefu-Timestamp": ts,
                  "X-Kefu-Signature": sign(secret or self.key.secret, ts, raw),
                  "Content-Type": "application/json"}
        return await self.client.post(path, content=raw,
                                      headers=signed if headers is None else headers)


@pytest.fixture
def api(client: httpx.AsyncClient, key: NewKey) -> Api:
    return Api(client, key)


async def make_member(kefu: Kefu, *, member_no: str = "M300001", phone: str = "+8613911112222",
                      birthday: date | None = date(1990, 1, 15), spend: str | None = None,
                      visits: int = 1) -> None:
    async with transaction(kefu.sessions) as session:
        member = await kefu.directory.create(
            session, member_no=member_no, phone=phone, name="测试", birthday=birthday,
            language="zh-Hans", timezone="Asia/Shanghai", joined_at=NOW - timedelta(days=800))
        if spend is not None:
            for index in range(visits):
                await add_purchase(session, member_id=member.id,
                                   amount=Decimal(spend) / visits,
                                   occurred_at=NOW - timedelta(days=30 + index),
                                   external_ref=f"history-{member_no}-{index}")


async def balance(kefu: Kefu, member_no: str = "M300001") -> int:
    async with transaction(kefu.sessions) as session:
        member = await member_store.find_member_by_no(session, member_no=member_no)
        assert member is not None
        standing = await member_standing(session, member=member, settings=kefu.settings,
                                         now=datetime.now(UTC))
        return standing.points.balance


async def count(kefu: Kefu, model: Any) -> int:
    async with transaction(kefu.sessions) as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def purchase(ref: str = "pos-1", **fields: Any) -> dict[str, Any]:
    body = {"ref": ref, "member": "M300001", "amount": "128.00", "store": "sh-jingan",
            "occurred_at": (NOW - timedelta(minutes=5)).isoformat()}
    body.update(fields)
    return body


async def test_a_gold_purchase_earns_by_the_gold_rule_once_and_a_refund_takes_it_back(
    live: Kefu, api: Api
) -> None:
    await make_member(live, spend="12000", visits=10)  # gold: ≥ 10,000 yuan in 12 months
    response = await api.post("/api/v1/purchases", purchase())
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer == {"ref": "pos-1", "member": "M300001", "tier": "gold", "points": 192,
                      "balance": 192}
    assert await balance(live) == 192

    again = await api.post("/api/v1/purchases", purchase())
    assert again.status_code == 200
    assert again.json() == answer
    assert again.headers["Kefu-Repeated"] == "true"
    assert await balance(live) == 192
    assert await count(live, PointTransaction) == 1

    refund = await api.post("/api/v1/refunds",
                            {"ref": "rf-1", "purchase_ref": "pos-1", "amount": "128.00"})
    assert refund.status_code == 200, refund.text
    assert refund.json()["points"] == -192
    assert refund.json()["balance"] == 0
    assert await balance(live) == 0


async def test_member_found_by_phone_in_any_common_form(live: Kefu, api: Api) -> None:
    await make_member(live)
    response = await api.post("/api/v1/purchases", purchase(member="139 1111 2222"))
    assert response.status_code == 200, response.text
    # standard tier, 1 point per yuan; not the birthday month (January)
    assert response.json()["member"] == "M300001"
    assert response.json()["points"] == 128


async def test_birthday_month_doubles_a_standard_members_points(live: Kefu, api: Api) -> None:
    purchased = NOW - timedelta(minutes=5)
    today = (purchased + timedelta(hours=8)).date()  # the day in Asia/Shanghai (no DST)
    await make_member(live, birthday=date(1990, today.month, 1))
    response = await api.post("/api/v1/purchases", purchase(amount="99.99"))
    assert response.json()["points"] == 199  # 99.99 × 1 × 2 = 199.98, rounded down


async def test_the_tier_is_the_one_held_at_the_time_of_the_purchase(
    live: Kefu, api: Api
) -> None:
    await make_member(live, spend="9900", visits=5)  # silver, 100 yuan short of gold
    big = await api.post("/api/v1/purchases", purchase("pos-big", amount="200.00"))
    assert big.json()["tier"] == "silver"
    assert big.json()["points"] == 240
    after = await api.post("/api/v1/purchases", purchase(
        "pos-next", amount="100.00", occurred_at=(NOW - timedelta(minutes=1)).isoformat()))
    assert after.json()["tier"] == "gold"
    assert after.json()["points"] == 150


async def test_partial_refunds_and_a_refund_beyond_what_is_left(live: Kefu, api: Api) -> None:
    await make_member(live, spend="12000", visits=10)
    await api.post("/api/v1/purchases", purchase(amount="100.00"))  # 150 points
    first = await api.post("/api/v1/refunds",
                           {"ref": "rf-a", "purchase_ref": "pos-1", "amount": "33.33"})
    assert first.json()["points"] == -49  # 150 × 33.33 / 100 = 49.995, rounded down
    too_much = await api.post("/api/v1/refunds",
                              {"ref": "rf-b", "purchase_ref": "pos-1", "amount": "66.68"})
    assert too_much.status_code == 422
    assert too_much.json()["field"] == "amount"
    rest = await api.post("/api/v1/refunds",
                          {"ref": "rf-c", "purchase_ref": "pos-1", "amount": "66.67"})
    assert rest.json()["points"] == -101
    assert rest.json()["balance"] == 0


async def test_a_refund_of_points_already_spent_leaves_a_negative_adjustment(
    live: Kefu, api: Api
) -> None:
    from bot.features.loyalty.ledger import add_transaction
    from bot.features.loyalty.points import REDEEM

    await make_member(live)
    await api.post("/api/v1/purchases", purchase(amount="500.00"))  # 500 points
    async with transaction(live.sessions) as session:
        member = await member_store.find_member_by_no(session, member_no="M300001")
        assert member is not None
        await add_transaction(session, member_id=member.id, kind=REDEEM, points=-300,
                              occurred_at=NOW, external_ref="spent")
    refund = await api.post("/api/v1/refunds",
                            {"ref": "rf-1", "purchase_ref": "pos-1", "amount": "500.00"})
    assert refund.json()["points"] == -500
    assert refund.json()["balance"] == -300
    async with transaction(live.sessions) as session:
        refs = dict((await session.execute(select(PointTransaction.external_ref,
                                                  PointTransaction.points))).all())
    assert refs["refund:rf-1"] == -200  # what was left
    assert refs["refund:rf-1:rest"] == -300  # the rest: a negative adjustment
    # the next purchase pays the debt back first
    nxt = await api.post("/api/v1/purchases", purchase("pos-2", amount="400.00"))
    assert nxt.json()["balance"] == 100


@pytest.mark.parametrize(("fields", "field"), [
    ({"member": "M999999"}, "member"),
    ({"member": "13000000000"}, "member"),
    ({"amount": "-5.00"}, "amount"),
    ({"amount": "0"}, "amount"),
    ({"amount": "2000000.00"}, "amount"),
    ({"amount": "1.005"}, "amount"),
    ({"amount": "lots"}, "amount"),
    ({"currency": "USD"}, "currency"),
    ({"occurred_at": (NOW + timedelta(days=1)).isoformat()}, "occurred_at"),
    ({"occurred_at": "2026-11-23T14:00:00"}, "occurred_at"),
    ({"ref": ""}, "ref"),
])
async def test_bad_fields_get_422_naming_the_field_and_nothing_is_stored(
    live: Kefu, api: Api, fields: dict[str, Any], field: str
) -> None:
    await make_member(live)
    response = await api.post("/api/v1/purchases", purchase(**fields))
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    assert await count(live, LoyaltyReceipt) == 0
    assert await count(live, PointTransaction) == 0


async def test_a_ref_reused_for_another_purchase_is_a_conflict(live: Kefu, api: Api) -> None:
    await make_member(live)
    await api.post("/api/v1/purchases", purchase())
    response = await api.post("/api/v1/purchases", purchase(amount="1.00"))
    assert response.status_code == 409
    assert response.json()["field"] == "ref"
    unknown = await api.post("/api/v1/refunds",
                             {"ref": "rf-x", "purchase_ref": "nope", "amount": "1.00"})
    assert unknown.status_code == 422 and unknown.json()["field"] == "purchase_ref"


async def test_unsigned_wrong_stale_replayed_and_revoked_requests_get_401(
    live: Kefu, api: Api, key: NewKey
) -> None:
    await make_member(live)
    body = purchase()
    raw = json.dumps(body).encode()
    refused = [
        await api.post("/api/v1/purchases", body, headers={}),
        await api.post("/api/v1/purchases", body, secret="kfs_" + "x" * 86),
        await api.post("/api/v1/purchases", body,
                       timestamp=int(datetime.now(UTC).timestamp()) - 301),
        await api.post("/api/v1/purchases", body,
                       timestamp=int(datetime.now(UTC).timestamp()) + 301),
    ]
    ts = str(int(datetime.now(UTC).timestamp()))
    tampered = {"X-Kefu-Key": key.key_id, "X-Kefu-Timestamp": ts,
                "X-Kefu-Signature": sign(key.secret, ts, raw)}
    refused.append(await api.client.post("/api/v1/purchases",
                                         content=raw.replace(b"128.00", b"928.00"),
                                         headers=tampered))
    for response in refused:
        assert response.status_code == 401, response.text
    assert await count(live, LoyaltyReceipt) == 0

    accepted = await api.client.post("/api/v1/purchases", content=raw, headers=tampered)
    assert accepted.status_code == 200
    replayed = await api.client.post("/api/v1/purchases", content=raw, headers=tampered)
    assert replayed.status_code == 401
    assert "replay" in replayed.json()["error"]

    async with transaction(live.sessions) as session:
        await revoke_key(session, key_id=key.key_id, actor="test", now=datetime.now(UTC))
    revoked = await api.post("/api/v1/purchases", purchase("pos-2"))
    assert revoked.status_code == 401
    assert await count(live, LoyaltyReceipt) == 1


async def test_keys_are_stored_hashed_and_audited(live: Kefu, key: NewKey) -> None:
    from bot.core.storage.models_loyalty import Integration

    async with transaction(live.sessions) as session:
        stored = (await session.execute(select(Integration))).scalar_one()
        actions = list((await session.execute(select(AuditEntry.action, AuditEntry.subject)))
                       .all())
    assert key.secret not in (stored.secret_hash, stored.key_id)
    assert len(key.secret) > 64  # longer than the HMAC block: HMAC uses its SHA-256
    assert ("integration.add", key.key_id) in actions


async def test_a_batch_answers_each_item_by_itself(live: Kefu, api: Api) -> None:
    await make_member(live)
    items = [purchase(f"pos-{i}", amount="10.00") for i in range(5)]
    items[1]["member"] = "M404404"
    items[3]["currency"] = "HKD"
    items.append(purchase("pos-0", amount="10.00"))  # a repeat inside the batch
    items.append("not an object")  # type: ignore[arg-type]
    response = await api.post("/api/v1/purchases", items)
    assert response.status_code == 200, response.text
    results = response.json()
    assert [r["status"] for r in results] == [200, 422, 200, 422, 200, 200, 422]
    assert results[1]["field"] == "member"
    assert results[3]["field"] == "currency"
    assert results[5]["points"] == results[0]["points"] == 10
    assert results[4]["balance"] == 30
    assert await balance(live) == 30


async def test_a_batch_of_more_than_500_is_refused_whole(live: Kefu, api: Api) -> None:
    await make_member(live)
    response = await api.post("/api/v1/purchases",
                              [purchase(f"pos-{i}", amount="1.00") for i in range(501)])
    assert response.status_code == 422
    assert response.json()["field"] == "body"
    assert await count(live, LoyaltyReceipt) == 0


async def test_a_full_batch_of_500_is_accepted(live: Kefu, api: Api) -> None:
    await make_member(live)
    response = await api.post("/api/v1/purchases",
                              [purchase(f"pos-{i}", amount="1.00") for i in range(500)])
    assert response.status_code == 200
    assert {r["status"] for r in response.json()} == {200}
    assert await balance(live) == 500


async def test_the_api_is_in_the_openapi_schema(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    for path in ("/api/v1/purchases", "/api/v1/refunds"):
        operation = schema["paths"][path]["post"]
        assert {"200", "401", "409", "422"} <= set(operation["responses"])
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        assert body["oneOf"][1]["maxItems"] == 500
    purchase_schema = schema["paths"]["/api/v1/purchases"]["post"]["requestBody"]
    properties = purchase_schema["content"]["application/json"]["schema"]["oneOf"][0]
    assert {"ref", "member", "amount", "occurred_at"} <= set(properties["properties"])
