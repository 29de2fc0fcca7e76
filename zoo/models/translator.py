"""Sequence-to-sequence translation (many-to-many, unaligned): Spanish text in, English text out.

An encoder RNN reads the source sentence; a decoder RNN writes the target one token at a time,
each step conditioned on the tokens written so far.

* ``spa-eng-gru`` (Sutskever et al. 2014 / Cho et al. 2014 style): a GRU encoder compresses the
  source into one context vector c, its last hidden state, which is the decoder GRU's initial state.
  Everything the decoder knows about the source must pass through c.
* ``spa-eng-gru-attention`` (Bahdanau et al. 2015): a bidirectional GRU encoder keeps one state per
  source token; at every step the decoder scores each of them with additive attention
  ``v . tanh(W_q s_t + W_k h_j)`` (padding excluded), takes their weighted mean as the context and
  predicts the next word from its own state and that context.

Text handling is word-level and the same everywhere (training data, the Python pipeline, the
SavedModel graph), written as regex rewrites that run identically in Python ``re`` and in TensorFlow
(RE2): Unicode normalization (typographic quotes, dashes and spaces folded, decomposed accents
composed), punctuation split from words (``¿Dónde?`` -> ``¿ dónde ?``; ``3,5`` and ``7:30`` stay whole),
English clitics split (``don't`` -> ``do n't``); the source is lower-cased, the target keeps its case
(BLEU is case-sensitive). Detokenization undoes the splits. Words outside the vocabulary are
``[UNK]``; the attention model replaces an ``[UNK]`` it writes with the source word it attended to most.

The Keras model (the checkpoint) takes tokens and scores a translation with teacher forcing:
``{"source_tokens": (batch, S), "target_tokens": (batch, T)}`` string tensors padded with ``""``
(``target_tokens`` starts with ``[START]``) -> next-token probabilities ``(batch, T, target vocabulary)``.
Decoding (greedy in the graph; beam search batched in NumPy over a compiled decoder step) lives here.

Example:
    >>> mt = zoo.pipeline("spa-eng-gru-attention")
    >>> mt("¿Dónde está la biblioteca?")
    'Where is the library?'
    >>> mt(["Hace frío.", "Me gusta leer."], beam_width=5)
    ["It's cold.", 'I like to read.']
"""

from __future__ import annotations

import re
import textwrap
import unicodedata
import warnings

from zoo._pipeline import Pipeline
from zoo._registry import ModelSpec, register

# === Special tokens and limits ===

PAD, UNK, START, END = "", "[UNK]", "[START]", "[END]"
PAD_ID, UNK_ID, START_ID, END_ID = 0, 1, 2, 3
SOURCE_SPECIALS = 2  # padding and [UNK] come before the source words
TARGET_SPECIALS = 4  # padding, [UNK], [START] and [END] come before the target words

MAX_SOURCE_TOKENS = 100  # longer sources are truncated (with a warning in Python)
MAX_TARGET_TOKENS = 100  # no translation is longer, [END] included
DEFAULT_BEAM_WIDTH = 5
DEFAULT_LENGTH_PENALTY = 0.6  # GNMT length normalization: score / ((5 + length) / 6) ** alpha
# Source-length buckets (Spanish words, split on whitespace) for BLEU by length.
LENGTH_BUCKETS = (("1-5", 1, 5), ("6-8", 6, 8), ("9-11", 9, 11), ("12+", 12, None))


def max_target_length(source_length: int) -> int:
    """How many tokens (``[END]`` included) a translation of ``source_length`` source tokens may have."""
    return min(MAX_TARGET_TOKENS, 2 * source_length + 10)


# === Text normalization, tokenization and detokenization ===
#
# Each rule is a (pattern, replacement) pair that Python `re` and RE2 (tf.strings.regex_replace) read
# the same way: literal characters instead of \s, \w, \d or \p classes where the two differ, no
# look-around. `tokenize_source`/`tokenize_target`/`detokenize` run them in Python; the graph versions
# (`_tf_tokenize`, `_tf_detokenize`) run the very same list in TensorFlow.


def _composition_rules() -> tuple[tuple[str, str], ...]:
    """NFC for decomposed Latin letters: ``a`` + U+0301 -> ``á`` (TensorFlow has no Unicode normalization op)."""
    rules = []
    for base in "AEIOUYNCaeiouync":
        for mark in "\u0300\u0301\u0302\u0303\u0308\u0327":
            composed = unicodedata.normalize("NFC", base + mark)
            if len(composed) == 1:
                rules.append((base + mark, composed))
    return tuple(rules)


