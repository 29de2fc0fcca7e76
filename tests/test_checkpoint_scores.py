"""Each shipped checkpoint, scored on a fixed 1,000-review slice of the test split, is within 2 points of its card."""

import numpy as np
import pytest

import zoo
from zoo._registry import get_spec

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", [n for n in zoo.list_models("imdb-*", pretrained=True) if get_spec(n).family == "text_classifier"])
def test_checkpoint_scores_like_its_card(name, imdb_test_slice):
    from zoo.models.text_classifier.pipeline import predict_proba as predict_in_batches

    probabilities = predict_in_batches(zoo.load(name), imdb_test_slice.texts)
    accuracy = float(np.mean((probabilities >= 0.5) == imdb_test_slice.labels))
    card = get_spec(name).card()["metrics"]["accuracy"]
    assert abs(accuracy - card) <= 0.02, f"{name}: {accuracy:.4f} on the 1,000-review slice, card says {card:.4f}"


def test_the_chorale_composer_scores_like_its_card_on_25_test_chorales(data_dir):
    """jsb-chorales-lstm on the windows of the first 25 test chorales (of 77): next-note accuracy within 2 points of the card."""
    from zoo.models.chorale_composer.evaluation import evaluate

    name = "jsb-chorales-lstm"
    metrics = evaluate(zoo.load(name), split="test", limit=25, progress=False)
    card = get_spec(name).card()["metrics"]
    assert abs(metrics["accuracy"] - card["accuracy"]) <= 0.02, f"{name}: {metrics['accuracy']:.4f} on 25 chorales, card says {card['accuracy']:.4f}"
    assert abs(metrics["cross_entropy"] - card["cross_entropy"]) <= 0.1
