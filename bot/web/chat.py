"""The citizen chat API and a minimal chat page."""

from __future__ import annotations

import logging
import re
import uuid

from flask import Blueprint, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from bot.web.rasa_client import RasaUnavailable, send_to_rasa

log = logging.getLogger(__name__)
bp = Blueprint("chat", __name__)

CONVERSATION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MUNICIPALITY = re.compile(r"^[A-Za-z0-9*_-]{1,32}$")


def _error(message_da: str, status: int) -> ResponseReturnValue:
    return jsonify({"error": message_da}), status


@bp.get("/")
def chat_page() -> str:
    return render_template("chat.html")


@bp.post("/api/chat")
def chat_message() -> ResponseReturnValue:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _error("Beskeden kunne ikke læses. Prøv at sende den igen.", 400)
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        return _error("Skriv en besked, før du sender.", 400)
    if len(text) > current_app.config["MAX_MESSAGE_CHARS"]:
        limit = current_app.config["MAX_MESSAGE_CHARS"]
        return _error(f"Beskeden er for lang. Skriv højst {limit} tegn.", 400)
    conversation_id = body.get("conversation_id") or uuid.uuid4().hex
    if not isinstance(conversation_id, str) or not CONVERSATION_ID.match(conversation_id):
        return _error("Samtalen kunne ikke findes. Genindlæs siden og prøv igen.", 400)
    municipality = body.get("municipality") or current_app.config["SETTINGS"].default_municipality
    if not isinstance(municipality, str) or not MUNICIPALITY.match(municipality):
        return _error("Ukendt kommune.", 400)

    try:
        messages = send_to_rasa(
            current_app.config["RASA_URL"],
            conversation_id,
            text.strip(),
            {"municipality": municipality},
            current_app.config["RASA_TIMEOUT"],
        )
    except RasaUnavailable:
        log.exception("conversation %s: Rasa unavailable", conversation_id)
        return _error("Assistenten svarer ikke lige nu. Prøv igen om lidt.", 503)
    return jsonify(
        {"conversation_id": conversation_id, "messages": [m.to_json() for m in messages]}
    )
