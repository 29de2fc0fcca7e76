"""The CTC reader's Keras model: a grey text image in, one probability per class and time step out.

Convolution blocks (each halving the height and the width) turn the image into a row of feature
columns (one per ``2 ** len(filters)`` pixels of width), a dense layer shrinks each column, two bidirectional LSTMs read the columns left to right and back, and a softmax
gives, at each of the ``width / 2 ** len(filters)`` steps, a probability over the blank (class 0) and the characters
(class ``i + 1`` is ``alphabet[i]``). Trained with CTC loss; decoded by `zoo.decoding.ctc_decode`.

The model takes grey pixels (float32 ``(height, width)`` in [0, 255]) and scales them itself; the
pipeline makes any picture into those pixels (`zoo.models.ctc_reader.pipeline.to_pixels`).

Example:
    >>> import zoo
    >>> model = zoo.build("captcha-crnn-ctc")
    >>> model(np.zeros((1, 50, 200), np.float32)).shape       # 25 steps, blank + 19 characters
    TensorShape([1, 25, 20])
"""

from __future__ import annotations

def build_ctc_reader(*, alphabet: str = "2345678bcdefgmnpwxy", height: int = 50, width: int = 200,
                     filters: tuple[int, ...] = (32, 64), dense_units: int = 64, units: tuple[int, ...] = (128, 64),
                     dropout: float = 0.25, name: str = "ctc_reader"):
    """Builds an untrained CRNN (conv features, bidirectional LSTMs) with per-step softmax outputs.

    Args:
        alphabet: the characters it reads; the outputs are ``1 + len(alphabet)`` classes (0 is the blank).
        height, width: the pixel size it reads (width divisible by ``2 ** len(filters)``); the pipeline
            resizes images to it.
        filters: filters of each 3x3 convolution block (conv, batch norm, ReLU, 2x2 max pooling); ``n`` blocks
            give one step per ``2 ** n`` pixels of width.
        dense_units: width of the dense layer (with batch norm) applied to each feature column.
        units: LSTM units of each bidirectional layer (per direction).
        dropout: dropout after the dense layer and between the LSTMs.
        name: the model's name.
    """
    import keras
    from keras import layers

    if not filters:
        raise ValueError(f"filters must give at least one convolution block's width, got {filters!r}.")
    downsample = 2 ** len(filters)
    if width % downsample or height < downsample:
        raise ValueError(f"width must be divisible by {downsample} and height at least {downsample} for "
                         f"{len(filters)} convolution blocks, got {height}x{width}.")
    if not alphabet or len(set(alphabet)) != len(alphabet):
        raise ValueError(f"alphabet must be a non-empty string of distinct characters, got {alphabet!r}.")

    # === Features: (height, width) pixels -> (width / downsample) columns ===
    pixels = keras.Input(shape=(height, width), dtype="float32", name="pixels")
    x = layers.Rescaling(1.0 / 255.0, name="scale")(pixels)
    x = layers.Permute((2, 1), name="width_first")(x)  # time runs along the width
    x = layers.Reshape((width, height, 1), name="channel")(x)
    for i, count in enumerate(filters):
        x = layers.Conv2D(count, 3, padding="same", use_bias=False, name=f"conv_{i + 1}")(x)
        x = layers.BatchNormalization(name=f"norm_{i + 1}")(x)
        x = layers.ReLU(name=f"relu_{i + 1}")(x)
        x = layers.MaxPooling2D(2, name=f"pool_{i + 1}")(x)
    x = layers.Reshape((width // downsample, x.shape[2] * filters[-1]), name="columns")(x)  # pooling floors odd heights
    x = layers.Dense(dense_units, use_bias=False, name="column_dense")(x)
    x = layers.BatchNormalization(name="column_norm")(x)
    x = layers.ReLU(name="column_relu")(x)
    x = layers.Dropout(dropout, name="column_dropout")(x)

    # === Sequence: bidirectional LSTMs over the columns ===
    for i, count in enumerate(units):
        if i:  # a layer of its own, not the LSTM's dropout argument: that one's seed state does not convert to TFLite
            x = layers.Dropout(dropout, name=f"lstm_dropout_{i}")(x)
        x = layers.Bidirectional(layers.LSTM(count, return_sequences=True), name=f"bidirectional_lstm_{i + 1}")(x)
    probabilities = layers.Dense(len(alphabet) + 1, activation="softmax", name="probabilities")(x)
    return keras.Model(pixels, probabilities, name=name)
