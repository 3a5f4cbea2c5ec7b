"""Hand the chat to an agent when agents are on duty; otherwise offer a callback.

On duty = the schedule is open and an agent's console is open (bot.handoff): in opening hours
with nobody logged in the citizen is offered a callback instead of a queue nobody reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.constants import (
    ACTION_ESCALATE,
    INTENT_COMPLAINT,
    INTENT_NONE_OF_THEM,
    SLOT_CALLBACK_OFFERED,
    SLOT_DEPARTMENT,
    SLOT_GUESSES,
)  # fmt: skip
from actions.metadata import municipality_of, now_for
from actions.services import services
from bot import questions
from bot.handoff import (
    agents_present,
    build_summary,
    create_handoff,
    decide_escalation,
    department_for,
)
from bot.hours import format_when_da
from bot.store.cpr import mask_cpr
from bot.store.db import transaction
from bot.store.models import HandoffReason

HANDED_OFF = (
    "Jeg giver din samtale videre til en medarbejder. Bliv her i chatten – du får svar her, "
    "så snart en medarbejder er ledig."
)
NO_AGENT_FREE = "Der er ingen ledige medarbejdere i chatten lige nu."
CLOSED = "Der er ingen medarbejdere i chatten lige nu."
CALLBACK_QUESTION = "Vil du have, at en medarbejder ringer dig op?"
CALLBACK_BUTTONS = [
    {"title": "Ja, ring mig op", "payload": "/request_callback"},
    {"title": "Nej tak", "payload": "/deny"},
]


@dataclass
class Line:
    """A transcript line in the shape bot.handoff.build_summary reads."""

    sender: str
    text: str


def transcript_of(tracker: Tracker) -> list[Line]:
    lines = []
    for event in tracker.events:
        if event.get("event") == "user" and event.get("text"):
            text = event["text"]
            if not text.startswith("/"):  # button payloads are not what the citizen wrote
                lines.append(Line("citizen", mask_cpr(text)))
        elif event.get("event") == "bot" and event.get("text"):
            lines.append(Line("bot", event["text"]))
    return lines


def escalate(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    reason: HandoffReason,
    guesses: list[dict[str, Any]] | None = None,
) -> list[Any]:
    svc = services()
    municipality = municipality_of(tracker)
    now = now_for(tracker)
    guesses = guesses if guesses is not None else (tracker.get_slot(SLOT_GUESSES) or [])
    with svc.store.read() as session:
        present = agents_present(session, svc.settings.agent_presence_s)
    decision = decide_escalation(svc.schedules, municipality, now, agents_present=present)
    if decision.kind == "handoff":
        department = tracker.get_slot(SLOT_DEPARTMENT) or department_for(guesses)
        with transaction(svc.store.sessions) as session:
            create_handoff(
                session, tracker.sender_id, municipality or "*", reason, guesses, department,
                build_summary(transcript_of(tracker), guesses),
            )  # fmt: skip
        questions.mark_escalation(svc, tracker.sender_id, reason, "handoff")
        dispatcher.utter_message(text=HANDED_OFF)
        return [SlotSet(SLOT_CALLBACK_OFFERED, False)]
    questions.mark_escalation(svc, tracker.sender_id, reason, "callback")
    if decision.in_hours:
        # Open by the schedule, but nobody has the console open.
        status = NO_AGENT_FREE
    elif decision.next_opening:
        status = f"{CLOSED} Vi er tilbage {format_when_da(decision.next_opening, now)}."
    else:
        status = CLOSED
    dispatcher.utter_message(text=f"{status} {CALLBACK_QUESTION}", buttons=CALLBACK_BUTTONS)
    return [SlotSet(SLOT_CALLBACK_OFFERED, True)]


REASONS: dict[str, HandoffReason] = {
    INTENT_NONE_OF_THEM: "none_of_them",
    INTENT_COMPLAINT: "complaint",
}


class ActionEscalate(Action):
    def name(self) -> str:
        return ACTION_ESCALATE

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        return escalate(dispatcher, tracker, REASONS.get(intent or "", "requested"))
