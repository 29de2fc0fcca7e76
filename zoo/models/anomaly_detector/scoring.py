"""Scoring one series: normalize, adapt the predictor to the series, predict every row, turn errors into scores.

Per series (the pipeline, the stream and `zoo eval` all run this):

1. the first ``P`` rows (the probation period) give the normalization (`likelihood.normalization`);
2. a copy of the pretrained predictor is fine-tuned on the windows of the probation rows (`FineTuner`:
   10 epochs, batches of 64, Adam 1e-3, Huber loss, a fixed shuffle), the only per-series learning;
3. every row from ``W`` on is predicted from the ``W`` rows before it, all windows in batches (`predict_next`);
4. `likelihood.score_errors` turns the errors into scores.

Nothing after row ``t`` reaches the score of row ``t``: the fine-tuning reads rows before ``P``, and rows
before ``P`` score 0. `NumpyPredictor` is the same predictor in NumPy, one window at a time, for streams.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from zoo.models.anomaly_detector import likelihood

FINETUNE_EPOCHS = 10  # passes over the probation windows of the series
FINETUNE_BATCH = 64  # windows per step
FINETUNE_LEARNING_RATE = 1e-3  # Adam, fresh for every series
FINETUNE_SEED = 0  # the shuffle of the windows, the same for every series
MIN_FINETUNE_WINDOWS = 16  # the probation period must hold at least W + 16 rows


def min_probation(window: int) -> int:
    """The shortest probation period the detector accepts: ``window + 16`` rows."""
    return window + MIN_FINETUNE_WINDOWS


@dataclasses.dataclass(frozen=True, eq=False)
class SeriesScores:
    """What the detector computed for one series (all arrays one entry per row).

    Attributes:
        scores: anomaly scores in ``[0, 1]`` (0 during the probation period).
        predictions: the predicted values in the series' units (NaN for the first ``W`` rows).
        errors: the normalized prediction errors (NaN for the first ``W`` rows).
        center, scale: the normalization (from the probation rows).
        probation: the rows that calibrate the detector and score 0.
    """

    scores: np.ndarray
    predictions: np.ndarray
    errors: np.ndarray
    center: float
    scale: float
    probation: int


def windows(normalized: np.ndarray, window: int) -> np.ndarray:
    """Every window of ``window`` consecutive values that has a next value: ``[n - window, window]`` (a view)."""
    return np.lib.stride_tricks.sliding_window_view(normalized[:-1], window)


def predict_next(model, normalized: np.ndarray, *, batch_size: int = 8192) -> np.ndarray:
    """The predictor's next value for every row (NaN for the first ``W``), all windows in batches."""
    from zoo._inference import compiled_forward
    from zoo._predict import predict_batched
    from zoo.models.anomaly_detector.model import window_length

    width = window_length(model)
    out = np.full(len(normalized), np.nan, dtype=np.float32)
    if len(normalized) <= width:
        return out
    every = windows(np.asarray(normalized, dtype=np.float32), width)
    forward = compiled_forward(model)
    # One item per slice of consecutive windows: the slices keep their order and need no copying.
    starts = list(range(0, len(every), batch_size))
    chunks = predict_batched(starts, lambda batch: [forward(every[s: s + batch_size]).numpy()[:, 0] for s in batch],
                             batch_size=1, progress=False)
    out[width:] = np.concatenate(chunks)
    return out


class FineTuner:
    """A working copy of a predictor and one compiled training step, reused for every series.

    ``tune(windows, targets)`` resets the copy to the pretrained weights and a fresh Adam, trains it on the
    given windows and returns it; the pretrained model is never changed.
    """

    def __init__(self, model):
        import keras
        import tensorflow as tf

        from zoo.models.anomaly_detector.model import window_length

        self.source = model
        self.model = keras.models.clone_model(model)
        self.model.set_weights(model.get_weights())
        self.optimizer = keras.optimizers.Adam(FINETUNE_LEARNING_RATE)
        self.optimizer.build(self.model.trainable_variables)
        self._resettable = [v for v in self.optimizer.variables if "learning_rate" not in v.path]
        loss = keras.losses.Huber(1.0)
        variables = self.model.trainable_variables
        signature = [tf.TensorSpec([None, window_length(model)], tf.float32), tf.TensorSpec([None], tf.float32)]

        @tf.function(input_signature=signature)
        def step(x, y):
            with tf.GradientTape() as tape:
                value = loss(y, self.model(x, training=True)[:, 0])
            self.optimizer.apply_gradients(zip(tape.gradient(value, variables), variables))
            return value

        self._step = step

    def tune(self, windows: np.ndarray, targets: np.ndarray):
        """The copy, reset to the pretrained weights and fine-tuned on ``windows -> targets``."""
        import tensorflow as tf

        self.model.set_weights(self.source.get_weights())
        for variable in self._resettable:
            variable.assign(tf.zeros_like(variable))
        windows = np.ascontiguousarray(windows, dtype=np.float32)
        targets = np.ascontiguousarray(targets, dtype=np.float32)
        order_of = np.random.RandomState(FINETUNE_SEED)
        for _ in range(FINETUNE_EPOCHS):
            order = order_of.permutation(len(windows))
            for start in range(0, len(order), FINETUNE_BATCH):
                batch = order[start: start + FINETUNE_BATCH]
                self._step(windows[batch], targets[batch])
        return self.model


