"""Callback booking: free slots per department and race-free booking of a place in one.

Capacity is enforced by the database: each booking holds a numbered seat, and (department,
slot_start, seat) is unique, so concurrent bookings cannot overfill a slot on SQLite or PostgreSQL.
Slot hours come from `bot/callbacks.yml` (Europe/Copenhagen; Danish public holidays closed).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.hours import MONTHS_DA, TZ, WEEKDAY_NAMES_DA, WEEKDAYS, Interval, Schedule
from bot.store.cpr import mask_cpr
from bot.store.db import transaction
from bot.store.models import Callback, CallbackSeat
from bot.store.repository import ensure_conversation

DEFAULT_CONFIG_FILE = Path(__file__).resolve().parent / "callbacks.yml"
_DEPARTMENT_KEYS = {
    "label",
    "slot_minutes",
    "capacity",
    "lead_minutes",
    "horizon_days",
    "week",
    "closed_days",
}
# Danish subscriber numbers have 8 digits and start with 2-9 (1xx are service codes).
_PHONE = re.compile(r"(?:\+45|0045)?([2-9]\d{7})")
_PHONE_SEPARATORS = re.compile(r"[\s\-‐‑–]")


class BookingError(Exception):
    """A callback could not be booked; the message is for logs, not for citizens."""


class SlotFull(BookingError):
    pass


class SlotUnavailable(BookingError):
    """Not a slot of the department, or it starts within the lead time or beyond the horizon."""


class InvalidPhone(BookingError, ValueError):
    pass


@dataclass(frozen=True)
class DepartmentConfig:
    name: str
    label: str
    slot_length: timedelta
    capacity: int
    lead_time: timedelta
    horizon_days: int
    hours: Schedule  # the callback hours, reusing the agent schedule's holiday handling

    def day_starts(self, day: date) -> list[datetime]:
        """The (aware UTC) starts of the day's slots, each ending within its interval."""
        starts = []
        for iv in self.hours.intervals_on(day):
            # Wall-clock arithmetic in local time, so slots stay on the hour across DST changes.
            start, end = datetime.combine(day, iv.start), datetime.combine(day, iv.end)
            while start + self.slot_length <= end:
                starts.append(start.replace(tzinfo=TZ).astimezone(UTC))
                start += self.slot_length
        return starts

    def candidate_starts(self, now: datetime) -> Iterator[datetime]:
        """Slot starts from now + lead time up to the horizon, in order."""
        earliest = now + self.lead_time
        today = now.astimezone(TZ).date()
        for offset in range(self.horizon_days + 1):
            for start in self.day_starts(today + timedelta(days=offset)):
                if start >= earliest:
                    yield start

    def is_bookable(self, start: datetime, now: datetime) -> bool:
        local_day = start.astimezone(TZ).date()
        return (
            start >= now + self.lead_time
            and local_day <= now.astimezone(TZ).date() + timedelta(days=self.horizon_days)
            and start in self.day_starts(local_day)
        )


def _department(name: str, raw: dict[str, Any], defaults: dict[str, Any]) -> DepartmentConfig:
    merged = {**defaults, **(raw or {})}
    unknown = set(merged) - _DEPARTMENT_KEYS
    if unknown:
        raise ValueError(f"callbacks: {name}: unknown keys {sorted(unknown)}")
    week = {}
    for key, intervals in (merged.get("week") or {}).items():
        if key not in WEEKDAYS:
            raise ValueError(f"callbacks: {name}: unknown weekday {key!r}")
        week[key] = tuple(Interval.parse(s) for s in intervals or ())
    config = DepartmentConfig(
        name=name,
        label=str(merged.get("label") or name),
        slot_length=timedelta(minutes=int(merged.get("slot_minutes", 30))),
        capacity=int(merged.get("capacity", 2)),
        lead_time=timedelta(minutes=int(merged.get("lead_minutes", 60))),
        horizon_days=int(merged.get("horizon_days", 14)),
        hours=Schedule(week=week, closed_days=frozenset(merged.get("closed_days") or ())),
    )
    if config.slot_length <= timedelta(0) or config.capacity < 1 or config.horizon_days < 0:
        raise ValueError(f"callbacks: {name}: slot_minutes and capacity must be positive")
    return config


