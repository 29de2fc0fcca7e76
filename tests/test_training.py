"""The pieces recipes share (zoo._training), without a recipe run: run folders, options, vocabularies, bucketed
batches, keep-best and early stopping by the metric's direction, the time box; and vocabulary overrides that
size every layer depending on them, for every registered model."""

import dataclasses
import json

import numpy as np
import pytest

import zoo
from zoo import _training
from zoo._registry import get_spec

# === Run folders ===


def test_a_fresh_run_forgets_an_older_runs_best_epoch_and_history(tmp_path):
    run_dir = tmp_path / "imdb-gru"
    run_dir.mkdir()
    for name in _training.RUN_STATE_FILES:
        (run_dir / name).write_text("from an older run")
    (run_dir / "notes.txt").write_text("not ours")
    assert _training.prepare_run_dir(str(run_dir)) == str(run_dir)
    assert sorted(p.name for p in run_dir.iterdir()) == ["notes.txt"]


def test_a_resumed_run_keeps_its_best_epoch_and_history(tmp_path):
    run_dir = tmp_path / "imdb-gru"
    (run_dir / "backup").mkdir(parents=True)
    for name in _training.RUN_STATE_FILES:
        (run_dir / name).write_text("this run's")
    _training.prepare_run_dir(str(run_dir))
    assert all((run_dir / name).read_text() == "this run's" for name in _training.RUN_STATE_FILES)


def test_finish_now_keeps_a_finished_runs_best_epoch(tmp_path):
    run_dir = tmp_path / "udpos-bilstm"  # finished: no backup left
    run_dir.mkdir()
    for name in _training.RUN_STATE_FILES:
        (run_dir / name).write_text("this run's")
    _training.prepare_run_dir(str(run_dir), keep=True)
    assert all((run_dir / name).read_text() == "this run's" for name in _training.RUN_STATE_FILES)


def test_the_run_dir_is_created(tmp_path):
    assert (tmp_path / "a" / "b").exists() is False
    _training.prepare_run_dir(str(tmp_path / "a" / "b"))
    assert (tmp_path / "a" / "b").is_dir()


# === Options ===


def test_the_common_options_with_the_recipes_defaults_and_its_own():
    parser = _training.recipe_parser("Title\n\nMore.", epochs=3, batch_size=16, learning_rate=0.01, patience=2)
    parser.add_argument("--beam-width", type=int, default=3)
    args = parser.parse_args(["imdb-gru"])
    assert (args.epochs, args.batch_size, args.learning_rate, args.patience, args.beam_width) == (3, 16, 0.01, 2, 3)
    assert (args.strategy, args.run_dir, args.out) == ("default", "runs", "checkpoints")
    assert args.limit_train is args.limit_dev is args.steps_per_epoch is args.eval_limit is None
    assert args.stop_after_epochs is args.time_box is None
    args = parser.parse_args(["x", "--strategy", "multiworker", "--time-box", "2.5", "--stop-after-epochs", "1"])
    assert (args.strategy, args.time_box, args.stop_after_epochs) == ("multiworker", 2.5, 1)
    with pytest.raises(SystemExit):
        parser.parse_args(["x", "--strategy", "tpu"])


def test_multiworker_without_tf_config_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG"):
        _training.make_strategy("multiworker")


# === Vocabularies ===


def test_vocabulary_counting_most_frequent_first_ties_alphabetical():
    tokens = [["b", "a", "c", "b"], ["c", "a", "b", "d"]]
    assert _training.count_vocabulary(tokens) == ["b", "a", "c", "d"]
    assert _training.count_vocabulary(tokens, size=2) == ["b", "a"]
    assert _training.count_vocabulary(tokens, min_count=2) == ["b", "a", "c"]


def test_training_normalizes_words_with_the_models_own_layer():
    """Python's \\d also matches other scripts' digits, RE2's does not: the tagger's counting must use the layer."""
    from zoo.layers.tagging import NormalizeTokens

    sentences = [["In", "١٩٩٩", "and", "1999"], ["ABC"]]
    normalized = _training.transform_tokens(NormalizeTokens(), sentences)
    assert normalized == [["in", "١٩٩٩", "and", "0000"], ["abc"]]
    model = zoo.build("udpos-bilstm", word_vocabulary=_training.count_vocabulary(normalized), char_vocabulary=list("abc"))
    import tensorflow as tf

    ids = model.get_layer("words")(model.get_layer("normalize")(tf.constant([s + [""] * (4 - len(s)) for s in sentences])))
    assert 1 not in ids.numpy(), "every word counted in training is known to the model (id 1 is out-of-vocabulary)"


