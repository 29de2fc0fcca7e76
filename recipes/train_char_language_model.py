"""
Title: A character-level LSTM language model on tiny Shakespeare
Models: shakespeare-char-lstm
Structure: many-to-many (each character in, the next character out)

This recipe trains the registered `shakespeare-char-lstm` model and writes the checkpoint the zoo ships:

    python recipes/train_char_language_model.py shakespeare-char-lstm --time-box 45   # run again to continue
    python recipes/train_char_language_model.py shakespeare-char-lstm --stateful --learning-rate 5e-4 \\
        --init-from runs/shakespeare-char-lstm/best.weights.h5 --run-dir runs/stateful --calibrate --out runs/stateful/out
    python recipes/train_char_language_model.py shakespeare-char-lstm --init-from runs/stateful/out/shakespeare-char-lstm.keras \\
        --epochs 0 --fit-cache --run-dir runs/cache   # the continuous cache fitted onto that network, nothing trained
    python recipes/train_char_language_model.py shakespeare-char-lstm --stateful --units 480 --dropout 0.3 \\
        --run-dir runs/c480   # another size: trained and validated only, until the registry has it
    python recipes/train_char_language_model.py shakespeare-char-lstm --limit-train 20000 --steps-per-epoch 2 \\
        --epochs 1 --eval-limit 500 --out /tmp/smoke --run-dir /tmp/smoke-runs   # a smoke run

The char-rnn of Karpathy's "The Unreasonable Effectiveness of Recurrent Neural Networks" on nanoGPT's
split of the same text, so the figure can be set beside nanoGPT's.

Steps, top to bottom:
1. Load the train and validation characters (`zoo.data.tinyshakespeare`: nanoGPT's first 90%, of which
   the last 5% is kept for validation). The test split (nanoGPT's last 10%) is touched once, at the end.
2. Turn them into ids with the model's own character layer (the alphabet is the registered one).
3. Train the network on windows of `SEQ_LEN + 1` characters (input: the first `SEQ_LEN`, target: the next
   character at every position). An epoch is one pass: a window every `SEQ_LEN` characters, each start
   moved by a random offset and the windows shuffled, so every epoch cuts the text differently.
   Adam with gradient clipping; the learning rate is halved when the validation figure stops improving.
   With `--stateful` the windows follow each other instead (truncated backpropagation through time): the
   text is cut into `--batch-size` streams, row r of every batch reads the next SEQ_LEN characters of
   stream r, and each LSTM carries its state from batch to batch (zeroed at each epoch, whose streams
   start at a random offset), so the network learns to read a long text as `zoo eval` reads it: as one
   stream, the state never reset. `--init-from` starts from an earlier run's weights (e.g. a stateless one).
4. After each epoch, read the whole validation split as one stream (the state carried along, as `zoo eval`
   reads the test split) and keep the epoch with the lowest cross-entropy per character.
5. With `--calibrate`, fit one softmax temperature on the validation split (the network is over-confident
   on text it has not read) and fold it into the output layer; with `--fit-cache`, then fit the continuous
   cache's theta and mix there (the cache mixes in what followed the states most like the current one among
   the last `cache_size` positions read). Score the best weights on the test split and write
   `<out>/shakespeare-char-lstm.keras` and its card. `--finish-now` does this step at once, from the best
   epoch so far; `--epochs 0` does it for the `--init-from` network as it is.
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
SEQ_LEN = 128  # characters per training window (backpropagation through this many steps)
EPOCHS = 40  # upper bound; early stopping or the time box ends sooner
PATIENCE = 4  # epochs without a better validation figure before stopping
LR_PATIENCE = 1  # epochs without a better validation figure before the learning rate is halved
LEARNING_RATE = 2e-3  # Adam


def windows(ids, *, seq_len: int, batch_size: int, shuffle: bool, seed: int):
    """``(inputs, targets)`` batches of ``seq_len`` ids; with ``shuffle``, start offsets move and the order changes.

    One window every ``seq_len`` ids, so a pass reads the text about once; the number of batches is known
    (`zoo._training.Run.fit` needs it) and incomplete batches are dropped.
    """
    import tensorflow as tf

    ids = np.asarray(ids, np.int32)
    last_start = len(ids) - seq_len - 1
    if last_start < 0:
        raise ValueError(f"the text has {len(ids)} characters; a window needs {seq_len + 1}.")
    starts = np.arange(0, last_start + 1, seq_len, dtype=np.int32)
    if len(starts) < batch_size:
        raise ValueError(f"the text gives {len(starts)} windows of {seq_len + 1} characters, fewer than a batch "
                         f"({batch_size}); lower --batch-size.")
    text = tf.constant(ids)
    dataset = tf.data.Dataset.from_tensor_slices(starts)
    if shuffle:
        dataset = dataset.shuffle(len(starts), seed=seed, reshuffle_each_iteration=True)
        dataset = dataset.map(lambda s: tf.minimum(s + tf.random.uniform([], 0, seq_len, tf.int32, seed=seed), last_start))
    offsets = tf.range(seq_len + 1)

    def gather(first):
        rows = tf.gather(text, first[:, None] + offsets[None, :])
        return rows[:, :-1], rows[:, 1:]

    return dataset.batch(batch_size, drop_remainder=True).map(gather, num_parallel_calls=tf.data.AUTOTUNE).prefetch(2)


def streams(ids, *, seq_len: int, batch_size: int, shuffle: bool, seed: int):
    """``(inputs, targets)`` batches that continue each other: row ``r`` of batch ``t + 1`` is the text right
    after row ``r`` of batch ``t`` (the text is cut into ``batch_size`` contiguous streams).

    With ``shuffle`` every pass starts the streams at a new random offset below ``seq_len`` (so windows
    are cut differently each epoch); the number of batches per pass is the same either way.
    """
    import tensorflow as tf

    ids = np.asarray(ids, np.int32)
    stream_len = len(ids) // batch_size
    steps = (stream_len - 1) // seq_len - (1 if shuffle else 0)  # room for an offset below seq_len
    if steps < 1:
        raise ValueError(f"the text has {len(ids)} characters: {batch_size} streams of them hold no window of "
                         f"{seq_len + 1} characters{' after a random offset' if shuffle else ''}; lower --batch-size.")
    text = tf.constant(ids[: batch_size * stream_len].reshape(batch_size, stream_len))
    offsets = tf.range(seq_len + 1)
    generator = tf.random.Generator.from_seed(seed)  # its state moves on, so each pass draws a new offset

    def one_pass(_):
        start = generator.uniform([], 0, seq_len, tf.int32) if shuffle else tf.constant(0)

        def window(t):
            rows = tf.gather(text, start + tf.cast(t, tf.int32) * seq_len + offsets, axis=1)
            return rows[:, :-1], rows[:, 1:]

        return tf.data.Dataset.range(steps).map(window)

    passes = tf.data.Dataset.range(1).flat_map(one_pass)
    return passes.apply(tf.data.experimental.assert_cardinality(steps)).prefetch(2)


def load_network_weights(network, path: str) -> None:
    """Puts the weights of ``path`` (a run's ``best.weights.h5``, or a ``.keras`` checkpoint's network) into
    ``network``, layer by layer (a layer the file lacks, such as a cache added since, keeps its own)."""
    if not path.endswith(".keras"):
        network.load_weights(path)
        return
    import keras

    import zoo.layers  # noqa: F401  (registers the zoo's layers)

    saved = keras.saving.load_model(path, compile=False, safe_mode=True).get_layer("network")
    for layer in saved.layers:
        if layer.weights:
            network.get_layer(layer.name).set_weights(layer.get_weights())


def earlier_stage(init_from: str | None) -> dict:
    """What the card says of the run ``--init-from`` came from: the weights file and that run's training seconds
    (for a checkpoint: its sha256 and every stage on its card)."""
    if not init_from:
        return {"init_from": None}
    if init_from.endswith(".keras"):
        import json

        from zoo._checkpoint import card_file
        from zoo._hub import sha256_of

        card = card_file(os.path.dirname(os.path.abspath(init_from)), os.path.basename(init_from)[: -len(".keras")])
        seconds = None
        if os.path.exists(card):
            with open(card) as f:
                training = json.load(f).get("training", {})
            seconds = training.get("train_seconds", 0) + (training.get("init_from_train_seconds") or 0)
        return {"init_from": init_from, "init_from_sha256": sha256_of(init_from), "init_from_train_seconds": seconds}
    times = _training.run_times(os.path.dirname(os.path.abspath(init_from)))
    seconds = _training.train_seconds(times) if times["epochs"] or times["invocations"] else None
    return {"init_from": init_from, "init_from_train_seconds": seconds}


def reset_states_callback():
    """A Keras callback that zeroes every stateful layer's state before each epoch and before validation."""
    import keras

    class ResetStates(keras.callbacks.Callback):
        def _reset(self):
            for layer in self.model.layers:
                if getattr(layer, "stateful", False):
                    layer.reset_states()

        def on_epoch_begin(self, epoch, logs=None):
            self._reset()

        def on_test_begin(self, logs=None):
            self._reset()

    return ResetStates()


