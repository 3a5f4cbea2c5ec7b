"""`python -m bot.insight unanswered|analytics`: the console's insight reports for scripts.

    python -m bot.insight unanswered [--from 2026-11-01] [--to 2026-11-30] [--municipality 0101]
                                     [--small-talk] [--csv]
    python -m bot.insight analytics [--from 2026-11-01] [--to 2026-11-30] [--municipality 0101]
                                    [--csv]

(`--since` and `--until` are accepted for `--from` and `--to`; `--small-talk` includes the
messages the bot took for small talk and found no guide for, left out by default.)

Dates are whole local days (Europe/Copenhagen), both ends included; without them the report
covers the last 30 days. The database is DATABASE_URL (see README). Exit status 0 on success,
2 for bad arguments or an unreadable database.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TextIO

from sqlalchemy.exc import SQLAlchemyError

from bot.hours import TZ
from bot.insight import clusters
from bot.insight.analytics import WEEKDAYS, Analytics, analytics
from bot.insight.clusters import QueryEmbedder
from bot.insight.export import analytics_csv, unanswered_csv
from bot.insight.period import DEFAULT_DAYS, Period, guide_titles, local, parse_day
from bot.insight.unanswered import UnansweredReport, clustered_report, unanswered_questions
from bot.settings import Settings
from bot.store.db import Store, StoreUnavailable

EmbedderFactory = Callable[[], QueryEmbedder]


def load_embedder() -> QueryEmbedder:
    from knowledge.embedder import Embedder
    from knowledge.model import resolve_model

    return Embedder(resolve_model(Settings.from_env().knowledge))


def _day(value: str) -> date:
    try:
        return parse_day(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _period(first: date | None, last: date | None, today: date) -> Period:
    last = last or today
    first = first or (last - timedelta(days=DEFAULT_DAYS - 1))
    return Period(first, last)


def _where(municipality: str | None) -> str:
    return "all municipalities" if municipality is None else f"municipality {municipality}"


def _percent(share: float | None) -> str:
    return "n/a" if share is None else f"{share:.1%}"


def print_analytics(a: Analytics, out: TextIO) -> None:
    w = out.write
    w(f"Analytics {a.period}, {_where(a.municipality)}\n\n")
    w(f"  Conversations      {a.conversations:6d}\n")
    share = _percent(a.containment)
    w(f"  Contained          {a.contained:6d}  ({share} without hand-off or callback)\n")
    w(f"  Hand-offs          {a.handoffs:6d}\n")
    w(f"  Callbacks booked   {a.callbacks:6d}\n")
    split = (
        f"answered {a.answered}, clarify {a.clarified}, not understood {a.fallbacks}, "
        f"small talk {a.small_talk}"
    )
    w(f"  Questions          {a.questions:6d}  ({split})\n")
    w(f"  Feedback           yes {a.feedback_yes}, no {a.feedback_no}\n")
    w("\nTop guides (questions answered with the guide)\n")
    for g in a.top_guides or []:
        w(f"  {g.answered:5d}  {g.slug}  {g.title}\n")
    if not a.top_guides:
        w("  (none)\n")
    w("\nFeedback per guide (yes / no)\n")
    for g in a.rated_guides:
        w(f"  {g.feedback_yes:5d} / {g.feedback_no:<5d} {g.slug}  {g.title}\n")
    if not a.rated_guides:
        w("  (none)\n")
    w("\nCitizen messages by weekday and hour (Europe/Copenhagen)\n")
    w("       " + "".join(f"{h:>4d}" for h in range(24)) + "\n")
    for day, row in zip(WEEKDAYS, a.hours, strict=True):
        w(f"  {day}  " + "".join(f"{n:>4d}" if n else "   ." for n in row) + "\n")
    if a.busiest:
        busiest = ", ".join(f"{WEEKDAYS[d]} {h:02d}:00 ({n})" for d, h, n in a.busiest)
        w(f"  Busiest: {busiest}\n")


def print_unanswered(report: UnansweredReport, out: TextIO) -> None:
    w = out.write
    w(
        f"Unanswered questions {report.period}, {_where(report.municipality)}: "
        f"{report.unanswered} of {report.total_questions} questions, "
        f"{len(report.clusters)} clusters\n"
    )
    if report.small_talk_left_out:
        n = report.small_talk_left_out
        w(
            f"({n} message{'s' if n != 1 else ''} the bot took for small talk and found "
            "no guide for: not included; --small-talk includes them)\n"
        )
    elif report.with_small_talk:
        w(f"(small talk included: {report.small_talk} messages, reason small_talk)\n")
    if report.unclustered:
        n = len(report.unclustered)
        older = f"{n} older question is" if n == 1 else f"{n} older questions are"
        w(
            f"(only the {clusters.MAX_WORDINGS} newest distinct wordings were clustered: "
            f"{older} in no cluster; --csv lists them)\n"
        )
    for c in report.clusters:
        reasons = ", ".join(f"{r} {n}" for r, n in c.reasons.items())
        seen = f"{local(c.first_seen):%Y-%m-%d}..{local(c.last_seen):%Y-%m-%d}"
        questions = f"{c.size} question{'s' if c.size != 1 else ''}"
        wordings = f"{c.wordings} wording{'s' if c.wordings != 1 else ''}"
        w(f"\n#{c.number}  {questions} ({wordings}), {seen}; {reasons}\n")
        for example in c.examples:
            w(f'    "{example}"\n')
        if c.bot_guesses:
            guesses = ", ".join(f"{slug} ({n})" for slug, _, n in c.bot_guesses)
            w(f"    bot's best guess: {guesses}\n")


def main(
    argv: list[str] | None = None,
    *,
    embedder: EmbedderFactory = load_embedder,
    today: date | None = None,
) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.insight",
        description="Insight reports over the conversation store (DATABASE_URL).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    un = commands.add_parser(
        "unanswered", help="questions the bot could not answer, grouped by similarity"
    )
    an = commands.add_parser("analytics", help="conversations, containment, guides, busy hours")
    for sub in (un, an):
        # --from/--to is the documented spelling; --since/--until (unanswered's first one) too
        sub.add_argument("--from", "--since", dest="since", type=_day, metavar="YYYY-MM-DD",
                         help="first day (default: 30 days before the last)")  # fmt: skip
        sub.add_argument("--to", "--until", dest="until", type=_day, metavar="YYYY-MM-DD",
                         help="last day (default: today)")  # fmt: skip
        sub.add_argument("--municipality", help="municipality code (default: all)")
        sub.add_argument("--csv", action="store_true", help="write CSV to standard output")
    un.add_argument("--small-talk", action="store_true",
                    help="include messages the bot took for small talk and found no guide for "
                         "(real questions the NLU mistook among them)")  # fmt: skip
    args = parser.parse_args(argv)

    try:
        period = _period(args.since, args.until, today or _today())
    except ValueError as err:
        parser.error(str(err))
    try:
        store = Store(Settings.from_env().database_url)
    except StoreUnavailable as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        if args.command == "analytics":
            titles = guide_titles(Settings.from_env().knowledge.guides_dir)
            result = analytics(store, period, args.municipality, titles)
            if args.csv:
                sys.stdout.write(analytics_csv(result))
            else:
                print_analytics(result, sys.stdout)
            return 0
        selection = unanswered_questions(
            store, period, args.municipality, small_talk=args.small_talk
        )
        # The model costs seconds to load: only when there is something to group.
        report = (
            clustered_report(selection, embedder()) if selection.questions else selection.report([])
        )
        if args.csv:
            sys.stdout.write(unanswered_csv(report))
        else:
            print_unanswered(report, sys.stdout)
        return 0
    except SQLAlchemyError as err:
        print(
            f"error: cannot read the reports from the database ({type(err).__name__}); "
            "is it migrated? Run `python -m bot.store upgrade`.",
            file=sys.stderr,
        )
        return 2
    finally:
        store.dispose()


def _today() -> date:
    return datetime.now(TZ).date()


if __name__ == "__main__":
    raise SystemExit(main())
