"""How the processes are started: Rasa without its HTTP API, health checks that still work."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import serve
from bot.run import health_urls
from bot.settings import Settings


def test_rasa_runs_without_the_unauthenticated_http_api(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    model = tmp_path / "model.tar.gz"
    model.write_text("")
    monkeypatch.setattr(serve, "model_path", lambda settings: model)
    cmd = serve.command("rasa", Settings.from_env({}))
    assert "--enable-api" not in cmd and "--auth-token" not in cmd
    assert cmd[cmd.index("--model") + 1] == str(model)


def test_rasa_health_is_the_rest_channel_route_not_the_http_api() -> None:
    # /status belongs to the HTTP API (gone); the REST channel answers GET /webhooks/rest/.
    urls = health_urls(Settings.from_env({"BORGERBOT_RASA_PORT": "5999"}))
    assert urls["rasa"] == "http://127.0.0.1:5999/webhooks/rest/"
