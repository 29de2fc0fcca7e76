"""Layers for token-level (many-to-many aligned) models: tokenization, token normalization, characters."""

from __future__ import annotations

import keras
from keras import ops

from zoo._textrules import WHITESPACE, TextRules

# Tokenization as an ordered list of regex rewrites that put spaces around tokens, then a split on
# whitespace. The same rules run in Python (`tokenize`, which also gives character offsets) and in
# TensorFlow (`TokenizeText`, inside exported SavedModels). RE2 has no look-around, hence rewrites.
TOKEN_RULES = TextRules(
    WHITESPACE,
    (r"(\.\.\.+)", r" \1 "),  # ellipsis
    (r"([,;:!?()\[\]{}\"“”‘’«»$%&*+<=>@#^~|\\])", r" \1 "),  # always a token of its own
    (r"([^.\s])\.(\s|$)", r"\1 .\2"),  # a sentence-final period
    (r"(^|\s)'(\S)", r"\1' \2"),  # opening quote (before clitics, which it would split)
    (r"(\S)'(\s|$)", r"\1 '\2"),  # closing quote
    (r"(?i)(\w)(n't)\b", r"\1 \2"),  # do|n't, ca|n't
    (r"(?i)(\w)('(?:s|re|ve|ll|d|m))\b", r"\1 \2"),  # John|'s, we|'re
)


def tokenize(text: str) -> list[tuple[str, int, int]]:
    """Splits raw text into ``(token, start, end)`` with character offsets into ``text``.

    Example:
        >>> tokenize("I don't know.")
        [('I', 0, 1), ('do', 2, 4), ("n't", 4, 7), ('know', 8, 12), ('.', 12, 13)]
    """
    spaced = TOKEN_RULES.apply(text)
    tokens, position = [], 0
    for token in spaced.split():
        start = text.index(token, position)
        position = start + len(token)
        tokens.append((token, start, position))
    return tokens


@keras.saving.register_keras_serializable(package="zoo")
class TokenizeText(keras.layers.Layer):
    """Raw strings ``(batch,)`` to tokens ``(batch, max_tokens)`` padded with ``""``; same rules as `tokenize`."""

    def __init__(self, **kwargs):
        kwargs.setdefault("dtype", "string")
        super().__init__(**kwargs)

    def call(self, texts):
        import tensorflow as tf

        return tf.strings.split(tf.strings.strip(TOKEN_RULES.apply_tf(texts))).to_tensor(default_value="")

    def compute_output_shape(self, input_shape):
        return (input_shape[0], None)


@keras.saving.register_keras_serializable(package="zoo")
class NormalizeTokens(keras.layers.Layer):
    """Word-vocabulary form of a token: optionally lower-cased, digits mapped to 0."""

    def __init__(self, lowercase: bool = True, digits_to_zero: bool = True, **kwargs):
        kwargs.setdefault("dtype", "string")
        super().__init__(**kwargs)
        self.lowercase = lowercase
        self.digits_to_zero = digits_to_zero

    def call(self, tokens):
        import tensorflow as tf

        if self.lowercase:
            tokens = tf.strings.lower(tokens, encoding="utf-8")
        if self.digits_to_zero:
            tokens = tf.strings.regex_replace(tokens, r"\d", "0")
        return tokens

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "lowercase": self.lowercase, "digits_to_zero": self.digits_to_zero}


# Casing classes of a token (Collobert et al. 2011; Reimers & Gurevych 2017). 0 is padding.
CASINGS = ("<pad>", "lower", "initial_upper", "all_upper", "mixed", "numeric", "contains_digit", "other")
_CASING_PATTERNS = (  # RE2, checked in order: the first that matches the whole token wins, else "other"
    ("numeric", r"[0-9.,]*[0-9][0-9.,]*"),
    ("lower", r"\p{Ll}+"),
    ("all_upper", r"\p{Lu}+"),
    ("initial_upper", r"\p{Lu}\p{Ll}*"),
    ("contains_digit", r".*[0-9].*"),
    ("mixed", r".*\p{L}.*"),
)


def casing(token: str) -> int:
    """The `CASINGS` id of one token, the same as `TokenCasing` gives in the graph (e.g. for TFLite inputs)."""
    import re
    import unicodedata

    if not token:
        return 0
    # Unicode categories, as RE2's \p{Ll} and \p{Lu} (str.islower also counts letters such as "ª").
    categories = [unicodedata.category(c) for c in token]
    lower, upper = [c == "Ll" for c in categories], [c == "Lu" for c in categories]
    if re.fullmatch(_CASING_PATTERNS[0][1], token):
        name = "numeric"
    elif all(lower):
        name = "lower"
    elif all(upper):
        name = "all_upper"
    elif upper[0] and all(lower[1:]):
        name = "initial_upper"
    elif re.search(r"[0-9]", token):
        name = "contains_digit"
    elif any(c.startswith("L") for c in categories):
        name = "mixed"
    else:
        name = "other"
    return CASINGS.index(name)


