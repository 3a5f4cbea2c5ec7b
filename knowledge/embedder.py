"""The sentence-transformers model, loaded once, with e5's query/passage prefixes."""

from __future__ import annotations

import os
import threading

import numpy as np

import knowledge.model  # noqa: F401  (sets the hub-offline environment before transformers loads)
from knowledge.model import model_fingerprint

QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "


class Embedder:
    """Unit-length vectors for questions and passages. Fails fast if the model cannot load."""

    def __init__(self, model: str, *, threads: int | None = None) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads or min(2, os.cpu_count() or 1))
        self.model_name = model
        self.fingerprint = model_fingerprint(model)
        self._model = SentenceTransformer(model, device="cpu")
        dimension = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension  # sentence-transformers < 5.7
        )
        self.dimension = int(dimension() or 0)
        if self.dimension <= 0:
            raise ValueError(f"model {model!r} does not report an embedding dimension")
        # torch's CPU kernels are thread-safe, but concurrent calls only fight over 2 cores.
        self._lock = threading.Lock()

    def _encode(self, texts: list[str], prefix: str, batch_size: int) -> np.ndarray:
        # sentence-transformers 5 no longer strips input; e5 was trained on stripped text.
        prepared = [prefix + " ".join(t.split()) for t in texts]
        with self._lock:
            vectors = self._model.encode(
                prepared,
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, QUERY_PREFIX, batch_size=32)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, PASSAGE_PREFIX, batch_size=16)
