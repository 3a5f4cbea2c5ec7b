"""Actions run against the real knowledge base but never the developer's database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from actions.services import services
from bot.store import Store
from bot.store.migrate import upgrade


@pytest.fixture(scope="session")
def actions_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('actions-db')) / 'borgerbot.db'}"
    upgrade(url)
    store = Store(url)
    yield store
    store.dispose()


@pytest.fixture(autouse=True)
def _temporary_store(actions_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    # The process-wide services keep their loaded model; only the store is swapped.
    monkeypatch.setattr(services(), "store", actions_store)
