"""The name classifier's Keras model: a surname's characters in, a probability per language out.

The characters are handled inside the model (lower-cased, split into Unicode characters, looked up in
a character vocabulary by a built-in ``TextVectorization`` layer), so a checkpoint takes raw strings.

Example:
    >>> import zoo
    >>> model = zoo.build("names-char-rnn", characters=list("abcdefghijklmnopqrstuvwxyz"))
    >>> model(tf.constant(["Nakamura"])).shape
    TensorShape([1, 18])
"""

from __future__ import annotations

CELLS = ("simple_rnn", "lstm", "gru")


def build_name_classifier(
    *,
    num_classes: int = 18,
    cell: str = "gru",
    units: int = 128,
    bidirectional: bool = True,
    embedding_dim: int = 64,
    dropout: float = 0.3,
    max_chars: int = 64,
    characters: list[str] | None = None,
    name: str = "name_classifier",
):
    """Builds an untrained end-to-end name classifier (string in, ``num_classes`` probabilities out).

    Args:
        num_classes: how many languages.
        cell: ``"simple_rnn"``, ``"lstm"`` or ``"gru"``.
        units: hidden units of the cell (per direction when bidirectional).
        bidirectional: read the name in both directions.
        embedding_dim: width of the character embeddings.
        dropout: dropout on the character embeddings and before the output layer.
        max_chars: the most characters the vocabulary may hold (with padding and unknown); a given
            ``characters`` list sizes the embedding to itself.
        characters: the character vocabulary (lower case), most frequent first. When None, the
            ``characters`` layer must be adapted before use.
        name: the model's name.

    The model holds named parts: ``characters`` (the preprocessing: name -> character ids, 0 padding,
    1 unknown) and ``classifier`` (a nested model from character ids to probabilities, the part
    exported to TFLite).
    """
    import keras
    from keras import layers

    if cell not in CELLS:
        raise ValueError(f"cell must be one of {CELLS}, got {cell!r}.")

    # === Preprocessing: raw name -> character ids ===
    text = keras.Input(shape=(), dtype="string", name="name")
    to_ids = layers.TextVectorization(
        max_tokens=max_chars,
        standardize="lower",
        split="character",
        output_mode="int",
        vocabulary=None if characters is None else list(characters)[: max_chars - 2],
        name="characters",
    )
    ids = to_ids(text)
    vocab_size = to_ids.vocabulary_size() if characters is not None else max_chars

    # === Classifier: character ids -> probabilities ===
    classifier = build_char_classifier(cell=cell, units=units, bidirectional=bidirectional, vocab_size=vocab_size,
                                       embedding_dim=embedding_dim, dropout=dropout, num_classes=num_classes)
    return keras.Model(text, classifier(ids), name=name)


def build_char_classifier(*, cell, units, bidirectional, vocab_size, embedding_dim, dropout, num_classes):
    """The character-id part: embedding (0 is padding, masked), the RNN's last state, softmax."""
    import keras
    from keras import layers

    rnn_class = {"simple_rnn": layers.SimpleRNN, "lstm": layers.LSTM, "gru": layers.GRU}[cell]
    ids = keras.Input(shape=(None,), dtype="int32", name="char_ids")
    x = layers.Embedding(vocab_size, embedding_dim, mask_zero=True, name="embedding")(ids)
    x = layers.Dropout(dropout, name="embedding_dropout")(x)
    rnn = rnn_class(units, name=cell)
    if bidirectional:
        rnn = layers.Bidirectional(rnn, name=f"bidirectional_{cell}")
    x = rnn(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    probabilities = layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(ids, probabilities, name="classifier")
