"""Report periods: whole days in Europe/Copenhagen, first and last day included."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from bot.hours import TZ

DEFAULT_DAYS = 30
MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class Period:
    """From the start of `first` to the end of `last`, local time (Europe/Copenhagen)."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"the period ends ({self.last}) before it starts ({self.first})")
        if (self.last - self.first).days >= MAX_DAYS:
            raise ValueError(f"a period is at most {MAX_DAYS} days")

    @classmethod
    def last_days(cls, days: int = DEFAULT_DAYS, today: date | None = None) -> Period:
        """The `days` days up to and including today."""
        today = today or datetime.now(TZ).date()
        return cls(today - timedelta(days=days - 1), today)

    @property
    def start(self) -> datetime:
        """The first instant, in UTC (local midnight; DST-aware)."""
        return datetime.combine(self.first, time(0), TZ).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the period, in UTC."""
        return datetime.combine(self.last + timedelta(days=1), time(0), TZ).astimezone(UTC)

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    def __str__(self) -> str:
        return f"{self.first.isoformat()}..{self.last.isoformat()}"


def parse_day(value: str) -> date:
    """An ISO date (YYYY-MM-DD); ValueError with a readable message otherwise."""
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"not a date (YYYY-MM-DD): {value!r}") from None


def local(moment: datetime) -> datetime:
    return moment.astimezone(TZ)


def guide_titles(guides_dir: Path) -> Mapping[str, str]:
    """slug → title from the guide files (national titles win over a municipality's own)."""
    from knowledge.guides import NATIONAL, load_guides

    titles: dict[str, str] = {}
    for guide in sorted(load_guides(guides_dir).guides, key=lambda g: g.municipality != NATIONAL):
        titles.setdefault(guide.slug, guide.title)
    return titles
