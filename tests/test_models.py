"""Checks every registered model gets for free: build, forward pass, config and save/load round trips."""

import numpy as np
import pytest

import zoo

from zoo._registry import get_spec

TEXTS = ["A great film with a great cast!", "bad. boring <br /><br /> and too long?", "x"]
VOCABULARY = ["a", "great", "film", "with", "cast", "!", "bad", "boring", "and", "too", "long", "?"]
SENTENCES = [["I", "love", "football", "."], ["Paris", "in", "1999"], ["Hi"]]
# Image captioners take (image, caption words so far) pairs: any image size, grayscale included.
CAPTION_EXAMPLES = [
    (np.full((48, 64, 3), 200, np.uint8), ["a", "dog", "runs", "on", "grass"]),
    (np.linspace(0, 255, 40 * 30).reshape(40, 30), ["a", "man"]),
]
# Translators score (source text, target text) pairs with teacher forcing.
TRANSLATION_PAIRS = [("¿Dónde está la biblioteca?", "Where is the library?"), ("Me gusta leer mucho.", "I like to read a lot."),
                     ("Hace frío.", "It's cold.")]

# Per family: tiny builder arguments, and an example batch whose last row is the shortest.
FAMILIES = {
    "zoo.models.text_classifier:build_text_classifier": (dict(vocabulary=VOCABULARY), TEXTS),
    "zoo.models.sequence_tagger:build_sequence_tagger": (
        dict(word_vocabulary=["i", "love", "football", ".", "in"], char_vocabulary=list("abcdefilnoPrst.")),
        SENTENCES,
    ),
    "zoo.models.captioner:build_captioner": (
        dict(vocabulary=["a", "dog", "runs", "on", "grass"], encoder_weights=None, vocab_size=12, embedding_dim=8,
             units=8, feature_dim=8, attention_dim=8),
        CAPTION_EXAMPLES,
    ),
    "zoo.models.translator:build_translator": (
        dict(source_vocabulary=["¿", "dónde", "está", "la", "?", "hace", "frío", "."],
             target_vocabulary=["Where", "is", "the", "?", "It", "'s", "cold", "."],
             embedding_dim=8, encoder_units=8, decoder_units=8, attention_units=8, output_units=8),
        TRANSLATION_PAIRS,
    ),
}


def as_batch(examples):
    """Strings stay a 1-D batch; token lists are padded with "" into a 2-D batch; (image, words) and (source,
    target) pairs become a dict."""
    import tensorflow as tf

    if isinstance(examples[0], str):
        return tf.constant(examples)
    if isinstance(examples[0], tuple) and isinstance(examples[0][0], str):  # (source, target) texts: a translator's
        from zoo.models.translator import teacher_forcing_batch  # {"source_tokens", "target_tokens"} input

        return teacher_forcing_batch(examples)
    if isinstance(examples[0], tuple):  # (image, words) pairs: the captioner's {"image", "tokens"} input
        from zoo.models.captioner import as_model_inputs

        return as_model_inputs(examples)
    from zoo.models.sequence_tagger import pad_tokens

    return tf.constant(pad_tokens(examples))


@pytest.fixture(scope="module", params=zoo.list_models())
def built(request):
    import keras

    keras.utils.set_random_seed(0)
    kwargs, examples = FAMILIES[get_spec(request.param).builder]
    return request.param, zoo.build(request.param, **kwargs), examples


def test_every_family_has_test_examples():
    assert {get_spec(n).builder for n in zoo.list_models()} <= set(FAMILIES)


def test_forward_pass_gives_probabilities_or_tag_ids(built):
    name, model, examples = built
    out = np.asarray(model(as_batch(examples)))
    assert out.shape[0] == len(examples)
    if np.issubdtype(out.dtype, np.integer):  # a CRF tagger decodes: Viterbi tag ids
        assert np.all((out >= 0) & (out < len(get_spec(name).labels)))
    else:
        assert np.all(np.isfinite(out)) and np.all((out >= 0) & (out <= 1))
    assert model.name == name


def test_config_round_trip(built):
    import keras

    _, model, examples = built
    clone = type(model).from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone(as_batch(examples)), model(as_batch(examples)), atol=1e-6)


def test_save_load_round_trip_in_safe_mode(built, tmp_path):
    import keras

    _, model, examples = built
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True, compile=False)
    np.testing.assert_allclose(loaded(as_batch(examples)), model(as_batch(examples)), atol=1e-6)


def test_predict_on_a_tf_data_pipeline(built):
    import tensorflow as tf

    _, model, examples = built
    dataset = tf.data.Dataset.from_tensor_slices(as_batch(examples)).batch(2)
    assert model.predict(dataset, verbose=0).shape[0] == len(examples)


def test_padding_does_not_change_the_prediction(built):
    """The mask makes an example's output independent of the padding added for the batch."""
    _, model, examples = built
    alone = np.asarray(model(as_batch(examples[-1:])))[0]
    batched = np.asarray(model(as_batch(examples)))[-1]
    np.testing.assert_allclose(alone, batched[: len(alone)], atol=1e-5)


def test_builder_rejects_unknown_cell():
    with pytest.raises(ValueError, match="cell must be one of"):
        zoo.build("imdb-gru", cell="transformer")
