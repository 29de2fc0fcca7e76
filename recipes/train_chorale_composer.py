"""
Title: Composing Bach chorales with a recurrent next-note model
Models: jsb-chorales-lstm
Structure: many-to-many (the notes so far in, the next note out, at every position)

This recipe trains the registered `jsb-chorales-lstm` model; the shipped checkpoint was trained with

    python recipes/train_chorale_composer.py jsb-chorales-lstm --transpose 3 --steps-per-epoch 49 --time-box 30 \\
        --run-dir runs/cc-A --out runs/cc-A/out     # then copied into checkpoints/ and zoo/cards/

(about 28 minutes on 2 shared CPU cores; `--out checkpoints` writes straight into the package). A smoke run:

    python recipes/train_chorale_composer.py jsb-chorales-lstm --limit-train 10 --steps-per-epoch 2 --epochs 1 \\
        --eval-limit 3 --out /tmp/smoke --run-dir /tmp/smoke-runs   # a smoke run

It is exercise 10 of chapter 15 of *Hands-On Machine Learning* (2nd/3rd ed.) done as a zoo recipe: Bach's
chorales as chords of four voices, unrolled voice by voice into one note sequence (47 classes: a rest and
MIDI 36..81), and a model that predicts the next note everywhere. The book's model is a dilated causal
Conv1D stack and an LSTM over notes (test accuracy 0.8164); this one runs two stacked LSTMs over chords
(one step per chord) and a causal Conv1D over notes, joined before the output (`zoo.models.chorale_composer.model`).

Steps, top to bottom:
1. Load the train and validation chorales (`zoo.data.jsb_chorales`). The test chorales are touched once,
   at the end.
2. Cut them into windows of 33 chords unrolled into 132 notes (input: the first 131, target: the next
   note at each position). Validation windows follow the protocol (a window every 16 chords); training
   windows may start more often (`--train-shift`) and may be transposed (`--transpose`; the shipped model:
   -3..+3 semitones, 6.4 times the windows, so an epoch is set to 49 steps, one pass of the untransposed
   windows), chosen on the validation windows (the shift stayed at the protocol's 16).
3. Train with Nadam on the cross-entropy of every next note, halving the learning rate when the validation
   accuracy has not improved for 2 epochs; after each epoch, the validation next-note
   accuracy (Keras' own metric over every note of every validation window: the protocol's figure) keeps
   the best epoch and stops the run when it no longer improves.
4. Score the best weights on the test windows and write `<out>/jsb-chorales-lstm.keras` and its card.
"""

from __future__ import annotations

import os
import sys

import numpy as np

# Running the file directly from a checkout: make `zoo` importable without installing it.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from zoo import _training  # noqa: E402

# Training defaults (override on the command line).
BATCH_SIZE = 64  # windows per step
EPOCHS = 40  # upper bound; early stopping usually ends sooner
PATIENCE = 5  # epochs without a better validation accuracy before stopping
LR_PATIENCE = 2  # epochs without a better validation accuracy before the learning rate is halved
LEARNING_RATE = 2e-3  # Nadam (the book: 1e-3 with batches of 32)
TRAIN_SHIFT = 16  # chords between the starts of two training windows (the protocol's 16)
TRANSPOSE = 0  # also train on copies transposed by up to this many semitones each way (0: none)


def transposed(chorales, semitones: int):
    """The chorales moved by ``-semitones..semitones`` each way (each copy only where every note stays in 36..81)."""
    from zoo.data.jsb_chorales import MAX_NOTE, MIN_NOTE

    out = []
    for chorale in chorales:
        notes = chorale[chorale > 0]
        for shift in range(-semitones, semitones + 1):
            if MIN_NOTE <= notes.min() + shift and notes.max() + shift <= MAX_NOTE:
                out.append(np.where(chorale > 0, chorale + shift, 0).astype(np.int32))
    return out


def main(argv=None):
    parser = _training.recipe_parser(__doc__, epochs=EPOCHS, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE,
                                     patience=PATIENCE, name_help="registered model name: jsb-chorales-lstm")
    parser.add_argument("--train-shift", type=int, default=TRAIN_SHIFT,
                        help=f"chords between training windows (default {TRAIN_SHIFT}, the protocol's)")
    parser.add_argument("--transpose", type=int, default=TRANSPOSE,
                        help=f"add training copies transposed by up to this many semitones each way (default {TRANSPOSE})")
    args = parser.parse_args(argv)
    run = _training.start_run("recipes/train_chorale_composer.py", args, argv)  # the strategy, before any TF op
    import keras

    from zoo.data import jsb_chorales

    # 1. Data: chorales as int arrays (time, 4) of MIDI pitches.
    train = jsb_chorales.load("train", limit=args.limit_train)
    validation = jsb_chorales.load("validation", limit=args.limit_dev)

    # 2. Windows of 131 input notes and 131 targets.
    x, y = jsb_chorales.windows(transposed(train, args.transpose) if args.transpose else train, shift=args.train_shift)
    x_val, y_val = jsb_chorales.windows(validation)
    print(f"train {len(train)} chorales, {len(x):,} windows · validation {len(validation)} chorales, {len(x_val):,} windows",
          flush=True)

    # 3. The model reads whole chords: each window gets a 132nd note (a rest) whose target has weight 0, so the
    #    loss and the accuracy (a weighted metric) count exactly the protocol's 131 next notes.
    with run.scope():
        model = run.build()
        model.compile(optimizer=keras.optimizers.Nadam(args.learning_rate, clipnorm=1.0),
                      loss="sparse_categorical_crossentropy", weighted_metrics=["accuracy"])

    def batches(inputs, targets, *, shuffle: bool):
        inputs, targets = (np.pad(a, [(0, 0), (0, 1)]) for a in (inputs, targets))
        weights = np.ones(targets.shape, np.float32)
        weights[:, -1] = 0.0
        length = inputs.shape[1]
        return run.batches([inputs, targets, weights], lengths=[length] * len(inputs), boundaries=(length,),
                           shuffle=shuffle, to_model=lambda a, b, w: (a, b, w))

    halve = keras.callbacks.ReduceLROnPlateau(monitor=run.monitor, mode=run.metric.mode, factor=0.5,
                                              patience=LR_PATIENCE, min_lr=1e-5)
    if not run.fit(model, batches(x, y, shuffle=True), batches(x_val, y_val, shuffle=False), callbacks=[halve]):
        return None  # --stop-after-epochs: the same command resumes

    # 4. The test windows, once: the same scoring as `zoo eval`; then the checkpoint and its card.
    return run.finish(validation={"n": int(y_val.size), "windows": len(x_val)},
                      training={"train_chorales": len(train), "train_windows": len(x), "train_shift": args.train_shift,
                                "transpose": args.transpose})


if __name__ == "__main__":
    main()
