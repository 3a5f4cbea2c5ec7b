"""Analytics on the hand-counted log of tests/bot/insight_seed.py, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from bot.insight.analytics import Analytics, DayStats, GuideStats, analytics, municipalities
from bot.insight.export import ANALYTICS_HEADER, analytics_csv, analytics_rows, to_csv
from bot.insight.period import Period, parse_day
from bot.store import Store
from tests.bot.insight_seed import FIRST, LAST, seed

PERIOD = Period(date.fromisoformat(FIRST), date.fromisoformat(LAST))
TITLES = {"pas-bestil": "Bestil pas"}


@pytest.fixture(params=["sqlite", "postgresql"])
def seeded(request: pytest.FixtureRequest) -> Store:
    store: Store = request.getfixturevalue("store" if request.param == "sqlite" else "pg_store")
    seed(store)
    return store


def cell(a: Analytics, weekday: int, hour: int) -> int:
    return a.hours[weekday][hour]


def test_one_municipality(seeded: Store) -> None:
    a = analytics(seeded, PERIOD, "0101", TITLES)
    # c1-c4, c7, c9-c12 started in the period; c6 before, c8 after (local April 1st), c5 and c13
    # are 0202
    assert a.conversations == 9
    # c2 (hand-off), c3 (callback), c9 (hand-off after the period), c11 (hand-off) escalated
    assert (a.contained, a.escalated, a.containment) == (5, 4, 5 / 9)
    # c2's, c6's (created Monday 00:10 for a Sunday conversation) and c11's; c9's is in April
    assert a.handoffs == 3
    assert a.callbacks == 1  # c3's; the orphan callback has no municipality
    # answered c1 c4 c9 and c12 (small talk a guide matched); clarify c3; not understood c2 and
    # c7 (nlu_fallback); small talk c10's two and c11's (the hand-off after it does not matter)
    assert (a.questions, a.answered, a.clarified, a.fallbacks, a.small_talk) == (10, 4, 1, 2, 3)
    assert (a.feedback_yes, a.feedback_no) == (1, 2)
    assert a.guides == [
        GuideStats("pas-bestil", "Bestil pas", 2, 1, 0),
        GuideStats("sundhedskort-nyt", "Nyt sundhedskort", 2, 0, 1),
        GuideStats("koerekort-forny", "Forny kørekort", 1, 0, 1),
    ]
    assert [g.slug for g in a.top_guides] == ["pas-bestil", "sundhedskort-nyt", "koerekort-forny"]
    # most feedback first, then by slug
    assert [(g.slug, g.helpful_share) for g in a.rated_guides] == [
        ("koerekort-forny", 0.0), ("pas-bestil", 1.0), ("sundhedskort-nyt", 0.0)]  # fmt: skip


def test_busiest_hours_are_local_across_the_summer_time_change(seeded: Store) -> None:
    a = analytics(seeded, PERIOD, "0101")
    assert a.citizen_messages == 13  # bot and agent messages do not count
    assert cell(a, 0, 9) == 3  # Monday 09:15, 09:40, 09:42
    assert cell(a, 0, 0) == 1  # c6's second message, Monday 00:05; its first was on Sunday 22nd
    assert cell(a, 6, 10) == 1  # Sunday 29th 10:30 summer time (08:30 UTC)
    assert cell(a, 1, 23) == 1  # Tuesday 31st 23:50 (21:50 UTC)
    assert (cell(a, 1, 14), cell(a, 0, 12)) == (1, 1)
    assert (cell(a, 3, 20), cell(a, 4, 10), cell(a, 5, 15)) == (2, 2, 1)  # c10, c11, c12
    assert a.busiest == [(0, 9, 3), (3, 20, 2), (4, 10, 2)]


def test_daily_figures(seeded: Store) -> None:
    a = analytics(seeded, PERIOD, "0101")
    assert len(a.daily) == 9
    by_day = {d.day.isoformat(): d for d in a.daily}
    assert by_day["2026-03-23"] == DayStats(date(2026, 3, 23), 2, 1, 2, 0)
    assert by_day["2026-03-24"] == DayStats(date(2026, 3, 24), 1, 0, 0, 1)
    assert by_day["2026-03-26"] == DayStats(date(2026, 3, 26), 1, 1, 0, 0)
    assert by_day["2026-03-27"] == DayStats(date(2026, 3, 27), 1, 0, 1, 0)
    assert by_day["2026-03-28"] == DayStats(date(2026, 3, 28), 1, 1, 0, 0)
    assert by_day["2026-03-29"] == DayStats(date(2026, 3, 29), 1, 1, 0, 0)
    assert by_day["2026-03-30"] == DayStats(date(2026, 3, 30), 1, 0, 0, 0)
    assert by_day["2026-03-31"] == DayStats(date(2026, 3, 31), 1, 1, 0, 0)
    assert sum(d.conversations for d in a.daily) == a.conversations
    assert sum(d.handoffs for d in a.daily) == a.handoffs


def test_all_municipalities(seeded: Store) -> None:
    a = analytics(seeded, PERIOD)
    assert (a.conversations, a.contained, a.handoffs, a.callbacks) == (11, 6, 4, 2)
    assert (a.questions, a.answered, a.feedback_yes, a.feedback_no) == (12, 5, 2, 2)
    assert (a.clarified, a.fallbacks, a.small_talk) == (1, 2, 4)  # c13's small talk too
    assert a.municipality is None
    # without `titles` the title stored with the bot's guesses is used
    assert a.guides[0] == GuideStats("pas-bestil", "Bestil pas (gæt)", 2, 1, 0)
    assert municipalities(seeded) == ["0101", "0202"]


def test_other_municipality_and_an_empty_period(seeded: Store) -> None:
    a = analytics(seeded, PERIOD, "0202")
    assert (a.conversations, a.contained, a.handoffs, a.callbacks) == (2, 1, 1, 0)
    assert (a.questions, a.answered, a.fallbacks, a.small_talk) == (2, 1, 0, 1)
    empty = analytics(seeded, Period(date(2025, 1, 1), date(2025, 1, 31)), "0101")
    assert (empty.conversations, empty.containment, empty.citizen_messages) == (0, None, 0)
    assert empty.guides == [] and empty.busiest == [] and len(empty.daily) == 31


def test_one_day_period_ends_at_local_midnight(seeded: Store) -> None:
    a = analytics(seeded, Period(date(2026, 3, 31), date(2026, 3, 31)), "0101")
    assert a.conversations == 1  # c7 at 23:50; c8 at 00:20 the next day is not in it
    april = analytics(seeded, Period(date(2026, 4, 1), date(2026, 4, 1)), "0101")
    # c8's question was logged without an intent: a question, as before the intent was recorded
    assert (april.conversations, april.handoffs, april.fallbacks, april.small_talk) == (1, 1, 1, 0)


def test_period_validation() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        Period(date(2026, 3, 2), date(2026, 3, 1))
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        parse_day("23/03/2026")
    assert Period.last_days(30, today=date(2026, 3, 31)).first == date(2026, 3, 2)


def test_csv_rows(seeded: Store) -> None:
    rows = analytics_rows(analytics(seeded, PERIOD, "0101", TITLES))
    summary = {m: v for s, _, m, v in rows if s == "summary"}
    assert summary["conversations"] == 9 and summary["containment"] == 0.5556
    assert (summary["fallbacks"], summary["small_talk"]) == (2, 3)
    assert ("daily", "2026-03-23", "handoffs", 2) in rows
    assert ("guides", "pas-bestil", "answered", 2) in rows
    assert ("hours", "Mon 09", "citizen_messages", 3) in rows
    assert len([r for r in rows if r[0] == "hours"]) == 7 * 24
    plain = to_csv(ANALYTICS_HEADER, rows)
    assert plain.startswith("section,item,measure,value\r\n")
    assert "summary,,containment,0.5556\r\n" in plain
    assert "summary,,fallbacks,2\r\nsummary,,small_talk,3\r\n" in plain
    assert plain == analytics_csv(analytics(seeded, PERIOD, "0101", TITLES))
    # the console's download: Danish Excel's separator and decimal comma, Danish names
    excel = analytics_csv(analytics(seeded, PERIOD, "0101", TITLES), excel=True)
    assert excel.startswith("\ufeffAfsnit;Emne;Mål;Værdi\r\n")
    assert "Overblik;;Andel klaret af botten;0,5556\r\n" in excel
    assert "Overblik;;Ikke forstået;2\r\nOverblik;;Småsnak;3\r\n" in excel
    assert "Pr. time;mandag 09;Beskeder fra borgere;3\r\n" in excel
    assert "Vejledninger;pas-bestil;Titel;Bestil pas\r\n" in excel


def test_excel_csv_neutralises_formulas_in_text_but_not_numbers() -> None:
    rows = [('=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "ok", -1.5, -2)]
    excel = to_csv(("=h", "b", "c", "d", "e", "f", "g", "h", "i"), rows, excel=True)
    assert excel.splitlines()[0] == "\ufeff'=h;b;c;d;e;f;g;h;i"
    cells = next(csv.reader(io.StringIO(excel.split("\r\n", 1)[1]), delimiter=";"))
    assert cells == ["'=HYPERLINK(\"http://x\")", "'+1", "'-2+3", "'@SUM(A1)", "'\tx", "'\rx",
                     "ok", "-1,5", "-2"]  # fmt: skip
    plain = to_csv(ANALYTICS_HEADER, [("summary", "", "x", "=1+1")])
    assert plain.endswith(",=1+1\r\n")  # the scripts' format keeps the text as logged
