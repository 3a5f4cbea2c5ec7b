"""Environment for Rasa subprocesses: no telemetry, caches under the data directory."""

from __future__ import annotations

import os
from collections.abc import Mapping

from bot.settings import Settings


def tracker_store_url(settings: Settings, environ: Mapping[str, str] = os.environ) -> str:
    """Where Rasa keeps its conversation state (slots, forms), so a restarted Rasa carries on.

    BORGERBOT_TRACKER_URL if set; with PostgreSQL the store's own database (Rasa's table is
    `events`, none of ours); with SQLite a file of its own beside the store's, because SQLite
    has one writer at a time and Rasa writes on every message."""
    if url := environ.get("BORGERBOT_TRACKER_URL", "").strip():
        return url
    if settings.database_url.startswith("sqlite"):
        return f"sqlite:///{settings.data_dir / 'rasa-tracker.db'}"
    return settings.database_url


def rasa_environment(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "RASA_TELEMETRY_ENABLED": "false",
            "RASA_CACHE_DIRECTORY": str(settings.data_dir / "rasa-cache"),
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "BORGERBOT_ACTIONS_URL": settings.actions_url,
            "BORGERBOT_TRACKER_URL": tracker_store_url(settings),
            # Rasa's sanic server and our processes must see the same settings.
            "BORGERBOT_DATA_DIR": str(settings.data_dir),
        }
    )
    return env
