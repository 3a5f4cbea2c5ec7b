"""Answer from the guides: answer, "Mente du …?", or escalate after repeated fallbacks.

Questions, unclear messages (nlu_fallback) and messages the NLU takes for small talk
(out_of_scope) are all searched: a guide published today can answer a wording the NLU model
was never trained on, and the question log sees every one of them, with the NLU's intent (so the
insight reports keep unanswered small talk apart from questions the bot did not understand)."""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.constants import (
    ACTION_ANSWER_FROM_GUIDES,
    INTENT_CHOOSE_GUIDE,
    INTENT_OUT_OF_SCOPE,
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
# What the assistant is for, when the message is off-topic and no guide matches it.
OUT_OF_SCOPE = (
    "Det kan jeg desværre ikke hjælpe med. Jeg kan svare på spørgsmål om kommunens selvbetjening, "
    "for eksempel MitID, Digital Post, flytning, pas og sundhedskort."
)


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
        # Small talk (out_of_scope) is answered only when a guide matches it confidently.
        result = kb.reply(question, municipality, confident_only=intent == INTENT_OUT_OF_SCOPE)
        # The intent goes with it: the reports keep small talk apart from failed questions.
        questions.log_question(services(), tracker.sender_id, municipality, result, intent=intent)
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

        events = guesses + [SlotSet(SLOT_LAST_QUESTION, question),
                            SlotSet(SLOT_AWAITING_FEEDBACK, False)]  # fmt: skip
        if intent == INTENT_OUT_OF_SCOPE:
            # The NLU took it for small talk and no guide matches: say what the assistant is for.
            # Not a failed question, so it does not count towards escalating to a person.
            dispatcher.utter_message(text=OUT_OF_SCOPE)
            return events
        count = int(tracker.get_slot(SLOT_FALLBACK_COUNT) or 0) + 1
        if count >= MAX_FALLBACKS:
            dispatcher.utter_message(text="Det kan jeg desværre ikke svare på.")
            return (
                events
                + [SlotSet(SLOT_FALLBACK_COUNT, 0.0)]
                + escalate(dispatcher, tracker, "repeated_fallback", guesses_of(result.results))
            )
        dispatcher.utter_message(text=UNSURE, buttons=[TALK_TO_PERSON])
        return events + [SlotSet(SLOT_FALLBACK_COUNT, float(count))]
