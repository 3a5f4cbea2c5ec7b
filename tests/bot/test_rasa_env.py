"""Rasa's conversation state lives in a SQL tracker store configured by bot/endpoints.yml, so a
restarted Rasa carries on with the citizen's open form and slots."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.core.utils import AvailableEndpoints
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActiveLoop, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_env import rasa_environment, tracker_store_url
from bot.settings import BOT_DIR, Settings
from bot.store.migrate import upgrade


def settings_for(database_url: str) -> Settings:
    return replace(Settings.from_env(), database_url=database_url)


def test_sqlite_gets_a_tracker_file_of_its_own_beside_the_store(tmp_path: Path) -> None:
    settings = settings_for(f"sqlite:///{tmp_path / 'borgerbot.db'}")
    url = tracker_store_url(settings, environ={})
    assert url == f"sqlite:///{settings.data_dir / 'rasa-tracker.db'}"


def test_postgresql_shares_the_stores_database_and_an_explicit_url_wins(tmp_path: Path) -> None:
    settings = settings_for("postgresql://bot@db.example/borgerbot")
    assert tracker_store_url(settings, environ={}) == "postgresql://bot@db.example/borgerbot"
    override = {"BORGERBOT_TRACKER_URL": "postgresql://rasa@other/rasa"}
    assert tracker_store_url(settings, environ=override) == "postgresql://rasa@other/rasa"


def _store_from_endpoints(
    url: str, monkeypatch: pytest.MonkeyPatch, domain: Domain
) -> TrackerStore:
    """The tracker store exactly as `rasa run --endpoints bot/endpoints.yml` builds it."""
    monkeypatch.setenv("BORGERBOT_TRACKER_URL", url)
    monkeypatch.setenv("BORGERBOT_ACTIONS_URL", "http://127.0.0.1:9/webhook")
    endpoints = AvailableEndpoints.read_endpoints(str(BOT_DIR / "endpoints.yml"))
    store = TrackerStore.create(endpoints.tracker_store, domain=domain)
    assert isinstance(store, SQLTrackerStore)
    return store


def _a_restart_keeps_the_open_form(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    domain = Domain.load(str(BOT_DIR / "domain.yml"))
    tracker = DialogueStateTracker.from_events(
        "citizen-1",
        [
            UserUttered("ring mig op", {"name": "request_callback", "confidence": 1.0}),
            ActiveLoop("callback_form"),
            SlotSet("callback_name", "Karen Jensen"),
            SlotSet("requested_slot", "callback_phone"),
        ],
        domain.slots,
    )
    before = _store_from_endpoints(url, monkeypatch, domain)
    asyncio.run(before.save(tracker))
    before.engine.dispose()  # type: ignore[attr-defined]

    after = _store_from_endpoints(url, monkeypatch, domain)  # a new Rasa process
    restored = asyncio.run(after.retrieve("citizen-1"))
    after.engine.dispose()  # type: ignore[attr-defined]
    assert restored is not None
    assert restored.active_loop_name == "callback_form"
    assert restored.get_slot("callback_name") == "Karen Jensen"
    assert restored.get_slot("requested_slot") == "callback_phone"


def test_a_restarted_rasa_carries_on_with_the_form_on_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(f"sqlite:///{tmp_path / 'borgerbot.db'}")
    settings = replace(settings, knowledge=replace(settings.knowledge, data_dir=tmp_path))
    _a_restart_keeps_the_open_form(rasa_environment(settings)["BORGERBOT_TRACKER_URL"], monkeypatch)
    assert (tmp_path / "rasa-tracker.db").exists()


def test_a_restarted_rasa_carries_on_with_the_form_on_postgresql(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_database: Callable[[], str]
) -> None:
    url = pg_database()
    upgrade(url)  # our tables first: Rasa's `events` table must sit beside them
    monkeypatch.delenv("BORGERBOT_TRACKER_URL", raising=False)
    _a_restart_keeps_the_open_form(tracker_store_url(settings_for(url)), monkeypatch)
