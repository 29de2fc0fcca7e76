"""
Title: Training image captioners (Show and Tell; Show, Attend and Tell) on Flickr8k
Models: image-caption-lstm, image-caption-lstm-attention
Structure: one-to-many (one image in, a sequence of words out)

    python recipes/train_captioner.py image-caption-lstm --time-box 20
    python recipes/train_captioner.py image-caption-lstm-attention --time-box 20
    zoo train image-caption-lstm --epochs 20          # the same, through the CLI

The first run encodes the 7,000 train and dev images once (about 3-5 minutes on 2 CPU cores) and
caches the features; later runs, and the second model, start at once.

Steps, top to bottom:
1. Load the official train and dev lists (6,000 and 1,000 images, 5 captions each). The test split
   is touched once, at the end.
2. Build the vocabulary: the words seen at least 10 times in the training captions, most frequent first.
3. Run the frozen ImageNet encoder (MobileNetV2, 160x160) once over every image with a tf.data
   pipeline (read JPEG, decode, resize, batch) and cache the 5x5x1280 feature grids in
   `runs/flickr8k-features/` (float16, keyed by a hash of the encoder weights, the image archive and
   the image size): the encoder is frozen, so every epoch can reuse them.
4. Train the decoder on the cached grids with teacher forcing: it reads "<start> w1 ... wn" and
   learns to predict "w1 ... wn <end>", with padding weighted out of the loss, in batches of
   captions of similar lengths. After each epoch the dev images are captioned greedily and scored
   (BLEU-4 with the COCO caption evaluation code); the best epoch is kept and training stops when
   the dev score has not improved for a few epochs (the learning rate halves after an epoch without
   a lower dev loss). `--time-box MINUTES` ends training after the epoch that passes that time and
   goes on with the best epoch. An interrupted run resumes (`BackupAndRestore`).
5. Assemble the shipped model (encoder + vocabulary + best decoder), caption the full test split
   from the JPEGs with the same `evaluate` as `zoo eval` (beam search, width 3), and write
   `checkpoints/<name>.keras` with its card.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import shlex
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from zoo import _checkpoint, _training  # noqa: E402
from zoo._registry import get_spec  # noqa: E402

BATCH_SIZE = 128  # captions per step (on 2 CPU cores, 2.6x more captions per second than 64)
EPOCHS = 20  # upper bound; early stopping on dev BLEU-4 usually ends sooner
PATIENCE = 3  # epochs without a better dev BLEU-4 before stopping
MIN_LEARNING_RATE = 1e-4  # the learning rate halves after an epoch without a lower dev loss, down to this
LEARNING_RATE = 2e-3  # Adam, with gradient clipping
MIN_COUNT = 10  # a word enters the vocabulary when seen this often in the training captions
BUCKETS = (9, 11, 13, 15, 18)  # caption-length boundaries (in tokens, <start> included) for batching
FEATURE_BATCH = 64  # images per encoder batch when caching features
DEV_BATCH = 250  # images per decoding batch when scoring the dev split
SEED = 42


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", help="registered model name, e.g. image-caption-lstm")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--learning-rate", type=float, default=LEARNING_RATE)
    parser.add_argument("--patience", type=int, default=PATIENCE)
    parser.add_argument("--beam-width", type=int, default=3, help="beam width of the final test scoring")
    parser.add_argument("--strategy", choices=("default", "mirrored", "multiworker"), default="default")
    parser.add_argument("--run-dir", default="runs")
    parser.add_argument("--out", default="checkpoints")
    parser.add_argument("--limit-train", type=int, default=None, help="use only the first N training images (smoke tests)")
    parser.add_argument("--limit-dev", type=int, default=None, help="score only the first N dev images each epoch (smoke tests)")
    parser.add_argument("--eval-limit", type=int, default=None, help="score on the first N test images (smoke tests)")
    parser.add_argument("--steps-per-epoch", type=int, default=None, help="cap steps per epoch (smoke tests)")
    parser.add_argument("--stop-after-epochs", type=int, default=None,
                        help="stop after N epochs of this invocation; run the same command again to resume")
    parser.add_argument("--time-box", type=float, default=None, metavar="MINUTES",
                        help="end training after the epoch that passes MINUTES of training, then score and save the best epoch")
    return parser.parse_args(argv)


# === Data: captions and vocabulary ===


def vocabulary_of(captions, *, min_count: int, size: int) -> list[str]:
    """Words seen at least ``min_count`` times, most frequent first (ties alphabetical), at most ``size``."""
    from zoo.data.flickr8k import tokenize

    counts = collections.Counter(word for refs in captions for caption in refs for word in tokenize(caption))
    ranked = sorted((w for w, n in counts.items() if n >= min_count), key=lambda w: (-counts[w], w))
    return ranked[:size]


def caption_rows(captions, vocabulary: list[str], *, max_words: int):
    """Per caption: (image index, input ids "<start> w1..wn", target ids "w1..wn <end>"), captions cut to max_words."""
    from zoo.data.flickr8k import tokenize
    from zoo.models.captioner import END_ID, START_ID, UNK_ID

    index = {word: i + 4 for i, word in enumerate(vocabulary)}  # the StringLookup order: "", [UNK], <start>, <end>, words
    rows = []
    for image, refs in enumerate(captions):
        for caption in refs:
            ids = [index.get(word, UNK_ID) for word in tokenize(caption)[:max_words]]
            rows.append((image, [START_ID, *ids], [*ids, END_ID]))
    return rows


# === Encoder features, computed once ===


def cached_features(run_dir: str, encoder, image_size: int, names: list[str]):
    """The encoder's grids of ``names`` (float16 ``(n, s, s, 1280)``), from the cache or computed now and cached."""
    import tensorflow as tf

    from zoo._progress import progress_bar
    from zoo.data import flickr8k

    archive = flickr8k.image_archive_path()
    digest = hashlib.sha256()
    for weights in encoder.get_weights():
        digest.update(np.ascontiguousarray(weights).tobytes())
    digest.update(json.dumps([os.path.basename(archive), os.path.getsize(archive), image_size, "tf.io.decode_jpeg",
                              "bilinear-antialias"]).encode())
    folder = os.path.join(run_dir, "flickr8k-features")
    path = os.path.join(folder, f"grid{image_size}-{digest.hexdigest()[:16]}.npz")
    known, grids = [], None
    if os.path.exists(path):
        with np.load(path) as cache:
            known, grids = [str(n) for n in cache["names"]], cache["grids"]
    position = {name: i for i, name in enumerate(known)}
    missing = [n for n in dict.fromkeys(names) if n not in position]
    if missing:
        print(f"encoding {len(missing):,} images once (cache: {path})", flush=True)

        def decode(data):
            image = tf.cast(tf.io.decode_jpeg(data, channels=3), tf.float32)
            return tf.image.resize(image, (image_size, image_size), method="bilinear", antialias=True)

        forward = tf.function(lambda x: encoder(x, training=False))
        dataset = (tf.data.Dataset.from_tensor_slices(flickr8k.read_images(missing))
                   .map(decode, num_parallel_calls=tf.data.AUTOTUNE).batch(FEATURE_BATCH).prefetch(2))
        started, new = time.time(), []
        with progress_bar(total=len(missing), desc="encode", unit="image") as bar:
            for pixels in dataset:
                new.append(np.asarray(forward(pixels)).astype(np.float16))
                bar.update(int(pixels.shape[0]))
        seconds = time.time() - started
        print(f"encoded {len(missing):,} images in {seconds:.0f} s ({1000 * seconds / len(missing):.1f} ms per image)", flush=True)
        new = np.concatenate(new)
        grids = new if grids is None else np.concatenate([grids, new])
        known = known + missing
        position = {name: i for i, name in enumerate(known)}
        os.makedirs(folder, exist_ok=True)
        tmp = path + ".tmp.npz"
        np.savez(tmp, names=np.array(known), grids=grids)
        os.replace(tmp, path)
    return grids[[position[n] for n in names]]