def main(argv=None):
    parser = _training.recipe_parser(__doc__, epochs=EPOCHS, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE,
                                     patience=PATIENCE, name_help="registered model name: shakespeare-char-lstm")
    parser.add_argument("--seq-len", type=int, default=SEQ_LEN, help=f"characters per training window (default {SEQ_LEN})")
    parser.add_argument("--stateful", action="store_true",
                        help="carry the LSTM state from window to window along --batch-size streams of the text")
    parser.add_argument("--dropout", type=float, default=None,
                        help="dropout after the embedding and each LSTM while training (default: the registered one)")
    parser.add_argument("--calibrate", action="store_true",
                        help="before the test split is read, fit the softmax temperature on the validation split and "
                             "fold it into the output layer")
    parser.add_argument("--init-from", metavar="WEIGHTS", default=None,
                        help="start from an earlier run's network weights (its best.weights.h5), or from a checkpoint's "
                             "(a .keras file); with --epochs 0 that network is shipped as it is, after --fit-cache")
    parser.add_argument("--fit-cache", action="store_true",
                        help="before the test split is read, fit the continuous cache's theta and mix on the validation "
                             "split (after --calibrate)")
    parser.add_argument("--units", type=int, default=None,
                        help="LSTM units other than the registered ones: trains and validates only (register the size "
                             "to score the test split and write the checkpoint)")
    parser.add_argument("--layers", type=int, default=None, help="stacked LSTMs other than the registered number (as --units)")
    args = parser.parse_args(argv)
    if args.dropout is not None and not 0 <= args.dropout < 1:
        parser.error(f"--dropout must be in [0, 1), got {args.dropout}.")
    for option in ("units", "layers"):
        if getattr(args, option) is not None and getattr(args, option) < 1:
            parser.error(f"--{option} must be a positive whole number, got {getattr(args, option)}.")
    run = _training.start_run("recipes/train_char_language_model.py", args, argv)  # the strategy, before any TF op
    if args.init_from and not os.path.isfile(args.init_from):  # after parsing: a card's command parses anywhere
        parser.error(f"--init-from: no file {args.init_from!r} (expected a run's best.weights.h5 or a .keras checkpoint).")
    if args.epochs < 0:
        parser.error(f"--epochs must be >= 0, got {args.epochs}.")
    import keras

    from zoo.data import tinyshakespeare
    from zoo.models.char_language_model.evaluation import calibrate_temperature, character_ids, fit_cache, stream_nats
    from zoo.models.char_language_model.model import build_network

    # 1. Data: the characters of each split (limits keep the first N characters).
    train = tinyshakespeare.load("train", limit=args.limit_train)
    validation = tinyshakespeare.load("validation", limit=args.limit_dev)
    print(f"train {len(train):,} characters · validation {len(validation):,} characters", flush=True)

    # 2-3. The model; the network part (ids -> logits) is what trains.
    if args.stateful and run.multi_worker:
        raise ValueError("--stateful trains on one worker: each stream's state lives in that worker's LSTMs.")
    # A size other than the registered one trains and validates, but is never scored on test or shipped.
    resized = {k: v for k in ("units", "layers") if (v := getattr(args, k)) is not None and v != run.spec.builder_args[k]}
    with run.scope():
        whole = run.build(**resized, **({} if args.dropout is None else {"dropout": args.dropout}))
        network = whole.get_layer("network")
        if args.stateful:  # a twin of `network` (same layers) with a fixed batch and kept states
            sizes = {k: v for k, v in {**run.spec.builder_args, **resized}.items()
                     if k in ("embedding_dim", "units", "layers", "cache_size")}
            network = build_network(vocab_size=network.get_layer("embedding").input_dim, **sizes,
                                    dropout=network.get_layer("embedding_dropout").rate,
                                    stateful_batch=run.global_batch_size)
        if args.init_from:
            load_network_weights(network, args.init_from)
        network.compile(optimizer=keras.optimizers.Adam(args.learning_rate, clipnorm=1.0),
                        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    train_ids, validation_ids = character_ids(whole, train), character_ids(whole, validation)
    unknown = int((train_ids == 1).sum())
    if unknown:
        raise ValueError(f"{unknown} training characters are not in the model's alphabet.")

    # 4. Keep the epoch whose weights read the validation split best, as one stream.
    def dev_score(scoring_model):
        nats, count = stream_nats(scoring_model, validation_ids, desc="validation")
        return nats / count

    halve = keras.callbacks.ReduceLROnPlateau(monitor=run.monitor, mode=run.metric.mode, factor=0.5,
                                              patience=LR_PATIENCE, min_lr=1e-5)
    callbacks = [halve]
    if args.stateful:
        batches = streams(train_ids, seq_len=args.seq_len, batch_size=run.global_batch_size, shuffle=True, seed=run.seed)
        validation_batches = streams(validation_ids, seq_len=args.seq_len, batch_size=run.global_batch_size,
                                     shuffle=False, seed=run.seed)
        callbacks.append(reset_states_callback())
    else:
        batches = windows(train_ids, seq_len=args.seq_len, batch_size=run.global_batch_size, shuffle=True, seed=run.seed)
        validation_batches = windows(validation_ids, seq_len=args.seq_len, batch_size=min(run.global_batch_size, 16),
                                     shuffle=False, seed=run.seed)
    if not run.fit(network, batches, validation_batches, whole=whole, dev_score=dev_score, callbacks=callbacks):
        return None  # --stop-after-epochs: the same command resumes
    if resized:
        print(f"validation only: {resized} differ from the registered {run.spec.name}, so the test split is not read "
              f"and no checkpoint is written. The best epoch is {run.run_dir}/best.weights.h5; to ship it, register "
              "the size, then run the same command with --finish-now: it writes that epoch.", flush=True)
        return None

    # 5. The test split, once: the same scoring as `zoo eval`; then the checkpoint and its card.
    def prepare(model):  # fitted on the validation split, before the test split is read
        fitted = calibrate_temperature(model, validation_ids) if args.calibrate else {}
        return {**fitted, **(fit_cache(model, validation_ids) if args.fit_cache else {})}

    return run.finish(validation={"n": len(validation_ids) - 1}, prepare=prepare,
                      training={"train_characters": len(train_ids), "seq_len": args.seq_len,
                                "windows_per_epoch": int(batches.cardinality()) * run.global_batch_size,
                                "stateful": args.stateful, "dropout": network.get_layer("embedding_dropout").rate,
                                **earlier_stage(args.init_from)})


if __name__ == "__main__":
    main()
