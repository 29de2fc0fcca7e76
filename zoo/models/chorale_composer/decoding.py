"""Composing: the composer's decoder step (from the model's layers) and the sampling loop around it.

The sampler is the zoo's (`zoo.decoding.sample`: temperature, top-k, top-p, stateless seeded draws), in the
graph, so the SavedModel's ``compose`` signature runs the same loop as `ComposerStep.compose`.
"""

from __future__ import annotations

from zoo.decoding import StepModel, sample
from zoo.models.chorale_composer.model import TOKENS, VOICES

MIN_NOTE = 36  # MIDI pitch of class 1 (zoo.data.jsb_chorales.MIN_NOTE)


def runtime(model) -> "ComposerStep":
    """The (cached) decoding machinery of a composer model."""
    from zoo._inference import per_model

    return per_model(model, "composer_step", ComposerStep)


def pitches_to_classes(pitches):
    """MIDI pitches (0 rest) -> note classes, as TensorFlow ops (the same as `zoo.data.jsb_chorales.to_classes`)."""
    import tensorflow as tf

    pitches = tf.cast(pitches, tf.int32)
    return tf.where(tf.equal(pitches, 0), 0, pitches - MIN_NOTE + 1)


def classes_to_pitches(classes):
    """Note classes -> MIDI pitches (0 rest), as TensorFlow ops."""
    import tensorflow as tf

    classes = tf.cast(classes, tf.int32)
    return tf.where(tf.equal(classes, 0), 0, classes + MIN_NOTE - 1)


