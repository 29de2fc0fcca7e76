"""
Title: Training GRU encoder-decoders (with and without Bahdanau attention) for Spanish to English
Models: spa-eng-gru, spa-eng-gru-attention
Structure: sequence to sequence (many-to-many, unaligned)

    python recipes/train_translator.py spa-eng-gru-attention --epochs 12   # the shipped checkpoints' commands
    python recipes/train_translator.py spa-eng-gru --epochs 12
    python recipes/train_translator.py spa-eng-gru --report-only   # both BLEU-by-length reports, from the cards
    python recipes/train_translator.py spa-eng-gru --time-box 30   # start no epoch that would end after 30 min
    zoo train spa-eng-gru-attention --epochs 12          # the same, through the CLI

An epoch (1,770 steps of 64 pairs) takes 3 to 4.5 minutes on 2 CPU cores; both models still improved
on validation at epoch 12, so more epochs would likely help.

Steps, top to bottom:
1. Load the zoo's fixed split of the Tatoeba pairs (by a hash of the Spanish sentence; see
   `zoo.data.spa_eng`). The test split is touched once, at the end.
2. Tokenize with the model's own graph tokenizer and keep the most frequent training words: Spanish
   lower-cased, English cased; everything else is [UNK].
3. Train with teacher forcing: the decoder reads `[START] w1 ... wn` and must predict `w1 ... wn [END]`;
   the cross-entropy is masked so padding never counts. Batches hold pairs of similar length. After
   every epoch, greedy BLEU on a fixed validation slice decides which weights to keep (and when to
   stop); an interrupted run resumes from its last finished epoch (`BackupAndRestore`).
4. Score the best weights on the full test split with the same function as `zoo eval` (beam search),
   write `checkpoints/<name>.keras` with its card, and the BLEU-by-source-length table and plot under
   `docs/models/`.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shlex
import sys
import time
import warnings

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from zoo import _checkpoint, _training  # noqa: E402
from zoo._registry import get_spec  # noqa: E402
from zoo.models import translator  # noqa: E402  (registers the translation models)

BATCH_SIZE = 64  # sentence pairs per step
EPOCHS = 15  # upper bound; early stopping or --time-box usually ends sooner
PATIENCE = 3  # epochs without a better validation BLEU before stopping
LEARNING_RATE = 2e-3  # Adam; halved when the validation loss stops improving
BUCKETS = (4, 6, 8, 10, 12, 15, 20, 30)  # longest side of a pair (tokens), for batching
VAL_BLEU_PAIRS = 1000  # validation pairs translated (greedy) after every epoch to pick the best weights
SEED = 42
TRANSLATORS = ("spa-eng-gru", "spa-eng-gru-attention")  # compared side by side in the BLEU-by-length report


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", help="registered model name: spa-eng-gru or spa-eng-gru-attention")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--learning-rate", type=float, default=LEARNING_RATE)
    parser.add_argument("--patience", type=int, default=PATIENCE)
    parser.add_argument("--strategy", choices=("default", "mirrored", "multiworker"), default="default")
    parser.add_argument("--run-dir", default="runs", help="backups and logs")
    parser.add_argument("--out", default="checkpoints", help="where the checkpoint and its card are written")
    parser.add_argument("--docs-dir", default=os.path.join(ROOT, "docs", "models"),
                        help="where the BLEU-by-length table and plot are written")
    parser.add_argument("--limit-train", type=int, default=None, help="use only N training pairs (smoke tests)")
    parser.add_argument("--steps-per-epoch", type=int, default=None, help="cap steps per epoch (smoke tests, timing)")
    parser.add_argument("--val-bleu-pairs", type=int, default=VAL_BLEU_PAIRS)
    parser.add_argument("--eval-limit", type=int, default=None, help="score on the first N test pairs (smoke tests)")
    parser.add_argument("--beam-width", type=int, default=translator.DEFAULT_BEAM_WIDTH, help="beam width of the test score")
    parser.add_argument("--stop-after-epochs", type=int, default=None,
                        help="stop after N epochs of this invocation; run the same command again to resume")
    parser.add_argument("--time-box", type=float, default=None, metavar="MINUTES",
                        help="start no epoch that would end after MINUTES of training in this invocation; then "
                             "score the best weights and write the checkpoint (the same command with a larger "
                             "--time-box continues training; delete runs/<name>/ to start afresh)")
    parser.add_argument("--report-only", action="store_true",
                        help="train nothing: rewrite both models' BLEU-by-length tables and plots from the cards in --out")
    return parser.parse_args(argv)


# === Data ===


def vocabulary(token_lists, size: int) -> list[str]:
    """The ``size`` most frequent tokens, ties broken alphabetically (so the vocabulary is reproducible)."""
    counts = collections.Counter(token for tokens in token_lists for token in tokens)
    return [word for word, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:size]]


def to_ids(source_tokens, target_tokens, source_index, target_index):
    """Token lists to id lists: source ids, decoder input ``[START] w1..wn`` and labels ``w1..wn [END]``."""
    sources, inputs, labels = [], [], []
    unk, start, end = translator.UNK_ID, translator.START_ID, translator.END_ID
    for source, target in zip(source_tokens, target_tokens):
        sources.append([source_index.get(t, unk) for t in source[: translator.MAX_SOURCE_TOKENS]])
        words = [target_index.get(t, unk) for t in target[: translator.MAX_TARGET_TOKENS - 1]]
        inputs.append([start, *words])
        labels.append([*words, end])
    return sources, inputs, labels


def make_dataset(sources, inputs, labels, batch_size: int, *, shuffle: bool, repeat: bool = False):
    """Batches of ((source ids, decoder input ids), labels, weights), pairs of similar length together.

    Padding (id 0) gets weight 0, so it counts neither in the loss nor in the accuracy.
    """
    import tensorflow as tf

    def padded(rows):  # (n, longest) zero-padded, and each row's length
        lengths = np.array([len(r) for r in rows], np.int32)
        out = np.zeros((len(rows), max(int(lengths.max()), 1)), np.int32)
        for i, row in enumerate(rows):
            out[i, : len(row)] = row
        return out, lengths

    (s, s_len), (t, t_len), (y, _) = padded(sources), padded(inputs), padded(labels)
    ds = tf.data.Dataset.from_tensor_slices((s, s_len, t, y, t_len))
    ds = ds.map(lambda s, s_len, t, y, t_len: (s[:s_len], t[:t_len], y[:t_len]))
    if shuffle:
        ds = ds.shuffle(len(sources), seed=SEED, reshuffle_each_iteration=True)
    ds = ds.bucket_by_sequence_length(
        element_length_func=lambda s, t, y: tf.maximum(tf.shape(s)[0], tf.shape(t)[0]),
        bucket_boundaries=list(BUCKETS),
        bucket_batch_sizes=[batch_size] * (len(BUCKETS) + 1),
        padding_values=(0, 0, 0),
    )
    ds = ds.map(lambda s, t, y: ((s, t), y, tf.cast(tf.not_equal(y, 0), tf.float32)))
    if repeat:
        ds = ds.repeat()
    return ds.prefetch(tf.data.AUTOTUNE)


# === Callbacks ===


def validation_bleu_callback(model, pairs):
    """Adds ``val_bleu`` (greedy decoding of a fixed validation slice) to the epoch's logs."""
    import keras

    class ValidationBleu(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            started = time.time()
            hypotheses = translator.translate(model, pairs.source, beam_width=1, batch_size=128)
            logs["val_bleu"] = translator.bleu_scores(pairs.source, hypotheses, pairs.target)["bleu"]
            print(f"epoch {epoch + 1}: val_bleu {logs['val_bleu']:.2f} (greedy, {len(pairs)} pairs, "
                  f"{time.time() - started:.0f}s); e.g. {pairs.source[0]!r} -> {hypotheses[0]!r}", flush=True)

    return ValidationBleu()


def time_budget_callback(minutes: float):
    """Stops before an epoch that would end after ``minutes`` (judged by the slowest epoch so far)."""
    import keras

    class TimeBudget(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.started = time.time()
            self.epoch_started = self.started
            self.longest = 0.0

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch_started = time.time()

        def on_epoch_end(self, epoch, logs=None):
            now = time.time()
            self.longest = max(self.longest, now - self.epoch_started)
            if now - self.started + self.longest > minutes * 60:
                print(f"--time-box {minutes:g} min: no time for another epoch after epoch {epoch + 1}.", flush=True)
                self.model.stop_training = True

    return TimeBudget()


# === Training ===


def main(argv=None):
    args = parse_args(argv)
    import keras

    spec = get_spec(args.name)
    if spec.builder != "zoo.models.translator:build_translator":
        raise SystemExit(f"{args.name} is not a translation model; its recipe is {spec.recipe}.")
    if args.report_only:
        for name in TRANSLATORS:
            write_length_report(name, args.out, args.docs_dir)
        return None
    keras.utils.set_random_seed(SEED)
    command = "python recipes/train_translator.py " + " ".join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    run_dir = _training.prepare_run_dir(os.path.join(args.run_dir, args.name))
    # Validation batches come from a bucketed dataset of unknown length; Keras warns when it ends.
    warnings.filterwarnings("ignore", message="Your input ran out of data")
    build_args = dict(spec.builder_args)

    # 1. Data.
    from zoo.data import spa_eng

    train = spa_eng.load("train")
    if args.limit_train:
        train = train.take(range(0, len(train), max(1, len(train) // args.limit_train))[: args.limit_train])
    validation = spa_eng.load("validation")
    val_slice = spa_eng.load("validation", limit=args.val_bleu_pairs)
    print(f"train {len(train):,} pairs · validation {len(validation):,} (BLEU on {len(val_slice):,})", flush=True)

    # 2. Tokens and vocabularies, from the training pairs only.
    started = time.time()
    train_source = translator.tokenize_batch(train.source)
    train_target = translator.tokenize_batch(train.target, target=True)
    source_words = vocabulary(train_source, build_args["source_vocab_size"] - translator.SOURCE_SPECIALS)
    target_words = vocabulary(train_target, build_args["target_vocab_size"] - translator.TARGET_SPECIALS)
    print(f"vocabulary: {len(source_words):,} Spanish words, {len(target_words):,} English words "
          f"({time.time() - started:.0f}s)", flush=True)

    # 3. Model and training: the nested `network` (ids in) is what gets fitted.
    strategy = _training.make_strategy(args.strategy)
    print(f"strategy: {type(strategy).__name__} with {strategy.num_replicas_in_sync} replica(s)", flush=True)
    with strategy.scope():
        model = spec.builder_fn()(**build_args, source_vocabulary=source_words, target_vocabulary=target_words,
                                  name=spec.name)
        network = model.get_layer("network")
        network.compile(
            optimizer=keras.optimizers.Adam(args.learning_rate, clipnorm=5.0),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),  # fused softmax + cross-entropy
            weighted_metrics=["accuracy"],
            jit_compile=False,  # batch shapes vary with the length buckets: XLA would recompile for each
        )
    print(f"parameters: {model.count_params():,}", flush=True)
    source_index = {w: i for i, w in enumerate(model.get_layer("source_vocab").get_vocabulary())}
    target_index = {w: i for i, w in enumerate(model.get_layer("target_vocab").get_vocabulary())}
    train_ds = make_dataset(*to_ids(train_source, train_target, source_index, target_index), args.batch_size,
                            shuffle=True, repeat=args.steps_per_epoch is not None)
    val_ds = make_dataset(*to_ids(translator.tokenize_batch(validation.source),
                                  translator.tokenize_batch(validation.target, target=True), source_index, target_index),
                          args.batch_size, shuffle=False)

    keep_best = _training.keep_best_callback(run_dir, monitor="val_bleu")
    callbacks = [
        # Kept after training too: the same command with a larger --time-box or --epochs continues from there.
        keras.callbacks.BackupAndRestore(os.path.join(run_dir, "backup"), delete_checkpoint=False),
        validation_bleu_callback(model, val_slice),  # before the callbacks that read val_bleu
        keep_best,
        keras.callbacks.EarlyStopping(monitor="val_bleu", mode="max", patience=args.patience),
        keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1, min_lr=1e-4, verbose=1),
        keras.callbacks.CSVLogger(os.path.join(run_dir, "history.csv"), append=True),
    ]
    if args.time_box:
        callbacks.append(time_budget_callback(args.time_box))
    if args.stop_after_epochs:
        callbacks.append(_training.time_box_callback(args.stop_after_epochs))  # last: after the backup is written
    started = time.time()
    try:
        network.fit(train_ds, validation_data=val_ds, epochs=args.epochs, steps_per_epoch=args.steps_per_epoch,
                    callbacks=callbacks, verbose=2)
    except _training.TimeBoxReached as stop:
        print(f"stopped after epoch {stop.args[0]} (--stop-after-epochs); run the same command again to resume.", flush=True)
        return None
    train_seconds = time.time() - started
    network.load_weights(keep_best.weights_path)

    # 4. The test split, once: the same scoring as `zoo eval`.
    inference = spec.builder_fn()(**build_args, source_vocabulary=source_words, target_vocabulary=target_words,
                                  name=spec.name)
    inference.set_weights(model.get_weights())
    metrics = spec.evaluator_fn()(inference, split="test", limit=args.eval_limit, beam_width=args.beam_width)
    print(f"test: {json.dumps(metrics)}", flush=True)
    card = _checkpoint.write_checkpoint(
        spec, inference, metrics=metrics,
        validation={"bleu": round(keep_best.best["val_bleu"], 2), "n": len(val_slice), "decoding": "greedy"},
        recipe_command=command,
        training={
            "best_epoch": keep_best.best.get("epoch"), "epochs_max": args.epochs, "batch_size": args.batch_size,
            "learning_rate": args.learning_rate, "steps_per_epoch": args.steps_per_epoch, "time_box_minutes": args.time_box,
            "train_pairs": len(train), "source_vocabulary": len(source_words), "target_vocabulary": len(target_words),
            "train_seconds": round(train_seconds), "hardware": _training.hardware(), "strategy": args.strategy,
        },
        out_dir=args.out,
    )
    write_length_report(args.name, args.out, args.docs_dir)
    print(json.dumps({k: card[k] for k in ("name", "metrics", "size_bytes", "sha256")}), flush=True)
    return card


def write_length_report(name: str, checkpoint_dir: str, docs_dir: str) -> None:
    """``<docs>/<name>-bleu-by-length.{md,png}``: this model beside the other translation models with a card."""
    results = {}
    for other in TRANSLATORS:
        path = os.path.join(checkpoint_dir, f"{other}.json")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                metrics = json.load(f)["metrics"]
            if "bleu_by_length" in metrics:
                results[other] = metrics
    if name not in results:
        return
    os.makedirs(docs_dir, exist_ok=True)
    table = translator.bleu_by_length_table(results)
    with open(os.path.join(docs_dir, f"{name}-bleu-by-length.md"), "w", encoding="utf-8") as f:
        f.write(f"# {name}: BLEU by source length\n\nsacrebleu corpus BLEU on the test split, by number of Spanish "
                f"words (beam width {results[name].get('beam_width')}); `{results[name].get('signature')}`.\n\n"
                f"{table}\n\n![BLEU by source length]({name}-bleu-by-length.png)\n")
    translator.plot_bleu_by_length(results, os.path.join(docs_dir, f"{name}-bleu-by-length.png"))
    print(table, flush=True)


if __name__ == "__main__":
    main()
