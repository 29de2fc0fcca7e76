"""names-char-rnn: the deduplicated, hash-split data, the pipeline, exports without zoo, scores against the card.

Fast tests use tiny untrained models; the `slow` ones load the shipped checkpoint, export it or train.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import zoo
from zoo._registry import get_spec

NAME = "names-char-rnn"


@pytest.fixture(scope="module")
def splits(data_dir):
    from zoo.data import names

    return {split: names.load(split) for split in names.SPLITS}


@pytest.fixture(scope="module")
def pipe():
    return zoo.pipeline(NAME)


# === Data ===


def test_splits_have_the_documented_counts_and_no_name_on_two_sides(splits):
    from zoo.data import names

    for split, data in splits.items():
        assert (len(data), data.num_pairs) == names.COUNTS[split]
        assert len(set(data.names)) == len(data), "one row per distinct name"
    keys = {split: {names.split_key(n) for n in data.names} for split, data in splits.items()}
    assert not keys["train"] & keys["validation"] and not keys["train"] & keys["test"]
    assert not keys["validation"] & keys["test"]
    assert sum(data.num_pairs for data in splits.values()) == 18_014
    assert all(names.split_of(n) == split for split, data in splits.items() for n in data.names)
    assert "To The First Page" not in splits["train"].names + splits["validation"].names + splits["test"].names


def test_names_with_several_languages_keep_them_all(splits):
    every = {n: langs for data in splits.values() for n, langs in zip(data.names, data.languages)}
    assert every["Abel"] == ("English", "French", "German", "Russian", "Spanish")
    assert all(list(langs) == sorted(set(langs)) for langs in every.values())


def test_limit_is_a_fixed_sample_and_bad_splits_fail(data_dir):
    from zoo.data import names

    a, b = names.load("train", limit=50), names.load("train", limit=50)
    assert a == b and len(a) == 50 and len({lang for langs in a.languages for lang in langs}) > 3
    with pytest.raises(ValueError, match="Unknown names split"):
        names.load("dev")
    with pytest.raises(ValueError, match="positive integer"):
        names.load("test", limit=0)


def test_missing_data_is_a_clear_error(monkeypatch, tmp_path):
    from zoo.data import names

    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="names/names.tar.gz"):
        names.archive_path()


# === Scoring ===


def test_a_name_with_several_languages_is_right_when_any_of_them_is_predicted():
    from zoo.models.name_classifier.evaluation import score

    labels = ("A", "B", "C", "D")
    probabilities = np.array([[0.1, 0.6, 0.2, 0.1], [0.7, 0.1, 0.1, 0.1], [0.1, 0.2, 0.3, 0.4]])
    out = score(probabilities, [("A", "B"), ("A",), ("A",)], labels)
    assert out["accuracy"] == round(2 / 3, 4) and out["top3_accuracy"] == round(2 / 3, 4) and out["n"] == 3
    assert out["per_language"]["B"] == {"names": 1, "listed": 1, "precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert out["macro_f1"] == round((1.0 + 2 * 0.5 / 1.5 + 0.0) / 3, 4)  # A, B and D occur; C does not
    assert out["per_language"]["A"]["recall"] == 0.5


# === The shipped checkpoint ===


def test_pipeline_gives_the_top_three_languages(pipe):
    out = pipe("Nakamura")
    assert [set(r) for r in out] == [{"label", "score"}] * 3
    assert out[0]["label"] == "Japanese"
    assert out[0]["score"] >= out[1]["score"] >= out[2]["score"]
    batch = pipe(["Nakamura", "Schmidt"], top_k=1)
    assert len(batch) == 2 and batch[0] == [out[0]] and len(batch[1]) == 1
    assert abs(float(pipe.predict_proba("Nakamura").sum()) - 1.0) < 1e-4
    assert "Japanese" in pipe.format("Nakamura", out)


@pytest.mark.parametrize("bad, error, message", [
    ("", ValueError, "empty"), ("   ", ValueError, "empty"), ("1234", ValueError, "no letters"),
    (42, TypeError, "str"), (None, TypeError, "None"), ([], ValueError, "empty batch"),
    (["Smith", 7], TypeError, "index 1"),
])
def test_bad_input_is_a_clear_error(pipe, bad, error, message):
    with pytest.raises(error, match=message):
        pipe(bad)


def test_bad_top_k_is_a_clear_error(pipe):
    with pytest.raises(ValueError, match="top_k"):
        pipe("Smith", top_k=0)


def test_card_has_the_split_counts_and_per_language_scores():
    card = get_spec(NAME).card()
    assert card["metrics"]["n"] == 1_776 and card["validation"]["n"] == 1_751
    assert set(card["metrics"]) >= {"accuracy", "top3_accuracy", "macro_f1", "per_language"}
    assert set(card["metrics"]["per_language"]) == set(get_spec(NAME).labels)
    assert sum(row["names"] for row in card["metrics"]["per_language"].values()) == 1_776
    for counts in ("13,925 names (14,389 pairs)", "1,751 (1,801)", "1,776 (1,824)"):
        assert counts.replace(" names", "") in get_spec(NAME).description or counts in get_spec(NAME).description


@pytest.mark.slow
def test_checkpoint_scores_like_its_card_on_the_test_split(data_dir):
    """The test split is small (1,776 names): CI scores all of it and must find the card's figures."""
    from zoo.models.name_classifier.evaluation import evaluate

    card = get_spec(NAME).card()["metrics"]
    got = evaluate(zoo.load(NAME), split="test", progress=False)
    for key in ("accuracy", "top3_accuracy", "macro_f1", "n"):
        assert abs(got[key] - card[key]) <= 2e-4, key
    assert got["accuracy"] >= 0.80