NORMALIZE_RULES = (
    # Every space character (and control characters Python's str.split() splits on) becomes a space.
    ("[\t\n\x0b\x0c\r\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]", " "),
    ("[\u200b\u200c\u200d\u2060\ufeff]", ""),  # zero-width characters
    ("[\u2018\u2019\u201a\u201b\u2032`\u00b4]", "'"),  # typographic single quotes, prime, accents used as quotes
    ("[\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb\u00a8]", '"'),  # “ ” „ ‟ ″ « » and ¨ (used as a quote in Tatoeba)
    ("[\u2010\u2011]", "-"),  # hyphens
    ("[\u2012\u2013\u2014\u2015]", " - "),  # dashes
    ("\u2026", "..."),  # ellipsis character
    ("\uff1f", "?"), ("\uff01", "!"), ("\uff0c", ","),  # full-width ? ! ,
) + _composition_rules()

SPLIT_RULES = (
    (r"(\.\.\.+)", r" \1 "),  # an ellipsis is one token
    (r"([¿¡?!;\"()\[\]{}%$€£])", r" \1 "),  # always a token of its own
    (r"([^0-9]),", r"\1 , "), (r",([^0-9])", r" , \1"), (r"^,|,$", r" , "),  # commas, except in 3,5
    (r"([^0-9]):", r"\1 : "), (r":([^0-9])", r" : \1"), (r"^:|:$", r" : "),  # colons, except in 7:30
    (r"([^. ])\.( |$)", r"\1 .\2"),  # a period before a space or the end (3.5 and the first dots of U.S. stay)
    (r"(^| )'([^ ])", r"\1' \2"),  # an opening single quote
    (r"([^ ])'( |$)", r"\1 '\2"),  # a closing single quote (and the plural possessive: students')
)
CLITIC_RULES = (  # English only: do|n't, ca|n't, Tom|'s, we|'re
    (r"(?i)([^ '])(n't)( |$)", r"\1 \2\3"),
    (r"(?i)([^ '])('(?:s|re|ve|ll|d|m))( |$)", r"\1 \2\3"),
)
DETOKENIZE_RULES = (
    (r"(?i) (n't|'(?:s|re|ve|ll|d|m))( |$)", r"\1\2"),  # clitics join their word
    (r" '( |$)", r"'\1"),  # a closing single quote joins its word
    (r" ([.,!?;:%)\]}])", r"\1"),  # no space before closing punctuation (nor inside an ellipsis)
    (r"([(\[{$¿¡]) ", r"\1"),  # no space after opening punctuation and currency
    (r"\"[ ]*([^\"]*?)[ ]*\"", r'"\1"'),  # double quotes hug what they quote, pair by pair
)

_COMPILED: dict[tuple, list] = {}


def _apply(text: str, rules) -> str:
    compiled = _COMPILED.get(rules)
    if compiled is None:
        compiled = _COMPILED[rules] = [(re.compile(p), r) for p, r in rules]
    for pattern, replacement in compiled:
        text = pattern.sub(replacement, text)
    return text


def normalize(text: str) -> str:
    """The zoo's Unicode normalization (the graph applies the same rules): quotes, dashes, spaces, accents."""
    return _apply(text, NORMALIZE_RULES)


def tokenize_source(text: str, *, lowercase: bool = True) -> list[str]:
    """Spanish text to the tokens the encoder reads (lower-cased unless ``lowercase=False``).

    Example:
        >>> tokenize_source("¿Dónde está la biblioteca?")
        ['¿', 'dónde', 'está', 'la', 'biblioteca', '?']
    """
    tokens = _apply(normalize(text), SPLIT_RULES).split(" ")
    return [t.lower() if lowercase else t for t in tokens if t]


def tokenize_target(text: str) -> list[str]:
    """English text to target tokens (case kept, clitics split).

    Example:
        >>> tokenize_target("I don't know, Tom's right.")
        ['I', 'do', "n't", 'know', ',', 'Tom', "'s", 'right', '.']
    """
    return [t for t in _apply(_apply(normalize(text), SPLIT_RULES), CLITIC_RULES).split(" ") if t]


