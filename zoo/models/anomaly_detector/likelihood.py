"""From prediction errors to anomaly scores, the way HTM does it (NumPy only; no zoo, Keras or TensorFlow).

This is the detector's scoring logic, written to be copied beside an exported predictor (SavedModel or TFLite).
Per series, with ``P`` the probation period (NAB: ``min(floor(0.15 n), 750)`` rows; a stream fixes it up front):

1. **Normalize** every value with the mean and standard deviation of the first ``P`` values (`normalization`).
2. **Predict** each value from the ``W`` before it (the predictor) and take the error ``e_t = z_t - ẑ_t``
   (undefined for the first ``W`` rows).
3. **Anomaly likelihood** (Ahmad et al. 2017, "Unsupervised real-time anomaly detection for streaming data",
   as in NAB's HTM detector): ``m_t`` is the mean of the last 10 ``|e|``; ``μ`` and ``σ`` are the mean and
   standard deviation of the ``m`` of the 8,640 rows before ``t`` (``σ`` at least 0.01); the tail probability
   ``Q_t = 1/2 erfc((m_t - μ) / (σ √2))`` is small when recent errors are unusually large for this series.
4. **Red-zone filter** (HTM): when ``Q`` stays at or below ``1e-5`` on consecutive rows, every row after the
   first of the run gets ``Q = 1e-3``, so one event gives one strong detection, not a run of false positives.
5. **Log scale** (HTM): ``score = log(Q + 1e-10) / log(1e-10)``, clipped to ``[0, 1]``.
6. **Spatial anomaly** (NAB's HTM detector): a value more than 5 % of the range seen so far above its maximum
   or below its minimum scores 1.
7. Rows of the probation period score 0. A row is flagged when its score reaches the threshold.

`score_errors` does steps 3-7 for a whole series at once; `StreamingScorer` does them one row at a time
(the same numbers). Both use only rows up to ``t`` for the score of row ``t``.

Example:
    >>> center, scale = normalization(values[:probation])
    >>> scorer = StreamingScorer(probation)
    >>> for value, error in zip(values, errors):  # error = NaN while fewer than W values came before
    ...     score = scorer.update(value, error)
"""

from __future__ import annotations

import collections
import math

import numpy as np

SHORT_WINDOW = 10  # errors averaged into m_t (HTM's averagingWindow)
HISTORY = 8640  # rows of m_t whose mean and spread are the reference (HTM's historicWindowSize; 30 days at 5 min)
MIN_STD = 0.01  # floor of that spread, in units of the series' probation standard deviation
RED = 1e-5  # 1 - HTM's redThreshold (0.99999)
YELLOW = 1e-3  # 1 - HTM's yellowThreshold (0.999)
LOG_FLOOR = 1e-10  # score = log(Q + 1e-10) / log(1e-10) (HTM's computeLogLikelihood)
SPATIAL_TOLERANCE = 0.05  # NAB's HTM detector: outside [min, max] of the past by 5 % of the range
MIN_SCALE = 1e-3  # the normalization scale is at least 1e-3 * max(|mean|, 1) (flat probation periods)

_SQRT2 = math.sqrt(2.0)
_LOG_FLOOR = math.log(LOG_FLOOR)
_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def normalization(probation_values) -> tuple[float, float]:
    """``(center, scale)``: the mean and standard deviation of the probation values (the scale floored).

    Example:
        >>> normalization([1.0, 2.0, 3.0])
        (2.0, 0.816496580927726)
    """
    values = np.asarray(probation_values, dtype=np.float64)
    if values.ndim != 1 or not len(values):
        raise ValueError("normalization needs a non-empty 1-D array of probation values.")
    center = float(values.mean())
    return center, float(max(values.std(), MIN_SCALE * max(abs(center), 1.0)))


def log_score(tail):
    """HTM's log scale of a tail probability: ``log(Q + 1e-10) / log(1e-10)`` in ``[0, 1]`` (1: most anomalous)."""
    return np.clip(np.log(np.asarray(tail, dtype=np.float64) + LOG_FLOOR) / _LOG_FLOOR, 0.0, 1.0)


def spatial_anomalies(values) -> np.ndarray:
    """True where a value leaves the range of the values before it by more than 5 % of that range."""
    values = np.asarray(values, dtype=np.float64)
    out = np.zeros(len(values), dtype=bool)
    if len(values) < 2:
        return out
    high = np.maximum.accumulate(values)[:-1]
    low = np.minimum.accumulate(values)[:-1]
    tolerance = (high - low) * SPATIAL_TOLERANCE
    current = values[1:]
    out[1:] = (high != low) & ((current > high + tolerance) | (current < low - tolerance))
    return out