def make_dataset(grids, rows, batch_size: int, *, shuffle: bool):
    """Batches of ((grid, input ids), target ids, weights); padding has weight 0."""
    import tensorflow as tf

    grids = tf.constant(grids)  # float16, one row per image; each caption row points at its image

    def generate():
        for image, inputs, targets in rows:
            yield image, np.array(inputs, np.int64), np.array(targets, np.int64)

    ds = tf.data.Dataset.from_generator(generate, output_signature=(
        tf.TensorSpec([], tf.int32), tf.TensorSpec([None], tf.int64), tf.TensorSpec([None], tf.int64),
    )).cache()
    if shuffle:
        ds = ds.shuffle(len(rows), seed=SEED, reshuffle_each_iteration=True)
    ds = ds.bucket_by_sequence_length(
        element_length_func=lambda image, x, y: tf.shape(x)[0],
        bucket_boundaries=list(BUCKETS),
        bucket_batch_sizes=[batch_size] * (len(BUCKETS) + 1),
        padding_values=(0, np.int64(0), np.int64(0)),
    )

    def to_model(image, x, y):
        return (tf.cast(tf.gather(grids, image), tf.float32), x), y, tf.cast(tf.not_equal(y, 0), tf.float32)

    return ds.map(to_model, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


# === Callbacks ===


def dev_bleu_callback(model, grids, references):
    """Adds ``val_bleu_4`` and ``val_cider`` (greedy captions of the dev images) to each epoch's logs."""
    import keras

    from zoo.models.captioner import generate_captions, score_captions

    class DevBleu(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            started = time.time()
            captions = []
            for start in range(0, len(grids), DEV_BATCH):
                captions += generate_captions(model, grids[start : start + DEV_BATCH].astype(np.float32), beam_width=1)
            scores = score_captions(captions, references)
            logs["val_bleu_4"], logs["val_cider"] = scores["bleu_4"], scores["cider"]
            print(f"\nepoch {epoch + 1}: dev BLEU-4 {scores['bleu_4']:.4f} CIDEr {scores['cider']:.4f} (greedy, "
                  f"{time.time() - started:.0f} s) e.g. {captions[0]!r}", flush=True)

    return DevBleu()


def time_box_minutes_callback(minutes: float):
    """Ends training (normally: the best epoch is then scored and saved) after the epoch that passes ``minutes``."""
    import keras

    class TimeBoxMinutes(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.started = time.time()

        def on_epoch_end(self, epoch, logs=None):
            if time.time() - self.started >= 60 * minutes:
                print(f"time box of {minutes:g} min reached after epoch {epoch + 1}", flush=True)
                self.model.stop_training = True

    return TimeBoxMinutes()


# === Training ===


def main(argv=None):
    args = parse_args(argv)
    import keras

    from zoo.data import flickr8k
    from zoo.models import captioner  # registers the captioners

    spec = get_spec(args.name)
    keras.utils.set_random_seed(SEED)
    command = "python recipes/train_captioner.py " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    run_dir = _training.prepare_run_dir(os.path.join(args.run_dir, args.name))
    build_args = dict(spec.builder_args)
    image_size = build_args.get("image_size", captioner.IMAGE_SIZE)

    # 1. Data.
    train = flickr8k.load("train", limit=args.limit_train)
    dev = flickr8k.load("validation", limit=args.limit_dev)
    print(f"train {len(train):,} images · dev {len(dev):,}", flush=True)

    # 2. Vocabulary from the training captions only.
    words = vocabulary_of(train.captions, min_count=MIN_COUNT, size=build_args["vocab_size"] - 4)
    print(f"vocabulary: {len(words):,} words (seen at least {MIN_COUNT} times) + 4 special ids", flush=True)

    # 3. Encoder features, once.
    started = time.time()
    encoder = captioner.build_encoder(image_size=image_size, weights=build_args.get("encoder_weights", "imagenet"))
    grids = cached_features(args.run_dir, encoder, image_size, train.images + dev.images)
    if build_args.get("decoder") == "show_and_tell":
        # This decoder only reads the average of the grid: a 1x1 "grid" holding that average gives the same
        # result (global average pooling of one cell is the cell) and moves 25 times less data per step.
        grids = grids.astype(np.float32).mean(axis=(1, 2), keepdims=True).astype(np.float16)
    train_grids, dev_grids = grids[: len(train)], grids[len(train) :]
    feature_seconds = time.time() - started
    del encoder

    # 4. The decoder, trained on the cached grids.
    strategy = _training.make_strategy(args.strategy)
    with strategy.scope():
        model = spec.builder_fn()(**build_args, vocabulary=words, name=spec.name)
        decoder = model.get_layer("decoder")
        decoder.compile(
            optimizer=keras.optimizers.Adam(args.learning_rate, clipnorm=5.0),
            loss="sparse_categorical_crossentropy",
            weighted_metrics=["accuracy"],
        )
    print(f"decoder: {decoder.count_params():,} parameters · shipped model: {model.count_params():,}", flush=True)
    train_rows = caption_rows(train.captions, words, max_words=captioner.MAX_WORDS)
    dev_rows = caption_rows(dev.captions, words, max_words=captioner.MAX_WORDS)
    train_ds = make_dataset(train_grids, train_rows, args.batch_size, shuffle=True)
    dev_ds = make_dataset(dev_grids, dev_rows, args.batch_size, shuffle=False)
    keep_best = _training.keep_best_callback(run_dir, monitor="val_bleu_4")
    callbacks = [
        keras.callbacks.BackupAndRestore(os.path.join(run_dir, "backup")),
        dev_bleu_callback(model, dev_grids, dev.captions),  # before the callbacks that read val_bleu_4
        keep_best,
        keras.callbacks.EarlyStopping(monitor="val_bleu_4", mode="max", patience=args.patience),
        keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1, min_lr=MIN_LEARNING_RATE, verbose=1),
        keras.callbacks.CSVLogger(os.path.join(run_dir, "history.csv"), append=True),
    ]
    if args.time_box:
        callbacks.append(time_box_minutes_callback(args.time_box))
    if args.stop_after_epochs:
        callbacks.append(_training.time_box_callback(args.stop_after_epochs))  # last: after the backup is written
    started = time.time()
    try:
        decoder.fit(train_ds, validation_data=dev_ds, epochs=args.epochs, steps_per_epoch=args.steps_per_epoch,
                    callbacks=callbacks, verbose=2)
    except _training.TimeBoxReached as stop:
        print(f"stopped after epoch {stop.args[0]} (--stop-after-epochs); run the same command again to resume.", flush=True)
        return None
    train_seconds = time.time() - started
    decoder.load_weights(keep_best.weights_path)

    # 5. The shipped model, scored once on the test split from the JPEGs.
    inference = spec.builder_fn()(**build_args, vocabulary=words, name=spec.name)
    inference.get_layer("decoder").set_weights(decoder.get_weights())
    metrics = spec.evaluator_fn()(inference, split="test", limit=args.eval_limit, beam_width=args.beam_width)
    print(f"test: {metrics}", flush=True)
    card = _checkpoint.write_checkpoint(
        spec, inference, metrics=metrics,
        validation={"bleu_4": round(keep_best.best["val_bleu_4"], 4), "n": len(dev), "decoding": "greedy"},
        recipe_command=command,
        training={
            "best_epoch": keep_best.best.get("epoch"), "epochs_max": args.epochs, "batch_size": args.batch_size,
            "learning_rate": args.learning_rate, "train_images": len(train), "train_captions": len(train_rows),
            "vocabulary": len(words), "min_count": MIN_COUNT, "test_beam_width": args.beam_width,
            "feature_seconds": round(feature_seconds), "train_seconds": round(train_seconds),
            "hardware": _training.hardware(), "strategy": args.strategy, "encoder": "frozen",
        },
        out_dir=args.out,
    )
    print(json.dumps({k: card[k] for k in ("name", "metrics", "size_bytes", "sha256")}), flush=True)
    return card


if __name__ == "__main__":
    main()
