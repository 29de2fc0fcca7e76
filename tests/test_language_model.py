"""imdb-lm-lstm, the word-level language model: tied embedding layer, builder, perplexity counting, generating
through zoo.decoding (reproducible, streamed, readable, stopped at <eos>, exported), clear errors, recipe smoke run
and the shipped checkpoint against its card.

Fast tests use a tiny untrained model; the `slow` ones load the shipped checkpoint or the real data.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import zoo

NAME = "imdb-lm-lstm"
PROMPT = "The film was"
TEST_TOKENS = 5_773_972  # the 25,000 test reviews joined by <eos>: every token after the first (any vocabulary)


@pytest.fixture(scope="module")
def tiny():
    import keras

    from zoo.models.language_model.examples import examples

    keras.utils.set_random_seed(3)
    return zoo.pipeline(NAME, model=zoo.build(NAME, **examples().builder_args))


def _biased(tiny, bias: dict):
    """A copy of the tiny model whose output bias is ``bias[id]`` for the ids given."""
    from zoo.models.language_model.examples import examples

    model = zoo.build(NAME, **examples().builder_args)
    model.set_weights(tiny.model.get_weights())
    embedding = model.get_layer("language_model").get_layer("embedding")
    values = np.asarray(embedding.bias).copy()
    values[list(bias)] = list(bias.values())
    embedding.bias.assign(values)
    return zoo.pipeline(NAME, model=model)


def _tied_model(vocab=7, dim=4):
    import keras

    from zoo.layers.language_model import TiedEmbedding

    ids = keras.Input(shape=(None,), dtype="int32")
    embedding = TiedEmbedding(vocab, dim, name="embedding")
    hidden = keras.layers.Dense(dim, name="projection")(embedding(ids))
    return keras.Model(ids, embedding(hidden, reverse=True))


def test_tied_embedding_shares_the_matrix_and_round_trips_in_safe_mode(tmp_path):
    import keras


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
    windows = list(stream_windows(stream, batch_size=3, seq_len=2))
    targets = [t for _, y, w in windows for t, k in zip(y.ravel(), w.ravel()) if k]
    assert sorted(targets) == sorted(stream[1:].tolist())
    # Rows begin at review boundaries (an <eos>), never inside a review.
    rows = np.concatenate([x for x, _, _ in windows], axis=1).tolist()
    assert rows == [[2, 3, 4, 5, 0, 0, 0], [2, 6, 2, 7, 1, 3, 4], [0] * 7]
    # Too few reviews for the rows asked: fewer rows, still every token once.
    few = [t for _, y, w in stream_windows(stream, batch_size=8, seq_len=3) for t, k in zip(y.ravel(), w.ravel()) if k]
    assert sorted(few) == sorted(stream[1:].tolist())
    # All weights zero: every logit is 0, so every token has probability 1/V and perplexity is V.
    network = build_network(vocab_size=9, embedding_dim=4, units=5, layers=1, embedding_dropout=0.1, dropout=0.1)
    network.set_weights([np.zeros(w.shape, "float32") for w in network.get_weights()])
    result = perplexity_of_stream(network, stream, batch_size=3, seq_len=2)
    assert result["tokens"] == len(stream) - 1
    assert result["perplexity"] == pytest.approx(9.0, rel=1e-5)
    assert isinstance(network, keras.Model)


@pytest.mark.slow
def test_recipe_smoke_run_writes_a_loadable_model(tmp_path, data_dir, load_recipe):
    import keras
    import tensorflow as tf


    recipe = load_recipe("train_language_model.py")
    out = tmp_path / "out"
    argv = ["--limit-train", "50", "--eval-limit", "20", "--epochs", "2", "--steps-per-epoch", "2", "--vocab-size", "300",
            "--embedding-dim", "8", "--units", "16", "--batch-size", "4", "--seq-len", "12",
            "--run-dir", str(tmp_path / "run"), "--out", str(out)]
    assert recipe.main([*argv, "--time-box", "0.001"]) is None  # stops after epoch 1: the next would end past the box
    assert not out.exists() and os.path.isdir(tmp_path / "run" / "backup")
    card = recipe.main(argv)  # resumes at epoch 2, then scores and writes the checkpoint
    assert [(s["first_epoch"], s["last_epoch"]) for s in card["training"]["invocations"]] == [(1, 1), (2, 2)]
    assert card["validation"]["n"] == 20 and card["validation"]["perplexity"] > 1
    assert card["metrics"]["n"] == 20 and card["metrics"]["perplexity"] > 1  # the test reviews, scored once at the end
    assert os.path.exists(tmp_path / "run" / "history.csv") and os.path.exists(out / "imdb-lm-lstm.json")
    model = keras.saving.load_model(str(out / "imdb-lm-lstm.keras"), safe_mode=True)
    assert model(tf.constant(["A wonderful film.", "Dull."])).shape == (2, 5, 300)


# === Generating ===


def test_generate_is_reproducible_from_its_seed_and_streams_the_same_text(tiny):
    text = tiny.generate(PROMPT, max_words=12, temperature=0.9, seed=7)
    assert text.startswith(PROMPT) and len(text) > len(PROMPT)
    assert tiny.generate(PROMPT, max_words=12, temperature=0.9, seed=7) == text
    assert {tiny.generate(PROMPT, max_words=12, temperature=0.9, seed=s) for s in range(8, 12)} != {text}
    assert "".join(tiny.stream(PROMPT, max_words=12, temperature=0.9, seed=7)) == text[len(PROMPT):]
    top = tiny.generate(PROMPT + "  \n", max_words=10, top_k=3, top_p=0.9, seed=1)  # trailing space is dropped
    assert "".join(tiny.stream(PROMPT + "  \n", max_words=10, top_k=3, top_p=0.9, seed=1)) == top[len(PROMPT):]
    assert tiny([PROMPT, "Dull"], max_words=5, seed=2) == [tiny.generate(p, 5, seed=2) for p in (PROMPT, "Dull")]
    assert "[UNK]" not in text and "<eos>" not in text


def test_greedy_generation_follows_the_most_likely_next_token(tiny):
    import tensorflow as tf

    from zoo.models.language_model.model import EOS_ID, OOV_ID, PAD_ID, encode_reviews

    text = tiny.generate("the film", max_words=6, top_k=1, seed=0)
    ids = encode_reviews(tiny.model, [text])[0].tolist()
    words = tiny.model.get_layer("vectorize").get_vocabulary()
    for i in range(2, len(ids)):  # each written token is the most likely one after all before it
        logits = np.array(tiny.model(tf.constant([" ".join(words[t] for t in ids[:i])])))[0, i]
        logits[[PAD_ID, OOV_ID] + ([EOS_ID] if i == 2 else [])] = -np.inf  # never written; <eos> not first
        assert int(np.argmax(logits)) == ids[i], (text, i)


def test_unknown_is_never_written_and_eos_ends_the_text(tiny):
    from zoo.models.language_model.model import EOS_ID, OOV_ID, encode_reviews

    never_ending = _biased(tiny, {OOV_ID: 50.0, EOS_ID: -50.0})  # [UNK] the most likely by far, <eos> never
    for seed in range(3):
        text = never_ending.generate(PROMPT, max_words=8, seed=seed)
        assert len(encode_reviews(tiny.model, [text])[0]) == 3 + 8 and "[UNK]" not in text
    always_ending = _biased(tiny, {EOS_ID: 50.0})
    for seed in range(3):  # one word (a text is never empty), then <eos>
        text = always_ending.generate(PROMPT, max_words=8, seed=seed)
        assert len(encode_reviews(tiny.model, [text])[0]) == 3 + 1
        assert "".join(always_ending.stream(PROMPT, max_words=8, seed=seed)) == text[len(PROMPT):]


def test_written_tokens_read_as_text():
    import tensorflow as tf

    from zoo.models.language_model.decoding import ReviewText

    text = ReviewText(["", "[UNK]", "<eos>", "i", "loved", "it", "!", "the", "film", "?", "i've", "'", "seen"])
    ids = [3, 4, 5, 6, 7, 8, 9, 9, 10, 12, 1, 11, 0, 2]
    expected = " I loved it! The film?? I've seen '"
    assert text.ids_to_text(tf.constant(ids), tf.constant(False)).numpy().decode() == expected
    pieces, after_end = [], False
    for token in ids:
        pieces.append(text.piece(token, after_end))
        after_end = text.ends_sentence[token]
    assert "".join(pieces) == expected
    assert text.ids_to_text(tf.constant([7, 8]), tf.constant(True)).numpy().decode() == " The film"


def test_a_prompt_that_ends_a_sentence_or_has_no_words_starts_one(tiny):
    from zoo.models.language_model.decoding import kept_prompt, runtime
    from zoo.models.language_model.model import encode_reviews

    text = runtime(tiny.model).text
    for prompt, opens in (("Great.", True), ("Great!  ", True), ('He said "great."', True), ("...", True),
                          ("¿¡", True), ("it was", False), ("it was, ", False)):
        written = tiny.generate(prompt, max_words=3, top_k=1, seed=0)
        assert written.startswith(kept_prompt(prompt))
        first = encode_reviews(tiny.model, [written])[0][len(encode_reviews(tiny.model, [prompt])[0])]
        assert written[len(kept_prompt(prompt)):].startswith(text.piece(first, opens)), (prompt, written)
    assert kept_prompt("it was, \n ") == "it was,"


@pytest.mark.parametrize("call, error, message", [
    (lambda lm: lm.generate(""), ValueError, "prompt is empty"),
    (lambda lm: lm.generate(" \n"), ValueError, "prompt is empty"),
    (lambda lm: lm.generate(None), TypeError, "Expected a prompt \\(str\\) or a list of them, got None"),
    (lambda lm: lm.generate(["a"]), TypeError, "Expected one prompt \\(a str\\), got a list"),
    (lambda lm: lm.generate(["a", 3]), TypeError, "Expected the prompt at index 1 to be a str, got int"),
    (lambda lm: lm.generate(b"\xff"), ValueError, "not valid UTF-8"),
    (lambda lm: lm.generate(PROMPT, max_words=0), ValueError, "max_words must be an integer >= 1"),
    (lambda lm: lm.generate(PROMPT, temperature=0), ValueError, "temperature"),
    (lambda lm: lm.stream(PROMPT, top_k=0), ValueError, "top_k"),
    (lambda lm: lm.generate(PROMPT, top_p=1.5), ValueError, "top_p"),
    (lambda lm: lm.perplexity(""), ValueError, "text is empty"),
    (lambda lm: lm.perplexity(3), TypeError, "Expected a text \\(str\\) or a list of them, got int"),
    (lambda lm: lm.perplexity("... --"), ValueError, "no words to score"),
])
def test_bad_input_is_a_clear_error(tiny, call, error, message):
    with pytest.raises(error, match=message):
        call(tiny)


# === Scoring a text ===


def test_perplexity_of_a_text_scores_its_words_and_closing_eos_from_its_opening_eos(tiny):
    import tensorflow as tf

    text = "I loved it, a great movie! Unseenword"  # "unseenword" is [UNK]: scored like any token
    logits = np.asarray(tiny.model(tf.constant([text])))[0].astype(np.float64)  # <eos> 8 tokens <eos>
    framed = np.asarray(tiny.model.get_layer("frame")(tiny.model.get_layer("vectorize")(
        tiny.model.get_layer("standardize")(tf.constant([text])))))[0]
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    nll = -log_probs[np.arange(len(framed) - 1), framed[1:]]
    assert len(nll) == 9 and framed[-2] == 1
    assert tiny.perplexity(text) == pytest.approx(float(np.exp(nll.mean())), rel=1e-5)
    assert tiny.perplexity("Dull.") == pytest.approx(tiny.perplexity("dull"), rel=1e-6)


@pytest.mark.slow
def test_the_evaluation_reports_the_cards_figures(tiny, data_dir):
    from zoo.models.language_model.evaluation import SAMPLE, evaluate

    got = evaluate(tiny.model, split="test", limit=12, progress=False)
    assert set(got) == {"perplexity", "cross_entropy", "tokens", "oov_rate", "n", "first_200", "sample"}
    assert got["n"] == 12 and got["tokens"] > 12 and 0.5 < got["oov_rate"] < 1  # ten known words
    assert got["perplexity"] == pytest.approx(np.exp(got["cross_entropy"]), rel=1e-3)
    assert got["first_200"] == got["perplexity"]  # fewer reviews than the slice: the same stream
    assert got["sample"].startswith(SAMPLE["prompt"])


# === Exports, without zoo ===

SAVED_MODEL_CHECK = """
import json, sys
import tensorflow as tf
loaded = tf.saved_model.load(sys.argv[1])
probabilities = loaded.signatures["next_word"](text=tf.constant([sys.argv[2], "dull"]))["probabilities"].numpy()
generate = loaded.signatures["generate"]
args = dict(prompt=tf.constant(sys.argv[2]), max_words=tf.constant(9), temperature=tf.constant(0.7),
            seed=tf.constant(5, tf.int64))
