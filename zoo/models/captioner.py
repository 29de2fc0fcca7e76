"""One-to-many RNN image captioners: an image in, a sentence out (Flickr8k).

A frozen ImageNet MobileNetV2 (1.0, no top; the image is resized to 160x160 inside the model) turns
the image into a 5x5 grid of 1280-d features, and an LSTM writes the caption one word at a time:

- ``show_and_tell`` (Vinyals et al. 2015): the average-pooled feature, projected to the word
  embedding size, is the LSTM's first input; the words follow.
- ``attention``: the LSTM state starts from the mean of the projected grid; at every step the new
  hidden state attends over the 25 grid cells (additive attention, Bahdanau et al.) and the
  word is predicted from the state and the attended context: soft spatial attention as in Show,
  Attend and Tell (Xu et al. 2015), with the current state as the query (the "spatial attention"
  variant of Lu et al. 2017). The attention weights give one 5x5 map per word.

The checkpoint is one functional ``keras.Model`` of built-in layers only (so it loads in safe mode
with plain Keras): ``{"image": float32 (batch, H, W, 3) pixels in [0, 255], "tokens": string (batch, T)
words so far, starting with "<start>", padded with ""}`` -> next-word probabilities ``(batch, T, vocab)``
(teacher forcing). Its parts are named: ``encoder`` (pixels -> grid), ``words`` (the vocabulary: a
``StringLookup``; id 0 is padding, 1 unknown, 2 ``<start>``, 3 ``<end>``) and ``decoder`` (grid and
word ids -> probabilities). Captions are written by greedy or beam-search decoding, batched, with
the decoder's layers run one step at a time inside a ``tf.function`` (`generate_ids`).

Example:
    >>> cap = zoo.pipeline("image-caption-lstm")
    >>> cap("dog.jpg")
    'a black dog runs through the grass'
    >>> cap(["a.jpg", "b.png"], beam_width=3)
"""

from __future__ import annotations

import io
import os

from zoo._pipeline import Pipeline
from zoo._registry import ModelSpec, register

DECODERS = ("show_and_tell", "attention")
IMAGE_SIZE = 160  # the Flickr8k copy is 160x160; every image is resized (whole image, no crop) to this
FEATURES = 1280  # channels of MobileNetV2's last feature map
ENCODER_WEIGHTS_FILE = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.weights.h5"
START, END = "<start>", "<end>"
PAD_ID, UNK_ID, START_ID, END_ID = 0, 1, 2, 3  # ids of "", "[UNK]", "<start>", "<end>" in the vocabulary
MAX_WORDS = 20  # longest caption written (98.4% of the training captions have at most 20 words)
DEFAULT_BEAM_WIDTH = 3
MAX_DECODE_SIDE = 1600  # larger images are shrunk while decoding (the model only sees 160 px)
_NEG = -1e9


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
        vocab_size: output classes: the words plus padding, unknown, ``<start>`` and ``<end>``.
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


# === Decoding: greedy and beam search, one step at a time ===


