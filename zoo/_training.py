"""Pieces every recipe uses: distribution strategies, keeping the best epoch, time-boxed runs."""

from __future__ import annotations

import json
import os


def make_strategy(kind: str):
    """``"default"``, ``"mirrored"`` (all local GPUs, else the logical CPU devices) or ``"multiworker"`` (TF_CONFIG)."""
    import tensorflow as tf

    if kind == "mirrored":
        if tf.config.list_logical_devices("GPU"):
            return tf.distribute.MirroredStrategy()
        return tf.distribute.MirroredStrategy([d.name for d in tf.config.list_logical_devices("CPU")])
    if kind == "multiworker":
        if "TF_CONFIG" not in os.environ:
            raise ValueError("--strategy multiworker needs the TF_CONFIG environment variable describing the cluster.")
        return tf.distribute.MultiWorkerMirroredStrategy()
    if kind != "default":
        raise ValueError(f"strategy must be 'default', 'mirrored' or 'multiworker', got {kind!r}.")
    return tf.distribute.get_strategy()


RUN_STATE_FILES = ("best.json", "best.weights.h5", "history.csv")  # what a run leaves in runs/<name>/


def prepare_run_dir(run_dir: str) -> str:
    """Creates ``run_dir``; unless it holds a backup to resume from (``run_dir/backup``, written by
    ``BackupAndRestore``), forgets an older run's best epoch and history so a fresh run starts clean."""
    os.makedirs(run_dir, exist_ok=True)
    if not os.path.exists(os.path.join(run_dir, "backup")):
        for name in RUN_STATE_FILES:
            path = os.path.join(run_dir, name)
            if os.path.exists(path):
                os.remove(path)
    return run_dir


def keep_best_callback(run_dir: str, monitor: str = "val_accuracy"):
    """Saves the weights of the best epoch by ``monitor`` (higher is better); remembers it across restarts."""
    import keras

    class KeepBest(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.state_path = os.path.join(run_dir, "best.json")
            self.weights_path = os.path.join(run_dir, "best.weights.h5")
            self.best = {monitor: -1.0}
            if os.path.exists(self.state_path):
                with open(self.state_path) as f:
                    self.best = json.load(f)

        def on_epoch_end(self, epoch, logs=None):
            value = float(logs[monitor])
            if value > self.best[monitor]:
                self.model.save_weights(self.weights_path)
                self.best = {monitor: value, "epoch": epoch + 1}
                with open(self.state_path, "w") as f:
                    json.dump(self.best, f)

    return KeepBest()


class TimeBoxReached(Exception):
    """Raised after ``--stop-after-epochs`` epochs, once the backup of the last epoch is written."""


def time_box_callback(epochs: int):
    """Stops training after ``epochs`` epochs of this invocation; put it after BackupAndRestore."""
    import keras

    class TimeBox(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.done = 0

        def on_epoch_end(self, epoch, logs=None):
            self.done += 1
            if self.done >= epochs and epoch + 1 < self.params["epochs"]:
                raise TimeBoxReached(epoch + 1)

    return TimeBox()


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
    matrix[[i + 2 for i in found]] = np.stack([w2v.wv[vocabulary[i]] for i in found])
    scale = np.std(matrix[2:]) or 1.0
    matrix[1:] /= scale / 0.1
    print(f"word2vec: {len(found):,}/{len(vocabulary):,} vocabulary words have vectors", flush=True)
    os.makedirs(os.path.dirname(cache) or ".", exist_ok=True)
    temporary = f"{cache}.{os.getpid()}.tmp.npz"
    np.savez(temporary, matrix=matrix)
    os.replace(temporary, cache)  # never a half-written cache
    return matrix
