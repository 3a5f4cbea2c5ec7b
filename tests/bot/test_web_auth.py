"""Console login, roles, CSRF, the admin user page and the create-user CLI."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.store.models import User
from bot.web.extensions import get_store
from tests.bot.conftest import PASSWORD, csrf_of, make_user


def test_console_pages_redirect_to_login(client: Any) -> None:
    response = client.get("/konsol/samtaler")
    assert response.status_code == 302
    assert "/konsol/login?next=" in response.headers["Location"]


def test_login_with_wrong_password_is_refused_in_danish(app: Any, client: Any) -> None:
    make_user(app, "anne", "agent")
    token = csrf_of(client)
    response = client.post(
        "/konsol/login", data={"username": "anne", "password": "forkert", "csrf_token": token}
    )
    assert response.status_code == 401
    assert "Forkert brugernavn eller adgangskode." in response.get_data(as_text=True)


def test_login_is_throttled_per_username_and_address(app: Any) -> None:
    make_user(app, "anne", "agent")
    guesser, desk = app.test_client(), app.test_client()
    guesser.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    desk.environ_base["REMOTE_ADDR"] = "10.0.0.21"

    def attempt(client: Any, password: str, username: str = "anne") -> str:
        data = {"username": username, "password": password, "csrf_token": csrf_of(client)}
        return str(client.post("/konsol/login", data=data).get_data(as_text=True))

    for _ in range(5):
        attempt(guesser, "nej")
    # Blocked where the guessing came from, even with the right password …
    assert "For mange forkerte forsøg" in attempt(guesser, PASSWORD)
    # … while Anne at her own desk is not locked out by someone else's guessing.
    assert desk.get("/konsol/samtaler").status_code == 302
    attempt(desk, PASSWORD)
    assert desk.get("/konsol/samtaler").status_code == 200
    make_user(app, "bo", "agent")  # another user from the guesser's address is a new pair
    assert "Forkert brugernavn" in attempt(guesser, "nej", "bo")


def test_passwords_are_stored_hashed(app: Any) -> None:
    make_user(app, "anne", "agent")
    with app.app_context(), get_store().transaction() as db:
        stored = db.scalar(select(User.password_hash).where(User.username == "anne"))
    assert PASSWORD not in stored
    assert stored.startswith(("scrypt:", "pbkdf2:"))


@pytest.mark.parametrize(
    ("role", "path", "status"),
    [
        ("agent", "/konsol/samtaler", 200),
        ("agent", "/konsol/opkald", 200),
        ("agent", "/konsol/brugere/", 403),
        ("editor", "/konsol/samtaler", 403),
        ("editor", "/konsol/brugere/", 403),
        ("admin", "/konsol/samtaler", 200),
        ("admin", "/konsol/brugere/", 200),
    ],
)
def test_roles(client: Any, login: Any, role: str, path: str, status: int) -> None:
    login(client, role)
    response = client.get(path)
    assert response.status_code == status
    if status == 403:
        assert "Ingen adgang" in response.get_data(as_text=True)


def test_post_without_csrf_token_is_rejected(client: Any, login: Any) -> None:
    login(client, "admin")
    response = client.post(
        "/konsol/brugere/",
        data={"username": "bo", "display_name": "Bo", "password": "x" * 12, "role": "agent"},
    )
    assert response.status_code == 400
    assert "Genindlæs siden" in response.get_data(as_text=True)


def test_admin_adds_a_user_with_danish_validation(client: Any, login: Any) -> None:
    token = login(client, "admin")
    bad = client.post(
        "/konsol/brugere/",
        data={"username": "B O", "display_name": "", "password": "kort", "role": "chef",
              "csrf_token": token},
    )  # fmt: skip
    page = bad.get_data(as_text=True)
    assert bad.status_code == 400
    for message in ("Brugernavnet skal", "Skriv medarbejderens navn.", "mindst 10 tegn",
                    "Vælg en rolle"):  # fmt: skip
        assert message in page
    good = client.post(
        "/konsol/brugere/",
        data={"username": "bo", "display_name": "Bo Berg", "password": "x" * 12, "role": "agent",
              "csrf_token": token},
        follow_redirects=True,
    )  # fmt: skip
    assert "Brugeren bo er oprettet." in good.get_data(as_text=True)


def test_login_redirect_only_to_local_paths(app: Any, client: Any) -> None:
    make_user(app, "anne", "agent")
    token = csrf_of(client)
    response = client.post(
        "/konsol/login?next=https://evil.example/",
        data={"username": "anne", "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/konsol/samtaler"


def test_logout_ends_the_session(client: Any, login: Any) -> None:
    token = login(client, "agent")
    client.post("/konsol/logout", data={"csrf_token": token})
    assert client.get("/konsol/samtaler").status_code == 302


def test_cli_creates_the_first_admin(app: Any, runner: Any) -> None:
    result = runner.invoke(
        args=["create-user", "--role", "admin", "--name", "Ida Holm", "--password-stdin", "ida"],
        input="en-lang-adgangskode\n",
    )
    assert result.exit_code == 0, result.output
    assert "created admin 'ida'" in result.output
    short = runner.invoke(args=["create-user", "--password-stdin", "bo"], input="kort\n")
    assert short.exit_code != 0
    assert "mindst 10 tegn" in short.output
