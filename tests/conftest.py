"""Fixtures shared by the whole test suite."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

# Imported first on purpose: knowledge.model turns the hub off before sentence-transformers loads.
from knowledge.model import resolve_model
from knowledge.settings import KnowledgeSettings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


@pytest.fixture(scope="session")
def knowledge_settings() -> KnowledgeSettings:
    return KnowledgeSettings.from_env()


@pytest.fixture(scope="session")
def embedding_model(knowledge_settings: KnowledgeSettings) -> SentenceTransformer:
    """The configured embedding model, loaded once (~20 s); fails if it has not been built."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(resolve_model(knowledge_settings), device="cpu")


@pytest.fixture(scope="session")
def embedder(knowledge_settings: KnowledgeSettings):  # type: ignore[no-untyped-def]
    """The search library's Embedder over the configured model, loaded once per session."""
    from knowledge.embedder import Embedder

    return Embedder(resolve_model(knowledge_settings))


# The real Rasa, action server and web app (tests/stack.py), shared by integration and browser.
from tests.stack import Stack, stack  # noqa: E402, F401
