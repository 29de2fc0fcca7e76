"""
Title: Which digit was said? A GRU over a log-mel spectrogram computed inside the model
Models: fsdd-gru
Structure: many-to-one (a waveform's frames in, one digit out)

This recipe trains the registered `fsdd-gru` model on the Free Spoken Digit Dataset and writes the checkpoint
the zoo ships:

    python recipes/train_audio_classifier.py fsdd-gru --loso-all --epochs 15   # speaker-independent table
    python recipes/train_audio_classifier.py fsdd-gru \\
        --speaker-independent-report runs/fsdd-gru-loso/report.json             # the shipped checkpoint
    python recipes/train_audio_classifier.py fsdd-gru --limit-train 100 --steps-per-epoch 2 --epochs 1 \\
        --eval-limit 20 --out /tmp/smoke --run-dir /tmp/smoke-runs             # a smoke run

Steps, top to bottom:
1. Load the recordings (`zoo.data.fsdd`): train is index 10-49 of every speaker and digit, validation
   index 5-9; the official test split (index 0-4) is touched once, at the end.
2. Prepare each waveform as the pipeline does (trim leading and trailing silence, crop or zero-pad to
   the model's 8,192 samples), so training, scoring and use see the same input.
3. Train the whole model, front end included (it has no weights; its constant DFT and mel matrices run in
   the graph), with light augmentation on each batch: a random delay (up to 0.1 s of leading silence,
   when the recording leaves room) and, for half the recordings, white noise at 15-40 dB below the peak
   on the speech only (the padding stays silent, as it is at use). There is no gain augmentation: the
   model divides by the peak amplitude.
4. Keep the epoch with the best validation accuracy; stop when it no longer improves.
5. Score the best weights on the test split and write `<out>/fsdd-gru.keras` and its card. With
   ``--speaker-independent-report`` the card also carries the leave-one-speaker-out table.

Speaker-independent figures: ``--holdout-speaker NAME`` trains on the five other speakers (validation:
their index 5-9) and scores all 500 recordings of NAME; it writes ``<run-dir>/fsdd-gru-loso/NAME.json``,
never a checkpoint. ``--loso-all`` runs the six in turn and writes ``<run-dir>/fsdd-gru-loso/report.json``
(mean and per speaker); run again after an interruption, it keeps the speakers already written and resumes
the one that was training.
"""

from __future__ import annotations

import copy
import json
import os
import sys

import numpy as np

# Running the file directly from a checkout: make `zoo` importable without installing it.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from zoo import _training  # noqa: E402

# Training defaults (override on the command line).
BATCH_SIZE = 32  # recordings per step
EPOCHS = 40  # upper bound; early stopping usually ends sooner
PATIENCE = 8  # epochs without a better validation accuracy before stopping
LEARNING_RATE = 1e-3  # Adam
MAX_DELAY_SECONDS = 0.1  # augmentation: at most this much silence put before a recording
NOISE_SNR_DB = (15.0, 40.0)  # augmentation: white noise this far below the peak, on half the recordings
LOSO_FOLDER = "fsdd-gru-loso"  # under --run-dir: the leave-one-speaker-out results


def parser():
    p = _training.recipe_parser(__doc__, epochs=EPOCHS, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE,
                                patience=PATIENCE, name_help="registered model name: fsdd-gru")
    p.add_argument("--no-augment", dest="augment", action="store_false", help="train without delay and noise")
    p.add_argument("--cosine", action="store_true",
                   help="decay the learning rate to zero over --epochs along a half cosine (else constant)")
    loso = p.add_argument_group("speaker-independent figures (leave one speaker out)")
    loso.add_argument("--holdout-speaker", default=None, metavar="NAME",
                      help="train on the five other speakers and score every recording of NAME; writes "
                           f"<run-dir>/{LOSO_FOLDER}/NAME.json, no checkpoint")
    loso.add_argument("--loso-all", action="store_true",
                      help=f"run --holdout-speaker for each of the six speakers; writes <run-dir>/{LOSO_FOLDER}/report.json")
    p.add_argument("--speaker-independent-report", default=None, metavar="JSON",
                   help="a --loso-all report to put on the card")
    p.add_argument("--report-wait", type=float, default=60.0, metavar="MINUTES",
                   help="when the report is not there yet at the end of training (a --loso-all run started beside "
                        "this one), wait this long for it (default 60)")
    return p


