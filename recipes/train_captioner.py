"""
Title: Training image captioners (Show and Tell; Show, Attend and Tell) on Flickr8k
Models: image-caption-lstm, image-caption-lstm-attention
Structure: one-to-many (one image in, a sequence of words out)

    python recipes/train_captioner.py image-caption-lstm --time-box 22 --patience 8
    python recipes/train_captioner.py image-caption-lstm-attention --time-box 24 --patience 8
    zoo train image-caption-lstm --epochs 20          # the same, through the CLI

The first run encodes the 7,000 train and dev images once (about 3-5 minutes on 2 CPU cores) and
caches the features; later runs, and the second model, start at once.

`--time-box MINUTES` starts no epoch that would end after MINUTES (the rule of every recipe). The
shipped cards were trained under an older rule of this recipe, which also ran the epoch that crossed
the box: their `--time-box 20` and `--time-box 22` match the boxes about one epoch (2 minutes) longer above.

Steps, top to bottom:
1. Load the official train and dev lists (6,000 and 1,000 images, 5 captions each). The test split
   is touched once, at the end.
2. Build the vocabulary: the words seen at least 10 times in the training captions, most frequent first.
3. Run the frozen ImageNet encoder (MobileNetV2, 160x160) once over every image with a tf.data
   pipeline (read JPEG, decode, resize, batch) and cache the 5x5x1280 feature grids in
   `<run-dir>/flickr8k-features/` (float16, keyed by a hash of the encoder weights, the image archive
   and the image size): the encoder is frozen, so every epoch can reuse them.
4. Train the decoder on the cached grids with teacher forcing: it reads "<start> w1 ... wn" and
   learns to predict "w1 ... wn <end>", with padding weighted out of the loss, in batches of
   captions of similar lengths. After each epoch the dev images are captioned greedily and scored
   (BLEU-4 with the COCO caption evaluation code); the best epoch is kept and training stops when
   the dev score has not improved for a few epochs (the learning rate halves after an epoch without
   a lower dev loss). An interrupted run resumes.
5. Assemble the shipped model (encoder + vocabulary + best decoder), caption the full test split
   from the JPEGs with the same `evaluate` as `zoo eval` (beam search, width 3), and write
   `<out>/<name>.keras` with its card (`--out`, default `checkpoints/`).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from zoo import _training  # noqa: E402

BATCH_SIZE = 128  # captions per step, per worker (on 2 CPU cores, 2.6x more captions per second than 64)
EPOCHS = 20  # upper bound; early stopping on dev BLEU-4 usually ends sooner
PATIENCE = 3  # epochs without a better dev BLEU-4 before stopping
MIN_LEARNING_RATE = 1e-4  # the learning rate halves after an epoch without a lower dev loss, down to this
LEARNING_RATE = 2e-3  # Adam, with gradient clipping
MIN_COUNT = 10  # a word enters the vocabulary when seen this often in the training captions
BUCKETS = (9, 11, 13, 15, 18)  # caption-length boundaries (in tokens, <start> included) for batching
FEATURE_BATCH = 64  # images per encoder batch when caching features
DEV_BATCH = 250  # images per decoding batch when scoring the dev split


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
    path = os.path.join(run_dir, "flickr8k-features", f"grid{image_size}-{digest.hexdigest()[:16]}.npz")
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
        _training.save_npz(path, names=np.array(known), grids=grids)
    return grids[[position[n] for n in names]]


def main(argv=None):
    parser = _training.recipe_parser(__doc__, epochs=EPOCHS, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE,
                                     patience=PATIENCE, name_help="registered model name, e.g. image-caption-lstm")
    parser.add_argument("--beam-width", type=int, default=3, help="beam width of the final test scoring")
    args = parser.parse_args(argv)
    run = _training.start_run("recipes/train_captioner.py", args, argv)  # the strategy, before any TF op
    import keras
    import tensorflow as tf

    from zoo.data import flickr8k
    from zoo.models import captioner

    build_args = run.spec.builder_args

    # 1. Data.
    train, dev = flickr8k.load("train", limit=args.limit_train), flickr8k.load("validation", limit=args.limit_dev)
    print(f"train {len(train):,} images · dev {len(dev):,}", flush=True)

    # 2. Vocabulary from the training captions only.
    words = _training.count_vocabulary((flickr8k.tokenize(c) for refs in train.captions for c in refs),
                                       size=build_args["vocab_size"] - 4, min_count=MIN_COUNT)
    print(f"vocabulary: {len(words):,} words (seen at least {MIN_COUNT} times) + 4 special ids", flush=True)

    # 3. Encoder features, once.
    started = time.time()
    image_size = build_args.get("image_size", captioner.IMAGE_SIZE)
    encoder = captioner.build_encoder(image_size=image_size, weights=build_args.get("encoder_weights", "imagenet"))
    grids = cached_features(run.cache_dir, encoder, image_size, train.images + dev.images)
    if build_args.get("decoder") == "show_and_tell":
        # This decoder only reads the average of the grid: a 1x1 "grid" holding that average gives the same
        # result (global average pooling of one cell is the cell) and moves 25 times less data per step.
        grids = grids.astype(np.float32).mean(axis=(1, 2), keepdims=True).astype(np.float16)
    train_grids, dev_grids = grids[: len(train)], grids[len(train) :]
    feature_seconds = time.time() - started

    # 4. The decoder, built under the distribution strategy and trained on the cached grids.
    with run.scope():
        model = run.build(vocabulary=words)
        decoder = model.get_layer("decoder")
        decoder.compile(optimizer=keras.optimizers.Adam(args.learning_rate, clipnorm=5.0),
                        loss="sparse_categorical_crossentropy", weighted_metrics=["accuracy"])

    def batches(grids, captions, *, shuffle: bool):  # ((grid, input ids), target ids, weights); padding weighs 0
        images, inputs, targets = zip(*caption_rows(captions, words, max_words=captioner.MAX_WORDS))
        table = tf.constant(grids)  # float16, one row per image; each caption row points at its image
        return run.batches(
            [np.array(images, np.int32), list(inputs), list(targets)], lengths=[len(x) for x in inputs],
            boundaries=BUCKETS, shuffle=shuffle,
            to_model=lambda image, x, y: ((tf.cast(tf.gather(table, image), tf.float32), x), y,
                                          tf.cast(tf.not_equal(y, 0), tf.float32)))

    def greedy_bleu_4(scoring_model):  # the headline metric on the dev images, after each epoch
        captions = []
        for start in range(0, len(dev_grids), DEV_BATCH):
            captions += captioner.generate_captions(scoring_model, dev_grids[start : start + DEV_BATCH].astype(np.float32))
        print(f"e.g. {captions[0]!r}", flush=True)
        return captioner.score_captions(captions, dev.captions)["bleu_4"]

    if not run.fit(decoder, batches(train_grids, train.captions, shuffle=True), batches(dev_grids, dev.captions, shuffle=False),
                   whole=model, dev_score=greedy_bleu_4, callbacks=[keras.callbacks.ReduceLROnPlateau(
                       monitor="val_loss", factor=0.5, patience=1, min_lr=MIN_LEARNING_RATE, verbose=1)]):
        return None  # --stop-after-epochs: the same command resumes

    # 5. The shipped model, scored once on the test split from the JPEGs; then the checkpoint and its card.
    return run.finish(validation={"n": len(dev), "decoding": "greedy"}, evaluate={"beam_width": args.beam_width},
                      training={"train_images": len(train), "train_captions": 5 * len(train), "vocabulary": len(words),
                                "min_count": MIN_COUNT, "test_beam_width": args.beam_width,
                                "feature_seconds": round(feature_seconds), "encoder": "frozen"})


if __name__ == "__main__":
    main()
