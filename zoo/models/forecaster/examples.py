"""Tiny models and inputs the registry-wide tests run every forecaster with.

Every forecaster (ETTh1 or PM2.5, LSTM or SegRNN) is built at the same tiny size: 48 rows of 3 columns in,
24 rows of all 3 out. The inputs are smooth series in [0.3, 0.7] and the scaler is set to mean 0.5, scale
0.1, so an untrained model's forecasts stay near the inputs' range.
"""

from __future__ import annotations

from zoo._family import Examples

ROWS, LENGTH, CHANNELS, HORIZON = 3, 48, 3, 24


def inputs():
    import numpy as np

    t = np.arange(LENGTH, dtype=np.float32)[None, :, None]
    phase = np.arange(ROWS * CHANNELS, dtype=np.float32).reshape(ROWS, 1, CHANNELS)
    return (0.5 + 0.2 * np.sin(2 * np.pi * t / 24 + phase)).astype(np.float32)


def examples() -> Examples:
    batch = inputs()
    return Examples(
        builder_args=dict(input_length=LENGTH, horizon=HORIZON, channels=CHANNELS, targets=None, units=8,
                          segment_length=12, highway=0, mean=[0.5] * CHANNELS, scale=[0.1] * CHANNELS),
        inputs=batch, rows=ROWS, last_alone=batch[-1:],
    )
