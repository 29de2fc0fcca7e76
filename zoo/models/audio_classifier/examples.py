"""Tiny models and inputs the registry-wide tests run every audio classifier with."""

from __future__ import annotations

from zoo._family import Examples


def examples() -> Examples:
    import numpy as np

    rng = np.random.default_rng(0)
    t = np.arange(3000) / 8000.0
    rows = np.stack([np.sin(2 * np.pi * 440 * t), rng.normal(0, 0.1, t.size), 0.3 * np.sin(2 * np.pi * 250 * t)])
    rows[2, 1500:] = 0.0  # the last (shortest) example: 1,500 samples, zero-padded to the batch's length
    return Examples(builder_args=dict(units=8, layers=1, num_mel_bins=16, max_samples=4096), inputs=rows.astype(np.float32),
                    rows=3, last_alone=rows[2:, :1500].astype(np.float32))
