"""The e5 dense featurizer of the Rasa pipeline (bot.nlu.e5_featurizer)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu import e5_featurizer
from bot.nlu.e5_featurizer import E5Featurizer
from bot.settings import BOT_DIR
from knowledge.model import resolve_model
from knowledge.settings import KnowledgeSettings

pytestmark = pytest.mark.slow


@pytest.fixture
def featurizer(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    knowledge_settings: KnowledgeSettings,
    embedder: Any,
) -> E5Featurizer:
    # The session's Embedder over the same model: the featurizer shares it instead of loading
    # a second copy.
    monkeypatch.setitem(e5_featurizer._models, resolve_model(knowledge_settings), embedder)
    return E5Featurizer.create(
        E5Featurizer.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("e5"),
        ExecutionContext(GraphSchema({}), node_name="e5"),
    )


def _sentence_vector(message: Message) -> np.ndarray:
    sequence, sentence = message.get_dense_features(TEXT, [])
    assert sequence is None  # sentence-level only; the sparse featurizers give the sequence
    assert sentence is not None
    return np.asarray(sentence.features)


def test_training_pass_adds_a_sentence_feature_of_the_model_dimension(
    featurizer: E5Featurizer, embedder: Any
) -> None:
    texts = ["hej", "tusind tak for hjælpen", "hvornår har I åbent?"]
    data = TrainingData([Message(data={TEXT: t, INTENT: "x"}) for t in texts])

    featurizer.process_training_data(data)

    for message, text in zip(data.training_examples, texts, strict=True):
        vector = _sentence_vector(message)
        assert vector.shape == (1, embedder.dimension)
        assert np.isclose(np.linalg.norm(vector), 1.0, atol=1e-4)
        # The search's query convention ("query: " prefix), so both see the same vector.
        np.testing.assert_allclose(vector[0], embedder.embed_queries([text])[0], atol=1e-5)


def test_same_text_gives_the_same_vector_in_training_and_at_inference(
    featurizer: E5Featurizer,
) -> None:
    trained = Message(data={TEXT: "ring mig op i morgen", INTENT: "request_callback"})
    featurizer.process_training_data(TrainingData([trained]))
    first, second = Message(data={TEXT: "ring mig op i morgen"}), Message(data={TEXT: "farvel"})

    featurizer.process([first, second])

    np.testing.assert_array_equal(_sentence_vector(first), _sentence_vector(trained))
    assert not np.allclose(_sentence_vector(first), _sentence_vector(second))


def test_messages_without_text_are_left_alone(featurizer: E5Featurizer) -> None:
    message = Message(data={TEXT: ""})
    featurizer.process([message])
    assert message.features == []


def test_the_pipeline_names_the_featurizer_by_its_module_path() -> None:
    pipeline = yaml.safe_load((BOT_DIR / "config.yml").read_text())["pipeline"]
    names = [step["name"] for step in pipeline]
    path = "bot.nlu.e5_featurizer.E5Featurizer"
    assert path in names
    assert DefaultV1Recipe._from_registry(path).clazz is E5Featurizer


STANDARDIZED = {**E5Featurizer.get_default_config(), "standardize": True, "scale": 0.4}
TRAINING_TEXTS = ["hej", "farvel", "tusind tak", "ring mig op", "hvornår har I åbent?", "ja"]


def _trained(tmp_path: Path, config: dict[str, Any]) -> tuple[E5Featurizer, LocalModelStorage]:
    storage = LocalModelStorage(tmp_path)
    featurizer = E5Featurizer.create(
        config, storage, Resource("e5"), ExecutionContext(GraphSchema({}), node_name="e5")
    )
    data = TrainingData([Message(data={TEXT: t, INTENT: "x"}) for t in TRAINING_TEXTS])
    featurizer.train(data)
    return featurizer, storage


@pytest.mark.usefixtures("featurizer")  # the session's model, shared through the module cache
def test_standardized_features_are_centred_and_scaled_on_the_training_texts(
    tmp_path: Path,
) -> None:
    featurizer, _ = _trained(tmp_path, STANDARDIZED)
    features = featurizer.features(TRAINING_TEXTS)
    np.testing.assert_allclose(features.mean(axis=0), 0.0, atol=1e-4)
    # Each dimension's spread over the training texts is `scale` (not the raw e5 spread, ~0.05).
    np.testing.assert_allclose(features.std(axis=0), 0.4, rtol=1e-3)


@pytest.mark.usefixtures("featurizer")
def test_a_loaded_featurizer_gives_the_trained_ones_features(tmp_path: Path) -> None:
    trained, storage = _trained(tmp_path, STANDARDIZED)
    loaded = E5Featurizer.load(
        STANDARDIZED, storage, Resource("e5"), ExecutionContext(GraphSchema({}), node_name="e5")
    )
    message = Message(data={TEXT: "kan I ringe til mig i morgen?"})
    loaded.process([message])
    np.testing.assert_allclose(
        _sentence_vector(message)[0],
        trained.features(["kan I ringe til mig i morgen?"])[0],
        atol=1e-5,
    )


@pytest.mark.usefixtures("featurizer")
def test_standardizing_without_training_statistics_fails_loudly(tmp_path: Path) -> None:
    untrained = E5Featurizer.create(
        STANDARDIZED,
        LocalModelStorage(tmp_path),
        Resource("e5"),
        ExecutionContext(GraphSchema({}), node_name="e5"),
    )
    with pytest.raises(ValueError, match="not trained"):
        untrained.process([Message(data={TEXT: "hej"})])


@pytest.mark.parametrize("scale", [0, -1, "0.4", True])
def test_the_scale_must_be_a_positive_number(scale: Any) -> None:
    with pytest.raises(ValueError, match="scale"):
        E5Featurizer.validate_config({**STANDARDIZED, "scale": scale})
