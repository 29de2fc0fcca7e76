"""The POS tagger: tokenization, readable output, bad input, exports and the shipped checkpoint's score."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import zoo
from zoo.layers.tagging import tokenize
from zoo._registry import get_spec

NAME = "udpos-bilstm"


@pytest.fixture(scope="module")
def tagger():
    return zoo.pipeline(NAME)


@pytest.mark.parametrize("text", ["I don't know.", "It costs $3.50 (approx.), e-mail me!", "He said 'yes' -- John's car.",
                                  "  spaces   everywhere  ", "Ünïcödé café, naïve 東京 🙂"])
def test_tokenize_offsets_point_into_the_text(text):
    for token, start, end in tokenize(text):
        assert text[start:end] == token


def test_python_and_tensorflow_tokenizers_agree_on_real_reviews(data_dir):
    import tensorflow as tf

    from zoo.data import imdb
    from zoo.layers.tagging import TokenizeText

    texts = imdb.load("test", limit=200).texts
    graph = TokenizeText()(tf.constant(texts)).numpy()
    for text, row in zip(texts, graph):
        assert [t for t, _, _ in tokenize(text)] == [t.decode() for t in row if t]


def test_unusual_whitespace_splits_the_same_in_python_and_tensorflow():
    import tensorflow as tf

    from zoo.layers.tagging import TokenizeText

    text = "a\x85b\xa0c\u2009d\u3000e\tf\u200bg"  # NEL, NBSP, thin space, ideographic space, tab; ZWSP is not space
    graph = [t.decode() for t in TokenizeText()(tf.constant([text])).numpy()[0] if t]
    assert [t for t, _, _ in tokenize(text)] == graph == ["a", "b", "c", "d", "e", "f\u200bg"]


def test_ud_style_clitics():
    assert [t for t, _, _ in tokenize("I can't and she's done.")] == ["I", "ca", "n't", "and", "she", "'s", "done", "."]


def test_readable_output(tagger):
    out = tagger("I love football")
    assert [token for token, _ in out] == ["I", "love", "football"]
    assert [tag for _, tag in out] == ["PRON", "VERB", "NOUN"]
    assert tagger(["I", "love", "football"], pretokenized=True) == out
    batch = tagger(["I love football", "The cat sat."])
    assert len(batch) == 2 and batch[0] == out
    assert len(tagger([["I", "love"], ["Hi"]], pretokenized=True)) == 2


@pytest.mark.parametrize(
    "bad, kwargs, error, message",
    [
        ("", {}, ValueError, "empty"),
        (None, {}, TypeError, "got None"),
        (3, {}, TypeError, "got int"),
        ([], {}, ValueError, "empty batch"),
        ([], {"pretokenized": True}, ValueError, "non-empty"),
        ([["fine"], []], {"pretokenized": True}, ValueError, "empty batch"),
        (["two words"], {"pretokenized": True}, ValueError, "whitespace"),
        ([["ok", 5]], {"pretokenized": True}, TypeError, "index 1"),
    ],
)
def test_bad_input_raises_a_clear_error(tagger, bad, kwargs, error, message):
    with pytest.raises(error, match=message):
        tagger(bad, **kwargs)


def test_a_5000_token_sentence_is_tagged(tagger):
    text = " ".join(["the", "dog", "runs", "."] * 1250)
    out = tagger(text)
    assert len(out) == 5000 and all(tag in get_spec(NAME).labels for _, tag in out)


def test_unknown_characters_are_tagged_not_a_crash(tagger):
    out = tagger("I ♥ 東京 🙂 and \u200b zero-width")
    assert [t for t, _ in out][:3] == ["I", "♥", "東京"]


@pytest.mark.slow
@pytest.mark.parametrize("name", zoo.list_models("udpos-*", pretrained=True))
def test_checkpoint_scores_like_its_card_on_a_fixed_slice(name, tagger, data_dir):
    from zoo.data import ud_ewt

    data = ud_ewt.load("test")
    sentences, gold = data.tokens[::4], data.tags[::4]  # every 4th sentence: all genres of the test split
    predicted = (tagger if name == NAME else zoo.pipeline(name)).tag(sentences)
    correct = sum(p == g for pred, ref in zip(predicted, gold) for (p, _), g in zip(pred, ref))
    accuracy = correct / sum(map(len, gold))
    card = get_spec(name).card()["metrics"]["accuracy"]
    assert abs(accuracy - card) <= 0.02, f"{accuracy:.4f} on the slice, card says {card:.4f}"


@pytest.mark.slow
def test_saved_model_tags_raw_text_without_zoo(tmp_path, tagger):
    path = zoo.export(NAME, str(tmp_path), format="saved_model")
    texts = ["I love football.", "The quick brown fox jumps over the lazy dog."]
    script = (
        "import json, sys, tensorflow as tf\n"
        f"m = tf.saved_model.load({path!r})\n"
        "out = m.signatures['serving_default'](text=tf.constant(json.load(sys.stdin)))\n"
        "tokens = [[t.decode() for t in row if t] for row in out['tokens'].numpy()]\n"
        "tags = [[t.decode() for t in row if t] for row in out['tags'].numpy()]\n"
        "assert 'zoo' not in sys.modules\n"
        "print(json.dumps([list(zip(a, b)) for a, b in zip(tokens, tags)]))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], input=json.dumps(texts), capture_output=True, text=True,
                         cwd=str(tmp_path), env={**os.environ, "PYTHONPATH": ""})
    assert run.returncode == 0, run.stderr[-2000:]
    served = [[tuple(pair) for pair in row] for row in json.loads(run.stdout.strip().splitlines()[-1])]
    assert served == tagger(texts)


@pytest.mark.slow
def test_tflite_network_runs_builtin_ops_only_and_matches_keras(tmp_path, tagger, data_dir):
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    from zoo.data import ud_ewt
    from zoo.models.sequence_tagger import TFLITE_MAX_TOKENS, pad_tokens

    path = zoo.export(NAME, str(tmp_path), format="tflite")
    interpreter = Interpreter(model_path=path)
    interpreter.allocate_tensors()
    assert not any(op["op_name"].startswith("Flex") for op in interpreter._get_ops_details())
    run = interpreter.get_signature_runner()  # inputs by name, outputs output_0
    assert set(run.get_input_details()) == {"word_ids", "char_ids", "case_ids"}
    sentences = ud_ewt.load("test").tokens[:30]
    encoded = tagger.encode(sentences)
    word_ids, char_ids, case_ids = encoded["word_ids"], encoded["char_ids"], encoded["case_ids"]
    assert set(encoded) == {"word_ids", "char_ids", "case_ids"}
    expected = np.asarray(tagger.model(tf.constant(pad_tokens(sentences))))
    worst = 0.0
    for i, sentence in enumerate(sentences):
        n = len(sentence)
        words, cases = np.zeros((1, TFLITE_MAX_TOKENS), np.int32), np.zeros((1, TFLITE_MAX_TOKENS), np.int32)
        chars = np.zeros((1, TFLITE_MAX_TOKENS, char_ids.shape[-1]), np.int32)
        words[0, :n], chars[0, :n], cases[0, :n] = word_ids[i, :n], char_ids[i, :n], case_ids[i, :n]
        probabilities = run(word_ids=words, char_ids=chars, case_ids=cases)["output_0"]
        worst = max(worst, float(np.abs(probabilities[0, :n] - expected[i, :n]).max()))
    assert worst < 1e-4
    assert len(open(os.path.join(os.path.dirname(path), "words.txt"), encoding="utf-8").read().splitlines()) <= 20000


def test_tagging_scores_count_unknown_words_apart():
    from zoo.models.sequence_tagger.evaluation import tagging_scores

    predicted, gold = [["DET", "NOUN", "VERB"], ["PRON"]], [["DET", "PROPN", "VERB"], ["PRON"]]
    assert tagging_scores(predicted, gold) == {"accuracy": 0.75, "n": 4}
    scores = tagging_scores(predicted, gold, known=[[True, False, False], [True]])
    assert scores == {"accuracy": 0.75, "n": 4, "unknown_rate": 0.5, "unknown_accuracy": 0.5}
    assert tagging_scores([["X"]], [["X"]], known=[[True]])["unknown_accuracy"] is None  # no unknown word
    with pytest.raises(ValueError, match="parallel"):
        tagging_scores([["DET"]], [["DET", "NOUN"]])


def test_known_words_follow_the_models_normalized_vocabulary():
    from zoo.models.sequence_tagger.evaluation import known_words

    model = zoo.build(NAME, word_vocabulary=["the", "0000", "cat"], char_vocabulary=list("thecas"))
    assert known_words(model, [["The", "1999", "cats"], ["CAT"]]) == [[True, True, False], [True]]


def test_a_second_bilstm_layer_reads_the_first():
    model = zoo.build(NAME, word_vocabulary=["a"], char_vocabulary=list("a"), lstm_layers=2, units=4)
    network = model.get_layer("network")
    assert network.get_layer("bilstm_2").forward_layer.cell.kernel.shape[0] == 8  # both directions of the first layer
    with pytest.raises(ValueError, match="lstm_layers must be at least 1"):
        zoo.build(NAME, word_vocabulary=["a"], char_vocabulary=list("a"), lstm_layers=0)


def test_rare_words_are_hidden_more_often_than_frequent_ones():
    from zoo.layers.tagging import WordDropout

    layer = WordDropout(0.25, vocab_size=5, seed=0)
    layer.set_word_counts([0, 0, 1, 6, 1000], alpha=2.0)
    np.testing.assert_allclose(layer.rates.numpy(), [1, 1, 2 / 3, 0.25, 0.25], rtol=1e-6)
    ids = np.tile(np.arange(5, dtype="int32"), (4000, 1))
    hidden = (np.asarray(layer(ids, training=True)) == 1).mean(axis=0)
    assert hidden[0] == 0 and abs(hidden[2] - 2 / 3) < 0.03 and abs(hidden[4] - 0.25) < 0.03  # padding is kept
    np.testing.assert_array_equal(layer(ids, training=False), ids)
    with pytest.raises(ValueError, match="expected 5 counts"):
        layer.set_word_counts([1, 2], alpha=2.0)
    with pytest.raises(ValueError, match="needs a WordDropout built with vocab_size"):
        WordDropout(0.25).set_word_counts([1], alpha=2.0)


def test_the_recipe_sets_the_rates_from_training_counts_and_they_are_saved(tmp_path, load_recipe):
    import keras

    from zoo.models.sequence_tagger import emission_part

    recipe = load_recipe("train_sequence_tagger.py")
    model = zoo.build(NAME, word_vocabulary=["the", "cat", "zebra"], char_vocabulary=list("thecazbr"), rare_word_dropout=True)
    recipe.set_rare_word_rates(model, [["the", "cat", "the"], ["the", "cat", "the", "the"]])
    path = str(tmp_path / "tagger.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, compile=False, safe_mode=True)
    rates = emission_part(loaded).get_layer("network").get_layer("word_dropout").rates.numpy()
    np.testing.assert_allclose(rates[2:], [2 / 7, 0.5, 1.0], rtol=1e-6)  # the: 5 times, cat: twice, zebra: never


def test_the_pos_benchmark_tells_headlines_and_tables_from_prose():
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))
    import bench_pos

    assert bench_pos.line_kind("CRICKET - LEICESTERSHIRE TAKE OVER AT TOP .".split()) == "all-caps line"
    assert bench_pos.line_kind("Somerset 83 and 174 ( P. Simmons 4-38 ) .".split()) == "table line"
    assert bench_pos.line_kind("The club , who put Manchester United out , were fined $ 1,000 .".split()) == "prose"
    assert bench_pos.by_line_kind([["NOUN", "X"], ["PROPN"]], [["NOUN", "NOUN"], ["PROPN"]],
                                  [["GET", "WIN"], ["Paris"]]) == "all-caps line 0.5000 (2), prose 1.0000 (1)"


def test_unseen_words_are_mapped_into_the_space_training_moved_the_others_to(load_recipe):
    from zoo.models.sequence_tagger import emission_part

    recipe = load_recipe("train_sequence_tagger.py")
    words = [f"w{i}" for i in range(60)]
    model = zoo.build(NAME, word_vocabulary=words, char_vocabulary=list("w0123456789"), word_dim=4)
    layer = emission_part(model).get_layer("network").get_layer("word_embedding")
    rng = np.random.default_rng(1)
    initial = rng.normal(size=(62, 4)).astype("float32")
    rotate, shift = rng.normal(size=(4, 4)), rng.normal(size=4)
    trained = initial.copy()
    trained[2:52] = initial[2:52] @ rotate + shift  # what training did to the 50 words it saw
    layer.set_weights([trained])
    record = recipe.map_unseen_words(model, initial, [words[:25], words[25:50]])
    assert record["unseen_words_mapped"] == 10 and record["map_r2"] > 0.99
    np.testing.assert_allclose(layer.get_weights()[0][52:], initial[52:] @ rotate + shift, atol=0.05)
    np.testing.assert_array_equal(layer.get_weights()[0][:52], trained[:52])  # the trained rows are kept
