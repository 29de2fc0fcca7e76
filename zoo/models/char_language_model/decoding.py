"""Generating text: the character model's decoder step (from its layers) and the sampling loop around it.

The sampler is the zoo's (`zoo.decoding.sample`: temperature, top-k, top-p, stateless seeded draws), in the
graph, so the SavedModel's ``generate`` signature runs the same loop as `CharStep.generate`; `CharStep.stream`
draws the same characters one call at a time, so it can hand each out as soon as it is drawn.
"""

from __future__ import annotations

from zoo.decoding import LSTMStepModel, sample, sample_stream
from zoo.models.char_language_model.model import PAD_ID, TOKENS, UNK_ID, alphabet, network_parts


def runtime(model) -> "CharStep":
    """The (cached) decoding machinery of a character model."""
    from zoo._inference import per_model

    return per_model(model, "char_step", CharStep)


class CharStep(LSTMStepModel):
    """The character model one character at a time.

    ``start(ids)`` reads a prompt's ids ``(batch, S >= 1)``: the LSTMs run over all but the last character and
    that last one is the memory, fed to the first step in place of ``tokens.start``. ``step`` gives the next
    character's log-probabilities and the new LSTM states (``h1, c1, h2, c2, ...``). Padding and the unknown
    character are never written; nothing ends a text but the length bound.

    The step is the network alone: a model's continuous cache (`zoo.layers.language_model.ContinuousCache`)
    scores text, but is left out of generating, where it would copy the model's own recent output back
    ("Second Gecond Genore") instead of text it read.
    """

    tokens = TOKENS
    never_write = (PAD_ID, UNK_ID)
    min_length = 0
    force_end = False

    def __init__(self, model):
        self.model = model
        _, self.embedding, self.lstms, self.logits = network_parts(model)
        self.characters = ["", ""] + alphabet(model)  # id -> character; padding and unknown write nothing

    def advance(self, ids, state):
        """One character id per row ``(batch,)`` -> the next character's logits ``(batch, vocabulary)``, new state."""
        import tensorflow as tf

        x, state = self.run_cells(tf.gather(self.embedding.embeddings, ids), state)
        return self.logits(x), state

    def start(self, ids):
        import tensorflow as tf

        ids = tf.cast(ids, tf.int32)
        heads = tf.transpose(ids[:, :-1])  # (S - 1, batch): every prompt character but the last

        def body(t, state):
            _, state = self.advance(heads[t], state)
            return t + 1, state

        _, state = tf.while_loop(lambda t, state: t < tf.shape(heads)[0], body,
                                 (tf.constant(0), self.zero_state(tf.shape(ids)[0])))
        return state, (ids[:, -1],)

    # --- Text in, text out ---

    def prompt_ids(self, prompt):
        """A prompt string as TF ops -> ids ``(1, S)`` int32 (the model's own character lookup)."""
        import tensorflow as tf

        return tf.cast(self.model.get_layer("characters")(tf.reshape(prompt, [1])), tf.int32)

    def ids_to_text(self, ids):
        """Ids ``(batch, n)`` -> strings ``(batch,)``, as TF ops (padding and unknown write nothing)."""
        import tensorflow as tf

        return tf.strings.reduce_join(tf.gather(tf.constant(self.characters), ids), axis=-1)

    def generate_graph(self, prompt, max_chars, *, temperature=1.0, top_k=None, top_p=None, seed=0):
        """A prompt (tf.string scalar) -> the prompt and ``max_chars`` sampled characters (tf.string scalar), as TF ops."""
        import tensorflow as tf

        decoded = sample(self, self.prompt_ids(prompt), max_length=tf.cast(max_chars, tf.int32),
                         temperature=temperature, top_k=top_k, top_p=top_p, seed=seed)
        return tf.strings.join([prompt, self.ids_to_text(decoded.ids)[0]])

    def stream(self, prompt: str, max_chars: int, *, temperature: float, top_k, top_p, seed: int):
        """Yields the characters `generate` would write after ``prompt``, one by one, as each is drawn.

        The same draws as `generate` (`zoo.decoding.sample_stream`), so the joined stream equals its continuation.
        """
        import tensorflow as tf

        for token in sample_stream(self, self.prompt_ids(tf.constant(prompt)), max_length=max_chars,
                                   temperature=temperature, top_k=top_k, top_p=top_p, seed=seed):
            yield self.characters[token]
