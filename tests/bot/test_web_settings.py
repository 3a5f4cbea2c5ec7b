"""Settings the web front reads: validation, empty values, the citizen message budget, and
overrides given to create_app."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask

from bot.settings import Settings
from bot.store.migrate import upgrade
from bot.web import create_app
from knowledge.search import KnowledgeBase


def test_empty_values_count_as_unset() -> None:
    settings = Settings.from_env(
        {"BORGERBOT_WEB_PORT": "", "BORGERBOT_AGENT_PRESENCE_S": " ", "BORGERBOT_DATA_DIR": "",
         "DATABASE_URL": "", "BORGERBOT_MUNICIPALITY": ""}
    )  # fmt: skip
    assert settings.web_port == 8000
    assert settings.agent_presence_s == 120
    assert settings.default_municipality == "*"
    assert settings.database_url.startswith("sqlite:///") and settings.database_url.endswith(
        "/data/borgerbot.db"
    )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("BORGERBOT_AGENT_PRESENCE_S", "17", "BORGERBOT_AGENT_PRESENCE_S must be more than 17 s"),
        ("BORGERBOT_CITIZEN_MESSAGES_PER_MINUTE", "0", "must be at least 1, got 0"),
        ("BORGERBOT_CITIZEN_MESSAGES_PER_MINUTE", "tredive", "must be a whole number"),
        ("BORGERBOT_HANDOFF_WAIT_S", "-1", "BORGERBOT_HANDOFF_WAIT_S must be at least 0"),
        ("BORGERBOT_WEB_PORT", "80a", "BORGERBOT_WEB_PORT must be a whole number, got '80a'"),
    ],
)
def test_bad_values_fail_at_start_with_a_clear_message(name: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings.from_env({name: value})


def test_presence_just_above_write_interval_and_poll_is_accepted() -> None:
    assert Settings.from_env({"BORGERBOT_AGENT_PRESENCE_S": "18"}).agent_presence_s == 18


def post_until_limited(app: Flask, tries: int = 10) -> list[int]:
    client = app.test_client()
    return [client.post("/api/chat", json={"text": ""}).status_code for _ in range(tries)]


def test_the_citizen_message_budget_is_a_setting(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BORGERBOT_CITIZEN_MESSAGES_PER_MINUTE", "4")
    app = create_app({"TESTING": True, "DATABASE_URL": sqlite_url, "SECRET_KEY": "x"})
    assert post_until_limited(app, 6) == [400] * 4 + [429] * 2


def test_settings_passed_to_create_app_drive_every_derived_value(sqlite_url: str) -> None:
    settings = replace(
        Settings.from_env(),
        database_url=sqlite_url,
        citizen_messages_per_minute=2,
        agent_presence_s=300,
        handoff_wait_s=5,
        trusted_proxies=1,
        https=True,
    )
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SETTINGS": settings})
    assert app.config["DATABASE_URL"] == sqlite_url
    assert app.config["AGENT_PRESENCE_S"] == 300
    assert app.config["HANDOFF_WAIT_S"] == 5
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert post_until_limited(app, 3) == [400, 400, 429]
    # An explicit key beside SETTINGS still wins.
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SETTINGS": settings,
                      "CITIZEN_RATE_LIMIT": (1, 60.0)})  # fmt: skip
    assert post_until_limited(app, 2) == [400, 429]


def test_citizen_requests_do_not_wait_for_the_knowledge_base_loading(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The model loads in the background from the first request for 20–40 s; the store, the
    schedules and the limiters meanwhile are created at once."""
    upgrade(sqlite_url)
    loading, release = threading.Event(), threading.Event()

    def slow_load(settings: object) -> Any:
        loading.set()
        release.wait(timeout=30)
        return SimpleNamespace(version="v1")

    monkeypatch.setattr(KnowledgeBase, "from_settings", slow_load)
    app = create_app({"TESTING": True, "DATABASE_URL": sqlite_url, "SECRET_KEY": "x",
                      "KNOWLEDGE_WARM_UP": True})  # fmt: skip
    client = app.test_client()
    try:
        assert client.get("/healthz").status_code == 200
        assert loading.wait(timeout=5)
        answers: list[int] = []

        def citizen() -> None:
            c = app.test_client()
            answers.append(c.get("/api/widget/config?municipality=0101").status_code)
            answers.append(c.get("/api/chat/samtale-0001/messages").status_code)

        started = time.monotonic()
        thread = threading.Thread(target=citizen)
        thread.start()
        thread.join(timeout=5)
        assert answers == [200, 404], "a citizen request waited for the model"
        assert time.monotonic() - started < 5
    finally:
        release.set()
        store = app.extensions.get("borgerbot.store")
        if store is not None:
            store.dispose()
