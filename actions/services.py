"""What the actions share, created once per action-server process."""

from __future__ import annotations

import logging
import threading
from functools import cached_property, lru_cache

from bot.callbacks import CallbackConfig
from bot.hours import Schedules
from bot.settings import Settings
from bot.store.db import Store
from knowledge.search import KnowledgeBase

log = logging.getLogger(__name__)


class Services:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._kb_lock = threading.Lock()
        self._kb: KnowledgeBase | None = None

    @property
    def knowledge(self) -> KnowledgeBase:
        """The model and index; loaded on first use (or by warm_up), reloaded on a new index."""
        if self._kb is None:
            with self._kb_lock:
                if self._kb is None:
                    self._kb = KnowledgeBase.from_settings(self.settings.knowledge)
                    log.info("knowledge base loaded: index %s", self._kb.version)
        return self._kb

    @cached_property
    def schedules(self) -> Schedules:
        return Schedules.load()

    @cached_property
    def store(self) -> Store:
        return Store.from_settings(self.settings)

    @cached_property
    def callback_config(self) -> CallbackConfig:
        return CallbackConfig.load()


@lru_cache(maxsize=1)
def services() -> Services:
    return Services(Settings.from_env())


def warm_up() -> None:
    """Load the model in the background so the first citizen does not wait for it."""

    def load() -> None:
        try:
            _ = services().knowledge
        except Exception:  # the first question will raise it again, with a Danish message
            log.exception("could not load the knowledge base")

    threading.Thread(target=load, name="warm-up", daemon=True).start()
