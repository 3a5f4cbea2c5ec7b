"""The three real processes (Rasa, actions, web) on free ports, shared by the integration and the
browser tests (one start per test session).

They run over a throwaway data folder: a copy of the guides and the index (the editor tests
publish into it), links to the built model and the trained Rasa model, and an empty database.
The web front's clock is fixed to a Monday evening, when the hotline is open; a hand-off also
needs an agent at the console (`Stack.agent_present`), as in production."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from bot.run import health_urls, wait_until_healthy
from bot.settings import Settings
from bot.train import model_path

ROOT = Path(__file__).resolve().parents[1]
STARTUP_TIMEOUT_S = 240
MONDAY_EVENING = "2026-11-23T19:00:00+01:00"  # evening hotline open (bot/schedule.yml)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Stack:
    settings: Settings
    procs: dict[str, subprocess.Popen]
    log_dir: Path
    env: dict[str, str]

    def create_user(self, username: str, role: str, name: str, password: str) -> None:
        """A console user in the stack's database, through the real CLI."""
        subprocess.run(
            [sys.executable, "-m", "bot.web", "create-user", "--role", role, "--name", name,
             "--password-stdin", username],
            cwd=ROOT, env=self.env, input=password + "\n", text=True, check=True,
            capture_output=True,
        )  # fmt: skip

    @property
    def web_url(self) -> str:
        return self.settings.web_url.rstrip("/")

    def query(self, sql: str, **params: object) -> list[tuple]:
        engine = create_engine(self.settings.database_url)
        try:
            with engine.begin() as conn:
                result = conn.execute(text(sql), params)
                return [tuple(r) for r in result] if result.returns_rows else []
        finally:
            engine.dispose()

    def agent_present(self, username: str, password: str) -> requests.Session:
        """Log `username` into the console over HTTP and poll the queue once, as the open
        queue page does: an agent is then at work for the presence window (120 s)."""
        console = requests.Session()
        page = console.get(f"{self.web_url}/konsol/login", timeout=10).text
        token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        console.post(
            f"{self.web_url}/konsol/login",
            data={"username": username, "password": password, "csrf_token": token},
            timeout=10,
        ).raise_for_status()
        queue = console.get(
            f"{self.web_url}/konsol/samtaler/koe.json",
            headers={"Accept": "application/json"},
            timeout=10,
        )
        queue.raise_for_status()
        return console

    def no_agents_present(self) -> None:
        """As if every agent had logged out (or not polled for longer than the window)."""
        self.query("UPDATE users SET last_seen_at = NULL")

    def log(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")

    def restart(self, name: str) -> None:
        """Stop one process and start it again, as a deploy or a crash would, and wait until it
        is healthy (Rasa: the model loaded, about 45 s)."""
        old = self.procs[name]
        old.terminate()
        try:
            old.wait(timeout=20)
        except subprocess.TimeoutExpired:
            old.kill()
        self.procs[name] = _launch(name, self.env, self.log_dir)
        wait_until_healthy(
            {name: health_urls(self.settings)[name]}, STARTUP_TIMEOUT_S, {name: self.procs[name]}
        )


def _launch(name: str, env: dict[str, str], log_dir: Path) -> subprocess.Popen:
    log = (log_dir / f"{name}.log").open("a")  # a restart appends to the same log
    return subprocess.Popen(
        [sys.executable, "-m", "bot.serve", name],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The real Rasa server, action server and web app, as `make run` starts them."""
    real = Settings.from_env()
    data_dir = tmp_path_factory.mktemp("data")
    for shared in ("models", "rasa-models", "cache"):
        if (real.data_dir / shared).exists():
            (data_dir / shared).symlink_to(real.data_dir / shared)
    shutil.copytree(real.data_dir / "index", data_dir / "index", symlinks=True)
    guides_dir = tmp_path_factory.mktemp("guides")
    shutil.copytree(real.knowledge.guides_dir, guides_dir, dirs_exist_ok=True)
    env = dict(os.environ)
    env.update(
        {
            "BORGERBOT_DATA_DIR": str(data_dir),
            "BORGERBOT_GUIDES_DIR": str(guides_dir),
            "BORGERBOT_TEST_CLOCK": MONDAY_EVENING,
            "BORGERBOT_RASA_PORT": str(_free_port()),
            "BORGERBOT_ACTIONS_PORT": str(_free_port()),
            "BORGERBOT_WEB_PORT": str(_free_port()),
            "DATABASE_URL": f"sqlite:///{data_dir / 'borgerbot.db'}",
            # lets the dialogue tests say what time it is (message metadata "now")
            "BORGERBOT_ALLOW_CLOCK_OVERRIDE": "1",
            # Every test's browser sends from 127.0.0.1, like citizens on one shared network:
            # the whole suite is well over the default 30 messages a minute.
            "BORGERBOT_CITIZEN_MESSAGES_PER_MINUTE": "10000",
        }
    )
    subprocess.run([sys.executable, "-m", "bot.store", "upgrade"], cwd=ROOT, env=env, check=True)
    settings = Settings.from_env(env)
    if not model_path(settings).exists():
        pytest.fail("no trained Rasa model for the current inputs; run `make setup`")
    log_dir = Path(os.environ.get("BORGERBOT_TEST_LOGS", tmp_path_factory.mktemp("logs")))
    log_dir.mkdir(parents=True, exist_ok=True)
    for name in ("rasa", "actions", "web"):
        (log_dir / f"{name}.log").write_text("")
    procs = {name: _launch(name, env, log_dir) for name in ("rasa", "actions", "web")}
    stack = Stack(settings=settings, procs=procs, log_dir=log_dir, env=env)
    try:
        try:
            wait_until_healthy(health_urls(settings), STARTUP_TIMEOUT_S, procs)
        except RuntimeError as exc:
            logs = "\n".join(f"--- {n}\n{stack.log(n)[-3000:]}" for n in procs)
            raise RuntimeError(f"{exc}\n{logs}") from exc
        yield stack
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
