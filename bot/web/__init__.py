"""The Flask web front: citizen widget and API, agent/editor/admin consoles, one blueprint each.

Shared by the blueprints: `auth.roles_required`, CSRF (`csrf.py`), `extensions.get_store` and
`extensions.get_knowledge`, and the console layout `templates/console/base.html`.
"""

from __future__ import annotations

import logging
import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException

from bot.settings import Settings

log = logging.getLogger(__name__)

ERROR_TEXTS = {
    400: ("Ugyldig forespørgsel", "Forespørgslen kunne ikke behandles."),
    401: ("Log ind", "Du skal logge ind for at se siden."),
    403: ("Ingen adgang", "Din rolle giver ikke adgang til denne side."),
    404: ("Siden findes ikke", "Siden eller sagen findes ikke (længere)."),
    409: ("Allerede taget", "En anden har allerede gjort det."),
    429: ("For mange forespørgsler", "Vent et øjeblik, og prøv igen."),
}


def secret_key(settings: Settings) -> str:
    """BORGERBOT_SECRET_KEY, or a random key kept in the data folder: every worker process and
    every restart must sign sessions with the same key, or agents would be logged out."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.data_dir) / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker won the race
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key


def create_app(config: dict[str, Any] | None = None) -> Flask:
    settings = Settings.from_env()
    app = Flask(__name__)
    app.config.update(
        SETTINGS=settings,
        DATABASE_URL=settings.database_url,
        RASA_URL=settings.rasa_url,
        RASA_TIMEOUT=30.0,
        MAX_MESSAGE_CHARS=1000,
        MAX_CONTENT_LENGTH=64 * 1024,  # citizen messages and guides are far smaller
        CITIZEN_RATE_LIMIT=(30, 60.0),  # messages per client per window (seconds)
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=10),  # one working day
    )
    if config:
        app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_key(app.config["SETTINGS"])
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Danish letters as they are

    from bot.web import admin, agent, auth, chat, csrf, health, widget

    csrf.init_app(app)
    auth.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(chat.bp)
    app.register_blueprint(widget.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(agent.bp)
    app.register_blueprint(admin.bp)
    # Issue #6 blueprints (editor, insight) register below.
    from bot.web import editor

    app.register_blueprint(editor.bp)
    from bot.web import insight

    app.register_blueprint(insight.bp)

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> Any:
        code = err.code or 500
        if request.path.startswith("/api/") or request.is_json:
            heading, message = ERROR_TEXTS.get(code, ("Fejl", "Der opstod en fejl."))
            return {"error": err.description if code == 400 else message}, code
        heading, message = ERROR_TEXTS.get(code, ("Fejl", "Der opstod en fejl."))
        if code == 400 and err.description and not err.description.startswith("The browser"):
            message = err.description
        return render_template("console/error.html", heading=heading, message=message), code

    from bot.web.__main__ import register_cli

    register_cli(app)
    return app
