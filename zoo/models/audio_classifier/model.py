"""The spoken-digit classifier's Keras model: a waveform in, a probability per digit out.

The front end is a layer of the model (`zoo.layers.audio.LogMelSpectrogram`: fit to a fixed length,
peak-normalise, log-mel spectrogram by constant matrix products), so a checkpoint, its SavedModel and its
TFLite file all take raw 8 kHz audio.

Example:
    >>> import zoo
    >>> model = zoo.build("fsdd-gru", units=8)
    >>> model(np.zeros((1, 6000), "float32")).shape
    TensorShape([1, 10])
"""

from __future__ import annotations


def build_audio_classifier(
    *,
    num_classes: int = 10,
    sample_rate: int = 8000,
    max_samples: int = 8192,
    frame_length: int = 256,
    frame_step: int = 128,
    num_mel_bins: int = 40,
    units: int = 128,
    layers: int = 2,
    bidirectional: bool = True,
    dropout: float = 0.2,
    name: str = "audio_classifier",
):
    """Builds an untrained waveform classifier (float32 ``(batch, samples)`` in, ``num_classes`` probabilities out).

    Args:
        num_classes: how many classes (digits).
        sample_rate: the sample rate the model expects (the pipeline resamples other rates to it).
        max_samples: the waveform is cropped or zero-padded to this many samples (8,192 = 1.024 s at 8 kHz).
        frame_length, frame_step: STFT frame and hop, in samples (32 ms and 16 ms at 8 kHz).
        num_mel_bins: mel bands of the spectrogram.
        units: GRU units (per direction when bidirectional).
        layers: stacked GRU layers; the last one's final states feed the softmax.
        bidirectional: read the frames in both directions.
        dropout: dropout between the GRU layers and before the output layer.
        name: the model's name.

    The model holds named parts: ``log_mel`` (the front end) and ``classifier`` (a nested model from the
    log-mel frames to probabilities).
    """
    import keras
    from keras import layers as kl

    from zoo.layers.audio import LogMelSpectrogram

    if layers < 1:
        raise ValueError(f"layers must be at least 1, got {layers}.")
    waveform = keras.Input(shape=(None,), dtype="float32", name="waveform")
    front_end = LogMelSpectrogram(sample_rate=sample_rate, max_samples=max_samples, frame_length=frame_length,
                                  frame_step=frame_step, num_mel_bins=num_mel_bins, name="log_mel")
    features = front_end(waveform)

    frames = keras.Input(shape=(front_end.num_frames, num_mel_bins), name="log_mel_frames")
    x = kl.BatchNormalization(name="feature_norm")(frames)
    for i in range(layers):
        last = i == layers - 1
        rnn = kl.GRU(units, return_sequences=not last, name=f"gru_{i + 1}")
        if bidirectional:
            rnn = kl.Bidirectional(rnn, name=f"bidirectional_gru_{i + 1}")
        x = rnn(x)
        x = kl.Dropout(dropout, name=f"dropout_{i + 1}")(x)
    probabilities = kl.Dense(num_classes, activation="softmax", name="probabilities")(x)
    classifier = keras.Model(frames, probabilities, name="classifier")
    return keras.Model(waveform, classifier(features), name=name)
