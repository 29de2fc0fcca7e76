"""The CoNLL-2003 entity taggers (BiLSTM-CRF and BiLSTM-softmax): spans, bad input, exports, shipped scores."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import zoo
from zoo._registry import get_spec
from zoo.models.sequence_tagger import entities

NAMES = ["conll03-bilstm-crf", "conll03-bilstm"]
TEXT = "Barack Obama visited Paris with Angela Merkel."


@pytest.fixture(scope="module", params=NAMES)
def ner(request):
    return zoo.pipeline(request.param)


@pytest.fixture(scope="module")
def crf_ner():
    return zoo.pipeline("conll03-bilstm-crf")


def spans_of(text):
    from zoo.layers.tagging import tokenize

    return tokenize(text)


def test_casing_ids_agree_in_python_and_tensorflow():
    import tensorflow as tf

    from zoo.layers.tagging import CASINGS, TokenCasing, casing

    tokens = ["the", "Paris", "EU", "A", "iPhone", "McDonald", "U.S.", "1999", "3.5", "1,000", "F-16", "x1", "--",
              "Émile", "ÉCOLE", "é", "東京", "ªb", ""]
    graph = TokenCasing()(tf.constant([tokens])).numpy()[0].tolist()
    assert graph == [casing(t) for t in tokens]
    assert [CASINGS[i] for i in graph[:8]] == ["lower", "initial_upper", "all_upper", "all_upper", "mixed", "mixed",
                                               "mixed", "numeric"]
    assert graph[-1] == 0


def test_entities_group_iob2_tags_with_character_offsets():
    text = "Angela Merkel met EU leaders in New York ."
    tags = ["B-PER", "I-PER", "O", "B-ORG", "O", "O", "B-LOC", "I-LOC", "O"]
    found = entities(text, spans_of(text), [(t, 0.5) for t in tags])
    assert [(e["text"], e["label"]) for e in found] == [("Angela Merkel", "PER"), ("EU", "ORG"), ("New York", "LOC")]
    for e in found:
        assert text[e["start"] : e["end"]] == e["text"] and e["score"] == 0.5
    assert (found[2]["token_start"], found[2]["token_end"]) == (6, 8)


def test_entities_follow_conlleval_for_ill_formed_tags():
    text = "a b c d"
    # An I- after O starts an entity; B- splits adjacent entities; a change of type starts a new one.
    tags = [("I-LOC", 0.9), ("B-LOC", 0.8), ("I-PER", 0.7), ("O", 0.6)]
    found = entities(text, spans_of(text), tags)
    assert [(e["text"], e["label"], e["score"]) for e in found] == [("a", "LOC", 0.9), ("b", "LOC", 0.8), ("c", "PER", 0.7)]


def test_entity_score_is_the_mean_tag_probability():
    text = "New York"
    found = entities(text, spans_of(text), [("B-LOC", 1.0), ("I-LOC", 0.5)])
    assert found[0]["score"] == 0.75


def test_readable_entities(ner):
    found = ner(TEXT)
    assert [(e["text"], e["label"]) for e in found] == [("Barack Obama", "PER"), ("Paris", "LOC"), ("Angela Merkel", "PER")]
    for e in found:
        assert TEXT[e["start"] : e["end"]] == e["text"] and 0.0 < e["score"] <= 1.0
    assert ner.format(TEXT, found) == "[Barack Obama](PER) visited [Paris](LOC) with [Angela Merkel](PER)."


def test_pretokenized_and_batched_input(ner):
    tokens = ["Barack", "Obama", "visited", "Paris", "."]
    found = ner(tokens, pretokenized=True)
    assert [(e["text"], e["start"], e["end"]) for e in found][:2] == [("Barack Obama", 0, 12), ("Paris", 21, 26)]
    batch = ner([TEXT, "No names here."])
    assert batch[0] == ner(TEXT) and batch[1] == []
    assert [tag for _, tag in ner.tags("Barack Obama")] == ["B-PER", "I-PER"]


@pytest.mark.parametrize("bad, error, message", [("", ValueError, "empty"), (None, TypeError, "got None"),
                                                  (3.5, TypeError, "got float"), ([], ValueError, "empty batch")])
def test_bad_input_raises_a_clear_error(crf_ner, bad, error, message):
    with pytest.raises(error, match=message):
        crf_ner(bad)


def test_a_5000_token_sentence_and_unknown_characters(crf_ner):
    text = " ".join(["Paris", "is", "in", "France", "."] * 1000)
    assert len(crf_ner.tags(text)) == 5000
    found = crf_ner(text)
    assert len(found) >= 1000 and all(text[e["start"] : e["end"]] == e["text"] for e in found)
    assert isinstance(crf_ner("Émile ♥ 東京 🙂 \u200b in Zürich"), list)


def test_crf_model_decodes_with_viterbi_and_scores_with_marginals(crf_ner):
    import tensorflow as tf

    from zoo.models.sequence_tagger import pad_tokens, tagging_function

    model = crf_ner.model
    tokens = tf.constant(pad_tokens([["Barack", "Obama", "visited", "Paris"], ["Hi"]]))
    ids, scores = (np.asarray(t) for t in tagging_function(model)(tokens))
    np.testing.assert_array_equal(ids, np.asarray(model(tokens)))  # the model's own output is Viterbi
    emissions, _ = model.emissions(tokens)
    marginals = np.asarray(model.crf.marginals(emissions, tf.not_equal(tokens, "")))
    np.testing.assert_allclose(scores, np.take_along_axis(marginals, ids[..., None], -1)[..., 0], atol=1e-6)
    assert scores[1, 1] == 0.0 and ids[1, 1] == 0  # padding


def test_cards_show_what_the_crf_buys():
    crf, softmax = (get_spec(n).card()["metrics"]["f1"] for n in NAMES)
    assert crf > softmax


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_checkpoint_scores_like_its_card_on_a_fixed_slice(name, data_dir):
    from seqeval.metrics import f1_score

    from zoo.data import conll2003

    data = conll2003.load("test")
    sentences, gold = data.tokens[::3], data.tags[::3]  # every 3rd sentence: across all test documents
    predicted = [[tag for tag, _ in row] for row in zoo.pipeline(name).tag(sentences)]
    f1 = f1_score(gold, predicted)
    card = get_spec(name).card()["metrics"]["f1"]
    assert abs(f1 - card) <= 0.02, f"{name}: {f1:.4f} on the slice, card says {card:.4f}"


@pytest.mark.slow
def test_saved_model_runs_viterbi_without_zoo(tmp_path, crf_ner):
    path = zoo.export("conll03-bilstm-crf", str(tmp_path), format="saved_model")
    texts = [TEXT, "Manchester United beat Arsenal 2-1 at Old Trafford on Sunday."]
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
    assert served == crf_ner.tags(texts)


def viterbi(emissions, crf):
    """Viterbi in NumPy from crf.json, as a mobile app would run it beside the TFLite interpreter."""
    transitions = np.asarray(crf["transitions"])
    score = np.asarray(crf["start_transitions"]) + emissions[0]
    pointers = []
    for emission in emissions[1:]:
        candidates = score[:, None] + transitions
        pointers.append(candidates.argmax(0))
        score = candidates.max(0) + emission
    best = [int((score + np.asarray(crf["end_transitions"])).argmax())]
    for step in reversed(pointers):
        best.append(int(step[best[-1]]))
    return best[::-1]


@pytest.mark.slow
def test_tflite_emissions_plus_crf_json_match_the_keras_tags(tmp_path, crf_ner, data_dir):
    from ai_edge_litert.interpreter import Interpreter

    from zoo.data import conll2003
    from zoo.models.sequence_tagger import TFLITE_MAX_TOKENS

    path = zoo.export("conll03-bilstm-crf", str(tmp_path), format="tflite")
    crf = json.load(open(os.path.join(os.path.dirname(path), "crf.json"), encoding="utf-8"))
    interpreter = Interpreter(model_path=path)
    interpreter.allocate_tensors()
    assert not any(op["op_name"].startswith("Flex") for op in interpreter._get_ops_details())
    run = interpreter.get_signature_runner()  # inputs by name, outputs output_0
    sentences = conll2003.load("test").tokens[1:31]
    encoded = crf_ner.encode(sentences)
    assert set(encoded) == set(run.get_input_details()) == {"word_ids", "char_ids", "case_ids"}
    expected = crf_ner.tag(sentences)
    for i, sentence in enumerate(sentences):
        n = len(sentence)
        feed = {}
        for name, ids in encoded.items():
            feed[name] = np.zeros((1, TFLITE_MAX_TOKENS) + ids.shape[2:], np.int32)
            feed[name][0, :n] = ids[i, :n]
        emissions = run(**feed)["output_0"]
        tags = [crf["tags"][t] for t in viterbi(emissions[0, :n], crf)]
        assert tags == [tag for tag, _ in expected[i]]


def test_cli_prints_the_text_with_entities_marked():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    run = subprocess.run([sys.executable, "-m", "zoo.cli", "predict", "conll03-bilstm-crf", TEXT],
                         capture_output=True, text=True, cwd=root)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "[Barack Obama](PER) visited [Paris](LOC) with [Angela Merkel](PER)."


def test_registered_tags_are_the_loaders_iob2_tags():
    from zoo.data import conll2003

    for name in NAMES:
        assert get_spec(name).labels == get_spec(name).builder_args["tags"] == conll2003.TAGS