def detokenize(tokens) -> str:
    """Target tokens back to text: the inverse of `tokenize_target` on ordinary sentences.

    Example:
        >>> detokenize(['I', 'do', "n't", 'know', ',', 'Tom', "'s", 'right', '.'])
        "I don't know, Tom's right."
    """
    return _apply(" ".join(t for t in tokens if t and t not in (UNK, START, END)), DETOKENIZE_RULES)


def _tf_apply(texts, rules):
    import tensorflow as tf

    for pattern, replacement in rules:
        texts = tf.strings.regex_replace(texts, pattern, replacement)
    return texts


def _tf_tokenize(texts, *, target: bool = False):
    """Graph tokenization of a 1-D string tensor: a ``tf.RaggedTensor`` of tokens (case kept)."""
    import tensorflow as tf

    texts = _tf_apply(_tf_apply(texts, NORMALIZE_RULES), SPLIT_RULES)
    if target:
        texts = _tf_apply(texts, CLITIC_RULES)
    return tf.strings.split(texts)  # on whitespace, which normalization made plain spaces


def _tf_detokenize(tokens):
    """Graph detokenization of ``(batch, time)`` tokens padded with ``""``: one string per row."""
    import tensorflow as tf

    joined = tf.strings.reduce_join(tokens, axis=-1, separator=" ")
    joined = tf.strings.strip(tf.strings.regex_replace(joined, " +", " "))
    return _tf_apply(joined, DETOKENIZE_RULES)


def tokenize_batch(texts: list[str], *, target: bool = False, batch_size: int = 4096) -> list[list[str]]:
    """Graph tokenization of many texts at once, as Python lists (the recipe builds its data with it)."""
    import tensorflow as tf

    fn = tf.function(lambda t: _tf_tokenize(t, target=target), input_signature=[tf.TensorSpec([None], tf.string)])
    out = []
    for start in range(0, len(texts), batch_size):
        ragged = fn(tf.constant(texts[start : start + batch_size]))
        for row in ragged.to_list():
            tokens = [t.decode("utf-8") for t in row]
            out.append(tokens if target else [t.lower() for t in tokens])
    return out


# === The model ===


def build_translator(
    *,
    attention: bool,
    source_vocab_size: int = 8000,
    target_vocab_size: int = 6000,
    embedding_dim: int = 96,
    encoder_units: int = 256,
    decoder_units: int = 256,
    attention_units: int = 128,
    output_units: int = 128,
    dropout: float = 0.2,
    source_vocabulary: list[str] | None = None,
    target_vocabulary: list[str] | None = None,
    name: str = "translator",
):
    """Builds an untrained encoder-decoder: tokens in, teacher-forced next-token probabilities out.

    Args:
        attention: False for the plain encoder-decoder (GRU encoder whose last state is the decoder's
            initial state), True for a bidirectional GRU encoder and additive (Bahdanau) attention.
        source_vocab_size, target_vocab_size: most rows of the embeddings and of the output layer,
            special entries included (2 on the source side, 4 on the target side). The model is sized
            to the vocabularies actually given, up to these.
        embedding_dim: width of both word embeddings.
        encoder_units: GRU units of the encoder (per direction when bidirectional).
        decoder_units: GRU units of the decoder; without attention it must equal ``encoder_units``.
        attention_units: width of the additive attention's hidden layer (``W_q``, ``W_k``, ``v``).
        output_units: width of the tanh layer between the decoder (and context) and the softmax.
        dropout: on the embeddings and before the softmax, in training only.
        source_vocabulary: Spanish words, most frequent first, without special entries.
        target_vocabulary: English words, most frequent first, without special entries.
        name: the model's name.

    The model takes ``{"source_tokens", "target_tokens"}`` (string ``(batch, time)``, padded with ``""``;
    the target starts with ``[START]``) and maps them to ids with the lookup layers ``source_vocab`` and
    ``target_vocab``; the nested model ``network`` maps ids to next-token logits ``(batch, T, target vocabulary)``
    (what training fits, with a fused softmax cross-entropy) and the ``probabilities`` layer applies the softmax.
    """
    import keras
    from keras import layers

    if not attention and decoder_units != encoder_units:
        raise ValueError(
            f"Without attention the decoder starts from the encoder's last state, so decoder_units must equal "
            f"encoder_units; got {decoder_units} and {encoder_units}."
        )
    source_words = _clean_vocabulary(source_vocabulary, source_vocab_size - SOURCE_SPECIALS, "source_vocabulary")
    target_words = _clean_vocabulary(target_vocabulary, target_vocab_size - TARGET_SPECIALS, "target_vocabulary")

    # === Preprocessing: tokens -> ids ===
    source_tokens = keras.Input(shape=(None,), dtype="string", name="source_tokens")
    target_tokens = keras.Input(shape=(None,), dtype="string", name="target_tokens")
    source_ids = layers.StringLookup(vocabulary=source_words, mask_token=PAD, num_oov_indices=1, oov_token=UNK,
                                     name="source_vocab")(source_tokens)
    target_ids = layers.StringLookup(vocabulary=[START, END, *target_words], mask_token=PAD, num_oov_indices=1,
                                     oov_token=UNK, name="target_vocab")(target_tokens)

    network = build_translator_network(
        attention=attention, source_rows=len(source_words) + SOURCE_SPECIALS,
        target_rows=len(target_words) + TARGET_SPECIALS, embedding_dim=embedding_dim, encoder_units=encoder_units,
        decoder_units=decoder_units, attention_units=attention_units, output_units=output_units, dropout=dropout,
    )
    probabilities = layers.Activation("softmax", name="probabilities")(network([source_ids, target_ids]))
    return keras.Model({"source_tokens": source_tokens, "target_tokens": target_tokens}, probabilities, name=name)


