"""Environment for Rasa subprocesses: no telemetry, caches under the data directory."""

from __future__ import annotations

import os

from bot.settings import Settings


def rasa_environment(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "RASA_TELEMETRY_ENABLED": "false",
            "RASA_CACHE_DIRECTORY": str(settings.data_dir / "rasa-cache"),
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "BORGERBOT_ACTIONS_URL": settings.actions_url,
            # Rasa's sanic server and our processes must see the same settings.
            "BORGERBOT_DATA_DIR": str(settings.data_dir),
        }
    )
    return env
