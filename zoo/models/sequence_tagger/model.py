"""The taggers' Keras model: tokens ``(batch, time)`` padded with ``""`` in, per-token tag probabilities
(or, with a CRF, Viterbi tag ids) out; `zoo.pipeline` tokenizes raw text with `zoo.layers.tagging.tokenize` first.

Example:
    >>> model = zoo.build("udpos-bilstm", word_vocabulary=["i", "love"], char_vocabulary=list("ilove"))
    >>> model(tf.constant([["I", "love", "it"]])).shape
    TensorShape([1, 3, 17])
"""

from __future__ import annotations


def build_sequence_tagger(
    *,
    tags: tuple[str, ...],
    word_vocab_size: int = 10000,
    char_vocab_size: int = 200,
    word_dim: int = 100,
    char_dim: int = 32,
    char_filters: int = 64,
    max_chars: int = 16,
    units: int = 128,
    dropout: float = 0.33,
    crf: bool = False,
    case_features: bool = False,
    word_dropout: float = 0.0,
    rare_word_dropout: bool = False,
    lstm_layers: int = 1,
    char_kernel_size: int = 3,
    word_vocabulary: list[str] | None = None,
    char_vocabulary: list[str] | None = None,
    name: str = "sequence_tagger",
):
    """Builds an untrained tagger: tokens ``(batch, time)`` in, tag probabilities ``(batch, time, len(tags))`` out.

    With ``crf=True`` the network outputs emission scores and a linear-chain CRF sits on top
    (`zoo.layers.crf.CRFTagger`): calling the model gives Viterbi tag ids, int32 ``(batch, time)``;
    ``model.emissions(tokens)`` and ``model.crf`` give scores and marginals.

    Args:
        tags: the tag set; output index i is ``tags[i]``.
        word_vocab_size: word embedding rows, including padding and out-of-vocabulary (at most: with a
            ``word_vocabulary`` the embedding is sized to it).
        char_vocab_size: character embedding rows, including padding and out-of-vocabulary (at most, likewise).
        word_dim, char_dim, char_filters: embedding and char-CNN widths.
        max_chars: characters kept per token for the char CNN.
        units: LSTM units per direction.
        dropout: dropout on token features, between BiLSTM layers and on the last BiLSTM's output.
        crf: a CRF output layer (trained on the sequence log-likelihood) instead of a per-token softmax.
        case_features: add an 8-d embedding of each token's casing (`zoo.layers.tagging.CASINGS`), which the
            lower-cased word embedding loses.
        word_dropout: while training, the share of known words replaced by the out-of-vocabulary id, so
            that unseen words are tagged from their characters.
        rare_word_dropout: each word gets its own dropout rate (at least ``word_dropout``), which the recipe
            raises for words rare in training (`zoo.layers.tagging.WordDropout.set_word_counts`).
        lstm_layers: stacked BiLSTM layers (the second reads the first's per-token outputs).
        char_kernel_size: characters each char-CNN filter sees at once.
        word_vocabulary, char_vocabulary: most frequent first, without padding/OOV entries. When None,
            the lookup layers (``words``, ``chars``) must be adapted before use.
        name: the model's name.

    The nested model ``network`` maps ``word_ids``, ``char_ids`` (and ``case_ids``) to probabilities: the part
    exported to TFLite.
    """
    import keras
    from keras import layers

    from zoo.layers.tagging import NormalizeTokens, SplitCharacters, TokenCasing

    # === Preprocessing: tokens -> word ids and character ids ===
    tokens = keras.Input(shape=(None,), dtype="string", name="tokens")
    word_lookup = layers.StringLookup(
        vocabulary=None if word_vocabulary is None else list(word_vocabulary)[: word_vocab_size - 2],
        mask_token="", num_oov_indices=1, name="words",
    )
    char_lookup = layers.StringLookup(
        vocabulary=None if char_vocabulary is None else list(char_vocabulary)[: char_vocab_size - 2],
        mask_token="", num_oov_indices=1, name="chars",
    )
    # Vocabularies given: the embeddings get exactly their rows (no unused ones).
    word_vocab_size = word_vocab_size if word_vocabulary is None else word_lookup.vocabulary_size()
    char_vocab_size = char_vocab_size if char_vocabulary is None else char_lookup.vocabulary_size()
    word_ids = word_lookup(NormalizeTokens(name="normalize")(tokens))
    char_ids = char_lookup(SplitCharacters(max_chars, name="split_characters")(tokens))

    network_inputs = [word_ids, char_ids] + ([TokenCasing(name="casing")(tokens)] if case_features else [])

    network = build_tagger_network(
        num_tags=len(tags), word_vocab_size=word_vocab_size, char_vocab_size=char_vocab_size, word_dim=word_dim,
        char_dim=char_dim, char_filters=char_filters, max_chars=max_chars, units=units, dropout=dropout,
        activation=None if crf else "softmax", case_features=case_features, word_dropout=word_dropout,
        rare_word_dropout=rare_word_dropout,
        lstm_layers=lstm_layers, char_kernel_size=char_kernel_size,
    )
    if not crf:
        return keras.Model(tokens, network(network_inputs), name=name)
    from zoo.layers.crf import CRFTagger

    return CRFTagger(keras.Model(tokens, network(network_inputs), name="emissions"), name=name)


