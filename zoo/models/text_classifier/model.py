"""The text classifiers' Keras model: preprocessing (standardization, vocabulary lookup, head+tail
cropping) inside the model, so a checkpoint takes raw strings; a recurrent cell whose per-step outputs
are max- and mean-pooled over time; a sigmoid.

Example:
    >>> import zoo
    >>> model = zoo.build("imdb-gru", vocabulary=["the", "film", "great"])
    >>> model(tf.constant(["A great film"])).shape
    TensorShape([1, 1])
"""

from __future__ import annotations

CELLS = ("simple_rnn", "lstm", "gru")


def build_text_classifier(
    *,
    cell: str,
    units: int,
    bidirectional: bool = False,
    vocab_size: int = 20000,
    embedding_dim: int = 100,
    sequence_length: int = 400,
    head_length: int = 100,
    dropout: float = 0.3,
    pooling: str = "max_mean",
    trim: bool = False,
    start_id: int | None = None,
    vocabulary: list[str] | None = None,
    name: str = "text_classifier",
):
    """Builds an untrained end-to-end classifier (string input, positive-class probability output).

    Args:
        cell: ``"simple_rnn"``, ``"lstm"`` or ``"gru"``.
        units: hidden units of the cell (per direction when bidirectional).
        bidirectional: read the text in both directions.
        vocab_size: vocabulary size including the padding and out-of-vocabulary entries: the most rows of the
            embedding. With a ``vocabulary``, the model is sized to it (up to this).
        embedding_dim: width of the word embeddings.
        sequence_length: tokens kept per text (head + tail of longer texts).
        head_length: how many of those come from the start of the text.
        dropout: dropout on embeddings (spatial) and before the output layer.
        pooling: ``"max"``, ``"mean"`` or ``"max_mean"`` over the per-step outputs.
        trim: read a batch only up to its longest text (up to ``sequence_length``) instead of always
            ``sequence_length`` steps: the same results, faster on short texts.
        start_id: a token id put in front of every text (it counts in ``sequence_length``): the language
            model's end-of-review id for a classifier fine-tuned from it, which read every review after one.
        vocabulary: the tokens, most frequent first, without the padding and OOV entries. When
            None, the vectorizer layer (``model.get_layer("vectorize")``) must be adapted before use.
        name: the model's name.

    The model holds named parts: ``standardize``, ``vectorize``, ``crop`` (the preprocessing) and
    ``classifier`` (a nested model from token ids to probability, the part exported to TFLite).
    """
    import keras
    from keras import layers

    from zoo.layers.text import HeadTailCrop, StandardizeText

    if cell not in CELLS:
        raise ValueError(f"cell must be one of {CELLS}, got {cell!r}.")

    # === Preprocessing: raw text -> token ids ===
    text = keras.Input(shape=(), dtype="string", name="text")
    standardized = StandardizeText(name="standardize")(text)
    vectorizer = layers.TextVectorization(
        max_tokens=vocab_size,
        standardize=None,
        split="whitespace",
        output_mode="int",
        vocabulary=None if vocabulary is None else list(vocabulary)[: vocab_size - 2],
        name="vectorize",
    )
    ids = HeadTailCrop(sequence_length, head_length, trim=trim, start_id=start_id, name="crop")(vectorizer(standardized))
    if vocabulary is not None:
        vocab_size = vectorizer.vocabulary_size()  # a smaller vocabulary sizes the embedding (no unused rows)

    # === Classifier: token ids -> probability ===
    classifier = build_sequence_classifier(
        cell=cell,
        units=units,
        bidirectional=bidirectional,
        vocab_size=vocab_size,
        embedding_dim=embedding_dim,
        dropout=dropout,
        pooling=pooling,
    )
    return keras.Model(text, classifier(ids), name=name)


def build_sequence_classifier(
    *, cell, units, bidirectional, vocab_size, embedding_dim, dropout, pooling
):
    """The token-id part of the classifier: embedding, RNN over every step, pooling, sigmoid."""
    import keras
    from keras import layers

    from zoo.layers.text import MaskedGlobalPooling

    rnn_class = {"simple_rnn": layers.SimpleRNN, "lstm": layers.LSTM, "gru": layers.GRU}[cell]
    ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    x = layers.Embedding(vocab_size, embedding_dim, mask_zero=True, name="embedding")(ids)
    x = layers.SpatialDropout1D(dropout, name="embedding_dropout")(x)
    rnn = rnn_class(units, return_sequences=True, name=cell)
    if bidirectional:
        rnn = layers.Bidirectional(rnn, name=f"bidirectional_{cell}")
    x = rnn(x)
    x = MaskedGlobalPooling(pooling, name="pool")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    probability = layers.Dense(1, activation="sigmoid", name="probability")(x)
    return keras.Model(ids, probability, name="classifier")
