"""The row reader's Keras model: a 28x28 digit read as 28 steps of 28 pixels by an LSTM.

Each row of the image is one time step; the LSTM's last state feeds a softmax over the ten digits. The
model takes MNIST-style pixels (float32 ``(28, 28)``, 0 background, 255 ink) and scales them itself, so a
checkpoint takes the pixels `zoo.models.row_reader.digits.to_mnist` gives for any picture of a digit.

Example:
    >>> import zoo
    >>> model = zoo.build("mnist-row-lstm")
    >>> model(np.zeros((1, 28, 28), np.float32)).shape
    TensorShape([1, 10])
"""

from __future__ import annotations

SIDE = 28  # rows (time steps) and pixels per row


def build_row_reader(*, units: int = 128, layers: int = 1, bidirectional: bool = False, dropout: float = 0.0,
                     num_classes: int = 10, name: str = "row_reader"):
    """Builds an untrained row-by-row digit reader (pixels ``(28, 28)`` in, ``num_classes`` probabilities out).

    Args:
        units: LSTM units (per direction when bidirectional).
        layers: stacked LSTM layers; all but the last return their whole sequence.
        bidirectional: read the rows top-down and bottom-up.
        dropout: dropout between the layers and before the softmax.
        num_classes: how many digits.
        name: the model's name.
    """
    import keras
    from keras import layers as kl

    if not isinstance(layers, int) or layers < 1:
        raise ValueError(f"layers must be a positive integer, got {layers!r}.")
    pixels = keras.Input(shape=(SIDE, SIDE), dtype="float32", name="pixels")
    x = kl.Rescaling(1.0 / 255.0, name="scale")(pixels)
    for i in range(layers):
        last = i == layers - 1
        rnn = kl.LSTM(units, return_sequences=not last, name=f"lstm_{i + 1}")
        if bidirectional:
            rnn = kl.Bidirectional(rnn, name=f"bidirectional_lstm_{i + 1}")
        x = rnn(x)
        if dropout:
            x = kl.Dropout(dropout, name=f"dropout_{i + 1}")(x)
    probabilities = kl.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(pixels, probabilities, name=name)
