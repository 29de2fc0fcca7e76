"""Decoding of the translators: greedy in the graph, beam search over a compiled decoder step."""

from __future__ import annotations

from zoo.models.translator.model import (
    DEFAULT_BEAM_WIDTH, DEFAULT_LENGTH_PENALTY, END_ID, MAX_SOURCE_TOKENS, MAX_TARGET_TOKENS, PAD, PAD_ID, START_ID, UNK_ID,
)
from zoo.models.translator.text import _tf_detokenize, _tf_tokenize

def runtime(model) -> "Seq2SeqRuntime":
    """The (cached) decoding machinery of a translator model."""
    from zoo._inference import per_model

    return per_model(model, "seq2seq_runtime", Seq2SeqRuntime)


class Seq2SeqRuntime:
    """Encoder, one decoder step, the greedy loop and post-processing, built from a model's own layers.

    Everything is TensorFlow code over the model's layers: ``translate_graph`` (raw text in, greedy
    translation out) is what the SavedModel's ``translate`` signature runs, and beam search uses the
    same ``prepare``, ``encode``, ``step`` and ``finish`` pieces, so both decode the same way.
    """

    def __init__(self, model):
        import tensorflow as tf

        self.model = model
        network = model.get_layer("network")
        self.network = network
        names = {layer.name for layer in network.layers}
        self.has_attention = "attention" in names
        get = network.get_layer
        self.source_vocab = model.get_layer("source_vocab")
        self.target_vocab = model.get_layer("target_vocab")
        self.target_words = list(self.target_vocab.get_vocabulary())
        self.source_embedding, self.encoder = get("source_embedding"), get("encoder")
        self.target_embedding, self.decoder = get("target_embedding"), get("decoder")
        self.combine, self.logits = get("combine"), get("logits")
        if self.has_attention:
            self.bridge, self.attention_layer = get("bridge"), get("attention")
            self.query, self.keys = get("attention_query"), get("attention_keys")
        self.state_size = self.decoder.cell.units
        memory_specs = []
        if self.has_attention:
            values_dim = 2 * self.encoder.forward_layer.units
            memory_specs = [
                tf.TensorSpec([None, None, values_dim], tf.float32),
                tf.TensorSpec([None, None, self.query.units], tf.float32),
                tf.TensorSpec([None, None], tf.bool),
            ]
        self.prepare = tf.function(self._prepare, input_signature=[tf.TensorSpec([None], tf.string)])
        self.encode = tf.function(self._encode, input_signature=[tf.TensorSpec([None, None], tf.string)])
        self.step = tf.function(self._step, input_signature=[
            tf.TensorSpec([None], tf.int32), tf.TensorSpec([None, self.state_size], tf.float32), *memory_specs
        ])
        self.finish = tf.function(self._finish, input_signature=[
            tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None, None, None], tf.float32),
            tf.TensorSpec([None, None], tf.string),
        ])
        self.translate_graph = tf.function(self._translate, input_signature=[tf.TensorSpec([None], tf.string)])

    # --- the pieces, as plain TensorFlow functions of the layers ---

    def _prepare(self, texts):
        """Raw text ``(batch,)`` -> source tokens as written (for [UNK] copies) and lower-cased, ``(batch, S>=1)``."""
        import tensorflow as tf

        ragged = _tf_tokenize(texts)[:, :MAX_SOURCE_TOKENS]
        cased = ragged.to_tensor(default_value=PAD)
        cased = tf.pad(cased, [[0, 0], [0, tf.maximum(1 - tf.shape(cased)[1], 0)]], constant_values=PAD)
        return cased, tf.strings.lower(cased, encoding="utf-8")

    def _encode(self, tokens):
        """Lower-cased source tokens -> the decoder's initial state and what attention reads."""
        import tensorflow as tf

        ids = tf.cast(self.source_vocab(tokens), tf.int32)
        mask = tf.not_equal(ids, PAD_ID)
        x = self.source_embedding(ids)
        if not self.has_attention:
            _, state = self.encoder(x, mask=mask, training=False)
            return (state,)
        encoded, forward_state, backward_state = self.encoder(x, mask=mask, training=False)
        state = self.bridge(tf.concat([forward_state, backward_state], axis=-1))
        return state, encoded, self.keys(encoded), mask

    def _step(self, previous, state, *memory):
        """One decoder step for a batch of hypotheses: log-probabilities of the next token, new state, attention."""
        import tensorflow as tf

        y = tf.nn.embedding_lookup(self.target_embedding.embeddings, previous)
        output, state = self.decoder.cell(y, state, training=False)
        if self.has_attention:
            encoded, keys, mask = memory
            context, weights = self.attention_layer(
                [self.query(output[:, None, :]), encoded, keys], mask=[None, mask], return_attention_scores=True
            )
            features = tf.concat([output, context[:, 0]], axis=-1)
            weights = weights[:, 0]
        else:
            features = output
            weights = tf.zeros([tf.shape(output)[0], 0], tf.float32)
        log_probs = tf.nn.log_softmax(self.logits(self.combine(features)), axis=-1)
        # Padding and [START] are never written.
        never = tf.one_hot(PAD_ID, tf.shape(log_probs)[-1]) + tf.one_hot(START_ID, tf.shape(log_probs)[-1])
        log_probs = tf.where(never > 0, -1e9, log_probs)
        return log_probs, state, weights

    def _finish(self, ids, weights, cased):
        """Written ids ``(batch, T)`` (anything after [END] ignored) -> target tokens and detokenized text."""
        import tensorflow as tf

        ended = tf.cumsum(tf.cast(tf.equal(ids, END_ID), tf.int32), axis=1, exclusive=True) > 0
        keep = tf.logical_and(tf.logical_not(ended), tf.logical_not(tf.reduce_any(
            tf.equal(ids[..., None], tf.constant([PAD_ID, START_ID, END_ID])), axis=-1)))
        tokens = tf.gather(tf.constant(self.target_words), ids)
        if self.has_attention:  # an [UNK] becomes the source word attended to most, as written
            copied = tf.gather(cased, tf.argmax(weights, axis=-1, output_type=tf.int32), batch_dims=1)
            tokens = tf.where(tf.equal(ids, UNK_ID), copied, tokens)
        else:
            tokens = tf.where(tf.equal(ids, UNK_ID), PAD, tokens)
        tokens = tf.where(keep, tokens, PAD)
        return tokens, _tf_detokenize(tokens)

    def _translate(self, texts):
        """Greedy translation inside the graph: raw text ``(batch,)`` -> translations and what led to them."""
        import tensorflow as tf

        cased, tokens = self._prepare(texts)
        encoded = self._encode(tokens)
        state, memory = encoded[0], encoded[1:]
        batch = tf.shape(tokens)[0]
        bound = tf.minimum(2 * tf.reduce_sum(tf.cast(tf.not_equal(tokens, PAD), tf.int32), axis=1) + 10,
                           MAX_TARGET_TOKENS)
        steps = tf.reduce_max(bound)

        def body(t, previous, state, finished, ids, weights):
            log_probs, state, attention = self._step(previous, state, *memory)
            log_probs = tf.cond(t == 0, lambda: _no_end(log_probs), lambda: log_probs)
            token = tf.where(finished, PAD_ID, tf.argmax(log_probs, axis=-1, output_type=tf.int32))
            ids = ids.write(t, token)
            weights = weights.write(t, tf.where(finished[:, None], 0.0, attention))
            finished = finished | tf.equal(token, END_ID) | (t + 1 >= bound)
            return t + 1, token, state, finished, ids, weights

        def more(t, previous, state, finished, ids, weights):
            return tf.logical_and(t < steps, tf.logical_not(tf.reduce_all(finished)))

        _, _, _, _, ids, weights = tf.while_loop(
            more, body,
            (tf.constant(0), tf.fill([batch], START_ID), state, tf.zeros([batch], tf.bool),
             tf.TensorArray(tf.int32, size=0, dynamic_size=True, element_shape=[None]),
             tf.TensorArray(tf.float32, size=0, dynamic_size=True, element_shape=[None, None])),
            shape_invariants=(tf.TensorShape([]), tf.TensorShape([None]), tf.TensorShape([None, self.state_size]),
                              tf.TensorShape([None]), tf.TensorShape(None), tf.TensorShape(None)),
        )
        ids = tf.transpose(ids.stack(), [1, 0])
        weights = tf.transpose(weights.stack(), [1, 0, 2])
        target_tokens, translation = self._finish(ids, weights, cased)
        return {"translation": translation, "source_tokens": cased, "target_tokens": target_tokens, "ids": ids,
                "attention": weights}

    # --- decoding in Python ---

    def greedy(self, texts: list[str]) -> dict:
        """Greedy decoding of a batch, in the graph: NumPy arrays of everything `_translate` returns."""
        import tensorflow as tf

        return {k: v.numpy() for k, v in self.translate_graph(tf.constant(texts)).items()}

    def beam_search(self, texts: list[str], *, beam_width: int, length_penalty: float = DEFAULT_LENGTH_PENALTY) -> dict:
        """Batched beam search: ``beam_width`` hypotheses per text, the best by length-normalized log-probability.

        Finished hypotheses keep their score and their slot; the final choice divides each score by
        ``((5 + length) / 6) ** length_penalty`` (Wu et al. 2016). Width 1 is greedy decoding.
        """
        import numpy as np
        import tensorflow as tf

        k = beam_width
        cased, tokens = self.prepare(tf.constant(texts))
        encoded = [np.asarray(x) for x in self.encode(tokens)]
        batch = len(texts)
        bound = np.minimum(2 * (np.asarray(tokens) != b"").sum(axis=1) + 10, MAX_TARGET_TOKENS)  # (batch,)
        state = np.repeat(encoded[0], k, axis=0)
        memory = [tf.constant(np.repeat(m, k, axis=0)) for m in encoded[1:]]
        scores = np.full((batch, k), -np.inf)
        scores[:, 0] = 0.0
        finished = np.zeros((batch, k), bool)
        lengths = np.zeros((batch, k), np.int64)
        previous = np.full(batch * k, START_ID, np.int32)
        rows = np.arange(batch)[:, None]
        history = []  # per step: (token, parent beam, attention weights), each (batch, k, ...)
        for t in range(int(bound.max())):
            log_probs, new_state, weights = self.step(tf.constant(previous), tf.constant(state), *memory)
            log_probs = np.asarray(log_probs, np.float64).reshape(batch, k, -1)
            if t == 0:
                log_probs[..., END_ID] = -1e9  # a translation has at least one word
            vocab = log_probs.shape[-1]
            # A finished hypothesis continues only with padding, at no cost.
            log_probs[finished] = -np.inf
            log_probs[finished, PAD_ID] = 0.0
            candidates = (scores[..., None] + log_probs).reshape(batch, k * vocab)
            if k == 1:
                best = np.argmax(candidates, axis=1)[:, None]
            else:
                best = np.argpartition(-candidates, k - 1, axis=1)[:, :k]
                order = np.lexsort((best, -np.take_along_axis(candidates, best, axis=1)), axis=1)
                best = np.take_along_axis(best, order, axis=1)
            parent, token = best // vocab, (best % vocab).astype(np.int32)
            scores = np.take_along_axis(candidates, best, axis=1)
            was_finished = np.take_along_axis(finished, parent, axis=1)
            lengths = np.take_along_axis(lengths, parent, axis=1) + ~was_finished
            finished = was_finished | (token == END_ID) | (lengths >= bound[:, None])
            weights = np.asarray(weights).reshape(batch, k, -1)[rows, parent]
            history.append((token, parent, np.where(was_finished[..., None], 0.0, weights)))
            state = np.asarray(new_state).reshape(batch, k, -1)[rows, parent].reshape(batch * k, -1)
            previous = token.reshape(-1)
            if finished.all():
                break
        normalized = scores / (((5.0 + lengths) / 6.0) ** length_penalty)
        normalized[~np.isfinite(scores)] = -np.inf
        beam = np.argmax(normalized, axis=1)
        steps = len(history)
        ids = np.zeros((batch, steps), np.int32)
        attention = np.zeros((batch, steps, np.asarray(tokens).shape[1] if self.has_attention else 0), np.float32)
        for t in range(steps - 1, -1, -1):  # follow the parents back from the chosen hypothesis
            token, parent, weights = history[t]
            ids[:, t] = token[np.arange(batch), beam]
            attention[:, t] = weights[np.arange(batch), beam]
            beam = parent[np.arange(batch), beam]
        target_tokens, translation = self.finish(tf.constant(ids), tf.constant(attention), cased)
        return {"translation": translation.numpy(), "source_tokens": cased.numpy(), "target_tokens": target_tokens.numpy(),
                "ids": ids, "attention": attention}

    def decode(self, texts: list[str], *, beam_width: int = 1, length_penalty: float = DEFAULT_LENGTH_PENALTY) -> dict:
        if beam_width == 1:
            return self.greedy(texts)
        return self.beam_search(texts, beam_width=beam_width, length_penalty=length_penalty)


