"""Generating text: the character model's decoder step (from its layers) and the sampling loop around it.

The sampler is the zoo's (`zoo.decoding.sample`: temperature, top-k, top-p, stateless seeded draws), in the
graph, so the SavedModel's ``generate`` signature runs the same loop as `CharStep.generate`; `CharStep.stream`
draws the same characters one call at a time, so it can hand each out as soon as it is drawn.
"""

from __future__ import annotations

from zoo.decoding import StepModel, sample
from zoo.models.char_language_model.model import PAD_ID, TOKENS, UNK_ID, alphabet, network_parts


def runtime(model) -> "CharStep":
    """The (cached) decoding machinery of a character model."""
    from zoo._inference import per_model

    return per_model(model, "char_step", CharStep)


class CharStep(StepModel):
    """The character model one character at a time.

    ``start(ids)`` reads a prompt's ids ``(batch, S >= 1)``: the LSTMs run over all but the last character and
    that last one is the memory, fed to the first step in place of ``tokens.start``. ``step`` gives the next
    character's log-probabilities and the new LSTM states (``h1, c1, h2, c2, ...``). Padding and the unknown
    character are never written; nothing ends a text but the length bound.
    """

    tokens = TOKENS
    never_write = (PAD_ID, UNK_ID)
    min_length = 0
    force_end = False

    def __init__(self, model):
        self.model = model
        _, self.embedding, self.lstms, self.logits = network_parts(model)
        self.characters = ["", ""] + alphabet(model)  # id -> character; padding and unknown write nothing
        self._functions = {}

    def state_specs(self) -> dict:
        """Name -> (shape without the batch axis, dtype) of each state tensor: ``h1, c1, h2, c2, ...``."""
        specs = {}
        for i, lstm in enumerate(self.lstms):
            specs[f"h{i + 1}"] = specs[f"c{i + 1}"] = ((lstm.units,), "float32")
        return specs

    def zero_state(self, batch):
        import tensorflow as tf

        return tuple(tf.zeros([batch, lstm.units]) for lstm in self.lstms for _ in range(2))

    def advance(self, ids, state):
        """One character id per row ``(batch,)`` -> the next character's logits ``(batch, vocabulary)``, new state."""
        import tensorflow as tf

        x, new_state = tf.gather(self.embedding.embeddings, ids), []
        for i, lstm in enumerate(self.lstms):
            x, (h, c) = lstm.cell(x, [state[2 * i], state[2 * i + 1]], training=False)
            new_state += [h, c]
        return self.logits(x), tuple(new_state)

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

    def step(self, ids, state, memory):
        import tensorflow as tf

        ids = tf.where(tf.equal(ids, TOKENS.start), memory[0], ids)
        logits, state = self.advance(ids, state)
        return tf.nn.log_softmax(logits, axis=-1), state, ()

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

    def generate(self, prompt: str, max_chars: int, *, temperature: float, top_k, top_p, seed: int) -> str:
        """`generate_graph` in a cached ``tf.function`` (one per top-k/top-p setting); Python in and out."""
        import tensorflow as tf

        key = ("generate", top_k, top_p)
        if key not in self._functions:
            self._functions[key] = tf.function(
                lambda p, n, t, s: self.generate_graph(p, n, temperature=t, top_k=top_k, top_p=top_p, seed=s),
                input_signature=[tf.TensorSpec([], tf.string), tf.TensorSpec([], tf.int32),
                                 tf.TensorSpec([], tf.float32), tf.TensorSpec([], tf.int64)])
        out = self._functions[key](tf.constant(prompt), tf.constant(max_chars, tf.int32),
                                   tf.constant(temperature, tf.float32), tf.constant(seed, tf.int64))
        return out.numpy().decode("utf-8")

    def stream(self, prompt: str, max_chars: int, *, temperature: float, top_k, top_p, seed: int):
        """Yields the characters `generate` would write after ``prompt``, one by one, as each is drawn.

        The same draws as `generate` (the same step, options and seeds ``(seed, t)``), so the joined stream
        equals its continuation.
        """
        import tensorflow as tf

        from zoo.decoding import allowed
        from zoo.decoding.sampling import sampler

        key = ("stream", top_k, top_p)
        if key not in self._functions:
            start = tf.function(lambda p: self.start(self.prompt_ids(p)),
                                input_signature=[tf.TensorSpec([], tf.string)])

            def one(ids, state, memory, t, temperature, seed):
                log_probs, state, _ = self.step(ids, state, memory)
                log_probs = allowed(self, log_probs, t, tf.fill([tf.shape(ids)[0]], tf.int32.max))
                choose = sampler(temperature=temperature, top_k=top_k, top_p=top_p, seed=seed)
                return choose(log_probs, t), state

            self._functions[key] = (start, tf.function(one, reduce_retracing=True))
        start, one = self._functions[key]
        state, memory = start(tf.constant(prompt))
        ids = tf.fill([1], TOKENS.start)
        for t in range(max_chars):
            ids, state = one(ids, state, memory, tf.constant(t), tf.constant(temperature, tf.float32),
                             tf.constant(seed, tf.int64))
            yield self.characters[int(ids[0])]
