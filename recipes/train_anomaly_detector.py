"""
Title: A streaming LSTM anomaly detector, scored on the whole Numenta Anomaly Benchmark
Models: nab-lstm
Structure: many-to-one (the last 32 values in, the next value out; the errors become anomaly scores)

This recipe pretrains the registered predictor and writes the checkpoint the zoo ships:

    python recipes/train_anomaly_detector.py nab-lstm       # about 1 min of training, 2 min of scoring on 2 CPU cores
    zoo train nab-lstm                                      # the same, through the CLI

NAB has no training split: a detector may learn from each file's probation period (its first
min(floor(0.15 n), 750) rows, which NAB does not score) and must score each row from the rows before it.
So the predictor learns from nothing but those rows, and never sees a label:

1. Load NAB's 58 series. Each is normalized by the mean and standard deviation of its probation rows;
   every window of 32 probation values with its next probation value is a training pair (about 31,000 in
   all). The last 10% of each series' pairs are held out to stop the training.
2. Train the registered LSTM (32 units) to predict the next value, Huber loss, Adam, until the held-out
   loss stops improving; keep the best epoch (`zoo._training.Run`: resumable, time boxes; NAB has no split to
   compute its own score on, so keep-best and early stopping watch that loss, lower is better).
3. Score the whole corpus with `zoo.models.anomaly_detector.evaluation.evaluate` (what `zoo eval nab-lstm`
   runs): per series, a copy of the predictor is fine-tuned on its probation rows, every row is predicted
   from the 32 before it, HTM's anomaly likelihood turns the errors into scores, and NAB's scorer sweeps one
   threshold per profile over the corpus. The checkpoint and its card (scores, thresholds, HTM's and the
   windowed Gaussian's figures from the same run) are written to `--out`.

The design and the few variants compared on the way are described in NOTES below (the card's `training.notes`)
and in the README. For smoke tests, `--limit-train N` pretrains on N series, `--limit-dev N` keeps N held-out
windows and `--eval-limit N` scores N series (the shortest of each category in turn).
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

# Running the file directly from a checkout: make `zoo` importable without installing it.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import zoo  # noqa: E402,F401  (registers the models)
from zoo import _training  # noqa: E402

RECIPE = "recipes/train_anomaly_detector.py"
EPOCHS = 30  # upper bound; early stopping ends sooner
BATCH_SIZE = 128  # windows per step
LEARNING_RATE = 2e-3  # Adam
PATIENCE = 3  # epochs without a lower held-out loss before stopping
HELD_OUT = 0.1  # the last share of each series' probation windows, held out for early stopping
NOTES = (
    "Compared on the full corpus before this recipe was fixed, in prototype runs (20 epochs, a random 10% of the "
    "windows held out, seed 0; the same likelihood and spatial rule unless said), 5 predictors and 5 ways of "
    "scoring (the kept one and 4 others) in all, standard profile: the pretrained LSTM alone 62.0 (56.9 without "
    "the spatial rule, 31.6 without the red-zone filter); with a second input holding the value one day earlier "
    "62.0 (artificial series better, AWS and traffic worse) and 63.7 with per-series fine-tuning; a Laplace head "
    "giving a per-row scale, errors divided by it, 54.8; ranks of the errors instead of their size 53.3; the "
    "plain LSTM fine-tuned per series on its probation rows 64.1, kept. Two runs of an earlier version of this "
    "recipe (the same data and settings, Keras' own early stopping) gave 63.36 (seed 42) and 62.46 (seed 7), "
    "61.18 and 59.65 without the fine-tuning: seeds move the score by about a point. HTM's and NAB's constants "
    "(10 and 8,640 rows, red 0.99999, yellow 0.999, the log scale, the 5% spatial tolerance, the probation rule) "
    "were taken as they are; the window of 32, the 32 units and the fine-tuning settings were set once, not "
    "swept."
)


# === Data: windows of the probation periods ===


def probation_windows(corpus: dict, window: int):
    """Training and held-out ``(windows, next values)`` from the probation rows of every series, normalized."""
    from zoo.metrics.nab import probation_length
    from zoo.models.anomaly_detector import likelihood, scoring

    train_x, train_y, held_x, held_y = [], [], [], []
    for series in corpus.values():
        probation = probation_length(len(series))
        center, scale = likelihood.normalization(series.values[:probation])
        normalized = ((series.values[:probation] - center) / scale).astype(np.float32)
        x, y = scoring.windows(normalized, window), normalized[window:]
        cut = len(x) - max(1, int(round(HELD_OUT * len(x))))
        train_x.append(x[:cut]), train_y.append(y[:cut]), held_x.append(x[cut:]), held_y.append(y[cut:])
    return (np.concatenate(train_x), np.concatenate(train_y)), (np.concatenate(held_x), np.concatenate(held_y))


# === Training and scoring ===


def main(argv=None):
    parser = _training.recipe_parser(__doc__, epochs=EPOCHS, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE,
                                     patience=PATIENCE, name_help="registered model name: nab-lstm")
    parser.add_argument("--seed", type=int, default=_training.SEED, help="random seed of the pretraining (default 42)")
    args = parser.parse_args(argv)
    run = _training.start_run(RECIPE, args, argv, seed=args.seed)  # the strategy, before any TF op
    import keras

    from zoo.data import nab
    from zoo.metrics import get_metric
    from zoo.models.anomaly_detector.evaluation import subset

    # NAB has no validation split to compute its score on: keep-best and early stopping watch the held-out
    # windows' Huber loss (lower is better) instead of the card's metric.
    run.metric, run.monitor = get_metric("loss"), "val_loss"

    # 1. Data: the probation rows of every series (or of --limit-train series).
    corpus = subset(nab.load(), args.limit_train)
    window = run.spec.builder_args["window"]
    (train_x, train_y), (held_x, held_y) = probation_windows(corpus, window)
    if args.limit_dev:
        held_x, held_y = held_x[: args.limit_dev], held_y[: args.limit_dev]
    print(f"{len(corpus)} series: {len(train_x):,} training and {len(held_x):,} held-out windows of {window} values",
          flush=True)

    # 2. The predictor, trained to predict the next value.
    with run.scope():
        model = run.build()
        model.compile(optimizer=keras.optimizers.Adam(args.learning_rate), loss=keras.losses.Huber(1.0))

    def batches(x, y, shuffle):  # every window has the same length: one bucket
        return run.batches([x, y], lengths=np.full(len(x), window), boundaries=(), shuffle=shuffle,
                           to_model=lambda windows, targets: (windows, targets))

    if not run.fit(model, batches(train_x, train_y, True), batches(held_x, held_y, False)):
        return None  # stopped by --stop-after-epochs: run the same command again to resume

    # 3. The whole corpus (or --eval-limit series), once: the same scoring as `zoo eval nab-lstm`.
    with open(os.path.join(run.run_dir, "best.json")) as f:
        best_loss = json.load(f)["val_loss"]
    return run.finish(
        validation={run.spec.metric: None, "huber_loss": round(best_loss, 4), "n": int(len(held_x))},
        training={
            "data": f"the probation rows of {len(corpus)} NAB series (NAB's unscored first min(floor(0.15 n), 750) "
                    "rows), each normalized by its own mean and standard deviation; no label",
            "train_windows": int(len(train_x)),
            "loss": "Huber (delta 1); keep-best and early stopping on the held-out windows' loss",
            "adaptation": "per series: a copy fine-tuned on its probation windows (10 epochs, batches of 64, Adam 1e-3, "
                          "Huber, fixed shuffle); the anomaly likelihood's statistics follow the series online",
            "seed": args.seed,
            "notes": NOTES,
        },
    )


if __name__ == "__main__":
    main()
