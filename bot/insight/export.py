"""CSV for the reports: one long table per report, the same columns from the CLI and the console.

`excel=True` (the console download) writes what Danish Excel opens directly: a UTF-8 byte-order
mark, ';' between fields and a decimal comma. The CLI writes plain CSV (',' and '.') for scripts.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from bot.insight.analytics import WEEKDAYS, Analytics
from bot.insight.period import local
from bot.insight.unanswered import UnansweredReport

ANALYTICS_HEADER = ("section", "item", "measure", "value")
UNANSWERED_HEADER = (
    "cluster", "cluster_size", "question_id", "created_at", "municipality", "reason", "text",
)  # fmt: skip

Value = int | float | str


def analytics_rows(a: Analytics) -> list[tuple[str, str, str, Value]]:
    """section,item,measure,value. Sections: summary, daily (item = date), guides (item = slug),
    hours (item = "Mon 09", local time). Rates are fractions (0.75), empty when undefined."""
    rows: list[tuple[str, str, str, Value]] = [
        ("summary", "", "period_first_day", a.period.first.isoformat()),
        ("summary", "", "period_last_day", a.period.last.isoformat()),
        ("summary", "", "municipality", a.municipality if a.municipality is not None else "all"),
        ("summary", "", "conversations", a.conversations),
        ("summary", "", "contained", a.contained),
        ("summary", "", "containment", "" if a.containment is None else round(a.containment, 4)),
        ("summary", "", "handoffs", a.handoffs),
        ("summary", "", "callbacks", a.callbacks),
        ("summary", "", "questions", a.questions),
        ("summary", "", "answered", a.answered),
        ("summary", "", "clarified", a.clarified),
        ("summary", "", "fallbacks", a.fallbacks),
        ("summary", "", "feedback_yes", a.feedback_yes),
        ("summary", "", "feedback_no", a.feedback_no),
        ("summary", "", "citizen_messages", a.citizen_messages),
    ]
    for d in a.daily:
        day = d.day.isoformat()
        rows += [
            ("daily", day, "conversations", d.conversations),
            ("daily", day, "contained", d.contained),
            ("daily", day, "handoffs", d.handoffs),
            ("daily", day, "callbacks", d.callbacks),
        ]
    for g in a.guides:
        rows += [
            ("guides", g.slug, "title", g.title),
            ("guides", g.slug, "answered", g.answered),
            ("guides", g.slug, "feedback_yes", g.feedback_yes),
            ("guides", g.slug, "feedback_no", g.feedback_no),
        ]
    for weekday, row in enumerate(a.hours):
        for hour, n in enumerate(row):
            rows.append(("hours", f"{WEEKDAYS[weekday]} {hour:02d}", "citizen_messages", n))
    return rows


def unanswered_rows(report: UnansweredReport) -> list[tuple[Value, ...]]:
    """One row per unanswered question, largest cluster first; created_at in local time."""
    return [
        (
            c.number,
            c.size,
            q.id,
            local(q.created_at).isoformat(timespec="seconds"),
            q.municipality,
            q.reason,
            q.text,
        )
        for c in report.clusters
        for q in c.questions
    ]


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Value]], *, excel: bool = False) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if excel else ",", lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        if excel:
            row = [str(v).replace(".", ",") if isinstance(v, float) else v for v in row]
        writer.writerow(row)
    return ("\ufeff" if excel else "") + out.getvalue()
