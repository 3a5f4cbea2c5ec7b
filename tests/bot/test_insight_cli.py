"""`python -m bot.insight`: the reports for scripts, over DATABASE_URL."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.insight.__main__ import main
from bot.store import Store
from bot.store.migrate import upgrade
from tests.bot.insight_seed import FIRST, LAST, seed

REPO = Path(__file__).resolve().parents[2]


class OneHotEmbedder:
    """Every distinct text its own direction: nothing is similar, every question alone."""

    def __init__(self) -> None:
        self.calls = 0

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        vectors = np.zeros((len(texts), 512), dtype=np.float32)
        for i, text in enumerate(texts):
            vectors[i, hash(text.lower()) % 512] = 1.0
        return vectors


def no_model() -> Any:
    raise AssertionError("the model must not be loaded")


@pytest.fixture
def seeded_url(store: Store, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    seed(store)
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    return sqlite_url


def run(argv: list[str], capsys: pytest.CaptureFixture[str], **kw: Any) -> tuple[int, str, str]:
    code = main(argv, **kw)
    out, err = capsys.readouterr()
    return code, out, err


def test_analytics_text(seeded_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["analytics", "--from", FIRST, "--to", LAST, "--municipality", "0101"],
                       capsys, embedder=no_model)  # fmt: skip
    assert code == 0
    assert out.startswith("Analytics 2026-03-23..2026-03-31, municipality 0101\n")
    assert "Conversations           6\n" in out
    assert "Contained               3  (50.0% without hand-off or callback)" in out
    assert "Hand-offs               2\n" in out and "Callbacks booked        1\n" in out
    assert "(answered 3, clarify 1, not understood 2)" in out
    assert "Feedback           yes 1, no 2" in out
    # titles come from the guide files
    assert "    2  pas-bestil  Hvordan bestiller jeg nyt pas som voksen?" in out
    assert "Busiest: Mon 09:00 (3), Mon 00:00 (1), Mon 12:00 (1)" in out


def test_analytics_csv(seeded_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["analytics", "--from", FIRST, "--to", LAST, "--csv"], capsys)
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    summary = {r["measure"]: r["value"] for r in rows if r["section"] == "summary"}
    assert summary["municipality"] == "all"
    assert (summary["conversations"], summary["contained"], summary["callbacks"]) == ("7", "3", "2")
    assert summary["containment"] == "0.4286"


def test_default_period_is_the_last_30_days(
    seeded_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["analytics", "--municipality", "0101"], capsys, today=date(2026, 4, 1))
    assert code == 0
    assert out.startswith("Analytics 2026-03-03..2026-04-01, municipality 0101")
    assert "Conversations           8\n" in out  # c1-c4, c6-c9


def test_unanswered_text_without_similar_questions(
    seeded_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = OneHotEmbedder()
    code, out, _ = run(["unanswered", "--since", FIRST, "--until", LAST, "--municipality", "0101"],
                       capsys, embedder=lambda: fake)  # fmt: skip
    assert code == 0
    assert out.startswith(
        "Unanswered questions 2026-03-23..2026-03-31, municipality 0101: 4 of 6 questions, "
        "4 clusters\n"
    )
    assert "\n#1  1 question (1 wording), 2026-03-23..2026-03-23; handoff 1\n" in out
    assert '    "Hvordan registrerer jeg min hund?"\n' in out
    assert "    bot's best guess: affald-storskrald (1)" in out
    assert "not_helpful 1" in out and "fallback 1" in out
    assert fake.calls > 0


def test_unanswered_csv(seeded_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["unanswered", "--since", FIRST, "--until", LAST, "--csv"], capsys,
                       embedder=OneHotEmbedder)  # fmt: skip
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["cluster", "cluster_size", "question_id", "created_at",
                             "municipality", "reason", "text"]  # fmt: skip
    assert len(rows) == 4  # c8's question is on April 1st, local time
    by_text = {r["text"]: r for r in rows}
    assert by_text["Må jeg holde høns i haven?"]["created_at"] == "2026-03-31T23:50:00+02:00"
    assert by_text["noget med mit kort"]["reason"] == "not_helpful"


@pytest.mark.parametrize("command", ["unanswered", "analytics"])
def test_both_commands_take_both_date_spellings(
    seeded_url: str, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    outputs = []
    for first, last in (("--from", "--to"), ("--since", "--until")):
        code, out, _ = run([command, first, FIRST, last, LAST, "--csv"], capsys,
                           embedder=OneHotEmbedder)  # fmt: skip
        assert code == 0
        outputs.append(out)
    assert outputs[0] == outputs[1]
    assert len(outputs[0].splitlines()) > 1  # the seeded period's rows, not an empty default
    code, out, _ = run([command, "--from", FIRST, "--to", FIRST], capsys, embedder=OneHotEmbedder)
    assert "2026-03-23..2026-03-23" in out


def test_no_unanswered_questions_loads_no_model(
    seeded_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["unanswered", "--since", "2025-01-01", "--until", "2025-01-31"], capsys,
                       embedder=no_model)  # fmt: skip
    assert code == 0
    assert "0 of 0 questions, 0 clusters" in out


def test_bad_arguments_and_unmigrated_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["analytics", "--from", "23-03-2026"])
    assert exit_.value.code == 2
    assert "not a date (YYYY-MM-DD)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["analytics", "--from", "2026-03-31", "--to", "2026-03-01"])
    assert "ends (2026-03-01) before it starts" in capsys.readouterr().err
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0002")
    monkeypatch.setenv("DATABASE_URL", url)
    code, _, err = run(["unanswered"], capsys, embedder=no_model)
    assert code == 2
    assert "python -m bot.store upgrade" in err


@pytest.mark.slow
def test_unanswered_with_the_real_model_in_a_subprocess(seeded_url: str) -> None:
    """The module runs as documented; the real model groups nothing here (all different)."""
    done = subprocess.run(
        [sys.executable, "-m", "bot.insight", "unanswered", "--since", FIRST, "--until", LAST],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "4 of 7 questions, 4 clusters" in done.stdout
    assert '"Må jeg holde høns i haven?"' in done.stdout
