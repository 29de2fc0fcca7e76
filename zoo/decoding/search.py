"""Greedy decoding and beam search over a `StepModel`, batched, in the graph.

Both are TensorFlow code: they run eagerly, inside a ``tf.function`` and inside a SavedModel signature
alike (wrap them in a ``tf.function`` for speed). Scores are sums of log-probabilities in float64, so
adding a hypothesis' score never merges two candidates that differ, and beam search of width 1 makes
exactly the choices of greedy decoding.
"""

from __future__ import annotations

from zoo.decoding.options import check_options
from zoo.decoding.step import Decoded


def length_normalization(lengths, alpha):
    """GNMT's length normalization: the divisor ``((5 + length) / 6) ** alpha`` of a hypothesis' log-probability.

    Wu et al. 2016 (Google's NMT system), eq. 14. ``length`` counts the tokens written, ``end``
    included. ``alpha = 0`` divides by 1 (the plain log-probability, which favours short outputs);
    larger values favour longer ones. Unlike ``length ** alpha`` it is gentle on very short outputs
    (1 token: 1.0, 3 tokens: 1.33 ** alpha) and it is what beam search ranks finished hypotheses by.

    Example:
        >>> float(length_normalization(tf.constant(7), 0.6))
        1.5157...
    """
    import tensorflow as tf

    return ((5.0 + tf.cast(lengths, tf.float64)) / 6.0) ** tf.cast(alpha, tf.float64)


def greedy(model, inputs, *, max_length) -> Decoded:
    """The most likely next token at every step, for a batch.

    Args:
        model: a `StepModel`.
        inputs: what ``model.start`` reads (batch first).
        max_length: the most tokens a row writes, ``end`` included: an int, or an int tensor ``(batch,)``
            for a bound per row.

    Returns:
        `Decoded`: ids ``(batch, steps)``, lengths, scores and the step's extras stacked over the steps.
    """
    import tensorflow as tf

    return _decode_rows(model, inputs, max_length, lambda log_probs, t: tf.argmax(log_probs, -1, output_type=tf.int32))