text = generate(**args)["text"].numpy().decode()
assert generate(**args)["text"].numpy().decode() == text
print(json.dumps({"probabilities": probabilities.tolist(), "text": text}))
"""


def test_saved_model_next_word_and_generate_match_the_pipeline_without_zoo(tiny, tmp_path):
    import tensorflow as tf

    from zoo.models.language_model.export import export_saved_model

    export_saved_model(zoo._registry.get_spec(NAME), tiny.model, str(tmp_path / "sm"))
    vocabulary = tiny.model.get_layer("vectorize").get_vocabulary()
    assert (tmp_path / "sm" / "vocab.txt").read_text(encoding="utf-8").splitlines() == vocabulary
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([sys.executable, "-c", SAVED_MODEL_CHECK, str(tmp_path / "sm"), PROMPT], capture_output=True,
                         text=True, cwd=str(tmp_path), env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    logits = tiny.model(tf.constant([PROMPT, "dull"])).numpy()
    expected = tf.nn.softmax(logits[[0, 1], [3, 1]], axis=-1).numpy()  # after "the film was" and after "dull"
    np.testing.assert_allclose(np.asarray(got["probabilities"]), expected, atol=1e-5)
    assert got["text"] == tiny.generate(PROMPT, max_words=9, temperature=0.7, seed=5)


def test_tflite_one_step_runs_builtin_ops_and_matches_keras(tiny, tmp_path):
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    from zoo.models.language_model.decoding import runtime
    from zoo.models.language_model.export import export_tflite
    from zoo.models.language_model.model import EOS_ID, encode_reviews

    path = export_tflite(zoo._registry.get_spec(NAME), tiny.model, str(tmp_path))
    interpreter = Interpreter(model_path=path)
    assert not any(op["op_name"].startswith("Flex") for op in interpreter._get_ops_details())
    run = interpreter.get_signature_runner()
    described = json.loads((tmp_path / "generator.json").read_text())
    specs = runtime(tiny.model).state_specs()
    assert list(described["inputs"]) == ["word_id", *specs] and described["ids"]["end_of_review"] == EOS_ID
    assert (tmp_path / "vocab.txt").read_text(encoding="utf-8").splitlines() == \
        tiny.model.get_layer("vectorize").get_vocabulary()
    state = {name: np.zeros([1, *shape], dtype) for name, (shape, dtype) in specs.items()}
    rows = []
    for word_id in [EOS_ID, *encode_reviews(tiny.model, [PROMPT])[0], EOS_ID]:
        out = run(word_id=np.array([word_id], np.int32), **state)
        rows.append(out["output_0"][0])
        state = {name: out[f"output_{i + 1}"] for i, name in enumerate(specs)}
    expected = tf.nn.softmax(tiny.model(tf.constant([PROMPT])), axis=-1).numpy()[0]
    np.testing.assert_allclose(np.stack(rows), expected, atol=1e-5)


# === The shipped checkpoint ===


@pytest.mark.slow
def test_the_checkpoint_reproduces_its_cards_figure_on_the_first_200_test_reviews(data_dir):
    from zoo.models.language_model.evaluation import SAMPLE, SLICE
    from zoo.models.language_model.model import evaluate

    card = zoo.info(NAME)
    model = zoo.load(NAME)
    got = evaluate(model, split="test", limit=SLICE, progress=False)
    assert got["perplexity"] == pytest.approx(card["metrics"][f"first_{SLICE}"], abs=0.02)
    assert card["metrics"]["n"] == 25_000 and card["metrics"]["tokens"] == TEST_TOKENS
    assert card["metrics"]["perplexity"] == pytest.approx(np.exp(card["metrics"]["cross_entropy"]), rel=1e-3)
    assert model.get_layer("vectorize").vocabulary_size() == 12_000
    assert card["metrics"]["sample"] == zoo.pipeline(NAME, model=model).generate(
        SAMPLE["prompt"], SAMPLE["max_words"], temperature=SAMPLE["temperature"], seed=SAMPLE["seed"])


@pytest.mark.slow
def test_cli_streams_a_continuation(capsys, monkeypatch):
    import io

    from zoo import cli

    assert cli.main(["predict", NAME, "The acting was", "--max-words", "20", "--seed", "3"]) == 0
    printed = capsys.readouterr().out
    lm = zoo.pipeline(NAME)
    assert printed == lm.generate("The acting was", 20, temperature=0.8, seed=3) + "\n"
    monkeypatch.setattr("sys.stdin", io.StringIO("The acting was\n"))  # prompts may come on stdin with options
    assert cli.main(["predict", NAME, "--max-words", "20", "--seed", "3"]) == 0
    assert capsys.readouterr().out == printed
    assert cli.main(["predict", NAME, "The acting was", "--max-chars", "20"]) == 2
    assert "does not take --max-chars" in capsys.readouterr().err
