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
