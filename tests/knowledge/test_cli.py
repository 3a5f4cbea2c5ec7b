"""The `python -m knowledge` command-line contract, run as a subprocess over the real index."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


JSONL_IN = [
    {"id": "q1", "text": "Hvordan får jeg MitID?"},
    {"id": "q2", "text": "Hvordan bestiller jeg storskrald?", "municipality": "0101"},
    "dette er ikke JSON",
    {"id": "q4", "text": 42},
    {"id": "q5", "text": "Hvad koster et nyt pas?"},
]
EXPECTED_TOP = {"q1": "mitid-opret", "q2": "affald-storskrald", "q5": "pas-bestil"}


EVAL_IN = [
    {"id": "e1", "text": "Hvordan får jeg MitID?", "expect": "mitid-opret"},
    {"id": "e2", "text": "Hvad koster et nyt pas?", "expect": "pas-bestil"},
    {"id": "e3", "text": "Hvor køber jeg et lystfiskertegn?", "expect": None},
]


def jsonl(items: list) -> str:
    return "".join(
        (x if isinstance(x, str) else json.dumps(x, ensure_ascii=False)) + "\n" for x in items
    )


@pytest.fixture(scope="module")
def runs(knowledge_settings, tmp_path_factory) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every CLI run of this module, started together (each loads the model for ~15 s)."""
    if not (knowledge_settings.index_dir / "current").exists():
        pytest.fail(f"no index in {knowledge_settings.index_dir}: run `python -m knowledge build`")
    env = {**os.environ, "BORGERBOT_DATA_DIR": str(knowledge_settings.data_dir)}
    dev = tmp_path_factory.mktemp("eval") / "dev.jsonl"
    dev.write_text(jsonl(EVAL_IN), encoding="utf-8")
    commands = {
        "jsonl": (["ask", "--jsonl"], jsonl(JSONL_IN)),
        "ask": (["ask", "Hvordan får jeg MitID?"], ""),
        "usage": (["ask"], ""),
        "eval": (["eval", str(dev)], ""),
    }
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-m", "knowledge", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO_ROOT,
            env=env,
        )
        for name, (args, _) in commands.items()
    }
    results = {}
    try:
        for name, proc in procs.items():
            stdout, stderr = proc.communicate(commands[name][1], timeout=300)
            results[name] = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return results


@pytest.fixture
def jsonl_run(runs):
    return runs["jsonl"]


def test_ask_jsonl_one_output_line_per_input_line_in_order(jsonl_run):
    assert jsonl_run.returncode == 0, jsonl_run.stderr
    out = [json.loads(line) for line in jsonl_run.stdout.splitlines()]
    assert len(out) == len(JSONL_IN)
    assert [o["id"] for o in out] == ["q1", "q2", None, None, "q5"]


def test_ask_jsonl_answers(jsonl_run):
    out = [json.loads(line) for line in jsonl_run.stdout.splitlines()]
    for o in (out[0], out[1], out[4]):
        assert set(o) == {"id", "decision", "results"}
        assert o["decision"] in {"answer", "clarify", "fallback"}
        assert 1 <= len(o["results"]) <= 5
        assert all(set(r) == {"slug", "score"} for r in o["results"])
        assert all(isinstance(r["score"], float) for r in o["results"])
        scores = [r["score"] for r in o["results"]]
        assert scores == sorted(scores, reverse=True)
        assert len({r["slug"] for r in o["results"]}) == len(o["results"])
        assert o["results"][0]["slug"] == EXPECTED_TOP[o["id"]]


def test_ask_jsonl_malformed_lines_give_error_lines(jsonl_run):
    out = [json.loads(line) for line in jsonl_run.stdout.splitlines()]
    for o in (out[2], out[3]):
        assert set(o) == {"id", "error"}
        assert o["error"]
        assert "decision" not in o
    assert "'text'" in out[3]["error"]
    assert "line 3" in jsonl_run.stderr and "line 4" in jsonl_run.stderr


def test_ask_prints_a_readable_answer(runs):
    run = runs["ask"]
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert re.match(r"decision: (answer|clarify|fallback) ", lines[0])
    assert "mitid-opret" in run.stdout or "https://www.mitid.dk/" in run.stdout
    ranking = lines[lines.index("ranking:") + 1 :]
    assert 1 <= len(ranking) <= 5
    assert ranking[0].split()[-2] == "mitid-opret"
    if lines[0].startswith("decision: answer"):
        assert "Hvordan får jeg MitID?" in run.stdout
    elif lines[0].startswith("decision: clarify"):
        assert "Mente du" in run.stdout and "(mitid-opret)" in run.stdout


def test_ask_without_a_question_is_a_usage_error(runs):
    run = runs["usage"]
    assert run.returncode == 2
    assert "--jsonl" in run.stderr


def test_eval_prints_the_figures(runs):
    run = runs["eval"]
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "questions: 3 (2 in scope, 1 out of scope)" in out
    for label in ("answered-correct", "confidently-wrong", "correctly-not-answered"):
        match = re.search(rf"{label}\s+([\d.]+) %", out)
        assert match, f"no {label} line in:\n{out}"
        assert 0.0 <= float(match[1]) <= 100.0
        # two in-scope questions: each share is 0, 50 or 100 %
        if label != "correctly-not-answered":
            assert float(match[1]) in (0.0, 50.0, 100.0)
    assert re.search(r"top-1\s+100\.0 %\s+top-3\s+100\.0 %", out), out
    latency = re.search(r"latency per question: median ([\d.]+) ms, p95 ([\d.]+) ms", out)
    assert latency and 0 < float(latency[1]) <= float(latency[2])
