"""
Title: Reading captchas with a CRNN and CTC
Models: captcha-crnn-ctc
Structure: many-to-many, unaligned (image columns in, a shorter character sequence out)

This recipe trains the registered `captcha-crnn-ctc` model and writes the checkpoint the zoo ships:

    python recipes/train_ctc_reader.py captcha-crnn-ctc --time-box 40
    python recipes/train_ctc_reader.py captcha-crnn-ctc --limit-train 64 --steps-per-epoch 2 --epochs 1 \\
        --eval-limit 8 --out /tmp/smoke --run-dir /tmp/smoke-runs   # a smoke run

The keras.io example "OCR model for reading Captchas" on the same 1,040 images, made fit for scoring:
a fixed split by a hash of the label (`zoo.data.captcha`), a validation split that chooses the epoch,
light augmentation (the training split has only 819 images), and scores on a test split touched once.
What makes it learn in minutes where a two-block version (the example's layout) crept through CTC's
all-blank plateau for tens of epochs: batch norm after every convolution and after the per-column dense
layer, three pooling blocks (25 steps for 5 characters rather than 50), and Adam at 2e-3 with a short
warm-up and cosine decay.

Steps, top to bottom:
1. Load the train and validation captchas and make them grey 200x50 pixels exactly as the pipeline does.
2. Train the CRNN with CTC loss (blank = class 0; character `i` of the alphabet is class `i + 1`), Adam
   warmed up over `WARMUP_EPOCHS` to `LEARNING_RATE`, then cosine decay over the epochs. Every training
   image gets its own small random affine change (shifts of up to `SHIFT` of the size, scaling by up to
   `SCALE`, a shear) and Gaussian noise.
3. After each epoch, read the validation captchas with greedy decoding (the same function as `zoo eval`)
   and keep the epoch with the best sequence accuracy (the epoch budget and the time box end the run).
4. Score the best weights on the test split (greedy and beam search) and write
   `<out>/captcha-crnn-ctc.keras` and its card.
"""

from __future__ import annotations

import os
import sys

import numpy as np

# Running the file directly from a checkout: make `zoo` importable without installing it.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from zoo import _training  # noqa: E402

# Training defaults (override on the command line).
BATCH_SIZE = 16  # captchas per step
EPOCHS = 60  # the learning rate's cosine decay spans them
PATIENCE = None  # no early stopping: sequence accuracy stays 0 through CTC's first plateau (all blanks), and
                 # 98 validation images make it too coarse to stop on; keep-best still ships the best epoch
LEARNING_RATE = 2e-3  # Adam's peak, reached after WARMUP_EPOCHS, then cosine decay to 2% of it
WARMUP_EPOCHS = 2  # linear warm-up from a 20th of the peak: batch norm statistics settle before large steps
# Light augmentation: on validation it tied training without it (both misread 2 of the 98 captchas) at a lower best
# validation CTC loss (0.16 against 0.19).
SHIFT = (0.02, 0.04)  # the most an image moves, as a share of its (width, height)
SCALE = 0.04  # the most an image is scaled up or down
SHEAR = 0.075  # the most horizontal shear (pixels of x per pixel of y)
NOISE = 2.0  # standard deviation of the Gaussian noise added to the [0, 255] pixels


def augment(pixels, seed):
    """Each grey image of a batch ``(n, h, w)`` with its own random affine change and noise (edges repeat)."""
    import tensorflow as tf

    n = tf.shape(pixels)[0]
    height, width = pixels.shape[1], pixels.shape[2]
    u = tf.random.stateless_uniform([5, n], seed=seed, minval=-1.0, maxval=1.0)
    scale = 1.0 + SCALE * u[0]
    shear = SHEAR * u[1]
    dx, dy = SHIFT[0] * width * u[2], SHIFT[1] * height * u[3]
    # The output pixel (x, y) samples the input at (a0 x + a1 y + a2, b0 x + b1 y + b2): scaling about the centre.
    cx, cy = width / 2.0, height / 2.0
    a0, a1 = 1.0 / scale, shear / scale
    b1 = 1.0 / scale
    a2 = cx - a0 * cx - a1 * cy - dx
    b2 = cy - b1 * cy - dy
    zeros = tf.zeros_like(scale)
    transforms = tf.stack([a0, a1, a2, zeros, b1, b2, zeros, zeros], axis=1)
    moved = tf.raw_ops.ImageProjectiveTransformV3(
        images=pixels[..., None], transforms=transforms, output_shape=tf.constant([height, width]),
        fill_value=0.0, interpolation="BILINEAR", fill_mode="NEAREST")[..., 0]
    noise = tf.random.stateless_normal(tf.shape(moved), seed=seed + 1, stddev=NOISE)
    return tf.clip_by_value(moved + noise, 0.0, 255.0)


