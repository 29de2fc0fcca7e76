"""Tiny models and inputs the registry-wide tests run every text classifier with."""

from __future__ import annotations

from zoo._family import Examples

TEXTS = ["A great film with a great cast!", "bad. boring <br /><br /> and too long?", "x"]
VOCABULARY = ["a", "great", "film", "with", "cast", "!", "bad", "boring", "and", "too", "long", "?"]


def examples() -> Examples:
    import tensorflow as tf

    return Examples(builder_args=dict(vocabulary=VOCABULARY), inputs=tf.constant(TEXTS), rows=len(TEXTS),
                    last_alone=tf.constant(TEXTS[-1:]))