def read_report(path: str, wait_minutes: float) -> dict:
    """The --loso-all report at ``path``, waiting up to ``wait_minutes`` for a run that is still writing it."""
    import time

    deadline = time.time() + 60 * wait_minutes
    while not os.path.exists(path):
        if time.time() > deadline:
            raise FileNotFoundError(f"No speaker-independent report at {path} after {wait_minutes:g} minutes.")
        print(f"waiting for {path} ...", flush=True)
        time.sleep(30)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def augment_batch(x, length, y, *, sample_rate: int):
    """A random delay (leading silence) and, for half the rows, noise over the speech only."""
    import tensorflow as tf

    size = tf.shape(x)[1]
    room = tf.minimum(size - length, int(MAX_DELAY_SECONDS * sample_rate))
    delay = tf.cast(tf.random.uniform(tf.shape(length)) * tf.cast(room + 1, tf.float32), tf.int32)
    positions = tf.range(size)[None, :]
    x = tf.gather(x, tf.math.floormod(positions - delay[:, None], size), batch_dims=1)  # the tail is zeros
    speech = tf.cast((positions >= delay[:, None]) & (positions < (delay + length)[:, None]), tf.float32)
    snr = tf.random.uniform(tf.shape(length), *NOISE_SNR_DB)
    level = tf.reduce_max(tf.abs(x), axis=1) * 10.0 ** (-snr / 20.0)
    level *= tf.cast(tf.random.uniform(tf.shape(length)) < 0.5, tf.float32)
    return x + tf.random.normal(tf.shape(x)) * level[:, None] * speech, y


