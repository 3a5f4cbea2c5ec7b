"""Server-rendered charts for the console: plain SVG and HTML, no JavaScript, no CDN.

Every chart is an `<svg role="img">` with a Danish `<title>` and `<desc>` that says what it shows
in words; the page puts a data table next to each chart for screen readers and exact figures.
Colours pass WCAG's 3:1 contrast for graphics on white; no chart relies on colour alone (values
are written out, and the legend names each series).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date

from markupsafe import Markup, escape

from bot.hours import MONTHS_DA, WEEKDAY_NAMES_DA
from bot.insight.analytics import DayStats, GuideStats

CONTAINED = "#0b4f8a"  # brand blue, 8.6:1 on white
ESCALATED = "#b45309"  # amber, 5.0:1
YES = "#166534"  # green, 7.1:1
NO = "#a4161a"  # red, 7.3:1
GRID = "#c9d1d9"
INK = "#1b1f24"
MUTED = "#4a5560"
HEAT_LEVELS = 6  # CSS classes heat-0 (no messages) .. heat-5 (busiest)
_ids = itertools.count(1)  # element ids must be unique on a page with several charts


def short_date_da(day: date) -> str:
    """'23. mar' – for axis labels."""
    return f"{day.day}. {MONTHS_DA[day.month - 1][:3]}"


def date_da(day: date) -> str:
    """'23. marts 2026'."""
    return f"{day.day}. {MONTHS_DA[day.month - 1]} {day.year}"


def percent_da(share: float | None, digits: int = 0) -> str:
    """'75 %' (Danish: decimal comma, a space before %); '–' when undefined."""
    if share is None:
        return "–"
    return f"{share * 100:.{digits}f} %".replace(".", ",")


def _nice_max(value: int) -> int:
    """A round axis maximum ≥ value: 1, 2, 5, 10, 20, 50, …"""
    if value <= 0:
        return 1
    step = 1
    while True:
        for m in (1, 2, 5):
            if step * m >= value:
                return step * m
        step *= 10


def _svg(width: int, height: int, title: str, desc: str, body: list[str], css: str) -> Markup:
    ident = f"chart-{css}-{next(_ids)}"
    head = (
        f'<svg class="chart {css}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{ident}-t {ident}-d" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="system-ui, sans-serif" font-size="12">'
        f'<title id="{ident}-t">{escape(title)}</title><desc id="{ident}-d">{escape(desc)}</desc>'
    )
    return Markup(head + "".join(body) + "</svg>")


def daily_chart(days: Sequence[DayStats]) -> Markup:
    """Stacked bars per day: conversations the bot handled alone, and those that went on."""
    width, height = 760, 240
    left, right, top, bottom = 40, 10, 30, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = _nice_max(max((d.conversations for d in days), default=0))
    n = max(len(days), 1)
    slot = plot_w / n
    bar = max(min(slot * 0.7, 40), 1)
    body: list[str] = []
    for i in range(5):  # gridlines and y labels
        value = peak * i / 4
        y = top + plot_h - plot_h * i / 4
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        label = f"{value:.0f}" if value == int(value) else f"{value:.1f}".replace(".", ",")
        body.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED}">{label}</text>'
        )
    every = -(-n // 10)  # at most 10 date labels
    for i, d in enumerate(days):
        x = left + slot * i + (slot - bar) / 2
        h_contained = plot_h * d.contained / peak
        h_escalated = plot_h * d.escalated / peak
        base = top + plot_h
        tip = f"{date_da(d.day)}: {d.conversations} samtaler, {d.escalated} til en medarbejder"
        body.append(f"<g><title>{escape(tip)}</title>")
        if d.contained:
            body.append(
                f'<rect x="{x:.1f}" y="{base - h_contained:.1f}" width="{bar:.1f}" '
                f'height="{h_contained:.1f}" fill="{CONTAINED}"/>'
            )
        if d.escalated:
            body.append(
                f'<rect x="{x:.1f}" y="{base - h_contained - h_escalated:.1f}" '
                f'width="{bar:.1f}" height="{h_escalated:.1f}" fill="{ESCALATED}"/>'
            )
        body.append("</g>")
        if i % every == 0:
            body.append(
                f'<text x="{x + bar / 2:.1f}" y="{height - bottom + 16}" '
                f'text-anchor="middle" fill="{INK}">{short_date_da(d.day)}</text>'
            )
    body.append(
        f'<rect x="{left}" y="6" width="12" height="12" fill="{CONTAINED}"/>'
        f'<text x="{left + 16}" y="16" fill="{INK}">Klaret af botten</text>'
        f'<rect x="{left + 140}" y="6" width="12" height="12" fill="{ESCALATED}"/>'
        f'<text x="{left + 156}" y="16" fill="{INK}">Gik videre til en medarbejder '
        f"(chat eller opringning)</text>"
    )
    total = sum(d.conversations for d in days)
    escalated = sum(d.escalated for d in days)
    desc = (
        f"Søjlediagram over {len(days)} dage: {total} samtaler i alt, heraf {escalated} "
        "gik videre til en medarbejder. Tallene står i tabellen under diagrammet."
    )
    return _svg(width, height, "Samtaler pr. dag", desc, body, "daily")


def share_bar(part: int, whole: int, label: str) -> Markup:
    """One 100 % bar: `part` of `whole` in blue, the rest in amber."""
    width, height = 400, 28
    share = part / whole if whole else 0.0
    filled = width * share
    body = [
        f'<rect x="0" y="4" width="{width}" height="20" fill="{ESCALATED}"/>'
        if whole
        else f'<rect x="0" y="4" width="{width}" height="20" fill="{GRID}"/>'
    ]
    if part:
        body.append(f'<rect x="0" y="4" width="{filled:.1f}" height="20" fill="{CONTAINED}"/>')
    desc = f"{part} af {whole} ({percent_da(share if whole else None)})"
    return _svg(width, height, label, desc, body, "share")


def guide_bars(guides: Sequence[GuideStats]) -> Markup:
    """Horizontal bars: how many questions the bot answered with each guide."""
    width, row = 760, 38
    height = max(row * len(guides), row)
    peak = max((g.answered for g in guides), default=0) or 1
    bar_w = width - 60
    body: list[str] = []
    for i, g in enumerate(guides):
        y = i * row
        w = max(bar_w * g.answered / peak, 2)
        body.append(
            f'<text x="0" y="{y + 12}" fill="{INK}">{escape(g.title)}</text>'
            f'<rect x="0" y="{y + 17}" width="{w:.1f}" height="14" fill="{CONTAINED}"/>'
            f'<text x="{w + 6:.1f}" y="{y + 29}" fill="{INK}">{g.answered}</text>'
        )
    desc = "; ".join(f"{g.title}: {g.answered}" for g in guides) or "Ingen besvarede spørgsmål."
    return _svg(width, height, "Mest brugte vejledninger", desc, body, "guides")


def feedback_bar(g: GuideStats) -> Markup:
    """A small bar per guide: "ja" (green) against "nej" (red)."""
    width, height = 160, 18
    body: list[str] = []
    if g.feedback:
        yes_w = width * g.feedback_yes / g.feedback
        body.append(
            f'<rect x="0" y="2" width="{yes_w:.1f}" height="14" fill="{YES}"/>'
            f'<rect x="{yes_w:.1f}" y="2" width="{width - yes_w:.1f}" height="14" '
            f'fill="{NO}"/>'
        )
    desc = f"{g.feedback_yes} ja, {g.feedback_no} nej"
    return _svg(width, height, f"Feedback for {g.title}", desc, body, "feedback")


def heat_level(count: int, peak: int) -> int:
    """0 for no messages, else 1..HEAT_LEVELS-1 by share of the busiest hour."""
    if count <= 0 or peak <= 0:
        return 0
    return max(1, min(HEAT_LEVELS - 1, -(-count * (HEAT_LEVELS - 1) // peak)))


def weekday_name_da(weekday: int) -> str:
    return WEEKDAY_NAMES_DA[weekday].capitalize()
