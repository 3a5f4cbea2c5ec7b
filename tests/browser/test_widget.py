"""A citizen uses the widget in Chromium against the real Rasa, actions and web processes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import login, open_widget, run_axe, say
from tests.stack import Stack


def focused(page: Any) -> str:
    """What has keyboard focus inside the widget: the element's id or its text."""
    return str(
        page.evaluate(
            """() => { const r = document.getElementById('borgerbot-widget').shadowRoot;
                       const el = r.activeElement; return el ? (el.id || el.textContent) : ''; }"""
        )
    )


pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]


def last_bot_text(page: Any) -> str:
    return str(page.locator(".msg.bot").last.inner_text())


def test_citizen_asks_and_gets_the_guide_answer_with_its_link(
    stack: Stack, new_page: Any, artifacts: Path
) -> None:
    page = new_page()
    open_widget(page, stack)
    assert "digitale assistent" in page.locator(".msg.greeting").inner_text()
    assert page.get_by_label("Skriv din besked").evaluate(
        "el => el === el.getRootNode().activeElement"
    ), "focus moves into the chat when it opens"
    say(page, "Hvordan får jeg MitID?")
    page.get_by_text("Fik du svar på dit spørgsmål?").wait_for()
    answer = page.locator(".msg.bot").filter(has_text="Læs mere og gør det selv her")
    link = answer.get_by_role("link")
    assert "mitid" in (link.get_attribute("href") or "").lower()
    assert link.get_attribute("target") == "_blank"
    page.screenshot(path=str(artifacts / "widget-answer.png"))

    # The conversation survives a reload: same id, same messages, panel still open.
    before = page.locator(".msg").count()
    page.reload()
    page.get_by_text("Fik du svar på dit spørgsmål?").wait_for()
    assert page.locator(".msg").count() == before - 1  # all but the client-side greeting
    page.get_by_role("button", name="Ja").click()
    page.locator(".msg.citizen").filter(has_text="Ja").wait_for()
    page.locator(".msg.bot").nth(-1).wait_for()


def test_keyboard_only_use_and_escape_closes(stack: Stack, new_page: Any) -> None:
    page = new_page()
    page.goto(f"{stack.web_url}/?kommune=0101")
    launcher = page.get_by_role("button", name="Spørg kommunen")
    for _ in range(12):  # Tab through the host page until the launcher has focus
        page.keyboard.press("Tab")
        if launcher.evaluate("el => el === el.getRootNode().activeElement"):
            break
    else:
        pytest.fail("the chat button cannot be reached with Tab")
    page.keyboard.press("Enter")
    box = page.get_by_label("Skriv din besked")
    box.wait_for()
    page.keyboard.type("hej")
    page.keyboard.press("Enter")
    page.locator(".msg.citizen").filter(has_text="hej").wait_for()
    page.keyboard.press("Escape")
    assert launcher.is_visible()
    assert launcher.evaluate("el => el === el.getRootNode().activeElement")


def test_callback_booked_in_the_widget_appears_in_the_agents_list(
    stack: Stack, new_page: Any, console_users: Any, artifacts: Path
) -> None:
    page = new_page()
    open_widget(page, stack)
    say(page, "Kan I ringe mig op?")
    page.get_by_text("Hvad er dit navn?").wait_for()
    say(page, "Karen Vestergaard")
    page.get_by_text("telefonnummer").last.wait_for()
    say(page, "12")
    page.get_by_text("ligner ikke et dansk telefonnummer").wait_for()
    say(page, "+45 22 33 44 55")
    slots = page.locator(".quick button")
    slots.first.wait_for()
    slot_label = slots.first.inner_text()  # e.g. "tirsdag 24. november kl. 09.00–09.30"
    slots.first.click()
    # No earlier question in this chat, so the topic is asked for, not suggested.
    page.get_by_text("Hvad handler opkaldet om?").wait_for()
    say(page, "Fornyelse af pas til min søn")
    summary = page.locator(".msg.bot").filter(has_text="Navn: Karen Vestergaard")
    summary.wait_for()
    assert f"Tid: {slot_label}" in summary.inner_text()  # the slot the citizen chose
    page.screenshot(path=str(artifacts / "widget-callback-summary.png"))
    page.get_by_role("button", name="Bekræft").click()
    booked = page.locator(".msg.bot").filter(has_text="Dit opkald er bestilt")
    booked.wait_for()
    assert slot_label in booked.inner_text()

    agent = new_page()
    login(agent, stack, "anne")
    agent.get_by_role("link", name="Opkald").click()
    row = agent.locator("#callbacks tr").filter(has_text="Karen Vestergaard")
    row.wait_for()
    assert "+4522334455" in row.inner_text()
    assert "Borgerservice" in row.inner_text()
    assert "Fornyelse af pas til min søn" in row.inner_text()
    agent.screenshot(path=str(artifacts / "console-callbacks.png"), full_page=True)


def test_widget_has_no_serious_accessibility_violations(
    stack: Stack, new_page: Any, artifacts: Path
) -> None:
    page = new_page()
    open_widget(page, stack)
    say(page, "Hvordan får jeg MitID?")
    page.get_by_text("Fik du svar på dit spørgsmål?").wait_for()
    violations = run_axe(page)
    (artifacts / "axe-widget.json").write_text(json.dumps(violations, indent=2, ensure_ascii=False))
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert serious == [], [(v["id"], v["help"], len(v["nodes"])) for v in serious]


