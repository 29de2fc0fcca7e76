"""What the forecaster recipe trains with: windows as a ``tf.data`` pipeline and a loss on the normalized scale.

The model takes and gives original units; the loss and the validation metric divide each error by the
train rows' standard deviation of its column first, so they are the MSE on the normalized scale that the
ETTh1 figures are published on.
"""

from __future__ import annotations


def window_dataset(values, starts, *, input_length: int, horizon: int, targets, batch_size: int,
                   shuffle: bool = False, seed: int = 0):
    """``(history, future)`` batches in original units: ``values[s - L : s]`` and ``values[s : s + H, targets]``
    for each first-target row ``s`` of ``starts``.

    Windows are gathered on the fly from one copy of the series, so no window array is held in memory; the
    number of batches is known (``cardinality``), as `zoo._training.Run.fit` needs.
    """
    import numpy as np
    import tensorflow as tf

    series = tf.constant(np.asarray(values, np.float32))
    offsets = tf.range(-input_length, horizon)
    columns = tf.constant(list(targets), tf.int32)

    def gather(first):
        rows = tf.gather(series, first[:, None] + offsets[None, :])  # [batch, L + H, C]
        return rows[:, :input_length], tf.gather(rows[:, input_length:], columns, axis=-1)

    dataset = tf.data.Dataset.from_tensor_slices(np.asarray(starts, np.int32))
    if shuffle:
        dataset = dataset.shuffle(len(starts), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).map(gather, num_parallel_calls=tf.data.AUTOTUNE).prefetch(2)


def normalized_mse(scale):
    """A Keras loss/metric function: the mean of ``((y_true - y_pred) / scale) ** 2`` (``scale`` per column)."""
    import numpy as np
    from keras import ops

    scale = np.asarray(scale, np.float32)

    def mse(y_true, y_pred):
        return ops.mean(ops.square((y_true - y_pred) / scale), axis=(-2, -1))

    return mse


def normalized_mae(scale):
    """The mean of ``|y_true - y_pred| / scale`` (``scale`` per column)."""
    import numpy as np
    from keras import ops

    scale = np.asarray(scale, np.float32)

    def mae(y_true, y_pred):
        return ops.mean(ops.abs((y_true - y_pred) / scale), axis=(-2, -1))

    return mae
