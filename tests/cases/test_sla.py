"""SLA targets per priority and channel, the clock's zone, pauses and urgency colours."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.features.cases.settings import CasesSettings, parse_minutes
from bot.features.cases.sla import (
    calendar_for,
    case_zone,
    deadlines,
    minutes_left,
    resume_due,
    urgency,
)
from tests.conftest import make_settings

SHANGHAI = ZoneInfo("Asia/Shanghai")
CASES = make_settings().cases
CALENDAR = calendar_for(CASES)
MONDAY_14 = datetime(2026, 11, 23, 14, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(("text", "minutes"), [
    ("30m", 30), ("2h", 120), ("1h30m", 90), (" 2 h ", 120), (45, 45)])
def test_durations(text: str | int, minutes: int) -> None:
    assert parse_minutes(text) == minutes


def test_bad_durations_name_the_problem() -> None:
    with pytest.raises(ValueError, match="30m"):
        parse_minutes("soon")


def test_every_priority_needs_a_target() -> None:
    with pytest.raises(ValueError, match="missing"):
        CasesSettings(sla={"urgent": {"first_response": 10, "resolution": 20}})


def test_targets_per_priority_and_channel() -> None:
    assert CASES.target("high", "web").first_response == 120
    assert CASES.target("high", "wechat").first_response == 60  # config.yml override
    assert CASES.target("high", "wechat").resolution == CASES.target("high", "web").resolution


def test_deadlines_count_business_time() -> None:
    due = deadlines(CASES, CALENDAR, priority="high", channel="web", start=MONDAY_14,
                    zone=SHANGHAI)
    assert due.first_response == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 16:00 local
    # 24 business hours at 12 h a day: 7 h Monday, 12 h Tuesday, 5 h Wednesday.
    assert due.resolution.astimezone(SHANGHAI) == datetime(2026, 11, 25, 14, 0,
                                                           tzinfo=SHANGHAI)


def test_zone_is_the_stores_then_the_members() -> None:
    settings = make_settings()
    assert case_zone(settings, store_code="hk-causeway", member_timezone="Asia/Shanghai") \
        == "Asia/Hong_Kong"
    assert case_zone(settings, store_code=None, member_timezone="Europe/London") \
        == "Europe/London"
    assert case_zone(settings, store_code="nowhere", member_timezone=None) == "Asia/Shanghai"


def test_a_pause_moves_the_deadline_by_the_paused_business_time() -> None:
    due = datetime(2026, 11, 23, 16, 0, tzinfo=SHANGHAI)
    paused_at = datetime(2026, 11, 23, 15, 0, tzinfo=SHANGHAI)
    left = minutes_left(CALENDAR, due, paused_at, SHANGHAI)
    assert left == 60
    resumed = datetime(2026, 11, 24, 20, 30, tzinfo=SHANGHAI)  # 30 min before closing
    assert resume_due(CALENDAR, left, resumed, SHANGHAI).astimezone(SHANGHAI) == \
        datetime(2026, 11, 25, 9, 30, tzinfo=SHANGHAI)


def test_overdue_counts_even_when_closed_since() -> None:
    due = datetime(2026, 11, 23, 21, 0, tzinfo=SHANGHAI)
    night = datetime(2026, 11, 23, 23, 0, tzinfo=SHANGHAI)
    assert minutes_left(CALENDAR, due, night, SHANGHAI) == -1
    assert urgency(CALENDAR, due=due, now=night, zone=SHANGHAI, warn_before=30,
                   target=120) == "breached"


@pytest.mark.parametrize(("minutes_before", "level"), [
    (100, "ok"), (50, "soon"), (30, "warning"), (5, "warning"), (-5, "breached")])
def test_urgency_colours(minutes_before: int, level: str) -> None:
    from datetime import timedelta

    due = datetime(2026, 11, 23, 18, 0, tzinfo=SHANGHAI)
    now = due - timedelta(minutes=minutes_before)
    assert urgency(CALENDAR, due=due, now=now, zone=SHANGHAI, warn_before=30,
                   target=120) == level
    assert urgency(CALENDAR, due=None, now=now, zone=SHANGHAI, warn_before=30,
                   target=120) == "paused"
