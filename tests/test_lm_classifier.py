"""imdb-lstm-lm-ft's recipe (recipes/train_lm_classifier.py): a classifier fine-tuned from a language model.

A smoke run of every step on the real reviews with a tiny language model: the classifier starts from the
language model's embedding and LSTM, trains in stages, is packaged as the registered model (raw text in)
and its learning curve is drawn.
"""

import json
import os

import numpy as np
import pytest

from zoo._cards import train_seconds_in_all


@pytest.fixture(scope="module")
def recipe(load_recipe):
    return load_recipe("train_lm_classifier.py")


def test_crop_keeps_what_the_models_crop_layer_keeps(recipe):
    import keras

    from zoo.layers.text import HeadTailCrop

    review = np.arange(1, 12, dtype=np.int32)
    layer = HeadTailCrop(length=5, head=2)
    assert recipe.crop(review, length=5, head=2).tolist() == np.asarray(layer(review[None]))[0].tolist() == [1, 2, 9, 10, 11]
    assert recipe.crop(review[:4], length=5, head=2).tolist() == [1, 2, 3, 4]
    assert isinstance(layer, keras.layers.Layer)
    # With a start id (the language model's <eos>), it comes first, counts in the length and is always kept.
    started = HeadTailCrop(length=5, head=2, start_id=2)
    assert recipe.crop(review, length=5, head=2, start_id=2).tolist() == np.asarray(started(review[None]))[0].tolist() \
        == [2, 1, 9, 10, 11]
    assert np.asarray(HeadTailCrop(length=6, head=2, start_id=2, trim=True)(np.array([[7, 8, 0], [9, 0, 0]]))).tolist() \
        == [[2, 7, 8], [2, 9, 0]]
    assert HeadTailCrop.from_config(started.get_config()).start_id == 2
    assert "start_id" not in layer.get_config()  # checkpoints saved before the option load unchanged
    with pytest.raises(ValueError, match="start_id"):
        HeadTailCrop(length=5, head=0, start_id=2)
    # A numpy id (read from a vocabulary array) is taken as the plain int it is; a bool or a string is refused.
    assert json.dumps(HeadTailCrop(length=5, head=2, start_id=np.int64(2)).get_config())
    for bad in (True, "2", 0):
        with pytest.raises(ValueError, match="start_id"):
            HeadTailCrop(length=5, head=2, start_id=bad)


def test_discriminative_rates_scale_each_layers_adam_step(recipe):
    """``layerwise_adam``: a variable learns at the rate times its multiplier (Adam's first step moves each
    weight by about the rate, whatever the gradient's size), the others at the rate; ``--rate-decay`` below 1
    is refused."""
    import keras

    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(1, name="top")(keras.layers.Dense(4, name="low")(inputs)))
    model.compile(optimizer=recipe.layerwise_adam(0.1, rates={"low/kernel": 0.25}), loss="mse")
    before = [w.copy() for w in model.get_weights()]
    model.train_on_batch(np.ones((8, 3), np.float32), np.full((8, 1), 5.0, np.float32))
    steps = {w.path: np.abs(now - then) for w, now, then in zip(model.weights, model.get_weights(), before)}
    moved = steps["low/kernel"][steps["low/kernel"] > 0]
    assert moved.size and np.allclose(moved, 0.025, rtol=1e-3)
    assert np.allclose(steps["top/kernel"], 0.1, rtol=1e-3) and np.allclose(steps["low/bias"], 0.1, rtol=1e-3)
    with pytest.raises(SystemExit, match="--rate-decay must be at least 1"):
        recipe.main(["train", "--work", "nowhere", "--rate-decay", "0.5"])


def test_the_adversarial_push_is_epsilon_of_each_reviews_norm_along_the_gradient_and_spares_padding(recipe):
    import tensorflow as tf

    rng = np.random.default_rng(0)
    vectors, uphill = rng.normal(size=(2, 2, 5, 3)).astype(np.float32)
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    push = np.asarray(recipe.adversarial_push(tf.constant(vectors), tf.constant(uphill), tf.constant(mask), 0.1))
    assert not push[0, 3:].any()
    for i, n in enumerate((3, 5)):
        assert np.isclose(np.linalg.norm(push[i]), 0.1 * np.linalg.norm(vectors[i, :n]), rtol=1e-5)
        along = (push[i, :n] * uphill[i, :n]).sum() / (np.linalg.norm(push[i]) * np.linalg.norm(uphill[i, :n]))
        assert np.isclose(along, 1.0, atol=1e-5)


