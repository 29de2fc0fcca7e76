"""
Title: Which language is this surname? A character-level RNN classifier
Models: names-char-rnn
Structure: many-to-one (a name's characters in, one language out)

This recipe trains the registered `names-char-rnn` model and writes the checkpoint the zoo ships:

    python recipes/train_names.py names-char-rnn
    python recipes/train_names.py names-char-rnn --limit-train 300 --steps-per-epoch 2 --epochs 1 --eval-limit 50 \\
        --out /tmp/smoke --run-dir /tmp/smoke-runs   # a smoke run

It is the PyTorch tutorial "Classifying names with a character-level RNN" done as a zoo recipe, on
data made fit for scoring (`zoo.data.names`: (name, language) pairs deduplicated, split by a hash of
the name, so no name is on two sides).

Steps, top to bottom:
1. Load the train and validation names (each with the set of its languages). The test split is
   touched once, at the end.
2. Build the character vocabulary from the training names, as the model's own `characters` layer
   standardizes them (A-Z lower-cased, Unicode characters).
3. Train the network on character ids bucketed by length. A name with several languages has its target
   probability spread equally over them. `--class-weight` weights each name by the inverse frequency
   of its languages (off by default: on validation it lowered top-1 accuracy).
4. After each epoch, score top-1 accuracy on the validation split with the same function as
   `zoo eval` (a prediction is right when it is any of the name's languages); keep the best epoch
   and stop when it no longer improves.
5. Score the best weights on the test split and write `<out>/names-char-rnn.keras` and its card.
"""

from __future__ import annotations

import collections
import os
import sys

import numpy as np

# Running the file directly from a checkout: make `zoo` importable without installing it.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from zoo import _training  # noqa: E402

# Training defaults (override on the command line).
BATCH_SIZE = 64  # names per step
EPOCHS = 30  # upper bound; early stopping usually ends sooner
PATIENCE = 4  # epochs without a better validation top-1 accuracy before stopping
LEARNING_RATE = 3e-3  # Adam
BUCKETS = (5, 7, 9, 12)  # length boundaries for bucketing, in characters


def standardize(name: str) -> str:
    """What the model's `characters` layer does before splitting: lower-case A-Z only (tf.strings.lower)."""
    return "".join(c.lower() if "A" <= c <= "Z" else c for c in name)


def main(argv=None):
    parser = _training.recipe_parser(__doc__, epochs=EPOCHS, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE,
                                     patience=PATIENCE, name_help="registered model name: names-char-rnn")
    parser.add_argument("--class-weight", action="store_true",
                        help="weight each name by the inverse frequency of its languages")
    args = parser.parse_args(argv)
    run = _training.start_run("recipes/train_names.py", args, argv)  # the strategy, before any TF op
    import keras
    import tensorflow as tf

    from zoo.data import names
    from zoo.models.name_classifier.evaluation import evaluate

    # 1. Data: distinct names with their languages.
    train = names.load("train", limit=args.limit_train)
    validation = names.load("validation", limit=args.limit_dev)
    labels = run.spec.labels
    print(f"train {len(train):,} names ({train.num_pairs:,} pairs) · validation {len(validation):,} names", flush=True)

    # 2. Character vocabulary, most frequent first, from the training names only.
    counts = collections.Counter(c for name in train.names for c in standardize(name))
    characters = [c for c, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]

    # 3. The model; the nested `classifier` (character ids in) is fitted.
    with run.scope():
        model = run.build(characters=characters)
        classifier = model.get_layer("classifier")
        classifier.compile(optimizer=keras.optimizers.Adam(args.learning_rate, clipnorm=1.0),
                           loss="categorical_crossentropy", metrics=["categorical_accuracy"])

    def targets(data):
        y = np.zeros((len(data), len(labels)), np.float32)
        for i, langs in enumerate(data.languages):
            for lang in langs:
                y[i, labels.index(lang)] = 1.0 / len(langs)
        return y

    def batches(data, *, shuffle: bool, weighted: bool = False):
        ids = model.get_layer("characters")(tf.constant(data.names)).numpy()
        rows = [row[row > 0].astype(np.int32) for row in ids]
        y = targets(data)
        columns = [rows, y]
        if weighted:
            frequency = y.sum(axis=0) / len(y)
            columns.append((y @ (1.0 / np.maximum(frequency, 1e-6)) / len(labels)).astype(np.float32))
        return run.batches(columns, lengths=[len(r) for r in rows], boundaries=BUCKETS, shuffle=shuffle,
                           to_model=(lambda x, y, w: (x, y, w)) if weighted else (lambda x, y: (x, y)))

    def dev_score(scoring_model):
        return evaluate(scoring_model, split="validation", limit=args.limit_dev, progress=False, labels=labels)["accuracy"]

    if not run.fit(classifier, batches(train, shuffle=True, weighted=args.class_weight),
                   batches(validation, shuffle=False), whole=model, dev_score=dev_score):
        return None  # --stop-after-epochs: the same command resumes

    # 5. The test split, once: the same scoring as `zoo eval`; then the checkpoint and its card.
    return run.finish(validation={"n": len(validation)},
                      training={"class_weight": args.class_weight, "train_names": len(train),
                                "train_pairs": train.num_pairs, "characters": len(characters)})


if __name__ == "__main__":
    main()
