"""
Title: Training BiLSTM taggers: POS tags on UD English EWT, named entities (softmax or CRF) on CoNLL-2003
Models: udpos-bilstm, conll03-bilstm, conll03-bilstm-crf
Structure: many-to-many, aligned (one tag for every token)

    python recipes/train_sequence_tagger.py udpos-bilstm
    python recipes/train_sequence_tagger.py conll03-bilstm-crf
    zoo train conll03-bilstm --epochs 10          # the same, through the CLI

Steps, top to bottom:
1. Load the official train and dev splits (gold tokenization; for UD, multiword-token ranges and
   empty nodes are skipped by the loader; CoNLL-2003 tags are converted to IOB2). The test split is
   touched once, at the end.
2. The character vocabulary comes from the training sentences. The word vocabulary (lower-cased,
   digits mapped to 0) too, except for CoNLL-2003: its Reuters text may not be republished, so the
   words and their word2vec initial vectors come from the 75,000 train + unlabelled IMDB reviews,
   tokenized the same way (``--words imdb``, cached under runs/).
3. Train on batches of sentences of similar length: a softmax tagger with padding weighted out of
   the loss, a CRF tagger on the sequence negative log-likelihood. Early stopping on dev accuracy
   (POS) or dev entity F1 (NER); an interrupted run resumes (`BackupAndRestore`).
4. Score the best weights on the full test split with the same function as `zoo eval`, and write
   `checkpoints/<name>.keras` with its card.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import re
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
WORD2VEC_EPOCHS = 5
WORD_SOURCE = {"conll2003": "imdb"}  # datasets whose word vocabulary must come from another corpus (default: train)
# Dev entity F1 is noisy from epoch to epoch: NER halves the learning rate after an epoch without gain
# and waits longer before stopping.
LR_PATIENCE = {"conll2003": 1}
STOP_PATIENCE = {"conll2003": 3}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", help="registered model name, e.g. udpos-bilstm")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--learning-rate", type=float, default=LEARNING_RATE)
    parser.add_argument("--patience", type=int, default=None,
                        help=f"epochs without dev gain before stopping (default {PATIENCE}; 3 for CoNLL-2003)")
    parser.add_argument("--lr-patience", type=int, default=None,
                        help="epochs without dev gain before halving the learning rate (default: never; 1 for CoNLL-2003)")
    parser.add_argument("--strategy", choices=("default", "mirrored", "multiworker"), default="default")
    parser.add_argument("--run-dir", default="runs")
    parser.add_argument("--out", default="checkpoints")
    parser.add_argument("--words", choices=("train", "imdb"), default=None,
                        help="word vocabulary from the training sentences or from IMDB reviews with word2vec vectors "
                             "(default: imdb for CoNLL-2003, train otherwise)")
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


def normalize(token: str) -> str:
    """A token as the word embedding sees it (the model's NormalizeTokens layer): lower-cased, digits as 0."""
    return re.sub(r"\d", "0", token.lower())


def vocabularies(sentences, *, word_size: int, char_size: int, max_chars: int):
    """Most frequent normalized words and characters of the training sentences."""
    words, chars = collections.Counter(), collections.Counter()
    for sentence in sentences:
        for token in sentence:
            words[normalize(token)] += 1
            chars.update(token[:max_chars])
    return [w for w, _ in words.most_common(word_size - 2)], [c for c, _ in chars.most_common(char_size - 2)]


def imdb_words(word_size: int, dim: int, run_dir: str):
    """The ``word_size - 2`` most frequent IMDB words and their word2vec rows ``[padding, OOV, *words]``.

    The 75,000 train + unlabelled reviews are tokenized by the zoo's tagger tokenizer and normalized
    like the tagger's input, so the vectors fit the model's own tokens. Reviews only: no test text.
    """
    from zoo.data import imdb
    from zoo.layers.tagging import tokenize

    started = time.time()
    texts = imdb.load("train_full").texts + imdb.load("unsup").texts
    corpus = [[normalize(token) for token, _, _ in tokenize(text.replace("<br />", " "))] for text in texts]
    counts = collections.Counter(token for tokens in corpus for token in tokens)
    words = [w for w, _ in counts.most_common(word_size - 2)]
    key = hashlib.sha256(("tagger-imdb\n" + "\n".join(words)).encode()).hexdigest()[:12]
    matrix = _training.word2vec_matrix(corpus, words, rows=word_size, dim=dim, epochs=WORD2VEC_EPOCHS, seed=SEED,
                                       cache=os.path.join(run_dir, "tagger-word2vec", f"{key}.npz"))
    print(f"IMDB words and vectors: {len(corpus):,} reviews in {time.time() - started:.0f}s", flush=True)
    return words, matrix


def make_dataset(sentences, tags, tag_set, batch_size: int, *, shuffle: bool, weights: bool = True):
    """Batches of (tokens, tag ids[, weights]): padding gets weight 0, so it never counts in loss or accuracy.

    A CRF tagger takes no weights: it masks padding itself (``weights=False``).
    """
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
    if weights:
        ds = ds.map(lambda x, y: (x, y, tf.cast(tf.not_equal(x, ""), tf.float32)))
    return ds.prefetch(tf.data.AUTOTUNE)


def dev_score_callback(spec):
    """Adds ``val_f1`` (entity F1 on the dev split, the metric the model is chosen by) to each epoch's logs."""
    import keras

    evaluate = spec.evaluator_fn()

    class DevScore(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if logs is not None:
                logs["val_f1"] = evaluate(self.model, split="validation", progress=False)["f1"]
                print(f"epoch {epoch + 1}: dev entity F1 {logs['val_f1']:.4f}", flush=True)

    return DevScore()


# === Training ===


def main(argv=None):
    args = parse_args(argv)
    import keras

    spec = get_spec(args.name)
    keras.utils.set_random_seed(SEED)
    command = "python recipes/train_sequence_tagger.py " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    run_dir = _training.prepare_run_dir(os.path.join(args.run_dir, args.name))
    build_args = dict(spec.builder_args)
    tag_set = build_args["tags"]

    # 1. Data.
    train_tokens, train_tags = load_split(spec, "train", args.limit_train)
    dev_tokens, dev_tags = load_split(spec, "validation")
    print(f"train {len(train_tokens):,} sentences · dev {len(dev_tokens):,}", flush=True)

    # 2. Vocabularies: characters from the training sentences; words from them or from IMDB reviews.
    words, chars = vocabularies(train_tokens, word_size=build_args["word_vocab_size"],
                                char_size=build_args["char_vocab_size"], max_chars=build_args["max_chars"])
    word_source = args.words or WORD_SOURCE.get(spec.dataset, "train")
    vectors = None
    if word_source == "imdb":
        words, vectors = imdb_words(build_args["word_vocab_size"], build_args["word_dim"], args.run_dir)
    print(f"vocabulary: {len(words):,} words ({word_source}), {len(chars):,} characters", flush=True)

    # 3. Model and training.
    crf = bool(build_args.get("crf"))
    strategy = _training.make_strategy(args.strategy)
    with strategy.scope():
        model = spec.builder_fn()(**build_args, word_vocabulary=words, char_vocabulary=chars, name=spec.name)
        if vectors is not None:
            from zoo.models.sequence_tagger import emission_part

            emission_part(model).get_layer("network").get_layer("word_embedding").set_weights([vectors])
        optimizer = keras.optimizers.Adam(args.learning_rate, clipnorm=5.0)
        if crf:
            model.compile(optimizer=optimizer)  # the CRF log-likelihood is the loss
        else:
            model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", weighted_metrics=["accuracy"])
    train_ds = make_dataset(train_tokens, train_tags, tag_set, args.batch_size, shuffle=True, weights=not crf)
    dev_ds = make_dataset(dev_tokens, dev_tags, tag_set, args.batch_size, shuffle=False, weights=not crf)
    monitor = "val_f1" if spec.metric == "f1" else "val_accuracy"
    keep_best = _training.keep_best_callback(run_dir, monitor=monitor)
    callbacks = [keras.callbacks.BackupAndRestore(os.path.join(run_dir, "backup"))]
    if monitor == "val_f1":
        callbacks.append(dev_score_callback(spec))
    patience = args.patience or STOP_PATIENCE.get(spec.dataset, PATIENCE)
    lr_patience = args.lr_patience or LR_PATIENCE.get(spec.dataset)
    if lr_patience:
        callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor=monitor, mode="max", factor=0.5, patience=lr_patience))
    callbacks += [
        keep_best,
        keras.callbacks.EarlyStopping(monitor=monitor, mode="max", patience=patience),
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
    if monitor == "val_f1":
        validation = {"f1": round(keep_best.best["val_f1"], 4), "n": sum(t.startswith("B-") for s in dev_tags for t in s)}
    else:
        validation = {"accuracy": round(keep_best.best["val_accuracy"], 4), "n": sum(map(len, dev_tokens))}
    print(f"test: {metrics}", flush=True)
    card = _checkpoint.write_checkpoint(
        spec, inference, metrics=metrics,
        validation=validation,
        recipe_command=command,
        training={
            "best_epoch": keep_best.best.get("epoch"), "epochs_max": args.epochs, "batch_size": args.batch_size,
            "learning_rate": args.learning_rate, "train_sentences": len(train_tokens), "words": word_source,
            "patience": patience, "lr_patience": lr_patience,
            "train_seconds": round(train_seconds), "hardware": _training.hardware(), "strategy": args.strategy,
        },
        out_dir=args.out,
    )
    print(json.dumps({k: card[k] for k in ("name", "metrics", "size_bytes", "sha256")}), flush=True)
    return card


if __name__ == "__main__":
    main()
