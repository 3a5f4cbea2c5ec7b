from __future__ import annotations

from datetime import datetime

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.opening_hours import ActionOpeningHours, opening_hours_message
from bot.hours import TZ, Schedules

SCHEDULES = Schedules.load()


def test_message_when_open() -> None:
    text = opening_hours_message(SCHEDULES, None, datetime(2026, 11, 23, 19, 0, tzinfo=TZ))
    assert text.startswith("Lige nu sidder der medarbejdere klar i chatten.")


def test_message_when_closed_says_when_we_are_back() -> None:
    text = opening_hours_message(SCHEDULES, "0101", datetime(2026, 11, 23, 23, 0, tzinfo=TZ))
    assert "Vi er tilbage i morgen kl. 10.00." in text
    assert "fredag: 10.00-13.00" in text


def test_action_utters_one_message() -> None:
    tracker = Tracker(
        "c1", {}, {"text": "åbent?", "metadata": {"municipality": "0101"}}, [], False, None, {}, ""
    )
    dispatcher = CollectingDispatcher()
    assert ActionOpeningHours().run(dispatcher, tracker, {}) == []
    assert len(dispatcher.messages) == 1
    assert "Her kan du chatte med en medarbejder" in dispatcher.messages[0]["text"]