def main(argv=None):
    parser = _training.recipe_parser(__doc__, epochs=EPOCHS, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE,
                                     patience=PATIENCE, name_help="registered model name: captcha-crnn-ctc")
    parser.add_argument("--no-augment", action="store_true", help="train on the images as they are")
    args = parser.parse_args(argv)
    run = _training.start_run("recipes/train_ctc_reader.py", args, argv)  # the strategy, before any TF op
    import keras
    import tensorflow as tf

    from zoo.data import captcha
    from zoo.models.ctc_reader.evaluation import evaluate
    from zoo.models.ctc_reader.pipeline import to_pixels

    # 1. Data: grey pixels and class ids (character i of the alphabet is class i + 1).
    alphabet = "".join(run.spec.labels)
    height, width = run.spec.builder_args["height"], run.spec.builder_args["width"]
    train = captcha.load("train", limit=args.limit_train)
    validation = captcha.load("validation", limit=args.limit_dev)
    print(f"train {len(train):,} captchas · validation {len(validation):,} captchas", flush=True)

    def columns(data):
        ids = np.array([[alphabet.index(c) + 1 for c in label] for label in data.labels], np.int32)
        return [to_pixels(data.images, height, width), ids]

    # 2. The model and the CTC loss on its per-step probabilities.
    def ctc_loss(ids, probabilities):
        return keras.losses.ctc(ids, keras.ops.log(keras.ops.maximum(probabilities, 1e-7)))

    with run.scope():
        model = run.build()
        steps = args.steps_per_epoch or -(-len(train) // run.global_batch_size)
        warmup = min(WARMUP_EPOCHS, args.epochs - 1) * steps
        schedule = keras.optimizers.schedules.CosineDecay(  # by optimizer step, so a resumed run continues it
            args.learning_rate / 20, decay_steps=args.epochs * steps - warmup, alpha=0.02,
            warmup_target=args.learning_rate, warmup_steps=warmup)
        model.compile(optimizer=keras.optimizers.Adam(schedule, clipnorm=1.0), loss=ctc_loss)

    counter = tf.Variable(0, dtype=tf.int64, trainable=False)  # a fresh augmentation seed for every batch

    def augmented(pixels, ids):
        seed = tf.stack([tf.constant(run.seed, tf.int64), counter.assign_add(1)])
        return augment(pixels, seed), ids

    def batches(data, *, shuffle: bool):
        to_model = augmented if shuffle and not args.no_augment else (lambda x, y: (x, y))
        return run.batches(columns(data), lengths=np.full(len(data), width), boundaries=(), shuffle=shuffle,
                           to_model=to_model)

    # 3. Fit, keeping the epoch with the best greedy sequence accuracy on the validation split.
    def dev_score(scoring_model):
        return evaluate(scoring_model, split="validation", limit=args.limit_dev, progress=False,
                        greedy_only=True)["sequence_accuracy"]

    if not run.fit(model, batches(train, shuffle=True), batches(validation, shuffle=False), dev_score=dev_score):
        return None  # --stop-after-epochs: the same command resumes

    # 4. The test split, once (greedy and beam search); then the checkpoint and its card.
    return run.finish(validation={"n": len(validation)},
                      training={"train_images": len(train), "augment": not args.no_augment,
                                "augmentation": None if args.no_augment else {
                                    "shift": list(SHIFT), "scale": SCALE, "shear": SHEAR, "noise_std": NOISE}})


if __name__ == "__main__":
    main()