def _clean_vocabulary(words, size: int, what: str) -> list[str]:
    if words is None:
        return []
    if isinstance(words, str) or not all(isinstance(w, str) for w in words):
        raise TypeError(f"{what} must be a list of str (most frequent first), got {type(words).__name__}.")
    reserved = {PAD, UNK, START, END}
    out, seen = [], set()
    for word in words:
        if word in reserved or word in seen or " " in word:
            continue
        seen.add(word)
        out.append(word)
        if len(out) == size:
            break
    return out


def build_translator_network(*, attention, source_rows, target_rows, embedding_dim, encoder_units, decoder_units,
                             attention_units, output_units, dropout):
    """Source ids ``(batch, S)`` and decoder-input ids ``(batch, T)`` (0-padded) to logits ``(batch, T, target_rows)``."""
    import keras
    from keras import layers

    source_ids = keras.Input(shape=(None,), dtype="int32", name="source_ids")
    target_ids = keras.Input(shape=(None,), dtype="int32", name="target_ids")

    # === Encoder ===
    x = layers.Embedding(source_rows, embedding_dim, mask_zero=True, name="source_embedding")(source_ids)
    x = layers.Dropout(dropout, name="source_dropout")(x)
    if attention:
        gru = layers.GRU(encoder_units, return_sequences=True, return_state=True)
        encoded, forward_state, backward_state = layers.Bidirectional(gru, name="encoder")(x)
        state = layers.Dense(decoder_units, activation="tanh", name="bridge")(
            layers.Concatenate(name="encoder_states")([forward_state, backward_state])
        )
    else:
        _, state = layers.GRU(encoder_units, return_state=True, name="encoder")(x)  # the context vector c

    # === Decoder ===
    y = layers.Embedding(target_rows, embedding_dim, mask_zero=True, name="target_embedding")(target_ids)
    y = layers.Dropout(dropout, name="target_dropout")(y)
    decoded, _ = layers.GRU(decoder_units, return_sequences=True, return_state=True, name="decoder")(
        y, initial_state=state
    )
    if attention:
        query = layers.Dense(attention_units, use_bias=False, name="attention_query")(decoded)
        keys = layers.Dense(attention_units, use_bias=False, name="attention_keys")(encoded)
        source_mask = keras.ops.not_equal(source_ids, 0)
        context = layers.AdditiveAttention(name="attention")([query, encoded, keys], mask=[None, source_mask])
        decoded = layers.Concatenate(name="decoder_and_context")([decoded, context])
    hidden = layers.Dense(output_units, activation="tanh", name="combine")(decoded)
    hidden = layers.Dropout(dropout, name="output_dropout")(hidden)
    logits = layers.Dense(target_rows, name="logits")(hidden)
    return keras.Model([source_ids, target_ids], logits, name="network")


