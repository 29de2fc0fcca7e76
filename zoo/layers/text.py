"""Text preprocessing layers that travel inside a checkpoint, so raw strings go in."""

from __future__ import annotations

import numbers

import keras
from keras import ops

# `<br />` tags (IMDB reviews are full of them), then anything that is neither a letter, a digit,
# an apostrophe nor sentence punctuation that carries sentiment.
_HTML_BREAK = r"<br\s*/?>"
_NOT_KEPT = r"[^\p{L}\p{N}'!?]+"


@keras.saving.register_keras_serializable(package="zoo")
class StandardizeText(keras.layers.Layer):
    """Lower-cases, removes ``<br />`` tags and punctuation, and splits ``!``/``?`` into tokens.

    The output is a whitespace-separated string, ready for ``keras.layers.TextVectorization(
    standardize=None, split="whitespace")``.

    Example:
        >>> StandardizeText()(tf.constant(["Great film!<br /><br />10/10"]))
        <tf.Tensor: ... numpy=array([b'great film ! 10 10'], dtype=object)>
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("dtype", "string")
        super().__init__(**kwargs)

    def call(self, texts):
        import tensorflow as tf

        texts = tf.strings.lower(texts, encoding="utf-8")
        texts = tf.strings.regex_replace(texts, _HTML_BREAK, " ")
        texts = tf.strings.regex_replace(texts, r"([!?])", r" \1 ")
        texts = tf.strings.regex_replace(texts, _NOT_KEPT, " ")
        return tf.strings.strip(texts)

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package="zoo")
class HeadTailCrop(keras.layers.Layer):
    """Keeps the first ``head`` and the last ``length - head`` tokens of sequences longer than ``length``.

    Reviews often state their verdict at the end, so keeping the tail beats plain truncation. With
    ``start_id``, every sequence first gets that id in front (it counts in ``length`` and is always kept):
    a classifier fine-tuned from a language model reads each text as the language model saw every review,
    after an end-of-review token.
    Input: int token ids padded with 0 at the end, shape ``(batch, time)``. Output: ``(batch, length)``
    padded with 0; with ``trim=True``, ``(batch, min(length, longest row))``, so a batch of short texts
    costs a recurrent layer only the steps it needs (masked padding changes no result).

    Example:
        >>> HeadTailCrop(length=4, head=1)(np.array([[1, 2, 3, 4, 5, 6]]))  # -> [[1, 4, 5, 6]]
        >>> HeadTailCrop(length=4, head=1, trim=True)(np.array([[7, 8, 0]]))  # -> [[7, 8]]
        >>> HeadTailCrop(length=4, head=1, start_id=2)(np.array([[7, 8, 0]]))  # -> [[2, 7, 8, 0]]
    """

    def __init__(self, length: int, head: int, trim: bool = False, start_id: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= head <= length:
            raise ValueError(f"head must be in [0, length={length}], got {head}.")
        if start_id is not None and (isinstance(start_id, bool) or not isinstance(start_id, numbers.Integral)
                                     or start_id < 1 or head < 1):
            raise ValueError(f"start_id must be a positive token id kept in a head of at least 1, got start_id={start_id!r}, "
                             f"head={head}.")
        self.length = int(length)
        self.head = int(head)
        self.trim = bool(trim)
        self.start_id = None if start_id is None else int(start_id)  # a plain int: numpy ids serialize too

    def call(self, ids):
        ids = ops.cast(ids, "int32")
        if self.start_id is not None:
            ids = ops.concatenate([ops.full((ops.shape(ids)[0], 1), self.start_id, dtype="int32"), ids], axis=1)
        # Pad so that there are at least `length` positions, then gather head + tail per row.
        ids = ops.pad(ids, [[0, 0], [0, self.length]])
        n = ops.sum(ops.cast(ops.not_equal(ids, 0), "int32"), axis=1, keepdims=True)
        j = ops.expand_dims(ops.arange(self.length, dtype="int32"), 0)
        tail_start = n - (self.length - self.head)
        cropped = ops.where(j < self.head, j, tail_start + j - self.head)
        index = ops.where(n > self.length, cropped, j)
        out = ops.take_along_axis(ids, index, axis=1)
        if self.trim:
            out = out[:, : ops.maximum(ops.minimum(ops.max(n), self.length), 1)]
        return out

    def compute_output_shape(self, input_shape):
        return (input_shape[0], None if self.trim else self.length)

    def get_config(self):
        config = {**super().get_config(), "length": self.length, "head": self.head, "trim": self.trim}
        if self.start_id is not None:  # absent otherwise, so checkpoints saved before it load unchanged
            config["start_id"] = self.start_id
        return config


@keras.saving.register_keras_serializable(package="zoo")
class MaskedGlobalPooling(keras.layers.Layer):
    """Max and/or mean over time that ignores masked (padded) steps.

    ``mode`` is ``"max"``, ``"mean"`` or ``"max_mean"`` (both, concatenated).
    """

    def __init__(self, mode: str = "max_mean", **kwargs):
        super().__init__(**kwargs)
        if mode not in ("max", "mean", "max_mean"):
            raise ValueError(f"mode must be 'max', 'mean' or 'max_mean', got {mode!r}.")
        self.mode = mode
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            mask = ops.ones(ops.shape(inputs)[:2], dtype="bool")
        weights = ops.expand_dims(ops.cast(mask, inputs.dtype), -1)
        pooled = []
        if "max" in self.mode:
            # A row whose steps are all masked (text with no known characters) pools to zeros.
            row_max = ops.max(ops.where(weights > 0, inputs, -1e9), axis=1)
            pooled.append(ops.where(ops.any(mask, axis=1, keepdims=True), row_max, 0.0))
        if "mean" in self.mode:
            count = ops.maximum(ops.sum(weights, axis=1), 1.0)
            pooled.append(ops.sum(inputs * weights, axis=1) / count)
        return pooled[0] if len(pooled) == 1 else ops.concatenate(pooled, axis=-1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        factor = 2 if self.mode == "max_mean" else 1
        return (input_shape[0], input_shape[-1] * factor)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}
