"""Fixtures for the knowledge library tests: the tiny fixture guides and a fake embedder."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest

from knowledge.guides import GuideSet, load_guides

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURE_GUIDES = REPO_ROOT / "tests" / "fixtures" / "guides"
# tests/fixtures/guides: five national guides and one overlay for municipality "0101"
FIXTURE_SLUGS = {
    "mitid-opret",
    "mitid-spaer",
    "pas-bestil",
    "affald-storskrald",
    "borgerservice-aabningstider",
}
OVERLAY = "0101"


class FakeEmbed:
    """A deterministic stand-in for `Embedder.embed_passages`: each text hashed to a unit vector.

    Records every call, so tests can tell which texts were (re-)embedded.
    """

    dim = 16

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    @classmethod
    def vector(cls, text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
        v = np.random.default_rng(seed).standard_normal(cls.dim).astype(np.float32)
        return v / np.linalg.norm(v)

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return np.vstack([self.vector(t) for t in texts]).astype(np.float32)

    @property
    def texts(self) -> list[str]:
        return [t for call in self.calls for t in call]


@pytest.fixture(scope="session")
def fixture_guides_dir() -> Path:
    return FIXTURE_GUIDES


@pytest.fixture(scope="session")
def fixture_guide_set() -> GuideSet:
    guide_set = load_guides(FIXTURE_GUIDES)
    assert guide_set.errors == [], guide_set.errors
    return guide_set


@pytest.fixture
def guides_copy(tmp_path: Path) -> Path:
    """A writable copy of the fixture guides folder."""
    target = tmp_path / "guides"
    shutil.copytree(FIXTURE_GUIDES, target)
    return target


@pytest.fixture
def fake_embed() -> FakeEmbed:
    return FakeEmbed()


@pytest.fixture(scope="session")
def fake_embed_class() -> type[FakeEmbed]:
    """The class itself, for module-scoped fixtures that need their own instance."""
    return FakeEmbed
