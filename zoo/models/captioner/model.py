"""The captioners' Keras model: a frozen MobileNetV2 encoder and an LSTM decoder (see the package docstring)."""

from __future__ import annotations

import os

from zoo.decoding import SpecialTokens

DECODERS = ("show_and_tell", "attention")
IMAGE_SIZE = 160  # the Flickr8k copy is 160x160; every image is resized (whole image, no crop) to this
FEATURES = 1280  # channels of MobileNetV2's last feature map
ENCODER_WEIGHTS_FILE = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.weights.h5"
START, END = "<start>", "<end>"
TOKENS = SpecialTokens(pad=0, unk=1, start=2, end=3)  # ids of "", "[UNK]", "<start>", "<end>" in the vocabulary
PAD_ID, UNK_ID, START_ID, END_ID = TOKENS.pad, TOKENS.unk, TOKENS.start, TOKENS.end
MAX_WORDS = 20  # longest caption written (98.4% of the training captions have at most 20 words)
DEFAULT_BEAM_WIDTH = 3
DEFAULT_LENGTH_PENALTY = 0.0  # alpha of zoo.decoding.length_normalization: 0 ranks beams by plain log-probability


# === Builders ===


def build_captioner(
    *,
    decoder: str = "show_and_tell",
    vocab_size: int = 1667,
    embedding_dim: int = 96,
    units: int = 192,
    feature_dim: int = 96,
    attention_dim: int = 96,
    dropout: float = 0.3,
    image_size: int = IMAGE_SIZE,
    encoder_weights: str | None = "imagenet",
    vocabulary: list[str] | None = None,
    name: str = "captioner",
):
    """Builds a captioner with the frozen ImageNet encoder and an untrained decoder.

    Args:
        decoder: ``"show_and_tell"`` (image as the LSTM's first input) or ``"attention"`` (soft
            attention over the encoder's spatial grid at every step).
        vocab_size: the most output classes: the words plus padding, unknown, ``<start>`` and ``<end>``. The
            embedding and the output layer are sized to the vocabulary actually given (up to this), so every
            output id is a word of the model.
        embedding_dim: width of the word embeddings (and of the image embedding for show_and_tell).
        units: LSTM units.
        feature_dim, attention_dim: width of the projected grid cells and of the attention scores
            (attention decoder only).
        dropout: dropout on the embeddings and before the output layers.
        image_size: side of the square image the encoder sees (any input size is resized to it).
        encoder_weights: ``"imagenet"`` (the MobileNetV2 ImageNet weights: the file from
            ``$ZOO_DATA_DIR/imagenet-weights/`` when present, else Keras' download), a path to a
            weights file, or None for a random encoder (tests).
        vocabulary: the caption words, most frequent first, without the special tokens; the first
            ``vocab_size - 4`` are kept. When None, only the special tokens are known.
        name: the model's name.

    Returns:
        A ``keras.Model`` from ``{"image", "tokens"}`` to next-word probabilities (see the module docstring).
    """
    import keras
    from keras import layers

    if decoder not in DECODERS:
        raise ValueError(f"decoder must be one of {DECODERS}, got {decoder!r}.")
    image = keras.Input(shape=(None, None, 3), dtype="float32", name="image")
    tokens = keras.Input(shape=(None,), dtype="string", name="tokens")
    encoder = build_encoder(image_size=image_size, weights=encoder_weights)
    words = layers.StringLookup(
        vocabulary=[START, END, *[w for w in (vocabulary or []) if w not in (START, END)][: vocab_size - 4]],
        mask_token="", num_oov_indices=1, name="words",
    )
    vocab_size = words.vocabulary_size()  # embedding rows and output classes: exactly the lookup's ids
    make = build_show_and_tell_decoder if decoder == "show_and_tell" else build_attention_decoder
    decoder_model = make(vocab_size=vocab_size, embedding_dim=embedding_dim, units=units, feature_dim=feature_dim,
                         attention_dim=attention_dim, dropout=dropout)
    probabilities = decoder_model([encoder(image), words(tokens)])
    return keras.Model({"image": image, "tokens": tokens}, probabilities, name=name)


def encoder_weights_path(weights: str | None) -> str | None:
    """The file (or Keras keyword) MobileNetV2 loads its ImageNet weights from."""
    if weights != "imagenet":
        return weights
    from zoo.data._common import find_local_file

    return find_local_file("imagenet-weights", (ENCODER_WEIGHTS_FILE,)) or "imagenet"


