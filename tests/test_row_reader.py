"""mnist-row-lstm: the MNIST files, MNIST-style preprocessing of any picture, the pipeline, exports without zoo,
scores against the card.

Fast tests use the data and tiny untrained models; the `slow` ones load the shipped checkpoint or export it.
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

NAME = "mnist-row-lstm"


# === Data ===


def test_splits_have_the_official_counts_and_validation_is_the_end_of_train(data_dir):
    from zoo.data import mnist

    counts = {split: len(mnist.load(split)) for split in mnist.SPLITS}
    assert counts == {"train": 55_000, "validation": 5_000, "test": 10_000}
    test = mnist.load("test")
    assert test.images.shape == (10_000, 28, 28) and test.images.dtype == np.uint8
    assert np.bincount(test.labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    train, validation = mnist.load("train"), mnist.load("validation")
    whole = np.bincount(np.concatenate([train.labels, validation.labels]))
    assert whole.tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    sample = mnist.load("train", limit=100)
    assert len(sample) == 100 and set(sample.labels.tolist()) == set(range(10))
    assert np.array_equal(sample.images, mnist.load("train", limit=100).images)
    with pytest.raises(ValueError, match="Unknown MNIST split"):
        mnist.load("dev")


def test_missing_or_wrong_files_are_clear_errors(monkeypatch, tmp_path):
    import gzip

    from zoo.data import mnist

    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="mnist/train-images-idx3-ubyte.gz"):
        mnist.file_path("train-images-idx3-ubyte.gz")
    bad = tmp_path / "bad.gz"
    with gzip.open(bad, "wb") as f:
        f.write((2049).to_bytes(4, "big") + (3).to_bytes(4, "big") + b"\x01\x02")
    with pytest.raises(ValueError, match="truncated"):
        mnist.read_idx(str(bad), magic=2049)
    with pytest.raises(ValueError, match="magic number 2049, expected 2051"):
        mnist.read_idx(str(bad), magic=2051)


# === Any picture to MNIST pixels ===


@pytest.fixture(scope="module")
def digits(data_dir):
    from zoo.data import mnist

    return mnist.load("test", limit=200)


def test_a_28x28_light_on_dark_image_is_used_as_it_is(digits):
    from zoo.models.row_reader.digits import to_mnist

    pixels, inverted = to_mnist(digits.images[0])
    assert not inverted and np.array_equal(pixels, digits.images[0].astype(np.float32))


def test_a_large_dark_on_light_picture_is_inverted_boxed_and_centred_like_mnist(digits):
    from PIL import Image

    from zoo.models.row_reader.digits import to_mnist

    errors = []
    for image in digits.images[:20]:
        paper = np.asarray(Image.fromarray(255 - image).resize((112, 112), Image.BILINEAR))
        paper = np.pad(paper, ((30, 10), (50, 5)), constant_values=255)  # off-centre on a larger sheet
        pixels, inverted = to_mnist(Image.fromarray(paper).convert("RGB"))
        assert inverted and pixels.shape == (28, 28)
        ys, xs = np.mgrid[:28, :28]
        centre = np.array([(ys * pixels).sum(), (xs * pixels).sum()]) / pixels.sum()
        assert np.all(np.abs(centre - 14.0) <= 0.5)
        errors.append(np.abs(pixels - image).mean())
    assert np.mean(errors) < 12.0  # of 255: resampling differences only


@pytest.mark.parametrize("bad, error, message", [
    (np.full((40, 40), 128, np.uint8), ValueError, "one flat colour"),
    (None, TypeError, "None"), ("no-such-file.png", FileNotFoundError, "No such image file"),
    (b"not an image", ValueError, "not an image"), (np.zeros((4, 4, 2)), ValueError, "shape"),
])
def test_bad_pictures_are_clear_errors(bad, error, message):
    from zoo.models.row_reader.digits import to_mnist

    with pytest.raises(error, match=message):
        to_mnist(bad)


# === The shipped checkpoint ===


@pytest.fixture(scope="module")
def pipe():
    return zoo.pipeline(NAME)


def test_pipeline_reads_paths_bytes_pil_images_and_arrays_and_says_when_it_inverted(pipe, digits, tmp_path):
    from PIL import Image

    image = digits.images[1]  # a 2
    paper = Image.fromarray(255 - image).resize((84, 84), Image.BILINEAR)
    path = tmp_path / "two.png"
    paper.save(path)
    buffer = io.BytesIO()
    paper.save(buffer, format="PNG")
    for given in (str(path), buffer.getvalue(), paper, np.asarray(paper)):
        out = pipe(given)
        assert out["label"] == str(digits.labels[1]) and out["inverted"] is True
        assert [set(r) for r in out["top"]] == [{"label", "score"}] * 3 and out["top"][0]["score"] == out["score"]
    as_is = pipe(image)
    assert as_is["inverted"] is False and as_is["label"] == "2"
    batch = pipe([image, str(path)], top_k=1)
    assert [r["label"] for r in batch] == ["2", "2"] and len(batch[0]["top"]) == 1
    assert "inverted" in pipe.format("two.png", out) and "(" in pipe.format("x", as_is)
    with pytest.raises(ValueError, match="top_k"):
        pipe(image, top_k=11)
    with pytest.raises(ValueError, match="at index 1.*one flat colour"):
        pipe([image, np.zeros((10, 10))])


def test_card_names_the_split_and_the_command():
    card = get_spec(NAME).card()
    assert card["metrics"]["n"] == 10_000 and card["validation"]["n"] == 5_000
    assert card["recipe_command"].startswith("python recipes/train_row_reader.py mnist-row-lstm")
    assert card["metrics"]["accuracy"] >= 0.99


@pytest.mark.slow
def test_checkpoint_scores_like_its_card_on_a_slice_of_the_test_split(data_dir):
    """CI reads the first 2,000 test images (all 10,000 are scored by `zoo eval`): within 0.5 points of the card."""
    from zoo.models.row_reader.evaluation import evaluate

    got = evaluate(zoo.load(NAME), split="test", limit=2_000, progress=False)
    card = get_spec(NAME).card()["metrics"]["accuracy"]
    assert got["n"] == 2_000 and abs(got["accuracy"] - card) <= 0.005, (got["accuracy"], card)


@pytest.mark.slow
def test_pipeline_reads_inverted_enlarged_test_digits_almost_as_well(pipe, data_dir):
    """Through the whole preprocessing (invert, box, centre), 300 test digits drawn dark on a large white sheet."""
    from PIL import Image

    from zoo.data import mnist

    data = mnist.load("test", limit=300)
    sheets = [np.pad(np.asarray(Image.fromarray(255 - im).resize((100, 100), Image.BILINEAR)), 20, constant_values=255)
              for im in data.images]
    read = pipe(sheets, top_k=1)
    assert all(r["inverted"] for r in read)
    assert np.mean([r["label"] == str(label) for r, label in zip(read, data.labels)]) >= 0.97


SAVED_MODEL_CHECK = """
import json, sys, numpy as np, tensorflow as tf
from ai_edge_litert.interpreter import Interpreter
pixels = np.load(sys.argv[3])
serve = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
out = serve(pixels=tf.constant(pixels))
runner = Interpreter(model_path=sys.argv[2]).get_signature_runner()
lite = [list(runner(pixels=row[None]).values())[0][0].tolist() for row in pixels]
assert "zoo" not in sys.modules
print(json.dumps({"saved": out["probabilities"].numpy().tolist(), "label": [l.decode() for l in out["label"].numpy()],
                  "tflite": lite}))
