"""Decoding of the captioners: greedy and beam search, one step at a time, batched in a tf.function."""

from __future__ import annotations

from zoo.models.captioner.model import DEFAULT_BEAM_WIDTH, END_ID, FEATURES, MAX_WORDS, PAD_ID, START_ID, UNK_ID

_NEG = -1e9

class CaptionDecoder:
    """Runs a captioner's decoder layers one step at a time (greedy and beam search, batched, in a tf.function).

    ``start(grid)`` gives the initial LSTM state and the memory the steps read (the projected grid
    cells and their attention keys; nothing for show_and_tell); ``step(word_ids, state, memory)``
    gives the next-word probabilities, the new state and the attention weights over the cells.
    """

    def __init__(self, model):
        self.model = model
        self.encoder = model.get_layer("encoder")
        self.decoder = model.get_layer("decoder")
        names = {layer.name for layer in self.decoder.layers}
        self.kind = "attention" if "attention" in names else "show_and_tell"
        self.vocabulary = model.get_layer("words").get_vocabulary()
        get = self.decoder.get_layer
        self.embedding, self.lstm = get("embedding"), get("lstm")
        self.output_projection, self.word_probabilities = get("output_projection"), get("word_probabilities")
        self.vocab_size = int(self.word_probabilities.units)
        self.units = int(self.lstm.units)
        if self.kind == "attention":
            self.grid_projection, self.attention_key = get("grid_projection"), get("attention_key")
            self.attention_query, self.attention = get("attention_query"), get("attention")
            self.init_h, self.init_c = get("init_h"), get("init_c")
        else:
            self.image_embedding = get("image_embedding")
        self._functions = {}

    # --- the two pieces every decoding loop uses ---

    def start(self, grid):
        import tensorflow as tf

        if self.kind == "attention":
            cells = tf.reshape(grid, [tf.shape(grid)[0], -1, FEATURES])
            values = self.grid_projection(cells)
            mean = tf.reduce_mean(values, axis=1)
            return (self.init_h(mean), self.init_c(mean)), (values, self.attention_key(values))
        image = self.image_embedding(tf.reduce_mean(grid, axis=[1, 2]))
        zeros = tf.zeros([tf.shape(grid)[0], self.units])
        _, state = self.lstm.cell(image, [zeros, zeros], training=False)
        return tuple(state), ()

    def step(self, word_ids, state, memory):
        import tensorflow as tf

        x = tf.gather(self.embedding.embeddings, word_ids)  # the Embedding layer's lookup, without its mask
        h, (h, c) = self.lstm.cell(x, list(state), training=False)
        if self.kind == "attention":
            values, keys = memory
            query = self.attention_query(h)[:, None, :]
            context, scores = self.attention([query, values, keys], return_attention_scores=True)
            out = tf.concat([h, context[:, 0]], axis=-1)
            alpha = scores[:, 0]
        else:
            out = h
            alpha = tf.zeros([tf.shape(h)[0], 0])
        probabilities = self.word_probabilities(self.output_projection(out))
        return probabilities, (h, c), alpha

    # --- decoding loops ---

    def _blocked(self):
        import tensorflow as tf

        # Never written: padding, unknown and <start>.
        return tf.scatter_nd([[PAD_ID], [UNK_ID], [START_ID]], tf.constant([True] * 3), [self.vocab_size])

    def greedy(self, grid, max_words: int = MAX_WORDS):
        """Word ids ``(batch, steps)`` (``<end>`` then 0 after each caption) and attention ``(batch, steps, cells)``."""
        import tensorflow as tf

        state, memory = self.start(grid)
        batch = tf.shape(grid)[0]
        blocked = self._blocked()

        def body(t, ids, state, finished, out_ids, out_attention):
            probabilities, state, alpha = self.step(ids, state, memory)
            probabilities = tf.where(blocked[None, :], -1.0, probabilities)
            chosen = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
            chosen = tf.where(t == max_words, END_ID, chosen)  # at most max_words words
            chosen = tf.where(finished, PAD_ID, chosen)
            finished = finished | tf.equal(chosen, END_ID)
            return t + 1, chosen, state, finished, out_ids.write(t, chosen), out_attention.write(t, alpha)

        def cond(t, ids, state, finished, out_ids, out_attention):
            return (t < max_words + 1) & ~tf.reduce_all(finished)

        loop = tf.while_loop(cond, body, (
            tf.constant(0), tf.fill([batch], START_ID), state, tf.zeros([batch], tf.bool),
            tf.TensorArray(tf.int32, size=0, dynamic_size=True), tf.TensorArray(tf.float32, size=0, dynamic_size=True),
        ))
        ids = tf.transpose(loop[4].stack(), [1, 0])
        attention = tf.transpose(loop[5].stack(), [1, 0, 2])
        return ids, attention

    def beam_search(self, grid, beam_width: int, max_words: int = MAX_WORDS, length_penalty: float = 0.0):
        """The best of ``beam_width`` hypotheses per image, scored by log-probability / length**length_penalty.

        Returns the same as `greedy`; with ``beam_width=1`` it gives the greedy captions.
        """
        import tensorflow as tf

        k = int(beam_width)
        steps = max_words + 1
        state, memory = self.start(grid)
        batch = tf.shape(grid)[0]
        vocab = self.vocab_size
        state = tuple(tf.repeat(s, k, axis=0) for s in state)
        memory = tuple(tf.repeat(m, k, axis=0) for m in memory)
        blocked = self._blocked()
        cells = tf.shape(memory[0])[1] if memory else 0
        # Only the first beam is live at the start, so the k beams do not all repeat the same words.
        scores = tf.tile(tf.constant([[0.0] + [_NEG] * (k - 1)]), [batch, 1])
        history = tf.zeros([batch * k, steps], tf.int32)
        attention = tf.zeros([batch * k, steps, cells])
        finished = tf.zeros([batch * k], tf.bool)
        lengths = tf.zeros([batch * k], tf.float32)
        columns = tf.range(steps)
        # A finished hypothesis only extends with padding, at no cost.
        after_end = tf.where(tf.range(vocab) == PAD_ID, 0.0, _NEG)

        def body(t, ids, state, scores, history, attention, finished, lengths):
            probabilities, state, alpha = self.step(ids, state, memory)
            log_p = tf.math.log(tf.maximum(probabilities, 1e-20))
            log_p = tf.where(blocked[None, :], _NEG, log_p)
            log_p = tf.where((t == max_words) & (tf.range(vocab) != END_ID)[None, :], _NEG, log_p)  # at most max_words words
            log_p = tf.where(finished[:, None], after_end[None, :], log_p)
            total = tf.reshape(scores, [-1, 1]) + log_p
            best, index = tf.math.top_k(tf.reshape(total, [batch, k * vocab]), k=k)
            source = tf.reshape(index // vocab + tf.range(batch)[:, None] * k, [-1])
            word = tf.reshape(index % vocab, [-1])
            state = tuple(tf.gather(s, source) for s in state)
            history = tf.where(columns[None, :] == t, word[:, None], tf.gather(history, source))
            attention = tf.where((columns == t)[None, :, None], tf.gather(alpha, source)[:, None, :],
                                 tf.gather(attention, source))
            was_finished = tf.gather(finished, source)
            lengths = tf.gather(lengths, source) + tf.cast(~was_finished, tf.float32)
            finished = was_finished | tf.equal(word, END_ID)
            return t + 1, word, state, best, history, attention, finished, lengths

        def cond(t, ids, state, scores, history, attention, finished, lengths):
            return (t < steps) & ~tf.reduce_all(finished)

        _, _, _, scores, history, attention, _, lengths = tf.while_loop(
            cond, body, (tf.constant(0), tf.fill([batch * k], START_ID), state, scores, history, attention, finished,
                         lengths),
        )
        if length_penalty:
            scores = scores / tf.reshape(tf.maximum(lengths, 1.0), [batch, k]) ** length_penalty
        pick = tf.argmax(scores, axis=-1, output_type=tf.int32) + tf.range(batch) * k
        return tf.gather(history, pick), tf.gather(attention, pick)

    def function(self, beam_width: int = 1, max_words: int = MAX_WORDS, length_penalty: float = 0.0):
        """A cached ``tf.function`` from grid features to ``(word ids, attention)``."""
        import tensorflow as tf

        key = (int(beam_width), int(max_words), float(length_penalty))
        if key not in self._functions:
            signature = [tf.TensorSpec([None, None, None, FEATURES], tf.float32)]
            if beam_width == 1 and length_penalty == 0.0:
                run = tf.function(lambda grid: self.greedy(grid, max_words), input_signature=signature)
            else:
                run = tf.function(lambda grid: self.beam_search(grid, beam_width, max_words, length_penalty),
                                  input_signature=signature)
            self._functions[key] = run
        return self._functions[key]

    def encode(self, pixels):
        """Grid features of preprocessed pixels (a cached tf.function of the encoder)."""
        import tensorflow as tf

        if "encode" not in self._functions:
            self._functions["encode"] = tf.function(
                lambda x: self.encoder(x, training=False), input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)]
            )
        return self._functions["encode"](pixels)

    def tokens(self, ids) -> list[list[str]]:
        """Word lists of id rows, up to (without) the first ``<end>``."""
        out = []
        for row in ids:
            words = []
            for i in row:
                if i == END_ID or i == PAD_ID:
                    break
                words.append(self.vocabulary[i])
            out.append(words)
        return out


