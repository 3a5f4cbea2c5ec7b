"""Start one of the three processes with ports and paths from bot.settings.

`python -m bot.serve rasa|actions|web` — used by the Procfile (honcho) and by the tests.
"""

from __future__ import annotations

import os
import sys

from bot.rasa_env import rasa_environment
from bot.settings import BOT_DIR, Settings
from bot.train import model_path


def command(process: str, settings: Settings) -> list[str]:
    py = sys.executable
    if process == "rasa":
        model = model_path(settings)
        if not model.exists():
            raise SystemExit(f"No trained Rasa model at {model}; run `make setup` first.")
        # No --enable-api: the web front talks to Rasa only through the REST channel's webhook,
        # and the HTTP API (trackers, events, model replacement) would be open to anyone who
        # reaches the port, as it has no token of its own unless given one.
        return [
            py, "-m", "rasa", "run",
            "--model", str(model),
            "--endpoints", str(BOT_DIR / "endpoints.yml"),
            "--credentials", str(BOT_DIR / "credentials.yml"),
            "--interface", settings.host, "--port", str(settings.rasa_port),
        ]  # fmt: skip
    if process == "actions":
        return [py, "-m", "rasa_sdk", "--actions", "actions", "--port", str(settings.actions_port)]
    if process == "web":
        # One process with threads: the widget and console poll (short requests), the model
        # for console search and publishing is loaded once, and the citizen rate limit is exact.
        return [
            py, "-m", "gunicorn", "--bind", f"{settings.host}:{settings.web_port}",
            "--worker-class", "gthread", "--workers", "1", "--threads", "32",
            "--access-logfile", "-", "bot.web:create_app()",
        ]  # fmt: skip
    raise SystemExit(f"unknown process {process!r}; use rasa, actions or web")


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        raise SystemExit("usage: python -m bot.serve rasa|actions|web")
    settings = Settings.from_env()
    cmd = command(args[0], settings)
    os.chdir(BOT_DIR.parent)
    env = rasa_environment(settings)
    if args[0] == "actions":
        env["BORGERBOT_WARM_UP"] = "1"  # load the embedding model before the first question
    os.execvpe(cmd[0], cmd, env)


if __name__ == "__main__":
    main()
