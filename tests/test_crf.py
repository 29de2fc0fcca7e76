"""The CRF layer against brute force on tiny cases, its masking, and training/saving/export of CRFTagger."""

import itertools

import numpy as np
import pytest

NUM_TAGS = 3
GARBAGE = (1e6, -1e6, np.nan, np.inf)


@pytest.fixture(scope="module")
def crf():
    from zoo.layers.crf import CRF

    layer = CRF(NUM_TAGS)
    rng = np.random.default_rng(7)
    layer.transitions.assign(rng.normal(size=(NUM_TAGS, NUM_TAGS)).astype("float32"))
    layer.start_transitions.assign(rng.normal(size=NUM_TAGS).astype("float32"))
    layer.end_transitions.assign(rng.normal(size=NUM_TAGS).astype("float32"))
    return layer


def _every_tag_sequence(crf, emissions):
    """All tag sequences of one unpadded row and their scores, by enumeration (float64)."""
    transitions, start, end = (np.asarray(w, np.float64) for w in (crf.transitions, crf.start_transitions, crf.end_transitions))
    sequences = list(itertools.product(range(NUM_TAGS), repeat=len(emissions)))
    scores = np.array(
        [
            start[y[0]] + end[y[-1]] + sum(emissions[t, y[t]] for t in range(len(y)))
            + sum(transitions[y[t - 1], y[t]] for t in range(1, len(y)))
            for y in sequences
        ]
    )
    return sequences, scores


def _log_sum_exp(scores):
    return scores.max() + np.log(np.exp(scores - scores.max()).sum())


def _brute_marginals(crf, emissions):
    sequences, scores = _every_tag_sequence(crf, emissions)
    probabilities = np.exp(scores - _log_sum_exp(scores))
    marginals = np.zeros((len(emissions), NUM_TAGS))
    for sequence, probability in zip(sequences, probabilities):
        marginals[np.arange(len(emissions)), sequence] += probability
    return marginals


def _right_padded_batch(rng, lengths, time):
    """Emissions whose rows have the given lengths, garbage (huge, nan, inf) past each length."""
    emissions = rng.normal(size=(len(lengths), time, NUM_TAGS)).astype("float32")
    mask = np.arange(time)[None, :] < np.array(lengths)[:, None]
    emissions[~mask] = rng.choice(GARBAGE, size=(np.sum(~mask), NUM_TAGS))
    return emissions, mask


@pytest.mark.parametrize("length", [1, 2, 3, 4])
def test_log_partition_without_mask_matches_brute_force(crf, length):
    emissions = np.random.default_rng(length).normal(size=(2, length, NUM_TAGS)).astype("float32")
    expected = [_log_sum_exp(_every_tag_sequence(crf, row)[1]) for row in emissions]
    np.testing.assert_allclose(crf.log_partition(emissions), expected, rtol=1e-5)


def test_log_partition_of_a_padded_batch_matches_brute_force(crf):
    lengths = [1, 4, 2, 3]
    emissions, mask = _right_padded_batch(np.random.default_rng(0), lengths, time=5)
    expected = [_log_sum_exp(_every_tag_sequence(crf, row[:n])[1]) for row, n in zip(emissions, lengths)]
    np.testing.assert_allclose(crf.log_partition(emissions, mask), expected, rtol=1e-5)


@pytest.mark.parametrize("length", [1, 3])
def test_probabilities_of_all_tag_sequences_sum_to_one(crf, length):
    rng = np.random.default_rng(length)
    row, row_mask = _right_padded_batch(rng, [length], time=length + 2)
    sequences, scores = _every_tag_sequence(crf, row[0, :length])
    tags = rng.integers(-1, NUM_TAGS, size=(len(sequences), length + 2))  # padding labels are ignored
    tags[:, :length] = sequences
    batch = np.repeat(row, len(sequences), axis=0)
    log_likelihood = np.asarray(crf.log_likelihood(batch, tags, np.repeat(row_mask, len(sequences), axis=0)))
    np.testing.assert_allclose(np.exp(log_likelihood).sum(), 1.0, rtol=1e-5)
    np.testing.assert_allclose(log_likelihood, scores - _log_sum_exp(scores), rtol=1e-4, atol=1e-5)


def test_viterbi_is_the_exhaustive_argmax(crf):
    lengths = [3, 1, 4, 2]
    emissions, mask = _right_padded_batch(np.random.default_rng(1), lengths, time=4)
    tags, best_score = (np.asarray(x) for x in crf.viterbi_decode(emissions, mask))
    assert tags.dtype == np.int32 and tags.shape == (4, 4)
    for row, n, decoded, score in zip(emissions, lengths, tags, best_score):
        sequences, scores = _every_tag_sequence(crf, row[:n])
        assert tuple(decoded[:n]) == sequences[int(np.argmax(scores))]
        assert not decoded[n:].any()
        np.testing.assert_allclose(score, scores.max(), rtol=1e-5)
    np.testing.assert_array_equal(crf(emissions, mask=mask), tags)


