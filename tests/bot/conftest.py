"""Store fixtures: a migrated SQLite file per test, and throwaway PostgreSQL databases."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
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


# --- the Flask app over a temporary database (Flask tutorial style) -------------------------

RASA_UNREACHABLE = "http://127.0.0.1:9"


@pytest.fixture
def app(sqlite_url: str, tmp_path: Path) -> Iterator[Any]:
    from bot.web import create_app

    upgrade(sqlite_url)
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": sqlite_url,
            "SECRET_KEY": "test-secret",
            "RASA_URL": RASA_UNREACHABLE,
            "RASA_TIMEOUT": 2,
        }
    )
    yield app
    store = app.extensions.get("borgerbot.store")
    if store is not None:
        store.dispose()


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def runner(app: Any) -> Any:
    return app.test_cli_runner()


PASSWORD = "korrekt-hest-batteri"


def csrf_of(client: Any) -> str:
    """The session's CSRF token, as the console pages embed it."""
    page = client.get("/konsol/login").get_data(as_text=True)
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def make_user(app: Any, username: str, role: str, name: str | None = None) -> None:
    from bot.store.users import create_user
    from bot.web.extensions import get_store

    with app.app_context(), get_store().transaction() as db:
        create_user(db, username, name or f"{username.capitalize()} Jensen", PASSWORD, role)  # type: ignore[arg-type]


@pytest.fixture
def login(app: Any) -> Callable[..., str]:
    """login(client, role, username=None) creates that user, logs in, returns the CSRF token."""

    def do_login(client: Any, role: str, username: str | None = None) -> str:
        username = username or role
        make_user(app, username, role)
        token = csrf_of(client)
        response = client.post(
            "/konsol/login",
            data={"username": username, "password": PASSWORD, "csrf_token": token},
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        return csrf_of(client)

    return do_login
