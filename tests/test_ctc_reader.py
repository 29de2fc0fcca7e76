"""captcha-crnn-ctc: the hash-split captcha data, the pipeline (greedy and beam), the plot, exports without zoo,
scores against the card.

Fast tests use the data, a tiny untrained model and the shipped checkpoint (small: it loads in about a second);
the `slow` ones score the whole test split or export it.
"""

import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import zoo
from zoo._registry import get_spec

NAME = "captcha-crnn-ctc"


# === Data ===


def test_splits_are_fixed_by_a_hash_of_the_label_and_every_label_is_well_formed(data_dir):
    from zoo.data import captcha

    splits = {split: captcha.load(split) for split in captcha.SPLITS}
    assert {split: len(data) for split, data in splits.items()} == captcha.COUNTS == {"train": 819, "validation": 98,
                                                                                       "test": 123}
    labels = [label for data in splits.values() for label in data.labels]
    assert len(set(labels)) == 1_040 and all(len(label) == 5 and set(label) <= set(captcha.ALPHABET) for label in labels)
    assert all(captcha.split_of(label) == split for split, data in splits.items() for label in data.labels)
    assert splits["test"].images[0][:8] == b"\x89PNG\r\n\x1a\n"
    assert captcha.load("train", limit=20) == captcha.load("train", limit=20)
    with pytest.raises(ValueError, match="Unknown captcha split"):
        captcha.load("dev")


def test_missing_data_is_a_clear_error(monkeypatch, tmp_path):
    from zoo.data import captcha

    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="captcha/captcha_images_v2.zip"):
        captcha.archive_path()


# === Scoring ===


def test_sequence_accuracy_and_character_error_rate():
    from zoo.models.ctc_reader.evaluation import edit_distance, score

    assert edit_distance("226md", "226md") == 0 and edit_distance("226md", "22md") == 1
    assert edit_distance("abc", "") == 3 and edit_distance("kitten", "sitting") == 3
    out = score(["226md", "22md", "xxxxx"], ["226md", "226md", "abcde"])
    assert out == {"sequence_accuracy": round(1 / 3, 4), "cer": round(6 / 15, 4), "errors": 2}
    with pytest.raises(ValueError, match="one prediction per true text"):
        score(["a"], [])


# === The builder ===


def test_each_conv_block_halves_the_steps_and_bad_sizes_are_clear_errors():
    from zoo.models.ctc_reader.model import build_ctc_reader

    tiny = dict(alphabet="ab", height=8, width=32, dense_units=4, units=(4,))
    assert tuple(build_ctc_reader(filters=(4, 4), **tiny).output.shape) == (None, 8, 3)  # 32 / 2**2 steps, blank + 2
    with pytest.raises(ValueError, match="divisible by 8"):
        build_ctc_reader(**{**tiny, "width": 36}, filters=(4, 4, 4))
    with pytest.raises(ValueError, match="at least one convolution block"):
        build_ctc_reader(filters=(), **tiny)
    with pytest.raises(ValueError, match="distinct characters"):
        build_ctc_reader(filters=(4,), **{**tiny, "alphabet": "aa"})


# === The shipped checkpoint ===


@pytest.fixture(scope="module")
def pipe():
    return zoo.pipeline(NAME)


@pytest.fixture(scope="module")
def test_images(data_dir):
    from zoo.data import captcha

    return captcha.load("test", limit=6)


def test_pipeline_reads_paths_bytes_pil_images_and_arrays(pipe, test_images, tmp_path):
    from PIL import Image

    data, label = test_images.images[0], test_images.labels[0]
    path = tmp_path / "captcha.png"
    path.write_bytes(data)
    image = Image.open(io.BytesIO(data))
    for given in (str(path), data, image, np.asarray(image)):
        out = pipe(given)
        assert set(out) == {"text", "confidence"} and out["text"] == label and 0.5 < out["confidence"] <= 1.0
    beam = pipe(data, beam_width=5)
    assert beam["text"] == label and beam["confidence"] >= out["confidence"] - 1e-4  # all paths vs the best one
    batch = pipe(test_images.images)
    assert len(batch) == 6 and sum(r["text"] == t for r, t in zip(batch, test_images.labels)) >= 5
    assert pipe.format("captcha.png", out) == f"captcha.png: {label} ({out['confidence']:.4f})"


def test_other_sizes_and_grey_images_are_resized_to_the_models_input(pipe, test_images):
    from PIL import Image

    image = Image.open(io.BytesIO(test_images.images[0])).convert("L").resize((300, 75), Image.BILINEAR)
    assert pipe.pixels(image).shape == (1, 50, 200)
    assert pipe(image)["text"] == test_images.labels[0]


@pytest.mark.parametrize("bad, error, message", [
    (None, TypeError, "None"), ("no-such-file.png", FileNotFoundError, "No such image file"),
    (b"not an image", ValueError, "not an image"), (b"", ValueError, "empty"), (42, TypeError, "int"),
    ([], ValueError, "empty batch"), (np.zeros((4, 4, 2)), ValueError, "shape"),
])
def test_unreadable_images_are_clear_errors(pipe, bad, error, message):
    with pytest.raises(error, match=message):
        pipe(bad)