def beam_search(model, inputs, *, beam_width, max_length, length_penalty=0.0) -> Decoded:
    """The best of ``beam_width`` hypotheses per row, ranked by `length_normalization`-ed log-probability.

    At every step each live hypothesis is extended by every token, and the ``beam_width`` best sums of
    log-probabilities per row are kept (ties: the lower hypothesis, then the lower token id). A finished
    hypothesis (``end`` written, or its row's length bound reached) keeps its score and its slot and
    competes with the live ones: it extends only with padding, at no cost. At the start only the first
    hypothesis is live, so the beams do not repeat each other. When every hypothesis has finished (or
    the longest bound is reached), each row's hypotheses are divided by ``((5 + length) / 6) **
    length_penalty`` and the best one is returned. Width 1 gives exactly `greedy`'s output.

    Args:
        model: a `StepModel`.
        inputs: what ``model.start`` reads (batch first); its state and memory are repeated per hypothesis.
        beam_width: hypotheses kept per row (1..64).
        max_length: the most tokens a row writes, ``end`` included: an int or an int tensor ``(batch,)``.
        length_penalty: ``alpha`` of the length normalization (0: plain log-probability).

    Returns:
        `Decoded` of the best hypothesis per row; ``scores`` are its log-probability before normalization.
    """
    import tensorflow as tf

    _check_python_options(beam_width=beam_width, length_penalty=length_penalty, max_length=max_length)
    k = beam_width
    pad, end = model.tokens.pad, model.tokens.end
    state, memory = _start(model, inputs)
    batch = _batch_size(state, memory)
    bound = tf.repeat(_bound(max_length, batch), k)  # row i * k + j is hypothesis j of row i
    state = tuple(tf.repeat(s, k, axis=0) for s in state)
    memory = tuple(tf.repeat(m, k, axis=0) for m in memory)
    first_row = tf.range(batch)[:, None] * k
    minus_inf = tf.constant(float("-inf"), tf.float64)

    def advance(t, previous, state, finished, lengths, scores):
        log_probs, state, extras = model.step(previous, state, memory)
        log_probs = tf.cast(allowed(model, log_probs, t, bound), tf.float64)
        vocab = tf.shape(log_probs)[-1]
        only_pad = tf.where(tf.range(vocab) == pad, tf.constant(0.0, tf.float64), minus_inf)
        log_probs = tf.where(finished[:, None], only_pad[None, :], log_probs)
        candidates = tf.reshape(tf.reshape(scores, [-1, 1]) + log_probs, [batch, k * vocab])
        scores, index = tf.math.top_k(candidates, k=k)  # sorted; equal values: the lower index first
        parent = index // vocab
        source = tf.reshape(parent + first_row, [-1])
        token = tf.reshape(index % vocab, [-1])
        was_finished = tf.gather(finished, source)
        lengths = tf.gather(lengths, source) + tf.cast(~was_finished, tf.int32)
        finished = was_finished | tf.equal(token, end) | (lengths >= bound)
        state = tuple(tf.gather(s, source) for s in state)
        extras = tuple(_zero_where(was_finished, tf.gather(e, source)) for e in extras)
        return token, state, finished, lengths, scores, parent, extras

    scores = tf.tile(tf.where(tf.range(k) == 0, tf.constant(0.0, tf.float64), minus_inf)[None, :], [batch, 1])
    start = (tf.fill([batch * k], model.tokens.start), state, tf.zeros([batch * k], tf.bool),
             tf.zeros([batch * k], tf.int32), scores)
    token, state, finished, lengths, scores, parent, extras = advance(tf.constant(0), *start)
    history = (_written(tf.reshape(token, [batch, k])), _written(parent),
               tuple(_written(_per_row(e, batch, k)) for e in extras))

    def body(t, token, state, finished, lengths, scores, history):
        token, state, finished, lengths, scores, parent, extras = advance(t, token, state, finished, lengths, scores)
        tokens, parents, extra_arrays = history
        history = (tokens.write(t, tf.reshape(token, [batch, k])), parents.write(t, parent),
                   tuple(a.write(t, _per_row(e, batch, k)) for a, e in zip(extra_arrays, extras)))
        return t + 1, token, state, finished, lengths, scores, history

    steps = tf.reduce_max(bound)
    steps_taken, _, _, _, lengths, scores, history = tf.while_loop(
        lambda t, token, state, finished, *_: (t < steps) & ~tf.reduce_all(finished),
        body, (tf.constant(1), token, state, finished, lengths, scores, history),
    )
    lengths = tf.reshape(lengths, [batch, k])
    normalized = scores / length_normalization(lengths, length_penalty)
    best = tf.math.top_k(normalized, k=1).indices[:, 0]  # equal values: the lower hypothesis
    ids, extras = _backtrack(history, best, steps_taken)
    return Decoded(ids=ids, lengths=tf.gather(lengths, best, batch_dims=1),
                   scores=tf.gather(scores, best, batch_dims=1), extras=extras)


# === Shared by the searches ===


def allowed(model, log_probs, t, bound):
    """``log_probs`` with what a row may not write at step ``t`` set to -inf.

    Never: ``model.never_write``; ``end`` before ``model.min_length`` tokens; with ``model.force_end``,
    anything but ``end`` at the last step a row's ``bound`` allows.
    """
    import tensorflow as tf

    ids = tf.range(tf.shape(log_probs)[-1])
    blocked = tf.zeros_like(ids, tf.bool)
    for token in model.never_write:
        blocked |= tf.equal(ids, token)
    end = tf.equal(ids, model.tokens.end)
    if model.min_length:
        blocked |= end & (t < model.min_length)
    blocked = blocked[None, :]
    if model.force_end:
        blocked = blocked | ((t + 1 >= bound)[:, None] & ~end[None, :])
    return tf.where(blocked, tf.constant(float("-inf"), log_probs.dtype), log_probs)


