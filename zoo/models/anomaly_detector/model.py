"""The anomaly detector's predictor: the last ``window`` values of a series (normalized) in, the next value out.

The window is centered on its last value and soft-clipped (``clip * tanh(x / clip)``), so the network sees
shapes, not levels; one recurrent layer reads it and a dense layer gives the change from the last value.
Only built-in Keras layers: ``keras.saving.load_model(path, safe_mode=True)`` opens the checkpoint.

Example:
    >>> import zoo
    >>> model = zoo.build("nab-lstm")
    >>> model(np.zeros((2, 32), "float32")).shape
    TensorShape([2, 1])
"""

from __future__ import annotations

CELLS = ("lstm", "gru")


def build_anomaly_detector(*, cell: str = "lstm", units: int = 32, window: int = 32, clip: float = 10.0,
                           name: str = "anomaly_detector"):
    """Builds an untrained next-value predictor.

    Args:
        cell: ``"lstm"`` or ``"gru"``.
        units: hidden units of the recurrent layer.
        window: how many past values the prediction reads.
        clip: the centered window is squashed to ``(-clip, clip)`` (in units of the series' scale), so a
            spike in the window cannot drive the cell far outside what it was trained on.
        name: the model's name.

    Returns:
        A ``keras.Model`` from ``window`` (float32 ``[batch, window]``, normalized values, oldest first) to
        the predicted next value (float32 ``[batch, 1]``, same units).
    """
    import keras
    from keras import layers

    if cell not in CELLS:
        raise ValueError(f"cell must be one of {CELLS}, got {cell!r}.")
    if not isinstance(window, int) or window < 2:
        raise ValueError(f"window must be an integer of at least 2, got {window!r}.")
    if not clip > 0:
        raise ValueError(f"clip must be positive, got {clip!r}.")

    # === Centering: the window relative to its last value, soft-clipped ===
    values = keras.Input(shape=(window,), dtype="float32", name="window")
    steps = layers.Reshape((window, 1), name="steps")(values)
    last = layers.Cropping1D((window - 1, 0), name="last_value")(steps)
    centered = layers.Subtract(name="center")([steps, last])
    squashed = layers.Rescaling(1.0 / clip, name="scale_down")(centered)
    squashed = layers.Activation("tanh", name="soft_clip")(squashed)
    squashed = layers.Rescaling(clip, name="scale_up")(squashed)

    # === Predictor: the change from the last value ===
    rnn = {"lstm": layers.LSTM, "gru": layers.GRU}[cell]
    state = rnn(units, name=cell)(squashed)
    change = layers.Dense(1, name="change")(state)
    prediction = layers.Add(name="prediction")([layers.Flatten(name="last")(last), change])
    return keras.Model(values, prediction, name=name)


def window_length(model) -> int:
    """How many past values ``model`` reads (its input width)."""
    return int(model.inputs[0].shape[1])
