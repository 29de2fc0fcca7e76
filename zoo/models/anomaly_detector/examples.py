"""Tiny models and inputs the registry-wide tests run every anomaly detector with."""

from __future__ import annotations

from zoo._family import Examples

WINDOW = 8


def examples() -> Examples:
    import numpy as np

    t = np.arange(WINDOW, dtype=np.float32)
    # Smooth windows in [0.4, 0.6]: an untrained predictor stays near their last value, inside [0, 1].
    batch = np.stack([0.5 + 0.1 * np.sin(t / 2.0 + phase) for phase in (0.0, 1.0, 2.0)]).astype(np.float32)
    return Examples(builder_args=dict(units=4, window=WINDOW), inputs=batch, rows=len(batch), last_alone=batch[-1:])
