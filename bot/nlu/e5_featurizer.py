"""A Rasa dense featurizer: the message's e5 sentence embedding as a sentence-level feature.

The e5 model is the one the guide search uses (`knowledge.embedder`, with e5's "query: " prefix),
so the pipeline needs no extra model and stays offline. It gives DIET the meaning of a message
next to the sparse word and character n-grams: "tusind tak for hjælpen" and "det hjalp, tak" end
up close although they share few n-grams. The model is loaded once per process and shared by
every pipeline (cross-validation folds, the server's graph); vectors of texts seen before come
from a bounded in-process cache, so the folds of `rasa test nlu --cross-validation` embed each
example once.

In bot/config.yml: `- name: bot.nlu.e5_featurizer.E5Featurizer` after the tokenizer.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import ACTION_TEXT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

if TYPE_CHECKING:
    from knowledge.embedder import Embedder

# Labels (intents, responses, action names) are featurized by DIET itself; only what the user
# or a bot action says is embedded, as LanguageModelFeaturizer does at inference.
ATTRIBUTES = (TEXT, ACTION_TEXT)
CACHE_SIZE = 20_000
BATCH_SIZE = 64

_models: dict[str, Embedder] = {}
_models_lock = threading.Lock()


def load_embedder(model: str | None = None) -> Embedder:
    """The shared Embedder for `model` (default: the configured BORGERBOT_EMBEDDING_MODEL)."""
    # Imported here: knowledge.model switches the hub off before transformers is imported.
    from knowledge.embedder import Embedder
    from knowledge.model import resolve_model

    if model is None:
        from bot.settings import Settings

        model = resolve_model(Settings.from_env().knowledge)
    with _models_lock:
        if model not in _models:
            _models[model] = Embedder(model)
        return _models[model]


class _VectorCache:
    """Least-recently-used text → vector map, shared by the featurizers of one process."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._vectors: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> np.ndarray | None:
        with self._lock:
            vector = self._vectors.get(key)
            if vector is not None:
                self._vectors.move_to_end(key)
            return vector

    def put(self, key: tuple[str, str], vector: np.ndarray) -> None:
        with self._lock:
            self._vectors[key] = vector
            self._vectors.move_to_end(key)
            while len(self._vectors) > self._size:
                self._vectors.popitem(last=False)


_cache = _VectorCache(CACHE_SIZE)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class E5Featurizer(DenseFeaturizer, GraphComponent):
    """Adds the e5 query embedding of TEXT (and ACTION_TEXT) as a dense sentence feature."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            # None: the product's embedding model (knowledge settings); else a model directory.
            "model": None,
        }

    @staticmethod
    def required_packages() -> list[str]:
        return ["sentence_transformers", "torch"]

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> E5Featurizer:
        return cls(execution_context.node_name, config)

    def __init__(self, name: str, config: dict[str, Any]) -> None:
        super().__init__(name, config)
        self._embedder = load_embedder(config.get("model"))
        self.dimension = self._embedder.dimension

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        model = config.get("model")
        if model is not None and not isinstance(model, str):
            raise ValueError(f"E5Featurizer: 'model' must be a path or name, got {model!r}")

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length e5 query vectors, shape (len(texts), dimension), float32."""
        fingerprint = self._embedder.fingerprint
        vectors: dict[str, np.ndarray] = {}
        for text in texts:
            if (vector := _cache.get((fingerprint, text))) is not None:
                vectors[text] = vector
        missing = sorted(set(texts) - vectors.keys())
        for start in range(0, len(missing), BATCH_SIZE):
            batch = missing[start : start + BATCH_SIZE]
            for text, vector in zip(batch, self._embedder.embed_queries(batch), strict=True):
                vectors[text] = vector
                _cache.put((fingerprint, text), vector)
        result = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            result[i] = vectors[text]
        return result

    def _featurize(self, messages: list[Message]) -> None:
        for attribute in ATTRIBUTES:
            todo = [m for m in messages if isinstance(m.get(attribute), str) and m.get(attribute)]
            if not todo:
                continue
            vectors = self.embed([m.get(attribute) for m in todo])
            for message, vector in zip(todo, vectors, strict=True):
                self.add_features_to_message(
                    sequence=None,
                    sentence=vector.reshape(1, -1),
                    attribute=attribute,
                    message=message,
                )

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        self._featurize(messages)
        return messages
