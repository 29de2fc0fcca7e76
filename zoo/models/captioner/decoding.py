"""Decoding of the captioners: their decoder step (from the model's layers) and the words around it.

The searches are the zoo's (`zoo.decoding`): greedy and beam search, batched, in a ``tf.function``
(greedy also inside the SavedModel's ``caption`` signature).
"""

from __future__ import annotations

from zoo.decoding import StepModel, beam_search, greedy
from zoo.models.captioner.model import DEFAULT_BEAM_WIDTH, DEFAULT_LENGTH_PENALTY, FEATURES, MAX_WORDS, TOKENS


class CaptionerStep(StepModel):
    """A captioner's decoder step, built from its layers.

    ``start(grid)`` gives the initial LSTM state and the memory the steps read (the projected grid
    cells and their attention keys; nothing for show_and_tell); ``step`` gives the next word's
    log-probabilities, the new state and, as its one extra, the attention weights over the grid cells
    (zero-width for show_and_tell). Padding, unknown and ``<start>`` are never written; the step after
    ``max_words`` words writes ``<end>``.
    """

    tokens = TOKENS
    never_write = (TOKENS.pad, TOKENS.unk, TOKENS.start)
    force_end = True

    def __init__(self, model):
        self.model = model
        self.encoder = model.get_layer("encoder")
        self.decoder = model.get_layer("decoder")
        self.kind = "attention" if "attention" in {layer.name for layer in self.decoder.layers} else "show_and_tell"
        self.vocabulary = model.get_layer("words").get_vocabulary()
        get = self.decoder.get_layer
        self.embedding, self.lstm = get("embedding"), get("lstm")
        self.output_projection, self.word_probabilities = get("output_projection"), get("word_probabilities")
        self.units = int(self.lstm.units)
        if self.kind == "attention":
            self.grid_projection, self.attention_key = get("grid_projection"), get("attention_key")
            self.attention_query, self.attention = get("attention_query"), get("attention")
            self.init_h, self.init_c = get("init_h"), get("init_c")
        else:
            self.image_embedding = get("image_embedding")
        self._functions = {}

    # === The step ===

    def start(self, grid):
        import tensorflow as tf

        if self.kind == "attention":
            values = self.grid_projection(tf.reshape(grid, [tf.shape(grid)[0], -1, FEATURES]))
            mean = tf.reduce_mean(values, axis=1)
            return (self.init_h(mean), self.init_c(mean)), (values, self.attention_key(values))
        image = self.image_embedding(tf.reduce_mean(grid, axis=[1, 2]))
        zeros = tf.zeros([tf.shape(grid)[0], self.units])
        _, state = self.lstm.cell(image, [zeros, zeros], training=False)
        return tuple(state), ()

    def probabilities(self, word_ids, state, memory):
        """The next word's probabilities (the model's softmax), the new state and the attention weights."""
        import tensorflow as tf

        x = tf.gather(self.embedding.embeddings, word_ids)  # the Embedding layer's lookup, without its mask
        h, (h, c) = self.lstm.cell(x, list(state), training=False)
        if self.kind == "attention":
            values, keys = memory
            context, scores = self.attention([self.attention_query(h)[:, None, :], values, keys],
                                             return_attention_scores=True)
            out, alpha = tf.concat([h, context[:, 0]], axis=-1), scores[:, 0]
        else:
            out, alpha = h, tf.zeros([tf.shape(h)[0], 0])
        return self.word_probabilities(self.output_projection(out)), (h, c), alpha

    def step(self, word_ids, state, memory):
        import tensorflow as tf

        probabilities, state, alpha = self.probabilities(word_ids, state, memory)
        return tf.math.log(tf.maximum(probabilities, 1e-20)), state, (alpha,)

    # === Images in, words out ===

    def encode(self, pixels):
        """Grid features of preprocessed pixels (a cached tf.function of the encoder)."""
        import tensorflow as tf

        if "encode" not in self._functions:
            self._functions["encode"] = tf.function(
                lambda x: self.encoder(x, training=False), input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)]
            )
        return self._functions["encode"](pixels)

    def decode_graph(self, grid, *, beam_width: int = 1, max_words: int = MAX_WORDS,
                     length_penalty: float = DEFAULT_LENGTH_PENALTY):
        """Grid features -> word ids ``(batch, steps)`` (``<end>`` then 0) and attention ``(batch, steps, cells)``."""
        if beam_width == 1:
            out = greedy(self, grid, max_length=max_words + 1)
        else:
            out = beam_search(self, grid, beam_width=beam_width, max_length=max_words + 1, length_penalty=length_penalty)
        return out.ids, out.extras[0]

    def function(self, beam_width: int = 1, max_words: int = MAX_WORDS, length_penalty: float = DEFAULT_LENGTH_PENALTY):
        """A cached ``tf.function`` from grid features to ``(word ids, attention)`` (`decode_graph`)."""
        import tensorflow as tf

        key = (int(beam_width), int(max_words), float(length_penalty) if beam_width > 1 else None)
        if key not in self._functions:
            self._functions[key] = tf.function(
                lambda grid: self.decode_graph(grid, beam_width=beam_width, max_words=max_words,
                                               length_penalty=length_penalty),
                input_signature=[tf.TensorSpec([None, None, None, FEATURES], tf.float32)],
            )
        return self._functions[key]

    def tokens_of(self, ids) -> list[list[str]]:
        """Word lists of id rows, up to (without) the first ``<end>``."""
        out = []
        for row in ids:
            words = []
            for i in row:
                if i == TOKENS.end or i == TOKENS.pad:
                    break
                words.append(self.vocabulary[i])
            out.append(words)
        return out


