from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import (
    OUT_OF_SCOPE,
    UNSURE,
    ActionAnswerFromGuides,
    answer_text,
    choose_payload,
)
from actions.constants import SLOT_AWAITING_FEEDBACK, SLOT_FALLBACK_COUNT, SLOT_LAST_GUIDE

pytestmark = pytest.mark.slow  # loads the embedding model and the real index


def tracker(text: str, slots: dict | None = None, intent: str = "ask_question") -> Tracker:
    message = {"text": text, "intent": {"name": intent}, "metadata": {}}
    return Tracker("t1", slots or {}, message, [], False, None, {}, "")


def slots_set(events: list[dict]) -> dict:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def test_confident_answer_gives_summary_link_and_feedback_question() -> None:
    dispatcher = CollectingDispatcher()
    events = ActionAnswerFromGuides().run(dispatcher, tracker("Hvordan får jeg MitID?"), {})
    assert "https://www.mitid.dk/" in dispatcher.messages[0]["text"]
    assert dispatcher.messages[1]["text"] == "Fik du svar på dit spørgsmål?"
    slots = slots_set(events)
    assert slots[SLOT_LAST_GUIDE] == "mitid-opret"
    assert slots[SLOT_AWAITING_FEEDBACK] is True


def test_chosen_guide_is_answered_without_searching() -> None:
    dispatcher = CollectingDispatcher()
    t = tracker(choose_payload("pas-boern"), {"guide_slug": "pas-boern"}, intent="choose_guide")
    events = ActionAnswerFromGuides().run(dispatcher, t, {})
    assert slots_set(events)[SLOT_LAST_GUIDE] == "pas-boern"


def test_first_fallback_asks_to_rephrase_and_counts() -> None:
    dispatcher = CollectingDispatcher()
    events = ActionAnswerFromGuides().run(dispatcher, tracker("qwerty asdf"), {})
    assert dispatcher.messages[0]["text"] == UNSURE
    assert dispatcher.messages[0]["buttons"][0]["payload"] == "/request_human"
    assert slots_set(events)[SLOT_FALLBACK_COUNT] == 1.0


def test_choose_payload_is_a_rasa_intent_with_entity() -> None:
    assert choose_payload("pas-bestil") == '/choose_guide{"guide_slug": "pas-bestil"}'


def test_answer_text_ends_with_the_link() -> None:
    from knowledge.search import Hit

    hit = Hit("s", "Titel", "https://x.dk/", "borgerservice", "c", "Kort svar.", "*", 1, 1, 1,
              "", "")  # fmt: skip
    assert answer_text(hit) == "Titel\n\nKort svar.\n\nLæs mere og gør det selv her: https://x.dk/"


def test_small_talk_without_a_matching_guide_says_what_the_assistant_is_for() -> None:
    dispatcher = CollectingDispatcher()
    t = tracker("fortæl en vittighed", {SLOT_FALLBACK_COUNT: 1.0}, intent="out_of_scope")
    events = ActionAnswerFromGuides().run(dispatcher, t, {})
    assert [m["text"] for m in dispatcher.messages] == [OUT_OF_SCOPE]
    # Small talk is not a failed question: the fallback count is left alone, nobody is called.
    assert SLOT_FALLBACK_COUNT not in slots_set(events)


def test_a_question_the_nlu_took_for_small_talk_is_still_answered_from_the_guides() -> None:
    dispatcher = CollectingDispatcher()
    events = ActionAnswerFromGuides().run(
        dispatcher, tracker("Hvordan får jeg MitID?", intent="out_of_scope"), {}
    )
    assert slots_set(events)[SLOT_LAST_GUIDE] == "mitid-opret"
    assert "https://www.mitid.dk/" in dispatcher.messages[0]["text"]
