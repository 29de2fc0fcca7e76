"""
Title: Training an RNN sentiment classifier on IMDB
Models: imdb-simplernn, imdb-lstm, imdb-gru, imdb-bilstm, imdb-bigru
Structure: many-to-one (a whole review in, one label out)

This recipe trains any registered `imdb-*` model and writes the checkpoint the zoo ships:

    python recipes/train_text_classifier.py imdb-bigru
    zoo train imdb-bigru --epochs 3          # the same, through the CLI

Steps, top to bottom:
1. Load the official train split (25,000 reviews), carve 2,500 of them off as validation with a
   fixed seed, and load the 50,000 unlabelled reviews. The test split is touched once, at the end.
2. Build a 20,000-word vocabulary and pretrain 100-d word2vec vectors (gensim) on the train and
   unlabelled reviews; the vectors initialise the embedding layer. They are cached in the run
   folder, so the five IMDB models share them.
3. Train the RNN on token ids bucketed by length (less padding, faster epochs), with early
   stopping on validation accuracy. An interrupted run resumes where it stopped
   (`keras.callbacks.BackupAndRestore`).
4. Score the best weights on the full test split with the same function as `zoo eval`, then
   write `checkpoints/<name>.keras` and its card `checkpoints/<name>.json`.

`--strategy mirrored` trains on all local devices (tf.distribute.MirroredStrategy);
`--strategy multiworker` on several machines configured by the TF_CONFIG environment variable.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import shlex
import sys
import time

import numpy as np

# Running the file directly from a checkout: make `zoo` importable without installing it.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import zoo  # noqa: E402
from zoo import _checkpoint, _training  # noqa: E402
from zoo._registry import get_spec  # noqa: E402

# Training defaults (override on the command line).
BATCH_SIZE = 64  # reviews per step
EPOCHS = 8  # upper bound; early stopping usually ends sooner
PATIENCE = 2  # epochs without a better validation accuracy before stopping
LEARNING_RATE = 1e-3  # Adam
BUCKETS = (64, 128, 192, 256, 320)  # length boundaries for bucketing, in tokens
WORD2VEC_EPOCHS = 5  # passes of word2vec over train + unlabelled text
SEED = 42


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", help="registered model name, e.g. imdb-bigru")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--learning-rate", type=float, default=LEARNING_RATE)
    parser.add_argument("--patience", type=int, default=PATIENCE)
    parser.add_argument("--no-pretrain", action="store_true", help="random embeddings instead of word2vec")
    parser.add_argument("--strategy", choices=("default", "mirrored", "multiworker"), default="default")
    parser.add_argument("--run-dir", default="runs", help="backups, logs and cached word vectors")
    parser.add_argument("--out", default="checkpoints", help="where the checkpoint and its card are written")
    parser.add_argument("--limit-train", type=int, default=None, help="use only N training reviews (smoke tests)")
    parser.add_argument("--steps-per-epoch", type=int, default=None, help="cap steps per epoch (smoke tests)")
    parser.add_argument("--eval-limit", type=int, default=None, help="score on the first N test reviews only (smoke tests)")
    parser.add_argument("--stop-after-epochs", type=int, default=None,
                        help="stop after N epochs of this invocation (time-boxed jobs); run the same command again to resume")
    return parser.parse_args(argv)


# === Data ===


def tokenize(texts: list[str], batch_size: int = 1024) -> list[list[str]]:
    """Tokens exactly as the model sees them (the model's own StandardizeText layer)."""
    import tensorflow as tf

    from zoo.layers.text import StandardizeText

    standardize = StandardizeText()
    tokens = []
    for start in range(0, len(texts), batch_size):
        for line in standardize(tf.constant(texts[start : start + batch_size])).numpy():
            tokens.append(line.decode("utf-8").split())
    return tokens


def build_vocabulary(token_lists, size: int) -> list[str]:
    counts = collections.Counter()
    for tokens in token_lists:
        counts.update(tokens)
    return [word for word, _ in counts.most_common(size)]


def make_dataset(ids: np.ndarray, labels: np.ndarray, batch_size: int, *, shuffle: bool):
    """Batches of token ids bucketed by length, so each batch is padded only to its longest review."""
    import tensorflow as tf

    lengths = np.maximum(np.count_nonzero(ids, axis=1), 1).astype(np.int32)
    ds = tf.data.Dataset.from_tensor_slices((ids.astype(np.int32), lengths, labels.astype(np.float32)))
    if shuffle:
        ds = ds.shuffle(len(labels), seed=SEED, reshuffle_each_iteration=True)
    ds = ds.map(lambda x, n, y: (x[:n], y))
    ds = ds.bucket_by_sequence_length(
        element_length_func=lambda x, y: tf.shape(x)[0],
        bucket_boundaries=list(BUCKETS),
        bucket_batch_sizes=[batch_size] * (len(BUCKETS) + 1),
    )
    return ds.map(lambda x, y: (x, tf.expand_dims(y, -1))).prefetch(tf.data.AUTOTUNE)


# === Training ===


def main(argv=None):
    args = parse_args(argv)
    import keras
    import tensorflow as tf

    from zoo.data import imdb

    spec = get_spec(args.name)
    if spec.dataset != "imdb":
        raise ValueError(f"{args.name} is not an IMDB model; this recipe trains {zoo.list_models('imdb-*')}.")
    keras.utils.set_random_seed(SEED)
    command = "python recipes/train_text_classifier.py " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    run_dir = _training.prepare_run_dir(os.path.join(args.run_dir, args.name))
    build_args = dict(spec.builder_args)

    # 1. Data: the test split is not loaded until the very end.
    train = imdb.load("train", limit=args.limit_train)
    validation = imdb.load("validation")
    unsup = imdb.load("unsup") if not args.no_pretrain and args.limit_train is None else None
    print(f"train {len(train):,} · validation {len(validation):,} · unlabelled {len(unsup) if unsup else 0:,}", flush=True)

    # 2. Vocabulary and word vectors, from train + unlabelled text only.
    started = time.time()
    train_tokens = tokenize(train.texts)
    corpus = train_tokens + (tokenize(unsup.texts) if unsup else [])
    vocabulary = build_vocabulary(corpus, build_args["vocab_size"] - 2)
    key = hashlib.sha256("\n".join(vocabulary).encode()).hexdigest()[:12]
    embeddings = None
    if not args.no_pretrain:
        cache_dir = os.path.join(args.run_dir, "imdb-word2vec")
        os.makedirs(cache_dir, exist_ok=True)
        embeddings = _training.word2vec_matrix(
            corpus, vocabulary, rows=build_args["vocab_size"], dim=build_args["embedding_dim"],
            cache=os.path.join(cache_dir, f"{key}.npz"), epochs=WORD2VEC_EPOCHS, seed=SEED,
        )
    print(f"vocabulary and vectors in {time.time() - started:.0f}s", flush=True)

    # 3. Model, built under the distribution strategy.
    strategy = _training.make_strategy(args.strategy)
    print(f"strategy: {type(strategy).__name__} with {strategy.num_replicas_in_sync} replica(s)", flush=True)
    with strategy.scope():
        model = spec.builder_fn()(**build_args, vocabulary=vocabulary, name=spec.name)
        classifier = model.get_layer("classifier")
        if embeddings is not None:
            classifier.get_layer("embedding").set_weights([embeddings])
        classifier.compile(
            optimizer=keras.optimizers.Adam(args.learning_rate, clipnorm=1.0),
            loss="binary_crossentropy",
            metrics=["accuracy"],
        )
    to_ids = keras.Model(model.input, model.get_layer("crop").output)
    encode = lambda texts: to_ids.predict(tf.constant(texts), batch_size=512, verbose=0)  # noqa: E731
    train_ds = make_dataset(encode(train.texts), train.labels, args.batch_size, shuffle=True)
    val_ds = make_dataset(encode(validation.texts), validation.labels, args.batch_size, shuffle=False)

    keep_best = _training.keep_best_callback(run_dir)
    callbacks = [
        keras.callbacks.BackupAndRestore(os.path.join(run_dir, "backup")),
        keep_best,
        keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=args.patience),
        keras.callbacks.CSVLogger(os.path.join(run_dir, "history.csv"), append=True),
    ]
    if args.stop_after_epochs:
        callbacks.append(_training.time_box_callback(args.stop_after_epochs))  # last: after the backup is written
    started = time.time()
    try:
        classifier.fit(
            train_ds, validation_data=val_ds, epochs=args.epochs, steps_per_epoch=args.steps_per_epoch,
            callbacks=callbacks, verbose=2,
        )
    except _training.TimeBoxReached as stop:
        print(f"stopped after epoch {stop.args[0]} (--stop-after-epochs); run the same command again to resume.", flush=True)
        return None
    train_seconds = time.time() - started
    classifier.load_weights(keep_best.weights_path)

    # 4. The test split, once: the same scoring as `zoo eval`.
    inference = spec.builder_fn()(**build_args, vocabulary=vocabulary, name=spec.name)
    inference.set_weights(model.get_weights())
    metrics = spec.evaluator_fn()(inference, split="test", limit=args.eval_limit)
    print(f"test: {metrics}", flush=True)
    card = _checkpoint.write_checkpoint(
        spec,
        inference,
        metrics=metrics,
        validation={"accuracy": round(keep_best.best["val_accuracy"], 4), "n": len(validation)},
        recipe_command=command,
        training={
            "best_epoch": keep_best.best.get("epoch"),
            "epochs_max": args.epochs,
            "batch_size": args.batch_size,
            "learning_rate": args.learning_rate,
            "word2vec": not args.no_pretrain,
            "train_reviews": len(train),
            "train_seconds": round(train_seconds),
            "hardware": _training.hardware(),
            "strategy": args.strategy,
        },
        out_dir=args.out,
    )
    print(json.dumps({k: card[k] for k in ("name", "metrics", "size_bytes", "sha256")}), flush=True)
    return card


if __name__ == "__main__":
    main()
