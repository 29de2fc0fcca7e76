"""Linear-chain conditional random field (CRF) for sequence tagging, built on ``keras.ops``.

A CRF scores a whole tag sequence ``y`` for emissions ``e`` (one score per step and tag, usually the
output of ``Dense(num_tags)``)::

    score(y) = start[y_0] + sum_t e_t[y_t] + sum_{t>0} transitions[y_{t-1}, y_t] + end[y_last]
    p(y | e) = exp(score(y)) / Z,   Z = sum over all tag sequences of exp(score)

``CRF`` decodes (Viterbi) when called, so a model ending in it outputs tag ids. ``CRFTagger`` trains an
emission model with a CRF on top by maximum likelihood with plain ``model.fit``.

Example:
    >>> emissions_model = keras.Sequential([
    ...     keras.Input((None,), dtype="int32"),
    ...     keras.layers.Embedding(10_000, 64, mask_zero=True),
    ...     keras.layers.Bidirectional(keras.layers.LSTM(64, return_sequences=True)),
    ...     keras.layers.Dense(len(TAGS)),
    ... ])
    >>> tagger = CRFTagger(emissions_model)
    >>> tagger.compile(optimizer="adam")
    >>> tagger.fit(token_ids, tag_ids, batch_size=32, epochs=5)  # both int (batch, time), 0-padded
    >>> tagger.predict(token_ids)  # Viterbi tag ids, int32 (batch, time), 0 at padding
    >>> tagger.save("tagger.keras")  # reload: import zoo.layers.crf; keras.saving.load_model(...)

Masks may be right-padded, left-padded (``pad_sequences``' default) or have holes: the steps a mask
drops are skipped and the CRF chains the kept steps. Outputs at dropped steps are 0.
"""

from __future__ import annotations

import keras
from keras import ops


def _left_align(mask):
    """Per row, the order that moves kept steps to the front (in order) and dropped steps behind them.

    Returns ``(source, destination)``: ``aligned[:, i] = x[:, source[:, i]]`` and
    ``x[:, t] = aligned[:, destination[:, t]]``. After alignment every mask is a prefix, which is all
    the recursions below handle.
    """
    keep = ops.cast(mask, "int32")
    kept = ops.sum(keep, axis=1, keepdims=True)
    destination = ops.where(mask, ops.cumsum(keep, axis=1) - 1, kept + ops.cumsum(1 - keep, axis=1) - 1)
    source = ops.cast(ops.argsort(destination, axis=1), "int32")
    return source, destination


def _time_major(x):
    return ops.moveaxis(x, 1, 0)


def _batch_major(x):
    return ops.moveaxis(x, 0, 1)