class ComposerStep(StepModel):
    """The composer one note at a time, built from its layers.

    ``start(notes)`` reads the seed, note classes ``(batch, S >= 1)`` unrolled voice by voice (whole chords):
    the network runs over all but the last seed note, whose class is the memory; the first step is then fed that last
    note (the searches feed ``tokens.start`` first, which `step` replaces by it). ``step`` gives the next
    note's log-probabilities and the new state (`state_specs`). Every class may be written; no note ends a chorale
    (the length bound does).
    """

    tokens = TOKENS
    never_write = ()
    min_length = 0
    force_end = False

    def __init__(self, model):
        self.model = model
        get = model.get_layer
        self.embedding, self.conv = get("embedding"), get("conv")
        self.lstms = [layer for layer in model.layers if layer.name.startswith("lstm_")]
        self.hidden, self.output_layer = get("hidden"), get("probabilities")
        self._functions = {}

    def state_specs(self) -> dict:
        """Name -> (shape without the batch axis, dtype) of each state tensor, in order.

        ``notes``: the embeddings of the last ``conv_kernel - 1`` notes (what the causal convolution still
        reads); ``phase``: the voice of the next note fed (0 soprano .. 3 bass); ``context``: the last LSTM
        layer's output for the current chord (it has read every chord before it); ``h1, c1, h2, c2...``:
        the LSTM states.
        """
        specs = {"notes": ((self.conv.kernel_size[0] - 1, self.embedding.output_dim), "float32"),
                 "phase": ((), "int32"), "context": ((self.lstms[-1].units,), "float32")}
        for i, lstm in enumerate(self.lstms):
            specs[f"h{i + 1}"] = specs[f"c{i + 1}"] = ((lstm.units,), "float32")
        return specs

    def zero_state(self, batch):
        """The state before the first note: the LSTMs have read one chord of zeros (the model's padding chord)."""
        import tensorflow as tf

        dim = VOICES * self.embedding.output_dim
        context, lstm_state = self._read_chord(tf.zeros([batch, dim]), [tf.zeros([batch, lstm.units])
                                                                      for lstm in self.lstms for _ in range(2)])
        return (tf.zeros([batch, self.conv.kernel_size[0] - 1, self.embedding.output_dim]), tf.zeros([batch], tf.int32),
                context, *lstm_state)

    def _read_chord(self, chord, lstm_state):
        x, new_state = chord, []
        for i, lstm in enumerate(self.lstms):
            x, (h, c) = lstm.cell(x, [lstm_state[2 * i], lstm_state[2 * i + 1]], training=False)
            new_state += [h, c]
        return x, new_state

    def advance(self, note_ids, state):
        """One note ``(batch,)`` -> the next note's logits ``(batch, 47)`` and the new state (`state_specs`)."""
        import tensorflow as tf

        notes, phase, context, *lstm_state = state
        window = tf.concat([notes, tf.gather(self.embedding.embeddings, note_ids)[:, None, :]], axis=1)
        # The causal Conv1D at the newest position: kernel row i meets note t - (k - 1) + i.
        local = tf.nn.relu(tf.einsum("bke,kef->bf", window, self.conv.kernel) + self.conv.bias)
        joined = tf.concat([context, local], axis=-1)
        hidden = tf.nn.relu(tf.matmul(joined, self.hidden.kernel) + self.hidden.bias)
        logits = tf.matmul(hidden, self.output_layer.kernel) + self.output_layer.bias
        # After a bass note the chord is complete: the LSTMs read it, and their output is the next chord's context.
        chord = tf.reshape(window[:, -VOICES:], [tf.shape(window)[0], VOICES * self.embedding.output_dim])
        new_context, new_lstm_state = self._read_chord(chord, lstm_state)
        done = tf.equal(phase, VOICES - 1)[:, None]
        context = tf.where(done, new_context, context)
        lstm_state = [tf.where(done, new, old) for new, old in zip(new_lstm_state, lstm_state)]
        return logits, (window[:, 1:], (phase + 1) % VOICES, context, *lstm_state)

    def start(self, notes):
        import tensorflow as tf

        notes = tf.cast(notes, tf.int32)
        state = self.zero_state(tf.shape(notes)[0])
        heads = tf.transpose(notes[:, :-1])  # (S - 1, batch): every seed note but the last

        def body(t, state):
            _, state = self.advance(heads[t], state)
            return t + 1, state

        _, state = tf.while_loop(lambda t, state: t < tf.shape(heads)[0], body, (tf.constant(0), state))
        return state, (notes[:, -1],)

    def step(self, note_ids, state, memory):
        import tensorflow as tf

        note_ids = tf.where(tf.equal(note_ids, TOKENS.start), memory[0], note_ids)
        logits, state = self.advance(note_ids, state)
        return tf.nn.log_softmax(logits, axis=-1), state, ()

    def compose_graph(self, seed_chords, n_chords, *, temperature=1.0, top_k=None, top_p=None, seed=0):
        """Seed chords ``(batch, S, 4)`` (MIDI pitches, 0 rest) -> ``n_chords`` new chords ``(batch, n, 4)``, as TF ops."""
        import tensorflow as tf

        seed_chords = tf.convert_to_tensor(seed_chords)
        notes = tf.reshape(pitches_to_classes(seed_chords), [tf.shape(seed_chords)[0], -1])
        decoded = sample(self, notes, max_length=tf.cast(n_chords, tf.int32) * VOICES, temperature=temperature,
                         top_k=top_k, top_p=top_p, seed=seed)
        return tf.reshape(classes_to_pitches(decoded.ids), [tf.shape(seed_chords)[0], -1, VOICES])

    def compose(self, seed_chords, n_chords: int, *, temperature: float, top_k, top_p, seed: int):
        """`compose_graph` in a cached ``tf.function`` (one per top-k/top-p setting); NumPy in and out."""
        import numpy as np
        import tensorflow as tf

        key = (top_k, top_p)
        if key not in self._functions:
            self._functions[key] = tf.function(
                lambda chords, n, t, s: self.compose_graph(chords, n, temperature=t, top_k=top_k, top_p=top_p, seed=s),
                input_signature=[tf.TensorSpec([None, None, VOICES], tf.int32), tf.TensorSpec([], tf.int32),
                                 tf.TensorSpec([], tf.float32), tf.TensorSpec([], tf.int64)])
        out = self._functions[key](tf.constant(seed_chords, tf.int32), tf.constant(n_chords, tf.int32),
                                   tf.constant(temperature, tf.float32), tf.constant(seed, tf.int64))
        return np.asarray(out, np.int32)
