"""The image captioners: decoding, images in every form, bad input, exports, and the shipped checkpoints' scores.

Most checks use tiny decoders on the real (frozen, ImageNet) encoder, so they run without checkpoints;
the last ones score the shipped checkpoints and run only when those exist.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import zoo
from zoo import _registry

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAMES = ("image-caption-lstm", "image-caption-lstm-attention")
WORDS = ["a", "dog", "man", "runs", "in", "the", "grass", "water", "on", "'s", "black", "white"]
TINY = dict(vocabulary=WORDS, vocab_size=len(WORDS) + 4, embedding_dim=16, units=16, feature_dim=16, attention_dim=16)


@pytest.fixture(scope="module")
def registered():
    """The captioner module (importing zoo registers its models)."""
    from zoo.models import captioner

    return captioner


@pytest.fixture(scope="module")
def models(registered, data_dir):
    """A tiny untrained decoder of each kind on the real ImageNet encoder, with weights big enough to vary."""
    import keras

    keras.utils.set_random_seed(1)
    built = {}
    for name in NAMES:
        model = zoo.build(name, **TINY)
        decoder = model.get_layer("decoder")
        decoder.set_weights([w * 4.0 if w.ndim > 1 else w for w in decoder.get_weights()])
        built[name] = model
    return built


@pytest.fixture(scope="module", params=NAMES)
def cap(request, models):
    return zoo.pipeline(request.param, model=models[request.param])


@pytest.fixture(scope="module")
def image_files(tmp_path_factory, data_dir):
    """Six test images as JPEG (as shipped) and as PNG (lossless: every reader sees the same pixels)."""
    from PIL import Image

    from zoo.data import flickr8k

    folder = tmp_path_factory.mktemp("images")
    names = flickr8k.load("test").images[:6]
    jpegs, pngs = [], []
    for name, data in zip(names, flickr8k.read_images(names)):
        jpeg = folder / name
        jpeg.write_bytes(data)
        png = folder / name.replace(".jpg", ".png")
        Image.open(jpeg).save(png)
        jpegs.append(str(jpeg))
        pngs.append(str(png))
    return {"jpeg": jpegs, "png": pngs, "folder": folder}


# === Architecture ===


def test_the_shipped_size_fits_in_12_mib_with_the_encoder(registered, tmp_path):
    """Full-size decoders and the MobileNetV2 encoder in one .keras file stay under the 12 MiB limit."""
    words = [f"w{i}" for i in range(2000)]
    for name in NAMES:
        model = zoo.build(name, vocabulary=words, encoder_weights=None)
        path = tmp_path / f"{name}.keras"
        model.save(path)
        assert path.stat().st_size < 12 * 1024 * 1024 - 64 * 1024, f"{name}: {path.stat().st_size:,} bytes"
        assert len(model.get_layer("words").get_vocabulary()) == zoo.info(name)["architecture"]["vocab_size"]


def test_builder_rejects_an_unknown_decoder(registered):
    with pytest.raises(ValueError, match="decoder must be one of"):
        zoo.build(NAMES[0], decoder="transformer", encoder_weights=None)


def test_the_encoder_is_frozen_and_named(models):
    model = models[NAMES[1]]
    encoder = model.get_layer("encoder")
    assert not encoder.get_layer("mobilenet_v2").trainable
    assert encoder.output.shape[1:] == (5, 5, 1280)
    assert model.get_layer("words").get_vocabulary()[:4] == ["", "[UNK]", "<start>", "<end>"]


# === Decoding ===


@pytest.mark.parametrize("name", NAMES)
def test_beam_width_1_is_greedy_decoding(models, name):
    """The captioner's step under the zoo's searches: width-1 beam search makes greedy decoding's choices."""
    import tensorflow as tf

    from zoo.decoding import beam_search, greedy
    from zoo.models.captioner import caption_decoder

    decoder = caption_decoder(models[name])
    grid = np.random.default_rng(0).uniform(0, 6, (7, 5, 5, 1280)).astype(np.float32)
    by_greedy = tf.function(lambda g: greedy(decoder, g, max_length=21))(grid)
    by_beam = tf.function(lambda g: beam_search(decoder, g, beam_width=1, max_length=21))(grid)
    greedy_ids = np.asarray(by_greedy.ids)
    assert len({tuple(row) for row in greedy_ids}) > 1, "the tiny decoder should give different captions"
    for a, b in zip(by_greedy, by_beam):
        np.testing.assert_array_equal(np.asarray(b), np.asarray(a))
    np.testing.assert_array_equal(np.asarray(decoder.function(1)(grid)[0]), greedy_ids)


