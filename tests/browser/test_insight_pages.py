"""The insight pages in Chromium over the real stack: a month of seeded conversations plus one
real fallback and one real piece of small talk through the widget; screenshots of both pages (the
unanswered questions with and without small talk) and an axe-core WCAG AA check."""

from __future__ import annotations

import random
import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.hours import TZ
from bot.store import Store
from bot.store.models import Callback, Conversation, Feedback, Handoff, Message, Question
from tests.browser.conftest import login, open_widget, run_axe, say
from tests.stack import Stack

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

ANSWERS = {  # slug → (title, weight)
    "mitid-glemt-bruger-id": ("Jeg har glemt mit bruger-id til MitID", 9),
    "pas-bestil": ("Hvordan bestiller jeg nyt pas som voksen?", 8),
    "flytning-anmeld": ("Hvordan melder jeg flytning?", 7),
    "affald-storskrald": ("Hvornår bliver storskrald hentet?", 5),
    "borgerservice-aabningstider": ("Hvornår har Borgerservice åbent?", 5),
    "sundhedskort-nyt": ("Jeg har mistet mit gule sundhedskort", 3),
    "boligstoette": ("Kan jeg få boligstøtte?", 3),
    "koerekort-forny": ("Mit kørekort udløber", 2),
}
UNANSWERED = [  # wordings citizens used for things no guide covers
    ["Hvordan registrerer jeg min hund?", "skal min hund registreres", "hundeskat kommunen",
     "hvor melder jeg min nye hundehvalp"],
    ["Der er graffiti på min husmur", "hvem fjerner graffiti", "graffiti på skolen"],
    ["Hvor skal pizzabakker sorteres?", "sortering af pizzabakker"],
    ["Hvordan lejer jeg en bådplads i havnen?", "bådplads leje"],
    ["Må jeg brænde haveaffald af?"],
]  # fmt: skip
SMALL_TALK = ["fortæl en vittighed", "hvad hedder du", "hvordan går det", "kan du lide katte",
              "hvem vandt fodboldkampen i går"]  # fmt: skip


def seed_month(store: Store, last: date, days: int = 28, seed: int = 7) -> int:
    """A plausible month for municipality 0101: weekday peaks at 9-11 and 19-21, 3 in 4 questions
    answered, a few hand-offs and callbacks, feedback mostly "ja"; and some small talk no guide
    matched. Returns the number of small-talk messages."""
    rnd = random.Random(seed)
    slugs = list(ANSWERS)
    weights = [ANSWERS[s][1] for s in slugs]
    with store.transaction() as s:
        n = 0
        for offset in range(days):
            day = last - timedelta(days=days - 1 - offset)
            for _ in range(rnd.randint(3, 6) if day.weekday() >= 5 else rnd.randint(8, 14)):
                n += 1
                hour = rnd.choice([8, 9, 9, 10, 10, 10, 11, 12, 13, 14, 15, 19, 20, 20, 21, 22])
                at = datetime.combine(day, time(hour, rnd.randint(0, 59)), TZ)
                cid = f"seed-{n}"
                s.add(Conversation(id=cid, municipality="0101", state="closed", created_at=at,
                                   updated_at=at))  # fmt: skip
                s.flush()
                roll = rnd.random()
                if roll < 0.72:
                    slug = rnd.choices(slugs, weights)[0]
                    title = ANSWERS[slug][0]
                    text, decision, answered = title, "answer", slug
                    guesses = [{"slug": slug, "title": title, "score": 2.5}]
                elif roll < 0.80:
                    slug = rnd.choices(slugs, weights)[0]
                    text, decision, answered = f"noget om {slug.split('-')[0]}", "clarify", slug
                    guesses = [{"slug": slug, "title": ANSWERS[slug][0], "score": 1.2}]
                else:
                    topic = rnd.choices(UNANSWERED, [6, 3, 2, 2, 1])[0]
                    text, decision, answered, guesses = rnd.choice(topic), "fallback", None, []
                helpful = rnd.random() < 0.8 if answered and rnd.random() < 0.4 else None
                escalated = (decision == "fallback" and rnd.random() < 0.5) or helpful is False
                outcome = ("helpful" if helpful else "not_helpful" if helpful is False
                           else "handoff" if escalated else None)  # fmt: skip
                s.add(Message(conversation_id=cid, seq=1, sender="citizen", text=text,
                              created_at=at))  # fmt: skip
                s.add(Message(conversation_id=cid, seq=2, sender="bot", text="…", created_at=at))
                s.add(Question(conversation_id=cid, municipality="0101", text=text,
                               decision=decision, top_slug=guesses[0]["slug"] if guesses else None,
                               top_score=guesses[0]["score"] if guesses else None,
                               guesses=guesses, answered_slug=answered, outcome=outcome,
                               intent="ask_question", created_at=at))  # fmt: skip
                if helpful is not None:
                    s.add(Feedback(conversation_id=cid, slug=answered, helpful=helpful,
                                   created_at=at + timedelta(minutes=1)))  # fmt: skip
                if escalated and 9 <= hour < 15:
                    s.add(Handoff(conversation_id=cid, created_at=at + timedelta(minutes=2),
                                  reason="requested", summary="-", guesses=guesses,
                                  department="borgerservice", municipality="0101",
                                  status="closed"))  # fmt: skip
                    s.add(Message(conversation_id=cid, seq=3, sender="citizen", text="tak",
                                  created_at=at + timedelta(minutes=5)))  # fmt: skip
                elif escalated:
                    s.add(Callback(conversation_id=cid, name="Borger", phone="+4512345678",
                                   department="borgerservice", topic=text,
                                   slot_start=at + timedelta(days=1), status="done",
                                   created_at=at, updated_at=at))  # fmt: skip
        # Small talk: its own random stream, so the questions above stay as they were.
        chat = random.Random(seed + 1)
        small_talk = 0
        for offset in range(days):
            day = last - timedelta(days=days - 1 - offset)
            for _ in range(chat.randint(0, 2)):
                small_talk += 1
                at = datetime.combine(day, time(chat.choice([10, 16, 21]), chat.randint(0, 59)), TZ)
                cid, text = f"chat-{small_talk}", chat.choice(SMALL_TALK)
                s.add(Conversation(id=cid, municipality="0101", state="closed", created_at=at,
                                   updated_at=at))  # fmt: skip
                s.flush()
                s.add(Message(conversation_id=cid, seq=1, sender="citizen", text=text,
                              created_at=at))  # fmt: skip
                s.add(Question(conversation_id=cid, municipality="0101", text=text,
                               decision="fallback", guesses=[], intent="out_of_scope",
                               created_at=at))  # fmt: skip
    return small_talk


