"""Pieces every recipe shares, so that a recipe reads top to bottom like a keras.io example and gets
distribution, resuming and time boxes right by default.

A recipe's ``main()`` is, in outline::

    parser = _training.recipe_parser(__doc__, epochs=8, batch_size=64, learning_rate=1e-3, patience=2)
    args = parser.parse_args(argv)
    run = _training.start_run("recipes/train_text_classifier.py", args, argv)  # the strategy first
    ...                                                    # data, vocabulary (count_vocabulary)
    with run.scope():
        model = run.build(vocabulary=vocabulary)           # the registered architecture, this vocabulary
        model.compile(...)
    train = run.batches([ids, labels], lengths=..., boundaries=BUCKETS, shuffle=True)   # bucketed tf.data
    if not run.fit(model, train, validation):              # False: stopped by --stop-after-epochs
        return None
    return run.finish(validation={"n": ...}, training={...})   # test score, checkpoint and card (chief)

What `Run` does for every recipe:

* **Strategy first.** `start_run` creates the `tf.distribute` strategy before any TensorFlow op, as
  ``MultiWorkerMirroredStrategy`` requires (collectives are configured at program start).
* **The chief writes.** Only the chief (``TF_CONFIG``'s ``chief``, else worker 0) writes into ``--run-dir``
  (backup, best epoch, history, caches) and ``--out`` (checkpoint, card); every other worker writes into a
  temporary folder that is removed when it ends. The final test score runs once, on the chief.
* **Resuming.** ``keras.callbacks.BackupAndRestore`` saves each finished epoch; a restarted run continues
  from it. Under multi-worker training the chief's restored state (weights, optimizer, epoch) is copied to
  every worker when training starts, so a killed and restarted worker resumes with the others.
* **Keep-best and early stopping** follow the headline metric's direction (`zoo.metrics`): a lower MSE,
  perplexity or CER is better. Their state is kept in the run folder, so a resumed run stops when an
  uninterrupted one would have.
* **One time-box rule** (``--time-box MINUTES``): never start an epoch that would end past the box,
  judged by the longest epoch of this run so far; the best epoch is then scored and written, and the
  backup is kept, so the same command continues training. ``--stop-after-epochs N`` stops after N epochs
  of this invocation without writing anything but the backup (jobs with a hard time limit).
* **Input pipelines** are bucketed by length and padded per batch, with a known number of batches (no
  "ran out of data") and sharded by data across workers; the batch size is per worker, the global batch
  (``batch_size * workers``) is what a step consumes, and the card records both.
* **Time**: each invocation's training seconds are kept in the run folder; the card's ``train_seconds``
  is their sum.
"""

from __future__ import annotations

import argparse
import atexit
import collections
import functools
import hashlib
import json
import os
import shlex
import shutil
import sys
import tempfile
import time

SEED = 42
STRATEGIES = ("default", "mirrored", "multiworker")
RUN_STATE_FILES = ("best.json", "best.weights.h5", "history.csv", "time.json")  # what a run keeps in runs/<name>/


LEAVE_GRACE_SECONDS = 3.0  # how long a non-chief worker waits after the exit barrier before it leaves


class TimeBoxReached(Exception):
    """Raised after ``--stop-after-epochs`` epochs, once the backup of the last epoch is written."""


# === The command line ===