@pytest.mark.slow
def test_saved_model_loads_without_zoo_and_matches_keras(tmp_path, pipe):
    path = zoo.export(NAME, str(tmp_path), format="saved_model")
    names = ["Nakamura", "O'Brien", "Schmidt", "Nguyen", "Müller", "Li"]
    script = (
        "import json, sys, tensorflow as tf\n"
        f"serve = tf.saved_model.load({path!r}).signatures['serving_default']\n"
        "out = serve(name=tf.constant(json.load(sys.stdin)))\n"
        "assert 'zoo' not in sys.modules\n"
        "print(json.dumps({'p': out['probabilities'].numpy().tolist(), 'label': [l.decode() for l in out['label'].numpy()]}))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], input=json.dumps(names), capture_output=True, text=True,
                         cwd=str(tmp_path), env={**os.environ, "PYTHONPATH": ""})
    assert run.returncode == 0, run.stderr[-2000:]
    served = json.loads(run.stdout.strip().splitlines()[-1])
    np.testing.assert_allclose(served["p"], pipe.predict_proba(names), atol=1e-5)
    assert served["label"] == [r[0]["label"] for r in pipe(names, top_k=1)]


@pytest.mark.slow
def test_tflite_runs_builtin_ops_on_char_ids_and_matches_keras(tmp_path, pipe):
    from ai_edge_litert.interpreter import Interpreter

    from zoo.models.name_classifier.export import TFLITE_LENGTH

    path = zoo.export(NAME, str(tmp_path), format="tflite")
    folder = os.path.dirname(path)
    chars = open(os.path.join(folder, "chars.txt"), encoding="utf-8").read().split("\n")[:-1]
    assert chars[:2] == ["[PAD]", "[UNK]"]
    interpreter = Interpreter(model_path=path)
    interpreter.allocate_tensors()
    assert not any(op["op_name"].startswith("Flex") for op in interpreter._get_ops_details())
    names = ["Nakamura", "O'Brien", "Schmidt", "Li"]
    (inp,), (outp,) = interpreter.get_input_details(), interpreter.get_output_details()
    got = []
    for name in names:
        ids = [chars.index(c) if c in chars else 1 for c in name.lower()]  # A-Z lower-cased; these names are ASCII
        row = np.zeros((1, TFLITE_LENGTH), np.int32)
        row[0, : len(ids)] = ids
        np.testing.assert_array_equal(row[0, : len(ids)], pipe.char_ids(name)[0])
        interpreter.set_tensor(inp["index"], row)
        interpreter.invoke()
        got.append(interpreter.get_tensor(outp["index"])[0])
    np.testing.assert_allclose(np.asarray(got), pipe.predict_proba(names), atol=1e-4)


@pytest.mark.slow
def test_recipe_smoke_run_writes_a_checkpoint_and_card(tmp_path, data_dir, load_recipe):
    card = load_recipe("train_names.py").main([NAME, "--limit-train", "60", "--limit-dev", "40", "--steps-per-epoch", "1", "--epochs", "1",
                        "--eval-limit", "30", "--out", str(tmp_path / "out"), "--run-dir", str(tmp_path / "runs")])
    assert card["metrics"]["n"] == 30 and card["validation"]["n"] == 40
    assert (tmp_path / "out" / f"{NAME}.keras").exists() and (tmp_path / "out" / f"{NAME}.json").exists()
