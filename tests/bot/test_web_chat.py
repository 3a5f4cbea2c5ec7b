"""The citizen chat API: input handling, Danish errors, rate limits, cookies, idempotent sends
(Flask test client; Rasa is unreachable or a stand-in)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, request
from flask.testing import FlaskClient

from bot.hours import Schedules
from bot.web import create_app
from bot.web.rasa_client import BotMessage
from bot.web.ratelimit import RateLimiter


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"text": "   "}, "Skriv en besked, før du sender."),
        ({"text": 42}, "Skriv en besked, før du sender."),
        ({"text": "x" * 1001}, "Beskeden er for lang. Skriv højst 1000 tegn."),
        ({"text": "hej", "conversation_id": "../etc"}, "Samtalen kunne ikke findes. "
         "Genindlæs siden og prøv igen."),
        ({"text": "hej", "municipality": "<script>"}, "Ukendt kommune."),
        ([1, 2], "Beskeden kunne ikke læses. Prøv at sende den igen."),
    ],
)  # fmt: skip
def test_bad_input_gets_a_clear_danish_message(client: FlaskClient, body, message: str) -> None:
    response = client.post("/api/chat", json=body)
    assert response.status_code == 400
    assert response.get_json() == {"error": message}
    assert "\\u00" not in response.get_data(as_text=True)  # Danish letters, not JSON escapes


def test_rasa_down_gives_503_with_a_danish_message(client: FlaskClient) -> None:
    response = client.post("/api/chat", json={"text": "Hvordan får jeg MitID?"})
    assert response.status_code == 503
    assert response.get_json() == {"error": "Assistenten svarer ikke lige nu. Prøv igen om lidt."}


def test_demo_page_is_danish_and_embeds_the_widget(client: FlaskClient) -> None:
    page = client.get("/?kommune=0101").get_data(as_text=True)
    assert '<html lang="da">' in page
    assert 'src="http://localhost/widget.js" data-municipality="0101"' in page


# --- errors citizens read are Danish ------------------------------------------------------


def test_oversize_body_gets_a_danish_message_not_a_generic_error(client: FlaskClient) -> None:
    response = client.post("/api/chat", data="x" * 70_000, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json() == {"error": "Beskeden er for lang. Skriv højst 1000 tegn."}


def test_no_english_werkzeug_description_reaches_the_citizen_api(app: Flask) -> None:
    @app.post("/api/test-json")
    def strict_json() -> dict[str, Any]:
        return dict(request.get_json())  # non-silent: Flask raises "Failed to decode JSON …"

    @app.get("/api/test-crash")
    def crash() -> str:
        raise RuntimeError("boom")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    bad = client.post("/api/test-json", data="{nej", content_type="application/json")
    assert bad.status_code == 400
    assert bad.get_json() == {"error": "Forespørgslen kunne ikke behandles."}
    crashed = client.get("/api/test-crash")
    assert crashed.status_code == 500
    assert crashed.get_json() == {"error": "Der opstod en fejl."}
    wrong_method = client.get("/api/chat")
    assert wrong_method.status_code == 405
    assert wrong_method.get_json() == {"error": "Der opstod en fejl."}


# --- rate limits ----------------------------------------------------------------------------


def test_behind_a_trusted_proxy_the_limit_follows_the_address_the_proxy_saw(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BORGERBOT_TRUSTED_PROXIES", "1")
    app = create_app({"TESTING": True, "DATABASE_URL": sqlite_url, "SECRET_KEY": "x",
                      "CITIZEN_RATE_LIMIT": (2, 60.0)})  # fmt: skip
    client = app.test_client()

    def post(forwarded_for: str) -> int:
        headers = {"X-Forwarded-For": forwarded_for}
        return int(client.post("/api/chat", json={"text": ""}, headers=headers).status_code)

    # The client makes up the leftmost entries; the proxy appended the address it saw.
    codes = [post(f"203.0.113.{i}, 198.51.100.7") for i in range(3)]
    assert codes == [400, 400, 429]
    assert post("198.51.100.8") == 400  # another client has its own budget


def test_polls_and_widget_settings_have_their_own_budget(app: Flask) -> None:
    app.config["CITIZEN_POLL_RATE_LIMIT"] = (3, 60.0)
    client = app.test_client()
    codes = [
        client.get("/api/chat/findes-ikke-123/messages").status_code,
        client.get("/api/widget/config").status_code,
        client.get("/api/chat/findes-ikke-123/messages").status_code,
        client.get("/api/chat/findes-ikke-123/messages").status_code,
    ]
    assert codes == [404, 200, 404, 429]
    limited = client.get("/api/widget/config")
    assert limited.get_json()["error"].startswith("For mange forespørgsler")
    # Messages are counted apart from polls.
    assert client.post("/api/chat", json={"text": ""}).status_code == 400


def test_the_default_poll_budget_is_never_hit_by_fast_polling(app: Flask) -> None:
    limit, window = app.config["CITIZEN_POLL_RATE_LIMIT"]
    limiter = RateLimiter(limit, window)
    # Ten widgets behind one address, each polling every 0.5 s for five minutes, plus the
    # settings request each makes when opened.
    ticks = [t * 0.5 for t in range(600)]
    assert all(limiter.allow("nat", now=t) for t in ticks for _ in range(10))


# --- widget settings ------------------------------------------------------------------------


def test_the_schedule_is_read_once_not_per_request(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    loads: list[int] = []
    real = Schedules.load

    def counting() -> Schedules:
        loads.append(1)
        return real()

    monkeypatch.setattr(Schedules, "load", staticmethod(counting))
    for _ in range(3):
        assert client.get("/api/widget/config?municipality=0101").status_code == 200
    assert loads == [1]


# --- the session cookie ---------------------------------------------------------------------


@pytest.mark.parametrize(("https", "secure"), [("1", True), ("", False)])
def test_session_cookie_flags(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, https: str, secure: bool
) -> None:
    monkeypatch.setenv("BORGERBOT_HTTPS", https)
    app = create_app({"TESTING": True, "DATABASE_URL": sqlite_url, "SECRET_KEY": "x"})
    cookie = app.test_client().get("/konsol/login").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert ("Secure" in cookie) is secure


# --- sending: after, client ids, retries ------------------------------------------------------


class FakeRasa:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, url: str, sender: str, text: str, metadata: Any, timeout: float) -> Any:
        self.calls.append(text)
        return [BotMessage(f"svar på {text}")]


@pytest.fixture
def rasa(monkeypatch: pytest.MonkeyPatch) -> FakeRasa:
    fake = FakeRasa()
    monkeypatch.setattr("bot.web.chat.send_to_rasa", fake)
    return fake


def test_a_retried_post_is_stored_and_forwarded_once(client: FlaskClient, rasa: FakeRasa) -> None:
    body = {"text": "Mit cpr er 010203-1234", "conversation_id": "samtale-0001",
            "client_id": "klient-0001", "after": 0}  # fmt: skip
    first = client.post("/api/chat", json=body)
    retry = client.post("/api/chat", json=body)
    assert first.status_code == retry.status_code == 200
    assert retry.get_json() == first.get_json()
    assert rasa.calls == ["Mit cpr er 010203-1234"]
    mine = first.get_json()["messages"][0]
    assert mine["client_id"] == "klient-0001"
    assert mine["text"] == "Mit cpr er [CPR-nummer skjult]"


@pytest.mark.parametrize(
    "extra", [{"client_id": "../x"}, {"client_id": 7}, {"after": -1}, {"after": "3"}]
)
def test_bad_after_or_client_id_is_refused_in_danish(client: FlaskClient, extra: dict) -> None:
    response = client.post("/api/chat", json={"text": "hej", **extra})
    assert response.status_code == 400
    assert (
        response.get_json()["error"] == "Beskeden kunne ikke læses. Genindlæs siden og prøv igen."
    )
