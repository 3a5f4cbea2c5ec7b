"""Engines, sessions and transactions for SQLite (the embedded default) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from bot.settings import Settings

SQLITE_BUSY_TIMEOUT_MS = 5000
# Execution option of the read-only engine: its transactions start with a deferred BEGIN.
READ_ONLY_OPTION = "borgerbot_read_only"


class StoreUnavailable(RuntimeError):
    """The database named by the URL cannot be reached."""


def sqlite_path(url: str) -> Path | None:
    """The file of a file-based SQLite URL; None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling delays BEGIN until the first INSERT/UPDATE and breaks
    # SAVEPOINT; turning it off and emitting BEGIN in `_sqlite_on_begin` is SQLAlchemy's recipe.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    # IMMEDIATE takes the write lock up front, so a transaction that reads and then writes
    # (next message seq, first free callback seat) waits in busy_timeout instead of failing at once
    # with "database is locked" when SQLite cannot upgrade a stale read snapshot.
    # Read-only transactions (polls, login checks) take a plain deferred BEGIN: in WAL mode they
    # read a snapshot at once instead of queueing behind every writer.
    if conn.get_execution_options().get(READ_ONLY_OPTION):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, future=True, pool_pre_ping=True)
    engine = create_engine(url, future=True, connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def session_factory(engine: Engine) -> sessionmaker:
    # Objects stay readable after commit: the data-access functions return them to callers whose
    # session has already closed.
    return sessionmaker(bind=engine, future=True, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker) -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on error, then closed."""
    with factory() as session, session.begin():
        yield session


class Store:
    """The engine and session factory for one database URL; connects once so bad URLs fail early."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError as err:
            safe = make_url(url).render_as_string(hide_password=True)
            self.engine.dispose()
            raise StoreUnavailable(f"cannot connect to the database {safe}: {err}") from err
        self.sessions = session_factory(self.engine)
        # Same pool and connections; only the BEGIN differs (see _sqlite_on_begin).
        self.read_sessions = session_factory(
            self.engine.execution_options(**{READ_ONLY_OPTION: True})
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        return cls(settings.database_url)

    def transaction(self) -> AbstractContextManager[Session]:
        return transaction(self.sessions)

    def read(self) -> AbstractContextManager[Session]:
        """A transaction for reading only. On SQLite it does not wait for writers; do not write
        in it (a write there could fail with "database is locked" instead of waiting)."""
        return transaction(self.read_sessions)

    def dispose(self) -> None:
        self.engine.dispose()
