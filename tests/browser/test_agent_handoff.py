"""A citizen asks for a person; two agents in their own browsers race to claim, the winner chats
live and hands back. Also: a citizen leaves the queue for a callback."""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import USERS, login, open_widget, run_axe, say
from tests.stack import Stack

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

LATENCY_SAMPLES = 20


def first_name(username: str) -> str:
    return USERS[username][1].split()[0]


def claim_at_the_same_moment(pages: dict[str, Any], handoff_id: int) -> tuple[str, str]:
    """Both agents press "Tag samtalen" on the same row at the same wall-clock moment (a timer in
    each browser, so neither waits for the other's request). Returns (winner, loser)."""
    moment = int(pages["anne"].evaluate("Date.now()")) + 800
    click = """([id, at]) => setTimeout(() => {
        // Looked up when the timer fires: the queue re-renders its rows every 2 s.
        document.querySelector(`#queue tr[data-handoff="${id}"] button`).click();
    }, Math.max(0, at - Date.now()))"""
    with pages["anne"].expect_navigation(), pages["bo"].expect_navigation():
        for page in pages.values():
            page.evaluate(click, [handoff_id, moment])
    won = [u for u, p in pages.items() if p.url.endswith(f"/konsol/samtaler/{handoff_id}")]
    assert len(won) == 1, [p.url for p in pages.values()]
    winner = won[0]
    loser = "bo" if winner == "anne" else "anne"
    pages[loser].get_by_text(f"Samtalen er allerede taget af {winner}.").wait_for()
    return winner, loser


def test_live_handoff_claim_reply_and_hand_back(
    stack: Stack, new_page: Any, console_users: Any, artifacts: Path
) -> None:
    # Both agents are at the console before the citizen arrives: the chat is staffed.
    pages = {"anne": new_page(), "bo": new_page()}
    for username, page in pages.items():
        login(page, stack, username)
    citizen = new_page()
    open_widget(citizen, stack)
    # The stack's clock says Monday 19:00: the evening hotline is open, and agents are here.
    assert citizen.get_by_role("button", name="Tal med en medarbejder").is_visible()
    say(citizen, "Hvordan får jeg MitID?")
    citizen.get_by_text("Fik du svar på dit spørgsmål?").wait_for()
    say(citizen, "jeg vil tale med en medarbejder")
    citizen.get_by_text("Du er i kø til en medarbejder").wait_for(timeout=10_000)
    assert citizen.get_by_role("button", name="Bestil et opkald i stedet").is_visible()

    conversation_id = citizen.evaluate("localStorage.getItem('borgerbot.0101.conversation')")
    [(handoff_id, guesses)] = stack.query(
        "select id, guesses from handoffs where conversation_id = :c", c=conversation_id
    )
    titles = [g["title"] for g in json.loads(guesses)]
    assert titles, "the bot's guesses from the MitID question"
    row = pages["anne"].locator(f'#queue tr[data-handoff="{handoff_id}"]')
    row.wait_for()
    # The guesses list, not the summary (which quotes the citizen's "Hvordan får jeg MitID?").
    assert row.locator("ol.guesses li").all_inner_texts() == titles
    assert "mitid" in json.loads(guesses)[0]["slug"]
    pages["anne"].screenshot(path=str(artifacts / "console-queue.png"), full_page=True)
    pages["bo"].locator(f'#queue tr[data-handoff="{handoff_id}"]').wait_for()

    winner, loser = claim_at_the_same_moment(pages, handoff_id)
    agent = pages[winner]
    print(f"\nclaim race: {winner} won, {loser} was told")
    agent.get_by_label("Dit svar til borgeren").wait_for()
    citizen.get_by_text(f"Du skriver nu med {first_name(winner)} fra Borgerservice").first.wait_for(
        timeout=2_000
    )
    assert not citizen.get_by_role("button", name="Bestil et opkald i stedet").is_visible()
    box = agent.get_by_label("Dit svar til borgeren")

    # An agent reply stored between the widget's last poll and the citizen's send arrives with
    # the POST's answer: the widget's polls are held back here, so nothing else could bring it.
    citizen.route("**/api/chat/*/messages*", lambda route: route.abort())
    time.sleep(0.7)  # a poll already on its way lands first
    box.fill("Kan du se denne besked?")
    agent.get_by_role("button", name="Send svar").click()
    agent.locator("#transcript li.agent").filter(has_text="Kan du se denne besked?").wait_for()
    say(citizen, "Hallo?")
    citizen.locator(".msg.agent").filter(has_text="Kan du se denne besked?").wait_for(timeout=3_000)
    citizen.unroute("**/api/chat/*/messages*")

    # The same for the console: a citizen message that came after its last poll arrives with the
    # answer to the agent's reply.
    agent.route("**/beskeder*", lambda route: route.abort())
    time.sleep(1.2)
    say(citizen, "Er du der stadig?")
    citizen.locator(".msg.citizen:not(.pending)").filter(has_text="Er du der stadig?").wait_for()
    box.fill("Ja, jeg er her.")
    agent.get_by_role("button", name="Send svar").click()
    agent.locator("#transcript li.agent").filter(has_text="Ja, jeg er her.").wait_for()
    assert agent.locator("#transcript li.citizen").filter(has_text="Er du der stadig?").count() == 1
    agent.unroute("**/beskeder*")

    # Agent → citizen latency, over 20 replies, as the citizen's widget shows them.
    delays = []
    for i in range(LATENCY_SAMPLES):
        text = f"Svar nummer {i + 1} fra {first_name(winner)}"
        box.fill(text)
        started = time.perf_counter()
        agent.get_by_role("button", name="Send svar").click()
        citizen.locator(".msg.agent").filter(has_text=text).wait_for(timeout=2_000)
        delays.append(time.perf_counter() - started)
    median_ms = statistics.median(delays) * 1000
    print(f"agent reply → citizen widget: median {median_ms:.0f} ms, "
          f"max {max(delays) * 1000:.0f} ms over {LATENCY_SAMPLES}")  # fmt: skip
    (artifacts / "agent-to-citizen-latency.txt").write_text(
        f"median_ms={median_ms:.0f} max_ms={max(delays) * 1000:.0f} n={LATENCY_SAMPLES}\n"
    )
    assert max(delays) < 2.0

    # While the agent holds the chat the bot stays silent, even on a question it could answer.
    bots_before = citizen.locator(".msg.bot").count()
    say(citizen, "Hvordan får jeg MitID? Og hvad med mit pas?")
    agent.locator("#transcript li.citizen").filter(has_text="hvad med mit pas").wait_for(
        timeout=2_000
    )
    time.sleep(3)  # the bot answers this question in about a second when it has the chat
    assert citizen.locator(".msg.bot").count() == bots_before
    [(last_citizen,)] = stack.query(
        "select max(seq) from messages where conversation_id = :c and sender = 'citizen'",
        c=conversation_id,
    )
    assert stack.query(
        "select seq from messages where conversation_id = :c and sender = 'bot' and seq > :s",
        c=conversation_id, s=last_citizen,
    ) == []  # fmt: skip
    citizen.screenshot(path=str(artifacts / "widget-agent-chat.png"))
    agent.screenshot(path=str(artifacts / "console-conversation.png"), full_page=True)
    violations = run_axe(agent)
    (artifacts / "axe-console-conversation.json").write_text(
        json.dumps(violations, indent=2, ensure_ascii=False)
    )
    serious = [v["id"] for v in violations if v["impact"] in ("serious", "critical")]
    assert serious == []

    agent.get_by_role("button", name="Giv tilbage til botten").click()
    agent.get_by_text("givet tilbage til den digitale assistent").wait_for()
    citizen.get_by_text("Du skriver igen med den digitale assistent").wait_for(timeout=2_000)
    bot_messages = citizen.locator(".msg.bot").count()
    say(citizen, "Hvordan får jeg MitID?")
    citizen.locator(".msg.bot").nth(bot_messages).wait_for()
    assert "MitID" in citizen.locator(".msg.bot").nth(bot_messages).inner_text()


