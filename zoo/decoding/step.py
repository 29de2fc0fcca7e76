"""The interface a generator implements once (`StepModel`), and what every search returns (`Decoded`)."""

from __future__ import annotations

from typing import Any, NamedTuple

from zoo.decoding.tokens import SpecialTokens


class StepModel:
    """One decoder step of a generator: a family writes it once (from its model's layers), every search runs it.

    Subclasses implement `start` and `step` with TensorFlow ops (they run inside ``tf.while_loop`` and
    ``tf.function``, so also inside SavedModel signatures) and set the token conventions below.
    ``state`` and ``memory`` are tuples of tensors whose first axis is the batch: the state changes at
    every step (an RNN's hidden state), the memory does not (encoder outputs, attention keys, masks).
    Beam search repeats both for each hypothesis (row ``i * beam_width + j`` is hypothesis ``j`` of row
    ``i``) and reorders the state as hypotheses are kept.

    Attributes:
        tokens: the special-token ids: ``start`` is fed to the first step, ``end`` ends a sequence and
            ``pad`` is written (and fed back) after it.
        never_write: ids no search ever writes (padding, the start marker, an unusable unknown token).
        min_length: tokens written before ``end`` is allowed (1: the output is never empty).
        force_end: True: the last step a row's length bound allows writes ``end`` (every output ends with
            it); False: a row that reaches its bound just stops, without ``end``.

    Example:
        >>> class Bigram(StepModel):               # a fixed next-token table, no state worth the name
        ...     def __init__(self, table):         # (vocabulary, vocabulary) log-probabilities
        ...         self.table = table
        ...     def start(self, inputs):           # inputs: (batch,) anything
        ...         return (tf.zeros([tf.shape(inputs)[0], 1]),), ()
        ...     def step(self, token_ids, state, memory):
        ...         return tf.gather(self.table, token_ids), state, ()
        >>> zoo.decoding.greedy(Bigram(table), tf.zeros([4]), max_length=10).ids
    """

    tokens: SpecialTokens = SpecialTokens()
    never_write: tuple[int, ...] = ()
    min_length: int = 0
    force_end: bool = False

    def start(self, inputs) -> tuple[tuple, tuple]:
        """``inputs`` (whatever the family's decoder reads, batch first) -> ``(state, memory)``."""
        raise NotImplementedError

    def step(self, token_ids, state: tuple, memory: tuple) -> tuple[Any, tuple, tuple]:
        """The previous tokens ``(batch,)`` int32 -> ``(log_probs, state, extras)``.

        ``log_probs`` are the next token's log-probabilities ``(batch, vocabulary)`` (float32);
        ``extras`` is a tuple of per-step outputs ``(batch, ...)`` the searches return stacked over the
        steps (attention weights), possibly empty.
        """
        raise NotImplementedError


class Decoded(NamedTuple):
    """What `greedy`, `beam_search` and `sample` return (tensors; one row per input row).

    Attributes:
        ids: ``(batch, steps)`` int32: the tokens written, ``end`` included, then ``pad``; ``steps`` is
            the longest row's length.
        lengths: ``(batch,)`` int32: tokens written per row, ``end`` included.
        scores: ``(batch,)`` float64: the sum of the model's log-probabilities of the tokens written
            (for beam search: before length normalization).
        extras: the step's extras stacked over the steps, ``(batch, steps, ...)`` each, zeros after a row's end.
    """

    ids: Any
    lengths: Any
    scores: Any
    extras: tuple


class LSTMStepModel(StepModel):
    """A `StepModel` over stacked LSTM cells that continues a prompt: the language models' step.

    Subclasses set ``lstms`` (the LSTM layers, bottom first) and write ``advance(ids, state) -> (logits, new
    state)`` with `run_cells`, ``start(inputs) -> (state, (last prompt token,))`` and ``generate_graph(prompt,
    length, *, temperature, top_k, top_p, seed)`` (a tf.string prompt -> the text, as TF ops). The state is
    ``h1, c1, h2, c2, ...``; the first step is fed the prompt's last token (the memory) in place of
    ``tokens.start``.
    """

    lstms: list = []

    def state_specs(self) -> dict:
        """Name -> (shape without the batch axis, dtype) of each state tensor: ``h1, c1, h2, c2, ...``."""
        specs = {}
        for i, lstm in enumerate(self.lstms):
            specs[f"h{i + 1}"] = specs[f"c{i + 1}"] = ((lstm.units,), "float32")
        return specs

    def zero_state(self, batch):
        import tensorflow as tf

        return tuple(tf.zeros([batch, lstm.units]) for lstm in self.lstms for _ in range(2))

    def run_cells(self, x, state):
        """One step of every LSTM (no dropout) on inputs ``(batch, features)``: the top output and the new state."""
        new_state = []
        for i, lstm in enumerate(self.lstms):
            x, (h, c) = lstm.cell(x, [state[2 * i], state[2 * i + 1]], training=False)
            new_state += [h, c]
        return x, tuple(new_state)

    def step(self, ids, state, memory):
        import tensorflow as tf

        ids = tf.where(tf.equal(ids, self.tokens.start), memory[0], ids)
        logits, state = self.advance(ids, state)
        return tf.nn.log_softmax(logits, axis=-1), state, ()

    def generate(self, prompt: str, length: int, *, temperature: float, top_k, top_p, seed: int) -> str:
        """``generate_graph`` in a cached ``tf.function`` (one per top-k/top-p setting); Python in and out."""
        import tensorflow as tf

        functions = vars(self).setdefault("_generate", {})
        if (top_k, top_p) not in functions:
            functions[(top_k, top_p)] = tf.function(
                lambda p, n, t, s: self.generate_graph(p, n, temperature=t, top_k=top_k, top_p=top_p, seed=s),
                input_signature=[tf.TensorSpec([], tf.string), tf.TensorSpec([], tf.int32),
                                 tf.TensorSpec([], tf.float32), tf.TensorSpec([], tf.int64)])
        out = functions[(top_k, top_p)](tf.constant(prompt), tf.constant(length, tf.int32),
                                        tf.constant(temperature, tf.float32), tf.constant(seed, tf.int64))
        return out.numpy().decode("utf-8")