def caption_decoder(model) -> CaptionDecoder:
    """The `CaptionDecoder` of a captioner (cached per model)."""
    from zoo._inference import per_model

    return per_model(model, "caption_decoder", CaptionDecoder)


def generate_ids(model, grid, *, beam_width: int = 1, max_words: int = MAX_WORDS, length_penalty: float = 0.0):
    """Word ids ``(batch, steps)`` and attention ``(batch, steps, cells)`` (NumPy) for encoder grid features."""
    import numpy as np

    ids, attention = caption_decoder(model).function(beam_width, max_words, length_penalty)(np.asarray(grid, np.float32))
    return np.asarray(ids), np.asarray(attention)


def generate_captions(model, grid, *, beam_width: int = 1, max_words: int = MAX_WORDS, length_penalty: float = 0.0):
    """Caption strings for encoder grid features ``(batch, h, w, 1280)``."""
    from zoo.data.flickr8k import detokenize

    ids, _ = generate_ids(model, grid, beam_width=beam_width, max_words=max_words, length_penalty=length_penalty)
    return [detokenize(words) for words in caption_decoder(model).tokens(ids)]


def caption_pixels(model, pixels, *, beam_width: int = DEFAULT_BEAM_WIDTH, max_words: int = MAX_WORDS,
                   length_penalty: float = 0.0, return_attention: bool = False):
    """Captions (and word ids, attention when asked) of a batch of encoder inputs ``(n, size, size, 3)``."""
    import numpy as np

    from zoo.data.flickr8k import detokenize

    decoder = caption_decoder(model)
    grid = decoder.encode(np.asarray(pixels, np.float32))
    ids, attention = generate_ids(model, grid, beam_width=beam_width, max_words=max_words, length_penalty=length_penalty)
    captions = [detokenize(words) for words in decoder.tokens(ids)]
    if not return_attention:
        return captions
    maps = []
    grid_shape = tuple(int(d) for d in grid.shape[1:3])
    for row, words in enumerate(decoder.tokens(ids)):
        if decoder.kind != "attention":
            maps.append(None)
        else:
            maps.append(attention[row, : len(words)].reshape((len(words), *grid_shape)))
    return captions, maps
