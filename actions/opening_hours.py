"""Tell the citizen when agents are on duty, and whether they are right now."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.constants import ACTION_OPENING_HOURS
from actions.metadata import municipality_of, now_for
from bot.hours import Schedules, format_when_da


@lru_cache(maxsize=1)
def _schedules() -> Schedules:
    return Schedules.load()


def opening_hours_message(schedules: Schedules, municipality: str | None, now: datetime) -> str:
    schedule = schedules.for_municipality(municipality)
    if schedule.is_open(now):
        status = "Lige nu sidder der medarbejdere klar i chatten."
    else:
        nxt = schedule.next_opening(now)
        status = "Lige nu er der ingen medarbejdere i chatten."
        if nxt is not None:
            status += f" Vi er tilbage {format_when_da(nxt, now)}."
    return (
        f"{status}\n\nHer kan du chatte med en medarbejder:\n{schedule.describe_da()}\n\n"
        "Helligdage er lukket. Jeg, den digitale assistent, svarer hele døgnet."
    )


class ActionOpeningHours(Action):
    def name(self) -> str:
        return ACTION_OPENING_HOURS

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        now = now_for(tracker)
        dispatcher.utter_message(
            text=opening_hours_message(_schedules(), municipality_of(tracker), now)
        )
        return []