def teacher_forcing_batch(pairs):
    """``[(spanish, english), ...]`` to the model's inputs: a dict of padded token tensors.

    The target input is ``[START]`` followed by the English tokens (what the decoder has seen at each step).
    """
    import numpy as np
    import tensorflow as tf

    sources = [tokenize_source(s) or [PAD] for s, _ in pairs]
    targets = [[START, *tokenize_target(t)] for _, t in pairs]

    def pad(rows):
        out = np.full((len(rows), max(len(r) for r in rows)), PAD, dtype=object)
        for i, row in enumerate(rows):
            out[i, : len(row)] = row
        return tf.constant(out)

    return {"source_tokens": pad(sources), "target_tokens": pad(targets)}


# === Decoding: greedy in the graph, beam search over a compiled decoder step ===

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


# === Evaluation ===


def length_bucket(source: str) -> str:
    """The source-length bucket of a Spanish sentence (words split on whitespace)."""
    words = len(source.split())
    for label, low, high in LENGTH_BUCKETS:
        if words >= low and (high is None or words <= high):
            return label
    return LENGTH_BUCKETS[0][0]


def bleu_scores(sources: list[str], hypotheses: list[str], references: list[str]) -> dict:
    """sacrebleu corpus BLEU (13a tokenization, case-sensitive), overall and by source-length bucket."""
    import sacrebleu

    metric = sacrebleu.metrics.BLEU()
    overall = metric.corpus_score(hypotheses, [references]).score
    by_length = {}
    for label, _, _ in LENGTH_BUCKETS:
        picked = [i for i, s in enumerate(sources) if length_bucket(s) == label]
        if picked:
            score = metric.corpus_score([hypotheses[i] for i in picked], [[references[i] for i in picked]]).score
            by_length[label] = {"bleu": round(score, 2), "n": len(picked)}
    return {"bleu": round(overall, 2), "n": len(hypotheses), "bleu_by_length": by_length,
            "signature": str(metric.get_signature())}


def evaluate(model, *, split: str = "test", limit: int | None = None, beam_width: int = DEFAULT_BEAM_WIDTH,
             length_penalty: float = DEFAULT_LENGTH_PENALTY, batch_size: int = 64, progress: bool = True) -> dict:
    """sacrebleu corpus BLEU of the detokenized translations against the reference English.

    Returns:
        ``{"bleu", "n", "beam_width", "length_penalty", "bleu_by_length": {bucket: {"bleu", "n"}}, "signature"}``,
        buckets by Spanish words: 1-5, 6-8, 9-11, 12+.
    """
    from zoo.data import spa_eng

    pairs = spa_eng.load(split, limit=limit)
    hypotheses = translate(model, pairs.source, beam_width=beam_width, length_penalty=length_penalty,
                           batch_size=batch_size, progress=progress, desc=f"eval {split}")
    scores = bleu_scores(pairs.source, hypotheses, pairs.target)
    return {"bleu": scores["bleu"], "n": scores["n"], "beam_width": beam_width, "length_penalty": length_penalty,
            "bleu_by_length": scores["bleu_by_length"], "signature": scores["signature"]}


# === Pipeline ===