def caption_decoder(model) -> CaptionerStep:
    """The `CaptionerStep` of a captioner (cached per model)."""
    from zoo._inference import per_model

    return per_model(model, "captioner_step", CaptionerStep)


def generate_ids(model, grid, *, beam_width: int = 1, max_words: int = MAX_WORDS,
                 length_penalty: float = DEFAULT_LENGTH_PENALTY):
    """Word ids ``(batch, steps)`` and attention ``(batch, steps, cells)`` (NumPy) for encoder grid features."""
    import numpy as np

    from zoo.decoding import check_options

    check_options(beam_width=beam_width, length_penalty=length_penalty, max_length=max_words,
                  names={"max_length": "max_words"})
    ids, attention = caption_decoder(model).function(beam_width, max_words, length_penalty)(np.asarray(grid, np.float32))
    return np.asarray(ids), np.asarray(attention)


def generate_captions(model, grid, *, beam_width: int = 1, max_words: int = MAX_WORDS,
                      length_penalty: float = DEFAULT_LENGTH_PENALTY):
    """Caption strings for encoder grid features ``(batch, h, w, 1280)``."""
    from zoo.data.flickr8k import detokenize

    ids, _ = generate_ids(model, grid, beam_width=beam_width, max_words=max_words, length_penalty=length_penalty)
    return [detokenize(words) for words in caption_decoder(model).tokens_of(ids)]


def caption_pixels(model, pixels, *, beam_width: int = DEFAULT_BEAM_WIDTH, max_words: int = MAX_WORDS,
                   length_penalty: float = DEFAULT_LENGTH_PENALTY, return_attention: bool = False):
    """Captions (and attention maps ``(words, h, w)`` when asked) of a batch of encoder inputs ``(n, size, size, 3)``."""
    import numpy as np

    from zoo.data.flickr8k import detokenize

    decoder = caption_decoder(model)
    grid = decoder.encode(np.asarray(pixels, np.float32))
    ids, attention = generate_ids(model, grid, beam_width=beam_width, max_words=max_words, length_penalty=length_penalty)
    words = decoder.tokens_of(ids)
    captions = [detokenize(w) for w in words]
    if not return_attention:
        return captions
    grid_shape = tuple(int(d) for d in grid.shape[1:3])
    maps = [attention[row, : len(w)].reshape((len(w), *grid_shape)) if decoder.kind == "attention" else None
            for row, w in enumerate(words)]
    return captions, maps
