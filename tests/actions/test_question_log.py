"""The actions log each guide search and mark what became of it; storage failures never reach the
citizen. The knowledge base is a stand-in here (no model), the store a migrated SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

import actions.answer
import actions.escalate
import actions.feedback
from actions.answer import UNSURE, ActionAnswerFromGuides, choose_payload
from actions.constants import INTENT_OUT_OF_SCOPE
from actions.escalate import ActionEscalate
from actions.feedback import ActionFeedback
from bot.hours import Schedules
from bot.store import Store
from bot.store.migrate import upgrade
from bot.store.models import SMALL_TALK_INTENT, Handoff, Question
from bot.store.users import create_user, mark_seen
from knowledge.search import Decision, Hit, SearchResult

IN_HOURS = "2026-11-23T11:00:00+01:00"  # a Monday: agents on duty
OUT_OF_HOURS = "2026-11-21T11:00:00+01:00"  # a Saturday: nobody


def hit(slug: str, score: float, owner: str = "borgerservice") -> Hit:
    return Hit(slug, slug.replace("-", " ").title(), f"https://x.dk/{slug}", owner, "c",
               "Kort svar.", "*", score, 0.9, 0.5, "", "")  # fmt: skip


class FakeKnowledge:
    """Answers by a fixed table: question → (decision, ranked hits)."""

    def __init__(self, table: dict[str, tuple[Decision, list[Hit]]]) -> None:
        self.table = table
        self.searcher = self

    def search(self, question: str, municipality: str | None = None) -> SearchResult:
        decision, hits = self.table[question]
        offered = {"answer": 1, "clarify": 2, "fallback": 0}[decision]
        return SearchResult(question, decision, hits, hits[:offered])

    def reply(
        self, question: str, municipality: str | None = None, *, confident_only: bool = False
    ) -> SearchResult:
        result = self.search(question, municipality)
        if confident_only and result.decision == "clarify":
            return SearchResult(question, "fallback", result.results, [])
        return result

    def guide(self, slug: str, municipality: str | None = None) -> Hit | None:
        return hit(slug, 0.0)


TABLE: dict[str, tuple[Decision, list[Hit]]] = {
    "Hvordan bestiller jeg pas? Mit cpr er 010190-1234": (
        "answer", [hit("pas-bestil", 3.1), hit("pas-boern", 1.2)]),
    "noget med mit kort": ("clarify", [hit("sundhedskort-nyt", 1.5), hit("koerekort-forny", 1.4),
                                       hit("eu-sygesikringskort", 1.3), hit("pas-bestil", 0.2)]),
    "Hvordan registrerer jeg min hund?": ("fallback", [hit("affald-storskrald", 0.4)]),
    "Må jeg holde høns?": ("fallback", []),
}  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    url = f"sqlite:///{tmp_path / 'questions.db'}"
    upgrade(url)
    s = Store(url)
    yield s
    s.dispose()


@pytest.fixture
def svc(store: Store, monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    fake = SimpleNamespace(knowledge=FakeKnowledge(TABLE), store=store, schedules=Schedules.load(),
                           settings=SimpleNamespace(agent_presence_s=120))  # fmt: skip
    with store.transaction() as s:  # an agent with the console open: hand-offs in hours
        mark_seen(s, create_user(s, "vagt", "Vagt Hansen", "x" * 12, "agent").id)
    for module in (actions.answer, actions.escalate, actions.feedback):
        monkeypatch.setattr(module, "services", lambda: fake)
    monkeypatch.setenv("BORGERBOT_ALLOW_CLOCK_OVERRIDE", "1")
    return fake


def tracker(
    text: str,
    slots: dict[str, Any] | None = None,
    intent: str = "ask_question",
    now: str = IN_HOURS,
    sender: str = "c1",
) -> Tracker:
    message = {"text": text, "intent": {"name": intent},
               "metadata": {"municipality": "0101", "now": now}}  # fmt: skip
    return Tracker(sender, slots or {}, message, [], False, None, {}, "")


def questions(store: Store) -> list[Question]:
    with store.transaction() as s:
        return list(s.scalars(select(Question).order_by(Question.id)))


def ask(text: str, **kw: Any) -> tuple[CollectingDispatcher, list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = ActionAnswerFromGuides().run(dispatcher, tracker(text, **kw), {})
    return dispatcher, events


def test_an_answer_is_logged_masked_with_its_guide(svc: SimpleNamespace) -> None:
    ask("Hvordan bestiller jeg pas? Mit cpr er 010190-1234")
    [q] = questions(svc.store)
    assert q.text == "Hvordan bestiller jeg pas? Mit cpr er [CPR-nummer skjult]"
    assert (q.decision, q.top_slug, q.top_score, q.answered_slug) == (
        "answer", "pas-bestil", 3.1, "pas-bestil")  # fmt: skip
    assert q.municipality == "0101" and q.conversation_id == "c1"
    assert [g["slug"] for g in q.guesses] == ["pas-bestil", "pas-boern"]
    assert q.outcome is None


def test_feedback_marks_the_latest_question(svc: SimpleNamespace) -> None:
    ask("Hvordan bestiller jeg pas? Mit cpr er 010190-1234")
    slots = {"last_guide": "pas-bestil", "awaiting_feedback": True}
    ActionFeedback().run(CollectingDispatcher(), tracker("ja", slots, intent="affirm"), {})
    assert questions(svc.store)[0].outcome == "helpful"
    ask("noget med mit kort")
    ActionFeedback().run(CollectingDispatcher(), tracker("nej", slots, intent="deny"), {})
    first, second = questions(svc.store)
    assert (first.outcome, second.outcome) == ("helpful", "not_helpful")
    assert second.outcome_at is not None


def test_nej_stays_not_helpful_after_the_handoff_it_triggers(svc: SimpleNamespace) -> None:
    ask("Hvordan bestiller jeg pas? Mit cpr er 010190-1234")
    ActionFeedback().run(CollectingDispatcher(), tracker("nej", intent="deny"), {})
    [q] = questions(svc.store)
    assert q.outcome == "not_helpful"
    with svc.store.transaction() as s:
        assert s.scalar(select(Handoff.reason)) == "not_helpful"


def test_choosing_a_guide_answers_the_clarify_question(svc: SimpleNamespace) -> None:
    dispatcher, _ = ask("noget med mit kort")
    assert dispatcher.messages[0]["buttons"][-1]["payload"] == "/none_of_them"
    t = tracker(choose_payload("koerekort-forny"), {"guide_slug": "koerekort-forny"},
                intent="choose_guide")  # fmt: skip
    ActionAnswerFromGuides().run(CollectingDispatcher(), t, {})
    [q] = questions(svc.store)  # picking is not a new question
    assert (q.decision, q.top_slug, q.answered_slug) == ("clarify", "sundhedskort-nyt",
                                                          "koerekort-forny")  # fmt: skip


def test_none_of_them_marks_the_question_even_over_an_escalation(svc: SimpleNamespace) -> None:
    ask("noget med mit kort")
    t = tracker("/none_of_them", intent="none_of_them")
    ActionEscalate().run(CollectingDispatcher(), t, {})
    [q] = questions(svc.store)
    assert q.outcome == "none_of_them" and q.answered_slug is None


def test_request_for_a_person_marks_handoff_in_hours_and_callback_out_of_hours(
    svc: SimpleNamespace,
) -> None:
    ask("Hvordan registrerer jeg min hund?", sender="a")
    ActionEscalate().run(CollectingDispatcher(), tracker("menneske", intent="request_human",
                                                         sender="a"), {})  # fmt: skip
    ask("Må jeg holde høns?", sender="b", now=OUT_OF_HOURS)
    dispatcher = CollectingDispatcher()
    ActionEscalate().run(dispatcher, tracker("menneske", intent="request_human", sender="b",
                                             now=OUT_OF_HOURS), {})  # fmt: skip
    assert "ringer dig op" in dispatcher.messages[0]["text"]
    a, b = questions(svc.store)
    assert (a.decision, a.outcome) == ("fallback", "handoff")
    assert (b.decision, b.outcome, b.top_slug, b.guesses) == ("fallback", "callback", None, [])


def test_second_fallback_is_logged_before_the_escalation_marks_it(svc: SimpleNamespace) -> None:
    dispatcher, _ = ask("Må jeg holde høns?")
    assert dispatcher.messages[0]["text"] == UNSURE
    ask("Hvordan registrerer jeg min hund?", slots={"fallback_count": 1.0})
    first, second = questions(svc.store)
    assert first.outcome is None
    assert second.outcome == "handoff"


def test_a_broken_store_does_not_break_the_answer(
    svc: SimpleNamespace, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        @property
        def store(self) -> Store:
            raise RuntimeError("database is on fire")

    broken = Broken()
    broken.knowledge = svc.knowledge  # type: ignore[attr-defined]
    monkeypatch.setattr(actions.answer, "services", lambda: broken)
    dispatcher, _ = ask("Hvordan bestiller jeg pas? Mit cpr er 010190-1234")
    assert dispatcher.messages[1]["text"] == "Fik du svar på dit spørgsmål?"
    assert "could not log the question" in caplog.text
    assert questions(svc.store) == []


def test_a_store_without_the_questions_table_is_logged_and_skipped(
    svc: SimpleNamespace, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0002")
    old = Store(url)
    svc.store = old
    try:
        dispatcher, _ = ask("Hvordan registrerer jeg min hund?")
    finally:
        old.dispose()
    assert dispatcher.messages[0]["text"] == UNSURE
    assert "could not log the question" in caplog.text


def test_small_talk_is_logged_and_an_unsure_match_is_not_offered(svc: SimpleNamespace) -> None:
    # The NLU took it for small talk; the search's "Mente du …?" becomes the out-of-scope reply,
    # and the question still reaches the log (and so the unanswered report).
    dispatcher, _ = ask("noget med mit kort", intent="out_of_scope")
    assert [m["text"] for m in dispatcher.messages] == [actions.answer.OUT_OF_SCOPE]
    [q] = questions(svc.store)
    assert (q.text, q.decision, q.top_slug, q.intent) == (
        "noget med mit kort",
        "fallback",
        "sundhedskort-nyt",
        "out_of_scope",
    )


@pytest.mark.parametrize(
    ("text", "intent", "decision"),
    [
        ("Hvordan bestiller jeg pas? Mit cpr er 010190-1234", "ask_question", "answer"),
        ("noget med mit kort", "nlu_fallback", "clarify"),
        ("Må jeg holde høns?", "out_of_scope", "fallback"),
        # small talk a guide matches confidently is answered, and still logged as small talk
        ("Hvordan bestiller jeg pas? Mit cpr er 010190-1234", "out_of_scope", "answer"),
    ],
)
def test_the_nlu_intent_is_logged_with_the_search(
    svc: SimpleNamespace, text: str, intent: str, decision: str
) -> None:
    ask(text, intent=intent)
    [q] = questions(svc.store)
    assert (q.intent, q.decision) == (intent, decision)


def test_a_message_without_an_nlu_reading_is_logged_without_intent(
    svc: SimpleNamespace,
) -> None:
    message = {"text": "Må jeg holde høns?", "metadata": {"municipality": "0101", "now": IN_HOURS}}
    t = Tracker("c1", {}, message, [], False, None, {}, "")
    ActionAnswerFromGuides().run(CollectingDispatcher(), t, {})
    [q] = questions(svc.store)
    assert (q.text, q.intent) == ("Må jeg holde høns?", None)


def test_the_reports_small_talk_intent_is_the_actions() -> None:
    # bot/ does not import actions/: the two names must be kept equal by hand.
    assert SMALL_TALK_INTENT == INTENT_OUT_OF_SCOPE
