"""
Title: Training a BiLSTM part-of-speech tagger on UD English EWT
Models: udpos-bilstm
Structure: many-to-many, aligned (one tag for every token)

    python recipes/train_sequence_tagger.py udpos-bilstm
    zoo train udpos-bilstm --epochs 10          # the same, through the CLI

Steps, top to bottom:
1. Load the official train and dev splits (gold tokenization; multiword-token ranges and empty
   nodes are skipped by the loader). The test split is touched once, at the end.
2. Build the word vocabulary (lower-cased, digits mapped to 0) and the character vocabulary from
   the training sentences.
3. Train on batches of sentences of similar length, with padding weighted out of the loss;
   early stopping on dev accuracy; an interrupted run resumes (`BackupAndRestore`).
4. Score the best weights on the full test split with the same function as `zoo eval`, and write
   `checkpoints/<name>.keras` with its card.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shlex
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from zoo import _checkpoint, _training  # noqa: E402
from zoo._registry import get_spec  # noqa: E402

BATCH_SIZE = 32  # sentences per step
EPOCHS = 12  # upper bound; early stopping usually ends sooner
PATIENCE = 2  # epochs without a better dev accuracy before stopping
LEARNING_RATE = 2e-3  # Adam
BUCKETS = (8, 12, 16, 20, 25, 30, 40, 60)  # sentence-length boundaries for batching
SEED = 42


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", help="registered model name, e.g. udpos-bilstm")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--learning-rate", type=float, default=LEARNING_RATE)
    parser.add_argument("--patience", type=int, default=PATIENCE)
    parser.add_argument("--strategy", choices=("default", "mirrored", "multiworker"), default="default")
    parser.add_argument("--run-dir", default="runs")
    parser.add_argument("--out", default="checkpoints")
    parser.add_argument("--limit-train", type=int, default=None, help="use only N training sentences (smoke tests)")
    parser.add_argument("--eval-limit", type=int, default=None, help="score on the first N test sentences (smoke tests)")
    parser.add_argument("--stop-after-epochs", type=int, default=None,
                        help="stop after N epochs of this invocation; run the same command again to resume")
    return parser.parse_args(argv)


# === Data ===


def load_split(spec, split: str, limit=None):
    import importlib

    data = importlib.import_module(f"zoo.data.{spec.dataset}").load(split)
    tokens, tags = data.tokens, data.tags
    return (tokens[:limit], tags[:limit]) if limit else (tokens, tags)


def vocabularies(sentences, *, word_size: int, char_size: int, max_chars: int):
    """Most frequent normalized words and characters of the training sentences."""
    import re

    words, chars = collections.Counter(), collections.Counter()
    for sentence in sentences:
        for token in sentence:
            words[re.sub(r"\d", "0", token.lower())] += 1
            chars.update(token[:max_chars])
    return [w for w, _ in words.most_common(word_size - 2)], [c for c, _ in chars.most_common(char_size - 2)]


def make_dataset(sentences, tags, tag_set, batch_size: int, *, shuffle: bool):
    """Batches of (tokens, tag ids, weights): padding gets weight 0, so it never counts in loss or accuracy."""
    import tensorflow as tf

    index = {t: i for i, t in enumerate(tag_set)}

    def rows():
        for tokens, sentence_tags in zip(sentences, tags):
            yield np.array(tokens, dtype=object), np.array([index[t] for t in sentence_tags], np.int32)

    ds = tf.data.Dataset.from_generator(
        rows, output_signature=(tf.TensorSpec([None], tf.string), tf.TensorSpec([None], tf.int32))
    ).cache()
    if shuffle:
        ds = ds.shuffle(len(sentences), seed=SEED, reshuffle_each_iteration=True)
    ds = ds.bucket_by_sequence_length(
        element_length_func=lambda x, y: tf.shape(x)[0],
        bucket_boundaries=list(BUCKETS),
        bucket_batch_sizes=[batch_size] * (len(BUCKETS) + 1),
        padding_values=("", 0),
    )
    return ds.map(lambda x, y: (x, y, tf.cast(tf.not_equal(x, ""), tf.float32))).prefetch(tf.data.AUTOTUNE)


# === Training ===


def main(argv=None):
    args = parse_args(argv)
    import keras

    spec = get_spec(args.name)
    keras.utils.set_random_seed(SEED)
    command = "python recipes/train_sequence_tagger.py " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    run_dir = os.path.join(args.run_dir, args.name)
    os.makedirs(run_dir, exist_ok=True)
    build_args = dict(spec.builder_args)
    tag_set = build_args["tags"]

    # 1. Data.
    train_tokens, train_tags = load_split(spec, "train", args.limit_train)
    dev_tokens, dev_tags = load_split(spec, "validation")
    print(f"train {len(train_tokens):,} sentences · dev {len(dev_tokens):,}", flush=True)

    # 2. Vocabularies from the training sentences only.
    words, chars = vocabularies(train_tokens, word_size=build_args["word_vocab_size"],
                                char_size=build_args["char_vocab_size"], max_chars=build_args["max_chars"])
    print(f"vocabulary: {len(words):,} words, {len(chars):,} characters", flush=True)

    # 3. Model and training.
    strategy = _training.make_strategy(args.strategy)
    with strategy.scope():
        model = spec.builder_fn()(**build_args, word_vocabulary=words, char_vocabulary=chars, name=spec.name)
        model.compile(
            optimizer=keras.optimizers.Adam(args.learning_rate, clipnorm=5.0),
            loss="sparse_categorical_crossentropy",
            weighted_metrics=["accuracy"],
        )
    train_ds = make_dataset(train_tokens, train_tags, tag_set, args.batch_size, shuffle=True)
    dev_ds = make_dataset(dev_tokens, dev_tags, tag_set, args.batch_size, shuffle=False)
    keep_best = _training.keep_best_callback(run_dir)
    callbacks = [
        keras.callbacks.BackupAndRestore(os.path.join(run_dir, "backup")),
        keep_best,
        keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max", patience=args.patience),
        keras.callbacks.CSVLogger(os.path.join(run_dir, "history.csv"), append=True),
    ]
    if args.stop_after_epochs:
        callbacks.append(_training.time_box_callback(args.stop_after_epochs))
    started = time.time()
    try:
        model.fit(train_ds, validation_data=dev_ds, epochs=args.epochs, callbacks=callbacks, verbose=2)
    except _training.TimeBoxReached as stop:
        print(f"stopped after epoch {stop.args[0]} (--stop-after-epochs); run the same command again to resume.", flush=True)
        return None
    train_seconds = time.time() - started
    model.load_weights(keep_best.weights_path)

    # 4. The test split, once.
    inference = spec.builder_fn()(**build_args, word_vocabulary=words, char_vocabulary=chars, name=spec.name)
    inference.set_weights(model.get_weights())
    metrics = spec.evaluator_fn()(inference, split="test", limit=args.eval_limit)
    print(f"test: {metrics}", flush=True)
    card = _checkpoint.write_checkpoint(
        spec, inference, metrics=metrics,
        validation={"accuracy": round(keep_best.best["val_accuracy"], 4), "n": sum(map(len, dev_tokens))},
        recipe_command=command,
        training={
            "best_epoch": keep_best.best.get("epoch"), "epochs_max": args.epochs, "batch_size": args.batch_size,
            "learning_rate": args.learning_rate, "train_sentences": len(train_tokens),
            "train_seconds": round(train_seconds), "hardware": _training.hardware(), "strategy": args.strategy,
        },
        out_dir=args.out,
    )
    print(json.dumps({k: card[k] for k in ("name", "metrics", "size_bytes", "sha256")}), flush=True)
    return card


if __name__ == "__main__":
    main()