class CaptionDecoder:
    """Runs a captioner's decoder layers one step at a time (greedy and beam search, batched, in a tf.function).

    ``start(grid)`` gives the initial LSTM state and the memory the steps read (the projected grid
    cells and their attention keys; nothing for show_and_tell); ``step(word_ids, state, memory)``
    gives the next-word probabilities, the new state and the attention weights over the cells.
    """

    def __init__(self, model):
        self.model = model
        self.encoder = model.get_layer("encoder")
        self.decoder = model.get_layer("decoder")
        names = {layer.name for layer in self.decoder.layers}
        self.kind = "attention" if "attention" in names else "show_and_tell"
        self.vocabulary = model.get_layer("words").get_vocabulary()
        get = self.decoder.get_layer
        self.embedding, self.lstm = get("embedding"), get("lstm")
        self.output_projection, self.word_probabilities = get("output_projection"), get("word_probabilities")
        self.vocab_size = int(self.word_probabilities.units)
        self.units = int(self.lstm.units)
        if self.kind == "attention":
            self.grid_projection, self.attention_key = get("grid_projection"), get("attention_key")
            self.attention_query, self.attention = get("attention_query"), get("attention")
            self.init_h, self.init_c = get("init_h"), get("init_c")
        else:
            self.image_embedding = get("image_embedding")
        self._functions = {}

    # --- the two pieces every decoding loop uses ---

    def start(self, grid):
        import tensorflow as tf

        if self.kind == "attention":
            cells = tf.reshape(grid, [tf.shape(grid)[0], -1, FEATURES])
            values = self.grid_projection(cells)
            mean = tf.reduce_mean(values, axis=1)
            return (self.init_h(mean), self.init_c(mean)), (values, self.attention_key(values))
        image = self.image_embedding(tf.reduce_mean(grid, axis=[1, 2]))
        zeros = tf.zeros([tf.shape(grid)[0], self.units])
        _, state = self.lstm.cell(image, [zeros, zeros], training=False)
        return tuple(state), ()

    def step(self, word_ids, state, memory):
        import tensorflow as tf

        x = tf.gather(self.embedding.embeddings, word_ids)  # the Embedding layer's lookup, without its mask
        h, (h, c) = self.lstm.cell(x, list(state), training=False)
        if self.kind == "attention":
            values, keys = memory
            query = self.attention_query(h)[:, None, :]
            context, scores = self.attention([query, values, keys], return_attention_scores=True)
            out = tf.concat([h, context[:, 0]], axis=-1)
            alpha = scores[:, 0]
        else:
            out = h
            alpha = tf.zeros([tf.shape(h)[0], 0])
        probabilities = self.word_probabilities(self.output_projection(out))
        return probabilities, (h, c), alpha

    # --- decoding loops ---

    def _blocked(self):
        import tensorflow as tf

        # Never written: padding, unknown and <start>.
        return tf.scatter_nd([[PAD_ID], [UNK_ID], [START_ID]], tf.constant([True] * 3), [self.vocab_size])

    def greedy(self, grid, max_words: int = MAX_WORDS):
        """Word ids ``(batch, steps)`` (``<end>`` then 0 after each caption) and attention ``(batch, steps, cells)``."""
        import tensorflow as tf

        state, memory = self.start(grid)
        batch = tf.shape(grid)[0]
        blocked = self._blocked()

        def body(t, ids, state, finished, out_ids, out_attention):
            probabilities, state, alpha = self.step(ids, state, memory)
            probabilities = tf.where(blocked[None, :], -1.0, probabilities)
            chosen = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
            chosen = tf.where(t == max_words, END_ID, chosen)  # at most max_words words
            chosen = tf.where(finished, PAD_ID, chosen)
            finished = finished | tf.equal(chosen, END_ID)
            return t + 1, chosen, state, finished, out_ids.write(t, chosen), out_attention.write(t, alpha)

        def cond(t, ids, state, finished, out_ids, out_attention):
            return (t < max_words + 1) & ~tf.reduce_all(finished)

        loop = tf.while_loop(cond, body, (
            tf.constant(0), tf.fill([batch], START_ID), state, tf.zeros([batch], tf.bool),
            tf.TensorArray(tf.int32, size=0, dynamic_size=True), tf.TensorArray(tf.float32, size=0, dynamic_size=True),
        ))
        ids = tf.transpose(loop[4].stack(), [1, 0])
        attention = tf.transpose(loop[5].stack(), [1, 0, 2])
        return ids, attention

    def beam_search(self, grid, beam_width: int, max_words: int = MAX_WORDS, length_penalty: float = 0.0):
        """The best of ``beam_width`` hypotheses per image, scored by log-probability / length**length_penalty.

        Returns the same as `greedy`; with ``beam_width=1`` it gives the greedy captions.
        """
        import tensorflow as tf

        k = int(beam_width)
        steps = max_words + 1
        state, memory = self.start(grid)
        batch = tf.shape(grid)[0]
        vocab = self.vocab_size
        state = tuple(tf.repeat(s, k, axis=0) for s in state)
        memory = tuple(tf.repeat(m, k, axis=0) for m in memory)
        blocked = self._blocked()
        cells = tf.shape(memory[0])[1] if memory else 0
        # Only the first beam is live at the start, so the k beams do not all repeat the same words.
        scores = tf.tile(tf.constant([[0.0] + [_NEG] * (k - 1)]), [batch, 1])
        history = tf.zeros([batch * k, steps], tf.int32)
        attention = tf.zeros([batch * k, steps, cells])
        finished = tf.zeros([batch * k], tf.bool)
        lengths = tf.zeros([batch * k], tf.float32)
        columns = tf.range(steps)
        # A finished hypothesis only extends with padding, at no cost.
        after_end = tf.where(tf.range(vocab) == PAD_ID, 0.0, _NEG)

        def body(t, ids, state, scores, history, attention, finished, lengths):
            probabilities, state, alpha = self.step(ids, state, memory)
            log_p = tf.math.log(tf.maximum(probabilities, 1e-20))
            log_p = tf.where(blocked[None, :], _NEG, log_p)
            log_p = tf.where((t == max_words) & (tf.range(vocab) != END_ID)[None, :], _NEG, log_p)  # at most max_words words
            log_p = tf.where(finished[:, None], after_end[None, :], log_p)
            total = tf.reshape(scores, [-1, 1]) + log_p
            best, index = tf.math.top_k(tf.reshape(total, [batch, k * vocab]), k=k)
            source = tf.reshape(index // vocab + tf.range(batch)[:, None] * k, [-1])
            word = tf.reshape(index % vocab, [-1])
            state = tuple(tf.gather(s, source) for s in state)
            history = tf.where(columns[None, :] == t, word[:, None], tf.gather(history, source))
            attention = tf.where((columns == t)[None, :, None], tf.gather(alpha, source)[:, None, :],
                                 tf.gather(attention, source))
            was_finished = tf.gather(finished, source)
            lengths = tf.gather(lengths, source) + tf.cast(~was_finished, tf.float32)
            finished = was_finished | tf.equal(word, END_ID)
            return t + 1, word, state, best, history, attention, finished, lengths

        def cond(t, ids, state, scores, history, attention, finished, lengths):
            return (t < steps) & ~tf.reduce_all(finished)

        _, _, _, scores, history, attention, _, lengths = tf.while_loop(
            cond, body, (tf.constant(0), tf.fill([batch * k], START_ID), state, scores, history, attention, finished,
                         lengths),
        )
        if length_penalty:
            scores = scores / tf.reshape(tf.maximum(lengths, 1.0), [batch, k]) ** length_penalty
        pick = tf.argmax(scores, axis=-1, output_type=tf.int32) + tf.range(batch) * k
        return tf.gather(history, pick), tf.gather(attention, pick)

    def function(self, beam_width: int = 1, max_words: int = MAX_WORDS, length_penalty: float = 0.0):
        """A cached ``tf.function`` from grid features to ``(word ids, attention)``."""
        import tensorflow as tf

        key = (int(beam_width), int(max_words), float(length_penalty))
        if key not in self._functions:
            signature = [tf.TensorSpec([None, None, None, FEATURES], tf.float32)]
            if beam_width == 1 and length_penalty == 0.0:
                run = tf.function(lambda grid: self.greedy(grid, max_words), input_signature=signature)
            else:
                run = tf.function(lambda grid: self.beam_search(grid, beam_width, max_words, length_penalty),
                                  input_signature=signature)
            self._functions[key] = run
        return self._functions[key]

    def encode(self, pixels):
        """Grid features of preprocessed pixels (a cached tf.function of the encoder)."""
        import tensorflow as tf

        if "encode" not in self._functions:
            self._functions["encode"] = tf.function(
                lambda x: self.encoder(x, training=False), input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)]
            )
        return self._functions["encode"](pixels)

    def tokens(self, ids) -> list[list[str]]:
        """Word lists of id rows, up to (without) the first ``<end>``."""
        out = []
        for row in ids:
            words = []
            for i in row:
                if i == END_ID or i == PAD_ID:
                    break
                words.append(self.vocabulary[i])
            out.append(words)
        return out