def test_an_adversarial_step_learns_the_batch_as_it_is_and_pushed_uphill(recipe):
    """Without dropout, the pushed batch's loss is above the batch's own (the push follows the gradient); one
    optimizer step is taken for both; out-of-range values and contradicting options are refused."""
    import keras

    from zoo.models.text_classifier.model import build_sequence_classifier

    keras.utils.set_random_seed(0)
    classifier = build_sequence_classifier(cell="lstm", units=8, bidirectional=False, vocab_size=20, embedding_dim=6,
                                           dropout=0.0, pooling="max_mean")
    classifier.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy")
    before = [w.copy() for w in classifier.get_weights()]
    ids = np.array([[2, 5, 7, 9, 0, 0], [2, 11, 3, 4, 8, 6]], np.int32)
    loss, adversarial = recipe.adversarial_step(classifier, 0.1)(ids, np.array([[1.0], [0.0]], np.float32))
    assert float(adversarial) > float(loss) > 0
    assert int(classifier.optimizer.iterations) == 1
    assert all((now != then).any() for now, then in zip(classifier.get_weights(), before))
    for bad, message in ((["--adversarial", "1.5"], "--adversarial is a fraction"),
                         (["--init-classifier", "x.keras", "--no-init"], "contradict")):
        with pytest.raises(SystemExit, match=message):
            recipe.main(["train", "--work", "nowhere", *bad])


def test_batches_group_similar_lengths_and_pad_to_the_multiple(recipe):
    reviews = [np.ones(n, np.int32) for n in (3, 70, 5, 65, 130)]
    labels = np.arange(5, dtype=np.float32)
    batches = recipe.padded_batches(reviews, labels, batch_size=2, pad_multiple=64)
    assert [ids.shape for ids, _ in batches] == [(2, 64), (2, 128), (1, 192)]
    assert [y[:, 0].tolist() for _, y in batches] == [[0, 2], [3, 1], [4]]
    shuffled = recipe.padded_batches(reviews, labels, batch_size=2, pad_multiple=64, rng=np.random.default_rng(0))
    assert sorted(y[0, 0] for _, y in shuffled) == sorted(y[0, 0] for _, y in batches)


WORDS = ["the", "a", "and", "film", "movie", "good", "bad", "great", "was", "is", "!"]


def tiny_language_model(path):
    import keras

    from zoo.models.language_model.model import build_language_model

    keras.utils.set_random_seed(0)
    lm = build_language_model(vocabulary=WORDS, vocab_size=len(WORDS) + 3, embedding_dim=6, units=8, layers=1, name="imdb-lm-lstm")
    lm.save(path)
    return lm


