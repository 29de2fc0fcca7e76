"""Exports: SavedModel and TFLite parity with Keras on real reviews, and exports into one --out folder
that never touch each other's files."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import zoo

pytestmark = pytest.mark.slow

# Two models of one family (same file names), and other families whose files used to collide with theirs.
EXPORTS = [("imdb-bigru", "tflite"), ("imdb-lstm", "tflite"), ("udpos-bilstm", "tflite"),
           ("image-caption-lstm", "tflite"), ("imdb-gru", "saved_model")]


@pytest.fixture(scope="module")
def shared_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    paths = {(name, format): zoo.export(name, str(out), format=format) for name, format in EXPORTS}
    return out, paths


def test_each_export_owns_one_folder_and_nothing_else_is_written(shared_out):
    out, paths = shared_out
    assert sorted(os.listdir(out)) == sorted(f"{name}_{format}" for name, format in EXPORTS)
    for (name, format), path in paths.items():
        assert os.path.commonpath([path, str(out / f"{name}_{format}")]) == str(out / f"{name}_{format}")


def test_each_folder_holds_its_own_model_files(shared_out):
    out, _ = shared_out
    for name in ("imdb-bigru", "imdb-lstm"):
        folder = out / f"{name}_tflite"
        vocabulary = zoo.load(name).get_layer("vectorize").get_vocabulary()
        assert (folder / "vocab.txt").read_text(encoding="utf-8").splitlines() == vocabulary
        assert (folder / "labels.txt").read_text().splitlines() == ["negative", "positive"]
        assert json.loads((folder / "tokenizer.json").read_text())["vocab_file"] == "vocab.txt"
    tagger = out / "udpos-bilstm_tflite"
    assert (tagger / "labels.txt").read_text().splitlines() == list(zoo.info("udpos-bilstm")["labels"])
    assert (tagger / "words.txt").read_text(encoding="utf-8").splitlines() == \
        zoo.load("udpos-bilstm").get_layer("words").get_vocabulary()
    captioner = out / "image-caption-lstm_tflite"
    assert not (captioner / "labels.txt").exists(), "a model without labels gets no labels file"
    assert (captioner / "vocab.txt").read_text(encoding="utf-8").splitlines() == \
        zoo.load("image-caption-lstm").get_layer("words").get_vocabulary()
    assert sorted(os.listdir(out / "imdb-gru_saved_model")) == ["assets", "fingerprint.pb", "labels.txt",
                                                                "saved_model.pb", "variables"]


@pytest.fixture(scope="module")
def reviews(data_dir):
    from zoo.data import imdb

    return imdb.load("test", limit=100).texts


@pytest.mark.parametrize("name", ["imdb-bigru", "imdb-lstm"])
def test_tflite_classifiers_run_builtin_ops_only_from_their_own_folders_and_match_keras(shared_out, reviews, name):
    from ai_edge_litert.interpreter import Interpreter

    _, paths = shared_out
    interpreter = Interpreter(model_path=paths[(name, "tflite")])
    interpreter.allocate_tensors()
    ops = {op["op_name"] for op in interpreter._get_ops_details()}
    assert not any(op.startswith("Flex") for op in ops), ops
    clf = zoo.pipeline(name)
    ids = clf.tokenize(reviews)
    (inp,), (outp,) = interpreter.get_input_details(), interpreter.get_output_details()
    got = []
    for row in ids:
        interpreter.set_tensor(inp["index"], row[None, :])
        interpreter.invoke()
        got.append(float(interpreter.get_tensor(outp["index"])[0, 0]))
    assert np.max(np.abs(np.asarray(got) - clf.predict_proba(reviews))) < 1e-4
    folder = os.path.dirname(paths[(name, "tflite")])
    vocab = open(os.path.join(folder, "vocab.txt"), encoding="utf-8").read().splitlines()
    assert vocab[:2] == ["", "[UNK]"] and len(vocab) == zoo.info(name)["architecture"]["vocab_size"]
    assert json.load(open(os.path.join(folder, "tokenizer.json")))["sequence_length"] == ids.shape[1] == 400


def test_saved_model_loads_without_zoo_and_matches_keras(shared_out, reviews):
    import tensorflow as tf

    _, paths = shared_out
    path, texts = paths[("imdb-gru", "saved_model")], reviews[:20]
    script = (
        "import json, sys, tensorflow as tf\n"
        "texts = json.load(sys.stdin)\n"
        f"serve = tf.saved_model.load({path!r}).signatures['serving_default']\n"
        "out = serve(text=tf.constant(texts))\n"
        "assert 'zoo' not in sys.modules\n"
        "print(json.dumps({'p': out['probabilities'].numpy().tolist(), 'label': [l.decode() for l in out['label'].numpy()]}))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], input=json.dumps(texts), capture_output=True, text=True,
                         cwd=os.path.dirname(path), env={**os.environ, "PYTHONPATH": ""})
    assert run.returncode == 0, run.stderr[-2000:]
    served = json.loads(run.stdout.strip().splitlines()[-1])
    keras_p = np.asarray(zoo.load("imdb-gru")(tf.constant(texts))).reshape(-1)
    np.testing.assert_allclose(np.asarray(served["p"])[:, 1], keras_p, atol=1e-5)
    np.testing.assert_allclose(np.asarray(served["p"]).sum(axis=1), 1.0, atol=1e-6)
    assert served["label"] == ["positive" if p >= 0.5 else "negative" for p in keras_p]


def test_export_rejects_an_unknown_format(tmp_path):
    with pytest.raises(ValueError, match="format must be one of"):
        zoo.export("imdb-gru", str(tmp_path), format="onnx")
    assert os.listdir(tmp_path) == []


def test_a_failed_export_leaves_the_previous_one_untouched(shared_out, monkeypatch):
    from zoo.models.text_classifier import export as text_export

    out, paths = shared_out
    before = sorted(os.listdir(out / "imdb-bigru_tflite"))

    def broken(spec, model, out_dir):
        open(os.path.join(out_dir, "half-written"), "w").close()
        raise RuntimeError("conversion failed")

    monkeypatch.setattr(text_export, "export_tflite", broken)
    with pytest.raises(RuntimeError, match="conversion failed"):
        zoo.export("imdb-bigru", str(out), format="tflite")
    assert sorted(os.listdir(out / "imdb-bigru_tflite")) == before
    assert sorted(os.listdir(out)) == sorted(f"{name}_{format}" for name, format in EXPORTS), "no temporary left"