class TranslationPipeline(Pipeline):
    """Spanish text in, English text out.

    Example:
        >>> mt = zoo.pipeline("spa-eng-gru-attention")
        >>> mt("¿Dónde está la biblioteca?")
        'Where is the library?'
        >>> mt(["Hace frío.", "Me gusta leer."], beam_width=5)
        ["It's cold.", 'I like to read.']
        >>> mt.attention("Tengo hambre.")["target_tokens"]
        ['I', "'m", 'hungry', '.', '[END]']
        >>> mt.save_attention("Tengo hambre.", "attention.png")
    """

    def __repr__(self):
        return f"{type(self).__name__}({self.spec.name!r})"

    def __call__(self, texts, *, beam_width: int = DEFAULT_BEAM_WIDTH, length_penalty: float = DEFAULT_LENGTH_PENALTY):
        """Translates one text (returns a str) or a list of texts (returns a list of str).

        Args:
            beam_width: hypotheses kept per text; 1 is greedy decoding (the SavedModel's ``translate``).
            length_penalty: alpha of the length normalization of beam scores (0: none).
        """
        batch, single = self._texts(texts)
        out = translate(self.model, batch, beam_width=beam_width, length_penalty=length_penalty,
                        batch_size=self.batch_size)
        return out[0] if single else out

    def tokenize(self, texts) -> list[list[str]]:
        """The source tokens the encoder reads (lower-cased, at most 100 per text)."""
        batch, _ = self._texts(texts)
        return [tokenize_source(t)[:MAX_SOURCE_TOKENS] for t in batch]

    def attention(self, text, *, beam_width: int = 1, length_penalty: float = DEFAULT_LENGTH_PENALTY) -> dict:
        """What the decoder looked at while translating one text.

        Returns:
            ``{"source_tokens": [...], "target_tokens": [..., "[END]"], "weights": ndarray (target, source),
            "translation": str}``; each row of ``weights`` sums to 1 over the source tokens.
        """
        import numpy as np

        if not runtime(self.model).has_attention:
            raise ValueError(f"{self.spec.name} has no attention: its decoder sees only the last encoder state.")
        batch, single = self._texts(text)
        if not single:
            raise TypeError(f"attention() takes one text (str), got a batch of {len(batch)}.")
        _check_decoding(beam_width, length_penalty)
        result = runtime(self.model).decode(batch, beam_width=beam_width, length_penalty=length_penalty)
        ids = result["ids"][0]
        steps = int(np.argmax(ids == END_ID)) + 1 if (ids == END_ID).any() else len(ids)
        source = [t.decode("utf-8") for t in result["source_tokens"][0] if t]
        target = []
        for i in range(steps):
            token = result["target_tokens"][0][i].decode("utf-8")
            target.append(END if ids[i] == END_ID else token or UNK)
        return {"source_tokens": source, "target_tokens": target,
                "weights": np.asarray(result["attention"][0, :steps, : len(source)], np.float32),
                "translation": result["translation"][0].decode("utf-8")}

    def save_attention(self, text, path: str, **kwargs) -> str:
        """Saves the attention heat map of one translation as a PNG; returns the path."""
        return save_attention_heatmap(self.attention(text, **kwargs), path)

    def _texts(self, texts):
        from zoo._inputs import as_text_batch

        batch, single = as_text_batch(texts)
        for i, text in enumerate(batch):
            n = len(tokenize_source(text))
            if n > MAX_SOURCE_TOKENS:
                where = "" if single else f" at index {i}"
                warnings.warn(f"The text{where} has {n} tokens; only the first {MAX_SOURCE_TOKENS} are translated.",
                              stacklevel=3)
        return batch, single

    @staticmethod
    def format(text: str, result: str) -> str:
        """One readable line for the command line: the translation."""
        return result


# === Plots ===


