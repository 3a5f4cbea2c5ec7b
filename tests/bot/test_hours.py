from __future__ import annotations

from datetime import date, datetime

import pytest

from bot.hours import TZ, Interval, Schedule, Schedules, danish_public_holidays, format_when_da

SCHEDULES = Schedules.load()
DEFAULT = SCHEDULES.for_municipality(None)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2026, 4, 2), "skærtorsdag"),
        (date(2026, 4, 3), "langfredag"),
        (date(2026, 4, 6), "2. påskedag"),
        (date(2026, 5, 14), "Kristi himmelfartsdag"),
        (date(2026, 5, 25), "2. pinsedag"),
        (date(2027, 3, 25), "skærtorsdag"),
        (date(2027, 3, 29), "2. påskedag"),
        (date(2026, 12, 25), "juledag"),
        (date(2026, 12, 26), "2. juledag"),
        (date(2027, 1, 1), "nytårsdag"),
    ],
)
def test_danish_public_holidays(day: date, name: str) -> None:
    assert danish_public_holidays(day.year)[day] == name


def test_store_bededag_is_gone_from_2024() -> None:
    assert "store bededag" not in danish_public_holidays(2026).values()
    assert date(2023, 5, 5) in danish_public_holidays(2023)


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        ("2026-11-23T19:00", True),  # Monday evening hotline
        ("2026-11-23T23:00", False),  # Monday after the hotline closes
        ("2026-11-23T16:00", False),  # between day and evening
        ("2026-11-23T10:00", True),  # opening minute is open
        ("2026-11-23T15:00", False),  # closing minute is closed
        ("2026-11-27T19:00", False),  # Friday evening: no hotline
        ("2026-11-29T19:00", True),  # Sunday evening hotline
        ("2026-11-28T11:00", False),  # Saturday
        ("2026-04-06T11:00", False),  # 2. påskedag, a Monday
        ("2026-04-02T19:00", False),  # skærtorsdag, a Thursday
        ("2026-12-24T11:00", False),  # juleaftensdag, closed by local decision
        ("2026-12-25T19:00", False),  # juledag
    ],
)
def test_default_schedule_is_open(moment: str, is_open: bool) -> None:
    assert DEFAULT.is_open(at(moment)) is is_open


def test_is_open_converts_other_timezones() -> None:
    # 18:00 UTC on a Monday in November is 19:00 in Copenhagen.
    assert DEFAULT.is_open(datetime.fromisoformat("2026-11-23T18:00+00:00"))


def test_next_opening_skips_holidays() -> None:
    # Thursday 24 Dec 2026 23:00 → 25, 26 are holidays, 27 is a Sunday with the evening hotline.
    nxt = DEFAULT.next_opening(at("2026-12-24T23:00"))
    assert nxt == at("2026-12-27T18:30")


def test_format_when_da() -> None:
    now = at("2026-11-23T23:00")
    assert format_when_da(at("2026-11-24T10:00"), now) == "i morgen kl. 10.00"
    assert format_when_da(at("2026-11-23T23:30"), now) == "i dag kl. 23.30"
    assert format_when_da(at("2026-12-02T10:00"), now) == "onsdag den 2. december kl. 10.00"


@pytest.mark.parametrize("bad", ["10-15", "15:00-10:00", "nonsense"])
def test_bad_interval_is_rejected(bad: str) -> None:
    with pytest.raises(ValueError):
        Interval.parse(bad)


def test_unknown_municipality_uses_default() -> None:
    assert SCHEDULES.for_municipality("0999") is DEFAULT


def test_describe_da_lists_every_weekday() -> None:
    text = Schedule(week={"mon": (Interval.parse("09:00-12:00"),)}).describe_da()
    assert text.splitlines()[0] == "mandag: 09.00-12.00"
    assert text.splitlines()[6] == "søndag: lukket"
