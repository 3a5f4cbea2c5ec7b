"""The agent console and the citizen polling API over the Flask test client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.callbacks import CallbackConfig, book_callback, free_slots
from bot.conversations import citizen_message
from bot.handoff import create_handoff
from bot.store.models import Callback
from bot.web.extensions import get_store


def seed_handoff(app: Any, conversation_id: str = "samtale-0001") -> int:
    with app.app_context():
        store = get_store()
        citizen_message(store, lambda *a: [], conversation_id, "0101", "jeg vil tale med en person")
        with store.transaction() as db:
            guesses = [{"slug": "mitid-opret", "title": "Få MitID", "score": 0.8}]
            h = create_handoff(
                db, conversation_id, "0101", "requested", guesses, "borgerservice", "Resumé"
            )
            return int(h.id)


def poll(client: Any, conversation_id: str = "samtale-0001", after: int = 0) -> dict:
    response = client.get(f"/api/chat/{conversation_id}/messages?after={after}")
    assert response.status_code == 200
    return response.get_json()


def test_queue_lists_the_waiting_conversation(app: Any, client: Any, login: Any) -> None:
    seed_handoff(app)
    login(client, "agent")
    page = client.get("/konsol/samtaler").get_data(as_text=True)
    assert "Bad om en medarbejder" in page and "Resumé" in page and "Tag samtalen" in page
    items = client.get("/konsol/samtaler/koe.json").get_json()
    assert items[0]["status"] == "waiting" and items[0]["municipality"] == "0101"


def test_claim_reply_and_the_citizen_sees_it(app: Any, client: Any, login: Any) -> None:
    handoff = seed_handoff(app)
    token = login(client, "agent", "anne")
    claimed = client.post(f"/konsol/samtaler/{handoff}/tag", data={"csrf_token": token})
    assert claimed.status_code == 302
    reply = client.post(
        f"/konsol/samtaler/{handoff}/svar",
        json={"text": "Hej, jeg hjælper dig."},
        headers={"X-CSRF-Token": token},
    )
    assert reply.status_code == 200
    citizen = app.test_client()
    view = poll(citizen)
    assert view["state"] == "agent" and view["agent_name"] == "Anne"
    assert [m["sender"] for m in view["messages"]] == ["citizen", "system", "agent"]
    assert view["messages"][1]["text"] == "Du skriver nu med Anne fra Borgerservice."
    assert poll(citizen, after=3)["messages"] == []


def test_second_agent_is_told_the_chat_is_taken(app: Any, login: Any) -> None:
    handoff = seed_handoff(app)
    first, second = app.test_client(), app.test_client()
    t1, t2 = login(first, "agent", "anne"), login(second, "agent", "bo")
    assert first.post(f"/konsol/samtaler/{handoff}/tag", data={"csrf_token": t1}).status_code == 302
    lost = second.post(
        f"/konsol/samtaler/{handoff}/tag",
        headers={"Accept": "application/json", "X-CSRF-Token": t2},
    )
    assert lost.status_code == 409
    assert lost.get_json() == {"error": "Samtalen er allerede taget af anne."}


def test_citizen_message_while_agent_holds_is_not_sent_to_rasa(
    app: Any, client: Any, login: Any
) -> None:
    handoff = seed_handoff(app)
    token = login(client, "agent")
    client.post(f"/konsol/samtaler/{handoff}/tag", data={"csrf_token": token})
    # Rasa is unreachable in this app: a forwarded message would give 503.
    citizen = app.test_client()
    response = citizen.post(
        "/api/chat", json={"text": "tak for hjælpen", "conversation_id": "samtale-0001"}
    )
    assert response.status_code == 200
    assert [m["text"] for m in response.get_json()["messages"]] == ["tak for hjælpen"]
    agent_view = client.get(f"/konsol/samtaler/{handoff}/beskeder?after=0").get_json()
    assert agent_view["messages"][-1]["text"] == "tak for hjælpen"


def test_hand_back_and_close_need_the_holder(app: Any, client: Any, login: Any) -> None:
    handoff = seed_handoff(app)
    token = login(client, "agent")
    client.post(f"/konsol/samtaler/{handoff}/tag", data={"csrf_token": token})
    no_reason = client.post(
        f"/konsol/samtaler/{handoff}/afslut", data={"csrf_token": token, "reason": " "},
        follow_redirects=True,
    )  # fmt: skip
    assert "Skriv en kort årsag" in no_reason.get_data(as_text=True)
    back = client.post(
        f"/konsol/samtaler/{handoff}/tilbage", data={"csrf_token": token}, follow_redirects=True
    )
    assert "givet tilbage til den digitale assistent" in back.get_data(as_text=True)
    assert poll(app.test_client())["state"] == "bot"


def test_conversation_page_escapes_citizen_text(app: Any, client: Any, login: Any) -> None:
    with app.app_context():
        citizen_message(get_store(), lambda *a: [], "samtale-0001", "0101", "<script>x()</script>")
    handoff = seed_handoff(app)
    login(client, "agent")
    page = client.get(f"/konsol/samtaler/{handoff}").get_data(as_text=True)
    assert "<script>x()" not in page and "&lt;script&gt;x()" in page


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/api/chat/../x/messages", 404, None),
        ("/api/chat/kort/messages", 400, "Samtalen kunne ikke findes."),
        ("/api/chat/findes-ikke-123/messages", 404, "Samtalen findes ikke længere."),
    ],
)
def test_polling_bad_ids(client: Any, path: str, status: int, message: str | None) -> None:
    response = client.get(path)
    assert response.status_code == status
    if message:
        assert response.get_json()["error"].startswith(message)


def test_citizen_api_is_rate_limited_with_a_danish_message(app: Any) -> None:
    app.config["CITIZEN_RATE_LIMIT"] = (3, 60.0)
    client = app.test_client()
    codes = [client.post("/api/chat", json={"text": ""}).status_code for _ in range(4)]
    assert codes == [400, 400, 400, 429]
    limited = client.post("/api/chat", json={"text": "hej"})
    assert limited.get_json()["error"].startswith("Du har sendt mange beskeder")


def test_oversize_request_body_is_refused(client: Any) -> None:
    response = client.post("/api/chat", data="x" * 70_000, content_type="application/json")
    assert response.status_code == 413


def test_widget_config_offers_a_person_only_when_staffed(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BORGERBOT_ALLOW_CLOCK_OVERRIDE", "1")
    monkeypatch.setenv("BORGERBOT_TEST_CLOCK", "2026-11-23T19:00:00+01:00")  # evening hotline
    open_ = client.get("/api/widget/config?municipality=0101").get_json()
    monkeypatch.setenv("BORGERBOT_TEST_CLOCK", "2026-11-23T23:00:00+01:00")
    closed = client.get("/api/widget/config?municipality=0101").get_json()
    assert open_["staffed"] and not closed["staffed"]
    assert "Tal med en medarbejder" in [q["title"] for q in open_["quick_replies"]]
    assert "Bestil et opkald" in [q["title"] for q in closed["quick_replies"]]


def test_callbacks_tab_lists_by_due_time_and_records_outcomes(
    app: Any, client: Any, login: Any
) -> None:
    config = CallbackConfig.load()
    now = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    with app.app_context():
        store = get_store()
        with store.transaction() as db:
            slots = free_slots(db, config, "borgerservice", now, limit=2)
        for name, slot in (("Sen Borger", slots[1]), ("Tidlig Borger", slots[0])):
            book_callback(
                store.sessions, config, conversation_id=None, name=name, phone="+4522334455",
                department="borgerservice", slot_id=slot.slot_id, topic="Pas", now=now,
            )  # fmt: skip
    token = login(client, "agent", "anne")
    page = client.get("/konsol/opkald?afdeling=borgerservice").get_data(as_text=True)
    assert page.index("Tidlig Borger") < page.index("Sen Borger")
    with app.app_context(), get_store().transaction() as db:
        first = db.query(Callback).filter_by(name="Tidlig Borger").one()
    new_time = (slots[0].start + timedelta(days=1)).astimezone().strftime("%Y-%m-%dT%H:%M")
    client.post(
        f"/konsol/opkald/{first.id}",
        data={"csrf_token": token, "outcome": "rescheduled", "new_time": new_time,
              "notes": "Borger bad om i morgen"},
    )  # fmt: skip
    with app.app_context(), get_store().transaction() as db:
        moved = db.get(Callback, first.id)
    assert moved.status == "rescheduled"
    assert "anne: Flyttet – Borger bad om i morgen" in moved.notes
    done = client.post(
        f"/konsol/opkald/{first.id}",
        data={"csrf_token": token, "outcome": "done", "notes": ""},
        follow_redirects=True,
    )
    assert "Opkaldet er registreret: Ringet op." in done.get_data(as_text=True)
