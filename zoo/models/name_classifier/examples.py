"""Tiny models and inputs the registry-wide tests run every name classifier with."""

from __future__ import annotations

from zoo._family import Examples

NAMES = ["Nakamura", "O'Brien", "Schmidt", "Li"]
CHARACTERS = list("abcdefghijklmnopqrstuvwxyz'")


def examples() -> Examples:
    import tensorflow as tf

    return Examples(builder_args=dict(characters=CHARACTERS, units=8, embedding_dim=4), inputs=tf.constant(NAMES),
                    rows=len(NAMES), last_alone=tf.constant(NAMES[-1:]))
