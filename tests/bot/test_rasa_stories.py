"""Conversation stories (bot/tests/*.yml) against the trained Rasa model, via `rasa test core`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.rasa_env import rasa_environment
from bot.settings import BOT_DIR, Settings
from bot.train import model_path

pytestmark = pytest.mark.slow


def test_every_story_passes(tmp_path: Path) -> None:
    settings = Settings.from_env()
    model = model_path(settings)
    if not model.exists():
        pytest.fail("no trained Rasa model for the current inputs; run `make setup`")
    out = tmp_path / "results"
    subprocess.run(
        [
            sys.executable, "-m", "rasa", "test", "core", "--model", str(model),
            "--stories", str(BOT_DIR / "tests"), "--out", str(out), "--no-plot",
        ],
        check=True, env=rasa_environment(settings), cwd=BOT_DIR.parent,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    report = json.loads((out / "story_report.json").read_text())
    failed = out / "failed_test_stories.yml"
    failures = failed.read_text() if failed.exists() else ""
    assert report["conversation_accuracy"]["accuracy"] == 1.0, failures
