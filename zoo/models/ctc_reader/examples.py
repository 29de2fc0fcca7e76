"""Tiny models and inputs the registry-wide tests run every CTC reader with."""

from __future__ import annotations

from zoo._family import Examples


def examples() -> Examples:
    """Two fixed grey 'text' images of the model's size (every image has the same number of steps)."""
    import numpy as np
    import tensorflow as tf

    images = np.full((2, 16, 32), 230.0, np.float32)
    images[0, 4:12, 4:6] = 20.0
    images[0, 4:12, 14:20] = 40.0
    images[1, 6:10, 8:28] = 10.0
    return Examples(builder_args=dict(alphabet="abc", height=16, width=32, filters=(4, 4), dense_units=8, units=(4,)),
                    inputs=tf.constant(images), rows=2, last_alone=tf.constant(images[-1:]))
