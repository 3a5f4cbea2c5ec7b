"""Insight pages: unanswered questions in clusters (editors) and analytics (editors, admins).

The figures and their definitions are `bot.insight`; this module reads the filter (period,
municipality and, for the unanswered questions, whether to include small talk) from the query
string, renders the pages and serves the same reports as CSV.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue

from bot.hours import TZ
from bot.insight import charts, clusters
from bot.insight.analytics import WEEKDAYS, Analytics, analytics, municipalities
from bot.insight.export import analytics_csv as analytics_csv_text
from bot.insight.export import unanswered_csv as unanswered_csv_text
from bot.insight.period import DEFAULT_DAYS, Period, guide_titles, local, parse_day
from bot.insight.unanswered import (
    REASON_LABELS_DA,
    QuestionCluster,
    UnansweredReport,
    clustered_report,
    group_by_wording,
    unanswered_questions,
)
from bot.web.auth import roles_required
from bot.web.extensions import get_knowledge, get_store
from knowledge.guides import CODE, NATIONAL

log = logging.getLogger(__name__)
bp = Blueprint("insight", __name__, url_prefix="/konsol")

ALL = ""  # the municipality filter's "all municipalities"
SMALL_TALK_ARG = "smaasnak"  # ?smaasnak=1: the unanswered questions include small talk


@dataclass(frozen=True)
class Filter:
    period: Period
    municipality: str | None  # None: all
    small_talk: bool = False  # the unanswered questions include small talk

    def args(self, *, small_talk: bool | None = None) -> dict[str, Any]:
        """The query string's arguments; `small_talk` overrides the filter's own choice."""
        args = {
            "fra": self.period.first.isoformat(),
            "til": self.period.last.isoformat(),
            "kommune": self.municipality or ALL,
        }
        if self.small_talk if small_talk is None else small_talk:
            args[SMALL_TALK_ARG] = "1"
        return args

    @property
    def slug(self) -> str:
        """For file names: 2026-03-01_2026-03-31_0101."""
        where = {None: "alle", NATIONAL: "uden-kode"}.get(self.municipality, self.municipality)
        return f"{self.period.first}_{self.period.last}_{where}"


def today() -> date:
    return datetime.now(TZ).date()


def read_filter(args: Mapping[str, str]) -> Filter:
    """?fra=YYYY-MM-DD&til=YYYY-MM-DD&kommune=CODE; defaults: the last 30 days, all. Bad input
    is a 400 with a Danish message."""
    try:
        last = parse_day(args["til"]) if args.get("til") else today()
        first = (
            parse_day(args["fra"]) if args.get("fra") else last - timedelta(days=DEFAULT_DAYS - 1)
        )
        period = Period(first, last)
    except ValueError as err:
        message = str(err)
        if "before it starts" in message:
            abort(400, description="Perioden slutter, før den begynder. Ret datoerne.")
        if "at most" in message:
            abort(400, description="Perioden må højst være tre år. Vælg en kortere periode.")
        abort(400, description="Skriv datoerne som ÅÅÅÅ-MM-DD, fx 2026-03-01.")
    code = (args.get("kommune") or ALL).strip()
    if code and code != NATIONAL and not CODE.match(code):
        abort(400, description="Ukendt kommunekode.")
    return Filter(period, code or None, args.get(SMALL_TALK_ARG) == "1")


def municipality_label(code: str | None) -> str:
    if code is None:
        return "alle kommuner"
    return "uden kommunekode" if code == "*" else f"kommune {code}"


def new_guide_url(cluster: QuestionCluster, municipality: str | None) -> str:
    """The guide editor's new-guide page, pre-filled from the cluster: a title, the citizens'
    wordings, their words as keywords, and the report's municipality (if it has one)."""
    args: dict[str, Any] = {
        "title": cluster.suggested_title,
        "question": cluster.examples,
        "keywords": ", ".join(cluster.suggested_keywords),
    }
    if municipality is not None:
        args["kommune"] = municipality
    return url_for("editor.new", **args)


def csv_response(text: str, name: str) -> Response:
    return Response(
        text,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{name}.csv"',
            "Cache-Control": "no-store",
        },
    )


def _report(f: Filter) -> tuple[UnansweredReport, bool]:
    """The report, and whether the questions were grouped by meaning (False: the model could not
    be loaded, so only identical wordings are grouped)."""
    selection = unanswered_questions(get_store(), f.period, f.municipality, small_talk=f.small_talk)
    if not selection.questions:
        return selection.report([]), True
    try:
        return clustered_report(selection, get_knowledge().embedder), True
    except Exception:
        log.exception("could not cluster unanswered questions; grouping identical wordings only")
        return selection.report(group_by_wording(selection.questions)), False


def _page_context(f: Filter) -> dict[str, object]:
    return {
        "filter": f,
        "where": municipality_label(f.municipality),
        "municipalities": municipalities(get_store()),
        "charts": charts,
        "local": local,
        "presets": [
            (
                label,
                {
                    **f.args(),
                    "fra": (today() - timedelta(days=n - 1)).isoformat(),
                    "til": today().isoformat(),
                },
            )
            for label, n in (
                ("Seneste 7 dage", 7),
                ("Seneste 30 dage", 30),
                ("Seneste 90 dage", 90),
                ("Seneste år", 365),
            )
        ],
    }


@bp.get("/ubesvarede")
@roles_required("editor")
def unanswered() -> ResponseReturnValue:
    f = read_filter(request.args)
    report, by_meaning = _report(f)
    return render_template(
        "insight/unanswered.html",
        report=report,
        by_meaning=by_meaning,
        reason_labels=REASON_LABELS_DA,
        max_wordings=clusters.MAX_WORDINGS,
        new_guide_url=new_guide_url,
        csv_url=url_for("insight.unanswered_csv", **f.args()),
        with_small_talk_url=url_for("insight.unanswered", **f.args(small_talk=True)),
        without_small_talk_url=url_for("insight.unanswered", **f.args(small_talk=False)),
        **_page_context(f),
        small_talk_filter=True,
    )


@bp.get("/ubesvarede.csv")
@roles_required("editor")
def unanswered_csv() -> ResponseReturnValue:
    f = read_filter(request.args)
    report, _ = _report(f)
    text = unanswered_csv_text(report, excel=True)
    return csv_response(text, f"ubesvarede_{f.slug}{'_med-smaasnak' if f.small_talk else ''}")


def _analytics(f: Filter) -> Analytics:
    titles = guide_titles(current_app.config["SETTINGS"].knowledge.guides_dir)
    return analytics(get_store(), f.period, f.municipality, titles)


@bp.get("/statistik", endpoint="analytics")
@roles_required("editor", "admin")
def analytics_page() -> ResponseReturnValue:
    f = read_filter(request.args)
    a = _analytics(f)
    return render_template(
        "insight/analytics.html",
        a=a,
        weekdays=WEEKDAYS,
        csv_url=url_for("insight.analytics_csv", **f.args(small_talk=False)),
        unanswered_url=url_for("insight.unanswered", **f.args(small_talk=False)),
        small_talk_url=url_for("insight.unanswered", **f.args(small_talk=True)),
        **_page_context(f),
    )


@bp.get("/statistik.csv")
@roles_required("editor", "admin")
def analytics_csv() -> ResponseReturnValue:
    f = read_filter(request.args)
    text = analytics_csv_text(_analytics(f), excel=True)
    return csv_response(text, f"statistik_{f.slug}")