def tail_probabilities(errors) -> np.ndarray:
    """``Q_t`` per row (steps 3 and 4, before the log scale); 1 where there is no estimate yet."""
    errors = np.asarray(errors, dtype=np.float64)
    n = len(errors)
    size = np.abs(errors)
    valid = ~np.isnan(size)
    size = np.where(valid, size, 0.0)
    sums = np.concatenate([[0.0], np.cumsum(size)])
    counts = np.concatenate([[0], np.cumsum(valid)])
    rows = np.arange(n)
    start = np.maximum(rows + 1 - SHORT_WINDOW, 0)
    # m_t: the last SHORT_WINDOW errors, all defined.
    full = (rows + 1 >= SHORT_WINDOW) & (counts[rows + 1] - counts[start] == SHORT_WINDOW)
    short = np.where(full, (sums[rows + 1] - sums[start]) / SHORT_WINDOW, 0.0)
    s1 = np.concatenate([[0.0], np.cumsum(short)])
    s2 = np.concatenate([[0.0], np.cumsum(short * short)])
    sn = np.concatenate([[0], np.cumsum(full)])
    first = np.maximum(rows - HISTORY, 0)  # the reference: m of rows [t - HISTORY, t - 1]
    count = sn[rows] - sn[first]
    scored = full & (count >= 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (s1[rows] - s1[first]) / count
        variance = np.maximum((s2[rows] - s2[first]) / count - mean * mean, 0.0)
    std = np.maximum(np.sqrt(variance), MIN_STD)
    tail = np.ones(n)
    tail[scored] = 0.5 * _erfc((short[scored] - mean[scored]) / (std[scored] * _SQRT2))
    # The red-zone filter: a run of red rows keeps only its first.
    red = tail <= RED
    after_red = np.concatenate([[False], red[:-1]])
    return np.where(red & after_red, YELLOW, tail)


def score_errors(errors, values, probation: int) -> np.ndarray:
    """Anomaly scores in ``[0, 1]`` for a whole series (steps 3-7): the batch twin of `StreamingScorer`.

    Args:
        errors: per row, the normalized prediction error (NaN where there is no prediction).
        values: the series itself (for the spatial rule).
        probation: rows at the start that score 0.
    """
    errors = np.asarray(errors, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if errors.shape != values.shape or errors.ndim != 1:
        raise ValueError(f"errors and values must be 1-D and of one length, got {errors.shape} and {values.shape}.")
    scores = log_score(tail_probabilities(errors))
    scores[spatial_anomalies(values)] = 1.0
    scores[: max(int(probation), 0)] = 0.0
    return scores


class StreamingScorer:
    """Steps 3-7 one row at a time: ``update(value, error)`` gives the row's score.

    Memory is bounded (the last 10 errors and the last 8,640 averages); each update is O(1).
    """

    def __init__(self, probation: int):
        self.probation = int(probation)
        self.rows = 0
        self._short = collections.deque(maxlen=SHORT_WINDOW)
        self._history = collections.deque()
        self._sum = 0.0
        self._squares = 0.0
        self._previous_red = False
        self._low = self._high = None

    def update(self, value: float, error: float) -> float:
        """The score of the next row, given its value and its prediction error (NaN when none)."""
        row = self.rows
        self.rows += 1
        spatial = False
        if self._low is not None and self._high != self._low:
            tolerance = (self._high - self._low) * SPATIAL_TOLERANCE
            spatial = value > self._high + tolerance or value < self._low - tolerance
        self._low = value if self._low is None else min(self._low, value)
        self._high = value if self._high is None else max(self._high, value)

        tail = 1.0
        if error == error:  # not NaN
            self._short.append(abs(error))
            if len(self._short) == SHORT_WINDOW:
                short = sum(self._short) / SHORT_WINDOW
                count = len(self._history)
                if count >= 2:
                    mean = self._sum / count
                    std = max(math.sqrt(max(self._squares / count - mean * mean, 0.0)), MIN_STD)
                    tail = 0.5 * math.erfc((short - mean) / (std * _SQRT2))
                self._history.append(short)
                self._sum += short
                self._squares += short * short
                if len(self._history) > HISTORY:
                    old = self._history.popleft()
                    self._sum -= old
                    self._squares -= old * old
        red = tail <= RED
        if red and self._previous_red:
            tail = YELLOW
        self._previous_red = red
        if row < self.probation:
            return 0.0
        if spatial:
            return 1.0
        return min(max(math.log(tail + LOG_FLOOR) / _LOG_FLOOR, 0.0), 1.0)
