"""The translators' Keras model: tokens in, teacher-forced next-token probabilities out."""

from __future__ import annotations

from zoo.decoding import SpecialTokens

# === Special tokens and limits ===

PAD, UNK, START, END = "", "[UNK]", "[START]", "[END]"
TOKENS = SpecialTokens(pad=0, unk=1, start=2, end=3)  # the ids of PAD, UNK, START and END (target side)
PAD_ID, UNK_ID, START_ID, END_ID = TOKENS.pad, TOKENS.unk, TOKENS.start, TOKENS.end
SOURCE_SPECIALS = 2  # padding and [UNK] come before the source words
TARGET_SPECIALS = 4  # padding, [UNK], [START] and [END] come before the target words

MAX_SOURCE_TOKENS = 100  # longer sources are truncated (with a warning in Python)
MAX_TARGET_TOKENS = 100  # no translation is longer, [END] included
DEFAULT_BEAM_WIDTH = 5
DEFAULT_LENGTH_PENALTY = 0.6  # alpha of zoo.decoding.length_normalization (GNMT): score / ((5 + length) / 6) ** alpha
# Source-length buckets (Spanish words, split on whitespace) for BLEU by length.
LENGTH_BUCKETS = (("1-5", 1, 5), ("6-8", 6, 8), ("9-11", 9, 11), ("12+", 12, None))


def max_target_length(source_length: int) -> int:
    """How many tokens (``[END]`` included) a translation of ``source_length`` source tokens may have."""
    return min(MAX_TARGET_TOKENS, 2 * source_length + 10)


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
