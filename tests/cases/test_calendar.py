"""Business time: weekends, Chinese holidays, 调休 make-up workdays, overrides, far years."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.features.cases.calendar import BusinessCalendar
from bot.features.cases.settings import BusinessHours, CalendarOverrides

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALENDAR = BusinessCalendar(BusinessHours(), CalendarOverrides())


def local(*args: int, zone: ZoneInfo = SHANGHAI) -> datetime:
    return datetime(*args, tzinfo=zone)


@pytest.mark.parametrize(("day", "workday"), [
    (date(2026, 11, 23), True),    # a Monday
    (date(2026, 11, 28), False),   # a Saturday
    (date(2026, 10, 1), False),    # National Day (chinese-calendar)
    (date(2026, 10, 10), True),    # Saturday, but a 调休 make-up workday
    (date(2026, 2, 17), False),    # Spring Festival 2026
    (date(2027, 2, 8), False),     # Spring Festival 2027: past chinese-calendar's data
    (date(2027, 2, 10), False),    # observed day, from holidays.China
    (date(2027, 3, 1), True),      # an ordinary Monday in 2027
    (date(2027, 3, 6), False),     # a Saturday in 2027 (make-up days unknown yet)
    (date(2099, 10, 1), False),    # far future: statutory holidays still known
])
def test_workdays(day: date, workday: bool) -> None:
    assert CALENDAR.is_workday(day) is workday


def test_operator_overrides_win() -> None:
    calendar = BusinessCalendar(BusinessHours(), CalendarOverrides(
        closed_days=[date(2026, 11, 23)], workdays=[date(2027, 2, 20)]))
    assert not calendar.is_workday(date(2026, 11, 23))
    assert calendar.is_workday(date(2027, 2, 20))  # a Saturday the operator made a workday


def test_a_year_no_library_knows_does_not_crash() -> None:
    for year in (1900, 2200, 9998):
        CALENDAR.is_workday(date(year, 5, 4))
    start = local(9998, 12, 30, 10)
    assert CALENDAR.add(start, 60, SHANGHAI) > start


def test_add_skips_the_night_and_the_weekend() -> None:
    friday_evening = local(2026, 11, 27, 20, 30)
    due = CALENDAR.add(friday_evening, 60, SHANGHAI)
    # 30 minutes on Friday, the other 30 on Monday from 09:00.
    assert due == local(2026, 11, 30, 9, 30).astimezone(UTC)


def test_add_skips_national_day_and_counts_the_make_up_saturday() -> None:
    before = local(2026, 9, 30, 20, 0)
    due = CALENDAR.add(before, 12 * 60, SHANGHAI)
    # 1 h on 30 Sep, holidays 1–7 Oct, 8 Oct (Thu) 09:00–20:00 for the other 11 h.
    assert due == local(2026, 10, 8, 20, 0).astimezone(UTC)
    saturday = local(2026, 10, 10, 9, 0)
    assert CALENDAR.is_open(saturday, SHANGHAI)


def test_time_zones_are_per_store() -> None:
    london = ZoneInfo("Europe/London")
    at = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)  # 17:30 in Shanghai, 09:30 in London
    assert CALENDAR.is_open(at, SHANGHAI)
    assert CALENDAR.is_open(at, london)
    late = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # 22:00 Shanghai, 14:00 London
    assert not CALENDAR.is_open(late, SHANGHAI)
    assert CALENDAR.is_open(late, london)


def test_next_open_and_between() -> None:
    sunday = local(2026, 11, 29, 15, 0)
    assert CALENDAR.next_open(sunday, SHANGHAI) == local(2026, 11, 30, 9, 0)
    assert CALENDAR.between(local(2026, 11, 27, 20, 0), local(2026, 11, 30, 10, 0),
                            SHANGHAI) == 120
    assert CALENDAR.between(local(2026, 11, 30, 10, 0), local(2026, 11, 27, 20, 0),
                            SHANGHAI) == -120


def test_a_calendar_with_no_open_day_falls_back_to_wall_time() -> None:
    closed = BusinessCalendar(BusinessHours(), CalendarOverrides(
        closed_days=[date(2026, 11, 23) + timedelta(days=n) for n in range(3 * 366 + 2)]))
    start = local(2026, 11, 23, 10)
    assert closed.add(start, 30, SHANGHAI) == start + timedelta(minutes=30)


@settings(max_examples=60, deadline=None)
@given(offset=st.integers(min_value=0, max_value=400 * 24 * 60),
       minutes=st.integers(min_value=1, max_value=5 * 12 * 60))
def test_between_undoes_add(offset: int, minutes: int) -> None:
    start = local(2026, 1, 1) + timedelta(minutes=offset)
    due = CALENDAR.add(start, minutes, SHANGHAI)
    assert CALENDAR.between(start, due, SHANGHAI) == minutes
    assert CALENDAR.is_open(due - timedelta(seconds=1), SHANGHAI)