@pytest.mark.slow
def test_prepare_train_package_and_curve_from_a_tiny_language_model(recipe, tmp_path, data_dir):
    import keras
    import tensorflow as tf

    import zoo

    lm_path = str(tmp_path / "tiny-lm.keras")
    lm, words = tiny_language_model(lm_path), WORDS
    work, out = str(tmp_path / "work"), str(tmp_path / "out")

    recipe.main(["prepare", "--work", work, "--init-from", lm_path, "--limit", "48"])
    with open(os.path.join(work, "init", "config.json")) as f:
        assert json.load(f)["units"] == 8
    train = ["train", "--work", work, "--epochs", "3", "--batch-size", "16", "--steps-per-epoch", "2", "--rate-decay", "2.6"]
    recipe.main([*train, "--minutes", "0"])  # stops after its first epoch
    with open(os.path.join(work, "best", "history.json")) as f:
        assert [e["epoch"] for e in json.load(f)["epochs"]] == [1]
    best = recipe.main(train)  # the same command resumes at the second epoch
    assert 0 <= best["val_accuracy"] <= 1 and best["epoch"] >= 1
    with open(os.path.join(work, "best", "history.json")) as f:
        history = json.load(f)
    assert [e["stage"] for e in history["epochs"]] == ["head", "lstm", "all"]  # gradual unfreezing, each epoch once
    command = f"python recipes/train_lm_classifier.py {' '.join(train)}"
    assert history["invocations"] == [f"{command} --minutes 0", command] and history["command"] == f"{command} --minutes 0"
    assert "--minutes" not in history["stopped"]
    assert recipe.main(train) == best  # finished: nothing more to do
    assert history["config"]["init_from"] == lm_path and history["config"]["rate_decay"] == 2.6
    recipe.main(["train", "--work", work, "--run", "n16-scratch", "--labelled", "16", "--no-init", "--epochs", "1",
                 "--batch-size", "16", "--steps-per-epoch", "2"])

    # The language model's embedding and LSTM are where the classifier started: the head-only epoch left them as they were.
    classifier = zoo.build("imdb-lstm-lm-ft", vocab_size=len(words) + 3, embedding_dim=6, units=8).get_layer("classifier")
    classifier.load_weights(os.path.join(work, "best", "best.weights.h5"))
    if history["best"]["stage"] == "head":
        lm_lstm = lm.get_layer("language_model").get_layer("lstm_1").get_weights()
        for got, want in zip(classifier.get_layer("lstm").get_weights(), lm_lstm):
            np.testing.assert_allclose(got, want)

    card = recipe.main(["package", "--work", work, "--out", out, "--eval-limit", "16"])
    assert card["metrics"]["n"] == 16 and 0 <= card["metrics"]["accuracy"] <= 1
    assert card["training"]["prepare_command"].startswith("python recipes/train_lm_classifier.py prepare --work ")
    model = keras.saving.load_model(os.path.join(out, "imdb-lstm-lm-ft.keras"), safe_mode=True)
    assert model(tf.constant(["A great film!", "Bad."])).shape == (2, 1)
    # The packaged model frames each text as training did: after the language model's <eos>.
    assert model.get_layer("crop").start_id == history["config"]["start_id"] == 2

    rows = recipe.main(["curve", "--work", work, "--docs-dir", str(tmp_path / "docs"), "--cards-dir", out])
    assert {(r["labelled"], r["language_model"]) for r in rows} == {(48, True), (16, False)}
    assert os.path.getsize(tmp_path / "docs" / "imdb-lstm-lm-ft-learning-curve.png") > 1000
    with open(os.path.join(out, "imdb-lstm-lm-ft.json")) as f:
        assert len(json.load(f)["training"]["learning_curve"]) == 2

    # Training on from the packaged classifier, adversarially: it starts from those weights, everything learns.
    packaged = os.path.join(out, "imdb-lstm-lm-ft.keras")
    recipe.main(["train", "--work", work, "--run", "adversarial", "--init-classifier", packaged, "--adversarial", "0.05",
                 "--epochs", "1", "--batch-size", "16", "--steps-per-epoch", "2"])
    with open(os.path.join(work, "adversarial", "history.json")) as f:
        history = json.load(f)
    assert history["config"]["init_classifier"] == packaged and history["config"]["adversarial"] == 0.05
    assert history["config"]["init_classifier_sha256"] == card["sha256"] and [s["train"] for s in history["config"]["stages"]] == ["all"]
    assert history["epochs"][0]["adversarial_loss"] > 0
    # Packaged over the checkpoint it started from, its card keeps how that one was made and its learning curve.
    again = recipe.main(["package", "--work", work, "--run", "adversarial", "--out", out, "--eval-limit", "16"])
    earlier = again["training"]["continued_from"]
    assert earlier["sha256"] == card["sha256"] and earlier["recipe_command"] == card["recipe_command"]
    assert [e["stage"] for e in earlier["history"]] == ["head", "lstm", "all"] and earlier["metrics"] == card["metrics"]
    assert train_seconds_in_all(again["training"]) == again["training"]["train_seconds"] + card["training"]["train_seconds"]
    assert len(again["training"]["learning_curve"]) == 2 and again["training"]["plots"]
    with pytest.raises(SystemExit, match="shapes"):
        recipe.main(["train", "--work", work, "--run", "wrong", "--init-classifier", "imdb-lstm-lm-ft"])


