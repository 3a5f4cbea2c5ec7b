"""The agent console: the queue of hand-offs, live chat with the citizen, and the callback list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue

from bot import conversations
from bot.callbacks import (
    OPEN_CALLBACK_STATUSES,
    OUTCOME_LABELS_DA,
    OUTCOMES,
    STATUS_LABELS_DA,
    CallbackConfig,
    record_outcome,
    work_list,
)
from bot.departments import department_name
from bot.hours import TZ
from bot.settings import CONSOLE_POLL_S
from bot.store.models import utcnow
from bot.store.users import mark_seen, seen_is_stale
from bot.web.auth import roles_required
from bot.web.extensions import get_knowledge, get_store

bp = Blueprint("agent", __name__, url_prefix="/konsol")

MAX_REPLY_CHARS = 2000
REASON_LABELS_DA = {
    "requested": "Bad om en medarbejder",
    "not_helpful": "Svaret hjalp ikke",
    "none_of_them": "Ingen af forslagene passede",
    "repeated_fallback": "Botten forstod ikke",
    "complaint": "Klage",
}
SENDER_LABELS_DA = {"citizen": "Borger", "bot": "Bot", "agent": "Medarbejder", "system": "System"}


def waited_da(since: datetime, now: datetime | None = None) -> str:
    """'3 min', '1 t 05 min': how long a citizen has waited."""
    minutes = max(0, int(((now or utcnow()) - since).total_seconds() // 60))
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} t {minutes % 60:02d} min"


def local_time(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(TZ).strftime("%d.%m.%Y %H.%M")


def clock(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(TZ).strftime("%H.%M")


def _wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


def _present() -> None:
    """The queue and conversation pages and their polls say this agent is at the console: live
    hand-offs are offered to citizens only then (bot.handoff.agents_present). Written at most
    every few seconds, not on every poll."""
    if seen_is_stale(g.user):
        with get_store().transaction() as db:
            mark_seen(db, g.user.id)


def _after() -> int:
    after = request.args.get("after", "0")
    return int(after) if after.isdigit() else 0


def _item_json(item: conversations.QueueItem) -> dict[str, Any]:
    waiting = item.status == "waiting"
    return {
        "handoff_id": item.handoff_id,
        "url": url_for("agent.conversation", handoff_id=item.handoff_id),
        "claim_url": url_for("agent.claim", handoff_id=item.handoff_id),
        # A claimed chat shows who holds it and since when, not a growing waiting time.
        "waited": waited_da(item.created_at) if waiting else None,
        "held": None if waiting else f"Hos {item.claimed_by} siden {clock(item.claimed_at)}",
        "municipality": item.municipality,
        "department": department_name(item.department),
        "reason": REASON_LABELS_DA.get(item.reason, item.reason),
        "summary": item.summary,
        "guesses": item.guesses,
        "status": item.status,
        "claimed_by": item.claimed_by,
    }


@bp.get("/samtaler")
@roles_required("agent")
def queue() -> ResponseReturnValue:
    _present()
    items = conversations.queue(get_store())
    return render_template(
        "agent/queue.html",
        items=[_item_json(i) for i in items],
        reasons=REASON_LABELS_DA,
        poll_ms=CONSOLE_POLL_S * 1000,  # BORGERBOT_AGENT_PRESENCE_S is checked against it
    )


@bp.get("/samtaler/koe.json")
@roles_required("agent")
def queue_json() -> ResponseReturnValue:
    _present()
    return jsonify([_item_json(i) for i in conversations.queue(get_store())])


@bp.post("/samtaler/<int:handoff_id>/tag")
@roles_required("agent")
def claim(handoff_id: int) -> ResponseReturnValue:
    try:
        conversations.claim(get_store(), handoff_id, g.user)
    except conversations.NotAllowed as err:
        if _wants_json():
            return jsonify({"error": str(err)}), 409
        flash(str(err))
        return redirect(url_for("agent.queue"))
    if _wants_json():
        return jsonify({"url": url_for("agent.conversation", handoff_id=handoff_id)})
    return redirect(url_for("agent.conversation", handoff_id=handoff_id))


@bp.get("/samtaler/<int:handoff_id>")
@roles_required("agent")
def conversation(handoff_id: int) -> ResponseReturnValue:
    _present()
    try:
        handoff, view = conversations.handoff_detail(get_store(), handoff_id)
    except conversations.NotAllowed:
        abort(404)
    claimed = handoff.status == "claimed"
    mine = claimed and handoff.claimed_by == g.user.username
    return render_template(
        "agent/conversation.html",
        handoff=handoff,
        view=view,
        mine=mine,
        # A supervisor may step in, as themselves (the citizen is told), never write as another.
        can_take_over=claimed and not mine and g.user.role == "admin",
        reason=REASON_LABELS_DA.get(handoff.reason, handoff.reason),
        department=department_name(handoff.department),
        waited=waited_da(handoff.created_at),
        senders=SENDER_LABELS_DA,
        local_time=local_time,
    )


@bp.get("/samtaler/<int:handoff_id>/beskeder")
@roles_required("agent")
def messages(handoff_id: int) -> ResponseReturnValue:
    _present()
    try:
        handoff, view = conversations.handoff_detail(get_store(), handoff_id, after=_after())
    except conversations.NotAllowed:
        abort(404)
    return jsonify(
        {
            "status": handoff.status,
            "state": view.state,
            "messages": [m.to_json() for m in view.messages],
        }
    )


@bp.post("/samtaler/<int:handoff_id>/svar")
@roles_required("agent")
def reply(handoff_id: int) -> ResponseReturnValue:
    """The reply, and every message after the console's `after` (a citizen message that came
    in since its last poll must not be skipped when the console moves past the reply)."""
    body = request.get_json(silent=True) if request.is_json else request.form
    body = body or {}
    text = str(body.get("text", "")).strip()
    if not text:
        return jsonify({"error": "Skriv et svar, før du sender."}), 400
    if len(text) > MAX_REPLY_CHARS:
        return jsonify({"error": f"Svaret er for langt (højst {MAX_REPLY_CHARS} tegn)."}), 400
    after = body.get("after")
    after = int(after) if isinstance(after, int | str) and str(after).isdigit() else None
    try:
        message, view = conversations.agent_reply(get_store(), handoff_id, g.user, text, after)
    except conversations.NotAllowed as err:
        return jsonify({"error": str(err)}), 409
    return jsonify({"message": message.to_json(), "messages": [m.to_json() for m in view.messages]})


@bp.post("/samtaler/<int:handoff_id>/overtag")
@roles_required("admin")
def take_over(handoff_id: int) -> ResponseReturnValue:
    try:
        conversations.take_over(get_store(), handoff_id, g.user)
    except conversations.NotAllowed as err:
        flash(str(err))
    return redirect(url_for("agent.conversation", handoff_id=handoff_id))


@bp.post("/samtaler/<int:handoff_id>/tilbage")
@roles_required("agent")
def hand_back(handoff_id: int) -> ResponseReturnValue:
    try:
        conversations.hand_back(get_store(), handoff_id, g.user)
    except conversations.NotAllowed as err:
        flash(str(err))
        return redirect(url_for("agent.conversation", handoff_id=handoff_id))
    flash("Samtalen er givet tilbage til den digitale assistent.")
    return redirect(url_for("agent.queue"))


@bp.post("/samtaler/<int:handoff_id>/afslut")
@roles_required("agent")
def close(handoff_id: int) -> ResponseReturnValue:
    try:
        conversations.close(get_store(), handoff_id, g.user, request.form.get("reason", ""))
    except conversations.NotAllowed as err:
        flash(str(err))
        return redirect(url_for("agent.conversation", handoff_id=handoff_id))
    flash("Samtalen er afsluttet.")
    return redirect(url_for("agent.queue"))


@bp.get("/samtaler/svarforslag")
@roles_required("agent")
def suggestions() -> ResponseReturnValue:
    """Canned replies: search the guides as the bot does and offer their short answers."""
    question = " ".join(request.args.get("q", "").split())[:300]
    municipality = request.args.get("municipality") or None
    if not question:
        return jsonify([])
    result = get_knowledge().search(question, municipality)
    return jsonify(
        [
            {
                "slug": h.slug,
                "title": h.title,
                "text": f"{h.summary}\n\nLæs mere og gør det selv her: {h.url}",
                "score": round(h.score, 2),
            }
            for h in result.results[:4]
        ]
    )


# --- callbacks ------------------------------------------------------------------------------


@bp.get("/opkald")
@roles_required("agent")
def callbacks() -> ResponseReturnValue:
    config = CallbackConfig.load()
    department = request.args.get("afdeling") or None
    show = request.args.get("vis", "aabne")
    statuses = OPEN_CALLBACK_STATUSES if show == "aabne" else tuple(STATUS_LABELS_DA)
    with get_store().read() as db:
        rows = work_list(db, department, statuses)
    departments = sorted(config.departments)
    return render_template(
        "agent/callbacks.html",
        rows=rows,
        department=department,
        departments=departments,
        department_name=department_name,
        show=show,
        status_labels=STATUS_LABELS_DA,
        outcome_labels=OUTCOME_LABELS_DA,
        outcomes=OUTCOMES,
        local_time=local_time,
        now=utcnow(),
    )


@bp.post("/opkald/<int:callback_id>")
@roles_required("agent")
def callback_outcome(callback_id: int) -> ResponseReturnValue:
    outcome = request.form.get("outcome", "")
    notes = request.form.get("notes", "")[:2000]
    new_start = None
    if outcome not in OUTCOMES:
        flash("Vælg et resultat for opkaldet.")
        return redirect(url_for("agent.callbacks"))
    if outcome == "rescheduled":
        try:
            new_start = datetime.fromisoformat(request.form.get("new_time", "")).replace(tzinfo=TZ)
        except ValueError:
            flash("Skriv det nye tidspunkt for opkaldet (dato og klokkeslæt).")
            return redirect(url_for("agent.callbacks"))
    with get_store().transaction() as db:
        try:
            record_outcome(db, callback_id, outcome, notes, g.user.username, new_start)
        except LookupError:
            abort(404)
    flash(f"Opkaldet er registreret: {OUTCOME_LABELS_DA[outcome]}.")
    return redirect(url_for("agent.callbacks"))
