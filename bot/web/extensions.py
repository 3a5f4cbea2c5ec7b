"""Per-process resources the blueprints share: the database store and the knowledge base."""

from __future__ import annotations

import threading

from flask import current_app

from bot.store.db import Store
from knowledge.search import KnowledgeBase

_lock = threading.Lock()


def get_store() -> Store:
    """One store (engine and pool) per app, created on first use."""
    store = current_app.extensions.get("borgerbot.store")
    if store is None:
        with _lock:
            store = current_app.extensions.get("borgerbot.store")
            if store is None:
                store = Store(current_app.config["DATABASE_URL"])
                current_app.extensions["borgerbot.store"] = store
    return store


def get_knowledge() -> KnowledgeBase:
    """The model and index, loaded on first use (a console search or a publish), not at start:
    the citizen routes never need them, and the model costs about a gigabyte per process."""
    kb = current_app.extensions.get("borgerbot.knowledge")
    if kb is None:
        with _lock:
            kb = current_app.extensions.get("borgerbot.knowledge")
            if kb is None:
                kb = KnowledgeBase.from_settings(current_app.config["SETTINGS"].knowledge)
                current_app.extensions["borgerbot.knowledge"] = kb
    return kb
