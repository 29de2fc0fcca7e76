"""
Title: Training a word-level LSTM language model on IMDB reviews
Model: imdb-lm-lstm
Structure: many-to-many (each word in, the next word out)

This recipe pretrains the language model a ULMFiT-style IMDB classifier will later be fine-tuned
from. It trains in resumable stages: run the same command again and it continues where it stopped.

    python recipes/train_language_model.py --time-box 150     # one stage of at most 150 minutes

Steps, top to bottom:
1. Load the zoo's IMDB "train" split (22,500 reviews) and the 50,000 unlabelled reviews for
   training, and the 2,500 "validation" reviews for early stopping. The test reviews are never read
   here; their perplexity is computed afterwards by `zoo.models.language_model.model.evaluate`.
2. Tokenize exactly as the IMDB classifiers do (`StandardizeText`, then a whitespace split) and keep
   the 11,997 most frequent words of train + unlabelled text; with padding, `[UNK]` and the
   end-of-review token `<eos>` that makes 12,000 ids (5% of the running words are `[UNK]`).
3. Build the network: a 128-d embedding, one LSTM of 512 units, a projection back to 128 dimensions
   and the embedding matrix again as the output softmax (tied weights: 2.93 M parameters, an 11.3 MiB file).
4. Train on contiguous text: the reviews, shuffled at every pass and joined by `<eos>`, are cut
   into BATCH_SIZE parallel streams read SEQ_LEN tokens at a time, the LSTM state carried from one
   window to the next (truncated backpropagation through time). The training loss is a sampled
   softmax (NUM_SAMPLED words scored per step instead of 12,000, about twice as fast on CPU);
   validation perplexity always uses the full softmax. AdamW with a warm-up and a cosine decay.
   An "epoch" is a quarter of a pass over the data (about 960 steps), so stages are short:
   `keras.callbacks.BackupAndRestore` saves the model, optimizer and stream position after each
   one, and `--time-box` never starts an epoch that would end after the box.
5. Keep the weights of the epoch with the lowest validation perplexity, score them on the validation
   reviews and once on the test reviews (`zoo eval`'s scoring), and write `<out>/imdb-lm-lstm.keras`
   (raw strings in, next-word logits out) and its card (total training time over all stages on it).
   `--finish-now` does this step at once, from the best epoch so far (the run can still resume later).

Measured on 2 CPU cores (TensorFlow 2.21, batch 64 x 70 tokens): 0.55-0.9 s per step with the
sampled softmax (5,000-8,000 tokens/s, depending on what else runs), 1.5 s with the full softmax;
one pass over the 17.1 M training tokens takes 0.6-1 hour, the default 32 epochs (8 passes) 5-8 hours.

Every file of a run is in `--run-dir` (default `runs/imdb-lm-lstm/`): `backup/` (resume point),
`best.weights.h5` and `best.json`, `history.csv` (one row per epoch), `invocations.json` (the
seconds of each stage), `vocabulary.txt`. Delete the folder to start over. Keep the same options
for every stage (only `--time-box` may change): the learning-rate schedule and the stream layout
depend on them.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import json
import math
import os
import shlex
import sys
import time

import numpy as np

# Running the file directly from a checkout: make `zoo` importable without installing it.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from zoo._export import write_json  # noqa: E402  (atomic: a stage killed mid-write leaves the last good file)

NAME = "imdb-lm-lstm"
# Model (see zoo.models.language_model.model.build_language_model).
VOCAB_SIZE = 12000  # ids in all: padding, [UNK], <eos> and the 11,997 most frequent words
EMBEDDING_DIM = 128  # tied input embedding / output softmax width
UNITS = 512  # LSTM units
LAYERS = 1  # stacked LSTM layers
EMBEDDING_DROPOUT = 0.05  # whole input words dropped (17 M tokens for 3 M weights: little overfitting)
DROPOUT = 0.1  # locked dropout on the LSTM output
# Training defaults (override on the command line).
BATCH_SIZE = 64  # parallel text streams per step
SEQ_LEN = 70  # tokens per window (truncated backpropagation through time)
NUM_SAMPLED = 1024  # sampled-softmax negatives per step; 0 trains with the full softmax
LEARNING_RATE = 2e-3  # AdamW peak learning rate
WEIGHT_DECAY = 0.01  # AdamW decoupled weight decay (not on biases)
CLIP_NORM = 1.0  # global gradient-norm clipping
WARMUP_STEPS = 300  # linear warm-up, then a cosine decay to 10% over all epochs
EPOCHS = 32  # epochs of STEPS_PER_EPOCH steps: 8 passes over the data by default
PASS_FRACTION = 4  # default steps per epoch: a quarter of a pass over the training stream
PATIENCE = 4  # epochs without a lower validation perplexity before stopping
EVAL_BATCH_SIZE = 64  # streams when scoring perplexity (full softmax, state carried)
EVAL_SEQ_LEN = 100  # tokens per scoring window
LOG_EVERY = 100  # print a progress line every N steps
SEED = 42


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=EPOCHS, help="epochs in all, over every stage")
    parser.add_argument("--steps-per-epoch", type=int, default=None, help=f"steps per epoch (default: 1/{PASS_FRACTION} of a pass)")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="parallel text streams")
    parser.add_argument("--seq-len", type=int, default=SEQ_LEN, help="tokens per training window")
    parser.add_argument("--learning-rate", type=float, default=LEARNING_RATE)
    parser.add_argument("--num-sampled", type=int, default=NUM_SAMPLED, help="sampled-softmax negatives (0: full softmax)")
    parser.add_argument("--patience", type=int, default=PATIENCE)
    parser.add_argument("--vocab-size", type=int, default=VOCAB_SIZE)
    parser.add_argument("--embedding-dim", type=int, default=EMBEDDING_DIM)
    parser.add_argument("--units", type=int, default=UNITS)
    parser.add_argument("--layers", type=int, default=LAYERS)
    parser.add_argument("--limit-train", type=int, default=None, help="use only the first N train and N unlabelled reviews (smoke tests)")
    parser.add_argument("--eval-limit", type=int, default=None, help="score only the first N validation reviews (smoke tests)")
    parser.add_argument("--time-box", type=float, default=None, metavar="MINUTES",
                        help="stop before an epoch that would end later than MINUTES after the start; run again to resume")
    parser.add_argument("--finish-now", action="store_true",
                        help="train no further: write the .keras file of the best epoch so far (the run can still resume later)")
    parser.add_argument("--run-dir", default=os.path.join("runs", NAME), help="backup, best weights, history, stage times")
    parser.add_argument("--out", default=os.path.join("runs", NAME, "out"), help="where the .keras file and its figures go")
    return parser.parse_args(argv)


# === Data ===


def count_words(texts: list[str], batch_size: int = 2048) -> collections.Counter:
    """Word counts, tokenized exactly as the model does (its StandardizeText layer, then a whitespace split)."""
    import tensorflow as tf

    from zoo.layers.text import StandardizeText

    standardize = StandardizeText()
    counts = collections.Counter()
    for start in range(0, len(texts), batch_size):
        for line in standardize(tf.constant(texts[start : start + batch_size])).numpy():
            counts.update(line.decode("utf-8").split())
    return counts


def load_vocabulary(run_dir: str, texts: list[str], size: int) -> list[str]:
    """The most frequent words of ``texts``, computed once per run and kept in ``run_dir/vocabulary.txt``
    so that every stage of a run maps words to the same ids."""
    path = os.path.join(run_dir, "vocabulary.txt")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            return f.read().split("\n")
    vocabulary = [word for word, _ in count_words(texts).most_common(size)]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(vocabulary))
    return vocabulary


class TrainingStream:
    """Endless ``(ids, targets)`` windows of contiguous text, addressed by the global step.

    At each pass the reviews are shuffled (seed ``SEED + pass``) and joined as
    ``<eos> r1 <eos> r2 <eos> ...``; the stream is cut into ``batch_size`` rows, each read left to
    right ``seq_len`` tokens at a time, so window ``k + 1`` of a row continues window ``k`` and
    the LSTM state can carry over. Starting at ``start_step`` resumes exactly where a stage stopped.
    """

    def __init__(self, reviews, *, batch_size: int, seq_len: int):
        self.reviews, self.batch_size, self.seq_len = reviews, batch_size, seq_len
        self.tokens = sum(len(r) + 1 for r in reviews)  # targets: every word and each review's closing <eos>
        self.row_length = self.tokens // batch_size
        self.windows_per_pass = self.row_length // seq_len
        if self.windows_per_pass < 1:
            raise ValueError(f"{self.tokens:,} tokens are too few for {batch_size} streams of {seq_len} tokens.")
        self._pass, self._rows = None, None

    def rows(self, pass_index: int):
        from zoo.models.language_model.model import join_reviews

        if pass_index != self._pass:
            order = np.random.default_rng(SEED + pass_index).permutation(len(self.reviews))
            stream = join_reviews([self.reviews[i] for i in order])
            n = self.batch_size * self.row_length
            self._rows = (stream[:n].reshape(self.batch_size, -1), stream[1 : n + 1].reshape(self.batch_size, -1))
            self._pass = pass_index
        return self._rows

    def windows(self, start_step: int = 0):
        step = start_step
        while True:
            pass_index, k = divmod(step, self.windows_per_pass)
            ids, targets = self.rows(pass_index)
            window = slice(k * self.seq_len, (k + 1) * self.seq_len)
            yield ids[:, window], targets[:, window]
            step += 1

    def dataset(self, start_step: int = 0):
        import tensorflow as tf

        spec = tf.TensorSpec((self.batch_size, self.seq_len), tf.int32)
        return tf.data.Dataset.from_generator(lambda: self.windows(start_step), output_signature=(spec, spec)).prefetch(4)


# === Model: the network plus a training wrapper that carries the LSTM state ===


def make_trainer_class():
    import keras
    import tensorflow as tf

    from zoo.models.language_model.model import forward, network_parts

    class StreamTrainer(keras.Model):
        """Trains ``network`` on windows of contiguous streams, carrying the LSTM state between steps.

        The state lives in non-trainable variables (one ``(batch, units)`` pair per LSTM layer), so
        ``BackupAndRestore`` saves it with the weights. With ``num_sampled > 0`` the loss is
        ``tf.nn.sampled_softmax_loss`` against the tied embedding matrix; otherwise the full softmax.
        """

        def __init__(self, network, *, batch_size: int, num_sampled: int, **kwargs):
            super().__init__(**kwargs)
            self.network = network
            parts, layers = network_parts(network)
            # Sampling as many words as the vocabulary holds is no saving: use the full softmax then.
            self.num_sampled = int(num_sampled) if num_sampled < parts["embedding"].input_dim // 2 else 0
            self.carried = [
                self.add_weight(shape=(batch_size, parts[f"lstm_{i}"].units), initializer="zeros", trainable=False, name=f"{kind}_{i}")
                for i in range(1, layers + 1)
                for kind in ("h", "c")
            ]
            self.loss_tracker = keras.metrics.Mean(name="loss")
            self.built = True

        @property
        def metrics(self):
            return [self.loss_tracker]

        def call(self, ids, training=False):
            return self.network(ids, training=training)

        def train_step(self, data):
            ids, targets = data
            parts, layers = network_parts(self.network)
            embedding = parts["embedding"]
            with tf.GradientTape() as tape:
                hidden, states = forward(parts, ids, layers=layers, states=[v.value for v in self.carried], training=True)
                if self.num_sampled:
                    loss = tf.reduce_mean(
                        tf.nn.sampled_softmax_loss(
                            weights=embedding.embeddings,
                            biases=embedding.bias,
                            labels=tf.reshape(tf.cast(targets, tf.int64), (-1, 1)),
                            inputs=tf.reshape(hidden, (-1, hidden.shape[-1])),
                            num_sampled=self.num_sampled,
                            num_classes=embedding.input_dim,
                        )
                    )
                else:
                    logits = embedding(hidden, reverse=True)
                    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits))
            variables = self.network.trainable_variables
            self.optimizer.apply(tape.gradient(loss, variables), variables)
            for variable, state in zip(self.carried, states):
                variable.assign(state)
            self.loss_tracker.update_state(loss)
            return {"loss": self.loss_tracker.result()}

    return StreamTrainer


# === Callbacks: validation perplexity, keep-best, time box, stage times ===


class TimeBoxReached(Exception):
    """Raised after an epoch's backup is written, when the next epoch would end after the time box."""