@dataclass(frozen=True)
class CallbackConfig:
    departments: dict[str, DepartmentConfig]
    fallback: str  # the department that takes topics no listed department owns

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> CallbackConfig:
        defaults = raw.get("defaults") or {}
        departments = {
            name: _department(name, dept, defaults)
            for name, dept in (raw.get("departments") or {}).items()
        }
        if "|" in "".join(departments):
            raise ValueError("callbacks: department names cannot contain '|'")
        fallback = raw.get("fallback", "borgerservice")
        if fallback not in departments:
            raise ValueError(f"callbacks: fallback {fallback!r} is not a listed department")
        return cls(departments=departments, fallback=fallback)

    @classmethod
    def load(cls, path: Path = DEFAULT_CONFIG_FILE) -> CallbackConfig:
        return cls.from_dict(yaml.safe_load(path.read_text(encoding="utf-8")) or {})

    def department(self, name: str) -> DepartmentConfig:
        try:
            return self.departments[name]
        except KeyError:
            raise ValueError(f"no callback department {name!r}") from None

    def resolve(self, name: str | None) -> str:
        """The department to book with: `name` if it takes callbacks, else the fallback."""
        return name if name in self.departments else self.fallback


def make_slot_id(department: str, start: datetime) -> str:
    return f"{department}|{start.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"


def parse_slot_id(slot_id: str) -> tuple[str, datetime]:
    """(department, aware UTC start) from 'borgerservice|2026-11-25T09:00:00Z'; else ValueError."""
    department, sep, stamp = slot_id.partition("|")
    if not sep or not department:
        raise ValueError(f"bad slot id {slot_id!r}")
    start = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return department, start


@dataclass(frozen=True)
class Slot:
    start: datetime  # aware UTC
    department: str
    free: int  # seats still free
    length: timedelta = timedelta(minutes=30)

    @property
    def end(self) -> datetime:
        return self.start + self.length

    @property
    def slot_id(self) -> str:
        return make_slot_id(self.department, self.start)

    @property
    def label(self) -> str:
        """Danish, local time: 'tirsdag 25. november kl. 10.00–10.30'."""
        start, end = self.start.astimezone(TZ), self.end.astimezone(TZ)
        day = f"{WEEKDAY_NAMES_DA[start.weekday()]} {start.day}. {MONTHS_DA[start.month - 1]}"
        return f"{day} kl. {start:%H.%M}–{end:%H.%M}"


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")


def free_slots(
    session: Session, config: CallbackConfig, department: str, now: datetime, limit: int = 4
) -> list[Slot]:
    """The first `limit` slots with a free seat, earliest first."""
    _require_aware(now)
    dept = config.department(department)
    starts = list(dept.candidate_starts(now))
    if not starts:
        return []
    taken = dict(
        session.execute(
            select(CallbackSeat.slot_start, func.count())
            .where(
                CallbackSeat.department == department,
                CallbackSeat.slot_start.between(starts[0], starts[-1]),
            )
            .group_by(CallbackSeat.slot_start)
        ).all()
    )
    slots = []
    for start in starts:
        free = dept.capacity - taken.get(start, 0)
        if free > 0:
            slots.append(Slot(start, department, free, dept.slot_length))
            if len(slots) == limit:
                break
    return slots


def _taken_seats(session: Session, department: str, start: datetime) -> set[int]:
    return set(
        session.scalars(
            select(CallbackSeat.seat).where(
                CallbackSeat.department == department, CallbackSeat.slot_start == start
            )
        )
    )


def book_callback(
    session_factory: sessionmaker,
    config: CallbackConfig,
    *,
    conversation_id: str | None,
    name: str,
    phone: str,
    department: str,
    slot_id: str,
    topic: str,
    now: datetime,
    municipality: str = "*",
) -> Callback:
    """Book a place in the slot, each attempt in its own transaction. Do not hold another open
    write transaction on the same SQLite database while calling this: it would wait for it.

    Raises InvalidPhone, SlotUnavailable (not a bookable slot of `department`) or SlotFull.
    `municipality` is used only if the conversation has to be created.
    """
    _require_aware(now)
    number = normalise_phone(phone)
    if number is None:
        raise InvalidPhone(f"not a Danish phone number: {phone!r}")
    if not name.strip():
        raise ValueError("a callback needs the citizen's name")
    try:
        slot_department, start = parse_slot_id(slot_id)
    except ValueError as err:
        raise SlotUnavailable(str(err)) from err
    dept = config.departments.get(department)
    if slot_department != department or dept is None or not dept.is_bookable(start, now):
        raise SlotUnavailable(f"{slot_id!r} is not a bookable {department!r} slot")

    # Each failed attempt means another booking took a seat, so capacity + 1 attempts suffice.
    for _ in range(dept.capacity + 1):
        seat = 0
        try:
            with transaction(session_factory) as session:
                taken = _taken_seats(session, department, start)
                free = [n for n in range(1, dept.capacity + 1) if n not in taken]
                if not free:
                    raise SlotFull(f"{slot_id!r} has no free seats")
                seat = free[0]
                if conversation_id is not None:
                    ensure_conversation(session, conversation_id, municipality)
                callback = Callback(
                    conversation_id=conversation_id,
                    name=name.strip(),
                    phone=number,
                    department=department,
                    topic=mask_cpr(topic.strip()),
                    slot_start=start,
                    status="booked",
                )
                session.add(callback)
                session.flush()  # the callback id, for its seat
                session.add(
                    CallbackSeat(
                        callback_id=callback.id, department=department, slot_start=start, seat=seat
                    )
                )
            return callback
        except IntegrityError:
            # Only a lost race for the seat is worth another attempt; anything else is a bug.
            with transaction(session_factory) as session:
                if seat not in _taken_seats(session, department, start):
                    raise
    raise SlotFull(f"{slot_id!r} has no free seats")


