"""
Title: A sentiment classifier fine-tuned from a recurrent language model (ULMFiT)
Model: imdb-lstm-lm-ft
Structure: many-to-one (a review in, its sentiment out)

The classifier's embedding and LSTM start from a word-level LSTM language model trained on the IMDB
reviews (`imdb-lm-lstm`, recipes/train_language_model.py); only the small head starts from scratch.
Three steps, so that the middle one reads only prepared arrays and weights, not the dataset files (it is
written with Keras calls alone, for another backend on another machine; the tests run it on TensorFlow):

    python recipes/train_lm_classifier.py prepare --work runs/lm-classifier --init-from imdb-lm-lstm
    python recipes/train_lm_classifier.py train --work runs/lm-classifier            # about an hour on 2 CPU cores
    python recipes/train_lm_classifier.py package --work runs/lm-classifier --out checkpoints

    # the learning curve: fewer labelled reviews, with and without the language model
    python recipes/train_lm_classifier.py train --work runs/lm-classifier --run n1000 --labelled 1000
    python recipes/train_lm_classifier.py train --work runs/lm-classifier --run n1000-scratch --labelled 1000 --no-init
    python recipes/train_lm_classifier.py curve --work runs/lm-classifier     # table, plot, and the card's learning curve

1. `prepare` loads the language model (`--init-from`: a registered name or a `.keras` file), turns the IMDB
   train and validation reviews into token ids with the language model's own preprocessing, and writes
   `<work>/data.npz` and `<work>/init/` (the language model's weights, vocabulary and sizes). The test
   reviews are never read here.
2. `train` builds the classifier network (the `classifier` part of the registered model: embedding, LSTM,
   max- and mean-pooling over time, a sigmoid), copies the language model's embedding and LSTM into it, and
   fine-tunes it with gradual unfreezing: one epoch training the head alone, one with the LSTM too, then
   everything, keeping the epoch with the best validation accuracy. Each review is read after the language
   model's `<eos>`, as the language model read every review; reviews longer than LENGTH tokens keep
   their first HEAD and last LENGTH - HEAD tokens (both what the model's `HeadTailCrop` does); batches hold reviews of
   similar length. It writes `<work>/<run>/best.weights.h5` and `history.json`. A run that was interrupted
   (killed, or stopped by `--minutes`) resumes after its last finished epoch when the same command runs again.
3. `package` builds the registered model (raw text in), loads the weights, checks that it scores the
   validation split as training measured it, scores the test split once and writes the checkpoint and card.
"""

from __future__ import annotations

import argparse
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

RECIPE = "recipes/train_lm_classifier.py"
NAME = "imdb-lstm-lm-ft"
SEED = 42
LENGTH, HEAD = 800, 200  # tokens read: the whole review, or its first HEAD and last LENGTH - HEAD
DROPOUT = 0.1  # on the embeddings (spatial) and on the pooled vector: the LSTM learnt from nearly undropped embeddings
BATCH_SIZE = 64
EPOCHS = 6  # head alone, + LSTM, then up to four of everything (PATIENCE may stop it earlier)
PATIENCE = 2  # epochs without a better validation accuracy (counted from the best) before stopping
LEARNING_RATE = 1e-3  # Adam; the head-only epoch uses twice this, the last stage half, each with a cosine decay
MIN_EXAMPLES_PER_EPOCH = 2000  # a small labelled set is repeated so that an epoch sees at least this many
PAD_MULTIPLE = 64  # batches are padded to a multiple of this many tokens (few shapes to compile)
LOG_EVERY = 50


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    prepare = sub.add_parser("prepare", help="token ids and the language model's weights (TensorFlow, the data)")
    prepare.add_argument("--work", required=True, help="the folder every step reads and writes")
    prepare.add_argument("--init-from", default="imdb-lm-lstm", help="a registered language model or a .keras file")
    prepare.add_argument("--data", default=None, help="your own labelled texts: a CSV file with 'text' and 'label' columns "
                         "(default: the IMDB reviews)")
    prepare.add_argument("--limit", type=int, default=None, help="N reviews of each split, half of each label (smoke tests)")
    train = sub.add_parser("train", help="fine-tune the classifier network (from the prepared arrays)")
    train.add_argument("--work", required=True)
    train.add_argument("--run", default="best", help="subfolder of --work for this run's weights and history")
    train.add_argument("--labelled", type=int, default=None, help="train on N labelled reviews only (a seeded sample, half of each label)")
    train.add_argument("--no-init", action="store_true", help="random initialisation instead of the language model")
    train.add_argument("--epochs", type=int, default=EPOCHS)
    train.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    train.add_argument("--learning-rate", type=float, default=LEARNING_RATE)
    train.add_argument("--dropout", type=float, default=DROPOUT)
    train.add_argument("--rate-decay", type=float, default=1.0,
                       help="discriminative fine-tuning (ULMFiT: 2.6): the LSTM learns at the rate divided by this, the "
                            "embedding at the rate divided by its square (default 1: one rate for all)")
    train.add_argument("--adversarial", type=float, default=0.0, metavar="EPSILON",
                       help="adversarial training (Miyato et al. 2017): each batch is also learnt with its word embeddings "
                            "moved along the loss's gradient by EPSILON times their norm (e.g. 0.02; default 0: off; "
                            "TensorFlow only; a step costs about twice as much)")
    train.add_argument("--init-classifier", default=None, metavar="CHECKPOINT",
                       help="start from a trained classifier's weights (a registered name such as imdb-lstm-lm-ft, or its "
                            ".keras file) instead of the language model, and train everything for --epochs at --learning-rate")
    train.add_argument("--pad-multiple", type=int, default=PAD_MULTIPLE)
    train.add_argument("--steps-per-epoch", type=int, default=None, help="cap the steps of an epoch (smoke tests)")
    train.add_argument("--minutes", type=float, default=None, help="stop after the first epoch that ends past this wall time")
    package = sub.add_parser("package", help="the registered model with the trained weights, its test score and card")
    package.add_argument("--work", required=True)
    package.add_argument("--run", default="best")
    package.add_argument("--out", default="checkpoints")
    package.add_argument("--eval-limit", type=int, default=None, help="score only the first N test reviews (smoke tests)")
    package.add_argument("--name", default="my-classifier", help="with your own --data: the file name to write")
    curve = sub.add_parser("curve", help="the learning curve of every run under --work: a table, a plot, and on the card")
    curve.add_argument("--work", required=True)
    curve.add_argument("--docs-dir", default=os.path.join("docs", "models"))
    curve.add_argument("--cards-dir", default=os.path.join("zoo", "cards"))
    return parser.parse_args(argv)


