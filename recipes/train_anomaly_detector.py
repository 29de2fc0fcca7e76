"""
Title: A streaming LSTM anomaly detector, scored on the whole Numenta Anomaly Benchmark
Models: nab-lstm
Structure: many-to-one (the last 32 values in, the next value out; the errors become anomaly scores)

This recipe pretrains the registered predictor and writes the checkpoint the zoo ships:

    python recipes/train_anomaly_detector.py nab-lstm       # about 3 min of training, 4 min of scoring on 2 CPU cores
    zoo train nab-lstm                                      # the same, through the CLI

NAB has no training split: a detector may learn from each file's probation period (its first
min(floor(0.15 n), 750) rows, which NAB does not score) and must score each row from the rows before it.
So the predictor learns from nothing but those rows, and never sees a label:

1. Load NAB's 58 series. Each is normalized by the mean and standard deviation of its probation rows;
   every window of 32 probation values with its next probation value is a training pair (about 31,000 in
   all). The last 10% of each series' pairs are held out to stop the training.
2. Train the registered LSTM (32 units) to predict the next value, Huber loss, Adam, until the held-out
   loss stops improving; keep the best epoch.
3. Score the whole corpus with `zoo.models.anomaly_detector.evaluation.evaluate` (what `zoo eval nab-lstm`
   runs): per series, a copy of the predictor is fine-tuned on its probation rows, every row is predicted
   from the 32 before it, HTM's anomaly likelihood turns the errors into scores, and NAB's scorer sweeps one
   threshold per profile over the corpus. The checkpoint and its card (scores, thresholds, HTM's and the
   windowed Gaussian's figures from the same run) are written to `--out`.

The design and the few variants compared on the way are described in the card's `training.notes` and in the
README. `--limit-files N` pretrains and scores on N series only (smoke tests).
"""

from __future__ import annotations

import argparse
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

RECIPE = "recipes/train_anomaly_detector.py"
EPOCHS = 30  # upper bound; early stopping ends sooner
BATCH_SIZE = 128  # windows per step
LEARNING_RATE = 2e-3  # Adam
PATIENCE = 3  # epochs without a lower held-out loss before stopping
HELD_OUT = 0.1  # the last share of each series' probation windows, held out for early stopping
SEED = 42
NOTES = (
    "Compared on the full corpus before this recipe was fixed, in prototype runs (20 epochs, a random 10% of the "
    "windows held out, seed 0; the same likelihood and spatial rule unless said), 5 predictors and 5 ways of "
    "scoring (the kept one and 4 others) in all, standard profile: the pretrained LSTM alone 62.0 (56.9 without "
    "the spatial rule, 31.6 without the red-zone filter); with a second input holding the value one day earlier 62.0 (artificial series "
    "better, AWS and traffic worse) and 63.7 with per-series fine-tuning; a Laplace head giving a per-row scale, "
    "errors divided by it, 54.8; ranks of the errors instead of their size 53.3; the plain LSTM fine-tuned per "
    "series on its probation rows 64.1, kept. This recipe (early stopping on held-out windows) gives 63.36 with "
    "seed 42, shipped, and 62.46 with seed 7 (61.18 and 59.65 without the fine-tuning). HTM's and NAB's constants "
    "(10 and 8,640 rows, red 0.99999, yellow 0.999, the log scale, the 5% spatial tolerance, the probation rule) "
    "were taken as they are; the window of 32, the 32 units and the fine-tuning settings were set once, not swept."
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", help="registered model name: nab-lstm")
    parser.add_argument("--epochs", type=int, default=EPOCHS, help=f"at most this many epochs (default {EPOCHS})")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help=f"windows per step (default {BATCH_SIZE})")
    parser.add_argument("--learning-rate", type=float, default=LEARNING_RATE, help=f"Adam (default {LEARNING_RATE:g})")
    parser.add_argument("--patience", type=int, default=PATIENCE, help=f"early-stopping patience (default {PATIENCE})")
    parser.add_argument("--run-dir", default="runs", help="the training history: <run-dir>/<name>/ (default runs)")
    parser.add_argument("--out", default="checkpoints", help="where the checkpoint and its card go (default checkpoints)")
    parser.add_argument("--seed", type=int, default=SEED, help=f"random seed of the pretraining (default {SEED})")
    parser.add_argument("--limit-files", type=int, default=None, metavar="N",
                        help="pretrain and score on N series only (the shortest of each category in turn)")
    return parser.parse_args(argv)


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
    args = parse_args(argv)
    spec = get_spec(args.name)
    if spec.recipe != RECIPE:
        raise SystemExit(f"{args.name} is trained by {spec.recipe}, not by {RECIPE}.")
    command = f"python {RECIPE} " + " ".join(shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    import keras

    from zoo.data import nab
    from zoo.models.anomaly_detector.evaluation import subset

    keras.utils.set_random_seed(args.seed)
    run_dir = _training.prepare_run_dir(os.path.join(args.run_dir, spec.name))

    # 1. Data: the probation rows of every series (or of --limit-files series).
    corpus = subset(nab.load(), args.limit_files)
    window = spec.builder_args["window"]
    (train_x, train_y), (held_x, held_y) = probation_windows(corpus, window)
    print(f"{len(corpus)} series: {len(train_x):,} training and {len(held_x):,} held-out windows of {window} values",
          flush=True)

    # 2. The predictor, trained to predict the next value.
    model = zoo.build(spec.name)
    model.compile(optimizer=keras.optimizers.Adam(args.learning_rate), loss=keras.losses.Huber(1.0))
    stopping = keras.callbacks.EarlyStopping(monitor="val_loss", patience=args.patience, restore_best_weights=True)
    started = time.time()
    history = model.fit(train_x, train_y, validation_data=(held_x, held_y), epochs=args.epochs,
                        batch_size=args.batch_size, shuffle=True, verbose=2,
                        callbacks=[stopping, keras.callbacks.CSVLogger(os.path.join(run_dir, "history.csv"))])
    train_seconds = time.time() - started
    losses = history.history["val_loss"]
    best_epoch = int(np.argmin(losses)) + 1

    # 3. The whole corpus, once: the same scoring as `zoo eval nab-lstm`.
    started = time.time()
    metrics = spec.evaluator_fn()(model, limit=args.limit_files)
    scoring_seconds = time.time() - started
    print(f"NAB: {json.dumps(metrics)}", flush=True)
    card = _checkpoint.write_checkpoint(
        spec,
        model,
        metrics=metrics,
        validation={"huber_loss": round(float(min(losses)), 4), "windows": int(len(held_x))},
        recipe_command=command,
        training={
            "data": f"the probation rows of {len(corpus)} NAB series (NAB's unscored first min(floor(0.15 n), 750) "
                    "rows), each normalized by its own mean and standard deviation; no label",
            "train_windows": int(len(train_x)),
            "best_epoch": best_epoch,
            "epochs_max": args.epochs,
            "batch_size": args.batch_size,
            "learning_rate": args.learning_rate,
            "loss": "Huber (delta 1)",
            "adaptation": "per series: a copy fine-tuned on its probation windows (10 epochs, batches of 64, Adam 1e-3, "
                          "Huber, fixed shuffle); the anomaly likelihood's statistics follow the series online",
            "train_seconds": round(train_seconds),
            "scoring_seconds": round(scoring_seconds),
            "hardware": _training.hardware(),
            "seed": args.seed,
            "notes": NOTES,
        },
        out_dir=args.out,
    )
    print(json.dumps({k: card[k] for k in ("name", "metrics", "size_bytes", "sha256")}), flush=True)
    return card


if __name__ == "__main__":
    main()