def test_a_waiting_citizen_orders_a_callback_instead(
    stack: Stack, new_page: Any, console_users: Any, artifacts: Path
) -> None:
    anne = new_page()
    login(anne, stack, "anne")  # at the console, but busy: nobody claims
    citizen = new_page()
    open_widget(citizen, stack)
    say(citizen, "jeg vil tale med en medarbejder")
    citizen.get_by_text("Du er i kø til en medarbejder").wait_for(timeout=10_000)
    conversation_id = citizen.evaluate("localStorage.getItem('borgerbot.0101.conversation')")
    [(handoff_id,)] = stack.query(
        "select id from handoffs where conversation_id = :c", c=conversation_id
    )
    row = anne.locator(f'#queue tr[data-handoff="{handoff_id}"]')
    row.wait_for()
    instead = citizen.get_by_role("button", name="Bestil et opkald i stedet")
    violations = run_axe(citizen)
    (artifacts / "axe-widget-queue.json").write_text(
        json.dumps(violations, indent=2, ensure_ascii=False)
    )
    assert [v["id"] for v in violations if v["impact"] in ("serious", "critical")] == []
    citizen.screenshot(path=str(artifacts / "widget-queue.png"))
    instead.focus()
    citizen.keyboard.press("Enter")
    citizen.get_by_text("Hvad er dit navn?").wait_for()  # the bot's callback form has started
    assert not instead.is_visible()
    assert citizen.get_by_label("Skriv din besked").evaluate(
        "el => el === el.getRootNode().activeElement"
    ), "focus goes to the message box, not to the page"
    assert stack.query(
        "select status, close_reason from handoffs where conversation_id = :c", c=conversation_id
    ) == [("closed", "Borgeren bestilte et opkald i stedet")]
    row.wait_for(state="detached", timeout=5_000)  # gone at the next queue refresh


SLOW_QUEUE_POLLS = """(() => {
    // The queue's answers take 5 s (a slow server); record how many are in flight at once.
    window.__queuePolls = { inFlight: 0, most: 0, started: 0 };
    const realFetch = window.fetch.bind(window);
    window.fetch = (url, options) => {
        if (!String(url).includes("koe.json")) return realFetch(url, options);
        const q = window.__queuePolls;
        q.started++; q.inFlight++; q.most = Math.max(q.most, q.inFlight);
        return new Promise((ok) => setTimeout(ok, 5000))
            .then(() => realFetch(url, options))
            .finally(() => { q.inFlight--; });
    };
})()"""


def test_a_slow_server_never_gets_overlapping_console_polls(
    stack: Stack, new_page: Any, console_users: Any
) -> None:
    page = new_page()
    page.add_init_script(SLOW_QUEUE_POLLS)
    login(page, stack, "bo")
    page.goto(f"{stack.web_url}/konsol/samtaler")
    page.wait_for_timeout(7_500)  # a poll every 2 s, each answered after 5 s
    polls = page.evaluate("window.__queuePolls")
    assert polls["started"] >= 1 and polls["most"] == 1, polls