def test_marginals_match_brute_force_and_sum_to_one(crf):
    lengths = [4, 2, 1]
    emissions, mask = _right_padded_batch(np.random.default_rng(2), lengths, time=4)
    marginals = np.asarray(crf.marginals(emissions, mask))
    for row, n, computed in zip(emissions, lengths, marginals):
        np.testing.assert_allclose(computed[:n], _brute_marginals(crf, row[:n]), atol=1e-5)
        np.testing.assert_allclose(computed[:n].sum(axis=-1), 1.0, rtol=1e-5)
        assert not computed[n:].any()


@pytest.mark.parametrize("kept", [[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1], [0, 1, 0, 1, 1, 0]], ids=["right", "left", "holes"])
def test_dropped_steps_change_nothing(crf, kept):
    """A row padded anywhere with garbage gives the results of the bare row; outputs there are 0."""
    rng = np.random.default_rng(3)
    kept = np.array(kept, dtype=bool)
    bare = rng.normal(size=(1, 3, NUM_TAGS)).astype("float32")
    padded = rng.choice(GARBAGE, size=(1, 6, NUM_TAGS)).astype("float32")
    padded[0, kept] = bare[0]
    tags = np.array([[2, 0, 1]])
    padded_tags = np.full((1, 6), -1)
    padded_tags[0, kept] = tags[0]
    mask = kept[None]
    np.testing.assert_allclose(crf.log_partition(padded, mask), crf.log_partition(bare), rtol=1e-6)
    np.testing.assert_allclose(crf.log_likelihood(padded, padded_tags, mask), crf.log_likelihood(bare, tags), rtol=1e-6)
    decoded, score = crf.viterbi_decode(padded, mask)
    bare_decoded, bare_score = crf.viterbi_decode(bare)
    np.testing.assert_array_equal(np.asarray(decoded)[mask], np.asarray(bare_decoded)[0])
    assert not np.asarray(decoded)[~mask].any()
    np.testing.assert_allclose(score, bare_score, rtol=1e-6)
    marginals = np.asarray(crf.marginals(padded, mask))
    np.testing.assert_allclose(marginals[mask], np.asarray(crf.marginals(bare))[0], atol=1e-6)
    assert not marginals[~mask].any()


def test_a_row_with_no_kept_step_is_the_empty_sequence(crf):
    emissions = np.random.default_rng(4).normal(size=(2, 3, NUM_TAGS)).astype("float32")
    mask = np.array([[False] * 3, [True] * 3])
    assert float(crf.log_partition(emissions, mask)[0]) == 0.0
    assert float(crf.log_likelihood(emissions, np.zeros((2, 3), int), mask)[0]) == 0.0
    tags, score = crf.viterbi_decode(emissions, mask)
    assert not np.asarray(tags)[0].any() and float(score[0]) == 0.0
    assert not np.asarray(crf.marginals(emissions, mask))[0].any()


def test_gradients_are_finite_and_the_log_partition_gradient_is_the_marginals(crf):
    import tensorflow as tf

    from zoo.layers.crf import crf_nll

    emissions, mask = _right_padded_batch(np.random.default_rng(5), [4, 2], time=4)
    emissions = tf.constant(emissions)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(emissions)
        loss = crf_nll(crf, emissions, np.array([[0, 1, 2, 1], [2, 2, -1, -1]]), mask)
        log_z = tf.reduce_sum(crf.log_partition(emissions, mask))
    for gradient in tape.gradient(loss, [emissions, *crf.trainable_weights]):
        assert np.all(np.isfinite(gradient))
    # d log Z / d emissions[t, j] = P(tag j at step t): forward-backward and autodiff agree.
    np.testing.assert_allclose(tape.gradient(log_z, emissions), crf.marginals(emissions, mask), atol=1e-5)


def test_config_round_trip(crf):
    import keras

    from zoo.layers.crf import CRF

    config = crf.get_config()
    assert config["num_tags"] == NUM_TAGS
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(crf))
    assert isinstance(clone, CRF) and clone.get_config() == config
    clone.set_weights(crf.get_weights())
    emissions = np.random.default_rng(6).normal(size=(2, 4, NUM_TAGS)).astype("float32")
    np.testing.assert_allclose(clone.log_partition(emissions), crf.log_partition(emissions))


def test_emissions_of_the_wrong_width_are_refused():
    from zoo.layers.crf import CRF

    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 3"):
        CRF(3)(np.zeros((1, 2, 4), "float32"))


