"""Decoding of the translators: their decoder step (from the model's layers) and the text around it.

The searches are the zoo's (`zoo.decoding`): greedy and beam search, both in the graph, so the
SavedModel's ``translate`` signature runs the same greedy decoding as `translate(..., beam_width=1)`.
"""

from __future__ import annotations

from zoo.decoding import StepModel, beam_search, check_options, greedy
from zoo.models.translator.model import (
    DEFAULT_BEAM_WIDTH, DEFAULT_LENGTH_PENALTY, MAX_SOURCE_TOKENS, MAX_TARGET_TOKENS, PAD, TOKENS,
)
from zoo.models.translator.text import _tf_detokenize, _tf_tokenize


def runtime(model) -> "TranslatorStep":
    """The (cached) decoding machinery of a translator model."""
    from zoo._inference import per_model

    return per_model(model, "translator_step", TranslatorStep)


class TranslatorStep(StepModel):
    """A translator's decoder step, built from its layers, and the text handling around the searches.

    ``start`` reads lower-cased source tokens ``(batch, S)``: the state is the decoder GRU's initial
    state; the memory (attention model only) the encoder states, their attention keys and the source
    mask. ``step`` gives the next target token's log-probabilities and, as its one extra, the attention
    weights over the source (zero-width without attention). A translation is at least one word, padding
    and [START] are never written, and a translation that reaches its bound (`bounds`) stops there.
    """

    tokens = TOKENS
    never_write = (TOKENS.pad, TOKENS.start)
    min_length = 1
    force_end = False

    def __init__(self, model):
        self.model = model
        network = model.get_layer("network")
        get = network.get_layer
        self.has_attention = "attention" in {layer.name for layer in network.layers}
        self.source_vocab = model.get_layer("source_vocab")
        self.target_words = list(model.get_layer("target_vocab").get_vocabulary())
        self.source_embedding, self.encoder = get("source_embedding"), get("encoder")
        self.target_embedding, self.decoder = get("target_embedding"), get("decoder")
        self.combine, self.logits = get("combine"), get("logits")
        if self.has_attention:
            self.bridge, self.attention_layer = get("bridge"), get("attention")
            self.query, self.keys = get("attention_query"), get("attention_keys")
        self._functions = {}

    # === The step ===

    def start(self, tokens):
        import tensorflow as tf

        ids = tf.cast(self.source_vocab(tokens), tf.int32)
        mask = tf.not_equal(ids, TOKENS.pad)
        x = self.source_embedding(ids)
        if not self.has_attention:
            _, state = self.encoder(x, mask=mask, training=False)
            return (state,), ()
        encoded, forward_state, backward_state = self.encoder(x, mask=mask, training=False)
        state = self.bridge(tf.concat([forward_state, backward_state], axis=-1))
        return (state,), (encoded, self.keys(encoded), mask)

    def step(self, previous, state, memory):
        import tensorflow as tf

        y = tf.nn.embedding_lookup(self.target_embedding.embeddings, previous)
        output, new_state = self.decoder.cell(y, state[0], training=False)
        if self.has_attention:
            encoded, keys, mask = memory
            context, weights = self.attention_layer(
                [self.query(output[:, None, :]), encoded, keys], mask=[None, mask], return_attention_scores=True
            )
            features, weights = tf.concat([output, context[:, 0]], axis=-1), weights[:, 0]
        else:
            features, weights = output, tf.zeros([tf.shape(output)[0], 0], tf.float32)
        log_probs = tf.nn.log_softmax(self.logits(self.combine(features)), axis=-1)
        return log_probs, (new_state,), (weights,)

    # === Text in, text out ===

    def prepare(self, texts):
        """Raw text ``(batch,)`` -> source tokens as written (for [UNK] copies) and lower-cased, ``(batch, S>=1)``."""
        import tensorflow as tf

        cased = _tf_tokenize(texts)[:, :MAX_SOURCE_TOKENS].to_tensor(default_value=PAD)
        cased = tf.pad(cased, [[0, 0], [0, tf.maximum(1 - tf.shape(cased)[1], 0)]], constant_values=PAD)
        return cased, tf.strings.lower(cased, encoding="utf-8")

    @staticmethod
    def bounds(tokens):
        """Most target tokens per row, [END] included: ``model.max_target_length`` of the source length."""
        import tensorflow as tf

        return tf.minimum(2 * tf.reduce_sum(tf.cast(tf.not_equal(tokens, PAD), tf.int32), axis=1) + 10,
                          MAX_TARGET_TOKENS)

    def finish(self, ids, weights, cased):
        """Written ids ``(batch, T)`` (anything after [END] ignored) -> target tokens and detokenized text."""
        import tensorflow as tf

        ended = tf.cumsum(tf.cast(tf.equal(ids, TOKENS.end), tf.int32), axis=1, exclusive=True) > 0
        special = tf.reduce_any(tf.equal(ids[..., None], tf.constant([TOKENS.pad, TOKENS.start, TOKENS.end])), axis=-1)
        tokens = tf.gather(tf.constant(self.target_words), ids)
        if self.has_attention:  # an [UNK] becomes the source word attended to most, as written
            copied = tf.gather(cased, tf.argmax(weights, axis=-1, output_type=tf.int32), batch_dims=1)
            tokens = tf.where(tf.equal(ids, TOKENS.unk), copied, tokens)
        else:
            tokens = tf.where(tf.equal(ids, TOKENS.unk), PAD, tokens)
        tokens = tf.where(~ended & ~special, tokens, PAD)
        return tokens, _tf_detokenize(tokens)

    def decode_graph(self, texts, *, beam_width: int = 1, length_penalty: float = DEFAULT_LENGTH_PENALTY) -> dict:
        """Raw text ``(batch,)`` -> translations and what led to them, as TensorFlow code (greedy for width 1)."""
        cased, tokens = self.prepare(texts)
        if beam_width == 1:
            out = greedy(self, tokens, max_length=self.bounds(tokens))
        else:
            out = beam_search(self, tokens, beam_width=beam_width, max_length=self.bounds(tokens),
                              length_penalty=length_penalty)
        (weights,) = out.extras
        target_tokens, translation = self.finish(out.ids, weights, cased)
        return {"translation": translation, "source_tokens": cased, "target_tokens": target_tokens, "ids": out.ids,
                "attention": weights}

    def decode(self, texts: list[str], *, beam_width: int = 1, length_penalty: float = DEFAULT_LENGTH_PENALTY) -> dict:
        """`decode_graph` of a batch in a cached ``tf.function`` (one per setting): NumPy arrays."""
        import tensorflow as tf

        key = (beam_width, float(length_penalty) if beam_width > 1 else None)
        if key not in self._functions:
            self._functions[key] = tf.function(
                lambda texts: self.decode_graph(texts, beam_width=beam_width, length_penalty=length_penalty),
                input_signature=[tf.TensorSpec([None], tf.string)],
            )
        return {k: v.numpy() for k, v in self._functions[key](tf.constant(texts)).items()}


def translate(model, texts: list[str], *, beam_width: int = DEFAULT_BEAM_WIDTH,
              length_penalty: float = DEFAULT_LENGTH_PENALTY, batch_size: int = 64, progress: bool = False,
              desc: str = "translate") -> list[str]:
    """Translations of a list of texts, decoded in batches of similar length (order kept)."""
    from zoo._predict import predict_batched

    check_options(beam_width=beam_width, length_penalty=length_penalty)
    run = runtime(model)

    def translate_batch(batch: list[str]) -> list[str]:
        out = run.decode(batch, beam_width=beam_width, length_penalty=length_penalty)
        return [text.decode("utf-8") for text in out["translation"]]

    return predict_batched(texts, translate_batch, batch_size=batch_size, length=len, progress=progress, desc=desc,
                           unit="sentence")
