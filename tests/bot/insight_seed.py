"""A small conversation log with hand-counted figures, for the insight tests.

Period 2026-03-23 (Mon) .. 2026-03-31 (Tue), Europe/Copenhagen; summer time starts on Sunday
2026-03-29 (UTC+1 before, UTC+2 after). Municipality 0101 unless said otherwise.

conv  started (local)       what happened                                    in the period?
c1    Mon 23 09:15          answer pas-bestil, "ja"                           yes, contained
c2    Mon 23 09:40          fallback (hund), hand-off 09:41; 2 citizen msgs   yes, escalated
c3    Tue 24 14:05          clarify → picked koerekort-forny, "nej", callback yes, escalated
c4    Sun 29 10:30 (UTC+2)  answer pas-bestil                                 yes, contained
c5    Tue 24 09:05  (0202)  answer mitid-opret, "ja", hand-off                other municipality
c6    Sun 22 23:30          started before; 2nd msg + hand-off Mon 23 00:05/00:10
c7    Tue 31 23:50 (UTC+2)  fallback (høns), NLU unsure (nlu_fallback)        yes (last day)
c8    Wed  1 apr 00:20      fallback (hund): 22:20 UTC on the 31st, but local April 1st: out
c9    Mon 30 12:00          answer sundhedskort-nyt, "nej", hand-off April 1  yes, escalated
c10   Thu 26 20:10          small talk ×2 (vittighed 20:10, hvad hedder du    yes, contained
                            20:11), no guide; 2 citizen msgs
c11   Fri 27 10:05          parking question taken for small talk, no guide;  yes, escalated
                            asks for a person, hand-off 10:06; 2 citizen msgs
c12   Sat 28 15:00          taken for small talk, but answered sundhedskort-  yes, contained
                            nyt confidently
c13   Wed 25 11:00  (0202)  small talk (vejret), no guide                     other municipality
plus  a callback booked Mon 23 11:00 whose conversation was deleted (conversation_id NULL)

Intents: c1, c2 ask_question, c7 nlu_fallback, c10-c13 out_of_scope; the rest were logged before
the intent was (NULL).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.hours import TZ
from bot.store import Store
from bot.store.models import Callback, Conversation, Feedback, Handoff, Message, Question

FIRST, LAST = "2026-03-23", "2026-03-31"


def at(text: str) -> datetime:
    """'2026-03-23 09:15' local → aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def guesses(*slugs: str) -> list[dict[str, Any]]:
    titles = {
        "pas-bestil": "Bestil pas (gæt)",
        "koerekort-forny": "Forny kørekort",
        "sundhedskort-nyt": "Nyt sundhedskort",
        "mitid-opret": "Opret MitID",
        "affald-storskrald": "Storskrald",
    }
    return [{"slug": s, "title": titles[s], "score": 1.0 - i / 10} for i, s in enumerate(slugs)]


