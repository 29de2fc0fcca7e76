"""The word-level language model: tied embedding layer, builder, perplexity counting, recipe smoke run."""

import importlib.util
import os

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _tied_model(vocab=7, dim=4):
    import keras

    from zoo.layers.language_model import TiedEmbedding

    ids = keras.Input(shape=(None,), dtype="int32")
    embedding = TiedEmbedding(vocab, dim, name="embedding")
    hidden = keras.layers.Dense(dim, name="projection")(embedding(ids))
    return keras.Model(ids, embedding(hidden, reverse=True))


def test_tied_embedding_shares_the_matrix_and_round_trips_in_safe_mode(tmp_path):
    import keras

    import zoo.layers  # noqa: F401
    import zoo.layers.language_model  # noqa: F401

    model = _tied_model()
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(size=w.shape).astype("float32") for w in model.get_weights()])
    embedding = model.get_layer("embedding")
    # One matrix and one output bias, used both ways.
    assert [tuple(w.shape) for w in embedding.weights] == [(7, 4), (7,)]
    assert sum(int(np.prod(w.shape)) for w in model.weights) == 7 * 4 + 7 + 4 * 4 + 4
    ids = np.array([[1, 2, 3], [4, 5, 6]], dtype="int32")
    logits = np.asarray(model(ids))
    matrix, bias = (np.asarray(w) for w in embedding.weights)
    kernel, dense_bias = model.get_layer("projection").get_weights()
    expected = (matrix[ids] @ kernel + dense_bias) @ matrix.T + bias
    np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4)

    path = str(tmp_path / "tied.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(np.asarray(loaded(ids)), logits, rtol=1e-6, atol=1e-6)
    assert type(loaded.get_layer("embedding")).__name__ == "TiedEmbedding"
    assert len(loaded.get_layer("embedding").weights) == 2


def test_boundary_tokens_frame_each_row():
    from zoo.layers.language_model import AddBoundaryTokens

    out = np.asarray(AddBoundaryTokens(2)(np.array([[5, 6, 0], [7, 0, 0], [0, 0, 0]])))
    np.testing.assert_array_equal(out, [[2, 5, 6, 2, 0], [2, 7, 2, 0, 0], [2, 2, 0, 0, 0]])


def test_builder_takes_raw_text_and_predicts_every_next_token(tmp_path):
    import keras
    import tensorflow as tf

    import zoo.layers  # noqa: F401
    import zoo.layers.language_model  # noqa: F401
    from zoo.models.language_model.model import EOS_ID, build_language_model

    model = build_language_model(vocabulary=["the", "film", "great", "a"], vocab_size=8, embedding_dim=6, units=10, layers=2)
    texts = tf.constant(["A great film!", "the"])
    assert model(texts).shape == (2, 6, 8)  # <eos> a great film ! <eos> ("!" is a token, here [UNK])
    framed = keras.Model(model.input, model.get_layer("frame").output)(texts).numpy()
    assert framed[0, 0] == EOS_ID and framed[1].tolist() == [EOS_ID, 3, EOS_ID, 0, 0, 0]
    assert model.get_layer("vectorize").get_vocabulary()[:4] == ["", "[UNK]", "<eos>", "the"]
    network = model.get_layer("language_model")
    assert network.output.shape == (None, None, 8)
    # embedding 8x6 + bias 8, two LSTMs, projection 10 -> 6; no separate output matrix.
    lstm = lambda n_in: 4 * 10 * (n_in + 10 + 1)  # noqa: E731
    assert network.count_params() == 8 * 6 + 8 + lstm(6) + lstm(10) + 10 * 6 + 6


def test_perplexity_counts_every_token_once():
    import keras

    from zoo.models.language_model.model import build_network, join_reviews, perplexity_of_stream, stream_windows

    stream = join_reviews([np.array([3, 4, 5]), np.array([6]), np.array([7, 1, 3, 4])])
    assert stream.tolist() == [2, 3, 4, 5, 2, 6, 2, 7, 1, 3, 4, 2]
    targets = [t for _, y, w in stream_windows(stream, batch_size=3, seq_len=2) for t, k in zip(y.ravel(), w.ravel()) if k]
    assert sorted(targets) == sorted(stream[1:].tolist())
    # All weights zero: every logit is 0, so every token has probability 1/V and perplexity is V.
    network = build_network(vocab_size=9, embedding_dim=4, units=5, layers=1, embedding_dropout=0.1, dropout=0.1)
    network.set_weights([np.zeros(w.shape, "float32") for w in network.get_weights()])
    result = perplexity_of_stream(network, stream, batch_size=3, seq_len=2)
    assert result["tokens"] == len(stream) - 1
    assert result["perplexity"] == pytest.approx(9.0, rel=1e-5)
    assert isinstance(network, keras.Model)


@pytest.mark.slow
def test_recipe_smoke_run_writes_a_loadable_model(tmp_path, data_dir):
    import keras
    import tensorflow as tf

    import zoo.layers  # noqa: F401
    import zoo.layers.language_model  # noqa: F401

    spec = importlib.util.spec_from_file_location("train_language_model", os.path.join(ROOT, "recipes", "train_language_model.py"))
    recipe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recipe)
    out = tmp_path / "out"
    figures = recipe.main([
        "--limit-train", "50", "--eval-limit", "20", "--epochs", "1", "--steps-per-epoch", "2", "--vocab-size", "300",
        "--embedding-dim", "8", "--units", "16", "--batch-size", "4", "--seq-len", "12",
        "--run-dir", str(tmp_path / "run"), "--out", str(out),
    ])
    assert figures["validation"]["n"] == 20 and figures["validation"]["perplexity"] > 1
    assert os.path.exists(tmp_path / "run" / "history.csv") and figures["stages"] == 1
    model = keras.saving.load_model(str(out / "imdb-lm-lstm.keras"), safe_mode=True)
    assert model(tf.constant(["A wonderful film.", "Dull."])).shape == (2, 5, 300)
