"""The chorale composer's Keras model: notes unrolled voice by voice in, the next note's probabilities out.

A chorale is a sequence of four-voice chords (soprano, alto, tenor, bass; MIDI pitch or 0 for a rest).
Unrolled voice by voice it is one note sequence, and each note is a class: 0 is a rest, pitch p
(36..81) is ``p - 35`` (`zoo.data.jsb_chorales.to_classes`). The model reads note classes (a whole
number of chords: a length that is a multiple of 4) and at every position gives the probabilities of
the next note. It is causal: each output sees only the notes up to its position, so padding at the end
never changes an earlier output.

Two paths meet before the output layer:

* **the sequence model**, stacked LSTMs over *chords*: the LSTM step of chord t reads the embeddings of
  the four notes of chord t - 1 (chord 0 reads zeros), so its output summarizes every chord before t
  and is given to the four positions of chord t. One LSTM step per chord, not per note, makes training
  four times shorter in sequential steps;
* **a causal Conv1D over notes** (``conv_kernel`` notes: with 8, the current chord so far and the one
  before), so a note also sees the voices of its own chord written before it.

Example:
    >>> import zoo
    >>> model = zoo.build("jsb-chorales-lstm", units=8, embedding_dim=4, conv_filters=4)
    >>> model(np.zeros([1, 132], "int32")).shape
    TensorShape([1, 132, 47])
"""

from __future__ import annotations

from zoo.decoding import SpecialTokens

NUM_CLASSES = 47  # 0 rest, 1..46 for MIDI 36..81 (zoo.data.jsb_chorales)
VOICES = 4  # soprano, alto, tenor, bass
# The searches' conventions. Every one of the 47 classes is a note the model may write; start, end and unknown
# are ids outside them, which the sampler never draws (and pad, written only after a bound, is a rest).
TOKENS = SpecialTokens(pad=0, unk=NUM_CLASSES, start=NUM_CLASSES + 1, end=NUM_CLASSES + 2)


def build_chorale_composer(
    *,
    units: int = 384,
    layers: int = 2,
    embedding_dim: int = 32,
    conv_filters: int = 128,
    conv_kernel: int = 8,
    hidden: int = 256,
    dropout: float = 0.4,
    num_classes: int = NUM_CLASSES,
    name: str = "chorale_composer",
):
    """Builds an untrained next-note model: note classes ``(batch, 4 * chords)`` in, ``(batch, 4 * chords, 47)`` out.

    Args:
        units: units of each LSTM layer (one step per chord).
        layers: stacked LSTM layers.
        embedding_dim: width of the note embeddings.
        conv_filters: filters of the causal Conv1D (ReLU) over the note embeddings.
        conv_kernel: notes that convolution sees at each position (the note and the ``conv_kernel - 1`` before it).
        hidden: width of the ReLU layer that joins the two paths.
        dropout: dropout on the chord inputs, between the LSTM layers and before each dense layer.
        num_classes: note classes (47: rest and MIDI 36..81).
        name: the model's name.

    Layers: ``embedding``, ``conv``; ``chords`` (4 notes' embeddings side by side), ``previous_chord`` and
    ``drop_last_chord`` (the shift by one chord), ``lstm_1`` .. ``lstm_<layers>`` (with ``dropout_<i>``
    before each), ``per_note`` (each chord's LSTM output repeated for its 4 notes), ``join``, ``hidden``,
    ``output_dropout``, ``probabilities``. The composer's decoder step (`decoding.ComposerStep`) runs the
    same layers one note at a time.
    """
    import keras
    from keras import layers as kl

    for option, value in (("layers", layers), ("conv_kernel", conv_kernel)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{option} must be an integer >= 1, got {value!r}.")
    if conv_kernel < VOICES:
        raise ValueError(f"conv_kernel must be at least {VOICES} (the step model reads a chord from its window), "
                         f"got {conv_kernel}.")
    notes = keras.Input(shape=(None,), dtype="int32", name="notes")
    embedded = kl.Embedding(num_classes, embedding_dim, name="embedding")(notes)

    # Note path: a causal convolution over the notes so far.
    local = kl.Conv1D(conv_filters, conv_kernel, padding="causal", activation="relu", name="conv")(embedded)

    # Chord path: LSTMs over chords; step t reads chord t - 1.
    chords = kl.Reshape((-1, VOICES * embedding_dim), name="chords")(embedded)
    x = kl.ZeroPadding1D((1, 0), name="previous_chord")(chords)
    x = kl.Cropping1D((0, 1), name="drop_last_chord")(x)
    for i in range(1, layers + 1):
        x = kl.Dropout(dropout, name=f"dropout_{i}")(x)
        x = kl.LSTM(units, return_sequences=True, name=f"lstm_{i}")(x)
    context = kl.UpSampling1D(VOICES, name="per_note")(x)

    x = kl.Concatenate(name="join")([context, local])
    x = kl.Dropout(dropout, name="hidden_dropout")(x)
    x = kl.Dense(hidden, activation="relu", name="hidden")(x)
    x = kl.Dropout(dropout, name="output_dropout")(x)
    probabilities = kl.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(notes, probabilities, name=name)
