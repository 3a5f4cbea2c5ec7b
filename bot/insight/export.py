"""CSV for the reports: one long table per report, in two variants.

- Plain (the CLI's `--csv`, for scripts): ',' and '.', English column names and codes, the text
  exactly as logged.
- Excel (the console download, for people): what Danish Excel opens directly (a UTF-8 byte-order
  mark, ';' between fields, a decimal comma), Danish column names and labels, and every text cell
  that a spreadsheet would run as a formula (starting with = + - @, tab or carriage return)
  prefixed with an apostrophe: the questions are citizens' free text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from bot.hours import WEEKDAY_NAMES_DA
from bot.insight.analytics import WEEKDAYS, Analytics
from bot.insight.period import local
from bot.insight.unanswered import REASON_LABELS_DA, UnansweredQuestion, UnansweredReport

ANALYTICS_HEADER = ("section", "item", "measure", "value")
UNANSWERED_HEADER = (
    "cluster", "cluster_size", "question_id", "created_at", "municipality", "reason", "text",
)  # fmt: skip
ANALYTICS_HEADER_DA = ("Afsnit", "Emne", "Mål", "Værdi")
UNANSWERED_HEADER_DA = (
    "Gruppe", "Spørgsmål i gruppen", "Spørgsmål-id", "Tidspunkt", "Kommune", "Hvad skete der",
    "Spørgsmål",
)  # fmt: skip
SECTIONS_DA = {
    "summary": "Overblik", "daily": "Pr. dag", "guides": "Vejledninger", "hours": "Pr. time",
}  # fmt: skip
MEASURES_DA = {
    "period_first_day": "Første dag",
    "period_last_day": "Sidste dag",
    "municipality": "Kommune",
    "conversations": "Samtaler",
    "contained": "Klaret af botten",
    "containment": "Andel klaret af botten",
    "handoffs": "Givet videre til medarbejder",
    "callbacks": "Opringninger bestilt",
    "questions": "Spørgsmål",
    "answered": "Besvaret",
    "clarified": "«Mente du …?»",
    "fallbacks": "Ikke forstået",
    "small_talk": "Småsnak",
    "feedback_yes": "Fik svar (ja)",
    "feedback_no": "Fik ikke svar (nej)",
    "citizen_messages": "Beskeder fra borgere",
    "title": "Titel",
}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

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
        ("summary", "", "small_talk", a.small_talk),
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
    """One row per unanswered question, largest cluster first, then those left out of the
    clustering (cluster and cluster_size empty); created_at in local time."""
    grouped: list[tuple[Value, Value, UnansweredQuestion]] = [
        (c.number, c.size, q) for c in report.clusters for q in c.questions
    ]
    grouped += [("", "", q) for q in report.unclustered]
    return [
        (number, size, q.id, local(q.created_at).isoformat(timespec="seconds"), q.municipality,
         q.reason, q.text)
        for number, size, q in grouped
    ]  # fmt: skip


def spreadsheet_safe(value: Value) -> Value:
    """A text cell that Excel or LibreOffice would evaluate as a formula, as literal text."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Value]], *, excel: bool = False) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if excel else ",", lineterminator="\r\n")
    writer.writerow([spreadsheet_safe(h) for h in header] if excel else header)
    for row in rows:
        if excel:
            # numbers are numbers (a negative one stays negative); only text can be a formula
            row = [str(v).replace(".", ",") if isinstance(v, float) else spreadsheet_safe(v)
                   for v in row]  # fmt: skip
        writer.writerow(row)
    return ("\ufeff" if excel else "") + out.getvalue()


def _hour_da(item: str) -> str:
    """The hours table's "Mon 09" as "mandag 09"."""
    day, _, hour = item.partition(" ")
    return f"{WEEKDAY_NAMES_DA[WEEKDAYS.index(day)]} {hour}" if day in WEEKDAYS else item


def analytics_csv(a: Analytics, *, excel: bool = False) -> str:
    """The analytics report as CSV; `excel`: the console's Danish download."""
    rows = analytics_rows(a)
    if not excel:
        return to_csv(ANALYTICS_HEADER, rows)
    danish: list[tuple[str, str, str, Value]] = []
    for section, item, measure, value in rows:
        if section == "hours":
            item = _hour_da(item)
        if measure == "municipality" and value == "all":
            value = "alle"
        danish.append((SECTIONS_DA[section], item, MEASURES_DA[measure], value))
    return to_csv(ANALYTICS_HEADER_DA, danish, excel=True)


def unanswered_csv(report: UnansweredReport, *, excel: bool = False) -> str:
    """The unanswered questions as CSV; `excel`: the console's Danish download."""
    rows = unanswered_rows(report)
    if not excel:
        return to_csv(UNANSWERED_HEADER, rows)
    reason = UNANSWERED_HEADER.index("reason")
    danish = [
        (*row[:reason], REASON_LABELS_DA.get(str(row[reason]), row[reason]), *row[reason + 1 :])
        for row in rows
    ]
    return to_csv(UNANSWERED_HEADER_DA, danish, excel=True)