def build_encoder(*, image_size: int = IMAGE_SIZE, weights: str | None = "imagenet"):
    """Pixels ``(batch, H, W, 3)`` in [0, 255] -> frozen MobileNetV2 grid ``(batch, s, s, 1280)`` (s = image_size / 32)."""
    import keras
    from keras import layers

    if weights == "imagenet" and encoder_weights_path(weights) == "imagenet" and os.environ.get("ZOO_OFFLINE", "") not in ("", "0"):
        raise FileNotFoundError(
            f"The MobileNetV2 ImageNet weights are not available offline: put {ENCODER_WEIGHTS_FILE} in "
            "$ZOO_DATA_DIR/imagenet-weights/, or unset ZOO_OFFLINE to let Keras download its copy."
        )
    pixels = keras.Input(shape=(None, None, 3), dtype="float32", name="pixels")
    x = layers.Resizing(image_size, image_size, interpolation="bilinear", antialias=True, name="resize")(pixels)
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0, name="preprocess")(x)  # keras.applications.mobilenet_v2.preprocess_input
    backbone = keras.applications.MobileNetV2(
        input_shape=(image_size, image_size, 3), alpha=1.0, include_top=False,
        weights=encoder_weights_path(weights), name="mobilenet_v2",
    )
    backbone.trainable = False
    return keras.Model(pixels, backbone(x, training=False), name="encoder")


def build_show_and_tell_decoder(*, vocab_size, embedding_dim, units, dropout, **_):
    """Grid ``(batch, h, w, 1280)`` and word ids ``(batch, T)`` -> probabilities ``(batch, T, vocab_size)``.

    The pooled image feature is the LSTM's first input (its output there is not used); the word
    embeddings follow, starting from the state the image left.
    """
    import keras
    from keras import layers

    grid = keras.Input(shape=(None, None, FEATURES), name="grid")
    ids = keras.Input(shape=(None,), dtype="int64", name="word_ids")
    image = layers.GlobalAveragePooling2D(name="pool")(grid)
    image = layers.Dense(embedding_dim, name="image_embedding")(image)
    image = layers.Dropout(dropout, name="image_dropout")(image)
    image = layers.Reshape((1, embedding_dim), name="image_step")(image)
    words = layers.Embedding(vocab_size, embedding_dim, mask_zero=True, name="embedding")(ids)
    words = layers.Dropout(dropout, name="embedding_dropout")(words)
    lstm = layers.LSTM(units, return_sequences=True, return_state=True, name="lstm")
    _, h, c = lstm(image)
    x, _, _ = lstm(words, initial_state=[h, c])
    x = layers.Dropout(dropout, name="output_dropout")(x)
    x = layers.Dense(embedding_dim, name="output_projection")(x)
    probabilities = layers.Dense(vocab_size, activation="softmax", name="word_probabilities")(x)
    return keras.Model([grid, ids], probabilities, name="decoder")


def build_attention_decoder(*, vocab_size, embedding_dim, units, feature_dim, attention_dim, dropout, **_):
    """Like `build_show_and_tell_decoder`, with soft attention over the grid cells at every step."""
    import keras
    from keras import layers

    grid = keras.Input(shape=(None, None, FEATURES), name="grid")
    ids = keras.Input(shape=(None,), dtype="int64", name="word_ids")
    cells = layers.Reshape((-1, FEATURES), name="grid_cells")(grid)
    values = layers.Dense(feature_dim, activation="relu", name="grid_projection")(cells)
    mean = layers.GlobalAveragePooling1D(name="mean_feature")(values)
    h = layers.Dense(units, activation="tanh", name="init_h")(mean)
    c = layers.Dense(units, activation="tanh", name="init_c")(mean)
    keys = layers.Dense(attention_dim, name="attention_key")(values)
    words = layers.Embedding(vocab_size, embedding_dim, mask_zero=True, name="embedding")(ids)
    words = layers.Dropout(dropout, name="embedding_dropout")(words)
    x = layers.LSTM(units, return_sequences=True, name="lstm")(words, initial_state=[h, c])
    query = layers.Dense(attention_dim, use_bias=False, name="attention_query")(x)
    context, _ = layers.AdditiveAttention(use_scale=True, name="attention")([query, values, keys],
                                                                            return_attention_scores=True)
    x = layers.Concatenate(name="state_and_context")([x, context])
    x = layers.Dropout(dropout, name="output_dropout")(x)
    x = layers.Dense(embedding_dim, activation="tanh", name="output_projection")(x)
    probabilities = layers.Dense(vocab_size, activation="softmax", name="word_probabilities")(x)
    return keras.Model([grid, ids], probabilities, name="decoder")


def image_size_of(model) -> int:
    return int(model.get_layer("encoder").get_layer("resize").height)