def test_bad_beam_width_is_a_clear_error(pipe, test_images):
    with pytest.raises(ValueError, match="beam_width must be an integer from 1"):
        pipe(test_images.images[0], beam_width=0)


def test_plot_shows_the_captcha_its_text_and_the_per_step_argmax(pipe, test_images, tmp_path):
    from PIL import Image

    out = pipe.plot(test_images.images[0], tmp_path / "read.png")
    assert out["text"] == test_images.labels[0]
    assert Image.open(tmp_path / "read.png").size == (800, 640)


def test_card_names_the_split_greedy_and_beam_figures_and_the_command():
    card = get_spec(NAME).card()
    metrics = card["metrics"]
    assert metrics["n"] == 123 and metrics["characters"] == 615 and card["validation"]["n"] == 98
    assert {"sequence_accuracy", "cer", "beam_sequence_accuracy", "beam_cer", "beam_width"} <= set(metrics)
    assert metrics["sequence_accuracy"] >= 0.95 and metrics["cer"] <= 0.02
    assert card["recipe_command"].startswith("python recipes/train_ctc_reader.py captcha-crnn-ctc")
    assert "819 / 98 / 123" in get_spec(NAME).description


@pytest.mark.slow
def test_checkpoint_scores_like_its_card_on_the_test_split(data_dir):
    """The test split is small (123 images): CI scores all of it, greedy and beam, and must find the card's figures."""
    from zoo.models.ctc_reader.evaluation import evaluate

    card = get_spec(NAME).card()["metrics"]
    got = evaluate(zoo.load(NAME), split="test", progress=False)
    for key in ("sequence_accuracy", "cer", "beam_sequence_accuracy", "beam_cer", "n"):
        assert abs(got[key] - card[key]) <= 1e-4, key


EXPORT_CHECK = """
import json, sys, numpy as np, tensorflow as tf
from ai_edge_litert.interpreter import Interpreter
saved, lite, folder = sys.argv[1:4]
images = [open(p, "rb").read() for p in json.loads(sys.argv[4])]
model = tf.saved_model.load(saved)
out = model.signatures["serving_default"](image=tf.constant(images))
beam = model.signatures["read_beam"](image=tf.constant(images), beam_width=tf.constant(5))
alphabet = "".join(open(folder + "/labels.txt").read().split())
namespace = {}
exec(open(folder + "/read.py").read(), namespace)
runner = Interpreter(model_path=lite).get_signature_runner()
pixels = np.load(sys.argv[5])
lite_out = [list(runner(pixels=row[None]).values())[0][0] for row in pixels]
assert "zoo" not in sys.modules
print(json.dumps({"text": [t.decode() for t in out["text"].numpy()], "confidence": out["confidence"].numpy().tolist(),
                  "probabilities": out["probabilities"].numpy().tolist(), "beam": [t.decode() for t in beam["text"].numpy()],
                  "tflite": [p.tolist() for p in lite_out],
                  "tflite_text": [namespace["read"](p, alphabet)[0] for p in lite_out]}))
"""


@pytest.mark.slow
def test_exports_read_like_the_pipeline_without_zoo(pipe, test_images, tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    from zoo.decoding import ctc_collapse
    from zoo.models.ctc_reader.pipeline import read_pixels

    saved = zoo.export(NAME, str(tmp_path), format="saved_model")
    lite = zoo.export(NAME, str(tmp_path), format="tflite")
    ops = {op["op_name"] for op in Interpreter(model_path=lite)._get_ops_details()}
    assert not any(op.startswith("Flex") for op in ops), ops
    files = []
    for i, data in enumerate(test_images.images[:4]):
        files.append(str(tmp_path / f"{i}.png"))
        open(files[-1], "wb").write(data)
    pixels = pipe.pixels(files)
    np.save(tmp_path / "pixels.npy", pixels)
    run = subprocess.run([sys.executable, "-c", EXPORT_CHECK, saved, lite, os.path.dirname(lite), json.dumps(files),
                          str(tmp_path / "pixels.npy")], capture_output=True, text=True, cwd=str(tmp_path),
                         env={**os.environ, "PYTHONPATH": ""})
    assert run.returncode == 0, run.stderr[-2000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    rows = read_pixels(pipe.model, pixels, pipe.alphabet)
    expected = np.stack([p for _, _, p in rows])
    np.testing.assert_allclose(out["probabilities"], expected, atol=1e-5)
    np.testing.assert_allclose(out["tflite"], expected, atol=1e-4)
    assert out["text"] == [r["text"] for r in pipe(files)] == out["tflite_text"]
    assert out["beam"] == [r["text"] for r in pipe(files, beam_width=5)]
    np.testing.assert_allclose(out["confidence"], [c for _, c, _ in rows], rtol=1e-4)
    for p, (text, confidence, _) in zip(out["tflite"], rows):  # the documented NumPy collapse is zoo's own
        ids, collapsed_confidence = ctc_collapse(np.asarray(p, np.float32))
        assert "".join(pipe.alphabet[i - 1] for i in ids) == text
        assert collapsed_confidence == pytest.approx(confidence, rel=1e-3)