@keras.saving.register_keras_serializable(package="zoo")
class TokenCasing(keras.layers.Layer):
    """Tokens ``(batch, time)`` to casing ids (`CASINGS`: lower, Initial, UPPER, mixed, numeric...); ``""`` is 0.

    Lower-cased word embeddings lose case, which marks names in English; this restores it as a feature.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("dtype", "string")
        super().__init__(**kwargs)

    def call(self, tokens):
        import tensorflow as tf

        ids = tf.fill(tf.shape(tokens), CASINGS.index("other"))
        for name, pattern in reversed(_CASING_PATTERNS):  # so the first pattern that matches wins
            ids = tf.where(tf.strings.regex_full_match(tokens, pattern), CASINGS.index(name), ids)
        return tf.where(tf.equal(tokens, ""), 0, ids)

    def compute_output_spec(self, tokens):
        return keras.KerasTensor(tokens.shape, dtype="int32")


@keras.saving.register_keras_serializable(package="zoo")
class SplitCharacters(keras.layers.Layer):
    """Tokens ``(batch, time)`` to their first ``max_chars`` characters ``(batch, time, max_chars)``, padded with ``""``."""

    def __init__(self, max_chars: int = 16, **kwargs):
        kwargs.setdefault("dtype", "string")
        super().__init__(**kwargs)
        self.max_chars = int(max_chars)

    def call(self, tokens):
        import tensorflow as tf

        chars = tf.strings.unicode_split(tokens, "UTF-8", errors="replace")
        chars = chars[:, :, : self.max_chars]
        shape = tf.stack([tf.shape(tokens)[0], tf.shape(tokens)[1], self.max_chars])
        return chars.to_tensor(default_value="", shape=shape)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.max_chars)

    def get_config(self):
        return {**super().get_config(), "max_chars": self.max_chars}


@keras.saving.register_keras_serializable(package="zoo")
class CharCNN(keras.layers.Layer):
    """Character ids ``(batch, time, chars)`` to one vector per token: embedding, 1-D convolution, max over chars.

    Gives unseen words a representation from their spelling (suffixes, capitals, digits).
    """

    def __init__(self, vocab_size: int, embedding_dim: int = 32, filters: int = 64, kernel_size: int = 3, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = int(vocab_size)
        self.embedding_dim = int(embedding_dim)
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.embedding = keras.layers.Embedding(self.vocab_size, self.embedding_dim, name="char_embedding")
        self.conv = keras.layers.Conv1D(self.filters, self.kernel_size, padding="same", activation="relu", name="char_conv")

    def build(self, input_shape):
        self.embedding.build((None, input_shape[-1]))
        self.conv.build((None, input_shape[-1], self.embedding_dim))
        super().build(input_shape)

    def call(self, char_ids):
        batch, time, chars = ops.shape(char_ids)[0], ops.shape(char_ids)[1], ops.shape(char_ids)[2]
        flat = ops.reshape(char_ids, (-1, chars))
        features = self.conv(self.embedding(flat))
        present = ops.expand_dims(ops.cast(ops.not_equal(flat, 0), features.dtype), -1)
        pooled = ops.max(features * present, axis=1)  # relu outputs are >= 0, so padding never wins
        return ops.reshape(pooled, (batch, time, self.filters))

    def compute_mask(self, char_ids, mask=None):
        # A token is present when it has a character. Without this mask, Concatenate with the word
        # embedding would mark padding as present and the BiLSTM would read it.
        return ops.any(ops.not_equal(char_ids, 0), axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1], self.filters)

    def get_config(self):
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "embedding_dim": self.embedding_dim,
            "filters": self.filters,
            "kernel_size": self.kernel_size,
        }


@keras.saving.register_keras_serializable(package="zoo")
class WordDropout(keras.layers.Layer):
    """While training, replaces each known word id by the out-of-vocabulary id with probability ``rate``.

    The model then learns to tag words it has no embedding for from their characters (as Lample et al.
    2016 do with singletons); at inference it passes ids through unchanged. Padding (0) is kept.

    With ``vocab_size``, each id has its own rate (a non-trainable weight, ``rate`` for every id until
    `set_word_counts` raises the rare words' rates): words seen rarely in training are the ones most like
    the unseen words of other text, so they are the ones worth hiding most often.

    Example:
        >>> layer = WordDropout(0.25, vocab_size=5)
        >>> layer.set_word_counts([0, 0, 1, 10, 1000], alpha=2.0)   # id 2 dropped at 2/3, id 4 at 0.25
    """

    def __init__(self, rate: float, oov_id: int = 1, seed: int | None = None, vocab_size: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"rate must be in [0, 1), got {rate!r}.")
        self.rate, self.oov_id, self.seed, self.vocab_size = float(rate), int(oov_id), seed, vocab_size
        self.seed_generator = keras.random.SeedGenerator(seed)
        if vocab_size is not None:
            self.rates = self.add_weight(shape=(int(vocab_size),), initializer=keras.initializers.Constant(self.rate),
                                         trainable=False, name="rates")

    def set_word_counts(self, counts, alpha: float) -> None:
        """Each id's rate becomes ``max(rate, alpha / (alpha + count))`` (Kiperwasser and Goldberg 2016's
        alpha / (alpha + count), floored at the layer's rate); ``counts`` has one training count per id."""
        import numpy as np

        if self.vocab_size is None:
            raise ValueError("set_word_counts needs a WordDropout built with vocab_size (per-word rates).")
        counts = np.asarray(counts, dtype="float64")
        if counts.shape != (self.vocab_size,) or alpha <= 0:
            raise ValueError(f"expected {self.vocab_size} counts and alpha > 0, "
                             f"got shape {counts.shape} and {alpha!r}.")
        self.rates.assign(np.maximum(self.rate, alpha / (alpha + counts)).astype("float32"))

    def call(self, ids, training=None):
        if not training or (self.rate == 0.0 and self.vocab_size is None):
            return ids
        rate = self.rate if self.vocab_size is None else ops.take(self.rates, ids)
        drop = keras.random.uniform(ops.shape(ids), seed=self.seed_generator) < rate
        return ops.where(ops.logical_and(drop, ids > self.oov_id), ops.cast(self.oov_id, ids.dtype), ids)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = {**super().get_config(), "rate": self.rate, "oov_id": self.oov_id, "seed": self.seed}
        return {**config, "vocab_size": self.vocab_size} if self.vocab_size is not None else config
