"""Sampling over a `StepModel`: temperature, top-k and nucleus (top-p), reproducible from a seed."""

from __future__ import annotations

from zoo.decoding.options import check_options
from zoo.decoding.step import Decoded


def sample(model, inputs, *, max_length, temperature=1.0, top_k=None, top_p=None, seed=0) -> Decoded:
    """Draws every row's next token from the model's distribution, reshaped by the options, until ``end``.

    At each step the log-probabilities (with what the model may not write removed) are divided by
    ``temperature``; then only the ``top_k`` most likely tokens are kept, then only the smallest set of
    the most likely whose probability reaches ``top_p`` (nucleus sampling, Holtzman et al. 2020); the
    token is drawn from what remains, renormalized. The draws are stateless random ops seeded by
    ``(seed, step)``: the same seed, inputs and batch give the same output, in Python and in a graph.
    ``top_k=1`` and a tiny ``top_p`` are greedy decoding.

    Args:
        model: a `StepModel`.
        inputs: what ``model.start`` reads (batch first).
        max_length: the most tokens a row writes, ``end`` included: an int or an int tensor ``(batch,)``.
        temperature: > 0; below 1 sharpens the distribution, above 1 flattens it.
        top_k: keep the k most likely tokens (None: all).
        top_p: keep the most likely tokens up to this probability mass, in (0, 1] (None: all).
        seed: an integer >= 0 (or an int64 scalar tensor).

    Returns:
        `Decoded`; ``scores`` are the model's log-probabilities of the tokens drawn (before temperature).
    """
    from zoo.decoding.search import _check_python_options, _decode_rows

    _check_python_options(temperature=temperature, seed=seed)
    check_options(top_k=top_k, top_p=top_p)
    return _decode_rows(model, inputs, max_length, sampler(temperature=temperature, top_k=top_k, top_p=top_p, seed=seed))


def sampler(*, temperature=1.0, top_k=None, top_p=None, seed=0):
    """The draw `sample` makes at each step: ``choose(log_probs, t) -> ids (batch,) int32``, as TF ops.

    Exposed so a caller stepping a model itself (a generator streaming its output one token per call)
    draws exactly what `sample` draws for the same options, seed and step ``t``.
    """
    import tensorflow as tf

    def choose(log_probs, t):
        logits = log_probs / tf.cast(temperature, log_probs.dtype)
        seeds = tf.stack([tf.cast(seed, tf.int64), tf.cast(t, tf.int64)])
        if top_k is None and top_p is None:
            return tf.cast(tf.random.stateless_categorical(logits, 1, seeds)[:, 0], tf.int32)
        vocab = tf.shape(logits)[-1]
        values, indices = tf.math.top_k(logits, k=vocab if top_k is None else tf.minimum(top_k, vocab))
        if top_p is not None:  # a token stays if the tokens before it hold less than top_p
            before = tf.cumsum(tf.nn.softmax(values, axis=-1), axis=-1, exclusive=True)
            values = tf.where(before < top_p, values, tf.constant(float("-inf"), values.dtype))
        pick = tf.random.stateless_categorical(values, 1, seeds)[:, 0]
        return tf.gather(indices, tf.cast(pick, tf.int32), batch_dims=1)

    return choose


def sample_stream(model, inputs, *, max_length: int, temperature=1.0, top_k=None, top_p=None, seed=0):
    """Yields, one by one as each is drawn, the tokens `sample` writes for a batch of one row (Python ints).

    The same steps, options and seeds ``(seed, t)`` as `sample`, so the tokens are ``sample(...).ids[0]``
    up to its length: at most ``max_length``, ending with ``model.tokens.end`` when the model writes it.
    For a generator that shows its output as it is written (``zoo predict``, a chat-like loop).
    """
    import tensorflow as tf

    from zoo.decoding.search import _check_python_options, allowed

    _check_python_options(max_length=max_length, temperature=temperature, seed=seed)
    check_options(top_k=top_k, top_p=top_p)
    compiled = vars(model).setdefault("_sample_stream", {})  # (top_k, top_p) -> (start, one step), compiled once each
    if (top_k, top_p) not in compiled:
        def one(ids, state, memory, t, bound, temperature, seed):
            log_probs, state, _ = model.step(ids, state, memory)
            log_probs = allowed(model, log_probs, t, bound)
            return sampler(temperature=temperature, top_k=top_k, top_p=top_p, seed=seed)(log_probs, t), state

        compiled[(top_k, top_p)] = (tf.function(model.start, reduce_retracing=True),
                                    tf.function(one, reduce_retracing=True))
    start, one = compiled[(top_k, top_p)]
    state, memory = start(inputs)
    ids, bound = tf.fill([1], model.tokens.start), tf.fill([1], max_length)
    temperature, seed = tf.constant(temperature, tf.float32), tf.constant(seed, tf.int64)
    for t in range(max_length):
        ids, state = one(ids, tuple(state), tuple(memory), tf.constant(t), bound, temperature, seed)
        token = int(ids[0])
        yield token
        if token == model.tokens.end:
            return