def caption_decoder(model) -> CaptionDecoder:
    """The `CaptionDecoder` of a captioner (cached per model)."""
    from zoo._inference import per_model

    return per_model(model, "caption_decoder", CaptionDecoder)


def generate_ids(model, grid, *, beam_width: int = 1, max_words: int = MAX_WORDS, length_penalty: float = 0.0):
    """Word ids ``(batch, steps)`` and attention ``(batch, steps, cells)`` (NumPy) for encoder grid features."""
    import numpy as np

    ids, attention = caption_decoder(model).function(beam_width, max_words, length_penalty)(np.asarray(grid, np.float32))
    return np.asarray(ids), np.asarray(attention)


def generate_captions(model, grid, *, beam_width: int = 1, max_words: int = MAX_WORDS, length_penalty: float = 0.0):
    """Caption strings for encoder grid features ``(batch, h, w, 1280)``."""
    from zoo.data.flickr8k import detokenize

    ids, _ = generate_ids(model, grid, beam_width=beam_width, max_words=max_words, length_penalty=length_penalty)
    return [detokenize(words) for words in caption_decoder(model).tokens(ids)]


# === Images in: paths, bytes, PIL images, arrays ===


def load_image(image, *, where: str = ""):
    """One image as a float32 ``(H, W, 3)`` RGB array in [0, 255].

    Accepts a path (``str`` or ``os.PathLike``), encoded bytes (JPEG, PNG, GIF, BMP, WebP, TIFF...:
    whatever Pillow reads), a ``PIL.Image.Image`` or an array ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)``
    or ``(H, W, 4)`` (uint8 in [0, 255]; floats in [0, 255], or in [0, 1] when no value exceeds 1).
    Grayscale is repeated to RGB, alpha dropped, EXIF rotation applied; images over 1600 px are
    shrunk while decoding.

    Raises:
        FileNotFoundError: a path that does not exist.
        TypeError: anything that is not an image.
        ValueError: bytes or a file that are not an image, an empty or malformed array.
    """
    import numpy as np

    if image is None:
        raise TypeError(f"Expected an image{where} (a path, encoded bytes, a PIL image or an array), got None.")
    if isinstance(image, (str, os.PathLike)):
        path = os.fspath(image)
        if not os.path.exists(path):
            raise FileNotFoundError(f"No such image file{where}: {path!r}.")
        if os.path.isdir(path):
            raise ValueError(f"{path!r}{where} is a folder, not an image file.")
        with open(path, "rb") as f:
            return _decode(f.read(), f"the file {path!r}")
    if isinstance(image, (bytes, bytearray, memoryview)):
        if len(image) == 0:
            raise ValueError(f"The image bytes{where} are empty.")
        return _decode(bytes(image), f"the bytes{where}")
    if hasattr(image, "numpy") and not hasattr(image, "getpixel"):  # a tf.Tensor
        image = image.numpy()
        if isinstance(image, bytes):
            return load_image(image, where=where)
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - pillow is a dependency
        Image = None
    if Image is not None and isinstance(image, Image.Image):
        return _from_pil(image, where)
    if isinstance(image, np.ndarray) or hasattr(image, "__array__"):
        return _from_array(np.asarray(image), where)
    raise TypeError(
        f"Expected an image{where} (a path, encoded bytes, a PIL image or an (H, W, 3) array), got {type(image).__name__}."
    )