def fine_tuner(model) -> FineTuner:
    """The `FineTuner` of ``model``, built once per model."""
    from zoo._inference import per_model

    return per_model(model, "anomaly_fine_tuner", FineTuner)


def adapted_predictor(model, normalized: np.ndarray, probation: int):
    """The predictor fine-tuned on the windows inside the first ``probation`` rows (a shared working copy)."""
    from zoo.models.anomaly_detector.model import window_length

    width = window_length(model)
    every = windows(np.asarray(normalized[:probation], dtype=np.float32), width)
    return fine_tuner(model).tune(every, normalized[width:probation])


def score_series(model, values, *, probation: int, adapt: bool = True) -> SeriesScores:
    """Scores one series (already validated: finite float64 values, ``probation`` checked).

    Args:
        model: the pretrained predictor.
        values: the series, in file order.
        probation: rows that calibrate the detector (normalization, fine-tuning) and score 0.
        adapt: fine-tune a copy of the predictor on the probation rows (the card's setting); False uses the
            pretrained predictor as it is.
    """
    values = np.asarray(values, dtype=np.float64)
    center, scale = likelihood.normalization(values[:probation])
    normalized = ((values - center) / scale).astype(np.float32)
    predictor = adapted_predictor(model, normalized, probation) if adapt else model
    predicted = predict_next(predictor, normalized)
    errors = normalized.astype(np.float64) - predicted.astype(np.float64)
    scores = likelihood.score_errors(errors, values, probation)
    return SeriesScores(scores=scores, predictions=predicted.astype(np.float64) * scale + center, errors=errors,
                        center=center, scale=scale, probation=int(probation))


class NumpyPredictor:
    """The predictor in NumPy for one window at a time (streams): the same numbers as the Keras model.

    Built from a model's weights (`from_model`); ``predict(window)`` takes the last ``W`` normalized values.
    """

    def __init__(self, *, cell: str, kernel, recurrent, bias, dense_kernel, dense_bias, clip: float, window: int):
        self.cell = cell
        self.kernel = np.asarray(kernel, np.float64)[0]  # the input is one value per step
        self.recurrent = np.asarray(recurrent, np.float64)
        self.bias = np.asarray(bias, np.float64)
        self.dense_kernel = np.asarray(dense_kernel, np.float64)[:, 0]
        self.dense_bias = float(np.asarray(dense_bias).reshape(-1)[0])
        self.clip = float(clip)
        self.window = int(window)
        self.units = self.recurrent.shape[0]

    @classmethod
    def from_model(cls, model) -> "NumpyPredictor":
        from zoo.models.anomaly_detector.model import CELLS, window_length

        cell = next(c for c in CELLS if any(layer.name == c for layer in model.layers))
        weights = model.get_layer(cell).get_weights()
        dense = model.get_layer("change").get_weights()
        return cls(cell=cell, kernel=weights[0], recurrent=weights[1], bias=weights[2], dense_kernel=dense[0],
                   dense_bias=dense[1], clip=model.get_layer("scale_up").scale, window=window_length(model))

    def predict(self, window) -> float:
        """The next normalized value after ``window`` (the last ``W`` normalized values, oldest first)."""
        x = np.asarray(window, dtype=np.float64)
        last = x[-1]
        steps = np.tanh((x - last) / self.clip) * self.clip
        u = self.units
        h = np.zeros(u)
        if self.cell == "lstm":
            inputs = np.outer(steps, self.kernel) + self.bias
            c = np.zeros(u)
            for k in range(self.window):
                z = inputs[k] + h @ self.recurrent
                gates = 1.0 / (1.0 + np.exp(-z))
                c = gates[u: 2 * u] * c + gates[:u] * np.tanh(z[2 * u: 3 * u])
                h = gates[3 * u:] * np.tanh(c)
        else:  # Keras GRU, reset_after=True: bias[0] on the inputs, bias[1] on the recurrent part
            inputs = np.outer(steps, self.kernel) + self.bias[0]
            for k in range(self.window):
                r = h @ self.recurrent + self.bias[1]
                gates = 1.0 / (1.0 + np.exp(-(inputs[k, : 2 * u] + r[: 2 * u])))
                candidate = np.tanh(inputs[k, 2 * u:] + gates[u:] * r[2 * u:])
                h = gates[:u] * h + (1.0 - gates[:u]) * candidate
        return float(last + h @ self.dense_kernel + self.dense_bias)
