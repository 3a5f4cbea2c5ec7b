from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from threading import Barrier

import pytest
from sqlalchemy import func, select

from bot.callbacks import (
    CallbackConfig,
    InvalidPhone,
    Slot,
    SlotFull,
    SlotUnavailable,
    book_callback,
    cancel_callback,
    free_slots,
    make_slot_id,
    normalise_phone,
    parse_slot_id,
)
from bot.hours import TZ
from bot.store import Store
from bot.store.models import Callback, CallbackSeat

CONFIG = CallbackConfig.load()
NOW = datetime(2026, 11, 24, 8, 0, tzinfo=TZ)  # a Tuesday morning
SLOT = "borgerservice|2026-11-24T09:00:00Z"  # 10.00 local


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def book(store: Store, slot_id: str = SLOT, i: int = 0, **kw: object) -> Callback:
    args: dict = dict(
        conversation_id=f"c{i}",
        name="Jens Hansen",
        phone="20 30 40 50",
        department="borgerservice",
        slot_id=slot_id,
        topic="Boligstøtte",
        now=NOW,
    )
    return book_callback(store.sessions, CONFIG, **{**args, **kw})


def seats(store: Store) -> int:
    with store.transaction() as s:
        return s.scalar(select(func.count()).select_from(CallbackSeat))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20304050", "+4520304050"),
        ("20 30 40 50", "+4520304050"),
        ("+45 20 30 40 50", "+4520304050"),
        ("0045-20-30-40-50", "+4520304050"),
        (" 2030-4050 ", "+4520304050"),
        ("+4599999999", "+4599999999"),
        ("1234567", None),  # 7 digits
        ("203040501", None),  # 9 digits
        ("12345678", None),  # 1xx are service numbers
        ("02030405", None),
        ("+46 20304050", None),
        ("4520304050", None),  # country code without + or 00
        ("2030 40a0", None),
        ("", None),
    ],
)
def test_normalise_phone(text: str, expected: str | None) -> None:
    assert normalise_phone(text) == expected


def test_slot_ids_round_trip() -> None:
    start = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    assert make_slot_id("borgerservice", start) == "borgerservice|2026-11-25T09:00:00Z"
    assert parse_slot_id("borgerservice|2026-11-25T09:00:00Z") == ("borgerservice", start)
    for bad in ("borgerservice", "|2026-11-25T09:00:00Z", "borgerservice|25-11-2026"):
        with pytest.raises(ValueError):
            parse_slot_id(bad)


def test_first_slots_and_their_labels(store: Store) -> None:
    with store.transaction() as s:
        slots = free_slots(s, CONFIG, "borgerservice", NOW)
    assert [sl.label for sl in slots] == [
        "tirsdag 24. november kl. 09.00–09.30",
        "tirsdag 24. november kl. 09.30–10.00",
        "tirsdag 24. november kl. 10.00–10.30",
        "tirsdag 24. november kl. 10.30–11.00",
    ]
    assert slots[0].slot_id == "borgerservice|2026-11-24T08:00:00Z"
    assert slots[0].free == 3
    with store.transaction() as s:
        assert free_slots(s, CONFIG, "jobcenter", NOW, limit=1)[0].free == 2


def test_summer_time_slots_are_local_hours(store: Store) -> None:
    with store.transaction() as s:
        (slot,) = free_slots(s, CONFIG, "ydelser", at("2026-06-16T07:00"), limit=1)
    assert slot.start == datetime(2026, 6, 16, 7, 0, tzinfo=UTC)
    assert slot.label == "tirsdag 16. juni kl. 09.00–09.30"


@pytest.mark.parametrize(
    ("now", "first"),
    [
        (at("2026-11-24T10:10"), "tirsdag 24. november kl. 11.30–12.00"),  # 1 h lead time
        (at("2026-11-24T14:00"), "onsdag 25. november kl. 09.00–09.30"),  # last slot 14.30
        (at("2026-11-20T14:00"), "mandag 23. november kl. 09.00–09.30"),  # weekend
        (at("2026-12-23T14:00"), "mandag 28. december kl. 09.00–09.30"),  # 24/12 and jul
        (at("2026-04-01T16:00"), "tirsdag 7. april kl. 09.00–09.30"),  # påske
        (at("2026-05-13T15:00"), "fredag 15. maj kl. 09.00–09.30"),  # Kristi himmelfart
    ],
)
def test_slots_skip_lead_time_weekends_and_holidays(
    store: Store, now: datetime, first: str
) -> None:
    with store.transaction() as s:
        assert free_slots(s, CONFIG, "borgerservice", now, limit=1)[0].label == first


