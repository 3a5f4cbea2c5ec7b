"""The agent console and the citizen polling API over the Flask test client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.callbacks import CallbackConfig, book_callback, free_slots
from bot.conversations import OVERDUE_NOTICE, citizen_message
from bot.handoff import create_handoff
from bot.store.models import Callback
from bot.web.extensions import get_store
from bot.web.rasa_client import BotMessage


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


def test_widget_config_offers_a_person_only_in_hours_with_an_agent_at_the_console(
    app: Any, client: Any, login: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BORGERBOT_ALLOW_CLOCK_OVERRIDE", "1")
    citizen = app.test_client()

    def config(at: str) -> dict:
        monkeypatch.setenv("BORGERBOT_TEST_CLOCK", at)
        return dict(citizen.get("/api/widget/config?municipality=0101").get_json())

    evening, night = "2026-11-23T19:00:00+01:00", "2026-11-23T23:00:00+01:00"
    nobody = config(evening)  # the evening hotline is open, but no agent is logged in
    assert not nobody["staffed"]
    assert "Bestil et opkald" in [q["title"] for q in nobody["quick_replies"]]
    token = login(client, "agent", "anne")
    assert client.get("/konsol/samtaler/koe.json").status_code == 200  # the console's poll
    staffed = config(evening)
    assert staffed["staffed"]
    assert "Tal med en medarbejder" in [q["title"] for q in staffed["quick_replies"]]
    assert not config(night)["staffed"]
    client.post("/konsol/logout", data={"csrf_token": token})
    assert not config(evening)["staffed"]


def test_queue_shows_waiting_first_and_who_holds_the_claimed_ones(
    app: Any, client: Any, login: Any
) -> None:
    first, second = seed_handoff(app, "samtale-0001"), seed_handoff(app, "samtale-0002")
    token = login(client, "agent", "anne")
    client.post(f"/konsol/samtaler/{first}/tag", data={"csrf_token": token})
    items = client.get("/konsol/samtaler/koe.json").get_json()
    assert [(i["handoff_id"], i["status"]) for i in items] == [
        (second, "waiting"), (first, "claimed"),
    ]  # fmt: skip
    assert items[0]["waited"] == "0 min" and items[0]["held"] is None
    assert items[1]["waited"] is None and items[1]["held"].startswith("Hos anne siden ")
    page = client.get("/konsol/samtaler").get_data(as_text=True)
    assert page.index(f'data-handoff="{second}"') < page.index(f'data-handoff="{first}"')
    assert '<ol class="guesses"><li>Få MitID</li></ol>' in page


def test_a_reply_returns_the_citizen_messages_the_console_has_not_seen(
    app: Any, client: Any, login: Any
) -> None:
    handoff = seed_handoff(app)
    token = login(client, "agent", "anne")
    client.post(f"/konsol/samtaler/{handoff}/tag", data={"csrf_token": token})
    shown = client.get(f"/konsol/samtaler/{handoff}/beskeder?after=0").get_json()["messages"]
    last = shown[-1]["seq"]
    app.test_client().post(
        "/api/chat", json={"text": "er du der?", "conversation_id": "samtale-0001"}
    )
    reply = client.post(
        f"/konsol/samtaler/{handoff}/svar",
        json={"text": "Ja.", "after": last},
        headers={"X-CSRF-Token": token},
    ).get_json()
    assert [(m["sender"], m["text"]) for m in reply["messages"]] == [
        ("citizen", "er du der?"),
        ("agent", "Ja."),
    ]
    assert reply["message"]["author"] == "Anne"


def test_an_admin_must_take_the_chat_over_to_write_in_it(app: Any, login: Any) -> None:
    handoff = seed_handoff(app)
    anne, ida = app.test_client(), app.test_client()
    t_anne, t_ida = login(anne, "agent", "anne"), login(ida, "admin", "ida")
    anne.post(f"/konsol/samtaler/{handoff}/tag", data={"csrf_token": t_anne})
    page = ida.get(f"/konsol/samtaler/{handoff}").get_data(as_text=True)
    assert "Overtag samtalen" in page and 'id="reply-form"' not in page
    refused = ida.post(f"/konsol/samtaler/{handoff}/svar", json={"text": "Hej"},
                       headers={"X-CSRF-Token": t_ida})  # fmt: skip
    assert refused.status_code == 409
    assert refused.get_json()["error"] == (
        "Samtalen håndteres af anne. Overtag samtalen for at skrive."
    )
    assert anne.post(f"/konsol/samtaler/{handoff}/overtag",
                     data={"csrf_token": t_anne}).status_code == 403  # fmt: skip
    ida.post(f"/konsol/samtaler/{handoff}/overtag", data={"csrf_token": t_ida})
    ok = ida.post(f"/konsol/samtaler/{handoff}/svar", json={"text": "Det er Ida nu."},
                  headers={"X-CSRF-Token": t_ida})  # fmt: skip
    assert ok.status_code == 200
    view = poll(app.test_client())
    assert view["agent_name"] == "Ida"
    assert view["messages"][-2]["text"] == "Du skriver nu med Ida fra Borgerservice."
    assert (view["messages"][-1]["author"], view["messages"][-1]["text"]) == (
        "Ida", "Det er Ida nu."
    )  # fmt: skip
    taken = anne.post(f"/konsol/samtaler/{handoff}/svar", json={"text": "Hallo"},
                      headers={"X-CSRF-Token": t_anne})  # fmt: skip
    assert taken.get_json()["error"] == "Samtalen håndteres af ida."


def test_a_waiting_citizen_is_told_once_after_the_configured_wait(app: Any) -> None:
    seed_handoff(app)
    app.config["HANDOFF_WAIT_S"] = 0
    citizen = app.test_client()
    notices = {
        (m["seq"], m["sender"])
        for _ in range(3)
        for m in poll(citizen)["messages"]
        if m["text"] == OVERDUE_NOTICE
    }
    assert len(notices) == 1 and notices.pop()[1] == "system"
    assert "Bestil et opkald i stedet" in OVERDUE_NOTICE


def test_the_callback_instead_button_withdraws_the_waiting_handoff(
    app: Any, client: Any, login: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[str] = []

    def rasa(url: str, sender: str, text: str, metadata: Any, timeout: float) -> Any:
        sent.append(text)
        return [BotMessage("Hvad er dit navn?")]

    monkeypatch.setattr("bot.web.chat.send_to_rasa", rasa)
    handoff = seed_handoff(app)
    view = app.test_client().post(
        "/api/chat",
        json={"text": "Bestil et opkald i stedet", "payload": "/request_callback",
              "conversation_id": "samtale-0001", "after": 1},
    ).get_json()  # fmt: skip
    assert sent == ["/request_callback"]
    assert view["state"] == "bot"
    assert [m["text"] for m in view["messages"]] == ["Bestil et opkald i stedet",
                                                     "Hvad er dit navn?"]  # fmt: skip
    token = login(client, "agent", "anne")
    assert client.get("/konsol/samtaler/koe.json").get_json() == []
    late = client.post(
        f"/konsol/samtaler/{handoff}/tag",
        headers={"Accept": "application/json", "X-CSRF-Token": token},
    )
    assert late.status_code == 409
    assert "venter ikke længere" in late.get_json()["error"]


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