def _decode(data: bytes, what: str):
    """Encoded bytes to float32 RGB. JPEG, PNG, GIF and BMP are decoded by TensorFlow, like the training
    features and the SavedModel (so all three see the same pixels); other formats and huge images by Pillow."""
    from PIL import Image, UnidentifiedImageError

    what = what[0].upper() + what[1:]
    try:
        image = Image.open(io.BytesIO(data))  # reads the header only
        fmt, size, mode = image.format, image.size, image.mode
        orientation = image.getexif().get(0x0112, 1)
    except Image.DecompressionBombError as error:
        raise ValueError(f"{what} holds an image too large to decode safely: {error}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise ValueError(f"{what} is not an image Pillow can read ({error}).") from None
    if fmt in ("JPEG", "PNG", "GIF", "BMP") and max(size) <= MAX_DECODE_SIDE and mode not in ("CMYK", "YCbCr"):
        import numpy as np
        import tensorflow as tf

        try:
            pixels = tf.io.decode_image(data, channels=3, expand_animations=False).numpy().astype(np.float32)
        except (tf.errors.InvalidArgumentError, ValueError):
            pixels = None
        if pixels is not None:
            return _orient(pixels, orientation)
    try:
        if fmt == "JPEG" and max(size) > MAX_DECODE_SIDE:
            image.draft("RGB", (MAX_DECODE_SIDE, MAX_DECODE_SIDE))  # decode a huge JPEG at a reduced scale
        image.load()
    except Image.DecompressionBombError as error:
        raise ValueError(f"{what} holds an image too large to decode safely: {error}") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise ValueError(f"{what} is not an image Pillow can read ({error}).") from None
    return _from_pil(image, "")


def _orient(pixels, orientation: int):
    """Applies an EXIF orientation (1-8) to an (H, W, 3) array, as PIL.ImageOps.exif_transpose does."""
    import numpy as np

    transposed = pixels.transpose(1, 0, 2)
    return np.ascontiguousarray({
        2: pixels[:, ::-1], 3: pixels[::-1, ::-1], 4: pixels[::-1], 5: transposed,
        6: np.rot90(pixels, -1), 7: transposed[::-1, ::-1], 8: np.rot90(pixels, 1),
    }.get(orientation, pixels))


def _from_pil(image, where: str):
    import numpy as np
    from PIL import Image, ImageOps

    image = ImageOps.exif_transpose(image)
    if max(image.size) > MAX_DECODE_SIDE:
        image = image.copy()
        image.thumbnail((MAX_DECODE_SIDE, MAX_DECODE_SIDE), Image.BILINEAR)
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        return _from_array(np.asarray(image, dtype=np.float32) / (257.0 if image.mode.startswith("I;16") else 1.0), where)
    return np.asarray(image.convert("RGB"), dtype=np.float32)


def _from_array(array, where: str):
    import numpy as np

    if array.dtype == bool:
        array = array.astype(np.float32)
    if not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise TypeError(f"Expected a numeric image array{where}, got dtype {array.dtype}.")
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[-1] not in (1, 3, 4):
        raise ValueError(f"Expected an image array{where} of shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), "
                         f"got shape {array.shape}.")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"The image array{where} is empty (shape {array.shape}).")
    integer = np.issubdtype(array.dtype, np.integer)
    scale = 1.0 / 257.0 if array.dtype == np.uint16 else 1.0
    array = array.astype(np.float32) * scale
    if not np.all(np.isfinite(array)):
        raise ValueError(f"The image array{where} holds NaN or infinite values.")
    if not integer and array.max(initial=0.0) <= 1.0:
        array = array * 255.0
    array = np.clip(array, 0.0, 255.0)
    if array.shape[-1] == 1:
        array = np.repeat(array, 3, axis=-1)
    return np.ascontiguousarray(array[:, :, :3])


def as_image_batch(images) -> tuple[list, bool]:
    """One image or a batch of them to a list, and whether one image was given."""
    import numpy as np

    if images is None:
        raise TypeError("Expected an image (a path, encoded bytes, a PIL image or an array) or a list of them, got None.")
    if hasattr(images, "numpy") and not hasattr(images, "getpixel"):
        images = images.numpy()
    if isinstance(images, np.ndarray) and (images.ndim == 4 or (images.dtype == object and images.ndim == 1)):
        images = list(images)
    if isinstance(images, (list, tuple)):
        if len(images) == 0:
            raise ValueError("Expected at least one image, got an empty batch.")
        return list(images), False
    return [images], True


def resize_pixels(array, image_size: int = IMAGE_SIZE):
    """A float32 ``(H, W, 3)`` image resized (whole image, no crop; bilinear with antialiasing) to ``(size, size, 3)``.

    The SavedModel export does the same in its graph, so both see the same pixels.
    """
    import numpy as np
    import tensorflow as tf

    return np.asarray(tf.image.resize(array, (image_size, image_size), method="bilinear", antialias=True), np.float32)


def to_pixels(images, image_size: int = IMAGE_SIZE, *, first_index: int | None = 0):
    """A list of images (any accepted form) to the encoder input: float32 ``(n, size, size, 3)`` in [0, 255].

    ``first_index`` is the batch index of ``images[0]``, named in error messages (None for a single image).
    """
    import numpy as np

    return np.stack([
        resize_pixels(load_image(image, where="" if first_index is None else f" at index {first_index + i}"), image_size)
        for i, image in enumerate(images)
    ])


