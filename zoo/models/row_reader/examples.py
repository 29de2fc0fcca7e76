"""Tiny models and inputs the registry-wide tests run every row reader with."""

from __future__ import annotations

from zoo._family import Examples


def examples() -> Examples:
    """Three fixed 28x28 'digits' (a bar, a ring, a blank frame); every image has 28 rows, so none is padded."""
    import numpy as np
    import tensorflow as tf

    images = np.zeros((3, 28, 28), np.float32)
    images[0, 4:24, 12:16] = 255.0
    ys, xs = np.mgrid[:28, :28]
    images[1][np.abs(np.hypot(ys - 14, xs - 14) - 7) < 2] = 200.0
    return Examples(builder_args=dict(units=8), inputs=tf.constant(images), rows=3, last_alone=tf.constant(images[-1:]))
