"""The forecasts every forecaster is measured against, in NumPy: repeat the last value, the same hour
yesterday, and a linear model (least squares or ridge in closed form) on the same windows.

Example:
    >>> repeat_last(inputs, horizon=96)               # [n, 96, C]: each window's last row, repeated
    >>> same_hour_yesterday(inputs, horizon=24)       # [n, 24, C]: the window's last 24 rows
    >>> linear = LinearForecaster.fit(x_train, y_train, ridge=1.0)
    >>> linear.predict(x_test)
"""

from __future__ import annotations

import dataclasses

import numpy as np


def repeat_last(inputs: np.ndarray, horizon: int, columns=None) -> np.ndarray:
    """Each window's last row repeated ``horizon`` times (persistence): ``[n, L, C]`` -> ``[n, horizon, C]``."""
    last = inputs[:, -1:, :] if columns is None else inputs[:, -1:, list(columns)]
    return np.repeat(last, horizon, axis=1)


def same_hour_yesterday(inputs: np.ndarray, horizon: int = 24, period: int = 24, columns=None) -> np.ndarray:
    """Seasonal naive: the value ``period`` rows before each target row, ``[n, L, C]`` -> ``[n, horizon, C]``."""
    if horizon > period or inputs.shape[1] < period:
        raise ValueError(f"same_hour_yesterday needs horizon <= period <= L, got {horizon}, {period}, {inputs.shape[1]}.")
    out = inputs[:, inputs.shape[1] - period : inputs.shape[1] - period + horizon, :]
    return out if columns is None else out[..., list(columns)]


@dataclasses.dataclass(frozen=True)
class LinearForecaster:
    """A linear map from a flattened window (plus a bias) to a flattened forecast, fit in closed form.

    ``fit`` solves ``(XᵀX + ridge·I) W = XᵀY`` (the bias is not penalized). With each channel as its own
    sample (``[n * C, L]`` -> ``[n * C, H]``) this is DLinear's function class (one shared linear map over
    time; its trend/remainder split is itself linear), fit to its least-squares optimum.
    """

    weights: np.ndarray  # [features + 1, outputs]

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, *, ridge: float = 0.0) -> "LinearForecaster":
        gram, cross = cls.moments(x, y)
        return cls.solve(gram, cross, ridge=ridge)

    @staticmethod
    def moments(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(XᵀX, XᵀY)`` with the bias column, so several ridge values can be solved from one pass."""
        x = np.asarray(x, np.float64).reshape(len(x), -1)
        y = np.asarray(y, np.float64).reshape(len(y), -1)
        xb = np.hstack([x, np.ones((len(x), 1))])
        return xb.T @ xb, xb.T @ y

    @classmethod
    def solve(cls, gram: np.ndarray, cross: np.ndarray, *, ridge: float = 0.0) -> "LinearForecaster":
        penalty = np.full(len(gram), float(ridge))
        penalty[-1] = 0.0
        return cls(np.linalg.solve(gram + np.diag(penalty), cross))

    def predict(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float64).reshape(len(x), -1)
        return x @ self.weights[:-1] + self.weights[-1]


def channel_samples(windows: np.ndarray) -> np.ndarray:
    """``[n, T, C]`` -> ``[n * C, T]``: each channel of each window as its own series (channel independence)."""
    return np.ascontiguousarray(np.asarray(windows).transpose(0, 2, 1)).reshape(-1, windows.shape[1])


def from_channel_samples(samples: np.ndarray, channels: int) -> np.ndarray:
    """The inverse of `channel_samples`: ``[n * C, T]`` -> ``[n, T, C]``."""
    return samples.reshape(-1, channels, samples.shape[-1]).transpose(0, 2, 1)