def cancel_callback(
    session: Session, *, callback_id: int | None = None, conversation_id: str | None = None
) -> list[Callback]:
    """Cancel one booked callback, or all of a conversation's, and free their seats."""
    if (callback_id is None) == (conversation_id is None):
        raise ValueError("give exactly one of callback_id and conversation_id")
    query = select(Callback).where(Callback.status == "booked")
    if callback_id is not None:
        query = query.where(Callback.id == callback_id)
    else:
        query = query.where(Callback.conversation_id == conversation_id)
    cancelled = list(session.scalars(query))
    for callback in cancelled:
        callback.status = "cancelled"
    if cancelled:
        session.execute(
            delete(CallbackSeat).where(CallbackSeat.callback_id.in_([c.id for c in cancelled]))
        )
    session.flush()
    return cancelled


def normalise_phone(text: str) -> str | None:
    """'+45XXXXXXXX' for a Danish number (optional +45/0045, spaces and dashes allowed), or None."""
    match = _PHONE.fullmatch(_PHONE_SEPARATORS.sub("", text))
    return f"+45{match[1]}" if match else None


# --- the agents' work list ------------------------------------------------------------------

OUTCOMES = ("done", "no_answer", "rescheduled")
OPEN_CALLBACK_STATUSES = ("booked", "rescheduled", "no_answer")


def work_list(
    session: Session, department: str | None = None, statuses: tuple[str, ...] | None = None
) -> list[Callback]:
    """Callbacks by due time (earliest first), optionally for one department."""
    query = select(Callback).order_by(Callback.slot_start, Callback.id)
    query = query.where(Callback.status.in_(statuses or OPEN_CALLBACK_STATUSES))
    if department:
        query = query.where(Callback.department == department)
    return list(session.scalars(query))


def record_outcome(
    session: Session,
    callback_id: int,
    outcome: str,
    notes: str,
    agent: str,
    new_start: datetime | None = None,
) -> Callback:
    """An agent's result of a call. Notes accumulate with who and when; a rescheduled call moves
    to the time agreed with the citizen (outside the booking capacity: the agent decided it) and
    frees its seat in the old slot."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    callback = session.get(Callback, callback_id)
    if callback is None:
        raise LookupError(f"no callback {callback_id}")
    if outcome == "rescheduled":
        if new_start is None:
            raise ValueError("a rescheduled callback needs a new time")
        _require_aware(new_start)
        session.execute(delete(CallbackSeat).where(CallbackSeat.callback_id == callback_id))
        callback.slot_start = new_start
    elif outcome == "done":
        session.execute(delete(CallbackSeat).where(CallbackSeat.callback_id == callback_id))
    callback.status = outcome
    note = " ".join(mask_cpr(notes).split())
    stamp = datetime.now(UTC).astimezone(TZ).strftime("%d.%m.%Y %H.%M")
    line = f"{stamp} {agent}: {OUTCOME_LABELS_DA[outcome]}" + (f" – {note}" if note else "")
    callback.notes = f"{callback.notes}\n{line}" if callback.notes else line
    session.flush()
    return callback


OUTCOME_LABELS_DA = {"done": "Ringet op", "no_answer": "Intet svar", "rescheduled": "Flyttet"}
STATUS_LABELS_DA = {
    "booked": "Bestilt",
    "cancelled": "Aflyst",
    "done": "Ringet op",
    "no_answer": "Intet svar",
    "rescheduled": "Flyttet",
}
