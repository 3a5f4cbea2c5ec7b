"""`python -m knowledge build` (and `make index`) against an editor publishing at the same time.

In-process, with a hashed stand-in model: the build's embedding step is held open while an editor
publishes, the interleaving that used to swap the build's older index in over the publish."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import knowledge.cli
from knowledge.authoring import PUBLISHED, GuideForm, GuideStore
from knowledge.guides import load_guides
from knowledge.index import build_index, load_index
from knowledge.settings import KnowledgeSettings
from tests.knowledge.conftest import FakeEmbed

FISHING = GuideForm(
    title="Hvordan får jeg et lystfiskertegn?", slug="lystfiskertegn", category="fritid",
    owner="borgerservice", keywords="lystfiskertegn, fisketegn", url="https://fisketegn.dk/",
    updated="2026-11-23", body="Du køber lystfiskertegnet på fisketegn.dk.",
)  # fmt: skip


class HashEmbedder:
    model_name = "hash-model"
    fingerprint = "hash-fingerprint"

    def __init__(self, on_embed: Any = None) -> None:
        self.on_embed = on_embed

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if self.on_embed is not None:
            self.on_embed()
        return np.vstack([FakeEmbed.vector(t) for t in texts]).astype(np.float32)


@pytest.fixture
def setup(guides_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> KnowledgeSettings:
    settings = KnowledgeSettings(tmp_path / "data", guides_copy, "x")
    e = HashEmbedder()
    build_index(load_guides(guides_copy).guides, settings.index_dir, e.embed_passages,
                model=e.model_name, fingerprint=e.fingerprint)  # fmt: skip
    monkeypatch.setattr(knowledge.cli, "_settings", lambda: settings)
    monkeypatch.setattr(knowledge.cli, "_model_fingerprint", lambda s: HashEmbedder.fingerprint)
    return settings


def indexed(settings: KnowledgeSettings) -> set[str]:
    return {g.slug for g in load_index(settings.index_dir).guides}


def test_a_build_cannot_unpublish_what_an_editor_published_meanwhile(
    setup: KnowledgeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = setup
    # A guide changed in git: the build has something to embed.
    path = settings.guides_dir / "pas-bestil.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nÆndret i git.\n", encoding="utf-8")

    building, published = threading.Event(), threading.Event()

    def hold_the_build_open() -> None:
        building.set()
        published.wait(timeout=2.0)  # the editor's publish, if the build lets it through

    monkeypatch.setattr(knowledge.cli, "_embedder", lambda s: HashEmbedder(hold_the_build_open))
    codes: list[int] = []
    build = threading.Thread(target=lambda: codes.append(knowledge.cli.main(["build", "--quiet"])))
    build.start()
    assert building.wait(timeout=10)

    store = GuideStore.from_settings(settings, embedder=HashEmbedder)
    change = store.save(FISHING, "eva", state=PUBLISHED, new=True)
    published.set()
    build.join(timeout=30)
    assert not build.is_alive() and codes == [0]

    assert change.build is not None and change.build.changed
    live = indexed(settings)
    assert "lystfiskertegn" in live  # the publish survived the build
    record = next(g for g in load_index(settings.index_dir).guides if g.slug == "pas-bestil")
    assert "Ændret i git." in record.body  # and the build's own change is in too


def test_build_waits_while_an_editor_holds_the_lock(
    setup: KnowledgeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = setup
    (settings.guides_dir / "pas-bestil.md").unlink()
    monkeypatch.setattr(knowledge.cli, "_embedder", lambda s: HashEmbedder())
    held, release = threading.Event(), threading.Event()

    def editor() -> None:
        with GuideStore.from_settings(settings).lock():
            held.set()
            release.wait(timeout=10)

    holder = threading.Thread(target=editor)
    holder.start()
    assert held.wait(timeout=5)
    codes: list[int] = []
    build = threading.Thread(target=lambda: codes.append(knowledge.cli.main(["build", "--quiet"])))
    build.start()
    build.join(timeout=0.5)
    assert build.is_alive()  # waiting for the lock
    assert "pas-bestil" in indexed(settings)  # nothing swapped in meanwhile
    release.set()
    build.join(timeout=10)
    holder.join(timeout=5)
    assert codes == [0]
    assert "pas-bestil" not in indexed(settings)