def recipe_parser(doc: str, *, epochs: int, batch_size: int, learning_rate: float, patience: int | None,
                  name_help: str = "registered model name") -> argparse.ArgumentParser:
    """The options every recipe takes, with the recipe's defaults; the recipe adds its own to the parser.

    The description is the first paragraph of ``doc`` (the recipe's docstring), the epilog the rest.
    """
    parser = argparse.ArgumentParser(description=doc.strip().split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", help=name_help)
    parser.add_argument("--epochs", type=int, default=epochs, help=f"at most this many epochs (default {epochs})")
    parser.add_argument("--batch-size", type=int, default=batch_size,
                        help=f"examples per step on each worker (default {batch_size}); the global batch is this "
                             "times the number of workers")
    parser.add_argument("--learning-rate", type=float, default=learning_rate, help=f"Adam (default {learning_rate:g})")
    parser.add_argument("--patience", type=int, default=patience,
                        help="epochs without a better validation score before stopping"
                             + (f" (default {patience})" if patience is not None else ""))
    parser.add_argument("--strategy", choices=STRATEGIES, default="default",
                        help="mirrored: all local GPUs (else the local CPU devices); multiworker: the machines "
                             "named by TF_CONFIG (see the README, 'Training across machines')")
    parser.add_argument("--run-dir", default="runs", help="backups, history and caches: <run-dir>/<name>/ (default runs)")
    parser.add_argument("--out", default="checkpoints",
                        help="where the checkpoint, its card and any report are written (default checkpoints)")
    small = parser.add_argument_group("smaller and time-boxed runs")
    small.add_argument("--limit-train", type=int, default=None, metavar="N",
                       help="a fixed sample of N training examples; every stage (vocabulary, pretraining, features) "
                            "uses only them")
    small.add_argument("--limit-dev", type=int, default=None, metavar="N", help="validate on the first N validation examples")
    small.add_argument("--steps-per-epoch", type=int, default=None, metavar="N", help="N steps per epoch")
    small.add_argument("--eval-limit", type=int, default=None, metavar="N", help="score on the first N test examples")
    small.add_argument("--stop-after-epochs", type=int, default=None, metavar="N",
                       help="stop after N epochs of this invocation without writing the checkpoint; run the same "
                            "command again to resume")
    small.add_argument("--time-box", type=float, default=None, metavar="MINUTES",
                       help="start no epoch that would end after MINUTES of training in this invocation (judged by "
                            "the longest epoch so far); then score the best epoch and write the checkpoint. The "
                            "backup is kept: the same command continues training (delete <run-dir>/<name>/ to "
                            "start afresh)")
    small.add_argument("--finish-now", action="store_true",
                       help="train no further: score the best epoch so far and write the checkpoint (the backup is "
                            "kept, so the same command without --finish-now continues training; a finished run's "
                            "best epoch can be written again this way)")
    return parser


# === A run's clock ===


def run_times(run_dir: str) -> dict:
    """A run folder's ``time.json``: ``{"invocations": [seconds, ...], "epochs": [seconds, ...]}`` (empty lists if none)."""
    path = os.path.join(run_dir, "time.json")
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    return {"invocations": [], "epochs": []}


def train_seconds(times: dict) -> int:
    """The seconds a run trained, from its `run_times`. A stage stopped from outside (killed) records no
    invocation time, but its finished epochs are timed, so the larger of the two sums counts."""
    return round(max(sum(times["invocations"]), sum(times["epochs"])))


# === Strategies ===


def make_strategy(kind: str):
    """``"default"``, ``"mirrored"`` (all local GPUs, else the logical CPU devices) or ``"multiworker"`` (TF_CONFIG).

    Call it before any other TensorFlow op: a multi-worker strategy must configure collectives at start-up.
    """
    if kind not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {kind!r}.")
    if kind == "multiworker":
        return _multi_worker_strategy()
    import tensorflow as tf

    if kind == "mirrored":
        if tf.config.list_logical_devices("GPU"):
            return tf.distribute.MirroredStrategy()
        return tf.distribute.MirroredStrategy([d.name for d in tf.config.list_logical_devices("CPU")])
    return tf.distribute.get_strategy()


def _multi_worker_strategy():
    if "TF_CONFIG" not in os.environ:
        raise ValueError("--strategy multiworker needs the TF_CONFIG environment variable describing the cluster "
                         "(see the README, 'Training across machines').")
    config = json.loads(os.environ["TF_CONFIG"])
    import tensorflow as tf

    hosts = [address.rsplit(":", 1)[0] for addresses in config.get("cluster", {}).values() for address in addresses]
    if hosts and all(host in ("localhost", "127.0.0.1", "::1", "[::1]") for host in hosts):
        # Every worker on this machine: share its cores instead of each worker taking all of them.
        threads = max(1, (os.cpu_count() or 1) // len(hosts))
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    _patch_keras_for_multi_worker()
    return tf.distribute.MultiWorkerMirroredStrategy()


@functools.lru_cache(maxsize=None)
def _patch_keras_for_multi_worker() -> None:
    """Two fixes to Keras 3's TensorFlow trainer under ``MultiWorkerMirroredStrategy`` (keras-team/keras#20585).

    ``fit`` fails before its first step: (1) to build the model symbolically it all-reduces the first input
    batch, a tuple of per-replica tensors that ``Strategy.reduce`` does not take; (2) it averages each
    step's scalar logs over replicas with ``axis=0``, which scalars do not have. Only the shapes of the
    first batch are needed, so this takes the local one; scalar logs are averaged with ``axis=None``.
    """
    import tensorflow as tf
    from keras.src import tree
    from keras.src.backend.tensorflow import trainer

    def local_value(value):
        if isinstance(value, tf.distribute.DistributedValues):
            return value._values[0]  # noqa: SLF001  (this worker's first replica)
        return value

    def maybe_symbolic_build(self, iterator=None, data_batch=None):
        if self._distribute_strategy is None:
            return
        if iterator is not None:
            for _, _, batches in iterator:
                data_batch = tree.map_structure(local_value, next(batches))
                break
        with self.distribute_strategy.scope():
            self._symbolic_build(data_batch=data_batch)

    original_reduce = trainer.reduce_per_replica

    def reduce_per_replica(values, strategy, reduction):
        if reduction in ("auto", "mean") and trainer._collective_all_reduce_multi_worker(strategy):  # noqa: SLF001

            def mean(value):
                if not isinstance(value, tf.distribute.DistributedValues) and not tf.is_tensor(value):
                    return value
                rank = local_value(value).shape.rank
                return strategy.reduce("MEAN", value, axis=0 if rank else None)

            return tree.map_structure(mean, values)
        return original_reduce(values, strategy, reduction)

    trainer.TensorFlowTrainer._maybe_symbolic_build = maybe_symbolic_build  # noqa: SLF001
    trainer.reduce_per_replica = reduce_per_replica


def _cluster_role(strategy) -> tuple[int, bool, str]:
    """``(number of workers, whether this task is the chief, this task's name)``."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return 1, True, "chief"
    jobs = resolver.cluster_spec().as_dict()
    workers = sum(len(tasks) for job, tasks in jobs.items() if job in ("chief", "worker"))
    chief = resolver.task_type == "chief" or ("chief" not in jobs and resolver.task_type == "worker" and resolver.task_id == 0)
    return workers, chief, f"{resolver.task_type} {resolver.task_id}"


# === One run of a recipe ===


def prepare_run_dir(run_dir: str, *, keep: bool = False) -> str:
    """Creates ``run_dir``; unless it holds a backup to resume from (``run_dir/backup``, written by
    ``BackupAndRestore``) or ``keep`` is set, forgets an older run's best epoch, history and times so a fresh
    run starts clean. ``keep`` is for ``--finish-now``, which trains nothing: it writes a finished run's best
    epoch again (with another finishing step, say) instead of finding it gone."""
    os.makedirs(run_dir, exist_ok=True)
    if not keep and not os.path.exists(os.path.join(run_dir, "backup")):
        for name in RUN_STATE_FILES:
            path = os.path.join(run_dir, name)
            if os.path.exists(path):
                os.remove(path)
    return run_dir


def start_run(recipe: str, args, argv=None, *, seed: int = SEED) -> "Run":
    """Starts one invocation of ``recipe`` (``"recipes/train_translator.py"``) for ``args.name``.

    The distribution strategy is created first, before any other TensorFlow op; then the random seed is
    set, the spec looked up and the run folder prepared. ``argv`` (None: ``sys.argv[1:]``) is recorded on
    the card as the command that trained the checkpoint.
    """
    strategy = make_strategy(args.strategy)
    import keras

    from zoo._registry import get_spec  # (importing the zoo package registered every model)

    keras.utils.set_random_seed(seed)
    spec = get_spec(args.name)
    if spec.recipe != recipe:
        raise SystemExit(f"{args.name} is trained by {spec.recipe}, not by {recipe}.")
    arguments = list(argv) if argv is not None else sys.argv[1:]
    return Run(spec, args, strategy, command=f"python {recipe} " + " ".join(shlex.quote(a) for a in arguments), seed=seed)


class Run:
    """One invocation of a recipe: its strategy, folders, fitting and the checkpoint at the end.

    Attributes:
        spec: the model's `zoo._registry.ModelSpec`; ``args``: the parsed options.
        strategy: the ``tf.distribute`` strategy; ``workers``: how many machines train; ``is_chief``: whether
            this process writes the checkpoint, card, history and backups.
        metric: the headline metric's description (`zoo.metrics.Metric`); ``monitor``: ``"val_<metric>"``,
            the log entry keep-best and early stopping watch.
        run_dir: ``<run-dir>/<name>/`` on the chief, a temporary folder on other workers.
        cache_dir: ``<run-dir>`` on the chief (caches shared by several models), temporary elsewhere.
        global_batch_size: ``--batch-size`` times the number of workers: what one step consumes.
    """

    def __init__(self, spec, args, strategy, *, command: str, seed: int = SEED):
        from zoo.metrics import get_metric

        self.spec, self.args, self.strategy, self.command, self.seed = spec, args, strategy, command, seed
        self.metric = get_metric(spec.metric)
        self.monitor = f"val_{spec.metric}"
        self.workers, self.is_chief, self.task = _cluster_role(strategy)
        self.multi_worker = self.workers > 1
        self.global_batch_size = args.batch_size * self.workers
        self._temporary = None if self.is_chief else tempfile.mkdtemp(prefix="zoo-worker-")
        self.cache_dir = args.run_dir if self.is_chief else self._temporary
        self.run_dir = prepare_run_dir(os.path.join(self.cache_dir, spec.name), keep=getattr(args, "finish_now", False))
        self._builder_args: dict = {}
        self._fitted = self._whole = self._scoring_copy = None
        self._best = {}
        self._time_boxed = False
        self._ended = False
        if self.multi_worker:
            atexit.register(self._leave_together)
        print(f"{spec.name}: {type(strategy).__name__}, {self.workers} worker(s), {strategy.num_replicas_in_sync} "
              f"replica(s); this is the {self.task}{' (chief)' if self.is_chief and self.multi_worker else ''}; "
              f"global batch {self.global_batch_size}", flush=True)

    # --- Building ---

    def scope(self):
        """The strategy's scope: build and compile the model to train inside it."""
        return self.strategy.scope()

    def build(self, **overrides):
        """The registered architecture with ``overrides`` (vocabularies...), untrained, named after the model.

        Inside `scope` it is the model to train; `fit` and `finish` build the same outside it (the dev
        scorer and the shipped model), so the overrides are remembered.
        """
        self._builder_args = dict(overrides)
        return self.spec.builder_fn()(**{**self.spec.builder_args, **overrides, "name": self.spec.name})

    def batches(self, columns, *, lengths, boundaries, shuffle: bool = False, to_model=None):
        """`bucketed_dataset` with this run's global batch size and seed; under multi-worker training, no
        batch has fewer examples than there are workers (each needs one)."""
        return bucketed_dataset(columns, lengths=lengths, batch_size=self.global_batch_size, boundaries=boundaries,
                                shuffle=shuffle, seed=self.seed, to_model=to_model, min_batch=self.workers)

    def cache_path(self, folder: str, key: str, suffix: str = ".npz") -> str:
        """``<run-dir>/<folder>/<key><suffix>``: a cache shared by every model trained with this run folder."""
        return os.path.join(self.cache_dir, folder, f"{key}{suffix}")

    # --- Training ---

    def fit(self, model, train, validation, *, whole=None, dev_score=None, callbacks=()) -> bool:
        """Trains ``model`` on ``train`` (one pass per epoch) with keep-best, early stopping, backups and time boxes.

        Args:
            model: the compiled model to fit (a nested part of ``whole``, or ``whole`` itself).
            train, validation: datasets of known length (`bucketed_dataset`); ``train`` is repeated, so
                ``--steps-per-epoch`` never runs out of data.
            whole: the model to ship (built by `build`), when ``model`` is a part of it.
            dev_score: ``fn(scoring_model) -> float``, the headline metric on the validation split, computed
                after each epoch on the chief (on a copy of ``whole`` outside the strategy) and logged as
                `monitor`; None when Keras' own validation metric is the headline metric.
            callbacks: further Keras callbacks (learning-rate schedules); they see `monitor` in the logs.

        Returns:
            False when ``--stop-after-epochs`` stopped the run (nothing is written but the backup), else True.
        """
        import keras

        args = self.args
        self._fitted, self._whole = model, whole if whole is not None else model
        if getattr(args, "finish_now", False):
            if not os.path.exists(os.path.join(self.run_dir, "best.weights.h5")):
                raise ValueError(f"--finish-now: {self.run_dir} holds no finished epoch (no best.weights.h5) to write.")
            resumable = os.path.exists(os.path.join(self.run_dir, "backup"))
            print(f"--finish-now: writing epoch {self._best_state().get('epoch')}, the best so far "
                  + ("(the backup stays: the same command without --finish-now trains on)" if resumable else
                     "(of a finished run: the same command without --finish-now starts a new one)"), flush=True)
            return True
        batches = int(train.cardinality())
        if batches <= 0:
            raise ValueError("The training dataset must have a known, positive number of batches (use bucketed_dataset).")
        steps = args.steps_per_epoch or batches
        parts = _callback_classes()
        chain = [parts.DevScore(self, dev_score)] if dev_score is not None else []
        chain += [
            *callbacks,  # after DevScore: they may read its metric
            parts.KeepBest(self),
            keras.callbacks.CSVLogger(os.path.join(self.run_dir, "history.csv"), append=True),
            parts.Backup(self),  # an epoch counts as done once its best weights and history are written
            parts.Clock(self),
            keras.callbacks.ProgbarLogger(),  # the epoch's line, before a stop below can cut the list short
        ]
        if args.time_box:
            chain.append(parts.TimeBox(self, args.time_box))
        if args.stop_after_epochs:
            chain.append(parts.StopAfter(args.stop_after_epochs))  # last: after the backup and the history are written
        started = time.time()
        try:
            model.fit(train.repeat(), validation_data=validation, epochs=args.epochs, steps_per_epoch=steps,
                      callbacks=chain, verbose=2, shuffle=False)
        except TimeBoxReached as stop:
            self._record_time(time.time() - started)
            print(f"stopped after epoch {stop.args[0]} (--stop-after-epochs); run the same command again to resume.",
                  flush=True)
            self._end()
            return False
        self._record_time(time.time() - started)
        weights = model.get_weights()
        fingerprint = hashlib.sha256(b"".join(w.tobytes() for w in weights)).hexdigest()[:16]
        steps_done = int(model.optimizer.iterations.numpy()) if model.optimizer is not None else 0
        print(f"trained: {steps_done} optimizer steps in all, weights fingerprint {fingerprint}", flush=True)
        return True

    def _record_time(self, seconds: float) -> None:
        state = self._times()
        state["invocations"].append(round(seconds, 1))
        with open(os.path.join(self.run_dir, "time.json"), "w") as f:
            json.dump(state, f)

    def _times(self) -> dict:
        return run_times(self.run_dir)

    # --- Agreement between workers ---

    def from_chief(self, values):
        """The chief's ``values`` (numbers or arrays) on every worker; ``values`` itself on a single worker.

        A collective: under multi-worker training every worker must call it at the same point.
        """
        if not self.multi_worker:
            return values
        import numpy as np

        arrays = [np.asarray(v) for v in values]
        flat = np.concatenate([a.astype(np.float64).ravel() for a in arrays]) if arrays else np.zeros(0)
        reduced = _broadcast_function(self.strategy)(flat).numpy()
        out, start = [], 0
        for a in arrays:
            out.append(reduced[start : start + a.size].reshape(a.shape).astype(a.dtype))
            start += a.size
        return out

    def _sync_state_from_chief(self, model) -> None:
        """Every worker takes the chief's weights, optimizer state and epoch (after the chief restored its backup)."""
        if model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        variables = list(model.weights) + (list(model.optimizer.variables) if model.optimizer is not None else [])
        values = self.from_chief([v.numpy() for v in variables] + [model._initial_epoch or 0])  # noqa: SLF001
        for variable, value in zip(variables, values):
            variable.assign(value)
        model._initial_epoch = int(values[-1]) or None  # noqa: SLF001

    # --- The end: the test score, the checkpoint and the card ---

    def finish(self, *, validation: dict, training: dict, evaluate: dict | None = None, prepare=None) -> dict | None:
        """On the chief: the best epoch's weights in the shipped model, scored once on the test split by the
        family's evaluator, written as ``<out>/<name>.keras`` with its card. Other workers return None.

        Args:
            validation: what the card says about the validation split besides the best score (``{"n": ...}``).
            training: the recipe's own training facts (sizes, options) added to the common ones.
            evaluate: extra keyword arguments of the evaluator (``{"beam_width": 3}``).
            prepare: ``fn(model) -> dict``, a last step on the shipped model before the test split is read
                (e.g. a calibration fitted on the validation split); what it returns joins ``validation``.
        """
        if not self.is_chief:
            self._end()
            return None
        from zoo import _checkpoint

        args = self.args
        inference = self.shipped_model()
        if prepare is not None:
            validation = {**validation, **(prepare(inference) or {})}
        metrics = self.spec.evaluator_fn()(inference, split="test", limit=args.eval_limit, **(evaluate or {}))
        print(f"test: {json.dumps(metrics)}", flush=True)
        best = self._best_state()
        value = best.get(self.monitor)
        times = self._times()
        card = _checkpoint.write_checkpoint(
            self.spec, inference, metrics=metrics,
            validation={self.spec.metric: None if value is None else round(value, self.metric.decimals), **validation},
            recipe_command=self.command,
            training={
                "best_epoch": best.get("epoch"), "epochs_max": args.epochs, "batch_size": args.batch_size,
                "global_batch_size": self.global_batch_size, "workers": self.workers,
                "learning_rate": args.learning_rate, "steps_per_epoch": args.steps_per_epoch,
                "time_box_minutes": args.time_box, **training,
                "train_seconds": train_seconds(times),
                "invocations": len(times["invocations"]),
                "hardware": hardware(), "strategy": args.strategy,
            },
            out_dir=args.out,
        )
        print(json.dumps({k: card[k] for k in ("name", "metrics", "size_bytes", "sha256")}), flush=True)
        self._end()
        return card

    def shipped_model(self):
        """The model to ship: built outside the strategy (or the dev scorer's copy), holding the best epoch's weights."""
        inference = self._scoring_copy or self.build(**self._builder_args)
        part = self._load_fitted(inference)
        path = os.path.join(self.run_dir, "best.weights.h5")
        if os.path.exists(path):
            part.load_weights(path)
        return inference

    def _load_fitted(self, copy):
        """Puts the trained weights into ``copy`` (a model built like ``whole``) and returns the part of it the
        fitted model stands for. The fitted model may be a part of ``whole`` or a twin of one (same layers,
        e.g. a stateful training network), so its own weights are copied, not only ``whole``'s."""
        copy.set_weights(self._whole.get_weights())
        if self._fitted is self._whole:
            return copy
        part = copy.get_layer(self._fitted.name)
        part.set_weights(self._fitted.get_weights())
        return part

    def _best_state(self) -> dict:
        path = os.path.join(self.run_dir, "best.json")
        if os.path.exists(path):
            with open(path) as f:
                return json.load(f)
        return {}

    def _end(self) -> None:
        """This invocation ended normally: a non-chief worker's temporary folder goes."""
        self._ended = True
        if self._temporary and os.path.isdir(self._temporary):
            shutil.rmtree(self._temporary, ignore_errors=True)

    def _leave_together(self) -> None:
        """At exit of a multi-worker run: wait for every worker, then leave at once.

        After the last collective every worker waits at a barrier (the chief may still be scoring the
        test split), then the process ends without TensorFlow's coordination-service shutdown, which keeps
        a worker alive for up to a minute when the chief (its leader) has already gone.
        """
        code = 0
        try:
            if self._ended:
                self.from_chief([0.0])  # the barrier
                if not self.is_chief:
                    # A worker that leaves the moment its part of the barrier is done can close its socket while the
                    # chief still receives from it ("Socket closed" on the chief, under load): let the chief finish.
                    time.sleep(LEAVE_GRACE_SECONDS)
            else:
                code = 1
        except Exception as error:  # noqa: BLE001  (a worker that died already: leave anyway)
            print(f"barrier at exit failed: {error}", file=sys.stderr)
            code = 1
        finally:
            if self._temporary:
                shutil.rmtree(self._temporary, ignore_errors=True)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)


@functools.lru_cache(maxsize=None)
def _broadcast_function(strategy):
    """A compiled all-reduce that gives every worker the values of global replica 0 (on the chief)."""
    import tensorflow as tf

    @tf.function
    def broadcast(values):
        def first_replica_only(context):
            return values if context.replica_id_in_sync_group == 0 else tf.zeros_like(values)

        per_replica = strategy.experimental_distribute_values_from_function(first_replica_only)
        return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

    return broadcast


# === Callbacks ===


@functools.lru_cache(maxsize=None)
def _callback_classes():
    """The Keras callbacks `Run.fit` chains (defined on first use: Keras is imported lazily)."""
    import keras

    class Backup(keras.callbacks.BackupAndRestore):
        """Saves each finished epoch in ``<run>/backup`` and restores it when a run starts again.

        Under multi-worker training every worker then takes the chief's restored state. The backup is
        deleted when training ends, unless a time box ended it (the same command then continues).
        """

        def __init__(self, run: Run):
            super().__init__(os.path.join(run.run_dir, "backup"))
            self.run = run

        def on_train_begin(self, logs=None):
            super().on_train_begin(logs)
            if self.run.multi_worker:
                self.run._sync_state_from_chief(self.model)  # noqa: SLF001
            if self.model._initial_epoch:  # noqa: SLF001
                print(f"resuming from the backup of epoch {self.model._initial_epoch}", flush=True)  # noqa: SLF001

        def on_train_end(self, logs=None):
            if not self.run._time_boxed:  # noqa: SLF001
                super().on_train_end(logs)

    class Clock(keras.callbacks.Callback):
        """Times each epoch (validation, dev scoring and saving included) into the run's ``time.json``."""

        def __init__(self, run: Run):
            super().__init__()
            self.run = run
            self.started = time.time()

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.time()

        def on_epoch_end(self, epoch, logs=None):
            times = self.run._times()  # noqa: SLF001
            times["epochs"].append(round(time.time() - self.started, 1))
            with open(os.path.join(self.run.run_dir, "time.json"), "w") as f:
                json.dump(times, f)

    class DevScore(keras.callbacks.Callback):
        """Adds the headline metric on the validation split to each epoch's logs, scored on the chief."""

        def __init__(self, run: Run, score):
            super().__init__()
            self.run, self.score = run, score

        def on_epoch_end(self, epoch, logs=None):
            run = self.run
            value = 0.0
            if run.is_chief:
                started = time.time()
                if run._scoring_copy is None:  # built once, outside the strategy: its compiled functions are reused
                    run._scoring_copy = run.build(**run._builder_args)  # noqa: SLF001
                run._load_fitted(run._scoring_copy)  # noqa: SLF001
                value = float(self.score(run._scoring_copy))  # noqa: SLF001
                print(f"epoch {epoch + 1}: {run.monitor} {run.metric.format(value)} ({time.time() - started:.0f} s)",
                      flush=True)
            logs[run.monitor] = float(run.from_chief([value])[0])

    class KeepBest(keras.callbacks.Callback):
        """Keeps the weights of the best epoch by the metric's direction; stops after ``--patience`` epochs
        without a better one. The state lives in the run folder, so it survives a restart."""

        def __init__(self, run: Run):
            super().__init__()
            self.run = run
            self.state_path = os.path.join(run.run_dir, "best.json")
            self.weights_path = os.path.join(run.run_dir, "best.weights.h5")
            self.best = run._best_state()  # noqa: SLF001

        def on_epoch_end(self, epoch, logs=None):
            run = self.run
            value = float(logs[run.monitor])
            known = self.best.get(run.monitor)
            if known is None or run.metric.better(value, known):
                self.model.save_weights(self.weights_path)
                self.best = {run.monitor: value, "epoch": epoch + 1}
                with open(self.state_path, "w") as f:
                    json.dump(self.best, f)
            patience = run.args.patience
            stale = epoch + 1 - self.best["epoch"]
            stop = bool(patience) and stale >= patience and epoch + 1 < self.params["epochs"]
            stop, stale, best = run.from_chief([float(stop), stale, self.best["epoch"]])  # the chief's state decides
            if stop:
                print(f"early stopping: no better {run.monitor} for {int(stale)} epochs (best: epoch {int(best)})", flush=True)
                self.model.stop_training = True

    class TimeBox(keras.callbacks.Callback):
        """Starts no epoch that would end after ``minutes`` of this invocation, judged by the longest epoch
        of the run so far (earlier invocations included). It comes after `Clock`."""

        def __init__(self, run: Run, minutes: float):
            super().__init__()
            self.run, self.minutes = run, minutes
            self.started = time.time()

        def on_train_begin(self, logs=None):
            self.started = time.time()

        def on_epoch_end(self, epoch, logs=None):
            run = self.run
            times = run._times()  # noqa: SLF001  (Clock, just before, has added this epoch)
            elapsed = time.time() - self.started
            stop = elapsed + max(times["epochs"]) > 60 * self.minutes
            if run.from_chief([float(stop)])[0] and epoch + 1 < self.params["epochs"] and not self.model.stop_training:
                print(f"--time-box {self.minutes:g} min: {elapsed / 60:.1f} min used, an epoch takes up to "
                      f"{max(times['epochs']) / 60:.1f}; no further epoch after epoch {epoch + 1}.", flush=True)
                run._time_boxed = True  # noqa: SLF001
                self.model.stop_training = True

    class StopAfter(keras.callbacks.Callback):
        """Raises `TimeBoxReached` after ``epochs`` epochs of this invocation (when more remain)."""

        def __init__(self, epochs: int):
            super().__init__()
            self.epochs, self.done = epochs, 0

        def on_epoch_end(self, epoch, logs=None):
            self.done += 1
            if self.done >= self.epochs and epoch + 1 < self.params["epochs"] and not self.model.stop_training:
                raise TimeBoxReached(epoch + 1)

    return collections.namedtuple("Callbacks", "Backup Clock DevScore KeepBest TimeBox StopAfter")(
        Backup, Clock, DevScore, KeepBest, TimeBox, StopAfter)


# === Data: vocabularies and bucketed batches ===


def count_vocabulary(token_lists, *, size: int | None = None, min_count: int = 1) -> list[str]:
    """Tokens seen at least ``min_count`` times, most frequent first, ties alphabetical, at most ``size``.

    Example:
        >>> count_vocabulary([["a", "b", "b"], ["c", "a", "b"]], size=2)
        ['b', 'a']
    """
    counts = collections.Counter(token for tokens in token_lists for token in tokens)
    ranked = sorted((item for item in counts.items() if item[1] >= min_count), key=lambda item: (-item[1], item[0]))
    return [token for token, _ in ranked[:size]]


def transform_tokens(layer, token_lists, *, chunk: int = 200_000) -> list[list[str]]:
    """``token_lists`` passed through a string-to-string Keras layer (a model's own preprocessing, such as
    `zoo.layers.tagging.NormalizeTokens`), so training counts exactly what the model will see."""
    import tensorflow as tf

    flat = [token for tokens in token_lists for token in tokens]
    out: list[str] = []
    for start in range(0, len(flat), chunk):
        out += [t.decode("utf-8") for t in layer(tf.constant(flat[start : start + chunk], dtype=tf.string)).numpy()]
    lists, position = [], 0
    for tokens in token_lists:
        lists.append(out[position : position + len(tokens)])
        position += len(tokens)
    return lists


def bucketed_dataset(columns, *, lengths, batch_size: int, boundaries, shuffle: bool = False, seed: int = SEED,
                     to_model=None, min_batch: int = 1):
    """Batches of examples of similar length, each padded only to its longest example.

    Args:
        columns: the examples' fields, in order: a list of sequences (ids or strings, of varying lengths,
            padded with 0 or ``""`` per batch) or an array with one row per example.
        lengths: the bucketing length of each example (its tokens, the longer side of a pair...).
        batch_size: examples per batch: `Run.global_batch_size` (under multi-worker training each worker
            takes its share of every batch).
        boundaries: the length boundaries of the buckets.
        shuffle: reshuffle the examples on every pass (training; the same order on every worker).
        to_model: maps one batch's columns to what the model is fitted on, ``(x, y)`` or ``(x, y, weights)``.
        min_batch: smaller batches (a bucket's last, partial one) are left out: under multi-worker training
            every worker must get at least one example of each batch (`Run.batches` passes the worker count).

    Returns:
        A ``tf.data.Dataset`` whose number of batches is known (Keras never "runs out of data"), sharded
        by data across workers (`tf.data.experimental.AutoShardPolicy.DATA`: every worker reads the same
        in-memory examples).

    Example:
        >>> ds = bucketed_dataset([ids, labels], lengths=[len(r) for r in ids], batch_size=64, boundaries=(32, 64),
        ...                       shuffle=True, to_model=lambda x, y: (x, y))
    """
    import numpy as np
    import tensorflow as tf

    lengths = np.asarray(lengths, dtype=np.int64)
    n = len(lengths)
    if n == 0:
        raise ValueError("No examples to batch.")
    tensors, ragged, pads = [], [], []
    for column in columns:
        if isinstance(column, np.ndarray):
            tensors.append(column)
            ragged.append(False)
            pads.append(np.zeros((), column.dtype) if column.dtype != object else "")
            continue
        rows = list(column)
        if len(rows) != n:
            raise ValueError(f"Every column needs one entry per example: {len(rows)} != {n}.")
        sizes = np.array([len(r) for r in rows], np.int32)
        strings = any(len(r) and isinstance(r[0], str) for r in rows[:100])
        padded = np.full((n, max(int(sizes.max()), 1)), "" if strings else 0, dtype=object if strings else np.int32)
        for i, row in enumerate(rows):
            padded[i, : sizes[i]] = row
        tensors += [padded, sizes]
        ragged.append(True)
        pads.append("" if strings else np.int32(0))
    dataset = tf.data.Dataset.from_tensor_slices((lengths, *tensors))

    @tf.autograph.experimental.do_not_convert  # plain tensor ops: nothing for AutoGraph to rewrite
    def unpad(length, *flat):
        out, i = [], 0
        for is_ragged in ragged:
            out.append(flat[i][: flat[i + 1]] if is_ragged else flat[i])
            i += 2 if is_ragged else 1
        return (length, *out)

    dataset = dataset.map(unpad, num_parallel_calls=tf.data.AUTOTUNE)
    if shuffle:
        dataset = dataset.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    boundaries = [int(b) for b in boundaries]
    dataset = dataset.bucket_by_sequence_length(
        element_length_func=lambda length, *_: tf.cast(length, tf.int32),
        bucket_boundaries=boundaries,
        bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
        padding_values=(np.int64(0), *pads),
    )
    if min_batch > 1:
        dataset = dataset.filter(tf.autograph.experimental.do_not_convert(
            lambda length, *batch: tf.shape(length)[0] >= min_batch))

    @tf.autograph.experimental.do_not_convert
    def drop_length(length, *batch):
        return to_model(*batch) if to_model is not None else batch

    dataset = dataset.map(drop_length, num_parallel_calls=tf.data.AUTOTUNE)
    # Each bucket gives its full batches and one partial batch of what remains, whatever the order.
    per_bucket = np.bincount(np.searchsorted(boundaries, lengths, side="right"), minlength=len(boundaries) + 1)
    count = int(sum(c // batch_size + (c % batch_size >= max(min_batch, 1)) for c in per_bucket))
    if count == 0:
        raise ValueError(f"No batch of at least {min_batch} examples from {n} examples.")
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(count))
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options).prefetch(tf.data.AUTOTUNE)


# === Word vectors and the machine ===


def hardware() -> str:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return f"{len(gpus)} GPU(s)" if gpus else f"{os.cpu_count()} CPU cores"


def word2vec_matrix(token_lists, vocabulary, *, rows: int, dim: int, cache: str, epochs: int = 5, seed: int = 42):
    """An embedding matrix for ``[padding, OOV, *vocabulary]`` from skip-gram word2vec (gensim) on ``token_lists``.

    Rows of words word2vec did not keep stay random; all rows are scaled to a std of about 0.1, like a
    fresh embedding. The matrix is cached in ``cache`` (an ``.npz``), so the key should identify the
    corpus and vocabulary.

    Example:
        >>> matrix = word2vec_matrix(tokens, vocab, rows=len(vocab) + 2, dim=100, cache="runs/w2v/abc.npz")
    """
    import numpy as np

    if os.path.exists(cache):
        return np.load(cache)["matrix"]
    from gensim.models import Word2Vec

    print(f"word2vec: {sum(map(len, token_lists)):,} tokens, {epochs} epochs", flush=True)
    w2v = Word2Vec(
        sentences=token_lists, vector_size=dim, window=5, min_count=3, sg=1, negative=5,
        workers=os.cpu_count() or 2, epochs=epochs, seed=seed,
    )
    rng = np.random.default_rng(seed)
    matrix = rng.normal(0, 0.05, (rows, dim)).astype(np.float32)
    matrix[0] = 0.0
    found = [i for i, word in enumerate(vocabulary) if word in w2v.wv]
    if found:
        matrix[[i + 2 for i in found]] = np.stack([w2v.wv[vocabulary[i]] for i in found])
    scale = np.std(matrix[2:]) or 1.0
    matrix[1:] /= scale / 0.1
    print(f"word2vec: {len(found):,}/{len(vocabulary):,} vocabulary words have vectors", flush=True)
    save_npz(cache, matrix=matrix)
    return matrix


def save_npz(path: str, **arrays) -> None:
    """``np.savez`` through a temporary file of this process, renamed into place: never a half-written cache,
    even with several workers writing the same one."""
    import numpy as np

    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    temporary = f"{path}.{os.getpid()}.tmp.npz"
    np.savez(temporary, **arrays)
    os.replace(temporary, path)