def make_callbacks(*, network, val_stream, run_dir, args, started, steps_per_epoch, command):
    import keras

    from zoo.models.language_model.model import perplexity_of_stream

    class ValidationPerplexity(keras.callbacks.Callback):
        """Adds ``val_perplexity``, ``val_cross_entropy``, ``learning_rate`` and ``epoch_seconds`` to the logs (first in the list)."""

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch_started = time.time()

        def on_epoch_end(self, epoch, logs=None):
            result = perplexity_of_stream(network, val_stream, batch_size=EVAL_BATCH_SIZE, seq_len=EVAL_SEQ_LEN)
            logs["val_perplexity"] = result["perplexity"]
            logs["val_cross_entropy"] = result["cross_entropy"]
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)
            logs["epoch_seconds"] = time.time() - self.epoch_started
            print(f"epoch {epoch + 1}: validation perplexity {result['perplexity']:.2f} ({logs['epoch_seconds']:.0f} s)", flush=True)

    class StepLog(keras.callbacks.Callback):
        """One line every LOG_EVERY steps: where we are, the running training loss and the speed."""

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch, self.t0 = epoch, time.time()

        def on_train_batch_end(self, batch, logs=None):
            if (batch + 1) % LOG_EVERY == 0:
                seconds = time.time() - self.t0
                tokens = (batch + 1) * args.batch_size * args.seq_len
                print(f"epoch {self.epoch + 1} step {batch + 1}/{steps_per_epoch} loss {float(logs['loss']):.4f} "
                      f"{tokens / seconds:,.0f} tokens/s {seconds / (batch + 1):.2f} s/step", flush=True)

    class KeepBest(keras.callbacks.Callback):
        """Saves the network's weights at each new lowest ``val_perplexity``; remembers it across stages."""

        def __init__(self):
            super().__init__()
            self.state_path = os.path.join(run_dir, "best.json")
            self.weights_path = os.path.join(run_dir, "best.weights.h5")
            self.best = {"val_perplexity": math.inf}
            if os.path.exists(self.state_path):
                with open(self.state_path) as f:
                    self.best = json.load(f)

        def on_epoch_end(self, epoch, logs=None):
            if logs["val_perplexity"] < self.best["val_perplexity"]:
                network.save_weights(self.weights_path)
                self.best = {"val_perplexity": logs["val_perplexity"], "val_cross_entropy": logs["val_cross_entropy"], "epoch": epoch + 1}
                write_json(self.state_path, self.best)

    class EarlyStop(keras.callbacks.Callback):
        """Stops after ``patience`` epochs since the best one (counted from best.json, so across stages)."""

        def on_epoch_end(self, epoch, logs=None):
            if epoch + 1 - keep_best.best.get("epoch", epoch + 1) >= args.patience:
                print(f"no lower validation perplexity for {args.patience} epochs: stopping.", flush=True)
                self.model.stop_training = True

    class StageTimes(keras.callbacks.Callback):
        """Records this invocation (its epochs and seconds) in ``invocations.json`` after each epoch,
        and stops (TimeBoxReached) when the next epoch would not end inside ``--time-box``."""

        def __init__(self):
            super().__init__()
            self.path = os.path.join(run_dir, "invocations.json")
            self.stages = read_json(self.path, [])
            durations = [s["last_epoch_seconds"] for s in self.stages if s.get("last_epoch_seconds")]
            self.epoch_seconds = durations[-1] if durations else None
            self.entry = {"started": datetime.datetime.now().isoformat(timespec="seconds"), "command": command,
                          "first_epoch": None, "last_epoch": None, "train_seconds": 0.0, "wall_seconds": 0.0}

        def stop_if_next_epoch_overruns(self, epoch):
            if args.time_box is None or self.epoch_seconds is None or epoch >= self.params["epochs"]:
                return
            elapsed = time.time() - started
            if elapsed + 1.05 * self.epoch_seconds > 60 * args.time_box:
                raise TimeBoxReached(epoch)

        def on_train_begin(self, logs=None):
            self.stop_if_next_epoch_overruns(self.model._initial_epoch if hasattr(self.model, "_initial_epoch") else 0)

        def on_epoch_end(self, epoch, logs=None):
            self.epoch_seconds = logs["epoch_seconds"]
            self.entry["first_epoch"] = self.entry["first_epoch"] or epoch + 1
            self.entry.update(last_epoch=epoch + 1, last_epoch_seconds=round(self.epoch_seconds, 1),
                              train_seconds=round(self.entry["train_seconds"] + self.epoch_seconds, 1),
                              wall_seconds=round(time.time() - started, 1))
            write_json(self.path, self.stages + [self.entry])
            self.stop_if_next_epoch_overruns(epoch + 1)

    keep_best = KeepBest()
    return keep_best, [
        ValidationPerplexity(),  # first: the others read what it adds to the logs
        StepLog(),
        keras.callbacks.BackupAndRestore(os.path.join(run_dir, "backup"), delete_checkpoint=False),
        keep_best,
        keras.callbacks.CSVLogger(os.path.join(run_dir, "history.csv"), append=True),
        EarlyStop(),
        StageTimes(),  # last: after the backup of the epoch is written
    ]