def test_a_quick_reply_by_keyboard_keeps_focus_in_the_chat(stack: Stack, new_page: Any) -> None:
    page = new_page()
    open_widget(page, stack)
    assert focused(page) == "bb-input"
    for _ in range(6):  # back from the message box to the greeting's first quick reply
        page.keyboard.press("Shift+Tab")
        if focused(page) == "Hvordan får jeg MitID?":
            break
    else:
        pytest.fail("the quick replies cannot be reached with the keyboard")
    page.keyboard.press("Enter")
    # The buttons are gone once pressed; focus must not fall to the page (WCAG 2.4.3).
    assert focused(page) == "bb-input"
    page.get_by_text("Fik du svar på dit spørgsmål?").wait_for()
    page.keyboard.type("tak")  # straight on, without reaching for the mouse
    page.keyboard.press("Enter")
    page.locator(".msg.citizen").filter(has_text="tak").wait_for()


def test_text_sent_while_a_reply_is_pending_is_queued_not_lost(stack: Stack, new_page: Any) -> None:
    page = new_page()
    open_widget(page, stack)
    say(page, "Hvordan får jeg MitID?")
    say(page, "Hvordan bestiller jeg pas?")  # at once: the first reply is still on its way
    page.locator(".msg.bot").filter(has_text="Fik du svar på dit spørgsmål?").nth(1).wait_for()
    page.wait_for_function(
        """() => !document.getElementById('borgerbot-widget').shadowRoot
                   .querySelector('.msg.citizen.pending, .msg.citizen.failed')"""
    )
    assert page.locator(".msg.citizen .text").all_inner_texts() == [
        "Hvordan får jeg MitID?",
        "Hvordan bestiller jeg pas?",
    ]
    conversation_id = page.evaluate("localStorage.getItem('borgerbot.0101.conversation')")
    stored = stack.query(
        "select text from messages where conversation_id = :c and sender = 'citizen' order by seq",
        c=conversation_id,
    )
    assert stored == [("Hvordan får jeg MitID?",), ("Hvordan bestiller jeg pas?",)]


def test_a_masked_cpr_number_is_shown_once_as_stored(stack: Stack, new_page: Any) -> None:
    page = new_page()
    open_widget(page, stack)
    say(page, "Mit CPR-nummer er 010203-1234, hvordan får jeg MitID?")
    page.locator(".msg.bot:not(.greeting)").first.wait_for()  # the POST has come back
    assert page.locator(".msg.citizen .text").all_inner_texts() == [
        "Mit CPR-nummer er [CPR-nummer skjult], hvordan får jeg MitID?"
    ]


def test_in_opening_hours_with_no_agent_present_a_callback_is_offered(
    stack: Stack, new_page: Any
) -> None:
    stack.no_agents_present()  # Monday 19:00, the hotline is open, but nobody is logged in
    page = new_page()
    open_widget(page, stack)
    page.get_by_role("button", name="Bestil et opkald").wait_for()
    assert page.get_by_role("button", name="Tal med en medarbejder").count() == 0
    say(page, "jeg vil tale med en medarbejder")
    page.get_by_text("Der er ingen ledige medarbejdere i chatten lige nu.").wait_for()
    page.get_by_role("button", name="Ja, ring mig op").click()
    page.get_by_text("Hvad er dit navn?").wait_for()
    assert page.locator(".status").inner_text() == ""  # never "Du er i kø"


def test_a_failed_send_is_resent_with_its_id_and_nothing_overtakes_it(
    stack: Stack, new_page: Any
) -> None:
    """The server stores the message but the answer never reaches the widget: "Prøv igen" sends
    the same message (same client id, stored once), and text typed meanwhile waits behind it."""
    page = new_page()
    open_widget(page, stack)
    sent_ids: list[str] = []

    def answer_lost(route: Any) -> None:
        sent_ids.append(route.request.post_data_json["client_id"])
        route.fetch()  # the server stores the message and asks the bot ...
        route.abort()  # ... but the widget never hears back

    page.route("**/api/chat", answer_lost)
    say(page, "Hvordan får jeg MitID?")
    say(page, "Hvordan bestiller jeg pas?")
    retry = page.get_by_role("button", name="Prøv igen")
    retry.wait_for()  # after the widget's own two retries
    assert "Tryk på »Prøv igen«" in page.locator(".error").inner_text()
    assert len(sent_ids) == 3 and len(set(sent_ids)) == 1, sent_ids
    conversation_id = page.evaluate("localStorage.getItem('borgerbot.0101.conversation')")

    def stored() -> list[tuple]:
        return stack.query(
            "select text, client_id from messages where conversation_id = :c "
            "and sender = 'citizen' order by seq",
            c=conversation_id,
        )

    assert stored() == [("Hvordan får jeg MitID?", sent_ids[0])]  # the second waits

    page.unroute("**/api/chat")
    retry.click()
    assert focused(page) == "bb-input"
    page.locator(".msg.bot").filter(has_text="Fik du svar på dit spørgsmål?").nth(1).wait_for()
    page.wait_for_function(
        """() => !document.getElementById('borgerbot-widget').shadowRoot
                   .querySelector('.msg.citizen.pending, .msg.citizen.failed')"""
    )
    both = ["Hvordan får jeg MitID?", "Hvordan bestiller jeg pas?"]
    assert [text for text, _ in stored()] == both  # each once, in the order typed
    assert stored()[0][1] == sent_ids[0]
    assert page.locator(".msg.citizen .text").all_inner_texts() == both
    assert not retry.is_visible() and page.locator(".error").inner_text() == ""
