"""`make run`: start Rasa, the action server and the web app under honcho, print the chat URL.

Ctrl-C stops all three (honcho forwards the signal to its children).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from bot.settings import BOT_DIR, Settings

STARTUP_TIMEOUT_S = 300


def health_urls(settings: Settings) -> dict[str, str]:
    return {
        # The REST channel's own health route: it answers once the model is loaded (Rasa loads
        # it before it starts listening), and needs no --enable-api.
        "rasa": f"{settings.rasa_url}/webhooks/rest/",
        "actions": f"http://{settings.host}:{settings.actions_port}/health",
        "web": f"{settings.web_url}healthz",
    }


def wait_until_healthy(
    urls: dict[str, str], timeout: float, procs: dict[str, subprocess.Popen]
) -> None:
    """Poll each health URL until all answer; fail fast if a process exits meanwhile."""
    pending = dict(urls)
    deadline = time.monotonic() + timeout
    while pending:
        exited = [name for name, proc in procs.items() if proc.poll() is not None]
        if exited:
            raise RuntimeError(f"{', '.join(exited)} exited during start-up")
        if time.monotonic() > deadline:
            raise TimeoutError(f"not healthy after {timeout:.0f} s: {', '.join(pending)}")
        for name, url in list(pending.items()):
            try:
                if requests.get(url, timeout=2).ok:
                    del pending[name]
            except requests.RequestException:
                pass
        time.sleep(0.5)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    # Ctrl-C and `kill` both stop everything, also when started from a script that ignores SIGINT.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    settings = Settings.from_env()
    root = BOT_DIR.parent
    env = dict(os.environ)
    # Procfile commands say `python`: make it this virtualenv's interpreter.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "honcho", "start", "-f", str(root / "Procfile"), "-d", str(root)],
        env=env,
    )
    try:
        wait_until_healthy(health_urls(settings), STARTUP_TIMEOUT_S, {"honcho": proc})
        print(
            f"\nBorgerbot is running (started in {time.monotonic() - started:.1f} s).\n"
            f"  Demo site with the chat widget: {settings.web_url}\n"
            f'  Widget for your site: <script src="{settings.web_url}widget.js" '
            'data-municipality="0101" defer></script>\n'
            f"  Console (agents, editors, admins): {settings.web_url}konsol/\n"
            f"  Rasa:    {settings.rasa_url}\n"
            f"  Actions: http://{settings.host}:{settings.actions_port}\n"
            f"{_first_admin_hint(settings)}"
            "Press Ctrl-C to stop.\n",
            flush=True,
        )
        return proc.wait()
    except KeyboardInterrupt:
        return _stop(proc)
    except (RuntimeError, TimeoutError) as exc:
        print(f"start-up failed: {exc}", file=sys.stderr)
        _stop(proc)
        return 1


def _first_admin_hint(settings: Settings) -> str:
    """With no console users yet, say how to create the first admin."""
    from sqlalchemy import func, select

    from bot.store.db import Store
    from bot.store.models import User

    store = Store(settings.database_url)
    try:
        with store.read() as db:
            if db.scalar(select(func.count()).select_from(User)):
                return ""
    finally:
        store.dispose()
    return (
        "  No console users yet. Create the first admin:\n"
        "    .venv/bin/python -m bot.web create-user --role admin --name 'Your Name' admin\n"
    )


def _stop(proc: subprocess.Popen) -> int:
    # honcho stops its processes on SIGTERM (SIGINT may be ignored when we run in background).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
