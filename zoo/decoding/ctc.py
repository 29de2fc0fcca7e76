"""CTC decoding: per-step class probabilities in, label sequences out (greedy or beam search).

A CTC model (a captcha or handwriting reader, a speech recognizer) writes, at every time step, a
probability over the classes plus a *blank*; a labelling is read off by collapsing repeats and then
dropping blanks ("aa-ab-" -> "aab"). The zoo's convention is Keras': the blank is class 0.

* `ctc_decode` (TensorFlow, batched, usable inside a ``tf.function`` and an exported SavedModel):
  ``beam_width=1`` is greedy decoding (the best path, collapsed); a wider beam runs TensorFlow's CTC
  prefix beam search, which sums the probabilities of all paths of a labelling.
* `ctc_collapse` (NumPy only, a few lines): greedy decoding of the probabilities a TFLite model
  gives (CTC decoding has no TFLite builtin). It matches ``ctc_decode(..., beam_width=1)`` exactly.

Example:
    >>> import numpy as np
    >>> from zoo.decoding import ctc_collapse, ctc_decode
    >>> probabilities = model(pixels)                        # (batch, steps, 1 + classes), blank = 0
    >>> decoded = ctc_decode(probabilities, beam_width=5)
    >>> decoded.ids, decoded.lengths, np.exp(decoded.scores)  # -1 padded ids, lengths, P(labelling)
    >>> ids, confidence = ctc_collapse(np.asarray(probabilities)[0])   # one example, NumPy only
"""

from __future__ import annotations

import dataclasses
from typing import Any

BLANK = 0  # the blank's class index (Keras' convention: classes are 1..C)
MAX_CTC_BEAM_WIDTH = 100


@dataclasses.dataclass(frozen=True)
class CTCDecoded:
    """Decoded labellings of a batch.

    Attributes:
        ids: int32 ``(batch, steps)``: each row's class ids (never the blank), padded with -1.
        lengths: int32 ``(batch,)``: how many ids each row has.
        scores: float32 ``(batch,)``: the labelling's log-probability: for greedy decoding the best path's
            (sum of the chosen steps' log-probabilities), for beam search the sum over the paths of the
            labelling that the beam kept. ``exp(score)`` is a confidence in [0, 1].
    """

    ids: Any
    lengths: Any
    scores: Any


def check_beam_width(beam_width) -> int:
    """``beam_width`` must be an integer from 1 (greedy) to 100; anything else is a clear ValueError."""
    if not isinstance(beam_width, int) or isinstance(beam_width, bool) or not 1 <= beam_width <= MAX_CTC_BEAM_WIDTH:
        raise ValueError(f"beam_width must be an integer from 1 (greedy) to {MAX_CTC_BEAM_WIDTH}, got {beam_width!r}.")
    return beam_width


def ctc_decode(probabilities, *, beam_width: int = 1, lengths=None) -> CTCDecoded:
    """Decodes per-step probabilities ``(batch, steps, classes)`` (blank = class 0) into labellings.

    Args:
        probabilities: softmax outputs (each step sums to 1), float ``(batch, steps, 1 + classes)``.
        beam_width: 1 for greedy decoding (best path, repeats merged, blanks dropped); more for CTC
            prefix beam search (`tf.nn.ctc_beam_search_decoder`) with that many beams.
        lengths: the valid steps of each row (int ``(batch,)``); None when every step counts.

    Returns:
        A `CTCDecoded` of TensorFlow tensors.
    """
    import tensorflow as tf

    beam_width = check_beam_width(beam_width)
    probabilities = tf.convert_to_tensor(probabilities, tf.float32)
    shape = tf.shape(probabilities)
    batch, steps = shape[0], shape[1]
    if lengths is None:
        lengths = tf.fill([batch], steps)
    lengths = tf.cast(lengths, tf.int32)
    log_probs = tf.math.log(tf.maximum(probabilities, 1e-30))
    time_major = tf.transpose(log_probs, (1, 0, 2))
    if beam_width == 1:
        sparse, _ = tf.nn.ctc_greedy_decoder(time_major, lengths, merge_repeated=True, blank_index=BLANK)
        valid = tf.sequence_mask(lengths, steps, dtype=tf.float32)
        scores = tf.reduce_sum(tf.reduce_max(log_probs, axis=-1) * valid, axis=-1)
        sparse = sparse[0]
    else:
        # TensorFlow's beam search takes the blank as the last class: move class 0 there and back.
        rotated = tf.concat([time_major[..., 1:], time_major[..., :1]], axis=-1)
        decoded, log_probability = tf.nn.ctc_beam_search_decoder(rotated, lengths, beam_width=beam_width, top_paths=1)
        sparse = tf.SparseTensor(decoded[0].indices, decoded[0].values + 1, decoded[0].dense_shape)
        scores = log_probability[:, 0]
    dense = tf.sparse.to_dense(tf.SparseTensor(sparse.indices, tf.cast(sparse.values, tf.int32),
                                               tf.stack([tf.cast(batch, tf.int64), tf.cast(steps, tf.int64)])),
                               default_value=-1)
    ids = tf.reshape(dense, [batch, steps])
    return CTCDecoded(ids=ids, lengths=tf.reduce_sum(tf.cast(ids >= 0, tf.int32), axis=-1),
                      scores=tf.cast(scores, tf.float32))


def ctc_collapse(probabilities, *, blank: int = BLANK):
    """Greedy CTC decoding of one example in NumPy: ``(ids, confidence)``.

    The best class at each step, repeats merged, blanks dropped; ``confidence`` is the best path's
    probability (the product of the chosen steps' probabilities). This is all a user of the TFLite
    model needs after it: the same result as ``ctc_decode(p[None], beam_width=1)``.

    Args:
        probabilities: float ``(steps, 1 + classes)`` for one example.

    Example:
        >>> ctc_collapse(np.eye(3)[[1, 1, 0, 1, 2, 2]])       # best path 1 1 - 1 2 2
        ([1, 1, 2], 1.0)
    """
    import numpy as np

    probabilities = np.asarray(probabilities, dtype=np.float32)
    if probabilities.ndim != 2:
        raise ValueError(f"Expected one example's probabilities (steps, classes), got shape {probabilities.shape}.")
    best = probabilities.argmax(axis=-1)
    new = np.concatenate([[True], best[1:] != best[:-1]])  # the first step of each run of a class
    ids = best[new & (best != blank)]
    confidence = float(np.exp(np.log(np.maximum(probabilities.max(axis=-1), 1e-30)).sum()))
    return [int(i) for i in ids], confidence
