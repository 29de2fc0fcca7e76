"""Checks every registered model gets for free: build, forward pass, config and save/load round trips."""

import numpy as np
import pytest

import zoo

from zoo._registry import get_spec


@pytest.fixture(scope="module", params=zoo.list_models())
def built(request):
    import keras

    keras.utils.set_random_seed(0)
    examples = get_spec(request.param).family_info.load("examples")()
    return request.param, zoo.build(request.param, **examples.builder_args), examples


def test_every_family_gives_examples_whose_batch_matches_its_row_count():
    from zoo._family import get_family, list_families

    for family in list_families():
        examples = get_family(family).load("examples")()
        first = next(iter(examples.inputs.values())) if isinstance(examples.inputs, dict) else examples.inputs
        assert first.shape[0] == examples.rows >= 2, family


def test_forward_pass_gives_probabilities_or_tag_ids(built):
    name, model, examples = built
    out = np.asarray(model(examples.inputs))
    assert out.shape[0] == examples.rows
    if np.issubdtype(out.dtype, np.integer):  # a CRF tagger decodes: Viterbi tag ids
        assert np.all((out >= 0) & (out < len(get_spec(name).labels)))
    elif examples.outputs == "logits":
        assert out.dtype == np.float32 and np.all(np.isfinite(out))
    else:
        assert np.all(np.isfinite(out)) and np.all((out >= 0) & (out <= 1))
    assert model.name == name


def test_config_round_trip(built):
    import keras

    _, model, examples = built
    clone = type(model).from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone(examples.inputs), model(examples.inputs), atol=1e-6)


def test_save_load_round_trip_in_safe_mode(built, tmp_path):
    import keras

    _, model, examples = built
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True, compile=False)
    np.testing.assert_allclose(loaded(examples.inputs), model(examples.inputs), atol=1e-6)


def test_predict_on_a_tf_data_pipeline(built):
    import tensorflow as tf

    _, model, examples = built
    dataset = tf.data.Dataset.from_tensor_slices(examples.inputs).batch(2)
    assert model.predict(dataset, verbose=0).shape[0] == examples.rows


def test_padding_does_not_change_the_prediction(built):
    """The mask makes an example's output independent of the padding added for the batch."""
    _, model, examples = built
    alone = np.asarray(model(examples.last_alone))[0]
    batched = np.asarray(model(examples.inputs))[-1]
    np.testing.assert_allclose(alone, batched[: len(alone)], atol=1e-5)


def test_builder_rejects_unknown_cell():
    with pytest.raises(ValueError, match="cell must be one of"):
        zoo.build("imdb-gru", cell="transformer")


@pytest.mark.parametrize("cell, bidirectional", [("lstm", False), ("gru", True)])
def test_a_classifier_that_trims_padding_scores_as_one_that_reads_it(cell, bidirectional):
    import keras
    import tensorflow as tf

    from zoo.models.text_classifier.model import build_text_classifier

    keras.utils.set_random_seed(0)
    args = dict(cell=cell, units=8, bidirectional=bidirectional, embedding_dim=4, sequence_length=6, head_length=2,
                vocabulary=list("abcdefghij"))
    padded, trimmed = build_text_classifier(**args), build_text_classifier(**args, trim=True)
    trimmed.set_weights(padded.get_weights())
    texts = tf.constant(["a b", "c d e f g h i j", "j"])  # the middle one is longer than sequence_length
    np.testing.assert_allclose(np.asarray(trimmed(texts)), np.asarray(padded(texts)), atol=1e-6)
    crop = keras.Model(trimmed.input, trimmed.get_layer("crop").output)
    assert np.asarray(crop(tf.constant(["a b", "j"]))).tolist() == [[2, 3], [11, 0]]
    assert np.asarray(crop(texts)).shape == (3, 6)
