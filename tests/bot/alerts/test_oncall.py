"""On-call alerts end to end: an urgent complaint at night and an SLA breach reach a WeCom
group robot (a local stand-in) and a Telegram team chat (the simulator) through the outbox,
retried when the robot is busy; bad alert settings stop start-up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from bot.app import Kefu, build_kefu
from bot.core.errors import ConfigError
from bot.core.storage.models import OutboxMessage
from bot.delivery import build_delivery
from bot.features.alerts import oncall
from bot.features.alerts.settings import AlertsSettings
from bot.settings import ServerSettings, Settings, load_settings
from kefu_sim import TelegramSimConfig, TelegramSimulator, serve_in_thread
from scheduler.sla import check_deadlines
from tests.bot.alerts.wecom_standin import RobotStandIn, robot_standin
from tests.cases.helpers import Clock, dialogue, file_complaint
from tests.conftest import FIXED_NOW, ROOT

SHANGHAI = ZoneInfo("Asia/Shanghai")
FRIDAY_NIGHT = datetime(2026, 11, 27, 23, 30, tzinfo=SHANGHAI)
TOKEN = "515151:AAE-oncall"
TEAM_CHAT = "-1001234567890"


@pytest.fixture
def robot() -> Iterator[tuple[RobotStandIn, str]]:
    with robot_standin() as found:
        yield found


@pytest.fixture
def telegram_sim() -> Iterator[tuple[TelegramSimulator, str]]:
    simulator = TelegramSimulator(TelegramSimConfig(token=TOKEN))
    with serve_in_thread(simulator) as url:
        yield simulator, url


@pytest.fixture
async def on_call(settings: Settings, robot: tuple[RobotStandIn, str],
                  telegram_sim: tuple[TelegramSimulator, str]) -> AsyncIterator[Kefu]:
    configured = settings.model_copy(update={
        "alerts": AlertsSettings(wecom_webhook_url=robot[1], telegram_chat_id=TEAM_CHAT),
        "server": ServerSettings(public_url="https://kefu.example.com"),
        "telegram_bot_token": SecretStr(TOKEN), "telegram_api_base_url": telegram_sim[1]})
    kefu = await build_kefu(configured, clock=lambda: FIXED_NOW)
    yield kefu
    await kefu.aclose()


async def alert_rows(kefu: Kefu) -> list[OutboxMessage]:
    async with kefu.sessions() as session:
        return list((await session.execute(select(OutboxMessage).where(
            OutboxMessage.purpose == oncall.PURPOSE).order_by(OutboxMessage.id))).scalars())


async def deliver_all(kefu: Kefu, *, seconds: float = 15,
                      since: datetime | None = None) -> None:
    """Runs the server's own dispatcher (build_delivery) until no alert is pending; with
    ``since``, its clock starts then and runs at real speed (alerts raised in the past are
    still fresh, not past the outbox's retry period)."""
    start = datetime.now(UTC)
    clock = None if since is None else (lambda: since + (datetime.now(UTC) - start))
    delivery = build_delivery(kefu, clock=clock)
    assert {oncall.WECOM, "telegram"} <= set(delivery.dispatcher.senders)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    try:
        while loop.time() < deadline:
            await delivery.dispatcher.run_once()
            if all(row.status != "pending" for row in await alert_rows(kefu)):
                return
            await asyncio.sleep(0.2)
        raise AssertionError("alerts still pending")
    finally:
        await delivery.dispatcher.aclose()


async def test_an_urgent_case_at_night_alerts_on_call_at_once(
        on_call: Kefu, robot: tuple[RobotStandIn, str],
        telegram_sim: tuple[TelegramSimulator, str]) -> None:
    standin, _url = robot
    standin.answers = [-1]  # the robot is busy once: the outbox retries
    case = await file_complaint(on_call, dialogue(on_call, Clock(FRIDAY_NIGHT)),
                                description="孩子吃了你们的饼干过敏了，现在在医院")
    assert case.priority == "urgent"
    await deliver_all(on_call, since=FRIDAY_NIGHT)

    assert len(standin.texts) == 1 and case.number in standin.texts[0]
    assert standin.texts[0].startswith("【紧急工单】")
    assert f"https://kefu.example.com/console/cases/{case.id}" in standin.texts[0]
    assert standin.paths == ["/cgi-bin/webhook/send?key=test-key"]
    team = [m.text for m in telegram_sim[0].sent_to(TEAM_CHAT)]
    assert team == standin.texts
    rows = await alert_rows(on_call)
    assert [(r.channel, r.status) for r in rows] == [(oncall.WECOM, "sent"), ("telegram", "sent")]
    assert rows[0].attempts == 2  # the busy answer, then the post

    # The breach, when the desk opens on Monday: once, to both chats.
    monday = datetime(2026, 11, 30, 9, 31, tzinfo=SHANGHAI)
    for _ in range(2):
        await check_deadlines(on_call.sessions, settings=on_call.settings,
                              clock=lambda: monday)
    await deliver_all(on_call)
    assert len(standin.texts) == 2 and standin.texts[1].startswith("【SLA 超时】")
    assert case.number in standin.texts[1] and "首次回复" in standin.texts[1]
    assert [m.text for m in telegram_sim[0].sent_to(TEAM_CHAT)] == standin.texts


async def test_a_refused_webhook_is_not_retried(
        on_call: Kefu, robot: tuple[RobotStandIn, str]) -> None:
    standin, _url = robot
    standin.answers = [93000]  # invalid webhook URL: retrying cannot help
    await file_complaint(on_call, dialogue(on_call, Clock(FIXED_NOW)),
                         description="门店起火了，有人受伤")
    await deliver_all(on_call)
    wecom = [r for r in await alert_rows(on_call) if r.channel == oncall.WECOM]
    assert [(r.status, r.attempts) for r in wecom] == [("failed", 1)]
    assert "93000" in (wecom[0].last_error or "") and "test-key" not in (wecom[0].last_error or "")


async def test_no_alert_for_an_ordinary_case(on_call: Kefu) -> None:
    await file_complaint(on_call, dialogue(on_call, Clock(FIXED_NOW)))  # high, not urgent
    assert await alert_rows(on_call) == []
    report = await check_deadlines(on_call.sessions, settings=on_call.settings,
                                   clock=lambda: FIXED_NOW + timedelta(minutes=95))
    assert report.warned == 1 and await alert_rows(on_call) == []  # warnings stay in console


@pytest.mark.parametrize(("key", "value", "message"), [
    ("KEFU_ALERTS__WECOM_WEBHOOK_URL", "qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x",
     "alerts.wecom_webhook_url: Value error, must be an http(s) URL"),
    ("KEFU_ALERTS__TELEGRAM_CHAT_ID", "team chat",
     "alerts.telegram_chat_id: String should match pattern"),
])
def test_bad_alert_settings_stop_start_up(monkeypatch: pytest.MonkeyPatch, key: str,
                                          value: str, message: str) -> None:
    monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as raised:
        load_settings(ROOT / "config.yml")
    assert message in str(raised.value)
    assert f"(environment override: {key})" in str(raised.value)


def test_telegram_alerts_need_the_bot_token(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.setenv("KEFU_ALERTS__TELEGRAM_CHAT_ID", TEAM_CHAT)
    with pytest.raises(ConfigError) as raised:
        load_settings(ROOT / "config.yml")
    assert "alerts.telegram_chat_id" in str(raised.value)
    assert "KEFU_ALERTS__TELEGRAM_CHAT_ID" in str(raised.value)