def seed(store: Store) -> None:
    with store.transaction() as s:

        def conv(cid: str, when: str, municipality: str = "0101") -> None:
            s.add(Conversation(id=cid, municipality=municipality, state="bot",
                               created_at=at(when), updated_at=at(when)))  # fmt: skip
            s.flush()

        seq: dict[str, int] = {}

        def msg(cid: str, when: str, sender: str = "citizen", text: str = "hej") -> None:
            seq[cid] = seq.get(cid, 0) + 1
            s.add(Message(conversation_id=cid, seq=seq[cid], sender=sender, text=text,
                          created_at=at(when)))  # fmt: skip

        def question(
            cid: str, when: str, text: str, decision: str, answered: str | None = None,
            outcome: str | None = None, top: tuple[str, ...] = (), intent: str | None = None,
        ) -> None:  # fmt: skip
            municipality = s.get(Conversation, cid).municipality
            s.add(Question(conversation_id=cid, municipality=municipality, text=text,
                           decision=decision, top_slug=top[0] if top else None,
                           top_score=1.0 if top else None, guesses=guesses(*top),
                           answered_slug=answered, outcome=outcome, intent=intent,
                           created_at=at(when)))  # fmt: skip

        def handoff(cid: str, when: str, municipality: str = "0101") -> None:
            s.add(Handoff(conversation_id=cid, created_at=at(when), reason="requested",
                          summary="-", guesses=[], department="borgerservice",
                          municipality=municipality, status="closed"))  # fmt: skip

        def callback(cid: str | None, when: str) -> None:
            s.add(Callback(conversation_id=cid, name="Mette", phone="+4512345678",
                           department="borgerservice", topic="pas", slot_start=at(when),
                           status="booked", created_at=at(when), updated_at=at(when)))  # fmt: skip

        def feedback(cid: str, when: str, slug: str, helpful: bool) -> None:
            s.add(Feedback(conversation_id=cid, slug=slug, helpful=helpful, created_at=at(when)))

        conv("c1", "2026-03-23 09:15")
        msg("c1", "2026-03-23 09:15")
        msg("c1", "2026-03-23 09:15", "bot")
        question("c1", "2026-03-23 09:15", "Hvordan bestiller jeg pas?", "answer",
                 answered="pas-bestil", outcome="helpful", top=("pas-bestil",),
                 intent="ask_question")  # fmt: skip
        feedback("c1", "2026-03-23 09:16", "pas-bestil", True)

        conv("c2", "2026-03-23 09:40")
        msg("c2", "2026-03-23 09:40")
        msg("c2", "2026-03-23 09:42")
        msg("c2", "2026-03-23 09:42", "agent")
        question("c2", "2026-03-23 09:40", "Hvordan registrerer jeg min hund?", "fallback",
                 outcome="handoff", top=("affald-storskrald",), intent="ask_question")  # fmt: skip
        handoff("c2", "2026-03-23 09:41")

        conv("c3", "2026-03-24 14:05")
        msg("c3", "2026-03-24 14:05")
        question("c3", "2026-03-24 14:05", "noget med mit kort", "clarify",
                 answered="koerekort-forny", outcome="not_helpful",
                 top=("sundhedskort-nyt", "koerekort-forny"))  # fmt: skip
        feedback("c3", "2026-03-24 14:07", "koerekort-forny", False)
        callback("c3", "2026-03-24 14:20")

        conv("c4", "2026-03-29 10:30")
        msg("c4", "2026-03-29 10:30")
        question("c4", "2026-03-29 10:30", "pas bestilling", "answer", answered="pas-bestil",
                 top=("pas-bestil",))  # fmt: skip

        conv("c5", "2026-03-24 09:05", "0202")
        msg("c5", "2026-03-24 09:05")
        question("c5", "2026-03-24 09:05", "MitID", "answer", answered="mitid-opret",
                 outcome="helpful", top=("mitid-opret",))  # fmt: skip
        feedback("c5", "2026-03-24 09:06", "mitid-opret", True)
        handoff("c5", "2026-03-24 09:30", "0202")

        conv("c6", "2026-03-22 23:30")
        msg("c6", "2026-03-22 23:30")
        msg("c6", "2026-03-23 00:05")
        handoff("c6", "2026-03-23 00:10")

        conv("c7", "2026-03-31 23:50")
        msg("c7", "2026-03-31 23:50")
        question("c7", "2026-03-31 23:50", "Må jeg holde høns i haven?", "fallback",
                 intent="nlu_fallback")  # fmt: skip

        conv("c8", "2026-04-01 00:20")
        msg("c8", "2026-04-01 00:20")
        question("c8", "2026-04-01 00:20", "hvor registrerer man en hund", "fallback")

        conv("c9", "2026-03-30 12:00")
        msg("c9", "2026-03-30 12:00")
        question("c9", "2026-03-30 12:00", "Jeg har mistet mit sygesikringskort", "answer",
                 answered="sundhedskort-nyt", outcome="not_helpful",
                 top=("sundhedskort-nyt",))  # fmt: skip
        feedback("c9", "2026-03-30 12:01", "sundhedskort-nyt", False)
        handoff("c9", "2026-04-01 09:00")

        conv("c10", "2026-03-26 20:10")
        msg("c10", "2026-03-26 20:10", text="fortæl en vittighed")
        msg("c10", "2026-03-26 20:10", "bot")
        question("c10", "2026-03-26 20:10", "fortæl en vittighed", "fallback",
                 intent="out_of_scope")  # fmt: skip
        msg("c10", "2026-03-26 20:11", text="hvad hedder du")
        question("c10", "2026-03-26 20:11", "hvad hedder du", "fallback", intent="out_of_scope")

        conv("c11", "2026-03-27 10:05")
        msg("c11", "2026-03-27 10:05", text="hvad koster en parkeringslicens")
        question("c11", "2026-03-27 10:05", "hvad koster en parkeringslicens", "fallback",
                 outcome="handoff", top=("affald-storskrald",),
                 intent="out_of_scope")  # fmt: skip
        msg("c11", "2026-03-27 10:06", text="jeg vil tale med en medarbejder")
        handoff("c11", "2026-03-27 10:06")

        conv("c12", "2026-03-28 15:00")
        msg("c12", "2026-03-28 15:00", text="mit sundhedskort er væk")
        question("c12", "2026-03-28 15:00", "mit sundhedskort er væk", "answer",
                 answered="sundhedskort-nyt", top=("sundhedskort-nyt",),
                 intent="out_of_scope")  # fmt: skip

        conv("c13", "2026-03-25 11:00", "0202")
        msg("c13", "2026-03-25 11:00", text="hvordan bliver vejret i morgen")
        question("c13", "2026-03-25 11:00", "hvordan bliver vejret i morgen", "fallback",
                 intent="out_of_scope")  # fmt: skip

        callback(None, "2026-03-23 11:00")
