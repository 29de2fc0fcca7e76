"""Layers of the word-level language models: a tied input/output embedding and review boundaries."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class TiedEmbedding(keras.layers.Embedding):
    """An ``Embedding`` whose matrix is also the output softmax layer (Press & Wolf 2017, Inan et al. 2017).

    ``layer(ids)`` looks ids up as usual: ``(batch, time)`` -> ``(batch, time, output_dim)``.
    ``layer(vectors, reverse=True)`` scores vectors against every row of the same matrix, plus a
    per-word bias: ``(..., output_dim)`` -> logits ``(..., input_dim)``. One matrix serves both
    ways, so the vocabulary is paid for once in parameters and file size.

    Example:
        >>> embed = TiedEmbedding(10000, 128)
        >>> x = embed(ids)                       # (batch, time, 128)
        >>> logits = embed(hidden, reverse=True)  # (batch, time, 10000), hidden is (batch, time, 128)
    """

    def __init__(self, input_dim, output_dim, *, output_bias: bool = True, **kwargs):
        super().__init__(input_dim, output_dim, **kwargs)
        self.output_bias = bool(output_bias)

    def build(self, input_shape=None):
        if self.built:
            return
        super().build(input_shape)
        if self.output_bias:
            self.bias = self.add_weight(shape=(self.input_dim,), initializer="zeros", name="output_bias")

    @property
    def variable_serialization_spec(self):
        spec = dict(super().variable_serialization_spec)
        if self.output_bias:
            spec[None] = [*spec[None], "bias"]
        return spec

    def call(self, inputs, reverse=False):
        if not reverse:
            return super().call(inputs)
        logits = ops.matmul(inputs, ops.transpose(ops.cast(self.embeddings, inputs.dtype)))
        if self.output_bias:
            logits = logits + ops.cast(self.bias, logits.dtype)
        return logits

    def compute_mask(self, inputs, mask=None, reverse=False):
        return None if reverse else super().compute_mask(inputs, mask)

    def compute_output_shape(self, input_shape, reverse=False):
        if reverse:
            return (*input_shape[:-1], self.input_dim)
        return super().compute_output_shape(input_shape)

    def compute_output_spec(self, inputs, reverse=False):
        if reverse:
            return keras.KerasTensor((*inputs.shape[:-1], self.input_dim), dtype=self.compute_dtype)
        return super().compute_output_spec(inputs)

    def get_config(self):
        return {**super().get_config(), "output_bias": self.output_bias}


@keras.saving.register_keras_serializable(package="zoo")
class AddBoundaryTokens(keras.layers.Layer):
    """Puts the end-of-text id before and after each row of 0-padded token ids.

    Input ``(batch, time)`` int ids padded with 0 at the end; output ``(batch, time + 2)``: row
    ``[w1 .. wn, 0 ..]`` becomes ``[eos, w1 .. wn, eos, 0 ..]``. A language model then predicts
    the first word from the leading ``eos`` (the state it is in after any review) and the end
    of the text from the last word, the way it was trained on reviews joined by ``eos``.

    Example:
        >>> AddBoundaryTokens(2)(np.array([[5, 6, 0], [7, 0, 0]]))  # -> [[2, 5, 6, 2, 0], [2, 7, 2, 0, 0]]
    """

    def __init__(self, token_id: int, **kwargs):
        super().__init__(**kwargs)
        self.token_id = int(token_id)

    def call(self, ids):
        ids = ops.cast(ids, "int32")
        n = ops.sum(ops.cast(ops.not_equal(ids, 0), "int32"), axis=1, keepdims=True)
        batch = ops.shape(ids)[0]
        start = ops.full((batch, 1), self.token_id, dtype="int32")
        shifted = ops.concatenate([start, ids, ops.zeros((batch, 1), dtype="int32")], axis=1)
        j = ops.expand_dims(ops.arange(ops.shape(shifted)[1], dtype="int32"), 0)
        return ops.where(ops.equal(j, n + 1), self.token_id, shifted)

    def compute_output_shape(self, input_shape):
        time = None if input_shape[1] is None else input_shape[1] + 2
        return (input_shape[0], time)

    def compute_output_spec(self, ids):
        return keras.KerasTensor(self.compute_output_shape(ids.shape), dtype="int32")

    def get_config(self):
        return {**super().get_config(), "token_id": self.token_id}
