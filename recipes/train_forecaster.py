"""
Title: Forecasting with recurrent networks: ETTh1 long horizons and Beijing PM2.5 next 24 hours
Models: etth1-lstm-h{96,192,336,720}, etth1-segrnn-h{96,192,336,720}, beijing-pm25-lstm
Structure: many-to-many (L rows of a series in, the next H rows out, all at once)

This recipe trains any registered forecaster and writes the checkpoint the zoo ships:

    python recipes/train_forecaster.py etth1-segrnn-h96 --learning-rate 3e-4   # SegRNN's published rate
    python recipes/train_forecaster.py etth1-lstm-h336
    python recipes/train_forecaster.py beijing-pm25-lstm
    zoo train etth1-segrnn-h720 --learning-rate 3e-4     # the same, through the CLI

    # choosing settings on the validation split only: another input length (or width, normalization...),
    # trained and scored on validation; no test score, no checkpoint
    python recipes/train_forecaster.py etth1-segrnn-h96 --input-length 336 --validation-only
    python recipes/train_forecaster.py etth1-segrnn-h96 --ensemble 3 --validation-only   # 3 seeds, averaged
    python recipes/train_forecaster.py etth1-segrnn-h96 --input-length 720 --ensemble 4 \
        --member-lengths 336,336,720,720 --validation-only         # 2 seeds at each of two input lengths

Steps, top to bottom:
1. Windows. ETTh1 follows the published protocol (Informer / LTSF-Linear borders): train targets in rows
   [0, 8640), validation [8640, 11520), test [11520, 14400), every window with stride 1, none dropped.
   Beijing PM2.5 follows the zoo's protocol: train 2010-2012, validation 2013, test 2014, windows with a
   missing target hour left out. Windows are gathered on the fly from one copy of the series.
2. The scaler. The mean and standard deviation of each column over the train rows only are written
   into the model (its `scaler` and `unscaler` layers): the checkpoint takes and gives original units.
3. Training. Adam on the MSE of the normalized forecast (each error divided by its column's train
   standard deviation: the scale the ETTh1 figures are published on). The learning rate is held for 3
   epochs, then multiplied by 0.9 each epoch (SegRNN's schedule). Keep-best and early stopping watch the
   headline metric on the validation split in its own direction (`zoo.metrics`: a lower MSE or RMSE is
   better): for ETTh1 the normalized MSE over every validation window, for PM2.5 the RMSE per horizon hour
   averaged over the 24 hours, scored after each epoch like `zoo eval` scores the test split.
   An ensemble (builder argument `ensemble=K`) trains its K networks this way one after another, each with
   its own keep-best and early stopping on validation (in <run-dir>/<name>/member_<i>/). Networks that read
   the same input length get seeds 42, 43, ... in order (with `member_lengths` the members may read different
   lengths). Each finished network is kept in <run-dir>/<name>/member_<i>.weights.h5 with what it was
   trained with, so a stopped command trains only the rest, and a finished --validation-only run's networks
   are reused by the same command without it. The checkpoint averages their forecasts.
4. Scoring. The best epoch's weights are scored on the full test split with the same function as
   `zoo eval` (for PM2.5 with the persistence, same-hour-yesterday and ridge baselines on the same
   windows), and `checkpoints/<name>.keras` is written with its card (`zoo/cards/<name>.json`).

Resuming, time boxes and distribution come from `zoo._training` (`--stop-after-epochs`, `--time-box`,
`--strategy`), as in every recipe.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys

import numpy as np

# Running the file directly from a checkout: make `zoo` importable without installing it.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import zoo.models.forecaster  # noqa: E402,F401  (registers the forecasters)
from zoo import _training  # noqa: E402

# Training defaults (override on the command line). SegRNN's published ETTh1 script trains with batch 64,
# Adam at 3e-4 (given on the command line for the SegRNN checkpoints), a held-then-decaying learning rate and
# patience 5; the same serve the LSTMs, at 1e-3.
BATCH_SIZE = 64  # windows per step
EPOCHS = 30  # upper bound; early stopping usually ends far sooner
PATIENCE = 5  # epochs without a better validation score before stopping
LEARNING_RATE = 1e-3  # Adam
WARMUP_EPOCHS = 3  # epochs at the full learning rate before it decays
DECAY = 0.9  # learning-rate factor per epoch after that


def parse_args(argv=None):
    parser = _training.recipe_parser(__doc__, epochs=EPOCHS, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE,
                                     patience=PATIENCE, name_help="registered forecaster, e.g. etth1-segrnn-h96")
    choosing = parser.add_argument_group("choosing settings on validation (with --validation-only)")
    choosing.add_argument("--architecture", choices=("lstm", "gru", "segrnn"), default=None,
                          help="network other than the registered one")
    choosing.add_argument("--input-length", type=int, default=None, help="L other than the registered one")
    choosing.add_argument("--units", type=int, default=None, help="recurrent width other than the registered one")
    choosing.add_argument("--dropout", type=float, default=None, help="dropout other than the registered one")
    choosing.add_argument("--normalization", choices=("none", "revin", "last"), default=None,
                          help="per-window normalization other than the registered one")
    choosing.add_argument("--level-input", action=argparse.BooleanOptionalAction, default=None,
                          help="also feed the scaled window (its level), or not")
    choosing.add_argument("--ensemble", type=int, default=None,
                          help="networks averaged (trained one after another with seeds 42, 43, ...) other than the registered number")
    choosing.add_argument("--member-lengths", type=_lengths, default=None,
                          help="an ensemble's input length per member, comma-separated (e.g. 336,336,720,720)")
    choosing.add_argument("--segment-length", type=int, default=None, help="SegRNN segment length other than the registered one")
    choosing.add_argument("--highway", type=int, default=None, help="rows of a linear highway beside the network")
    choosing.add_argument("--frozen-highway", action="store_true",
                          help="fit the highway in closed form (ridge) first and freeze it: the network learns the residual")
    choosing.add_argument("--highway-input", choices=("scaled", "normalized"), default=None,
                          help="the highway reads the train-scaled window (with its level) or the normalized one, as the "
                               "network does (with --normalization last: level-free, NLinear's map)")
    choosing.add_argument("--validation-only", action="store_true",
                          help="score the validation split and stop: no test score, no checkpoint")
    args = parser.parse_args(argv)
    return args


def _lengths(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected whole numbers separated by commas, got {text!r}") from None


def architecture_overrides(args, registered: dict | None = None) -> dict:
    """The builder arguments an option changes from the ``registered`` ones (an option that repeats a
    registered value changes nothing); a changed architecture is only ever scored on validation."""
    from zoo.models.forecaster.model import build_forecaster

    defaults = {name: parameter.default for name, parameter in inspect.signature(build_forecaster).parameters.items()}
    registered = {**defaults, **(registered or {})}
    options = (("architecture", args.architecture), ("input_length", args.input_length), ("units", args.units),
               ("dropout", args.dropout), ("normalization", args.normalization), ("highway", args.highway),
               ("level_input", args.level_input), ("segment_length", args.segment_length),
               ("ensemble", args.ensemble), ("member_lengths", args.member_lengths),
               ("highway_trainable", False if args.frozen_highway else None), ("highway_input", args.highway_input))
    overrides = {key: value for key, value in options if value is not None and value != registered.get(key)}
    if overrides and not args.validation_only:
        raise SystemExit(f"{sorted(overrides)} change the registered architecture: add --validation-only.")
    return overrides


# === Data: windows and the train rows' scaler ===


def dataset_parts(dataset: str, input_length: int, horizon: int, args):
    """``(series, starts per split, mean, scale)`` of the model's dataset.

    ``series`` holds the model's input columns in original units for every row; ``starts[split]`` the first
    target row of each window: every window for ETTh1, the ones whose 24 target hours are known for PM2.5.
    ``--limit-train`` keeps a fixed seeded sample of the train windows, ``--limit-dev`` the first validation ones.
    """
    from zoo.data._common import sample_indices

    if dataset == "ett":
        from zoo.data import ett

        series = ett.load().values.astype(np.float32)
        starts = {}
        for split in ett.SPLITS:
            first, end = ett.split_rows(split, input_length)
            starts[split] = np.arange(first + input_length, end - horizon + 1)
            assert len(starts[split]) == ett.num_windows(split, input_length, horizon)  # none dropped
        mean, scale = ett.scaler()
    else:
        from zoo.data import beijing_pm25

        series = np.asarray(beijing_pm25.feature_table())
        starts = {split: beijing_pm25.windows(split).starts for split in beijing_pm25.SPLITS}
        mean, scale = beijing_pm25.scaler()
    if args.limit_train:
        starts["train"] = np.sort(starts["train"][sample_indices(len(starts["train"]), args.limit_train)])
    if args.limit_dev:
        starts["validation"] = starts["validation"][: args.limit_dev]
    return series, starts, mean, scale


RIDGE_GRID = (0.1, 1.0, 10.0, 100.0, 1000.0)  # penalties tried for a frozen highway, chosen on validation


def fit_highway(model, series, starts, mean, scale, normalization: str, highway_input: str = "scaled") -> float:
    """Fits a frozen ``highway`` layer in closed form: ridge regression from the last rows of the train-scaled
    window (minus the window's last value too when the highway reads the normalized window) to the scaled
    forecast (minus the window's last value when the model takes it out), on the train windows, its penalty
    chosen on the validation windows. Returns the penalty."""
    from zoo.models.forecaster.baselines import LinearForecaster, channel_samples
    from zoo.models.forecaster.model import forecast_columns, shapes

    _, channels, horizon, _ = shapes(model)
    layer = model.get_layer("highway")
    independent = layer.kernel.shape[1] == horizon and len(forecast_columns(model)) == channels and channels > 1
    rows = layer.kernel.shape[0] if independent else layer.kernel.shape[0] // channels
    targets = forecast_columns(model)
    if normalization not in ("none", "last") or (highway_input == "normalized" and normalization != "last"):
        raise ValueError("A frozen highway is fit for normalization 'none' or 'last' (reading the normalized window: "
                         f"'last'); got normalization {normalization!r}, highway_input {highway_input!r}.")

    def pairs(split):
        first = starts[split]
        x = (series[first[:, None] + np.arange(-rows, 0)] - mean) / scale  # [n, rows, C]
        y = (series[first[:, None] + np.arange(horizon)][..., targets] - mean[targets]) / scale[targets]
        if normalization == "last":
            y = y - x[:, -1:, targets]
        if highway_input == "normalized":  # what the highway reads: the window minus its last value
            x = x - x[:, -1:, :]
        if independent:  # each column of each window is one sample: [n * C, rows] -> [n * C, H]
            return channel_samples(x), channel_samples(y)
        return x.reshape(len(first), -1), y.reshape(len(first), -1)

    gram, cross = LinearForecaster.moments(*pairs("train"))
    x, y = pairs("validation")
    scores = {ridge: float(np.mean((LinearForecaster.solve(gram, cross, ridge=ridge).predict(x) - y) ** 2))
              for ridge in RIDGE_GRID}
    ridge = min(scores, key=scores.get)
    weights = LinearForecaster.solve(gram, cross, ridge=ridge).weights.astype(np.float32)
    layer.set_weights([weights[:-1], weights[-1]])
    print(f"highway: ridge regression over the last {rows} rows, penalty {ridge:g} (validation MSE "
          + ", ".join(f"{k:g}: {v:.4f}" for k, v in scores.items()) + ")", flush=True)
    return ridge


def learning_rate_schedule(base: float):
    """The full rate for WARMUP_EPOCHS epochs, then DECAY per epoch."""
    return lambda epoch, _: base * DECAY ** max(0, epoch + 1 - WARMUP_EPOCHS)


def train_network(run, args, overrides: dict):
    """Steps 1-3 for one network: its windows, its scaler, training with keep-best on validation.

    Returns ``(the best epoch's model, training facts for the card)``, or None when ``--stop-after-epochs``
    stopped the run (the same command resumes).
    """
    import keras

    from zoo.models.forecaster.evaluation import forecast, pm25_scores
    from zoo.models.forecaster.model import forecast_columns, set_scaler, shapes
    from zoo.models.forecaster.training import normalized_mae, normalized_mse, window_dataset

    # 1. The model and its windows.
    with run.scope():
        model = run.build(**overrides)
    input_length, _, horizon, _ = shapes(model)
    series, starts, mean, scale = dataset_parts(run.spec.dataset, input_length, horizon, args)
    targets = forecast_columns(model)
    print(f"{run.spec.name}: L={input_length} H={horizon}, {model.count_params():,} parameters; windows: "
          + ", ".join(f"{split} {len(s):,}" for split, s in starts.items()), flush=True)

    # 2. The scaler: the train rows' statistics, inside the model. A frozen highway is fit in closed form.
    set_scaler(model, mean, scale)
    highway = None
    if any(layer.name == "highway" for layer in model.layers) and not model.get_layer("highway").trainable:
        architecture = {**run.spec.builder_args, **overrides}
        highway = fit_highway(model, series, starts, mean, scale, architecture.get("normalization", "none"),
                              architecture.get("highway_input", "scaled"))

    # 3. Training on the normalized scale.
    with run.scope():
        model.compile(optimizer=keras.optimizers.Adam(args.learning_rate), loss=normalized_mse(scale[targets]),
                      metrics=[keras.metrics.MeanMetricWrapper(normalized_mse(scale[targets]), name="mse"),
                               keras.metrics.MeanMetricWrapper(normalized_mae(scale[targets]), name="mae")])

    def windows(split, shuffle=False):
        return window_dataset(series, starts[split], input_length=input_length, horizon=horizon, targets=targets,
                              batch_size=run.global_batch_size if shuffle else 256, shuffle=shuffle, seed=run.seed)

    dev_score = None
    if run.spec.metric == "rmse":  # PM2.5: the card's RMSE per horizon hour, averaged, on the validation windows
        from zoo.data import beijing_pm25

        dev = beijing_pm25.windows("validation", limit=args.limit_dev)

        def dev_score(scoring_model):
            return pm25_scores(forecast(scoring_model, dev.inputs, progress=False)[..., 0], dev.targets)["rmse"]

    schedule = keras.callbacks.LearningRateScheduler(learning_rate_schedule(args.learning_rate))
    if not run.fit(model, windows("train", shuffle=True), windows("validation"), dev_score=dev_score,
                   callbacks=[schedule]):
        return None  # --stop-after-epochs: the same command resumes
    facts = {"input_length": input_length, "horizon": horizon, "train_windows": len(starts["train"]),
             "loss": "MSE on the normalized scale (train standard deviation per column)",
             "learning_rate_schedule": f"held {WARMUP_EPOCHS} epochs, then x{DECAY} per epoch",
             **({"highway_ridge": highway} if highway is not None else {})}
    return run.shipped_model(), facts


# === Ensembles: K networks trained apart, averaged ===


def member_settings(args, network: dict) -> dict:
    """What a member was trained with: the training options and its network's builder arguments. A finished
    member is reused only by a run with the same settings."""
    keys = ("epochs", "batch_size", "learning_rate", "patience", "limit_train", "limit_dev", "steps_per_epoch")
    return {**{key: getattr(args, key) for key in keys}, "architecture": network}


def train_ensemble(run, args, overrides: dict, size: int):
    """Trains the ``size`` members one after another, each as its own run in ``<run-dir>/<name>/member_<i>/``
    (backups, keep-best, early stopping on validation), and puts their best weights into one ensemble.
    Members reading the same input length get seeds ``run.seed``, ``run.seed + 1``... in order (so member 0,
    and the first member of each length, has the single network's seed).

    A finished member's weights and facts are kept in ``<run-dir>/<name>/member_<i>.weights.h5`` and ``.json``:
    a stopped or restarted command trains only the members not finished yet. ``--time-box`` bounds each member;
    a member it stops keeps its backup and the invocation ends without a checkpoint (the same command goes on).

    Returns ``(the ensemble, training facts for the card)``, or None when a member was stopped.
    """
    import keras

    from zoo.models.forecaster.model import ensemble_lengths, members

    architecture = {**run.spec.builder_args, **overrides}
    lengths = ensemble_lengths(architecture["input_length"], size, architecture.get("member_lengths"))
    with run.scope():
        ensemble = run.build(**overrides)
    done = []  # per member: {"settings", "member" (its card facts), "invocations" (seconds), "training"}
    one = {key: value for key, value in architecture.items() if key not in ("ensemble", "member_lengths")}
    for i, (network, length) in enumerate(zip(members(ensemble), lengths)):
        settings = member_settings(args, {**one, "input_length": length})
        weights = os.path.join(run.run_dir, f"member_{i}.weights.h5")
        record = os.path.join(run.run_dir, f"member_{i}.json")
        if os.path.exists(record) and os.path.exists(weights):
            with open(record) as f:
                kept = json.load(f)
            if kept["settings"] == settings:
                print(f"member {i}: trained already ({weights})", flush=True)
                network.load_weights(weights)
                done.append(kept)
                continue
        seed = run.seed + lengths[:i].count(length)
        keras.utils.set_random_seed(seed)
        member_args = argparse.Namespace(**{**vars(args), "run_dir": os.path.join(run.run_dir, f"member_{i}")})
        member_run = _training.Run(run.spec, member_args, run.strategy, command=run.command, seed=seed)
        trained = train_network(member_run, args, {**overrides, "ensemble": 1, "member_lengths": None,
                                                   "input_length": length})
        if trained is None:
            return None
        if member_run._time_boxed:  # noqa: SLF001
            print(f"member {i} stopped by --time-box; run the same command again to go on.", flush=True)
            return None
        model, training = trained
        network.set_weights(model.get_weights())
        network.save_weights(weights)
        scores = run.spec.evaluator_fn()(model, split="validation", limit=args.limit_dev, progress=False)
        invocations = member_run._times()["invocations"]  # noqa: SLF001
        member = {"seed": seed, "input_length": length, "best_epoch": member_run._best_state().get("epoch"),  # noqa: SLF001
                  "validation_mse": round(scores["mse"], 4), "validation_mae": round(scores["mae"], 4),
                  "train_seconds": round(sum(invocations))}
        print(f"member {i}: {json.dumps(member)}", flush=True)
        kept = {"settings": settings, "member": member, "invocations": invocations, "training": training}
        with open(record, "w") as f:
            json.dump(kept, f)
        done.append(kept)
    for kept in done:  # the card's train_seconds and invocations: the members' training
        for seconds in kept["invocations"]:
            run._record_time(seconds)  # noqa: SLF001
    run._fitted = run._whole = ensemble  # noqa: SLF001  (what run.finish scores and ships)
    if len(set(lengths)) == 1:
        what = (f"the average of {size} networks trained alike, seeds {run.seed} to {run.seed + size - 1}, each "
                f"kept at its best validation epoch")
    else:
        counts = {length: lengths.count(length) for length in lengths}
        what = (f"the average of {size} networks trained alike but for the rows of history they read ("
                + ", ".join(f"{n} reading the last {length} rows" for length, n in counts.items())
                + "; the networks of each length with seeds from " + str(run.seed)
                + "), each kept at its best validation epoch")
    facts = {**done[0]["training"], "input_length": architecture["input_length"],
             "train_windows": max(kept["training"]["train_windows"] for kept in done)}
    if len(set(lengths)) > 1:
        facts["member_lengths"] = lengths
    return ensemble, {**facts, "members": [kept["member"] for kept in done], "ensemble": what}


def main(argv=None):
    args = parse_args(argv)
    from zoo._registry import get_spec

    overrides = architecture_overrides(args, get_spec(args.name).builder_args)
    run = _training.start_run("recipes/train_forecaster.py", args, argv)  # the strategy, before any TF op

    # 1-3. One network, or an ensemble of networks trained one after another.
    size = {**run.spec.builder_args, **overrides}.get("ensemble", 1)
    trained = train_ensemble(run, args, overrides, size) if size > 1 else train_network(run, args, overrides)
    if trained is None:
        return None
    best, training = trained

    # 4. Validation (settings are chosen on it), then the test split once, the checkpoint and its card.
    evaluate = run.spec.evaluator_fn()
    validation = evaluate(best, split="validation", limit=args.limit_dev, progress=False)
    print("validation:", json.dumps(validation), flush=True)
    if args.validation_only:
        with open(os.path.join(run.run_dir, "validation.jsonl"), "a") as f:
            f.write(json.dumps({"command": run.command, "best_epoch": run._best_state().get("epoch"),  # noqa: SLF001
                                **({"members": training["members"]} if "members" in training else {}),
                                **validation}) + "\n")
        return None
    if size == 1:  # the best epoch's score, as kept during training
        validation = {key: value for key, value in validation.items() if key != run.spec.metric}
    return run.finish(validation=validation, training=training)


if __name__ == "__main__":
    main()