@pytest.mark.parametrize("beam_width", [1, 3])
def test_batched_decoding_equals_one_image_at_a_time(cap, image_files, beam_width):
    paths = image_files["png"]
    batched = cap(paths, beam_width=beam_width)
    assert batched == [cap(p, beam_width=beam_width) for p in paths]
    assert all(isinstance(c, str) and len(c.split()) <= 20 for c in batched)  # untrained: may end at once


def test_beam_search_scores_at_least_as_well_as_greedy_on_average(models, image_files):
    """Beam search maximises the caption's log-probability: on average it beats the greedy caption."""
    from zoo.models.captioner import caption_decoder, to_pixels

    model = models[NAMES[0]]
    decoder = caption_decoder(model)
    grid = np.asarray(decoder.encode(to_pixels(image_files["png"], 160)))

    def log_likelihood(ids):
        import tensorflow as tf

        tokens = [["<start>", *[decoder.vocabulary[i] for i in row[: list(row).index(3)]]] for row in ids]
        targets = [row[: list(row).index(3) + 1] for row in ids]
        width = max(map(len, tokens))
        padded = np.array([t + [""] * (width - len(t)) for t in tokens], dtype=object)
        decoder_model = model.get_layer("decoder")
        ids_in = np.asarray(model.get_layer("words")(tf.constant(padded)))
        probabilities = np.asarray(decoder_model([tf.constant(grid), tf.constant(ids_in)]))
        return [float(np.sum(np.log([probabilities[i, t, w] for t, w in enumerate(target)])))
                for i, target in enumerate(targets)]

    greedy = log_likelihood(np.asarray(decoder.function(1)(grid)[0]))
    beam = log_likelihood(np.asarray(decoder.function(4)(grid)[0]))
    assert np.mean(beam) >= np.mean(greedy) - 1e-4


# === Images in every form ===


def test_path_bytes_pil_and_arrays_give_the_same_caption(cap, image_files):
    from PIL import Image

    path = image_files["png"][0]
    pixels = np.asarray(Image.open(path).convert("RGB"))
    expected = cap(path)
    with open(path, "rb") as f:
        assert cap(f.read()) == expected
    import pathlib

    assert cap(pathlib.Path(path)) == expected
    assert cap(Image.open(path)) == expected
    assert cap(pixels) == expected
    assert cap(pixels.astype(np.float32)) == expected  # floats in [0, 255]
    assert cap(pixels.astype(np.float32) / 255.0) == expected  # floats in [0, 1]
    assert cap(pixels[None]) == [expected]  # an (n, H, W, 3) array is a batch


def test_grayscale_rgba_and_palette_images_are_converted(cap, image_files, tmp_path):
    from PIL import Image

    rgb = Image.open(image_files["png"][1]).convert("RGB")
    gray = rgb.convert("L")
    rgba = rgb.copy()
    rgba.putalpha(128)
    rgba.save(tmp_path / "rgba.png")
    gray.save(tmp_path / "gray.png")
    gray.save(tmp_path / "gray.jpg")
    rgb.convert("P").save(tmp_path / "palette.png")
    assert cap(str(tmp_path / "rgba.png")) == cap(rgb) == cap(np.asarray(rgba))  # alpha dropped
    gray_caption = cap(str(tmp_path / "gray.png"))
    assert gray_caption == cap(np.asarray(gray)) == cap(np.asarray(gray)[:, :, None]) == cap(gray)
    assert isinstance(cap(str(tmp_path / "gray.jpg")), str)
    assert isinstance(cap(str(tmp_path / "palette.png")), str)


