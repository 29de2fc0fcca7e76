"""Tiny models and inputs the registry-wide tests run every captioner with."""

from __future__ import annotations

from zoo._family import Examples
from zoo._images import to_pixels
from zoo.models.captioner.model import IMAGE_SIZE, START

def as_model_inputs(examples):
    """``[(image, [word, ...]), ...]`` to the model's input dict: pixels resized to a common 160x160, words
    after ``<start>`` padded with ``""``."""
    import numpy as np
    import tensorflow as tf

    pixels = to_pixels([image for image, _ in examples], IMAGE_SIZE)
    width = max(len(words) for _, words in examples) + 1
    tokens = np.full((len(examples), width), "", dtype=object)
    for i, (_, words) in enumerate(examples):
        tokens[i, : len(words) + 1] = [START, *words]
    return {"image": tf.constant(pixels), "tokens": tf.constant(tokens)}


def examples() -> Examples:
    """Any image size, grayscale included; a random encoder (no download)."""
    import numpy as np

    pairs = [(np.full((48, 64, 3), 200, np.uint8), ["a", "dog", "runs", "on", "grass"]),
             (np.linspace(0, 255, 40 * 30).reshape(40, 30), ["a", "man"])]
    return Examples(
        builder_args=dict(vocabulary=["a", "dog", "runs", "on", "grass"], encoder_weights=None, vocab_size=12,
                          embedding_dim=8, units=8, feature_dim=8, attention_dim=8),
        inputs=as_model_inputs(pairs),
        rows=len(pairs),
        last_alone=as_model_inputs(pairs[-1:]),
    )