def image_size_of(model) -> int:
    return int(model.get_layer("encoder").get_layer("resize").height)


# === Scoring (COCO caption evaluation) and evaluation ===


def score_captions(predictions: list[str], references: list) -> dict:
    """BLEU-1..4 and CIDEr of captions against their references, with the COCO caption evaluation code.

    Both sides are tokenized by pycocoevalcap's PTBTokenizer (Stanford CoreNLP, needs Java), which
    lower-cases and drops punctuation; BLEU is corpus-level with the "closest" reference length,
    CIDEr is CIDEr-D as in the COCO server (document frequencies from these references).
    """
    import contextlib

    try:
        from pycocoevalcap.bleu.bleu import Bleu
        from pycocoevalcap.cider.cider import Cider
        from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer
    except ImportError as error:
        raise ImportError("Scoring captions needs pycocoevalcap: pip install pycocoevalcap") from error
    if len(predictions) != len(references) or not predictions:
        raise ValueError(f"Expected one prediction per reference set, got {len(predictions)} and {len(references)}.")
    gts = {i: [{"caption": r} for r in refs] for i, refs in enumerate(references)}
    res = {i: [{"caption": p}] for i, p in enumerate(predictions)}
    tokenizer = PTBTokenizer()
    try:
        gts, res = tokenizer.tokenize(gts), tokenizer.tokenize(res)
    except FileNotFoundError as error:
        raise FileNotFoundError(
            "The COCO caption tokenizer (PTBTokenizer) runs Java, which was not found: install a Java runtime "
            f"(e.g. apt-get install default-jre-headless). ({error})"
        ) from None
    with contextlib.redirect_stdout(io.StringIO()):  # the BLEU scorer prints its counts
        bleu, _ = Bleu(4).compute_score(gts, res)
        cider, _ = Cider().compute_score(gts, res)
    scores = {f"bleu_{n}": round(float(b), 4) for n, b in enumerate(bleu, start=1)}
    scores["cider"] = round(float(cider), 4)
    return scores


def caption_pixels(model, pixels, *, beam_width: int = DEFAULT_BEAM_WIDTH, max_words: int = MAX_WORDS,
                   length_penalty: float = 0.0, return_attention: bool = False):
    """Captions (and word ids, attention when asked) of a batch of encoder inputs ``(n, size, size, 3)``."""
    import numpy as np

    from zoo.data.flickr8k import detokenize

    decoder = caption_decoder(model)
    grid = decoder.encode(np.asarray(pixels, np.float32))
    ids, attention = generate_ids(model, grid, beam_width=beam_width, max_words=max_words, length_penalty=length_penalty)
    captions = [detokenize(words) for words in decoder.tokens(ids)]
    if not return_attention:
        return captions
    maps = []
    grid_shape = tuple(int(d) for d in grid.shape[1:3])
    for row, words in enumerate(decoder.tokens(ids)):
        if decoder.kind != "attention":
            maps.append(None)
        else:
            maps.append(attention[row, : len(words)].reshape((len(words), *grid_shape)))
    return captions, maps


def evaluate(model, *, split: str = "test", limit: int | None = None, beam_width: int = DEFAULT_BEAM_WIDTH,
             batch_size: int = 50, progress: bool = True):
    """BLEU-1..4 and CIDEr on a Flickr8k split (every image against its 5 references): the card's figures.

    Images are read from the archive and go through the same preprocessing as the pipeline.

    Returns:
        ``{"bleu_1", "bleu_2", "bleu_3", "bleu_4", "cider", "n": images}``.
    """
    from zoo._progress import progress_bar
    from zoo.data import flickr8k

    if not isinstance(beam_width, int) or isinstance(beam_width, bool) or beam_width < 1:
        raise ValueError(f"beam_width must be a positive integer, got {beam_width!r}.")
    data = flickr8k.load(split, limit=limit)
    size = image_size_of(model)
    predictions = []
    with progress_bar(total=len(data), desc=f"eval {split}", unit="image", enabled=progress) as bar:
        for start in range(0, len(data), batch_size):
            names = data.images[start : start + batch_size]
            pixels = to_pixels(flickr8k.read_images(names), size)
            predictions += caption_pixels(model, pixels, beam_width=beam_width)
            bar.update(len(names))
    return {**score_captions(predictions, data.captions), "n": len(data)}


# === Pipeline ===


