"""Layers of the forecasters: the scaler inside the model, reversible instance normalization and the
segment reshapes of SegRNN (Lin et al. 2023).

All of them are plain tensor reshapes and arithmetic, so a model built from them converts to TFLite with
builtin ops only.
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class Scaler(keras.layers.Layer):
    """A StandardScaler inside the model: ``(x - mean) / scale`` per channel, or its inverse.

    The statistics are non-trainable weights, so a checkpoint carries them: set them from the train rows
    with `set_statistics` (or `adapt`) before training, and the model takes and gives original units.

    Args:
        channels: the size of the last axis.
        inverse: when True the layer maps back: ``x * scale + mean``.
        mean, scale: initial statistics (lists of ``channels`` floats); zeros and ones when None.
        columns: which of the model's input columns these channels are (the forecast columns of an
            inverse scaler); None: all of them, in order.

    Example:
        >>> scaler = Scaler(7, name="scaler")
        >>> scaler.set_statistics(train.mean(0), train.std(0))
    """

    def __init__(self, channels: int, *, inverse: bool = False, mean=None, scale=None, columns=None, **kwargs):
        super().__init__(**kwargs)
        self.channels = int(channels)
        self.inverse = bool(inverse)
        self.columns = None if columns is None else [int(c) for c in columns]
        if self.columns is not None and len(self.columns) != self.channels:
            raise ValueError(f"columns names {len(self.columns)} columns for {self.channels} channels.")
        self._initial = (
            None if mean is None else [float(v) for v in mean],
            None if scale is None else [float(v) for v in scale],
        )
        for values, what in zip(self._initial, ("mean", "scale")):
            if values is not None and len(values) != self.channels:
                raise ValueError(f"{what} has {len(values)} values for {self.channels} channels.")
        if self._initial[1] is not None and min(self._initial[1]) <= 0:
            raise ValueError("scale must be positive.")

    def build(self, input_shape):
        mean, scale = self._initial
        self.mean = self.add_weight(
            shape=(self.channels,), name="mean", trainable=False,
            initializer="zeros" if mean is None else keras.initializers.Constant(mean))
        self.scale = self.add_weight(
            shape=(self.channels,), name="scale", trainable=False,
            initializer="ones" if scale is None else keras.initializers.Constant(scale))

    def set_statistics(self, mean, scale) -> None:
        """Sets the per-channel mean and scale (a standard deviation: positive)."""
        import numpy as np

        mean, scale = np.asarray(mean, "float32").reshape(-1), np.asarray(scale, "float32").reshape(-1)
        if mean.shape != (self.channels,) or scale.shape != (self.channels,):
            raise ValueError(f"Expected {self.channels} means and scales, got {mean.shape} and {scale.shape}.")
        if not np.all(scale > 0):
            raise ValueError("scale must be positive in every channel.")
        if not self.built:
            self.build((None, None, self.channels))
        self.mean.assign(mean)
        self.scale.assign(scale)

    def adapt(self, values) -> None:
        """Fits the statistics on ``values`` (``[rows, channels]``): mean and population standard deviation."""
        import numpy as np

        values = np.asarray(values, "float64").reshape(-1, self.channels)
        self.set_statistics(values.mean(axis=0), values.std(axis=0))

    def call(self, inputs):
        mean, scale = ops.cast(self.mean, inputs.dtype), ops.cast(self.scale, inputs.dtype)
        return inputs * scale + mean if self.inverse else (inputs - mean) / scale

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(channels=self.channels, inverse=self.inverse, mean=self._initial[0], scale=self._initial[1],
                      columns=self.columns)
        return config


@keras.saving.register_keras_serializable(package="zoo")
class InstanceNormalization(keras.layers.Layer):
    """The "norm" half of reversible instance normalization (RevIN, Kim et al. 2022, without the affine part).

    Each window is normalized by its own mean and standard deviation over time, per channel; the layer
    returns the normalized window and the two statistics, which `InstanceDenormalization` uses to put the
    forecast back on the window's level. With ``mode="last"`` the window's last value is subtracted
    instead (SegRNN's default) and the scale is 1.
    """

    def __init__(self, mode: str = "revin", epsilon: float = 1e-5, **kwargs):
        super().__init__(**kwargs)
        if mode not in ("revin", "last"):
            raise ValueError(f"mode must be 'revin' or 'last', got {mode!r}.")
        self.mode = mode
        self.epsilon = float(epsilon)

    def call(self, inputs):
        if self.mode == "last":
            level = inputs[:, -1:, :]
            spread = ops.ones_like(level)
        else:
            level = ops.mean(inputs, axis=1, keepdims=True)
            spread = ops.sqrt(ops.var(inputs, axis=1, keepdims=True) + self.epsilon)
        return (inputs - level) / spread, level, spread

    def compute_output_shape(self, input_shape):
        stats = (input_shape[0], 1, input_shape[2])
        return input_shape, stats, stats

    def get_config(self):
        config = super().get_config()
        config.update(mode=self.mode, epsilon=self.epsilon)
        return config


@keras.saving.register_keras_serializable(package="zoo")
class InstanceDenormalization(keras.layers.Layer):
    """``forecast * spread + level``: the "denorm" half of `InstanceNormalization`."""

    def call(self, inputs):
        forecast, level, spread = inputs
        return forecast * spread + level

    def compute_output_shape(self, input_shape):
        return input_shape[0]


@keras.saving.register_keras_serializable(package="zoo")
class ToSegments(keras.layers.Layer):
    """``[batch, time, channels]`` -> ``[batch * channels, time / segment_length, segment_length]``.

    Each channel becomes its own sequence of non-overlapping segments (channel independence).
    """

    def __init__(self, segment_length: int, **kwargs):
        super().__init__(**kwargs)
        self.segment_length = int(segment_length)

    def call(self, inputs):
        time = inputs.shape[1]
        if time % self.segment_length:
            raise ValueError(f"The input length {time} is not a multiple of the segment length {self.segment_length}.")
        x = ops.transpose(inputs, (0, 2, 1))
        return ops.reshape(x, (-1, time // self.segment_length, self.segment_length))

    def compute_output_shape(self, input_shape):
        batch = None if input_shape[0] is None else input_shape[0] * input_shape[2]
        return batch, input_shape[1] // self.segment_length, self.segment_length

    def get_config(self):
        config = super().get_config()
        config.update(segment_length=self.segment_length)
        return config


@keras.saving.register_keras_serializable(package="zoo")
class SegmentQueries(keras.layers.Layer):
    """SegRNN's parallel decoding inputs: one query per output segment and channel.

    Takes the encoder's last state ``[batch * channels, units]`` and returns ``(queries, states)``, both
    ``[batch * channels * segments, ...]``: ``queries[:, 0, :]`` is the concatenation of a learned position
    embedding (which output segment) and a learned channel embedding (which series), and ``states`` repeats
    each channel's encoder state once per output segment. One recurrent step from each state on its
    query gives every output segment at once (no error accumulates from step to step).
    """

    def __init__(self, channels: int, segments: int, units: int, **kwargs):
        super().__init__(**kwargs)
        self.channels, self.segments, self.units = int(channels), int(segments), int(units)
        if self.units % 2:
            raise ValueError(f"units must be even (half position, half channel embedding), got {units}.")

    def build(self, input_shape):
        half = self.units // 2
        self.position = self.add_weight(shape=(self.segments, half), name="position", initializer="random_normal")
        self.channel = self.add_weight(shape=(self.channels, half), name="channel", initializer="random_normal")

    def call(self, states):
        half = self.units // 2
        position = ops.broadcast_to(self.position[None, :, :], (self.channels, self.segments, half))
        channel = ops.broadcast_to(self.channel[:, None, :], (self.channels, self.segments, half))
        table = ops.reshape(ops.concatenate([position, channel], axis=-1), (1, self.channels * self.segments, self.units))
        batch = ops.shape(states)[0] // self.channels
        queries = ops.reshape(ops.tile(ops.cast(table, states.dtype), (batch, 1, 1)), (-1, 1, self.units))
        repeated = ops.reshape(ops.tile(states[:, None, :], (1, self.segments, 1)), (-1, self.units))
        return queries, repeated

    def compute_output_shape(self, input_shape):
        batch = None if input_shape[0] is None else input_shape[0] * self.segments
        return (batch, 1, self.units), (batch, self.units)

    def get_config(self):
        config = super().get_config()
        config.update(channels=self.channels, segments=self.segments, units=self.units)
        return config


@keras.saving.register_keras_serializable(package="zoo")
class FromSegments(keras.layers.Layer):
    """``[batch * channels * segments, segment_length]`` -> ``[batch, length, channels]``, ``length`` being
    ``segments * segment_length`` (the horizon): the inverse of the per-channel split into segments."""

    def __init__(self, channels: int, length: int, **kwargs):
        super().__init__(**kwargs)
        self.channels, self.length = int(channels), int(length)

    def call(self, inputs):
        x = ops.reshape(inputs, (-1, self.channels, self.length))
        return ops.transpose(x, (0, 2, 1))

    def compute_output_shape(self, input_shape):
        return None, self.length, self.channels

    def get_config(self):
        config = super().get_config()
        config.update(channels=self.channels, length=self.length)
        return config


@keras.saving.register_keras_serializable(package="zoo")
class SelectChannels(keras.layers.Layer):
    """Keeps the channels ``indices`` of the last axis (the forecast columns among the inputs)."""

    def __init__(self, indices, **kwargs):
        super().__init__(**kwargs)
        self.indices = [int(i) for i in indices]

    def call(self, inputs):
        return ops.take(inputs, self.indices, axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], len(self.indices))

    def get_config(self):
        config = super().get_config()
        config.update(indices=self.indices)
        return config
