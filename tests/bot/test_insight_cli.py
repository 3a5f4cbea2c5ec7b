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
    assert "Conversations           9\n" in out
    assert "Contained               5  (55.6% without hand-off or callback)" in out
    assert "Hand-offs               3\n" in out and "Callbacks booked        1\n" in out
    split = "(answered 4, clarify 1, not understood 2, small talk 3)"
    assert f"Questions              10  {split}" in out
    assert "Feedback           yes 1, no 2" in out
    # titles come from the guide files
    assert "    2  pas-bestil  Hvordan bestiller jeg nyt pas som voksen?" in out
    assert "Busiest: Mon 09:00 (3), Thu 20:00 (2), Fri 10:00 (2)" in out


def test_analytics_csv(seeded_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["analytics", "--from", FIRST, "--to", LAST, "--csv"], capsys)
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    summary = {r["measure"]: r["value"] for r in rows if r["section"] == "summary"}
    assert summary["municipality"] == "all"
    assert (summary["conversations"], summary["contained"]) == ("11", "6")
    assert summary["callbacks"] == "2"
    assert summary["containment"] == "0.5455"  # 6 / 11
    assert (summary["fallbacks"], summary["small_talk"]) == ("2", "4")


def test_default_period_is_the_last_30_days(
    seeded_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["analytics", "--municipality", "0101"], capsys, today=date(2026, 4, 1))
    assert code == 0
    assert out.startswith("Analytics 2026-03-03..2026-04-01, municipality 0101")
    assert "Conversations          11\n" in out  # c1-c4, c6-c12


def test_unanswered_text_without_similar_questions(
    seeded_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = OneHotEmbedder()
    code, out, _ = run(["unanswered", "--since", FIRST, "--until", LAST, "--municipality", "0101"],
                       capsys, embedder=lambda: fake)  # fmt: skip
    assert code == 0
    # c2 c3 c7 c9 and c11 (taken for small talk, then a hand-off) of the 10 questions, less
    # c10's two small-talk messages
    assert out.startswith(
        "Unanswered questions 2026-03-23..2026-03-31, municipality 0101: 5 of 8 questions, "
        "5 clusters\n(2 messages the bot took for small talk and found no guide for: not "
        "included; --small-talk includes them)\n"
    )
    assert "\n#1  1 question (1 wording), 2026-03-23..2026-03-23; handoff 1\n" in out
    assert '    "Hvordan registrerer jeg min hund?"\n' in out
    assert "    bot's best guess: affald-storskrald (1)" in out
    assert "not_helpful 1" in out and "fallback 1" in out
    assert '"hvad koster en parkeringslicens"' in out and "vittighed" not in out
    assert "small_talk" not in out
    assert fake.calls > 0


def test_unanswered_text_with_small_talk(
    seeded_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["unanswered", "--from", FIRST, "--to", LAST, "--municipality", "0101",
                        "--small-talk"], capsys, embedder=OneHotEmbedder)  # fmt: skip
    assert code == 0
    assert out.startswith(
        "Unanswered questions 2026-03-23..2026-03-31, municipality 0101: 7 of 10 questions, "
        "7 clusters\n(small talk included: 2 messages, reason small_talk)\n"
    )
    assert '    "fortæl en vittighed"\n' in out and '    "hvad hedder du"\n' in out
    assert out.count("; small_talk 1\n") == 2


def test_unanswered_csv(seeded_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["unanswered", "--since", FIRST, "--until", LAST, "--csv"], capsys,
                       embedder=OneHotEmbedder)  # fmt: skip
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["cluster", "cluster_size", "question_id", "created_at",
                             "municipality", "reason", "text"]  # fmt: skip
    # c2 c3 c7 c9 c11; c8's question is on April 1st, local time; small talk left out
    assert len(rows) == 5
    by_text = {r["text"]: r for r in rows}
    assert by_text["Må jeg holde høns i haven?"]["created_at"] == "2026-03-31T23:50:00+02:00"
    assert by_text["noget med mit kort"]["reason"] == "not_helpful"
    assert by_text["hvad koster en parkeringslicens"]["reason"] == "handoff"
    code, out, _ = run(["unanswered", "--since", FIRST, "--until", LAST, "--csv", "--small-talk"],
                       capsys, embedder=OneHotEmbedder)  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(out)))
    small_talk = {r["text"] for r in rows if r["reason"] == "small_talk"}
    assert small_talk == {"fortæl en vittighed", "hvad hedder du", "hvordan bliver vejret i morgen"}
    assert len(rows) == 8


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
    assert "5 of 9 questions, 5 clusters" in done.stdout  # 3 small-talk messages left out
    assert '"Må jeg holde høns i haven?"' in done.stdout