def read_json(path):
    with open(path) as f:
        return json.load(f)


# === prepare ===


def prepare(args):
    import keras

    import zoo
    from zoo.data import imdb
    from zoo.models.language_model.model import encode_reviews, network_parts

    # The labelled texts first: a malformed file fails before anything is loaded or written.
    if args.data:
        label_names, splits = read_labelled_file(args.data, limit=args.limit)
    else:
        label_names = ["negative", "positive"]
        splits = {split: (reviews.texts, np.asarray(reviews.labels)) for split in ("train", "validation")
                  for reviews in [imdb.load(split)]}
        if args.limit:  # a smoke run: a seeded sample of each split, half of each label (the splits are ordered by label)
            splits = {split: labelled_sample(texts, labels, args.limit) for split, (texts, labels) in splits.items()}

    if args.init_from.endswith(".keras"):
        import zoo.layers.language_model  # noqa: F401  (registers the language model's layers)

        language_model = keras.saving.load_model(args.init_from, compile=False)
    else:
        language_model = zoo.load(args.init_from)
    if not any(layer.name == "language_model" for layer in language_model.layers):
        raise SystemExit(f"{args.init_from} is not a word-level language model (no 'language_model' part).")
    network = language_model.get_layer("language_model")
    parts, layers = network_parts(network)
    if layers != 1:
        raise SystemExit(f"the classifier takes one LSTM layer; {args.init_from} has {layers}.")
    vocabulary = language_model.get_layer("vectorize").get_vocabulary()  # "", "[UNK]", "<eos>", words...
    if len(vocabulary) != parts["embedding"].input_dim:
        raise SystemExit(f"{args.init_from}: {len(vocabulary)} words for {parts['embedding'].input_dim} embedding rows; "
                         "the classifier's embedding is sized to its vocabulary.")
    init = os.path.join(args.work, "init")
    os.makedirs(init, exist_ok=True)
    network.save_weights(os.path.join(init, "language_model.weights.h5"))
    with open(os.path.join(init, "vocabulary.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(vocabulary[2:]))
    sizes = {"vocab_size": len(vocabulary), "embedding_dim": parts["embedding"].output_dim, "units": parts["lstm_1"].units,
             "embedding_dropout": float(parts["embedding_dropout"].rate), "dropout": float(parts["dropout_1"].rate), "layers": 1}
    write_json(os.path.join(init, "config.json"), {"init_from": args.init_from, "data": args.data or "imdb",
                                                   "labels": label_names, **sizes, "command": command_line(args)})

    arrays = {}
    for split, (texts, labels) in splits.items():
        encoded = encode_reviews(language_model, texts)
        arrays[f"{split}_tokens"] = np.concatenate(encoded).astype(np.int32)
        arrays[f"{split}_lengths"] = np.array([len(r) for r in encoded], np.int32)
        arrays[f"{split}_labels"] = np.asarray(labels, np.int8)
    np.savez_compressed(os.path.join(args.work, "data.npz"), **arrays)
    lengths = arrays["train_lengths"]
    print(f"{len(lengths):,} train and {len(arrays['validation_lengths']):,} validation reviews; length median "
          f"{np.median(lengths):.0f}, 99th percentile {np.percentile(lengths, 99):.0f}, longest {lengths.max()}; "
          f"{np.mean(lengths > LENGTH):.1%} longer than {LENGTH} tokens; language model: {sizes}", flush=True)


def read_labelled_file(path, *, limit=None):
    """Your own labelled texts: a CSV file with a header row naming a ``text`` and a ``label`` column, two
    distinct labels (in sorted order, the first is 0, the second 1: the class the model's probability is of).
    A tenth of the rows, drawn with a fixed seed, is kept for validation. Returns the label names and
    ``{"train": (texts, labels), "validation": (texts, labels)}``."""
    import csv

    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = {"text", "label"} - set(reader.fieldnames or ())
        if missing:
            raise SystemExit(f"{path}: expected a header row with 'text' and 'label' columns, got {reader.fieldnames}.")
        rows = [(r["text"], r["label"].strip()) for r in reader]
    names = sorted({label for _, label in rows})
    if len(names) != 2:
        raise SystemExit(f"{path}: expected two distinct labels, got {len(names)}: {names[:10]}.")
    if len(rows) < 20:
        raise SystemExit(f"{path}: {len(rows)} rows are too few to keep a tenth for validation; give at least 20.")
    order = np.random.default_rng(SEED).permutation(len(rows))
    cut = max(2, len(rows) // 10)
    split = {"validation": order[:cut], "train": order[cut:][:limit]}
    return names, {name: ([rows[i][0] for i in index], np.array([names.index(rows[i][1]) for i in index]))
                   for name, index in split.items()}


# === train (Keras calls only; reads the prepared arrays) ===


def load_split(work, split):
    data = np.load(os.path.join(work, "data.npz"))
    reviews = np.split(data[f"{split}_tokens"], np.cumsum(data[f"{split}_lengths"])[:-1])
    return reviews, data[f"{split}_labels"].astype(np.float32)


def crop(review, length=LENGTH, head=HEAD, start_id=None):
    """What the model's HeadTailCrop keeps: the whole review, or its first ``head`` and last ``length - head`` tokens
    (with ``start_id`` in front first)."""
    if start_id is not None:
        review = np.concatenate([np.asarray([start_id], dtype=np.asarray(review).dtype), review])
    return review if len(review) <= length else np.concatenate([review[:head], review[len(review) - (length - head):]])


def padded_batches(reviews, labels, *, batch_size, pad_multiple, rng=None):
    """``[(ids, labels)]``: reviews of similar length together, 0-padded to a multiple of ``pad_multiple``;
    with ``rng``, the batches come in a random order."""
    order = np.argsort([len(r) for r in reviews], kind="stable")
    if rng is not None:  # shuffle within runs of equal length, so batches differ from epoch to epoch
        order = order[np.lexsort((rng.random(len(order)), [len(reviews[i]) for i in order]))]
    chunks = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    if rng is not None:
        rng.shuffle(chunks)
    out = []
    for chunk in chunks:
        width = pad_multiple * math.ceil(max(1, max(len(reviews[i]) for i in chunk)) / pad_multiple)
        ids = np.zeros((len(chunk), width), np.int32)
        for row, i in enumerate(chunk):
            ids[row, : len(reviews[i])] = reviews[i]
        out.append((ids, labels[chunk][:, None]))
    return out


def labelled_sample(reviews, labels, n):
    """``n`` of the reviews, drawn with a fixed seed, half of each label (the splits are ordered by label)."""
    order = np.random.default_rng(SEED).permutation(len(reviews))
    by_label = [order[labels[order] == value] for value in (0, 1)]
    for value, wanted in ((0, n // 2), (1, n - n // 2)):
        if len(by_label[value]) < wanted:
            raise SystemExit(f"{n} labelled examples, half of each label, need {wanted} labelled {value}; there are "
                             f"{len(by_label[value])}.")
    picked = np.sort(np.concatenate([by_label[0][: n // 2], by_label[1][: n - n // 2]]))
    return [reviews[i] for i in picked], np.asarray(labels)[picked]


def layerwise_adam(learning_rate, *, rates: dict, **kwargs):
    """Adam in which each variable learns at ``learning_rate`` times ``rates[variable.path]`` (ULMFiT's
    discriminative fine-tuning; Adam ignores a gradient's scale, so the rate itself has to differ).

    Example:
        >>> optimizer = layerwise_adam(1e-3, rates={"lstm/lstm_cell/kernel": 1 / 2.6})  # others: 1
    """
    import keras

    class LayerwiseAdam(keras.optimizers.Adam):
        def build(self, var_list):
            super().build(var_list)
            self._rate_multipliers = [float(rates.get(variable.path, 1.0)) for variable in var_list]

        def update_step(self, gradient, variable, learning_rate):
            multiplier = self._rate_multipliers[self._get_variable_index(variable)]
            super().update_step(gradient, variable, learning_rate if multiplier == 1.0 else learning_rate * multiplier)

    return LayerwiseAdam(learning_rate, **kwargs)


def train(args):
    import keras

    from zoo.models.language_model.model import EOS_ID, build_network
    from zoo.models.text_classifier.model import build_sequence_classifier

    if not args.rate_decay >= 1.0:
        raise SystemExit(f"--rate-decay must be at least 1 (lower layers learn slower), got {args.rate_decay}.")
    if not 0.0 <= args.adversarial < 1.0:
        raise SystemExit(f"--adversarial is a fraction of the embeddings' norm, from 0 (off) to below 1; got {args.adversarial}.")
    if args.init_classifier and args.no_init:
        raise SystemExit("--init-classifier and --no-init contradict each other: give one.")
    keras.utils.set_random_seed(SEED)
    started = time.time()
    folder = os.path.join(args.work, args.run)
    os.makedirs(folder, exist_ok=True)
    sizes = read_json(os.path.join(args.work, "init", "config.json"))
    train_reviews, train_labels = load_split(args.work, "train")
    validation_reviews, validation_labels = load_split(args.work, "validation")
    if args.labelled:
        if not 0 < args.labelled <= len(train_reviews):
            raise SystemExit(f"--labelled must be between 1 and {len(train_reviews)}, got {args.labelled}.")
        train_reviews, train_labels = labelled_sample(train_reviews, train_labels, args.labelled)
    # Each review after an <eos>, as the language model read every review (the model's crop layer puts it there).
    train_reviews = [crop(r, start_id=EOS_ID) for r in train_reviews]
    validation_reviews = [crop(r, start_id=EOS_ID) for r in validation_reviews]
    repeats = max(1, math.ceil(MIN_EXAMPLES_PER_EPOCH / len(train_reviews)))

    classifier = build_sequence_classifier(cell="lstm", units=sizes["units"], bidirectional=False, vocab_size=sizes["vocab_size"],
                                           embedding_dim=sizes["embedding_dim"], dropout=args.dropout, pooling="max_mean")
    if not args.no_init:
        language_model = build_network(**{k: sizes[k] for k in ("vocab_size", "embedding_dim", "units", "layers",
                                                                 "embedding_dropout", "dropout")})
        language_model.load_weights(os.path.join(args.work, "init", "language_model.weights.h5"))
        # The input embedding and the LSTM carry over; the tied output bias and the projection stay behind.
        classifier.get_layer("embedding").set_weights([keras.ops.convert_to_numpy(language_model.get_layer("embedding").embeddings)])
        classifier.get_layer("lstm").set_weights(language_model.get_layer("lstm_1").get_weights())
    started_from = start_from_classifier(args.init_classifier, classifier) if args.init_classifier else None
    validation_batches = padded_batches(validation_reviews, validation_labels, batch_size=256, pad_multiple=args.pad_multiple)

    def validation_accuracy():
        correct = sum(int(np.sum((np.asarray(classifier.predict_on_batch(ids)) >= 0.5) == (labels >= 0.5)))
                      for ids, labels in validation_batches)
        return correct / len(validation_reviews)

    # Gradual unfreezing (ULMFiT): the head alone, then the LSTM too, then everything.
    head = ("pool", "dropout", "probability")
    stages = [("head", head, 1, 2 * args.learning_rate), ("lstm", ("lstm", *head), 1, args.learning_rate),
              ("all", None, max(0, args.epochs - 2), args.learning_rate / 2)]
    if args.no_init or started_from:  # from scratch, or from a trained classifier: everything at once
        stages = [("all", None, args.epochs, args.learning_rate)]
    config = {"length": LENGTH, "head": HEAD, "start_id": EOS_ID, "dropout": args.dropout, "batch_size": args.batch_size,
              "learning_rate": args.learning_rate, "epochs": args.epochs, "patience": PATIENCE, "labelled": len(train_reviews),
              "repeats_per_epoch": repeats, "init_from": None if args.no_init else sizes["init_from"],
              "stages": [{"train": s[0], "epochs": s[2], "learning_rate": s[3]} for s in stages], "pad_multiple": args.pad_multiple}
    # (absent when off, so runs made before these options resume as they were)
    if args.rate_decay != 1.0:
        config["rate_decay"] = args.rate_decay
    if args.adversarial:
        config["adversarial"] = args.adversarial
    if started_from:
        config.update(started_from)
    print(f"{NAME}: {len(train_reviews):,} labelled reviews (x{repeats} an epoch), {len(validation_reviews):,} validation; "
          f"{classifier.count_params():,} parameters; initialised "
          f"{'at random' if args.no_init else 'from ' + (args.init_classifier or sizes['init_from'])}; "
          f"Keras {keras.__version__} on {keras.backend.backend()}", flush=True)
    command = command_line(args)
    history, best, stopped, epoch = [], {"val_accuracy": -1.0, "epoch": 0}, "completed", 0
    rng = np.random.default_rng(SEED)
    # An interrupted run (killed, or stopped by --minutes) resumes after its last finished epoch: weights, optimizer
    # state, batch order and history are saved at the end of each one, resume.json last.
    state_path = os.path.join(folder, "resume.json")
    state = read_json(state_path) if os.path.exists(state_path) else None
    if state is not None:
        if state["config"] != config:
            raise SystemExit(f"{folder} holds a run with other options; give another --run or delete the folder.")
        if state["finished"]:
            print(f"{folder} finished already: {state['best']}", flush=True)
            return state["best"]
        classifier.load_weights(os.path.join(folder, "last.weights.h5"))
        history, best = state["history"], state["best"]
        rng.bit_generator.state = state["rng"]
        print(f"resuming after epoch {state['epoch']}", flush=True)
    done = state["epoch"] if state else 0
    earlier_seconds = state["train_seconds"] if state else 0.0
    commands = (state["commands"] if state else []) + [command]
    for stage, trainable, stage_epochs, stage_rate in stages:
        if epoch + stage_epochs <= done:
            epoch += stage_epochs
            continue
        for layer in classifier.layers:
            layer.trainable = trainable is None or layer.name in trainable
        steps = stage_epochs * math.ceil(repeats * len(train_reviews) / args.batch_size)
        schedule = keras.optimizers.schedules.CosineDecay(stage_rate, decay_steps=max(1, steps), alpha=0.1)
        depth = {"lstm": 1, "embedding": 2}  # layers below the head
        rates = {w.path: args.rate_decay ** -depth.get(layer.name, 0) for layer in classifier.layers for w in layer.weights}
        classifier.compile(optimizer=layerwise_adam(schedule, rates=rates, clipnorm=1.0), loss="binary_crossentropy")
        learn = adversarial_step(classifier, args.adversarial) if args.adversarial else None
        if done > epoch:  # resuming inside this stage: its optimizer's state too
            classifier.optimizer.build(classifier.trainable_variables)
            saved = np.load(os.path.join(folder, "last.optimizer.npz"))
            for i, variable in enumerate(classifier.optimizer.variables):
                variable.assign(saved[f"v{i}"])
        for _ in range(stage_epochs):
            epoch += 1
            if epoch <= done:
                continue
            epoch_started, losses, adversarial_losses = time.time(), [], []
            batches = [b for _ in range(repeats) for b in padded_batches(train_reviews, train_labels, batch_size=args.batch_size,
                                                                          pad_multiple=args.pad_multiple, rng=rng)]
            rng.shuffle(batches)
            batches = batches[: args.steps_per_epoch] if args.steps_per_epoch else batches
            for step, (ids, labels) in enumerate(batches, 1):
                if learn is None:
                    losses.append(float(classifier.train_on_batch(ids, labels)))
                else:
                    clean, adversarial = learn(ids, labels)
                    losses.append(float(clean))
                    adversarial_losses.append(float(adversarial))
                if step % LOG_EVERY == 0:
                    seconds = time.time() - epoch_started
                    print(f"epoch {epoch} ({stage}) step {step}/{len(batches)} loss {np.mean(losses):.4f} "
                          f"{seconds / step:.2f} s/step", flush=True)
            accuracy = validation_accuracy()
            row = {"epoch": epoch, "stage": stage, "loss": round(float(np.mean(losses)), 4), "val_accuracy": round(accuracy, 4),
                   "seconds": round(time.time() - epoch_started, 1)}
            if adversarial_losses:
                row["adversarial_loss"] = round(float(np.mean(adversarial_losses)), 4)
            history.append(row)
            print(json.dumps(row), flush=True)
            if accuracy > best["val_accuracy"]:
                best = {"val_accuracy": round(accuracy, 4), "epoch": epoch, "stage": stage}
                classifier.save_weights(os.path.join(folder, "best.weights.h5"))
            if stage == "all" and epoch - best["epoch"] >= PATIENCE:
                stopped = f"no better validation accuracy for {PATIENCE} epochs"
            elif args.minutes is not None and time.time() - started > 60 * args.minutes:
                stopped = f"--minutes {args.minutes} passed after epoch {epoch}; run the same command again to continue"
            finished = stopped == "completed" and epoch == sum(s[2] for s in stages) or stopped.startswith("no better")
            seconds = round(earlier_seconds + time.time() - started, 1)
            classifier.save_weights(os.path.join(folder, "last.weights.h5"))
            np.savez(os.path.join(folder, "last.optimizer.npz"),
                     **{f"v{i}": keras.ops.convert_to_numpy(v) for i, v in enumerate(classifier.optimizer.variables)})
            write_json(state_path, {"config": config, "epoch": epoch, "rng": rng.bit_generator.state, "history": history,
                                    "best": best, "finished": finished, "train_seconds": seconds, "commands": commands})
            write_json(os.path.join(folder, "history.json"), {
                "config": config, "epochs": history, "best": best, "stopped": stopped, "train_seconds": seconds,
                "backend": keras.backend.backend(), "command": commands[0], "invocations": commands,
                "written": datetime.datetime.now().isoformat(timespec="seconds"),
            })
            if stopped != "completed":
                break
        if stopped != "completed":
            break
    print(f"best: {best}; {stopped}", flush=True)
    return best


def start_from_classifier(source, classifier):
    """Copies a trained classifier's weights into ``classifier``: ``source`` is a registered name (its checkpoint)
    or a ``.keras`` file of the same architecture. Returns what the card records of it."""
    import keras

    import zoo
    import zoo.layers.text  # noqa: F401  (registers the text layers for loading a .keras file)
    from zoo._hub import sha256_of

    if source.endswith(".keras"):
        if not os.path.isfile(source):
            raise SystemExit(f"--init-classifier {source}: no such file.")
        model, digest = keras.saving.load_model(source, compile=False), sha256_of(source)
    else:
        model, digest = zoo.load(source), zoo.info(source)["sha256"]
    if not any(layer.name == "classifier" for layer in model.layers):
        raise SystemExit(f"--init-classifier {source}: no 'classifier' part; expected a checkpoint of this recipe.")
    weights = model.get_layer("classifier").get_weights()
    wanted = [tuple(w.shape) for w in classifier.get_weights()]
    if [w.shape for w in weights] != wanted:
        raise SystemExit(f"--init-classifier {source}: its weights have shapes {[w.shape for w in weights]}, the classifier "
                         f"built from the prepared language model has {wanted}.")
    classifier.set_weights(weights)
    record = {"init_classifier": source, "init_classifier_sha256": digest}
    registered = zoo.info(NAME) if NAME in zoo.list_models() else None
    if registered and registered["sha256"] == digest:  # the shipped one: its training time counts in the total
        record["init_classifier_train_seconds"] = registered["training"]["train_seconds"]
    return record


def adversarial_push(vectors, uphill, mask, epsilon):
    """The perturbation of each review's word vectors ``(batch, steps, dim)``: along ``uphill`` (the loss's
    gradient), ``epsilon`` times the norm of the review's vectors long, nothing on padding (``mask`` False)."""
    import tensorflow as tf

    kept = tf.cast(mask, vectors.dtype)[..., None]
    norm = lambda x: tf.sqrt(tf.reduce_sum(tf.square(x * kept), axis=[1, 2], keepdims=True))  # noqa: E731
    return epsilon * norm(vectors) * uphill * kept / (norm(uphill) + 1e-12)


def adversarial_step(classifier, epsilon):
    """A training step that learns each batch twice: as it is, and with its word embeddings moved along the loss's
    gradient by ``epsilon`` times their norm (over each review's tokens), the perturbation that raises the loss
    most at that size (adversarial training, Miyato, Dai & Goodfellow 2017). Measured relative to the embeddings'
    own norm, it cannot be outgrown by scaling the embeddings up. Returns ``step(ids, labels) -> (loss, adversarial
    loss)``. TensorFlow only (it differentiates with respect to the embeddings).

    Example:
        >>> learn = adversarial_step(classifier, 0.02)  # after classifier.compile(optimizer=...)
        >>> loss, adversarial_loss = learn(ids, labels)
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        raise SystemExit(f"--adversarial needs the TensorFlow backend; this is {keras.backend.backend()}.")
    import tensorflow as tf

    embedding = classifier.get_layer("embedding")
    spatial_dropout, lstm, pool, dropout, output = (classifier.get_layer(name) for name in
                                                     ("embedding_dropout", "lstm", "pool", "dropout", "probability"))
    optimizer, variables = classifier.optimizer, classifier.trainable_variables

    def loss_of(vectors, mask, labels):
        x = lstm(spatial_dropout(vectors, training=True), mask=mask, training=True)
        probability = output(dropout(pool(x, mask=mask), training=True))
        return tf.reduce_mean(keras.losses.binary_crossentropy(labels, probability))

    @tf.function(reduce_retracing=True)
    def step(ids, labels):
        mask = ids != 0
        with tf.GradientTape() as tape:
            vectors = embedding(ids)
            tape.watch(vectors)
            loss = loss_of(vectors, mask, labels)
        *gradients, uphill = tape.gradient(loss, [*variables, vectors])
        push = adversarial_push(tf.stop_gradient(vectors), tf.stop_gradient(uphill), mask, epsilon)
        with tf.GradientTape() as tape:
            adversarial = loss_of(embedding(ids) + push, mask, labels)
        more = tape.gradient(adversarial, variables)
        optimizer.apply_gradients([(tf.convert_to_tensor(a) + tf.convert_to_tensor(b), v)
                                   for a, b, v in zip(gradients, more, variables)])
        return loss, adversarial

    return step


# === package ===


def package(args):
    import keras
    import tensorflow as tf

    from zoo import __version__, _checkpoint
    from zoo._registry import get_spec
    from zoo._training import hardware

    spec = get_spec(NAME)
    folder = os.path.join(args.work, args.run)
    history = read_json(os.path.join(folder, "history.json"))
    sizes = read_json(os.path.join(args.work, "init", "config.json"))
    if sizes["data"] != "imdb":
        return save_own_classifier(args, history, sizes)
    if history["config"]["labelled"] != 22500 and args.eval_limit is None:
        raise SystemExit(f"{folder} was trained on {history['config']['labelled']} labelled reviews, not the whole train split.")
    model = trained_model(args, history, sizes)

    # The registered model (raw text in, its own cropping) must score the validation split as training measured it.
    here = spec.evaluator_fn()(model, split="validation", limit=args.eval_limit, progress=False)["accuracy"]
    print(f"validation accuracy: {here} (training measured {history['best']['val_accuracy']})", flush=True)
    if args.eval_limit is None and abs(here - history["best"]["val_accuracy"]) > 0.0005:
        raise SystemExit("the packaged model does not score the validation split as training measured it.")

    metrics = spec.evaluator_fn()(model, split="test", limit=args.eval_limit)
    print(f"test: {json.dumps(metrics)}", flush=True)
    training = {**history["config"], "language_model": sizes, "best_epoch": history["best"]["epoch"], "epochs_max": history["config"]["epochs"],
                "epochs_run": len(history["epochs"]), "history": history["epochs"], "stopped": history["stopped"],
                "train_seconds": round(history["train_seconds"]), "backend": history["backend"], "hardware": hardware(),
                "prepare_command": sizes["command"], "package_command": command_line(args),
                "packaged_with": f"zoo {__version__}, Keras {keras.__version__}, TensorFlow {tf.__version__}"}
    training.update(continuation(history["config"], _checkpoint.card_file(args.out, NAME)))
    card = _checkpoint.write_checkpoint(
        spec, model, metrics=metrics,
        validation={spec.metric: here, "n": 2500 if args.eval_limit is None else args.eval_limit},
        recipe_command=history["command"], training=training, out_dir=args.out,
    )
    print(json.dumps({k: card[k] for k in ("name", "metrics", "size_bytes", "sha256")}), flush=True)
    return card


def continuation(config, card_path):
    """What a card trained on from the checkpoint it replaces keeps of that one's card: how it was made
    (``continued_from``, itself possibly a continuation; the card page adds up the chain's training time), its
    learning curve and plots. Empty when the run did not start from the card at ``card_path``."""
    if not config.get("init_classifier_sha256") or not os.path.exists(card_path):
        return {}
    previous = read_json(card_path)
    if previous["sha256"] != config["init_classifier_sha256"]:
        return {}
    before = previous["training"]
    kept = ("recipe_command", "metrics", "validation", "sha256", "trained_on")
    continued_from = {**{k: previous[k] for k in kept if k in previous},
                      **{k: before[k] for k in before if k not in ("learning_curve", "plots", "language_model")}}
    return {"continued_from": continued_from, **{k: before[k] for k in ("learning_curve", "plots") if k in before}}


def trained_model(args, history, sizes):
    """The registered architecture (raw text in) sized to the language model, holding the run's best weights."""
    import zoo

    with open(os.path.join(args.work, "init", "vocabulary.txt"), encoding="utf-8") as f:
        vocabulary = f.read().split("\n")
    # The registered sizes are the shipped language model's; another one (a smoke run's) sizes the classifier to it,
    # and the run's own start id (none before runs recorded one) frames each text as training did.
    model = zoo.build(NAME, vocabulary=vocabulary, vocab_size=sizes["vocab_size"], embedding_dim=sizes["embedding_dim"],
                      units=sizes["units"], dropout=history["config"]["dropout"], start_id=history["config"].get("start_id"))
    model.get_layer("classifier").load_weights(os.path.join(args.work, args.run, "best.weights.h5"))
    return model


def save_own_classifier(args, history, sizes):
    """A classifier of your own labelled texts: ``<out>/<name>.keras`` (raw text in, P(second label) out) and
    ``<out>/<name>.json`` (labels, validation accuracy, commands). There is no test split to score."""
    from zoo.models.text_classifier.pipeline import predict_proba

    model = trained_model(args, history, sizes)
    texts, labels = read_labelled_file(sizes["data"])[1]["validation"]
    accuracy = float(np.mean((predict_proba(model, texts, progress=False) >= 0.5) == (labels == 1)))
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"{args.name}.keras")
    model.save(path)
    write_json(os.path.join(args.out, f"{args.name}.json"), {
        "file": os.path.basename(path), "labels": sizes["labels"], "probability_of": sizes["labels"][1],
        "validation_accuracy": round(accuracy, 4), "validation_n": len(texts), "data": sizes["data"],
        "init_from": sizes["init_from"], "training": history["config"], "recipe_command": history["command"],
    })
    print(f"{path}: validation accuracy {accuracy:.4f} on {len(texts)} texts; P({sizes['labels'][1]}) out", flush=True)
    return path


# === the learning curve ===


def learning_curve(args):
    """Every run under ``--work``: its best validation accuracy against the labelled reviews it learnt from,
    with and without the language model, as a table and a plot in ``--docs-dir``, and on the card."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = []
    for run in sorted(os.listdir(args.work)):
        path = os.path.join(args.work, run, "history.json")
        if os.path.exists(path):
            history = read_json(path)
            rows.append({"run": run, "labelled": history["config"]["labelled"], "language_model": history["config"]["init_from"] is not None,
                         "val_accuracy": history["best"]["val_accuracy"], "epochs": len(history["epochs"]),
                         "train_seconds": round(history["train_seconds"])})
    if not rows:
        raise SystemExit(f"no run with a history.json under {args.work}.")
    rows.sort(key=lambda r: (not r["language_model"], r["labelled"]))
    table = ["| labelled reviews | initialised from | validation accuracy | epochs | training time |", "|---|---|---|---|---|"]
    table += [f"| {r['labelled']:,} | {'imdb-lm-lstm' if r['language_model'] else 'random'} | {r['val_accuracy']:.4f} | "
              f"{r['epochs']} | {r['train_seconds'] / 60:.0f} min |" for r in rows]
    os.makedirs(args.docs_dir, exist_ok=True)
    figure, axes = plt.subplots(figsize=(6, 4))
    for with_lm, label, style in ((True, "from the language model", "o-"), (False, "from scratch (random embeddings)", "s--")):
        points = sorted((r["labelled"], r["val_accuracy"]) for r in rows if r["language_model"] == with_lm)
        if points:
            axes.plot(*zip(*points), style, label=label)
    axes.set_xscale("log")
    axes.set_xlabel("labelled training reviews")
    axes.set_ylabel("validation accuracy (2,500 reviews)")
    axes.set_title(f"{NAME}: accuracy against labelled data")
    axes.grid(True, alpha=0.3)
    axes.legend()
    figure.tight_layout()
    plot = f"{NAME}-learning-curve.png"
    figure.savefig(os.path.join(args.docs_dir, plot), dpi=100)
    plt.close(figure)
    card_path = os.path.join(args.cards_dir, f"{NAME}.json")
    if os.path.exists(card_path):
        card = read_json(card_path)
        card["training"]["learning_curve"] = rows
        card["training"]["plots"] = [{"file": plot, "caption": "Validation accuracy against the labelled reviews learnt from"}]
        write_json(card_path, card)
    print("\n".join(table), flush=True)
    return rows


def command_line(args) -> str:
    """The command that ran, as the card records it."""
    return f"python {RECIPE} " + " ".join(shlex.quote(a) for a in args.argv)


def main(argv=None):
    args = parse_args(argv)
    args.argv = list(argv) if argv is not None else sys.argv[1:]  # what the card records as the command
    return {"prepare": prepare, "train": train, "package": package, "curve": learning_curve}[args.command](args)


if __name__ == "__main__":
    main()