def test_booking_fills_a_slot_up_to_its_capacity(store: Store) -> None:
    booked = [book(store, i=i) for i in range(3)]
    assert booked[0].phone == "+4520304050" and booked[0].status == "booked"
    assert booked[0].slot_start == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    with pytest.raises(SlotFull):
        book(store, i=3)
    with store.transaction() as s:
        seat_numbers = s.scalars(select(CallbackSeat.seat).order_by(CallbackSeat.seat)).all()
        slots = free_slots(s, CONFIG, "borgerservice", NOW)
    assert seat_numbers == [1, 2, 3]
    assert SLOT not in [sl.slot_id for sl in slots]
    assert [sl.slot_id[-9:-4] for sl in slots] == ["08:00", "08:30", "09:30", "10:00"]


def test_free_seats_count_down(store: Store) -> None:
    book(store)
    with store.transaction() as s:
        by_id = {sl.slot_id: sl for sl in free_slots(s, CONFIG, "borgerservice", NOW, limit=8)}
    assert isinstance(by_id[SLOT], Slot) and by_id[SLOT].free == 2


@pytest.mark.parametrize(
    ("slot_id", "department"),
    [
        ("borgerservice|2026-11-24T07:00:00Z", "borgerservice"),  # 08.00, before the hours
        ("borgerservice|2026-11-24T08:15:00Z", "borgerservice"),  # not on the slot grid
        ("borgerservice|2026-11-24T07:30:00Z", "borgerservice"),  # 08.30: before opening
        ("borgerservice|2026-11-21T09:00:00Z", "borgerservice"),  # Saturday
        ("borgerservice|2026-12-25T09:00:00Z", "borgerservice"),  # juledag
        ("borgerservice|2027-01-12T09:00:00Z", "borgerservice"),  # beyond the horizon
        ("borgerservice|2026-11-24T14:00:00Z", "borgerservice"),  # 15.00, closing time
        (SLOT, "jobcenter"),  # another department's slot
        ("nowhere|2026-11-24T09:00:00Z", "nowhere"),
        ("garbage", "borgerservice"),
    ],
)
def test_invalid_slots_are_unavailable(store: Store, slot_id: str, department: str) -> None:
    with pytest.raises(SlotUnavailable):
        book(store, slot_id=slot_id, department=department)
    assert seats(store) == 0


def test_slot_within_the_lead_time_is_unavailable(store: Store) -> None:
    with pytest.raises(SlotUnavailable):
        book(store, now=at("2026-11-24T09:30"))


def test_invalid_phone_is_refused(store: Store) -> None:
    with pytest.raises(InvalidPhone):
        book(store, phone="112")


def test_topic_is_masked(store: Store) -> None:
    assert book(store, topic="Mit CPR er 0101901234").topic == "Mit CPR er [CPR-nummer skjult]"


def test_cancelling_frees_the_seat(store: Store) -> None:
    first = book(store, i=0)
    book(store, i=1)
    book(store, i=2)
    with store.transaction() as s:
        (cancelled,) = cancel_callback(s, callback_id=first.id)
    assert cancelled.status == "cancelled"
    assert seats(store) == 2
    assert book(store, i=4).id != first.id  # the freed seat is bookable again
    with store.transaction() as s:
        assert cancel_callback(s, callback_id=first.id) == []  # already cancelled
        assert [c.conversation_id for c in cancel_callback(s, conversation_id="c1")] == ["c1"]
    assert seats(store) == 2
    with pytest.raises(ValueError), store.transaction() as s:
        cancel_callback(s)


def race_for_last_two_places(store: Store, threads: int = 8) -> list[str]:
    book(store, i=100)  # borgerservice seats 3: one taken, two left
    barrier = Barrier(threads)

    def attempt(i: int) -> str:
        barrier.wait()
        try:
            book(store, i=i)
        except SlotFull:
            return "full"
        return "booked"

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(attempt, range(threads)))


def test_concurrent_bookings_never_overfill_a_slot_sqlite(store: Store) -> None:
    outcomes = race_for_last_two_places(store)
    assert sorted(outcomes) == ["booked"] * 2 + ["full"] * 6
    assert seats(store) == 3


def test_concurrent_bookings_never_overfill_a_slot_postgresql(pg_store: Store) -> None:
    outcomes = race_for_last_two_places(pg_store)
    assert sorted(outcomes) == ["booked"] * 2 + ["full"] * 6
    assert seats(pg_store) == 3
    with pg_store.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Callback)) == 3
        assert SLOT not in [sl.slot_id for sl in free_slots(s, CONFIG, "borgerservice", NOW)]


def test_config_resolves_unknown_departments_to_the_fallback() -> None:
    assert CONFIG.resolve("ydelser") == "ydelser"
    assert CONFIG.resolve("ukendt") == CONFIG.resolve(None) == "borgerservice"
    assert CONFIG.departments["aeldre-omsorg"].label == "Ældre og omsorg"
    assert CONFIG.departments["borgerservice"].slot_length == timedelta(minutes=30)
    with pytest.raises(ValueError, match="unknown keys"):
        CallbackConfig.from_dict({"departments": {"borgerservice": {"capasity": 3}}})
