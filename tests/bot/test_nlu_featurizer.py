"""The e5 dense featurizer of the Rasa pipeline (bot.nlu.e5_featurizer)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu import e5_featurizer
from bot.nlu.e5_featurizer import E5Featurizer
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
