"""The citizen chat API the widget talks to: send a message, read new ones, widget settings.

No login on this side: a conversation id (random, 32 characters, kept in the citizen's browser)
names the conversation. Input is validated with clear Danish messages, and each client is
rate-limited (messages and polls on separate budgets; the client address is
`request.remote_addr`, which ProxyFix sets from X-Forwarded-For behind trusted proxies).
CORS is open because the widget runs on the municipality's own site.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from bot.conversations import OutMessage, citizen_message, messages_after
from bot.handoff import agents_present, on_duty
from bot.hours import TZ
from bot.web.csrf import csrf_exempt
from bot.web.extensions import get_limiter, get_schedules, get_store
from bot.web.rasa_client import RasaUnavailable, send_to_rasa

log = logging.getLogger(__name__)
bp = Blueprint("chat", __name__, url_prefix="/api")

# A conversation id and a message's client id: random, chosen by the widget.
RANDOM_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MUNICIPALITY = re.compile(r"^[A-Za-z0-9*_-]{1,32}$")
MAX_PAYLOAD_CHARS = 500
# Tests only: fix the clock the dialogue sees (the action server honours it only when
# BORGERBOT_ALLOW_CLOCK_OVERRIDE=1 as well).
CLOCK_ENV = "BORGERBOT_TEST_CLOCK"


class BadInput(ValueError):
    """args[0] is the Danish message for the citizen."""


def _error(message_da: str, status: int) -> ResponseReturnValue:
    return jsonify({"error": message_da}), status


def _client() -> str:
    # Behind trusted proxies ProxyFix (bot.web.create_app) has put the real client address here;
    # the raw X-Forwarded-For is never read, its leftmost entries are the client's to choose.
    return request.remote_addr or "unknown"


def _polls_allowed() -> bool:
    return get_limiter("CITIZEN_POLL_RATE_LIMIT").allow(_client())


SLOW_DOWN = "Du har sendt mange beskeder på kort tid. Vent et øjeblik, og prøv igen."
POLL_SLOW_DOWN = "For mange forespørgsler på kort tid. Vent et øjeblik, og prøv igen."


def test_clock() -> datetime | None:
    value = os.environ.get(CLOCK_ENV)
    if value and os.environ.get("BORGERBOT_ALLOW_CLOCK_OVERRIDE") == "1":
        return datetime.fromisoformat(value)
    return None


def _municipality(value: Any) -> str:
    municipality = value or current_app.config["SETTINGS"].default_municipality
    if not isinstance(municipality, str) or not MUNICIPALITY.match(municipality):
        raise BadInput("Ukendt kommune.")
    return municipality


def _conversation_id(value: Any) -> str:
    if not isinstance(value, str) or not RANDOM_ID.match(value):
        raise BadInput("Samtalen kunne ikke findes. Genindlæs siden og prøv igen.")
    return value


def _rasa(conversation_id: str, text: str, metadata: dict[str, Any]) -> list[OutMessage]:
    clock = test_clock()
    if clock is not None:
        metadata = {**metadata, "now": clock.isoformat()}
    replies = send_to_rasa(
        current_app.config["RASA_URL"],
        conversation_id,
        text,
        metadata,
        current_app.config["RASA_TIMEOUT"],
    )
    return [OutMessage(r.text, r.buttons) for r in replies]


@bp.after_request
def cors(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/chat", methods=["OPTIONS"])
@bp.route("/chat/<conversation_id>/messages", methods=["OPTIONS"])
@csrf_exempt
def preflight(conversation_id: str | None = None) -> ResponseReturnValue:
    return "", 204


@bp.post("/chat")
@csrf_exempt
def chat_message() -> ResponseReturnValue:
    if not get_limiter("CITIZEN_RATE_LIMIT").allow(_client()):
        return _error(SLOW_DOWN, 429)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _error("Beskeden kunne ikke læses. Prøv at sende den igen.", 400)
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        return _error("Skriv en besked, før du sender.", 400)
    limit = current_app.config["MAX_MESSAGE_CHARS"]
    if len(text) > limit:
        return _error(f"Beskeden er for lang. Skriv højst {limit} tegn.", 400)
    payload = body.get("payload")
    if payload is not None and (not isinstance(payload, str) or len(payload) > MAX_PAYLOAD_CHARS):
        return _error("Knappen kunne ikke bruges. Skriv dit svar i stedet.", 400)
    after = body.get("after")
    client_id = body.get("client_id")
    if after is not None and (type(after) is not int or after < 0):
        return _error("Beskeden kunne ikke læses. Genindlæs siden og prøv igen.", 400)
    if client_id is not None and (not isinstance(client_id, str) or not RANDOM_ID.match(client_id)):
        return _error("Beskeden kunne ikke læses. Genindlæs siden og prøv igen.", 400)
    try:
        conversation_id = _conversation_id(body.get("conversation_id") or secrets.token_hex(16))
        municipality = _municipality(body.get("municipality"))
    except BadInput as err:
        return _error(str(err), 400)

    try:
        view = citizen_message(
            get_store(), _rasa, conversation_id, municipality, text.strip(), payload,
            after=after, client_id=client_id,
        )  # fmt: skip
    except RasaUnavailable:
        # The citizen's message is stored; only the reply failed.
        log.exception("conversation %s: Rasa unavailable", conversation_id)
        return _error("Assistenten svarer ikke lige nu. Prøv igen om lidt.", 503)
    return jsonify(view.to_json())


@bp.get("/chat/<conversation_id>/messages")
@csrf_exempt
def new_messages(conversation_id: str) -> ResponseReturnValue:
    """Messages after `after` (a sequence number): the widget polls this every 0.5–3 s."""
    if not _polls_allowed():
        return _error(POLL_SLOW_DOWN, 429)
    try:
        conversation_id = _conversation_id(conversation_id)
        after = int(request.args.get("after", "0"))
    except (BadInput, ValueError):
        return _error("Samtalen kunne ikke findes. Genindlæs siden og prøv igen.", 400)
    view = messages_after(
        get_store(),
        conversation_id,
        max(after, 0),
        handoff_wait_s=current_app.config["HANDOFF_WAIT_S"],
    )
    if view is None:
        return _error("Samtalen findes ikke længere. Start en ny samtale.", 404)
    return jsonify(view.to_json())


@bp.get("/widget/config")
@csrf_exempt
def widget_config() -> ResponseReturnValue:
    """What the widget shows before the first message, and whether people are on duty now
    (opening hours and an agent at the console): otherwise the widget offers a callback instead
    of "talk to a person"."""
    if not _polls_allowed():
        return _error(POLL_SLOW_DOWN, 429)
    try:
        municipality = _municipality(request.args.get("municipality"))
    except BadInput as err:
        return _error(str(err), 400)
    now = test_clock() or datetime.now(TZ)
    with get_store().read() as db:
        present = agents_present(db, current_app.config["AGENT_PRESENCE_S"])
    staffed = on_duty(
        get_schedules(), None if municipality == "*" else municipality, now, agents_present=present
    )
    quick = [{"title": "Hvordan får jeg MitID?", "payload": None}]
    if staffed:
        quick.append({"title": "Tal med en medarbejder", "payload": None})
    else:
        quick.append({"title": "Bestil et opkald", "payload": None})
    return jsonify(
        {
            "greeting": (
                "Hej! Jeg er kommunens digitale assistent. Jeg kan hjælpe med selvbetjening "
                "som MitID, Digital Post, flytning, pas og ydelser. Hvad vil du gerne vide?"
            ),
            "staffed": staffed,
            "quick_replies": quick,
        }
    )