def test_insight_pages(stack: Stack, new_page: Any, console_users: Any, artifacts: Path) -> None:
    store = Store(stack.env["DATABASE_URL"])
    assert seed_month(store, datetime.now(TZ).date() - timedelta(days=1)) > 0

    # A real fallback through the widget lands in the question log.
    citizen = new_page()
    open_widget(citizen, stack)
    say(citizen, "Hvordan registrerer jeg min kanin hos kommunen?")
    citizen.get_by_role("button", name="Tal med en medarbejder").last.wait_for()
    # And real small talk: the NLU's out_of_scope, no guide, the out-of-scope reply.
    chatter = new_page()
    open_widget(chatter, stack)
    say(chatter, "fortæl en vittighed")
    chatter.get_by_text("Det kan jeg desværre ikke hjælpe med", exact=False).wait_for()
    with store.read() as s:
        logged = s.execute(select(Question.conversation_id, Question.decision, Question.intent)
                           .where(Question.text == "fortæl en vittighed")).all()  # fmt: skip
        # the session's database: the seeded month and what the browser tests said
        small_talk = s.scalar(select(func.count()).select_from(Question).where(
            Question.decision == "fallback", Question.intent == "out_of_scope"))  # fmt: skip
    assert [(d, i) for c, d, i in logged if not c.startswith("chat-")] == [
        ("fallback", "out_of_scope")]  # fmt: skip

    eva = new_page()
    login(eva, stack, "eva")
    eva.goto(f"{stack.web_url}/konsol/statistik")
    eva.get_by_role("heading", name="Samtaler pr. dag").wait_for()
    main = eva.inner_text("main")
    assert "Klaret af botten" in main
    # the widget's small talk is counted as small talk, not as not understood
    assert re.search(rf"ikke forstået[^·]*·\s*{small_talk} småsnak", main), main
    eva.screenshot(path=str(artifacts / "insight-analytics.png"), full_page=True)
    violations = run_axe(eva)
    assert [v["id"] for v in violations if v["impact"] in ("serious", "critical")] == []

    # The first visit may wait for the model (the statistics page started loading it).
    eva.goto(f"{stack.web_url}/konsol/ubesvarede", timeout=180_000)
    first = eva.locator("section.cluster").first
    assert "hund" in first.inner_text().lower()  # the biggest topic in the seed
    assert "kanin" in eva.inner_text("main")  # the widget's question
    # small talk is left out by default, and the page says so
    assert "vittighed" not in "".join(eva.locator("section.cluster").all_inner_texts())
    left_out = f"Desuden tog botten {small_talk} beskeder for småsnak"
    assert left_out in eva.inner_text("main")
    eva.screenshot(path=str(artifacts / "insight-unanswered.png"), full_page=True)
    violations = run_axe(eva)
    assert [v["id"] for v in violations if v["impact"] in ("serious", "critical")] == []

    # with it: labelled, and clustered with the rest
    eva.get_by_role("link", name="Vis også småsnak").click()
    eva.wait_for_url("**smaasnak=1*")
    joke = eva.locator("section.cluster").filter(has_text="fortæl en vittighed")
    assert "Botten tog det for småsnak" in joke.first.inner_text()
    assert eva.get_by_label("Småsnak", exact=True).input_value() == "1"
    eva.screenshot(path=str(artifacts / "insight-unanswered-small-talk.png"), full_page=True)
    violations = run_axe(eva)
    assert [v["id"] for v in violations if v["impact"] in ("serious", "critical")] == []
    eva.get_by_role("link", name="Skjul småsnak").click()
    eva.wait_for_url(re.compile(r".*/konsol/ubesvarede\?(?!.*smaasnak).*"))
    button = first.get_by_role("link", name="Skriv en vejledning")
    assert button.count() == 1
    button.click()
    eva.wait_for_url("**/konsol/vejledninger/ny?*")
    # the editor opens with the cluster's title, wordings, keywords and municipality
    assert "hund" in eva.get_by_label("Titel", exact=True).input_value().lower()
    assert "hund" in eva.get_by_label("Søgeord", exact=True).input_value()
    assert eva.get_by_label("Kommune", exact=True).input_value() == "*"  # all municipalities
    eva.get_by_role("heading", name="Det spurgte borgerne om").wait_for()
    eva.screenshot(path=str(artifacts / "insight-new-guide-from-cluster.png"), full_page=True)
