"""Tiny models and inputs the registry-wide tests run every translator with."""

from __future__ import annotations

from zoo._family import Examples
from zoo.models.translator.model import PAD, START
from zoo.models.translator.text import tokenize_source, tokenize_target

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


PAIRS = [("¿Dónde está la biblioteca?", "Where is the library?"), ("Me gusta leer mucho.", "I like to read a lot."),
         ("Hace frío.", "It's cold.")]


def examples() -> Examples:
    return Examples(
        builder_args=dict(source_vocabulary=["¿", "dónde", "está", "la", "?", "hace", "frío", "."],
                          target_vocabulary=["Where", "is", "the", "?", "It", "'s", "cold", "."],
                          embedding_dim=8, encoder_units=8, decoder_units=8, attention_units=8, output_units=8),
        inputs=teacher_forcing_batch(PAIRS),
        rows=len(PAIRS),
        last_alone=teacher_forcing_batch(PAIRS[-1:]),
    )
