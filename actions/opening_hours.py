"""Tell the citizen when agents are on duty, and whether they are right now."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.constants import ACTION_OPENING_HOURS
from actions.metadata import municipality_of, now_for
from actions.services import services
from bot.handoff import agents_present
from bot.hours import Schedules, format_when_da


def opening_hours_message(
    schedules: Schedules, municipality: str | None, now: datetime, *, agents_present: bool
) -> str:
    """The chat's hours and its state now; "open" needs the schedule and an agent at the console,
    the same rule the escalation follows, so the assistant never promises a person who is not
    there."""
    schedule = schedules.for_municipality(municipality)
    if schedule.is_open(now) and agents_present:
        status = "Lige nu sidder der medarbejdere klar i chatten."
    elif schedule.is_open(now):
        status = (
            "Chatten har åbent nu, men lige nu er der ingen ledige medarbejdere. "
            "Du kan bestille et opkald, så ringer en medarbejder dig op."
        )
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
        svc = services()
        with svc.store.read() as session:
            present = agents_present(session, svc.settings.agent_presence_s)
        text = opening_hours_message(
            svc.schedules, municipality_of(tracker), now_for(tracker), agents_present=present
        )
        dispatcher.utter_message(text=text)
        return []
