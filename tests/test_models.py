"""Checks every registered model gets for free: build, forward pass, config and save/load round trips."""

import numpy as np
import pytest

import zoo

TEXTS = ["A great film with a great cast!", "bad. boring <br /><br /> and too long?", "x"]
VOCABULARY = ["a", "great", "film", "with", "cast", "!", "bad", "boring", "and", "too", "long", "?"]


@pytest.fixture(scope="module", params=zoo.list_models())
def built(request):
    import keras

    keras.utils.set_random_seed(0)
    return request.param, zoo.build(request.param, vocabulary=VOCABULARY)


def test_forward_pass_gives_probabilities(built):
    import tensorflow as tf

    name, model = built
    out = np.asarray(model(tf.constant(TEXTS)))
    assert out.shape == (len(TEXTS), 1)
    assert np.all(np.isfinite(out)) and np.all((out >= 0) & (out <= 1))
    assert model.name == name


def test_config_round_trip(built):
    import keras
    import tensorflow as tf

    _, model = built
    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone(tf.constant(TEXTS)), model(tf.constant(TEXTS)), atol=1e-6)


def test_save_load_round_trip_in_safe_mode(built, tmp_path):
    import keras
    import tensorflow as tf

    _, model = built
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True, compile=False)
    np.testing.assert_allclose(loaded(tf.constant(TEXTS)), model(tf.constant(TEXTS)), atol=1e-6)
    assert loaded.get_layer("vectorize").get_vocabulary()[2:] == VOCABULARY


def test_predict_on_a_tf_data_pipeline(built):
    import tensorflow as tf

    _, model = built
    dataset = tf.data.Dataset.from_tensor_slices(TEXTS).batch(2)
    assert model.predict(dataset, verbose=0).shape == (len(TEXTS), 1)


def test_padding_does_not_change_the_prediction(built):
    """The mask makes a text's score independent of the padding added for the batch."""
    import tensorflow as tf

    _, model = built
    alone = np.asarray(model(tf.constant(TEXTS[2:])))
    batched = np.asarray(model(tf.constant(TEXTS)))[2:]
    np.testing.assert_allclose(alone, batched, atol=1e-5)


def test_builder_rejects_unknown_cell():
    with pytest.raises(ValueError, match="cell must be one of"):
        zoo.build("imdb-gru", cell="transformer")