def _decode_rows(model, inputs, max_length, choose) -> Decoded:
    """One token per row and step, picked by ``choose(log_probs, t)``: greedy decoding and sampling."""
    import tensorflow as tf

    _check_python_options(max_length=max_length)
    pad, end = model.tokens.pad, model.tokens.end
    state, memory = _start(model, inputs)
    batch = _batch_size(state, memory)
    bound = _bound(max_length, batch)

    def advance(t, previous, state, finished, lengths, scores):
        log_probs, state, extras = model.step(previous, state, memory)
        log_probs = allowed(model, log_probs, t, bound)
        token = tf.where(finished, pad, choose(log_probs, t))
        gain = tf.cast(tf.gather(log_probs, token, batch_dims=1), tf.float64)
        scores += tf.where(finished, tf.constant(0.0, tf.float64), gain)
        extras = tuple(_zero_where(finished, e) for e in extras)
        lengths += tf.cast(~finished, tf.int32)
        finished = finished | tf.equal(token, end) | (lengths >= bound)
        return token, tuple(state), finished, lengths, scores, extras

    start = (tf.fill([batch], model.tokens.start), state, tf.zeros([batch], tf.bool), tf.zeros([batch], tf.int32),
             tf.zeros([batch], tf.float64))
    token, state, finished, lengths, scores, extras = advance(tf.constant(0), *start)
    history = (_written(token), tuple(_written(e) for e in extras))

    def body(t, token, state, finished, lengths, scores, history):
        token, state, finished, lengths, scores, extras = advance(t, token, state, finished, lengths, scores)
        ids, extra_arrays = history
        history = (ids.write(t, token), tuple(a.write(t, e) for a, e in zip(extra_arrays, extras)))
        return t + 1, token, state, finished, lengths, scores, history

    steps = tf.reduce_max(bound)
    _, _, _, _, lengths, scores, (ids, extra_arrays) = tf.while_loop(
        lambda t, token, state, finished, *_: (t < steps) & ~tf.reduce_all(finished),
        body, (tf.constant(1), token, state, finished, lengths, scores, history),
    )
    return Decoded(ids=_batch_major(ids.stack()), lengths=lengths, scores=scores,
                   extras=tuple(_batch_major(a.stack()) for a in extra_arrays))


def _backtrack(history, best, steps):
    """Follows the parents back from hypothesis ``best`` (batch,) of the last step: its ids and extras, batch major."""
    import tensorflow as tf

    tokens, parents, extra_arrays = history
    tokens, parents = tokens.stack(), parents.stack()  # (steps, batch, k)
    extras = tuple(a.stack() for a in extra_arrays)  # (steps, batch, k, ...)

    def body(t, beam, ids, picked):
        t -= 1
        ids = ids.write(t, tf.gather(tokens[t], beam, batch_dims=1))
        picked = tuple(a.write(t, tf.gather(e[t], beam, batch_dims=1)) for a, e in zip(picked, extras))
        return t, tf.gather(parents[t], beam, batch_dims=1), ids, picked

    _, _, ids, picked = tf.while_loop(
        lambda t, *_: t > 0, body,
        (steps, best, tf.TensorArray(tf.int32, size=steps), tuple(tf.TensorArray(e.dtype, size=steps) for e in extras)),
    )
    return _batch_major(ids.stack()), tuple(_batch_major(a.stack()) for a in picked)


def _start(model, inputs):
    state, memory = model.start(inputs)
    return tuple(state), tuple(memory)


def _batch_size(state, memory):
    import tensorflow as tf

    tensors = tf.nest.flatten((state, memory))
    if not tensors:
        raise ValueError("StepModel.start returned no state and no memory: the batch size is unknown.")
    return tf.shape(tensors[0])[0]


def _bound(max_length, batch):
    """The length bound of every row, ``(batch,)`` int32."""
    import tensorflow as tf

    return tf.broadcast_to(tf.cast(max_length, tf.int32), [batch])


def _check_python_options(**options):
    """Checks the options given as Python values (a tensor is the caller's business)."""
    check_options(**{name: value for name, value in options.items() if isinstance(value, (int, float))})


def _written(first):
    """A growing TensorArray holding ``first`` (batch, ...) at step 0; its elements may change batch size."""
    import tensorflow as tf

    shape = tf.TensorShape([None]).concatenate(first.shape[1:])
    return tf.TensorArray(first.dtype, size=0, dynamic_size=True, element_shape=shape).write(0, first)


def _zero_where(rows, values):
    """``values`` (batch, ...) with the rows where ``rows`` (batch,) is True set to zero."""
    import tensorflow as tf

    mask = tf.reshape(rows, [-1] + [1] * (values.shape.rank - 1))
    return tf.where(mask, tf.zeros_like(values), values)


def _per_row(values, batch, k):
    """``(batch * k, ...)`` -> ``(batch, k, ...)``."""
    import tensorflow as tf

    return tf.reshape(values, tf.concat([[batch, k], tf.shape(values)[1:]], axis=0))


def _batch_major(stacked):
    """``(steps, batch, ...)`` -> ``(batch, steps, ...)``."""
    import tensorflow as tf

    rank = stacked.shape.rank
    if rank is None:
        return tf.transpose(stacked, tf.concat([[1, 0], tf.range(2, tf.rank(stacked))], axis=0))
    return tf.transpose(stacked, [1, 0, *range(2, rank)])
