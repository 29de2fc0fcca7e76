"""Tiny models and inputs the registry-wide tests run every chorale composer with."""

from __future__ import annotations

from zoo._family import Examples

# Note classes (0 rest, c = MIDI pitch c + 35), unrolled voice by voice; the last row is the shortest.
NOTES = [[39, 35, 30, 23, 39, 35, 30, 23, 40, 35, 32, 25],
         [36, 32, 29, 17, 0, 32, 29, 17, 36, 32, 27, 20],
         [41, 36, 32, 25, 41, 36, 32, 25, 0, 0, 0, 0]]


def examples() -> Examples:
    import tensorflow as tf

    last = NOTES[-1][:8]
    return Examples(builder_args=dict(units=8, embedding_dim=4, conv_filters=4, conv_kernel=5, hidden=8), inputs=tf.constant(NOTES, tf.int32), rows=len(NOTES),
                    last_alone=tf.constant([last], tf.int32))
