from __future__ import annotations

from datetime import datetime

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.opening_hours import ActionOpeningHours, opening_hours_message
from bot.hours import TZ, Schedules

SCHEDULES = Schedules.load()
MONDAY_EVENING = datetime(2026, 11, 23, 19, 0, tzinfo=TZ)  # the evening hotline is open
MONDAY_NIGHT = datetime(2026, 11, 23, 23, 0, tzinfo=TZ)


@pytest.mark.parametrize(
    ("now", "present", "opening"),
    [
        (MONDAY_EVENING, True, "Lige nu sidder der medarbejdere klar i chatten."),
        (MONDAY_EVENING, False, "Chatten har åbent nu, men lige nu er der ingen ledige"),
        (MONDAY_NIGHT, True, "Lige nu er der ingen medarbejdere i chatten."),
        (MONDAY_NIGHT, False, "Lige nu er der ingen medarbejdere i chatten."),
    ],
)
def test_the_state_now_needs_the_schedule_and_an_agent_at_the_console(
    now: datetime, present: bool, opening: str
) -> None:
    text = opening_hours_message(SCHEDULES, None, now, agents_present=present)
    assert text.startswith(opening)


def test_message_when_closed_says_when_we_are_back() -> None:
    text = opening_hours_message(SCHEDULES, "0101", MONDAY_NIGHT, agents_present=False)
    assert "Vi er tilbage i morgen kl. 10.00." in text
    assert "fredag: 10.00-13.00" in text


def test_action_utters_one_message() -> None:
    # The actions' temporary store (conftest) has no console users: nobody is present.
    tracker = Tracker(
        "c1", {}, {"text": "åbent?", "metadata": {"municipality": "0101"}}, [], False, None, {}, ""
    )
    dispatcher = CollectingDispatcher()
    assert ActionOpeningHours().run(dispatcher, tracker, {}) == []
    assert len(dispatcher.messages) == 1
    assert "Her kan du chatte med en medarbejder" in dispatcher.messages[0]["text"]
    assert "Lige nu sidder der medarbejdere klar" not in dispatcher.messages[0]["text"]