def save_attention_heatmap(result: dict, path: str, *, title: str | None = None) -> str:
    """Draws ``pipeline.attention(text)`` as a heat map (target rows, source columns) into a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    weights = result["weights"]
    source, target = result["source_tokens"], result["target_tokens"]
    fig, ax = plt.subplots(figsize=(max(3.0, 0.55 * len(source) + 1.5), max(2.5, 0.45 * len(target) + 1.2)))
    image = ax.imshow(weights, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(source)), source, rotation=60, ha="right")
    ax.set_yticks(range(len(target)), target)
    ax.set_xlabel("source (Spanish)")
    ax.set_ylabel("output (English)")
    title = title if title is not None else result.get("translation", "")
    ax.set_title(textwrap.shorten(title, 100, placeholder=" ..."), fontsize=9, wrap=True)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="attention weight")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def bleu_by_length_table(results: dict[str, dict]) -> str:
    """A Markdown table of BLEU by source-length bucket: one column per model (``{name: metrics}``)."""
    names = list(results)
    lines = ["| Spanish words | " + " | ".join(f"`{n}`" for n in names) + " | sentences |",
             "|---|" + "---|" * (len(names) + 1)]
    for label, _, _ in LENGTH_BUCKETS:
        cells = [f"{results[n]['bleu_by_length'][label]['bleu']:.2f}" if label in results[n]["bleu_by_length"] else "-"
                 for n in names]
        count = next((results[n]["bleu_by_length"][label]["n"] for n in names if label in results[n]["bleu_by_length"]), 0)
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {count:,} |")
    lines.append("| all | " + " | ".join(f"**{results[n]['bleu']:.2f}**" for n in names)
                 + f" | {results[names[0]]['n']:,} |")
    return "\n".join(lines)


def plot_bleu_by_length(results: dict[str, dict], path: str) -> str:
    """Grouped bars of BLEU per source-length bucket, one colour per model (``{name: metrics}``); a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [label for label, _, _ in LENGTH_BUCKETS]
    width = 0.8 / max(len(results), 1)
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for i, (name, metrics) in enumerate(results.items()):
        values = [metrics["bleu_by_length"].get(label, {}).get("bleu", 0.0) for label in labels]
        bars = ax.bar([x + (i - (len(results) - 1) / 2) * width for x in range(len(labels))], values, width,
                      label=f"{name} (all: {metrics['bleu']:.1f})")
        ax.bar_label(bars, fmt="%.1f", fontsize=8)
    counts = next(iter(results.values()))["bleu_by_length"]
    ax.set_xticks(range(len(labels)), [f"{label}\n({counts.get(label, {}).get('n', 0):,} sent.)" for label in labels])
    ax.set_xlabel("source length (Spanish words)")
    ax.set_ylabel("BLEU (sacrebleu, test split)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


# === Export ===


def export_saved_model(spec, model, path: str) -> str:
    """SavedModel whose ``translate`` signature (also ``serving_default``) maps Spanish text to English text.

    Takes ``text`` (tf.string ``[batch]``) and returns ``translation`` (tf.string ``[batch]``): greedy
    decoding with the loop, the tokenization and the detokenization inside the graph, so it needs
    neither ``zoo`` nor Keras: ``tf.saved_model.load(path).signatures["translate"](text=tf.constant([...]))``.
    """
    import tensorflow as tf

    from zoo._export import write_saved_model

    run = runtime(model)

    def serve(text):
        return {"translation": run._translate(text)["translation"]}

    return write_saved_model(model, path, {"translate": (serve, [tf.TensorSpec([None], tf.string, name="text")])})


def export_tflite(spec, model, out_dir: str) -> str:
    raise ValueError(
        f"{spec.name}: TFLite export is not available for translation models (string processing and the decoding "
        "loop need TensorFlow ops outside the TFLite builtins); use format='saved_model'."
    )


# === Registered models ===

_SPA_ENG = dict(
    builder="zoo.models.translator:build_translator",
    evaluator="zoo.models.translator:evaluate",
    pipeline="zoo.models.translator:TranslationPipeline",
    task="Spanish-to-English translation",
    structure="seq2seq",
    dataset="spa_eng",
    dataset_name="Tatoeba Spanish-English pairs (manythings.org/anki 2018-05-13, TensorFlow spa-eng.zip)",
    labels=(),
    metric="bleu",
    recipe="recipes/train_translator.py",
    data_license="CC BY 2.0 FR (Tatoeba sentences via manythings.org/anki)",
    example='["¿Dónde está la biblioteca?", "Hace frío."]',
    validation_split="2,933 pairs chosen by a stable hash of the Spanish sentence (zoo.data.spa_eng)",
    unit="sentence pairs",
    # The vocabularies inside the checkpoint are Tatoeba words; attribution carries over to the weights.
    weights_license="CC BY 2.0 FR, like the training sentences (attribute tatoeba.org and manythings.org/anki)",
)
_VOCABULARY = dict(source_vocab_size=8000, target_vocab_size=6000, embedding_dim=96, output_units=128, dropout=0.1)

SPECS = (
    register(ModelSpec(
        name="spa-eng-gru",
        builder_args=dict(attention=False, encoder_units=256, decoder_units=256, **_VOCABULARY),
        description=(
            "Spanish to English with a plain GRU encoder-decoder: a 256-unit GRU reads the Spanish words (8,000, "
            "lower-cased, 96-d embeddings) and its last state, the context vector, starts a 256-unit GRU decoder "
            "that writes English words (6,000, cased) through a 128-unit tanh layer and a softmax. Beam search "
            f"(width {DEFAULT_BEAM_WIDTH}, length-normalized)."
        ),
        **_SPA_ENG,
    )),
    register(ModelSpec(
        name="spa-eng-gru-attention",
        builder_args=dict(attention=True, encoder_units=128, decoder_units=256, attention_units=128, **_VOCABULARY),
        description=(
            "Spanish to English with a bidirectional GRU encoder (128 units each way) and a 256-unit GRU decoder "
            "with additive (Bahdanau) attention over every encoder state: at each step the decoder scores the "
            "source words, reads their weighted mean and writes the next English word. 8,000 Spanish words "
            "(lower-cased), 6,000 English words (cased), 96-d embeddings; unknown output words are copied from "
            f"the most-attended source word. Beam search (width {DEFAULT_BEAM_WIDTH}, length-normalized)."
        ),
        **_SPA_ENG,
    )),
)