"""


@pytest.mark.slow
def test_exports_match_keras_without_zoo_and_tflite_has_builtin_ops_only(pipe, digits, tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    saved = zoo.export(NAME, str(tmp_path), format="saved_model")
    lite = zoo.export(NAME, str(tmp_path), format="tflite")
    ops = {op["op_name"] for op in Interpreter(model_path=lite)._get_ops_details()}
    assert not any(op.startswith("Flex") for op in ops), ops
    assert json.loads(open(os.path.join(os.path.dirname(lite), "preprocessing.json")).read())["input"]["shape"][1:] == [28, 28]
    pixels = digits.images[:8].astype(np.float32)
    np.save(tmp_path / "pixels.npy", pixels)
    run = subprocess.run([sys.executable, "-c", SAVED_MODEL_CHECK, saved, lite, str(tmp_path / "pixels.npy")],
                         capture_output=True, text=True, cwd=str(tmp_path), env={**os.environ, "PYTHONPATH": ""})
    assert run.returncode == 0, run.stderr[-2000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    expected = pipe.predict_proba(list(digits.images[:8]))
    np.testing.assert_allclose(out["saved"], expected, atol=1e-5)
    np.testing.assert_allclose(out["tflite"], expected, atol=1e-4)
    assert out["label"] == [r["label"] for r in pipe(list(digits.images[:8]), top_k=1)]