class ImageCaptioningPipeline(Pipeline):
    """Images in, caption strings out.

    Example:
        >>> cap = zoo.pipeline("image-caption-lstm")
        >>> cap("dog.jpg")                                # a path, bytes, a PIL image or an (H, W, 3) array
        'a black dog runs through the grass'
        >>> cap(["a.jpg", "b.png"], beam_width=3)         # a batch: a list of captions
        >>> cap.caption_to_png("dog.jpg", "dog_captioned.png")   # with one attention map per word for the attention model
    """

    def __init__(self, spec, model, *, batch_size: int = 64, beam_width: int = DEFAULT_BEAM_WIDTH,
                 max_words: int = MAX_WORDS):
        super().__init__(spec, model, batch_size=batch_size)
        self.beam_width = _check_beam_width(beam_width)
        self.max_words = _check_max_words(max_words)
        self.image_size = image_size_of(model)

    def __repr__(self):
        return f"{type(self).__name__}({self.spec.name!r}, beam_width={self.beam_width})"

    def pixels(self, images):
        """The encoder input of one image or a batch: float32 ``(n, 160, 160, 3)`` in [0, 255] (the TFLite encoder input)."""
        batch, single = as_image_batch(images)
        return to_pixels(batch, self.image_size, first_index=None if single else 0)

    def _run(self, images, beam_width, max_words, attention: bool):
        beam_width = self.beam_width if beam_width is None else _check_beam_width(beam_width)
        max_words = self.max_words if max_words is None else _check_max_words(max_words)
        batch, single = as_image_batch(images)
        captions, maps = [], []
        for start in range(0, len(batch), self.batch_size):
            chunk = batch[start : start + self.batch_size]
            pixels = to_pixels(chunk, self.image_size, first_index=None if single else start)
            out = caption_pixels(self.model, pixels, beam_width=beam_width, max_words=max_words, return_attention=attention)
            if attention:
                captions += out[0]
                maps += out[1]
            else:
                captions += out
        return captions, maps, single

    def __call__(self, images, *, beam_width: int | None = None, max_words: int | None = None):
        """Captions of one image (a str) or of a batch (a list of str).

        Args:
            images: a path, encoded bytes, a PIL image or an array, or a list of those (or an ``(n, H, W, 3)`` array).
            beam_width: 1 for greedy decoding; default 3 (the setting of the card's scores).
            max_words: longest caption, in words (default 20).
        """
        captions, _, single = self._run(images, beam_width, max_words, attention=False)
        return captions[0] if single else captions

    def caption_with_attention(self, images, *, beam_width: int | None = None, max_words: int | None = None):
        """``(caption, attention)`` per image; attention is ``(words, 5, 5)`` for the attention model (one map per
        word of ``zoo.data.flickr8k.tokenize(caption)``, each summing to 1) and None for show_and_tell."""
        captions, maps, single = self._run(images, beam_width, max_words, attention=True)
        pairs = list(zip(captions, maps))
        return pairs[0] if single else pairs

    def caption_to_png(self, image, path_out, *, beam_width: int | None = None) -> str:
        """Captions one image and writes it with its caption (and attention maps) to a PNG; returns the caption.

        See `save_captioned_image`.
        """
        caption, attention = self.caption_with_attention(image, beam_width=beam_width)
        save_captioned_image(path_out, load_image(image), caption, attention)
        return caption

    @staticmethod
    def format(text, result) -> str:
        """One readable line for the command line: ``photo.jpg: a dog runs on the grass``."""
        return f"{text}: {result}"


def _check_beam_width(beam_width):
    if not isinstance(beam_width, int) or isinstance(beam_width, bool) or not 1 <= beam_width <= 20:
        raise ValueError(f"beam_width must be an integer from 1 (greedy) to 20, got {beam_width!r}.")
    return beam_width


def _check_max_words(max_words):
    if not isinstance(max_words, int) or isinstance(max_words, bool) or not 1 <= max_words <= 100:
        raise ValueError(f"max_words must be an integer from 1 to 100, got {max_words!r}.")
    return max_words


