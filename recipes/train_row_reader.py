"""
Title: Reading a handwritten digit row by row with an LSTM
Models: mnist-row-lstm
Structure: many-to-one (28 rows of 28 pixels in, one digit out)

This recipe trains the registered `mnist-row-lstm` model and writes the checkpoint the zoo ships:

    python recipes/train_row_reader.py mnist-row-lstm --time-box 25
    python recipes/train_row_reader.py mnist-row-lstm --limit-train 600 --steps-per-epoch 2 --epochs 1 \\
        --eval-limit 100 --out /tmp/smoke --run-dir /tmp/smoke-runs   # a smoke run

An MNIST image is a sequence: its 28 rows are 28 time steps of 28 pixels. This is the keras.io
"hierarchical RNN" idea in its plainest form (one bidirectional LSTM over the rows).

Steps, top to bottom:
1. Load the first 55,000 official training images (train) and the last 5,000 (validation). The
   10,000 test images are touched once, at the end.
2. Train with Adam on batches of 128, the learning rate falling from `LEARNING_RATE` to 0 along a
   cosine over the `--epochs` (so a resumed run continues the same schedule); every training image is
   shifted at random by up to `SHIFT` pixel each way.
3. After each epoch, score accuracy on the validation split and keep the best epoch.
4. Score the best weights on the test split (`zoo eval mnist-row-lstm` does the same) and write
   `<out>/mnist-row-lstm.keras` and its card.
"""

from __future__ import annotations

import os
import sys

import numpy as np

# Running the file directly from a checkout: make `zoo` importable without installing it.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from zoo import _training  # noqa: E402

# Training defaults (override on the command line).
BATCH_SIZE = 128  # images per step
EPOCHS = 20  # the cosine schedule's length
PATIENCE = 8  # epochs without a better validation accuracy before stopping
LEARNING_RATE = 1e-3  # Adam, at the start of the cosine decay
SHIFT = 1  # random shifts of the training images, in pixels, up and down and sideways (2 underfitted: train
           # accuracy stayed below validation accuracy)


def shift_images(images, shift: int, seed):
    """Each image of a batch ``(n, 28, 28)`` moved by its own random offset of up to ``shift`` pixels each way
    (zeros come in at the edges): the pad-and-crop augmentation, by gathering rows and columns."""
    import tensorflow as tf

    n, side = tf.shape(images)[0], images.shape[-1]
    padded = tf.pad(images, [[0, 0], [shift, shift], [shift, shift]])
    offsets = tf.random.stateless_uniform([2, n], seed=seed, minval=0, maxval=2 * shift + 1, dtype=tf.int32)
    steps = tf.range(side)
    rows = tf.gather(padded, offsets[0][:, None] + steps[None], batch_dims=1)  # (n, side, side + 2 * shift)
    return tf.gather(rows, offsets[1][:, None] + steps[None], axis=2, batch_dims=1)


def main(argv=None):
    parser = _training.recipe_parser(__doc__, epochs=EPOCHS, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE,
                                     patience=PATIENCE, name_help="registered model name: mnist-row-lstm")
    parser.add_argument("--shift", type=int, default=SHIFT, help=f"random shift in pixels, 0 for none (default {SHIFT})")
    args = parser.parse_args(argv)
    run = _training.start_run("recipes/train_row_reader.py", args, argv)  # the strategy, before any TF op
    import keras
    import tensorflow as tf

    from zoo.data import mnist

    # 1. Data: uint8 (n, 28, 28) images and their digits.
    train = mnist.load("train", limit=args.limit_train)
    validation = mnist.load("validation", limit=args.limit_dev)
    print(f"train {len(train):,} images · validation {len(validation):,} images", flush=True)

    # 2. The model, trained on pixels in [0, 255] (it scales them itself).
    steps = args.steps_per_epoch or -(-len(train) // run.global_batch_size)
    with run.scope():
        model = run.build()
        schedule = keras.optimizers.schedules.CosineDecay(args.learning_rate, decay_steps=args.epochs * steps)
        model.compile(optimizer=keras.optimizers.Adam(schedule, clipnorm=1.0),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])

    counter = tf.Variable(0, dtype=tf.int64, trainable=False)  # a fresh shift seed for every batch

    def augmented(images, labels):
        images = tf.cast(images, tf.float32)
        if args.shift:
            seed = tf.stack([tf.constant(run.seed, tf.int64), counter.assign_add(1)])
            images = shift_images(images, args.shift, seed)
        return images, labels

    def batches(data, *, shuffle: bool):
        columns = [data.images, data.labels.astype(np.int32)]
        to_model = augmented if shuffle else (lambda x, y: (tf.cast(x, tf.float32), y))
        return run.batches(columns, lengths=np.full(len(data), 28), boundaries=(), shuffle=shuffle, to_model=to_model)

    # 3. Fit with keep-best on validation accuracy (Keras' own validation metric is the headline metric).
    if not run.fit(model, batches(train, shuffle=True), batches(validation, shuffle=False)):
        return None  # --stop-after-epochs: the same command resumes

    # 4. The test split, once; then the checkpoint and its card.
    return run.finish(validation={"n": len(validation)},
                      training={"train_images": len(train), "shift_pixels": args.shift,
                                "learning_rate_schedule": f"cosine decay to 0 over {args.epochs} epochs"})


if __name__ == "__main__":
    main()
