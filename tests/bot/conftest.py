"""Store fixtures: a migrated SQLite file per test, and throwaway PostgreSQL databases."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bot.store import Store
from bot.store.migrate import upgrade

PG_USERS = ("root", "postgres")  # trust auth on 127.0.0.1:5432, database `test`


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store' / 'borgerbot.db'}"


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Store]:
    upgrade(sqlite_url)
    s = Store(sqlite_url)
    yield s
    s.dispose()


def _pg_admin_url() -> str | None:
    for user in PG_USERS:
        url = f"postgresql://{user}@127.0.0.1:5432/test"
        engine = create_engine(url, future=True, connect_args={"connect_timeout": 3})
        try:
            with engine.connect():
                return url
        except OperationalError:
            continue
        finally:
            engine.dispose()
    return None


@pytest.fixture
def pg_database() -> Iterator[Callable[[], str]]:
    """A factory of empty, uniquely named PostgreSQL databases, all dropped afterwards."""
    admin_url = _pg_admin_url()
    if admin_url is None:
        pytest.skip("PostgreSQL unreachable at 127.0.0.1:5432 (users root/postgres, db test)")
    admin = create_engine(admin_url, future=True, isolation_level="AUTOCOMMIT")
    created: list[str] = []

    def new_database() -> str:
        name = f"borgerbot_test_{uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        created.append(name)
        return make_url(admin_url).set(database=name).render_as_string(hide_password=False)

    yield new_database
    with admin.connect() as conn:
        for name in created:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture
def pg_store(pg_database: Callable[[], str]) -> Iterator[Store]:
    url = pg_database()
    upgrade(url)
    s = Store(url)
    yield s
    s.dispose()
