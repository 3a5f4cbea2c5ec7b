"""The Flask web front: citizen widget and API, agent/editor/admin consoles, one blueprint each.

Shared by the blueprints: `auth.roles_required`, CSRF (`csrf.py`), the per-process resources in
`extensions.py` (store, opening hours, rate limiters, knowledge base), and the console layout
`templates/console/base.html`.
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
from werkzeug.middleware.proxy_fix import ProxyFix

from bot.settings import Settings

log = logging.getLogger(__name__)

ERROR_TEXTS = {
    400: ("Ugyldig forespørgsel", "Forespørgslen kunne ikke behandles."),
    401: ("Log ind", "Du skal logge ind for at se siden."),
    403: ("Ingen adgang", "Din rolle giver ikke adgang til denne side."),
    404: ("Siden findes ikke", "Siden eller sagen findes ikke (længere)."),
    409: ("Allerede taget", "En anden har allerede gjort det."),
    413: ("For meget tekst", "Teksten er for lang. Gør den kortere, og prøv igen."),
    429: ("For mange forespørgsler", "Vent et øjeblik, og prøv igen."),
}
GENERIC_ERROR = ("Fejl", "Der opstod en fejl.")


def own_description(err: HTTPException) -> str | None:
    """The message our own code passed to abort() (always Danish), or None for werkzeug's and
    Flask's English ones: the class default or e.g. "Failed to decode JSON object: …"."""
    description = err.description
    if not description or description == type(err).description:
        return None
    if description.startswith(("Failed to decode JSON", "The browser", "The server")):
        return None
    return description


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


def config_from(settings: Settings) -> dict[str, Any]:
    """The Flask config the app reads, derived from `settings`. The blueprints read these keys,
    never the same values from SETTINGS, so a test or deployment that overrides a key is
    obeyed everywhere."""
    return {
        "SETTINGS": settings,
        "DATABASE_URL": settings.database_url,
        "RASA_URL": settings.rasa_url,
        # messages per client per window (seconds); a poll budget of its own below
        "CITIZEN_RATE_LIMIT": (settings.citizen_messages_per_minute, 60.0),
        "AGENT_PRESENCE_S": settings.agent_presence_s,
        "HANDOFF_WAIT_S": settings.handoff_wait_s,
        "TRUSTED_PROXIES": settings.trusted_proxies,
        "SESSION_COOKIE_SECURE": settings.https,
    }


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """The app. `config` overrides any key; with `SETTINGS` in it, the keys derived from the
    settings follow those settings, and explicit keys beside it still win."""
    overrides = dict(config or {})
    settings = overrides.get("SETTINGS") or Settings.from_env()
    app = Flask(__name__)
    app.config.update(
        RASA_TIMEOUT=30.0,
        MAX_MESSAGE_CHARS=1000,
        MAX_CONTENT_LENGTH=64 * 1024,  # citizen messages and guides are far smaller
        # Polls and widget settings: a widget polls twice a second while a person holds the
        # chat (120 a minute); this allows ten such widgets behind one address (a library, NAT).
        CITIZEN_POLL_RATE_LIMIT=(1200, 60.0),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=10),  # one working day
        **config_from(settings),
    )
    app.config.update(overrides)
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies > 0:
        # The client address is the one the outermost trusted proxy saw: N entries from the
        # right of X-Forwarded-For. Entries further left are whatever the client chose to send.
        n = proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_key(app.config["SETTINGS"])
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Danish letters as they are

    if not app.testing and not logging.getLogger().handlers:
        # Under gunicorn nothing configures Python logging, and the app's own records (model
        # warm-up, publish and re-index timings) would be dropped below WARNING.
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s - %(message)s"
        )

    from bot.web import admin, agent, auth, chat, csrf, editor, extensions, health, insight, widget

    extensions.init_app(app)
    csrf.init_app(app)
    auth.init_app(app)
    for blueprint in (health, chat, widget, auth, agent, admin, editor, insight):
        app.register_blueprint(blueprint.bp)

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> Any:
        code = err.code or 500
        heading, message = ERROR_TEXTS.get(code, GENERIC_ERROR)
        if request.path.startswith("/api/"):
            # Citizens read these: never a werkzeug description, which is English.
            if code == 413:
                limit = app.config["MAX_MESSAGE_CHARS"]
                message = f"Beskeden er for lang. Skriv højst {limit} tegn."
            return {"error": message}, code
        if code == 400:
            message = own_description(err) or message
        if request.is_json:
            return {"error": message}, code
        return render_template("console/error.html", heading=heading, message=message), code

    from bot.web.__main__ import register_cli

    register_cli(app)
    return app