def train_one(argv, args, *, holdout_speaker: str | None, report_dir: str | None = None):
    """One training run; the official one writes the checkpoint, a held-out speaker's writes its JSON."""
    run = _training.start_run("recipes/train_audio_classifier.py", args, argv)  # the strategy, before any TF op
    import keras

    from zoo.data import fsdd
    from zoo.models.audio_classifier.evaluation import evaluate
    from zoo.models.audio_classifier.pipeline import prepare

    # 1. Data (the held-out speaker, if any, is in neither train nor validation).
    train = fsdd.load("train", limit=args.limit_train, holdout_speaker=holdout_speaker)
    validation = fsdd.load("validation", limit=args.limit_dev, holdout_speaker=holdout_speaker)
    print(f"train {len(train):,} recordings · validation {len(validation):,}"
          + (f" · held out: {holdout_speaker}" if holdout_speaker else ""), flush=True)

    # 2. The model and the inputs it is trained on: the pipeline's own preparation.
    with run.scope():
        model = run.build()
        learning_rate = args.learning_rate
        if args.cosine:
            steps = args.steps_per_epoch or -(-len(train) // run.global_batch_size)
            learning_rate = keras.optimizers.schedules.CosineDecay(args.learning_rate, decay_steps=args.epochs * steps)
        model.compile(optimizer=keras.optimizers.Adam(learning_rate, clipnorm=1.0),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    front_end = model.get_layer("log_mel")
    settings = {"sample_rate": front_end.sample_rate, "max_samples": front_end.max_samples}

    def batches(data, *, shuffle: bool, augment: bool):
        rows = np.stack([prepare(w, **settings) for w in data.waveforms])
        speech = np.array([np.flatnonzero(r).max() + 1 if r.any() else 0 for r in rows], np.int32)  # after trimming
        digits = np.asarray(data.digits, np.int32)
        to_model = ((lambda x, n, y: augment_batch(x, n, y, sample_rate=settings["sample_rate"])) if augment
                    else (lambda x, n, y: (x, y)))
        return run.batches([rows, speech, digits], lengths=np.full(len(rows), settings["max_samples"]), boundaries=(),
                           shuffle=shuffle, to_model=to_model)

    # 3-4. Training with keep-best on the validation accuracy (Keras' own metric: the same as `zoo eval`'s).
    if not run.fit(model, batches(train, shuffle=True, augment=args.augment),
                   batches(validation, shuffle=False, augment=False)):
        return None  # --stop-after-epochs: the same command resumes

    training = {"augment": args.augment, "cosine": args.cosine, "train_recordings": len(train)}
    if holdout_speaker is None:
        # 5. The test split, once: the same scoring as `zoo eval`; then the checkpoint and its card.
        if args.speaker_independent_report:
            training["speaker_independent"] = read_report(args.speaker_independent_report, args.report_wait)
        return run.finish(validation={"n": len(validation)}, training=training)

    # A held-out speaker: score all of their recordings with the best epoch; no checkpoint.
    result = evaluate(run.shipped_model(), split="test", limit=args.eval_limit, holdout_speaker=holdout_speaker,
                      progress=False)
    best = run._best_state()  # noqa: SLF001
    result = {"speaker": holdout_speaker, "accuracy": result["accuracy"], "n": result["n"],
              "per_digit": result["per_digit"], "epochs": best.get("epoch"),
              "validation_accuracy": round(best.get(run.monitor, float("nan")), 4), **training,
              "command": run.command}
    os.makedirs(report_dir, exist_ok=True)
    with open(os.path.join(report_dir, f"{holdout_speaker}.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
    print(f"held out {holdout_speaker}: accuracy {result['accuracy']:.4f} on {result['n']} recordings", flush=True)
    run._end()  # noqa: SLF001
    return result


def main(argv=None):
    args = parser().parse_args(argv)
    argv = list(argv) if argv is not None else sys.argv[1:]
    report_dir = os.path.join(args.run_dir, LOSO_FOLDER)
    if not args.loso_all:
        if args.holdout_speaker:  # its backups and best epoch in a folder of its own
            args.run_dir = os.path.join(report_dir, args.holdout_speaker)
        return train_one(argv, args, holdout_speaker=args.holdout_speaker, report_dir=report_dir)

    from zoo.data.fsdd import SPEAKERS

    results = {}
    for speaker in SPEAKERS:
        done = os.path.join(report_dir, f"{speaker}.json")
        if os.path.exists(done):  # finished by an earlier invocation: a --loso-all run that stopped resumes
            with open(done, encoding="utf-8") as f:
                results[speaker] = json.load(f)
            print(f"held out {speaker}: accuracy {results[speaker]['accuracy']:.4f} (from {done})", flush=True)
            continue
        one = copy.copy(args)
        one.run_dir = os.path.join(report_dir, speaker)
        result = train_one([a for a in argv if a != "--loso-all"] + ["--holdout-speaker", speaker], one,
                           holdout_speaker=speaker, report_dir=report_dir)
        if result is None:
            return None
        results[speaker] = result
    report = {"protocol": "leave one speaker out: train on the five other speakers (index 0-4 and 10-49), choose the "
                          "epoch on their index 5-9, score all 500 recordings of the speaker left out",
              "mean": round(float(np.mean([r["accuracy"] for r in results.values()])), 4),
              "per_speaker": {s: {k: r[k] for k in ("accuracy", "n", "epochs", "validation_accuracy")}
                              for s, r in results.items()},
              "epochs_max": args.epochs, "command": "python recipes/train_audio_classifier.py " + " ".join(argv)}
    os.makedirs(report_dir, exist_ok=True)
    path = os.path.join(report_dir, "report.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2)
    from zoo.models.audio_classifier.evaluation import speaker_independent_table

    print(speaker_independent_table(report), flush=True)
    print(f"wrote {path}", flush=True)
    return report


if __name__ == "__main__":
    main()
