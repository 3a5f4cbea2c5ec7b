"""When agents are on duty: weekly schedules per municipality, Danish public holidays closed.

Times are Europe/Copenhagen. The schedule comes from `bot/schedule.yml` (or BORGERBOT_SCHEDULE).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from dateutil.easter import easter

TZ = ZoneInfo("Europe/Copenhagen")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES_DA = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
MONTHS_DA = (
    "januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september",
    "oktober", "november", "december",
)  # fmt: skip
_INTERVAL = re.compile(r"^\s*([0-2]\d:[0-5]\d)\s*-\s*([0-2]\d:[0-5]\d)\s*$")
DEFAULT_SCHEDULE_FILE = Path(__file__).resolve().parent / "schedule.yml"


def danish_public_holidays(year: int) -> dict[date, str]:
    """Statutory Danish holidays (helligdage). Store bededag was abolished from 2024."""
    e = easter(year)
    days = {
        date(year, 1, 1): "nytårsdag",
        e - timedelta(days=3): "skærtorsdag",
        e - timedelta(days=2): "langfredag",
        e: "påskedag",
        e + timedelta(days=1): "2. påskedag",
        e + timedelta(days=39): "Kristi himmelfartsdag",
        e + timedelta(days=49): "pinsedag",
        e + timedelta(days=50): "2. pinsedag",
        date(year, 12, 25): "juledag",
        date(year, 12, 26): "2. juledag",
    }
    if year < 2024:
        days[e + timedelta(days=26)] = "store bededag"
    return days


@dataclass(frozen=True)
class Interval:
    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> Interval:
        match = _INTERVAL.match(text)
        if not match:
            raise ValueError(f"bad interval {text!r}, expected 'HH:MM-HH:MM'")
        start, end = time.fromisoformat(match[1]), time.fromisoformat(match[2])
        if end <= start:
            raise ValueError(f"interval {text!r} ends before it starts")
        return cls(start, end)

    def __str__(self) -> str:
        return f"{self.start:%H.%M}-{self.end:%H.%M}"


@dataclass(frozen=True)
class Schedule:
    """One municipality's agent hours: intervals per weekday and extra closed days (MM-DD)."""

    week: dict[str, tuple[Interval, ...]]
    closed_days: frozenset[str] = frozenset()

    def is_closed_day(self, day: date) -> bool:
        return day in danish_public_holidays(day.year) or f"{day:%m-%d}" in self.closed_days

    def intervals_on(self, day: date) -> tuple[Interval, ...]:
        if self.is_closed_day(day):
            return ()
        return self.week.get(WEEKDAYS[day.weekday()], ())

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(TZ)
        return any(iv.start <= local.time() < iv.end for iv in self.intervals_on(local.date()))

    def next_opening(self, at: datetime, horizon_days: int = 14) -> datetime | None:
        """The next moment after `at` when agents come on duty; None if none within the horizon."""
        local = at.astimezone(TZ)
        for offset in range(horizon_days + 1):
            day = local.date() + timedelta(days=offset)
            for iv in self.intervals_on(day):
                start = datetime.combine(day, iv.start, TZ)
                if start > local:
                    return start
        return None

    def describe_da(self) -> str:
        """The weekly hours as Danish lines, e.g. 'mandag: 10.00-15.00 og 18.30-22.00'."""
        lines = []
        for key, name in zip(WEEKDAYS, WEEKDAY_NAMES_DA, strict=True):
            ivs = self.week.get(key, ())
            lines.append(f"{name}: " + (" og ".join(map(str, ivs)) if ivs else "lukket"))
        return "\n".join(lines)


def _parse_schedule(raw: dict) -> Schedule:
    week = {}
    for key, intervals in (raw.get("week") or {}).items():
        if key not in WEEKDAYS:
            raise ValueError(f"unknown weekday {key!r}; use one of {', '.join(WEEKDAYS)}")
        week[key] = tuple(Interval.parse(s) for s in intervals or ())
    return Schedule(week=week, closed_days=frozenset(raw.get("closed_days") or ()))


class Schedules:
    """Schedules per municipality code, with `default` for municipalities without their own."""

    def __init__(self, by_municipality: dict[str, Schedule]) -> None:
        if "default" not in by_municipality:
            raise ValueError("schedule file needs a 'default' schedule")
        self._by_municipality = by_municipality

    @classmethod
    def load(cls, path: Path = DEFAULT_SCHEDULE_FILE) -> Schedules:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return cls({code: _parse_schedule(s) for code, s in raw.items()})

    def for_municipality(self, code: str | None) -> Schedule:
        return self._by_municipality.get(code or "default", self._by_municipality["default"])


def format_when_da(moment: datetime, now: datetime) -> str:
    """'i dag kl. 18.30', 'i morgen kl. 10.00' or 'mandag den 2. december kl. 10.00'."""
    local, today = moment.astimezone(TZ), now.astimezone(TZ).date()
    if local.date() == today:
        day = "i dag"
    elif local.date() == today + timedelta(days=1):
        day = "i morgen"
    else:
        day = f"{WEEKDAY_NAMES_DA[local.weekday()]} den {local.day}. {MONTHS_DA[local.month - 1]}"
    return f"{day} kl. {local:%H.%M}"
