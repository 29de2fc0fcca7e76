"""Layers of the language models: a tied input/output embedding, review boundaries and a continuous cache."""

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


PENDING = -1  # a cache slot whose next token is not read yet: the next call's first token (0, padding: no entry)


@keras.saving.register_keras_serializable(package="zoo")
class ContinuousCache(keras.layers.Layer):
    """A language model's next-token distribution mixed with a cache of what followed similar states
    (the continuous cache of Grave, Joulin & Usunier 2017).

    At position ``t``, with ``h_t`` the top recurrent layer's output, the cache is the last ``size``
    positions ``i < t``, each holding ``h_i`` and the token that followed it. The output is

        p(w) = (1 - mix) softmax(logits_t)(w) + mix * sum over cached i followed by w of a_i,
        a = softmax over the cached i of theta * cos(h_t, h_i),

    given as log-probabilities (so they are logits too). Nothing is trained: ``theta`` and ``mix`` are
    non-trainable weights fitted on validation text; while training the layer is the network's own
    log-softmax. Called on ``[logits, hidden, ids]`` (``(batch, time, vocab)``, ``(batch, time, units)``,
    ``(batch, time)``) the cache holds the text itself. With ``memory`` (`empty_memory`, all zeros, or what
    the previous call returned) it also holds what came before, and the call returns ``(log_probs, memory)``:
    a long text read in stretches gets the same figures as read at once. Id 0 (padding) is never cached.

    Example:
        >>> cache = ContinuousCache(4000, theta=25.0, mix=0.15)
        >>> log_probs = cache([logits, hidden, ids])
        >>> log_probs, memory = cache([logits, hidden, ids], memory=cache.empty_memory(1, units))
    """

    def __init__(self, size: int, *, theta: float = 25.0, mix: float = 0.15, **kwargs):
        super().__init__(**kwargs)
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"size must be a positive number of cached positions, got {size!r}.")
        if not theta >= 0:
            raise ValueError(f"theta must be >= 0, got {theta!r}.")
        if not 0 <= mix < 1:
            raise ValueError(f"mix must be in [0, 1), got {mix!r}.")
        self.size, self.initial_theta, self.initial_mix = size, float(theta), float(mix)

    def build(self, input_shape=None):
        if self.built:
            return
        constant = keras.initializers.Constant
        self.theta = self.add_weight(shape=(), initializer=constant(self.initial_theta), trainable=False, name="theta")
        self.mix = self.add_weight(shape=(), initializer=constant(self.initial_mix), trainable=False, name="mix")
        self.built = True

    def empty_memory(self, batch, units):
        """The memory of a text not begun: zeros, ``(keys (batch, size, units), next ids (batch, size) int32)``."""
        return ops.zeros((batch, self.size, units)), ops.zeros((batch, self.size), dtype="int32")

    def call(self, inputs, memory=None, training=False):
        logits, hidden, ids = inputs
        log_probs = ops.log_softmax(logits, axis=-1)
        if training:
            return log_probs
        ids = ops.cast(ids, "int32")
        keys = hidden / ops.maximum(ops.sqrt(ops.sum(ops.square(hidden), axis=-1, keepdims=True)), 1e-12)
        pending = ops.full((ops.shape(ids)[0], 1), PENDING, dtype="int32")
        if memory is None:
            held, entry_keys = 0, keys
            entry_next = ops.concatenate([ids[:, 1:], pending], axis=1)
        else:  # the memory's last key waits for this call's first token
            held, (memory_keys, memory_next) = self.size, memory
            last = ops.where(ops.equal(memory_next[:, -1:], PENDING), ids[:, :1], memory_next[:, -1:])
            entry_keys = ops.concatenate([ops.cast(memory_keys, keys.dtype), keys], axis=1)
            entry_next = ops.concatenate([memory_next[:, :-1], last, ids[:, 1:], pending], axis=1)
        # Query t may read entry e (a key at position e - held of this stretch) when t - size <= e - held < t.
        t = ops.expand_dims(ops.arange(ops.shape(ids)[1]), 1)
        e = ops.expand_dims(ops.arange(ops.shape(entry_next)[1]), 0)
        usable = ops.logical_and(e < t + held, e >= t + held - self.size)
        usable = ops.logical_and(ops.expand_dims(usable, 0), ops.expand_dims(entry_next > 0, 1))
        scores = ops.where(usable, ops.cast(self.theta, keys.dtype) * ops.einsum("bth,beh->bte", keys, entry_keys), -1e30)
        weights = ops.exp(scores - ops.max(scores, axis=-1, keepdims=True)) * ops.cast(usable, keys.dtype)
        total = ops.sum(weights, axis=-1, keepdims=True)
        vocab = ops.shape(logits)[-1]
        cached = ops.einsum("bte,bev->btv", weights / ops.maximum(total, 1e-30),
                            ops.one_hot(ops.maximum(entry_next, 0), vocab, dtype=keys.dtype))
        mix = ops.cast(self.mix, keys.dtype) * ops.cast(total > 0, keys.dtype)  # an empty cache mixes nothing in
        log_mixed = ops.log(ops.maximum((1 - mix) * ops.exp(log_probs) + mix * cached, 1e-30))
        if memory is None:
            return log_mixed
        return log_mixed, (entry_keys[:, -self.size :], entry_next[:, -self.size :])

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def compute_output_spec(self, inputs, memory=None, training=False):
        out = keras.KerasTensor(inputs[0].shape, dtype=self.compute_dtype)
        if memory is None:
            return out
        return out, tuple(keras.KerasTensor(m.shape, dtype=m.dtype) for m in memory)

    def get_config(self):
        theta, mix = (round(float(ops.convert_to_numpy(w)), 6) for w in (self.theta, self.mix)) if self.built else (
            self.initial_theta, self.initial_mix)
        return {**super().get_config(), "size": self.size, "theta": theta, "mix": mix}
