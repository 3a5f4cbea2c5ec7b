"""A Rasa dense featurizer: the message's e5 sentence embedding as a sentence-level feature.

The e5 model is the one the guide search uses (`knowledge.embedder`, with e5's "query: " prefix),
so the pipeline needs no extra model and stays offline. It gives the intent classifier the meaning
of a message next to the sparse word and character n-grams: "tusind tak for hjælpen" and "det
hjalp, tak" end up close although they share few n-grams.

Raw e5 vectors all lie in a narrow cone (unrelated texts still have cosine ~0.83), so what tells
intents apart is a small part of each coordinate. Training therefore learns each dimension's mean
and spread over the training messages, and the feature is `scale * (vector - mean) / spread`: a
linear classifier then weighs the meaning against the n-gram counts at `scale` (chosen by
cross-validation, see bot/config.yml). Without `standardize: true` the unit vector goes as is.

The model is loaded once per process and shared by every pipeline (cross-validation folds, the
server's graph); vectors of texts seen before come from a bounded in-process cache, so the folds
of `rasa test nlu --cross-validation` embed each example once.

In bot/config.yml: `- name: bot.nlu.e5_featurizer.E5Featurizer` after the tokenizer.
"""

from __future__ import annotations

import logging
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

log = logging.getLogger(__name__)
STATS_FILE = "standardization.npz"
# A dimension that barely varies over the training messages is not divided by ~0.
MIN_SPREAD = 1e-6

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


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=True)
class E5Featurizer(DenseFeaturizer, GraphComponent):
    """Adds the (standardised) e5 query embedding of TEXT and ACTION_TEXT as a sentence feature."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            # None: the product's embedding model (knowledge settings); else a model directory.
            "model": None,
            # Centre and scale each dimension by the training messages' mean and spread. Off by
            # default: a model trained before this option existed carries no statistics.
            "standardize": False,
            # The standardised vector's weight next to the sparse features.
            "scale": 1.0,
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
        return cls(execution_context.node_name, config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> E5Featurizer:
        featurizer = cls(execution_context.node_name, config, model_storage, resource)
        if config.get("standardize"):
            # Fails loudly: a model trained with statistics must not run without them.
            with model_storage.read_from(resource) as directory:
                stats = np.load(directory / STATS_FILE)
                featurizer.set_statistics(stats["mean"], stats["spread"])
        return featurizer

    def __init__(
        self,
        name: str,
        config: dict[str, Any],
        model_storage: ModelStorage | None = None,
        resource: Resource | None = None,
    ) -> None:
        super().__init__(name, config)
        self._embedder = load_embedder(config.get("model"))
        self.dimension = self._embedder.dimension
        self._model_storage = model_storage
        self._resource = resource
        self._mean: np.ndarray | None = None
        self._spread: np.ndarray | None = None

    def set_statistics(self, mean: np.ndarray, spread: np.ndarray) -> None:
        if mean.shape != (self.dimension,) or spread.shape != (self.dimension,):
            raise ValueError(
                f"E5Featurizer: statistics of dimension {mean.shape}/{spread.shape} do not fit "
                f"the embedding model's {self.dimension}; retrain the Rasa model"
            )
        self._mean = mean.astype(np.float32)
        self._spread = np.maximum(spread, MIN_SPREAD).astype(np.float32)

    def train(self, training_data: TrainingData) -> Resource:
        """Learns the mean and spread of each dimension over the training messages' texts."""
        if not self._config.get("standardize"):
            return self._resource_or_fail()
        texts = sorted(
            {t for m in training_data.training_examples if isinstance(t := m.get(TEXT), str) and t}
        )
        if len(texts) < 2:
            raise ValueError("E5Featurizer: standardising needs at least two training texts")
        vectors = self.embed(texts)
        self.set_statistics(vectors.mean(axis=0), vectors.std(axis=0))
        assert self._mean is not None and self._spread is not None
        log.debug("E5Featurizer: statistics from %d training texts", len(texts))
        resource = self._resource_or_fail()
        assert self._model_storage is not None
        with self._model_storage.write_to(resource) as directory:
            np.savez(directory / STATS_FILE, mean=self._mean, spread=self._spread)
        return resource

    def _resource_or_fail(self) -> Resource:
        if self._resource is None:
            raise ValueError("E5Featurizer: created without a model storage resource")
        return self._resource

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        model = config.get("model")
        if model is not None and not isinstance(model, str):
            raise ValueError(f"E5Featurizer: 'model' must be a path or name, got {model!r}")
        scale = config.get("scale", 1.0)
        if isinstance(scale, bool) or not isinstance(scale, int | float) or scale <= 0:
            raise ValueError(f"E5Featurizer: 'scale' must be a positive number, got {scale!r}")

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

    def features(self, texts: list[str]) -> np.ndarray:
        """What the classifier sees: the standardised, scaled vectors (or the unit vectors)."""
        vectors = self.embed(texts)
        if not self._config.get("standardize"):
            return vectors
        if self._mean is None or self._spread is None:
            raise ValueError("E5Featurizer: standardize is on but the featurizer is not trained")
        scale = float(self._config["scale"])
        return (scale * (vectors - self._mean) / self._spread).astype(np.float32)

    def _featurize(self, messages: list[Message]) -> None:
        for attribute in ATTRIBUTES:
            todo = [m for m in messages if isinstance(m.get(attribute), str) and m.get(attribute)]
            if not todo:
                continue
            vectors = self.features([m.get(attribute) for m in todo])
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