@keras.saving.register_keras_serializable(package="zoo")
class CRF(keras.layers.Layer):
    """Linear-chain CRF: called on emissions ``(batch, time, num_tags)``, returns Viterbi tag ids.

    Weights: ``transitions[i, j]`` (score of tag ``j`` right after tag ``i``), ``start_transitions``
    and ``end_transitions`` (scores of the first and last tag). All start at zero, so an untrained
    CRF decodes like a per-step argmax. The layer computes in float32 (log-sum-exp in float16 is not
    precise enough), whatever the global dtype policy.

    Args:
        num_tags: number of tags, the size of the emissions' last axis.

    Example:
        >>> crf = CRF(num_tags=3)
        >>> emissions = np.random.normal(size=(2, 5, 3)).astype("float32")
        >>> mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], dtype=bool)
        >>> crf(emissions, mask=mask)  # int32 (2, 5); row 1 ends in two 0s
        >>> crf.log_likelihood(emissions, tags, mask)  # (2,) log p(tags | emissions)
    """

    def __init__(self, num_tags: int, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        if int(num_tags) < 1:
            raise ValueError(f"num_tags must be a positive integer, got {num_tags}.")
        self.num_tags = int(num_tags)
        self.supports_masking = True
        self.input_spec = keras.InputSpec(min_ndim=3, axes={-1: self.num_tags})
        # The weights depend on num_tags only, so they exist from construction: the algorithms below
        # can run before the layer is ever called.
        self.transitions = self.add_weight(
            shape=(self.num_tags, self.num_tags), initializer="zeros", name="transitions"
        )
        self.start_transitions = self.add_weight(shape=(self.num_tags,), initializer="zeros", name="start_transitions")
        self.end_transitions = self.add_weight(shape=(self.num_tags,), initializer="zeros", name="end_transitions")
        self.built = True

    def call(self, emissions, mask=None):
        tags, _ = self.viterbi_decode(emissions, mask)
        return tags

    def compute_mask(self, emissions, mask=None):
        return mask

    def compute_output_spec(self, emissions, mask=None):
        return keras.KerasTensor(emissions.shape[:-1], dtype="int32")

    def get_config(self):
        return {**super().get_config(), "num_tags": self.num_tags}

    # -- the algorithms. Each takes emissions (batch, time, num_tags) and an optional mask (batch, time).

    def log_partition(self, emissions, mask=None):
        """log Z, the log-sum-exp of the scores of all tag sequences (forward algorithm), shape ``(batch,)``.

        Rows whose mask drops every step get 0 (one empty sequence, probability 1).
        """
        emissions, _, lengths, _, _ = self._prepare(emissions, mask)
        return self._log_partition_from(self._forward_last(emissions, lengths), lengths)

    def log_likelihood(self, emissions, tags, mask=None):
        """log p(tags | emissions) per sequence, shape ``(batch,)``; tags at dropped steps are ignored.

        Example:
            >>> crf.log_likelihood(emissions, np.array([[0, 2, 1]]))  # (1,), <= 0
        """
        emissions, mask, lengths, source, _ = self._prepare(emissions, mask)
        tags = ops.take_along_axis(ops.cast(tags, "int32"), source, axis=1)
        tags = ops.where(mask, tags, 0)  # padding labels may be anything, even -1
        log_z = self._log_partition_from(self._forward_last(emissions, lengths), lengths)
        return self._sequence_score(emissions, tags, mask, lengths) - log_z

    def viterbi_decode(self, emissions, mask=None):
        """The most likely tag sequence: ``(tags, best_score)``.

        ``tags`` is int32 ``(batch, time)`` with 0 at dropped steps; ``best_score`` ``(batch,)`` is its
        unnormalised score (``score(tags) - log_partition`` is its log-probability).
        """
        emissions, mask, lengths, _, destination = self._prepare(emissions, mask)
        transitions, start = self.transitions, self.start_transitions
        identity = ops.zeros_like(emissions[:, 0], dtype="int32") + ops.arange(self.num_tags, dtype="int32")

        def step(carry, emission):
            best, _, t = carry
            scores = best[:, :, None] + transitions  # (batch, from, to)
            new_best = ops.where(t == 0, start + emission, ops.max(scores, axis=1) + emission)
            keep = (t < lengths)[:, None]
            # Steps that chain nothing (the first, padding) point each tag at itself, so backtracking
            # passes through them unchanged.
            pointers = ops.where(
                ops.logical_and(keep, t > 0), ops.cast(ops.argmax(scores, axis=1), "int32"), identity
            )
            carry = (ops.where(keep, new_best, best), pointers, t + 1)
            return carry, carry

        init = (ops.zeros_like(emissions[:, 0]), identity, ops.zeros((), dtype="int32"))
        (best, _, _), (_, pointers, _) = ops.scan(step, init, _time_major(emissions))
        final = best + self.end_transitions
        last_tag = ops.cast(ops.argmax(final, axis=1), "int32")

        def backtrack(tag, step_pointers):
            previous = ops.take_along_axis(step_pointers, tag[:, None], axis=1)[:, 0]
            return previous, tag

        _, tags = ops.scan(backtrack, last_tag, pointers, reverse=True)
        tags = ops.where(mask, _batch_major(tags), 0)
        tags = ops.take_along_axis(tags, destination, axis=1)
        best_score = ops.where(lengths > 0, ops.max(final, axis=1), 0.0)
        return tags, best_score

    def marginals(self, emissions, mask=None):
        """Posterior probability of each tag at each step (forward-backward), ``(batch, time, num_tags)``.

        Each kept step sums to 1 over tags; dropped steps are all 0. Good as per-token confidence scores.
        """
        emissions, mask, lengths, _, destination = self._prepare(emissions, mask)
        alphas = self._forward(emissions, lengths)
        betas = self._backward(emissions, lengths)
        log_z = self._log_partition_from(alphas[-1], lengths)
        probabilities = _batch_major(ops.exp(alphas + betas - log_z[None, :, None]))
        probabilities = ops.where(mask[:, :, None], probabilities, 0.0)
        return ops.take_along_axis(probabilities, destination[:, :, None], axis=1)

    # -- internals: after _prepare, masks are prefixes (right padding) and dropped emissions are 0.

    def _prepare(self, emissions, mask):
        emissions = ops.cast(emissions, self.compute_dtype)
        if mask is None:
            mask = ops.ones(ops.shape(emissions)[:2], dtype="bool")
        mask = ops.cast(mask, "bool")
        source, destination = _left_align(mask)
        lengths = ops.sum(ops.cast(mask, "int32"), axis=1)
        mask = ops.arange(ops.shape(emissions)[1], dtype="int32")[None, :] < lengths[:, None]
        emissions = ops.take_along_axis(emissions, source[:, :, None], axis=1)
        # Zeroed so that garbage (even inf or nan) at padding cannot leak into values or gradients.
        emissions = ops.where(mask[:, :, None], emissions, 0.0)
        return emissions, mask, lengths, source, destination

    # keras.ops.scan on TF needs each step's output to match the carry's structure, and a single tensor
    # to scan over when the length is unknown (as in a SavedModel signature). So the scans carry the
    # step index, read "is this step kept" from `lengths`, and output their whole carry.

    def _forward_step(self, alpha, emission, t, lengths):
        """alpha_t[j] = log-sum-exp of the scores of all prefixes ending in tag j at step t.

        Past a row's end alpha keeps its last value.
        """
        chained = ops.logsumexp(alpha[:, :, None] + self.transitions, axis=1) + emission
        new_alpha = ops.where(t == 0, self.start_transitions + emission, chained)
        return ops.where((t < lengths)[:, None], new_alpha, alpha)

    def _forward_last(self, emissions, lengths):
        """The last alpha. A bounded while loop, not a scan: XLA can differentiate it (jit_compile)."""
        time_major = _time_major(emissions)
        steps = ops.shape(emissions)[1]

        def body(t, alpha):
            return t + 1, self._forward_step(alpha, ops.take(time_major, t, axis=0), t, lengths)

        init = (ops.zeros((), dtype="int32"), ops.zeros_like(emissions[:, 0]))
        _, alpha = ops.while_loop(lambda t, _: t < steps, body, init, maximum_iterations=steps)
        return alpha

    def _forward(self, emissions, lengths):
        """Every alpha, time-major ``(time, batch, num_tags)``."""

        def step(carry, emission):
            alpha, t = carry
            carry = (self._forward_step(alpha, emission, t, lengths), t + 1)
            return carry, carry

        init = (ops.zeros_like(emissions[:, 0]), ops.zeros((), dtype="int32"))
        _, (alphas, _) = ops.scan(step, init, _time_major(emissions))
        return alphas

    def _backward(self, emissions, lengths):
        """beta_t[i] = log-sum-exp of the scores of all suffixes after tag i at step t, time-major."""
        transitions, end = self.transitions, self.end_transitions
        # Step t needs the emissions of step t + 1.
        next_emissions = ops.concatenate([emissions[:, 1:], ops.zeros_like(emissions[:, :1])], axis=1)

        def step(carry, emission):
            beta, t = carry
            # Higher-rank operand first: Keras' TF `add` takes a right operand like (1, 1, K) for a bias
            # and drops the broadcast to rank 3 (keras.src.backend.tensorflow.numpy.add).
            chained = ops.logsumexp((emission + beta)[:, None, :] + transitions, axis=2)
            # The last kept step (and any after it) only has the end score ahead.
            carry = (ops.where((t + 1 < lengths)[:, None], chained, end), t - 1)
            return carry, carry

        last_step = ops.cast(ops.shape(emissions)[1], "int32") - 1
        init = (ops.zeros_like(emissions[:, 0]), last_step)
        _, (betas, _) = ops.scan(step, init, _time_major(next_emissions), reverse=True)
        return betas

    def _log_partition_from(self, last_alpha, lengths):
        return ops.where(lengths > 0, ops.logsumexp(last_alpha + self.end_transitions, axis=1), 0.0)

    def _sequence_score(self, emissions, tags, mask, lengths):
        kept = ops.cast(mask, emissions.dtype)
        emitted = ops.take_along_axis(emissions, tags[:, :, None], axis=2)[:, :, 0]
        pairs = tags[:, :-1] * self.num_tags + tags[:, 1:]
        chained = ops.take(ops.reshape(self.transitions, (-1,)), pairs)
        last_tag = ops.take_along_axis(tags, ops.maximum(lengths - 1, 0)[:, None], axis=1)[:, 0]
        score = (
            ops.sum(emitted * kept, axis=1)
            + ops.sum(chained * kept[:, 1:], axis=1)
            + ops.take(self.start_transitions, tags[:, 0])
            + ops.take(self.end_transitions, last_tag)
        )
        return ops.where(lengths > 0, score, 0.0)


def crf_nll(crf: CRF, emissions, tags, mask=None, sample_weight=None):
    """Mean negative log-likelihood of ``tags`` over the batch: the loss a CRF is trained on.

    ``sample_weight`` (optional, ``(batch,)``) weights each sequence, as Keras losses do.

    Example:
        >>> with tf.GradientTape() as tape:
        ...     loss = crf_nll(crf, emission_model(x), y, mask=x != 0)
    """
    nll = -crf.log_likelihood(emissions, tags, mask)
    if sample_weight is not None:
        nll = nll * ops.cast(ops.reshape(sample_weight, (-1,)), nll.dtype)
    return ops.mean(nll)


def _keras_mask(tensor):
    # Keras 3 keeps a propagated mask as this attribute of TF tensors; there is no public getter.
    return getattr(tensor, "_keras_mask", None)


@keras.saving.register_keras_serializable(package="zoo")
class CRFTagger(keras.Model):
    """An emission model with a CRF on top, trained with ``model.fit`` on the CRF negative log-likelihood.

    ``emission_model`` maps inputs to emissions ``(batch, time, num_tags)``; the mask it propagates
    (e.g. from ``Embedding(mask_zero=True)``) marks the real steps. ``fit`` takes tag ids
    ``(batch, time)`` as targets (any value at padding) and an optional per-sequence ``sample_weight``.
    It reports ``loss`` (mean NLL per sequence, plus any regularization losses) and ``accuracy`` (of
    the Viterbi tags over real tokens); compile with an optimizer only: the CRF supplies the loss,
    and ``loss``/``metrics`` given to ``compile`` are not used. Calling or ``predict`` gives
    Viterbi tag ids, int32 ``(batch, time)``, 0 at padding. Uses the TensorFlow backend.

    Example:
        >>> tagger = CRFTagger(emission_model)
        >>> tagger.compile(optimizer=keras.optimizers.Adam(1e-3))
        >>> tagger.fit(token_ids, tag_ids, validation_data=(val_ids, val_tags), epochs=10)
        >>> tagger.crf.marginals(*tagger.emissions(token_ids))  # per-token tag probabilities
    """

    def __init__(self, emission_model: keras.Model, **kwargs):
        super().__init__(**kwargs)
        self.emission_model = emission_model
        self.crf = CRF(emission_model.output_shape[-1], name="crf")
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.accuracy_tracker = keras.metrics.Accuracy(name="accuracy")
        # Built at once (the emission model comes built), so that weights can be restored before any call,
        # as `BackupAndRestore` and `load_weights` do.
        self.crf.build(emission_model.output_shape)
        self.built = True

    def build(self, input_shape=None):
        self.built = True

    def call(self, inputs, training=None):
        emissions = self.emission_model(inputs, training=training)
        return self.crf(emissions)  # Keras passes the emissions' mask along

    def emissions(self, inputs, training=False):
        """The emission scores and their mask (None if the emission model propagates none)."""
        emissions = self.emission_model(inputs, training=training)
        return emissions, _keras_mask(emissions)

    @property
    def metrics(self):
        return [self.loss_tracker, self.accuracy_tracker]

    def train_step(self, data):
        import tensorflow as tf

        x, tags, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            emissions, mask = self.emissions(x, training=True)
            loss = crf_nll(self.crf, emissions, tags, mask, sample_weight)
            for extra in self.losses:  # regularizers, add_loss
                loss = loss + extra
            scaled_loss = self.optimizer.scale_loss(loss)
        gradients = tape.gradient(scaled_loss, self.trainable_weights)
        self.optimizer.apply(gradients, self.trainable_weights)
        return self._update_metrics(loss, emissions, tags, mask)

    def test_step(self, data):
        x, tags, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        emissions, mask = self.emissions(x, training=False)
        loss = crf_nll(self.crf, emissions, tags, mask, sample_weight)
        for extra in self.losses:
            loss = loss + extra
        return self._update_metrics(loss, emissions, tags, mask)

    def _update_metrics(self, loss, emissions, tags, mask):
        predicted, _ = self.crf.viterbi_decode(emissions, mask)
        self.loss_tracker.update_state(loss)
        weights = None if mask is None else ops.cast(mask, "float32")
        self.accuracy_tracker.update_state(ops.cast(tags, "int32"), predicted, sample_weight=weights)
        return {metric.name: metric.result() for metric in self.metrics}

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "emission_model": keras.saving.serialize_keras_object(self.emission_model),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        emission_model = keras.saving.deserialize_keras_object(config.pop("emission_model"))
        return cls(emission_model, **config)