# === Bucketed batches ===


def _batches(dataset):
    return [[np.asarray(t) for t in batch] for batch in dataset]


def test_bucketed_batches_are_padded_per_batch_and_their_number_is_known():
    rows = [[1] * n for n in (1, 2, 3, 9, 10, 11, 12, 2, 3)]
    labels = np.arange(len(rows), dtype=np.float32)
    dataset = _training.bucketed_dataset([rows, labels], lengths=[len(r) for r in rows], batch_size=2, boundaries=(5,))
    batches = _batches(dataset)
    assert int(dataset.cardinality()) == len(batches) == 5  # 5 short rows: 2 batches and a partial one; 4 long: 2
    assert sorted(float(v) for _, y in batches for v in y) == list(labels)
    for x, _ in batches:
        assert x.shape[1] == max(int((row != 0).sum()) for row in x), "each batch is padded to its longest row"


def test_strings_pad_with_empty_strings_and_to_model_shapes_the_batch():
    import tensorflow as tf

    dataset = _training.bucketed_dataset(
        [[["a", "b"], ["c"]], [[1, 2], [3]]], lengths=[2, 1], batch_size=2, boundaries=(),
        to_model=lambda x, y: (x, y, tf.cast(tf.not_equal(x, ""), tf.float32)))
    (x, y, w), = _batches(dataset)
    assert x.tolist() == [[b"a", b"b"], [b"c", b""]] and y.tolist() == [[1, 2], [3, 0]] and w.tolist() == [[1, 1], [1, 0]]


def test_shuffling_is_seeded_and_batches_too_small_for_every_worker_are_left_out():
    rows = [[1] * (1 + i % 7) for i in range(23)]
    make = lambda seed, min_batch=1: _training.bucketed_dataset(  # noqa: E731
        [rows, np.arange(23)], lengths=[len(r) for r in rows], batch_size=4, boundaries=(3, 6), shuffle=True,
        seed=seed, min_batch=min_batch)
    first = [b[1].tolist() for b in _batches(make(1))]
    assert first == [b[1].tolist() for b in _batches(make(1))] and first != [b[1].tolist() for b in _batches(make(2))]
    two_workers = make(1, min_batch=2)
    batches = _batches(two_workers)
    assert all(len(b[1]) >= 2 for b in batches) and int(two_workers.cardinality()) == len(batches)


# === Keep-best, early stopping and the time box ===


def _tiny_run(tmp_path, metric, *options):
    import tensorflow as tf

    spec = dataclasses.replace(get_spec("imdb-gru"), metric=metric)
    parser = _training.recipe_parser("x", epochs=8, batch_size=4, learning_rate=0.01, patience=2)
    args = parser.parse_args(["imdb-gru", "--run-dir", str(tmp_path / "runs"), "--out", str(tmp_path / "out"), *options])
    return _training.Run(spec, args, tf.distribute.get_strategy(), command="test")