def test_keras_mask_flows_from_embedding_into_the_crf(crf, tmp_path):
    import keras

    ids = keras.Input((None,), dtype="int32")
    emissions = keras.layers.Dense(NUM_TAGS)(keras.layers.Embedding(10, 4, mask_zero=True)(ids))
    model = keras.Model(ids, crf(emissions))
    emitter = keras.Model(ids, emissions)
    x = np.array([[3, 1, 4, 1, 5], [9, 2, 6, 0, 0], [0, 0, 5, 3, 5]])
    expected, _ = crf.viterbi_decode(emitter(x), x != 0)
    np.testing.assert_array_equal(model(x), expected)
    assert not np.asarray(model(x))[x == 0].any()
    model.save(tmp_path / "functional.keras")
    loaded = keras.saving.load_model(tmp_path / "functional.keras", safe_mode=True)
    np.testing.assert_array_equal(loaded(x), expected)


# -- CRFTagger: fit, save/load, SavedModel export. One tiny model, trained once for the module.

VOCABULARY_SIZE, NUM_TAGGER_TAGS = 20, 5


def _token_batch(seed, size=8, time=7):
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, VOCABULARY_SIZE, size=(size, time))
    ids[np.arange(time)[None, :] >= rng.integers(1, time + 1, size=size)[:, None]] = 0
    tags = rng.integers(0, NUM_TAGGER_TAGS, size=(size, time))
    tags[ids == 0] = -1
    return ids.astype("int32"), tags


def _tiny_tagger(jit_compile=False):
    import keras

    from zoo.layers.crf import CRFTagger

    keras.utils.set_random_seed(0)
    emission_model = keras.Sequential(
        [
            keras.Input((None,), dtype="int32"),
            keras.layers.Embedding(VOCABULARY_SIZE, 8, mask_zero=True),
            keras.layers.Bidirectional(keras.layers.LSTM(6, return_sequences=True)),
            keras.layers.Dense(NUM_TAGGER_TAGS),
        ]
    )
    tagger = CRFTagger(emission_model)
    tagger.compile(optimizer=keras.optimizers.Adam(0.01), jit_compile=jit_compile)
    return tagger


@pytest.fixture(scope="module")
def trained_tagger():
    tagger = _tiny_tagger()
    ids, tags = _token_batch(0)
    history = tagger.fit(ids, tags, batch_size=4, epochs=1, verbose=0)  # 2 steps
    return tagger, history


def test_tagger_fits_and_reports_nll_and_accuracy(trained_tagger):
    tagger, history = trained_tagger
    assert set(history.history) == {"loss", "accuracy"}
    assert np.isfinite(history.history["loss"][0]) and history.history["loss"][0] > 0
    ids, tags = _token_batch(1)
    scores = tagger.evaluate(ids, tags, verbose=0, return_dict=True)
    emissions, mask = tagger.emissions(ids)
    np.testing.assert_array_equal(mask, ids != 0)
    predicted = tagger.predict(ids, verbose=0)
    np.testing.assert_allclose(scores["accuracy"], np.mean(predicted[ids != 0] == tags[ids != 0]), rtol=1e-6)
    assert predicted.dtype == np.int32 and not predicted[ids == 0].any()


def test_tagger_saves_and_loads_in_safe_mode(trained_tagger, tmp_path):
    import keras

    from zoo.layers.crf import CRFTagger

    tagger, _ = trained_tagger
    ids, _ = _token_batch(2)
    tagger.save(tmp_path / "tagger.keras")
    loaded = keras.saving.load_model(tmp_path / "tagger.keras", safe_mode=True)
    assert isinstance(loaded, CRFTagger)
    np.testing.assert_array_equal(loaded.predict(ids, verbose=0), tagger.predict(ids, verbose=0))
    np.testing.assert_allclose(loaded.crf.get_weights()[0], tagger.crf.get_weights()[0])


def test_tagger_exports_to_a_saved_model_with_any_batch_and_length(trained_tagger, tmp_path):
    import tensorflow as tf

    tagger, _ = trained_tagger

    class Serving(tf.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32)])
        def tag(self, ids):
            return self.model(ids, training=False)

    tf.saved_model.save(Serving(tagger), str(tmp_path / "saved_model"))
    restored = tf.saved_model.load(str(tmp_path / "saved_model"))
    for ids in (_token_batch(3)[0], _token_batch(4, size=3, time=11)[0], np.array([[7]], "int32")):
        np.testing.assert_array_equal(restored.tag(tf.constant(ids)), tagger(ids))


def test_tagger_trains_under_xla():
    """jit_compile="auto" picks XLA on GPUs, so the training step must compile there."""
    tagger = _tiny_tagger(jit_compile=True)
    ids, tags = _token_batch(0)
    history = tagger.fit(ids, tags, batch_size=4, epochs=1, verbose=0)
    assert tagger.jit_compile and np.isfinite(history.history["loss"][0])
    np.testing.assert_array_equal(tagger.predict(ids, verbose=0), tagger(ids))