def test_a_huge_image_is_resized_not_a_crash(cap, tmp_path):
    from PIL import Image

    from zoo.models.captioner import MAX_DECODE_SIDE, load_image

    huge = Image.fromarray(np.random.default_rng(0).integers(0, 255, (300, 400, 3), dtype=np.uint8)).resize((8000, 6000))
    huge.save(tmp_path / "huge.jpg", quality=70)
    assert max(load_image(str(tmp_path / "huge.jpg")).shape[:2]) <= MAX_DECODE_SIDE
    assert isinstance(cap(str(tmp_path / "huge.jpg")), str)
    assert isinstance(cap(np.zeros((3000, 200, 3), np.uint8)), str)  # extreme aspect ratio, tiny width
    assert isinstance(cap(np.zeros((1, 1, 3), np.uint8)), str)  # a single pixel


@pytest.mark.parametrize(
    "bad, error, message",
    [
        ("no/such/photo.jpg", FileNotFoundError, "No such image file"),
        (b"this is not an image", ValueError, "not an image"),
        (b"", ValueError, "empty"),
        (None, TypeError, "got None"),
        (42, TypeError, "got int"),
        ({"image": "a.jpg"}, TypeError, "got dict"),
        ([], ValueError, "empty batch"),
        (np.zeros((0, 10, 3)), ValueError, "empty"),
        (np.zeros((10, 10, 2)), ValueError, r"shape \(10, 10, 2\)"),
        (np.full((4, 4, 3), np.nan), ValueError, "NaN"),
        (np.array([["a"]]), TypeError, "numeric"),
    ],
)
def test_bad_input_raises_a_clear_error(cap, bad, error, message):
    with pytest.raises(error, match=message):
        cap(bad)


def test_a_file_that_is_not_an_image_and_a_folder(cap, tmp_path):
    text = tmp_path / "notes.jpg"
    text.write_text("not a photo")
    with pytest.raises(ValueError, match=r"notes\.jpg' is not an image"):
        cap(str(text))
    with pytest.raises(ValueError, match="is a folder"):
        cap(str(tmp_path))
    with pytest.raises(ValueError, match="index 1"):
        cap([np.zeros((8, 8, 3), np.uint8), b"junk"])


@pytest.mark.parametrize("beam_width", [0, -1, 2.5, True, 65])
def test_bad_beam_width(cap, beam_width):
    with pytest.raises(ValueError, match="beam_width"):
        cap(np.zeros((8, 8, 3), np.uint8), beam_width=beam_width)


# === Readable output, attention maps, PNG helper, CLI ===


def test_attention_maps_one_per_word(cap, image_files):
    caption, attention = cap.caption_with_attention(image_files["png"][2], beam_width=3)
    assert caption == cap(image_files["png"][2], beam_width=3)
    if cap.spec.name.endswith("attention"):
        from zoo.data.flickr8k import tokenize

        assert attention.shape == (len(tokenize(caption)), 5, 5)
        np.testing.assert_allclose(attention.reshape(len(attention), -1).sum(-1), 1.0, atol=1e-5)
    else:
        assert attention is None


def test_save_captioned_image_writes_a_png(cap, image_files, tmp_path):
    from PIL import Image

    out = tmp_path / "captioned.png"
    caption = cap.caption_to_png(image_files["jpeg"][0], out)
    assert caption and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = Image.open(out).size
    assert width >= 300 and height >= 300
    if cap.spec.name.endswith("attention"):
        assert width > 1000, "one panel per word next to the image"