def save_captioned_image(path_out, image, caption: str, attention=None) -> str:
    """Writes ``image`` with ``caption`` above it to a PNG; with ``attention`` (``(words, h, w)``, as
    `ImageCaptioningPipeline.caption_with_attention` gives), one more panel per word shows where the
    model looked when it wrote that word.

    ``image`` is anything `load_image` accepts. Needs matplotlib (imported here, not at import time).
    """
    import numpy as np

    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError("save_captioned_image needs matplotlib: pip install matplotlib") from error
    import textwrap

    from zoo.data.flickr8k import tokenize

    pixels = load_image(image) / 255.0
    words = tokenize(caption) if attention is not None else []  # the model's words: "dog's" is "dog" + "'s"
    panels = 1 + (len(words) if attention is not None else 0)
    columns = min(panels, 5)
    rows = -(-panels // columns)
    figure = Figure(figsize=(3.0 * columns, 3.2 * rows + 0.4), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.subplots(rows, columns, squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    axes[0, 0].imshow(pixels)
    axes[0, 0].set_title("\n".join(textwrap.wrap(caption, 32)) if columns == 1 else "input", fontsize=10)
    if attention is not None:
        attention = np.asarray(attention, np.float32)
        height, width = pixels.shape[:2]
        for i, word in enumerate(words[: len(attention)]):
            ax = axes.ravel()[i + 1]
            ax.imshow(pixels)
            ax.imshow(attention[i], cmap="inferno", alpha=0.55, interpolation="bilinear",
                      extent=(0, width, height, 0), vmin=0.0, vmax=float(attention[i].max()) or 1.0)
            ax.set_title(word, fontsize=11)
    if columns > 1:
        figure.suptitle(caption, fontsize=12)
    figure.tight_layout()
    path_out = os.fspath(path_out)
    figure.savefig(path_out, format="png")
    return path_out


# === Test helper: the model's teacher-forced input ===


def as_model_inputs(examples):
    """``[(image, [word, ...]), ...]`` to the model's input dict: pixels resized to a common 160x160, words
    after ``<start>`` padded with ``""``."""
    import numpy as np
    import tensorflow as tf

    pixels = to_pixels([image for image, _ in examples])
    width = max(len(words) for _, words in examples) + 1
    tokens = np.full((len(examples), width), "", dtype=object)
    for i, (_, words) in enumerate(examples):
        tokens[i, : len(words) + 1] = [START, *words]
    return {"image": tf.constant(pixels), "tokens": tf.constant(tokens)}


# === Export ===


def export_saved_model(spec, model, path: str) -> str:
    """SavedModel whose ``caption`` signature (also ``serving_default``) captions encoded images.

    Takes ``images`` (tf.string ``[batch]``: JPEG, PNG, GIF or BMP bytes) and returns ``caption``
    (tf.string ``[batch]``), decoded greedily (the loop runs inside the graph). It needs neither zoo
    nor Keras: ``tf.saved_model.load(path).signatures["caption"](images=tf.constant([jpeg_bytes]))``.
    Images are decoded as stored (EXIF rotation is not applied) and resized to 160x160 like the pipeline.
    """
    import tensorflow as tf

    from zoo._export import write_saved_model

    decoder = caption_decoder(model)
    size = image_size_of(model)
    vocabulary = tf.constant(decoder.vocabulary)

    def decode_one(data):
        image = tf.io.decode_image(data, channels=3, expand_animations=False)
        image = tf.image.resize(tf.cast(image, tf.float32), (size, size), method="bilinear", antialias=True)
        return tf.ensure_shape(image, [size, size, 3])

    def caption(images):
        pixels = tf.map_fn(decode_one, images, fn_output_signature=tf.TensorSpec([size, size, 3], tf.float32))
        ids, _ = decoder.greedy(decoder.encoder(pixels, training=False), MAX_WORDS)
        keep = tf.cumsum(tf.cast((ids == END_ID) | (ids == PAD_ID), tf.int32), axis=1) == 0
        words = tf.ragged.boolean_mask(tf.gather(vocabulary, ids), keep)
        text = tf.strings.reduce_join(words, axis=1, separator=" ")
        return {"caption": tf.strings.regex_replace(text, " '", "'")}

    return write_saved_model(model, path, {"caption": (caption, [tf.TensorSpec([None], tf.string, name="images")])})


def export_tflite(spec, model, out_dir: str) -> str:
    """Two TFLite models (builtin ops only, weights frozen) and the vocabulary; returns the encoder's path.

    - ``encoder.tflite``: ``pixels`` float32 ``[1, 160, 160, 3]`` (RGB in [0, 255], the whole image
      resized to 160x160; ``zoo.pipeline(name).pixels(image)`` gives it) -> the decoder's start:
      ``output_0`` = h, ``output_1`` = c (float32 ``[1, units]``) and, for the attention model,
      ``output_2`` = values ``[1, 25, feature_dim]``, ``output_3`` = keys ``[1, 25, attention_dim]``.
    - ``decoder_step.tflite``: ``word_id`` int32 ``[1]``, ``h``, ``c`` (and ``values``, ``keys``) ->
      ``output_0`` = probabilities float32 ``[1, vocab]``, ``output_1`` = h, ``output_2`` = c (and
      ``output_3`` = attention ``[1, 25]``, one weight per grid cell, row-major 5x5).
    - ``vocab.txt``: line i is the word of id i (0 padding, 1 unknown, 2 ``<start>``, 3 ``<end>``);
      ``decoding.json`` repeats the loop below.

    Both have one signature (``interpreter.get_signature_runner()``; inputs by name, outputs ``output_i``).
    Greedy decoding loop (values and keys stay the same at every step)::

        h, c[, values, keys] = encoder(pixels)
        word_id, words = 2, []                       # <start>
        while len(words) < 20:                       # at most 20 words
            probabilities, h, c[, attention] = decoder_step(word_id, h, c[, values, keys])
            probabilities[[0, 1, 2]] = -1            # never padding, unknown or <start>
            word_id = argmax(probabilities)
            if word_id == 3: break                   # <end>
            words.append(vocab[word_id])
        caption = " ".join(words).replace(" '", "'")

    This loop gives the pipeline's ``beam_width=1`` captions (tests/test_captioner.py checks it).
    """
    import json

    import tensorflow as tf

    decoder = caption_decoder(model)
    size = image_size_of(model)
    encoder = decoder.encoder
    preprocess, backbone = encoder.get_layer("preprocess"), encoder.get_layer("mobilenet_v2")
    attention = decoder.kind == "attention"
    units = decoder.units

    def encode(pixels):  # the encoder without its resize layer: the caller resizes to 160x160
        (h, c), memory = decoder.start(backbone(preprocess(pixels), training=False))
        return (h, c, *memory)

    encoder_path = _to_tflite(encode, [tf.TensorSpec([1, size, size, 3], tf.float32, name="pixels")],
                              os.path.join(out_dir, "encoder.tflite"))
    state_spec = [tf.TensorSpec([1], tf.int32, name="word_id"), tf.TensorSpec([1, units], tf.float32, name="h"),
                  tf.TensorSpec([1, units], tf.float32, name="c")]
    if attention:
        _, _, values, keys = encode(tf.zeros([1, size, size, 3]))
        state_spec += [tf.TensorSpec(values.shape, tf.float32, name="values"),
                       tf.TensorSpec(keys.shape, tf.float32, name="keys")]

        def step(word_id, h, c, values, keys):
            probabilities, (h, c), alpha = decoder.step(word_id, (h, c), (values, keys))
            return probabilities, h, c, alpha
    else:
        def step(word_id, h, c):
            probabilities, (h, c), _ = decoder.step(word_id, (h, c), ())
            return probabilities, h, c

    _to_tflite(step, state_spec, os.path.join(out_dir, "decoder_step.tflite"))
    with open(os.path.join(out_dir, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(decoder.vocabulary) + "\n")
    with open(os.path.join(out_dir, "decoding.json"), "w", encoding="utf-8") as f:
        json.dump({
            "image": f"RGB, whole image resized to {size}x{size} (bilinear, antialiased), float32 in [0, 255]",
            "encoder": {"inputs": ["pixels"], "outputs": ["h", "c"] + (["values", "keys"] if attention else []),
                        "output_names": "output_0, output_1, ... in this order"},
            "decoder_step": {"inputs": [s.name for s in state_spec],
                             "outputs": ["probabilities", "h", "c"] + (["attention"] if attention else []),
                             "output_names": "output_0, output_1, ... in this order"},
            "start_id": START_ID, "end_id": END_ID, "never_write": [PAD_ID, UNK_ID, START_ID],
            "max_words": MAX_WORDS,
            "loop": "word_id = start_id; while fewer than max_words words: run decoder_step, feed back h and c "
                    "(values and keys stay); word_id = argmax(probabilities) over ids not in never_write; "
                    "stop at end_id, else append vocab[word_id]",
            "caption": "the words joined by single spaces, then the space before a clitic removed (dog 's -> dog's)",
            "python": f"zoo.pipeline({spec.name!r})(image, beam_width=1)",
        }, f, indent=2)
    return encoder_path


def _to_tflite(function, input_signature, path: str) -> str:
    """Like `zoo._export.convert_to_tflite` (frozen weights, builtin ops only), keeping a signature with named inputs."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    frozen = convert_variables_to_constants_v2(tf.function(function).get_concrete_function(*input_signature))
    converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen], tf.Module())
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    with open(path, "wb") as f:
        f.write(converter.convert())
    return path


# === Registered models ===

_FLICKR8K = dict(
    task="image captioning",
    structure="one-to-many",
    dataset="flickr8k",
    dataset_name="Flickr8k (Hodosh et al. 2013), images resized to 160x160",
    labels=(),
    metric="bleu_4",
    recipe="recipes/train_captioner.py",
    builder="zoo.models.captioner:build_captioner",
    evaluator="zoo.models.captioner:evaluate",
    pipeline="zoo.models.captioner:ImageCaptioningPipeline",
    data_license="Flickr8k: research use only, cite Hodosh et al. 2013; the photos' copyright stays with their Flickr authors",
    weights_license="Apache-2.0 (the encoder is Google's MobileNetV2 ImageNet checkpoint, Apache-2.0); "
                    "the decoder was trained on Flickr8k (non-commercial research use)",
    example='"dog.jpg"',
    validation_split="the official dev split (1,000 images, 5 captions each)",
    unit="images",
)
# Words seen at least 10 times in the training captions: 1,663 words + 4 special ids. The vocabulary
# and the decoder are small because the checkpoint (MobileNetV2 included, 9.6 MB) must stay under 12 MiB.
_VOCAB_SIZE = 1667

MODELS = (
    register(ModelSpec(
        name="image-caption-lstm",
        builder_args=dict(decoder="show_and_tell", vocab_size=_VOCAB_SIZE, embedding_dim=96, units=192, dropout=0.3,
                          image_size=IMAGE_SIZE, encoder_weights="imagenet"),
        description=(
            "An English sentence describing a photo (Show and Tell). A frozen ImageNet MobileNetV2 (1.0) reads the "
            "image resized to 160x160; its average-pooled 1280-d feature, projected to 96-d, is the first input of "
            "an LSTM (192 units) that then reads the caption so far (96-d word embeddings, 1,663 words) and predicts "
            "the next word. Captions are written by beam search (width 3)."
        ),
        **_FLICKR8K,
    )),
    register(ModelSpec(
        name="image-caption-lstm-attention",
        builder_args=dict(decoder="attention", vocab_size=_VOCAB_SIZE, embedding_dim=96, units=160, feature_dim=96,
                          attention_dim=96, dropout=0.3, image_size=IMAGE_SIZE, encoder_weights="imagenet"),
        description=(
            "An English sentence describing a photo, with soft attention (Show, Attend and Tell). A frozen ImageNet "
            "MobileNetV2 (1.0) turns the image, resized to 160x160, into a 5x5 grid of features projected to 96-d; "
            "the LSTM (160 units) starts from their mean, and at every word its state attends over the 25 cells "
            "(additive attention); the word is predicted from the state and the attended context. Beam search "
            "(width 3); one attention map per word."
        ),
        **_FLICKR8K,
    )),
)
