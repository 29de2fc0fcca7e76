"""Tiny models and inputs the registry-wide tests run every word language model with."""

from __future__ import annotations

from zoo._family import Examples

WORDS = ["the", "film", "was", "great", "a", "movie", "!", "i", "loved", "it"]
TEXTS = ["The film was great!", "I loved it, a great movie.", "Dull."]  # the last row is the shortest


def examples() -> Examples:
    import tensorflow as tf

    return Examples(builder_args=dict(vocabulary=WORDS, vocab_size=len(WORDS) + 3, embedding_dim=8, units=16),
                    inputs=tf.constant(TEXTS), rows=len(TEXTS), last_alone=tf.constant(TEXTS[-1:]), outputs="logits")