def test_a_user_fine_tunes_the_language_model_on_their_own_labelled_file(recipe, tmp_path):
    import csv

    import keras
    import tensorflow as tf

    lm_path = str(tmp_path / "tiny-lm.keras")
    tiny_language_model(lm_path)
    data = tmp_path / "mine.csv"
    with open(data, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["label", "text"])
        for i in range(30):
            writer.writerow(["spam", "a great great film !"] if i % 2 else ["ham", "the movie was bad"])
    work, out = str(tmp_path / "work"), str(tmp_path / "out")
    recipe.main(["prepare", "--work", work, "--init-from", lm_path, "--data", str(data)])
    recipe.main(["train", "--work", work, "--epochs", "3", "--batch-size", "8", "--steps-per-epoch", "5"])  # each stage once
    path = recipe.main(["package", "--work", work, "--out", out, "--name", "spam-filter"])
    with open(os.path.join(out, "spam-filter.json")) as f:
        facts = json.load(f)
    assert facts["labels"] == ["ham", "spam"] and facts["probability_of"] == "spam" and facts["validation_n"] == 3
    model = keras.saving.load_model(path, safe_mode=True)
    assert model(tf.constant(["a great film", "the movie"])).shape == (2, 1)

    bad = tmp_path / "bad.csv"
    bad.write_text("review,label\nfine,1\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="'text' and 'label' columns"):
        recipe.main(["prepare", "--work", str(tmp_path / "bad"), "--init-from", lm_path, "--data", str(bad)])
    assert not (tmp_path / "bad").exists()  # the file is checked before anything is loaded or written


def test_the_shipped_classifier_starts_from_the_shipped_language_model():
    """The card's figures: 22,500 labelled reviews, stages in ULMFiT's order (in the run it continued, if it
    continued one), best epoch kept; the vocabularies agree."""
    import zoo

    card = zoo.info("imdb-lstm-lm-ft")
    training = card["training"]
    best = max(training["history"], key=lambda e: e["val_accuracy"])
    assert best["epoch"] == training["best_epoch"] and best["val_accuracy"] == card["validation"]["accuracy"]
    first, seconds = training, training["train_seconds"]
    while "continued_from" in first:
        assert first["init_classifier_sha256"] == first["continued_from"]["sha256"]
        first = first["continued_from"]
        seconds += first["train_seconds"]
    assert first["labelled"] == 22500 and [s["train"] for s in first["stages"]] == ["head", "lstm", "all"]
    assert train_seconds_in_all(training) == seconds  # what the card page says, in minutes
    classifier, language_model = zoo.load("imdb-lstm-lm-ft"), zoo.load("imdb-lm-lstm")
    assert classifier.get_layer("vectorize").get_vocabulary() == language_model.get_layer("vectorize").get_vocabulary()
    assert classifier.get_layer("crop").start_id == 2 == language_model.get_layer("vectorize").get_vocabulary().index("<eos>")


@pytest.mark.slow
def test_prepare_starts_from_the_registered_language_model_as_the_readme_shows(recipe, tmp_path, data_dir):
    work = str(tmp_path / "work")
    recipe.main(["prepare", "--work", work, "--init-from", "imdb-lm-lstm", "--limit", "8"])
    with open(os.path.join(work, "init", "config.json")) as f:
        config = json.load(f)
    assert (config["vocab_size"], config["embedding_dim"], config["units"]) == (12000, 128, 512)
    assert config["data"] == "imdb" and config["labels"] == ["negative", "positive"]
    data = np.load(os.path.join(work, "data.npz"))
    assert data["train_labels"].tolist().count(1) == 4 and len(data["validation_lengths"]) == 8  # half of each label
    with open(os.path.join(work, "init", "vocabulary.txt"), encoding="utf-8") as f:
        assert f.read().split("\n")[0] == "<eos>"
