"""Tiny models and inputs the registry-wide tests run every character language model with."""

from __future__ import annotations

from zoo._family import Examples

TEXTS = ["ROMEO:\nWhat light", "JULIET:\nAy me!", "KING:"]  # the last row is the shortest


def examples() -> Examples:
    import tensorflow as tf

    return Examples(builder_args=dict(embedding_dim=8, units=16, layers=2, cache_size=8), inputs=tf.constant(TEXTS),
                    rows=len(TEXTS), last_alone=tf.constant(TEXTS[-1:]), outputs="logits")
