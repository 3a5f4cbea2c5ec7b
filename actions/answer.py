"""Answer from the guides: answer, "Mente du …?", or escalate after repeated fallbacks."""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.constants import (
    ACTION_ANSWER_FROM_GUIDES,
    INTENT_CHOOSE_GUIDE,
    MAX_FALLBACKS,
    SLOT_AWAITING_FEEDBACK,
    SLOT_DEPARTMENT,
    SLOT_FALLBACK_COUNT,
    SLOT_GUESSES,
    SLOT_GUIDE_SLUG,
    SLOT_LAST_GUIDE,
    SLOT_LAST_QUESTION,
)  # fmt: skip
from actions.escalate import escalate
from actions.metadata import municipality_of
from actions.services import services
from bot import questions
from knowledge.search import Hit

FEEDBACK_QUESTION = "Fik du svar på dit spørgsmål?"
FEEDBACK_BUTTONS = [{"title": "Ja", "payload": "/affirm"}, {"title": "Nej", "payload": "/deny"}]
NONE_OF_THEM = {"title": "Ingen af dem", "payload": "/none_of_them"}
UNSURE = (
    "Det er jeg desværre ikke sikker på, at jeg kan svare på. Prøv at skrive dit spørgsmål med "
    "andre ord – eller vælg at tale med en medarbejder."
)
TALK_TO_PERSON = {"title": "Tal med en medarbejder", "payload": "/request_human"}


def answer_text(hit: Hit) -> str:
    return f"{hit.title}\n\n{hit.summary}\n\nLæs mere og gør det selv her: {hit.url}"


def choose_payload(slug: str) -> str:
    return f"/{INTENT_CHOOSE_GUIDE}{json.dumps({SLOT_GUIDE_SLUG: slug})}"


def guesses_of(hits: list[Hit]) -> list[dict[str, Any]]:
    return [
        {"slug": h.slug, "title": h.title, "score": h.score, "owner": h.owner} for h in hits[:3]
    ]


def answered(dispatcher: CollectingDispatcher, hit: Hit, question: str | None) -> list[Any]:
    dispatcher.utter_message(text=answer_text(hit))
    dispatcher.utter_message(text=FEEDBACK_QUESTION, buttons=FEEDBACK_BUTTONS)
    return [
        SlotSet(SLOT_LAST_GUIDE, hit.slug),
        SlotSet(SLOT_DEPARTMENT, hit.owner),
        SlotSet(SLOT_AWAITING_FEEDBACK, True),
        SlotSet(SLOT_FALLBACK_COUNT, 0.0),
        SlotSet(SLOT_GUIDE_SLUG, None),
        *([SlotSet(SLOT_LAST_QUESTION, question)] if question else []),
    ]


class ActionAnswerFromGuides(Action):
    def name(self) -> str:
        return ACTION_ANSWER_FROM_GUIDES

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        kb = services().knowledge
        municipality = municipality_of(tracker)
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        chosen = tracker.get_slot(SLOT_GUIDE_SLUG)
        if intent == INTENT_CHOOSE_GUIDE and chosen:
            hit = kb.searcher.guide(chosen, municipality)
            if hit is not None:
                questions.mark_answered(services(), tracker.sender_id, hit.slug)
                return answered(dispatcher, hit, None)

        question = (tracker.latest_message.get("text") or "").strip()
        result = kb.search(question, municipality)
        questions.log_question(services(), tracker.sender_id, municipality, result)
        guesses = [SlotSet(SLOT_GUESSES, guesses_of(result.results))]
        if result.decision == "answer" and result.best:
            return guesses + answered(dispatcher, result.best, question)

        if result.decision == "clarify":
            buttons = [{"title": h.title, "payload": choose_payload(h.slug)} for h in
                       result.candidates] + [NONE_OF_THEM]  # fmt: skip
            dispatcher.utter_message(text="Mente du en af disse?", buttons=buttons)
            return guesses + [
                SlotSet(SLOT_LAST_QUESTION, question),
                SlotSet(SLOT_DEPARTMENT, result.candidates[0].owner),
                SlotSet(SLOT_AWAITING_FEEDBACK, False),
                SlotSet(SLOT_FALLBACK_COUNT, 0.0),
            ]

        count = int(tracker.get_slot(SLOT_FALLBACK_COUNT) or 0) + 1
        events = guesses + [SlotSet(SLOT_LAST_QUESTION, question),
                            SlotSet(SLOT_AWAITING_FEEDBACK, False)]  # fmt: skip
        if count >= MAX_FALLBACKS:
            dispatcher.utter_message(text="Det kan jeg desværre ikke svare på.")
            return (
                events
                + [SlotSet(SLOT_FALLBACK_COUNT, 0.0)]
                + escalate(dispatcher, tracker, "repeated_fallback", guesses_of(result.results))
            )
        dispatcher.utter_message(text=UNSURE, buttons=[TALK_TO_PERSON])
        return events + [SlotSet(SLOT_FALLBACK_COUNT, float(count))]
