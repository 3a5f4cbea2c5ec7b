"""Start the three real processes (Rasa, actions, web) on free ports for integration tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.run import health_urls, wait_until_healthy
from bot.settings import Settings
from bot.train import model_path

ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 240


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Stack:
    settings: Settings
    procs: dict[str, subprocess.Popen]
    log_dir: Path

    @property
    def web_url(self) -> str:
        return self.settings.web_url.rstrip("/")

    def log(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The real Rasa server, action server and web app, as `make run` starts them."""
    env = dict(os.environ)
    env.update(
        {
            "BORGERBOT_RASA_PORT": str(_free_port()),
            "BORGERBOT_ACTIONS_PORT": str(_free_port()),
            "BORGERBOT_WEB_PORT": str(_free_port()),
            "DATABASE_URL": f"sqlite:///{tmp_path_factory.mktemp('db') / 'borgerbot.db'}",
            # lets the dialogue tests say what time it is (message metadata "now")
            "BORGERBOT_ALLOW_CLOCK_OVERRIDE": "1",
        }
    )
    subprocess.run([sys.executable, "-m", "bot.store", "upgrade"], cwd=ROOT, env=env, check=True)
    settings = Settings.from_env(env)
    if not model_path(settings).exists():
        pytest.fail("no trained Rasa model for the current inputs; run `make setup`")
    log_dir = Path(os.environ.get("BORGERBOT_TEST_LOGS", tmp_path_factory.mktemp("logs")))
    log_dir.mkdir(parents=True, exist_ok=True)
    procs = {}
    for name in ("rasa", "actions", "web"):
        log = (log_dir / f"{name}.log").open("w")
        procs[name] = subprocess.Popen(
            [sys.executable, "-m", "bot.serve", name],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    stack = Stack(settings=settings, procs=procs, log_dir=log_dir)
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
