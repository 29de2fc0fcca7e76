"""
Title: Training an RNN sentiment classifier on IMDB
Models: imdb-simplernn, imdb-lstm, imdb-gru, imdb-bilstm, imdb-bigru
Structure: many-to-one (a whole review in, one label out)

This recipe trains any registered `imdb-*` model and writes the checkpoint the zoo ships:

    python recipes/train_text_classifier.py imdb-bigru
    zoo train imdb-bigru --epochs 3          # the same, through the CLI
    python recipes/train_text_classifier.py imdb-gru --limit-train 200 --steps-per-epoch 2 --eval-limit 50 \\
        --out /tmp/smoke --run-dir /tmp/smoke-runs   # a smoke run: every stage uses the 200 reviews only

Steps, top to bottom:
1. Load the official train split (25,000 reviews), carve 2,500 of them off as validation with a
   fixed seed, and load the 50,000 unlabelled reviews. The test split is touched once, at the end.
2. Build a 20,000-word vocabulary and pretrain 100-d word2vec vectors (gensim) on the train and
   unlabelled reviews; the vectors initialise the embedding layer. They are cached in the run
   folder, so the five IMDB models share them.
3. Train the RNN on token ids bucketed by length (less padding, faster epochs), keeping the epoch
   with the best validation accuracy and stopping when it no longer improves. An interrupted run
   resumes where it stopped.
4. Score the best weights on the full test split with the same function as `zoo eval`, then
   write `<out>/<name>.keras` and its card `<out>/<name>.json` (`--out`, default `checkpoints/`).

The options every recipe shares (`--strategy`, `--time-box`, `--stop-after-epochs`, limits...) are
described by `--help` and in `zoo._training`.
"""

from __future__ import annotations

import hashlib
import os
import sys

import numpy as np

# Running the file directly from a checkout: make `zoo` importable without installing it.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from zoo import _training  # noqa: E402

# Training defaults (override on the command line).
BATCH_SIZE = 64  # reviews per step (per worker)
EPOCHS = 8  # upper bound; early stopping usually ends sooner
PATIENCE = 2  # epochs without a better validation accuracy before stopping
LEARNING_RATE = 1e-3  # Adam
BUCKETS = (64, 128, 192, 256, 320)  # length boundaries for bucketing, in tokens
WORD2VEC_EPOCHS = 5  # passes of word2vec over train + unlabelled text


def tokenize(texts: list[str], batch_size: int = 1024) -> list[list[str]]:
    """Tokens exactly as the model sees them (the model's own StandardizeText layer)."""
    import tensorflow as tf

    from zoo.layers.text import StandardizeText

    standardize = StandardizeText()
    return [line.decode("utf-8").split() for start in range(0, len(texts), batch_size)
            for line in standardize(tf.constant(texts[start : start + batch_size])).numpy()]


def main(argv=None):
    parser = _training.recipe_parser(__doc__, epochs=EPOCHS, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE,
                                     patience=PATIENCE, name_help="registered model name, e.g. imdb-bigru")
    parser.add_argument("--no-pretrain", action="store_true", help="random embeddings instead of word2vec")
    args = parser.parse_args(argv)
    run = _training.start_run("recipes/train_text_classifier.py", args, argv)  # the strategy, before any TF op
    import keras
    import tensorflow as tf

    from zoo.data import imdb

    # 1. Data: the test split is not loaded until the very end.
    train = imdb.load("train", limit=args.limit_train)
    validation = imdb.load("validation", limit=args.limit_dev)
    unsup = None if args.no_pretrain else imdb.load("unsup", limit=args.limit_train)
    print(f"train {len(train):,} · validation {len(validation):,} · unlabelled {len(unsup) if unsup else 0:,}", flush=True)

    # 2. Vocabulary and word vectors, from train + unlabelled text only.
    corpus = tokenize(train.texts) + (tokenize(unsup.texts) if unsup else [])
    vocabulary = _training.count_vocabulary(corpus, size=run.spec.builder_args["vocab_size"] - 2)
    embeddings = None
    if not args.no_pretrain:
        key = hashlib.sha256("\n".join(vocabulary).encode()).hexdigest()[:12]
        embeddings = _training.word2vec_matrix(
            corpus, vocabulary, rows=len(vocabulary) + 2, dim=run.spec.builder_args["embedding_dim"],
            cache=run.cache_path("imdb-word2vec", key), epochs=WORD2VEC_EPOCHS)

    # 3. The model, built under the distribution strategy: the nested `classifier` (token ids in) is fitted.
    with run.scope():
        model = run.build(vocabulary=vocabulary)
        classifier = model.get_layer("classifier")
        if embeddings is not None:
            classifier.get_layer("embedding").set_weights([embeddings])
        classifier.compile(optimizer=keras.optimizers.Adam(args.learning_rate, clipnorm=1.0),
                           loss="binary_crossentropy", metrics=["accuracy"])

    # 4. Token ids from the model's own preprocessing, in batches of reviews of similar length.
    def batches(reviews, *, shuffle: bool):
        preprocessing = [model.get_layer(name) for name in ("standardize", "vectorize", "crop")]
        ids = []
        for start in range(0, len(reviews), 1024):
            x = tf.constant(reviews.texts[start : start + 1024])
            for layer in preprocessing:
                x = layer(x)
            ids += [row[row > 0] for row in x.numpy()]  # ids are 0-padded to 400: keep each review's own
        return run.batches(
            [ids, reviews.labels.astype(np.float32)], lengths=[len(row) for row in ids],
            boundaries=BUCKETS, shuffle=shuffle,
            to_model=lambda x, y: (x, tf.expand_dims(y, -1)))

    if not run.fit(classifier, batches(train, shuffle=True), batches(validation, shuffle=False), whole=model):
        return None  # --stop-after-epochs: the same command resumes

    # 5. The test split, once: the same scoring as `zoo eval`; then the checkpoint and its card.
    return run.finish(validation={"n": len(validation)},
                      training={"word2vec": not args.no_pretrain, "train_reviews": len(train)})


if __name__ == "__main__":
    main()