def _fit(run, scores, minutes_per_epoch=None, clock=None):
    """Fits a one-weight model for which epoch i 'scores' scores[i] on validation (and takes the given time)."""
    import keras
    import tensorflow as tf

    class Scripted(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs[run.monitor] = scores[epoch]
            if clock is not None:
                clock[0] += 60 * minutes_per_epoch

    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    data = tf.data.Dataset.from_tensor_slices((np.ones((8, 1)), np.ones((8, 1)))).batch(4)
    assert run.fit(model, data, data, callbacks=[Scripted()]) is True
    with open(run.run_dir + "/history.csv") as f:
        return [int(row.split(",")[0]) for row in f.read().splitlines()[1:]]


@pytest.mark.parametrize("metric, best_epoch, epochs_run", [("mse", 2, 4), ("accuracy", 1, 3)])
def test_keep_best_and_early_stopping_follow_the_metrics_direction(tmp_path, metric, best_epoch, epochs_run):
    """A lower MSE is better: epoch 2 (0.2) is kept and training stops two epochs later; for accuracy, epoch 1 (0.5)."""
    run = _tiny_run(tmp_path, metric)
    epochs = _fit(run, [0.5, 0.2, 0.3, 0.4, 0.9, 0.6, 0.7, 0.8])
    best = json.loads(open(run.run_dir + "/best.json").read())
    assert best == {f"val_{metric}": [0.5, 0.2, 0.3, 0.4, 0.9, 0.6, 0.7, 0.8][best_epoch - 1], "epoch": best_epoch}
    assert epochs == list(range(epochs_run))


def test_the_time_box_starts_no_epoch_that_would_end_past_it(tmp_path, monkeypatch):
    """Epochs of 40 s in a 2-minute box: the third ends at 120 s; a fourth would end at 160 s, so it never starts."""
    clock = [1000.0]
    monkeypatch.setattr(_training.time, "time", lambda: clock[0])
    run = _tiny_run(tmp_path, "accuracy", "--time-box", "2", "--patience", "0")
    epochs = _fit(run, [0.1 * i for i in range(8)], minutes_per_epoch=40 / 60, clock=clock)
    assert epochs == [0, 1, 2]
    assert (tmp_path / "runs" / "imdb-gru" / "backup").is_dir(), "a time-boxed run keeps its backup: the same command continues"
    times = json.loads((tmp_path / "runs" / "imdb-gru" / "time.json").read_text())
    assert times["epochs"] == [40.0, 40.0, 40.0] and times["invocations"] == [120.0]


def test_a_single_worker_is_its_own_chief(tmp_path):
    run = _tiny_run(tmp_path, "accuracy")
    assert (run.workers, run.is_chief, run.global_batch_size) == (1, True, 4)
    assert run.from_chief([1.5, np.arange(3)])[0] == 1.5


# === Vocabulary overrides size the model (every family) ===

SEARCHES = [dict(beam_width=1), dict(beam_width=2)]
DECODE = {  # what a generator family's pipeline decodes in the registry-wide test, and with which options
    "translator": ("Hace frío.", SEARCHES),
    "captioner": (np.full((40, 30, 3), 128, np.uint8), SEARCHES),
    "char_language_model": ("KING:", [dict(max_chars=5, seed=0), dict(max_chars=5, top_k=3, seed=1)]),
    "language_model": ("The film was", [dict(max_words=5, seed=0), dict(max_words=5, top_p=0.9, seed=1)]),
}


def _layers(model):
    import keras

    seen = []

    def walk(layer):
        seen.append(layer)
        for child in getattr(layer, "_layers", None) or []:
            walk(child)
        for attribute in ("layer", "forward_layer", "backward_layer", "embedding"):  # wrappers and CharCNN
            child = getattr(layer, attribute, None)
            if isinstance(child, keras.layers.Layer):
                walk(child)

    walk(model)
    return seen


@pytest.mark.parametrize("name", zoo.list_models())
def test_a_vocabulary_override_sizes_every_layer_that_depends_on_it(name):
    """With the family's tiny vocabularies every embedding has exactly its lookup's rows, a generator's output
    one class per vocabulary entry, and decoding gives words of that vocabulary."""
    import keras

    spec = get_spec(name)
    examples = spec.family_info.load("examples")()
    model = zoo.build(name, **examples.builder_args)
    layers = _layers(model)
    lookups = {layer.name: layer.vocabulary_size() for layer in layers
               if isinstance(layer, (keras.layers.StringLookup, keras.layers.TextVectorization))}
    if not lookups:
        return  # a family without vocabularies (forecasting, ...)
    embeddings = {layer.name: layer.input_dim for layer in layers if isinstance(layer, keras.layers.Embedding)}
    fixed = {"case_embedding"}  # the tagger's 8 casing classes do not come from a vocabulary
    assert all(rows in lookups.values() for layer, rows in embeddings.items() if layer not in fixed), (lookups, embeddings)
    assert set(lookups.values()) <= set(embeddings.values()), "every vocabulary feeds an embedding of its size"
    if spec.labels:
        return  # a classifier's or tagger's output is its labels
    width = model.output.shape[-1]
    assert width in lookups.values(), f"{name}: {width} output classes for vocabularies of {lookups}"
    assert spec.family in DECODE, f"add a decoding input for the {spec.family} family"
    pipe = zoo.pipeline(name, model=model)
    given, settings = DECODE[spec.family]
    for options in settings:
        text = pipe(given, **options)
        assert isinstance(text, str)