def read_json(path, default):
    if not os.path.exists(path):
        return default
    with open(path) as f:
        return json.load(f)


def prepare_run_dir(run_dir: str) -> tuple[int, bool]:
    """Creates ``run_dir`` and says where training resumes: ``(epochs already done, finished)``.

    Without a backup to resume from, the files of an older run are removed so a fresh run starts clean.
    """
    os.makedirs(run_dir, exist_ok=True)
    backup = os.path.join(run_dir, "backup")
    if not os.path.exists(backup):
        for name in ("best.json", "best.weights.h5", "history.csv", "invocations.json", "vocabulary.txt", "finished.json"):
            if os.path.exists(os.path.join(run_dir, name)):
                os.remove(os.path.join(run_dir, name))
        return 0, False
    done = read_json(os.path.join(backup, "training_metadata.json"), {}).get("epoch", 0)
    return int(done), os.path.exists(os.path.join(run_dir, "finished.json"))


# === Training ===


def main(argv=None):
    args = parse_args(argv)
    started = time.time()
    import keras

    import zoo._progress  # noqa: F401  (imported now, not mid-run: every module a stage needs is loaded at its start)
    import zoo.layers.language_model  # noqa: F401  (registers TiedEmbedding, AddBoundaryTokens)
    from zoo.data import imdb
    from zoo.models.language_model.model import build_language_model, encode_reviews, evaluate, join_reviews

    keras.utils.set_random_seed(SEED)
    command = "python recipes/train_language_model.py " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    run_dir = args.run_dir
    epochs_done, finished = prepare_run_dir(run_dir)

    # 1. Data: train + unlabelled reviews for training, validation for early stopping; never the test split.
    train = imdb.load("train", limit=args.limit_train)
    unsup = imdb.load("unsup", limit=args.limit_train)
    validation = imdb.load("validation", limit=args.eval_limit)
    texts = train.texts + unsup.texts
    print(f"train {len(train):,} · unlabelled {len(unsup):,} · validation {len(validation):,} reviews", flush=True)

    # 2. Vocabulary from train + unlabelled text; the model's own layers turn reviews into ids.
    vocabulary = load_vocabulary(run_dir, texts, args.vocab_size - 3)
    model = build_language_model(
        vocabulary=vocabulary, vocab_size=args.vocab_size, embedding_dim=args.embedding_dim, units=args.units,
        layers=args.layers, embedding_dropout=EMBEDDING_DROPOUT, dropout=DROPOUT, name=NAME,
    )
    network = model.get_layer("language_model")
    reviews = encode_reviews(model, texts)
    val_stream = join_reviews(encode_reviews(model, validation.texts))
    stream = TrainingStream(reviews, batch_size=args.batch_size, seq_len=args.seq_len)
    steps_per_epoch = args.steps_per_epoch or max(1, stream.windows_per_pass // PASS_FRACTION)
    print(f"{stream.tokens:,} training tokens, {len(val_stream) - 1:,} validation tokens; {stream.windows_per_pass:,} steps "
          f"per pass, {steps_per_epoch:,} per epoch; {network.count_params():,} parameters; "
          + (f"resuming after epoch {epochs_done} (step {epochs_done * steps_per_epoch:,})" if epochs_done else "starting"), flush=True)

    # 3. The training wrapper: AdamW, warm-up then cosine decay over every epoch of every stage.
    total_steps = args.epochs * steps_per_epoch
    warmup = min(WARMUP_STEPS, total_steps // 10)
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=args.learning_rate / 10, decay_steps=max(1, total_steps - warmup), alpha=0.1,
        warmup_target=args.learning_rate, warmup_steps=warmup,
    )
    optimizer = keras.optimizers.AdamW(schedule, weight_decay=WEIGHT_DECAY, global_clipnorm=CLIP_NORM)
    optimizer.exclude_from_weight_decay(var_names=["bias"])
    trainer = make_trainer_class()(network, batch_size=args.batch_size, num_sampled=args.num_sampled, name="trainer")
    trainer.compile(optimizer=optimizer, jit_compile=False)

    keep_best, callbacks = make_callbacks(
        network=network, val_stream=val_stream, run_dir=run_dir, args=args, started=started,
        steps_per_epoch=steps_per_epoch, command=command,
    )
    if args.finish_now and not epochs_done:
        raise SystemExit(f"--finish-now: {run_dir} has no finished epoch to write.")
    if not finished and not args.finish_now:
        try:
            trainer.fit(
                stream.dataset(start_step=epochs_done * steps_per_epoch), epochs=args.epochs,
                steps_per_epoch=steps_per_epoch, callbacks=callbacks, shuffle=False, verbose=2,
            )
        except TimeBoxReached as stop:
            print(f"time box reached after epoch {stop.args[0]}; run the same command again to resume.", flush=True)
            return None
        write_json(os.path.join(run_dir, "finished.json"), {"at": datetime.datetime.now().isoformat(timespec="seconds")})

    # 4. The best epoch's weights, scored on the validation reviews, then once on the test reviews (the
    #    family's evaluator, as `zoo eval` scores them); the checkpoint and its card.
    from zoo import _checkpoint
    from zoo._registry import get_spec
    from zoo._training import hardware

    spec = get_spec(NAME)
    network.load_weights(keep_best.weights_path)
    validation_metrics = evaluate(model, split="validation", limit=args.eval_limit, progress=False)
    print(f"validation: {validation_metrics}", flush=True)
    metrics = spec.evaluator_fn()(model, split="test", limit=args.eval_limit)
    print(f"test: {json.dumps(metrics)}", flush=True)
    stages = read_json(os.path.join(run_dir, "invocations.json"), [])
    card = _checkpoint.write_checkpoint(
        spec, model, metrics=metrics, validation=validation_metrics, recipe_command=command,
        training={
            "vocab_size": args.vocab_size, "embedding_dim": args.embedding_dim, "units": args.units, "layers": args.layers,
            "embedding_dropout": EMBEDDING_DROPOUT, "dropout": DROPOUT, "batch_size": args.batch_size, "seq_len": args.seq_len,
            "num_sampled": trainer.num_sampled, "learning_rate": args.learning_rate, "weight_decay": WEIGHT_DECAY,
            "epochs": args.epochs, "steps_per_epoch": steps_per_epoch, "train_tokens": stream.tokens,
            "train_reviews": len(train), "unlabelled_reviews": len(unsup),
            "best_epoch": keep_best.best.get("epoch"), "epochs_max": args.epochs,
            "epochs_run": max((s["last_epoch"] or 0 for s in stages), default=0),
            "schedule_finished": finished or f"no: written with --finish-now after epoch {epochs_done} of {args.epochs}",
            "train_seconds": round(sum(s["train_seconds"] for s in stages)),
            "invocations": [{k: s[k] for k in ("command", "first_epoch", "last_epoch", "train_seconds")} for s in stages],
            "hardware": hardware(),
        },
        out_dir=args.out,
    )
    print(json.dumps({k: card[k] for k in ("name", "metrics", "size_bytes", "sha256")}), flush=True)
    return card


if __name__ == "__main__":
    main()
