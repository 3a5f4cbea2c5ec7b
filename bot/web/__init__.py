"""The Flask web front: chat page and API now; widget and consoles plug in as blueprints."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Flask

from bot.settings import Settings


def create_app(config: dict[str, Any] | None = None) -> Flask:
    settings = Settings.from_env()
    app = Flask(__name__)
    app.config.update(
        SETTINGS=settings,
        RASA_URL=settings.rasa_url,
        RASA_TIMEOUT=30.0,
        MAX_MESSAGE_CHARS=1000,
        # A random key per start is safe for the citizen side (it keeps no login state); set
        # BORGERBOT_SECRET_KEY in production so sessions survive restarts and all workers agree.
        SECRET_KEY=settings.secret_key or secrets.token_hex(32),
    )
    if config:
        app.config.update(config)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Danish letters as they are

    from bot.web import chat, health

    app.register_blueprint(health.bp)
    app.register_blueprint(chat.bp)
    return app