def test_format_and_the_cli_predict_command(cap, image_files, monkeypatch, capsys):
    from zoo import cli

    assert cap.format("photo.jpg", "a dog runs") == "photo.jpg: a dog runs"
    monkeypatch.setattr(zoo, "pipeline", lambda name, batch_size=64: cap)
    assert cli.main(["predict", cap.spec.name, *image_files["jpeg"][:2]]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines == [f"{p}: {c}".strip() for p, c in zip(image_files["jpeg"][:2], cap(image_files["jpeg"][:2]))]
    assert cli.main(["predict", cap.spec.name, "missing.jpg"]) == 2
    assert "No such image file" in capsys.readouterr().err


# === Scoring ===


def test_score_captions_with_the_coco_code():
    from zoo.models.captioner import score_captions

    refs = [["A dog runs on the grass .", "A brown dog is running ."], ["Two men play soccer .", "Men playing football ."]]
    perfect = score_captions(["a dog runs on the grass", "two men play soccer"], refs)
    assert perfect["bleu_1"] == pytest.approx(1.0, abs=1e-3) and perfect["bleu_4"] == pytest.approx(1.0, abs=1e-3)
    poor = score_captions(["a cat sleeps", "a car"], refs)
    assert poor["bleu_4"] < 0.1 and set(poor) == {"bleu_1", "bleu_2", "bleu_3", "bleu_4", "cider"}
    with pytest.raises(ValueError, match="one prediction per reference"):
        score_captions(["x"], refs)


def test_evaluate_returns_bleu_cider_and_n(models):
    from zoo.models.captioner import evaluate

    metrics = evaluate(models[NAMES[1]], split="test", limit=6, beam_width=2, progress=False)
    assert set(metrics) == {"bleu_1", "bleu_2", "bleu_3", "bleu_4", "cider", "n"} and metrics["n"] == 6
    assert all(0.0 <= metrics[k] <= 10.0 for k in metrics)


def test_cached_training_features_equal_the_pipeline_encoder_input(models, image_files):
    """The recipe's tf.data features and the pipeline see the same pixels, so the same grid."""
    sys.path.insert(0, os.path.join(ROOT, "recipes"))
    import tempfile

    import train_captioner
    from zoo.data import flickr8k
    from zoo.models.captioner import caption_decoder, to_pixels

    model = models[NAMES[0]]
    names = flickr8k.load("test").images[:4]
    with tempfile.TemporaryDirectory() as run_dir:
        cached = train_captioner.cached_features(run_dir, model.get_layer("encoder"), 160, names)
    piped = np.asarray(caption_decoder(model).encode(to_pixels(flickr8k.read_images(names), 160)))
    np.testing.assert_allclose(cached.astype(np.float32), piped, rtol=2e-3, atol=2e-3)


# === Import hygiene ===


# === Exports (slow) ===


@pytest.mark.slow
def test_saved_model_captions_image_bytes_without_zoo(models, image_files, tmp_path, registered):
    name = NAMES[1]
    model = models[name]
    path = registered.export_saved_model(_registry.get_spec(name), model, str(tmp_path / "saved"))
    files = image_files["jpeg"][:3] + image_files["png"][3:5]
    script = (
        "import json, sys, tensorflow as tf\n"
        f"serve = tf.saved_model.load({path!r}).signatures['caption']\n"
        "data = [open(p, 'rb').read() for p in json.load(sys.stdin)]\n"
        "out = serve(images=tf.constant(data))['caption'].numpy()\n"
        "assert 'zoo' not in sys.modules\n"
        f"assert set(tf.saved_model.load({path!r}).signatures) == {{'caption', 'serving_default'}}\n"
        "print(json.dumps([c.decode() for c in out]))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], input=json.dumps(files), capture_output=True, text=True,
                         cwd=str(tmp_path), env={**os.environ, "PYTHONPATH": ""})
    assert run.returncode == 0, run.stderr[-3000:]
    served = json.loads(run.stdout.strip().splitlines()[-1])
    assert served == zoo.pipeline(name, model=model)(files, beam_width=1)


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_tflite_encoder_and_decoder_step_match_the_pipeline(models, image_files, tmp_path, registered, name):
    from ai_edge_litert.interpreter import Interpreter

    from zoo.models.captioner import END_ID, START_ID, caption_decoder

    model = models[name]
    registered.export_tflite(_registry.get_spec(name), model, str(tmp_path))
    encoder = Interpreter(model_path=str(tmp_path / "encoder.tflite"))
    step = Interpreter(model_path=str(tmp_path / "decoder_step.tflite"))
    for interpreter in (encoder, step):
        interpreter.allocate_tensors()
        assert not any(op["op_name"].startswith("Flex") for op in interpreter._get_ops_details())
    vocab = (tmp_path / "vocab.txt").read_text(encoding="utf-8").splitlines()
    encode, decode = encoder.get_signature_runner(), step.get_signature_runner()
    cap = zoo.pipeline(name, model=model)
    files = image_files["jpeg"][:4]
    first_step = []
    for path in files:
        start = encode(pixels=cap.pixels(path))  # output_0..3: h, c, values, keys
        state = dict(zip(("h", "c", "values", "keys"), (start[f"output_{i}"] for i in range(len(start)))))
        word_id, words = START_ID, []
        while len(words) < 20:
            out = decode(word_id=np.array([word_id], np.int32), **state)  # output_0..3: probabilities, h, c, attention
            if not words and word_id == START_ID:
                first_step.append(out["output_0"][0])
            state.update(h=out["output_1"], c=out["output_2"])
            probabilities = out["output_0"][0].copy()
            probabilities[[0, 1, 2]] = -1
            word_id = int(np.argmax(probabilities))
            if word_id == END_ID:
                break
            words.append(vocab[word_id])
        assert " ".join(words).replace(" '", "'") == cap(path, beam_width=1)
    # The first step's probabilities, against the Keras layers.
    decoder = caption_decoder(model)
    grid = decoder.encode(cap.pixels(files))
    state, memory = decoder.start(grid)
    keras_first, _, _ = decoder.probabilities(np.full([len(files)], START_ID, np.int32), state, memory)
    np.testing.assert_allclose(np.stack(first_step), np.asarray(keras_first), atol=1e-4)
    assert vocab[:4] == ["", "[UNK]", "<start>", "<end>"]
    assert json.loads((tmp_path / "decoding.json").read_text())["end_id"] == END_ID


# === The shipped checkpoints (slow; they run once the checkpoints exist) ===


def _shipped(name):
    if not _registry.get_spec(name).has_checkpoint:
        pytest.skip(f"{name} has no checkpoint yet (train it with recipes/train_captioner.py)")
    return zoo.pipeline(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_checkpoint_scores_like_its_card_on_a_fixed_slice(name, data_dir):
    """Every other test image (500, all with their 5 references): BLEU-4 within 0.02 of the card's full-test figure."""
    from zoo.data import flickr8k
    from zoo.models.captioner import caption_pixels, score_captions, to_pixels

    pipe = _shipped(name)
    data = flickr8k.load("test")
    names, references = data.images[::2], data.captions[::2]
    captions = []
    for start in range(0, len(names), 50):
        captions += caption_pixels(pipe.model, to_pixels(flickr8k.read_images(names[start : start + 50]), 160), beam_width=3)
    bleu_4 = score_captions(captions, references)["bleu_4"]
    card = _registry.get_spec(name).card()["metrics"]["bleu_4"]
    assert abs(bleu_4 - card) <= 0.02, f"{bleu_4:.4f} on the slice, card says {card:.4f}"


@pytest.mark.slow
def test_the_attention_model_beats_the_plain_one_and_both_pass_their_bars(registered):
    cards = {name: _registry.get_spec(name).card() for name in NAMES}
    if not all(cards.values()):
        pytest.skip("the captioner checkpoints are not trained yet")
    plain, attention = (cards[n]["metrics"] for n in NAMES)
    assert plain["n"] == attention["n"] == 1000
    assert plain["bleu_1"] >= 0.55 and plain["bleu_4"] >= 0.14
    assert attention["bleu_4"] > plain["bleu_4"]


def test_scoring_captions_prints_nothing_of_the_java_tokenizer(capfd):
    from zoo.models.captioner import score_captions

    scores = score_captions(["a dog runs on the grass"], [["a dog is running on grass", "a brown dog runs"]])
    assert scores["bleu_1"] > 0.5
    captured = capfd.readouterr()
    assert "PTBTokenizer" not in captured.err + captured.out, captured.err
