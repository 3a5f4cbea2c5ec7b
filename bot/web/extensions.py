"""Per-process resources the blueprints share: the database store, the opening hours, the rate
limiters and the knowledge base, each created once per app on first use.

The knowledge base loads in 20–40 s (the embedding model), so it has a lock of its own: a citizen's
first message must never wait behind it for the store. `init_app` starts that load in the
background from the first request (`KNOWLEDGE_WARM_UP`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app

from bot.hours import Schedules
from bot.store.db import Store
from bot.web.ratelimit import RateLimiter
from knowledge.search import KnowledgeBase

log = logging.getLogger(__name__)
T = TypeVar("T")

_lock = threading.Lock()  # the quick ones: store, schedules, limiters, the warm-up flag
_kb_lock = threading.Lock()  # the knowledge base alone: held for the whole model load

STORE = "borgerbot.store"
SCHEDULES = "borgerbot.schedules"
KNOWLEDGE = "borgerbot.knowledge"
WARM_UP = "KNOWLEDGE_WARM_UP"  # app config: load the model in the background at start
_WARMING = "borgerbot.knowledge_warming"


def _once(key: str, make: Callable[[], T], lock: threading.Lock = _lock) -> T:
    value: T | None = current_app.extensions.get(key)
    if value is None:
        with lock:
            value = current_app.extensions.get(key)
            if value is None:
                value = current_app.extensions[key] = make()
    return value


def get_store() -> Store:
    """One store (engine and pool) per app."""
    return _once(STORE, lambda: Store(current_app.config["DATABASE_URL"]))


def get_schedules() -> Schedules:
    """The opening hours, read from bot/schedule.yml once per app (not on every request)."""
    return _once(SCHEDULES, Schedules.load)


def get_limiter(config_key: str) -> RateLimiter:
    """One limiter per budget, the config value `(limit, window_s)` read when first used:
    CITIZEN_RATE_LIMIT for messages, CITIZEN_POLL_RATE_LIMIT for polls and widget settings."""

    def make() -> RateLimiter:
        limit, window_s = current_app.config[config_key]
        return RateLimiter(limit, window_s)

    return _once(f"borgerbot.ratelimit.{config_key}", make)


def get_knowledge() -> KnowledgeBase:
    """The model and index, about a gigabyte per process. Loaded in the background from the
    web process's first request (`warm_up`); a console search, publish or report that comes
    earlier loads it itself or waits for that load, under its own lock."""
    return _once(
        KNOWLEDGE,
        lambda: KnowledgeBase.from_settings(current_app.config["SETTINGS"].knowledge),
        _kb_lock,
    )


def warm_up(app: Flask) -> None:
    """Load the model and index in a background thread, once per process, so that the first
    publish, console search or unanswered report does not wait 20–40 s for it. Off when
    `KNOWLEDGE_WARM_UP` is false (the default under TESTING: Flask-client tests would load the
    model once per app). Failures are only logged: the first real use reports them."""
    if not app.config.get(WARM_UP, not app.testing):
        return
    with _lock:
        if app.extensions.get(_WARMING) or KNOWLEDGE in app.extensions:
            return
        app.extensions[_WARMING] = True

    def load() -> None:
        started = time.monotonic()
        with app.app_context():
            try:
                kb = get_knowledge()
            except Exception:
                log.exception("could not load the knowledge base in the background")
                return
        log.info("knowledge base loaded in the background in %.1f s (index %s)",
                 time.monotonic() - started, kb.version)  # fmt: skip

    threading.Thread(target=load, name="knowledge-warm-up", daemon=True).start()


def init_app(app: Flask) -> None:
    """Start the warm-up from the first request (at start, `make run`'s health check), never
    blocking it; from a request, not from create_app, so a forking server starts the thread in
    the process that serves."""

    @app.before_request
    def _warm_up_on_first_request() -> None:
        if not app.extensions.get(_WARMING):
            warm_up(app)