def build_tagger_network(*, num_tags, word_vocab_size, char_vocab_size, word_dim, char_dim, char_filters, max_chars,
                         units, dropout, activation="softmax", case_features=False, word_dropout=0.0, lstm_layers=1,
                         char_kernel_size=3, rare_word_dropout=False):
    """Word ids ``(batch, time)``, char ids ``(batch, time, max_chars)`` and, with ``case_features``, casing ids
    ``(batch, time)`` to tag probabilities (or, with ``activation=None``, emission scores for a CRF)."""
    import keras
    from keras import layers

    from zoo.layers.tagging import CASINGS, CharCNN, WordDropout

    word_ids = keras.Input(shape=(None,), dtype="int32", name="word_ids")
    char_ids = keras.Input(shape=(None, max_chars), dtype="int32", name="char_ids")
    known_words = word_ids
    if word_dropout or rare_word_dropout:
        known_words = WordDropout(word_dropout, vocab_size=word_vocab_size if rare_word_dropout else None,
                                  name="word_dropout")(word_ids)
    words = layers.Embedding(word_vocab_size, word_dim, mask_zero=True, name="word_embedding")(known_words)
    chars = CharCNN(char_vocab_size, char_dim, char_filters, char_kernel_size, name="char_cnn")(char_ids)
    inputs, features = [word_ids, char_ids], [words, chars]
    if case_features:
        case_ids = keras.Input(shape=(None,), dtype="int32", name="case_ids")
        inputs.append(case_ids)
        # mask_zero: Concatenate ORs its inputs' masks, so every feature must mask padding itself.
        features.append(layers.Embedding(len(CASINGS), 8, mask_zero=True, name="case_embedding")(case_ids))
    x = layers.Concatenate(name="token_features")(features)
    x = layers.Dropout(dropout, name="feature_dropout")(x)
    if lstm_layers < 1:
        raise ValueError(f"lstm_layers must be at least 1, got {lstm_layers!r}.")
    for layer in range(lstm_layers):
        if layer:
            x = layers.Dropout(dropout, name=f"bilstm_{layer + 1}_input_dropout")(x)
        # The first layer keeps the name "bilstm" of single-layer checkpoints.
        x = layers.Bidirectional(layers.LSTM(units, return_sequences=True),
                                 name=f"bilstm_{layer + 1}" if layer else "bilstm")(x)
    x = layers.Dropout(dropout, name="output_dropout")(x)
    scores = layers.Dense(num_tags, activation=activation, name="tag_probabilities" if activation else "tag_scores")(x)
    return keras.Model(inputs, scores, name="network")
