"""Playwright driving Debian's Chromium (headless) against the real stack (tests/stack.py).

Screenshots go to test-artifacts/ (or BORGERBOT_TEST_ARTIFACTS) so a person can look at them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.stack import Stack

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("BORGERBOT_CHROMIUM", "/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "en-lang-test-adgangskode"
USERS = {
    "anne": ("agent", "Anne Hansen"),
    "bo": ("agent", "Bo Berg"),
    "eva": ("editor", "Eva Lund"),
    "ida": ("admin", "Ida Holm"),
}


@pytest.fixture(scope="session")
def artifacts() -> Path:
    path = Path(os.environ.get("BORGERBOT_TEST_ARTIFACTS", ROOT / "test-artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; `make setup` installs it (apt chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def console_users(stack: Stack) -> dict[str, tuple[str, str]]:
    for username, (role, name) in USERS.items():
        stack.create_user(username, role, name, PASSWORD)
    return USERS


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[[], Any]]:
    """new_page() opens a page in a fresh browser context (its own storage, like a new person)."""
    contexts = []

    def make() -> Any:
        context = browser.new_context(locale="da-DK", viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def login(page: Any, stack: Stack, username: str) -> None:
    page.goto(f"{stack.web_url}/konsol/login")
    page.get_by_label("Brugernavn").fill(username)
    page.get_by_label("Adgangskode").fill(PASSWORD)
    page.get_by_role("button", name="Log ind").click()
    page.wait_for_url(lambda url: "/konsol/login" not in url)


def open_widget(page: Any, stack: Stack, municipality: str = "0101") -> None:
    page.goto(f"{stack.web_url}/?kommune={municipality}")
    page.get_by_role("button", name="Spørg kommunen").click()
    page.get_by_label("Skriv din besked").wait_for()


def say(page: Any, text: str) -> None:
    box = page.get_by_label("Skriv din besked")
    box.fill(text)
    box.press("Enter")


def run_axe(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page (shadow DOM included), WCAG 2.1 A and AA rules."""
    page.add_script_tag(path=str(AXE))
    return list(
        page.evaluate(
            """async () => (await axe.run(document, {runOnly: {type: 'tag',
                values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})).violations"""
        )
    )
