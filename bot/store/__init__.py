"""The conversation store: SQLAlchemy models, migrations and a small data-access layer."""

from bot.store.db import Store, StoreUnavailable, make_engine, session_factory, transaction

__all__ = ["Store", "StoreUnavailable", "make_engine", "session_factory", "transaction"]
