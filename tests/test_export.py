"""SavedModel and TFLite exports, checked against the Keras model on real test reviews."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import zoo

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reviews(data_dir):
    from zoo.data import imdb

    return imdb.load("test", limit=100).texts


def test_saved_model_loads_without_zoo_and_matches_keras(tmp_path, reviews):
    import tensorflow as tf

    path = zoo.export("imdb-bigru", str(tmp_path), format="saved_model")
    texts = reviews[:20]
    script = (
        "import json, sys, tensorflow as tf\n"
        "texts = json.load(sys.stdin)\n"
        f"serve = tf.saved_model.load({path!r}).signatures['serving_default']\n"
        "out = serve(text=tf.constant(texts))\n"
        "assert 'zoo' not in sys.modules\n"
        "print(json.dumps({'p': out['probabilities'].numpy().tolist(), 'label': [l.decode() for l in out['label'].numpy()]}))\n"
    )
    env = {**os.environ, "PYTHONPATH": ""}
    run = subprocess.run([sys.executable, "-c", script], input=json.dumps(texts), capture_output=True, text=True,
                         cwd=str(tmp_path), env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    served = json.loads(run.stdout.strip().splitlines()[-1])
    keras_p = np.asarray(zoo.load("imdb-bigru")(tf.constant(texts))).reshape(-1)
    np.testing.assert_allclose(np.asarray(served["p"])[:, 1], keras_p, atol=1e-5)
    np.testing.assert_allclose(np.asarray(served["p"]).sum(axis=1), 1.0, atol=1e-6)
    assert served["label"] == ["positive" if p >= 0.5 else "negative" for p in keras_p]


@pytest.mark.parametrize("name", ["imdb-bigru", "imdb-lstm"])
def test_tflite_runs_builtin_ops_only_and_matches_keras(tmp_path, reviews, name):
    from ai_edge_litert.interpreter import Interpreter

    path = zoo.export(name, str(tmp_path), format="tflite")
    interpreter = Interpreter(model_path=path)
    interpreter.allocate_tensors()
    ops = {op["op_name"] for op in interpreter._get_ops_details()}
    assert not any(op.startswith("Flex") for op in ops), ops

    clf = zoo.pipeline(name)
    ids = clf.tokenize(reviews)
    expected = clf.predict_proba(reviews)
    got = []
    (inp,), (out,) = interpreter.get_input_details(), interpreter.get_output_details()
    for row in ids:
        interpreter.set_tensor(inp["index"], row[None, :])
        interpreter.invoke()
        got.append(float(interpreter.get_tensor(out["index"])[0, 0]))
    assert np.max(np.abs(np.asarray(got) - expected)) < 1e-4

    vocab = open(os.path.join(os.path.dirname(path), "vocab.txt"), encoding="utf-8").read().splitlines()
    assert vocab[:2] == ["", "[UNK]"] and len(vocab) == zoo.info(name)["architecture"]["vocab_size"]
    tokenizer = json.load(open(os.path.join(os.path.dirname(path), "tokenizer.json")))
    assert tokenizer["sequence_length"] == ids.shape[1] == 400


def test_export_rejects_an_unknown_format(tmp_path):
    with pytest.raises(ValueError, match="format must be one of"):
        zoo.export("imdb-gru", str(tmp_path), format="onnx")