def _no_end(log_probs):
    """Rules out [END] (the first token of a translation is a word)."""
    import tensorflow as tf

    return tf.where(tf.one_hot(END_ID, tf.shape(log_probs)[-1]) > 0, -1e9, log_probs)


def translate(model, texts: list[str], *, beam_width: int = DEFAULT_BEAM_WIDTH,
              length_penalty: float = DEFAULT_LENGTH_PENALTY, batch_size: int = 64, progress: bool = False,
              desc: str = "translate") -> list[str]:
    """Translations of a list of texts, decoded in batches of similar length (order kept)."""
    from zoo._progress import progress_bar

    _check_decoding(beam_width, length_penalty)
    run = runtime(model)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out: list[str] = [""] * len(texts)
    with progress_bar(total=len(texts), desc=desc, unit="sentence", enabled=progress) as bar:
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            result = run.decode([texts[i] for i in chunk], beam_width=beam_width, length_penalty=length_penalty)
            for i, text in zip(chunk, result["translation"]):
                out[i] = text.decode("utf-8")
            bar.update(len(chunk))
    return out


def _check_decoding(beam_width, length_penalty):
    if not isinstance(beam_width, int) or isinstance(beam_width, bool) or beam_width < 1:
        raise ValueError(f"beam_width must be a positive integer (1 is greedy decoding), got {beam_width!r}.")
    if not isinstance(length_penalty, (int, float)) or isinstance(length_penalty, bool) or length_penalty < 0:
        raise ValueError(f"length_penalty must be a number >= 0 (0: no length normalization), got {length_penalty!r}.")
