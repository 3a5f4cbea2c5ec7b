"""Store the answer to "Fik du svar på dit spørgsmål?"; a "nej" escalates."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.constants import (
    ACTION_FEEDBACK,
    INTENT_AFFIRM,
    SLOT_AWAITING_FEEDBACK,
    SLOT_LAST_GUIDE,
)
from actions.escalate import escalate
from actions.metadata import municipality_of
from actions.services import services
from bot import questions
from bot.store.db import transaction
from bot.store.repository import record_feedback


class ActionFeedback(Action):
    def name(self) -> str:
        return ACTION_FEEDBACK

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        helpful = (tracker.latest_message.get("intent") or {}).get("name") == INTENT_AFFIRM
        slug = tracker.get_slot(SLOT_LAST_GUIDE)
        store = services().store
        with transaction(store.sessions) as session:
            record_feedback(
                session, tracker.sender_id, slug or "", helpful, municipality_of(tracker) or "*"
            )
        questions.mark_feedback(services(), tracker.sender_id, helpful)
        events: list[Any] = [SlotSet(SLOT_AWAITING_FEEDBACK, False)]
        if helpful:
            dispatcher.utter_message(text="Dejligt! Er der andet, jeg kan hjælpe med?")
            return events
        dispatcher.utter_message(text="Det er jeg ked af. Lad mig finde en, der kan hjælpe dig.")
        return events + escalate(dispatcher, tracker, "not_helpful")
