"""The anomaly detector's pipeline: a series in, per-row anomaly scores and flags out; a stream; a plot.

Example:
    >>> det = zoo.pipeline("nab-lstm")
    >>> result = det(values)                 # an array, a pandas Series/DataFrame or a CSV path
    >>> result["scores"], result["flags"]    # per row: score in [0, 1], score >= the card's threshold
    >>> stream = det.stream()                # one value at a time (monitoring)
    >>> point = stream.update(42.0)          # StreamPoint(score=0.0, flag=False, prediction=nan)
    >>> det.plot(values, path="anomalies.png")
"""

from __future__ import annotations

import collections
import json
import math
import os
import typing

import numpy as np

from zoo._pipeline import Pipeline
from zoo.models.anomaly_detector import likelihood
from zoo.models.anomaly_detector.inputs import as_series, is_series_batch

PROFILES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")  # NAB's application profiles
STREAM_PROBATION = 750  # a stream's default probation: NAB's rule for series of 5,000 rows or more


class StreamPoint(typing.NamedTuple):
    """One row's result in a stream: its anomaly score, whether it is flagged, and the predicted value."""

    score: float
    flag: bool
    prediction: float


def _nab_probation(rows: int) -> int:
    from zoo.metrics.nab import probation_length

    return probation_length(rows)


class AnomalyDetectionPipeline(Pipeline):
    """Univariate series in, per-row anomaly scores in ``[0, 1]`` and flags out.

    Each series is scored on its own (see `zoo.models.anomaly_detector.scoring`): its first ``probation`` rows
    (NAB's rule by default: ``min(floor(0.15 n), 750)``) give the normalization and fine-tune a copy of the
    predictor, and score 0; each later row is scored from the rows up to it only.

    Example:
        >>> det = zoo.pipeline("nab-lstm")
        >>> result = det("series.csv")
        >>> result["flagged"]                # rows whose score reaches the threshold
        array([2891, 3120])
        >>> det(values, profile="reward_low_FP_rate")["threshold"]   # the card's threshold for that NAB profile
    """

    def __init__(self, spec, model, *, batch_size: int = 64):
        super().__init__(spec, model, batch_size=batch_size)
        from zoo.models.anomaly_detector.model import window_length
        from zoo.models.anomaly_detector.scoring import min_probation

        self.window = window_length(model)
        self.min_probation = min_probation(self.window)
        card = spec.card() or {}
        self.thresholds = dict((card.get("metrics") or {}).get("thresholds") or {})

    def __repr__(self):
        return f"{type(self).__name__}({self.spec.name!r}, window {self.window})"

    # --- Options ---

    def threshold(self, profile: str = "standard") -> float:
        """The card's threshold for a NAB profile (found by NAB's sweep over the whole corpus)."""
        if profile not in PROFILES:
            raise ValueError(f"Unknown profile {profile!r}; expected one of {PROFILES}.")
        if profile not in self.thresholds:
            raise ValueError(f"The card of {self.spec.name!r} gives no threshold for {profile!r}; pass threshold=...")
        return float(self.thresholds[profile])

    def _threshold(self, profile: str, threshold: float | None) -> float:
        if threshold is None:
            return self.threshold(profile)
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be a number in [0, 1], got {threshold!r}.")
        return float(threshold)

    def _probation(self, probation, rows: int | None) -> int:
        if probation is None:
            return _nab_probation(rows) if rows is not None else STREAM_PROBATION
        if isinstance(probation, bool) or not isinstance(probation, (int, np.integer)):
            raise TypeError(f"probation must be a number of rows, got {type(probation).__name__}.")
        if probation < self.min_probation:
            raise ValueError(f"probation must be at least {self.min_probation} rows (the window of {self.window} "
                             f"values and {self.min_probation - self.window} windows to adapt on), got {probation}.")
        return int(probation)

    def _min_rows(self, probation) -> tuple[int, str]:
        if probation is not None:
            return int(probation) + 1, f" (the {int(probation)} probation rows and one to score)"
        rows = math.ceil(self.min_probation / 0.15)
        while _nab_probation(rows) < self.min_probation:
            rows += 1
        return rows, (f": it calibrates on the first 15% of the rows (NAB's probation period), which must hold "
                      f"{self.min_probation}; pass probation=N to choose that period for a shorter series")

    # --- Whole series ---

    def __call__(self, series, *, probation: int | None = None, profile: str = "standard",
                 threshold: float | None = None, adapt: bool = True):
        """Scores a series, or each of a list of series (paths, arrays, pandas objects).

        Args:
            series: an array of numbers, a pandas Series/DataFrame, a CSV path, or a list of those.
            probation: rows that calibrate the detector and score 0; NAB's rule by default.
            profile: the NAB profile whose threshold flags rows (``"standard"``, ``"reward_low_FP_rate"``,
                ``"reward_low_FN_rate"``); ``threshold`` overrides it.
            adapt: fine-tune a copy of the predictor on the probation rows (the card's setting).

        Returns:
            A dict: ``scores`` (float64 per row, in ``[0, 1]``), ``flags`` (bool per row), ``flagged`` (their
            row numbers), ``predictions`` (the predicted values, NaN for the first rows), ``timestamps``
            (datetime64 or None), ``threshold``, ``profile``, ``probation``; for pandas input also ``frame``,
            the same as a DataFrame on the input's index. A list of dicts for a list of series.
        """
        if is_series_batch(series):
            return [self(item, probation=probation, profile=profile, threshold=threshold, adapt=adapt)
                    for item in series]
        from zoo.models.anomaly_detector.scoring import score_series

        cut = self._threshold(profile, threshold)
        if probation is not None:
            probation = self._probation(probation, None)
        min_rows, why = self._min_rows(probation)
        checked = as_series(series, min_rows=min_rows, why=why)
        rows = self._probation(probation, len(checked.values))
        scored = score_series(self.model, checked.values, probation=rows, adapt=bool(adapt))
        flags = scored.scores >= cut
        result = {
            "scores": scored.scores,
            "flags": flags,
            "flagged": np.flatnonzero(flags),
            "predictions": scored.predictions,
            "values": checked.values,
            "timestamps": checked.timestamps,
            "threshold": cut,
            "profile": profile if threshold is None else "custom",
            "probation": rows,
        }
        if checked.source == "pandas":
            import pandas as pd

            result["frame"] = pd.DataFrame({"value": checked.values, "prediction": scored.predictions,
                                            "score": scored.scores, "flag": flags}, index=checked.index)
        if checked.path:
            result["path"] = checked.path
        if checked.windows:
            result["windows"] = checked.windows
        return result

    # --- One value at a time ---

    def stream(self, *, probation: int | None = None, profile: str = "standard", threshold: float | None = None,
               adapt: bool = True) -> "AnomalyStream":
        """A detector that takes one value at a time (``update(value)``), as a monitoring system feeds it.

        A stream does not know the series' length, so its probation period is fixed up front: 750 rows by
        default (NAB's rule for series of 5,000 rows or more). With the same ``probation`` it gives the
        scores of ``det(series, probation=...)``.
        """
        return AnomalyStream(self, probation=self._probation(probation, None),
                             threshold=self._threshold(profile, threshold), adapt=bool(adapt))

    # --- Output ---

    @staticmethod
    def format(source, result: dict) -> str:
        """The flagged rows, one per line, under a summary line (``zoo predict``)."""
        name = result.get("path") or (source if isinstance(source, str) else "series")
        flagged = result["flagged"]
        lines = [f"{name}: {len(result['scores']):,} rows, probation {result['probation']:,}, threshold "
                 f"{result['threshold']:.4f} ({result['profile']}), "
                 + (f"{len(flagged)} flagged" if len(flagged) else "no row flagged")]
        stamps = result.get("timestamps")
        for row in flagged:
            when = f"  {str(stamps[row]).replace('T', ' ')}" if stamps is not None else ""
            lines.append(f"  row {row:>7}{when}  value {result['values'][row]:>12.6g}  score {result['scores'][row]:.4f}")
        return "\n".join(lines)

    @staticmethod
    def to_json(result: dict) -> dict:
        """The result with plain Python types (lists, floats, ISO timestamps), for JSON."""
        out = {}
        for key, value in result.items():
            if key == "frame":
                continue
            if key == "timestamps" and value is not None:
                value = [str(t).replace("T", " ") for t in value]
            elif key == "windows":
                value = [[str(a).replace("T", " "), str(b).replace("T", " ")] for a, b in value]
            elif isinstance(value, np.ndarray):
                value = [None if isinstance(v, float) and math.isnan(v) else v for v in value.tolist()]
            out[key] = value
        return out

    def predict_command(self, paths, *, as_json: bool = False, plot: str | None = None) -> int:
        """``zoo predict NAME series.csv ...``: the flagged rows of each file (or one JSON object per file)."""
        for k, path in enumerate(paths):
            result = self(path)
            if as_json:
                print(json.dumps({"input": path, "result": self.to_json(result)}))
            else:
                print(self.format(path, result))
            if plot:
                stem, ext = os.path.splitext(plot)
                self.plot(path, path=plot if len(paths) == 1 else f"{stem}_{k}{ext or '.png'}", result=result)
        return 0

    def plot(self, series, *, path: str | None = None, windows=None, result: dict | None = None,
             probation: int | None = None, profile: str = "standard", threshold: float | None = None,
             title: str | None = None):
        """Draws the series with its flagged rows and labelled windows above, the scores and threshold below.

        Args:
            series: what `__call__` takes (a `zoo.data.nab.Series` brings its labelled windows).
            path: where to write the image (PNG, SVG, PDF...); without it the matplotlib figure is returned.
            windows: labelled anomaly windows to shade, ``(start, end)`` pairs of timestamps or row numbers.
            result: a result of this pipeline for ``series``, to draw without scoring again.

        Returns:
            ``path`` when given, else the ``matplotlib.figure.Figure``.
        """
        try:
            import matplotlib

            if path is not None:
                matplotlib.use("Agg", force=False)
            import matplotlib.pyplot as plt
        except ImportError:
            raise ImportError("det.plot needs matplotlib: pip install matplotlib (or rnn-zoo[plots]).") from None
        if result is None:
            result = self(series, probation=probation, profile=profile, threshold=threshold)
        values, scores, flags = result["values"], result["scores"], result["flags"]
        stamps = result.get("timestamps")
        x = stamps if stamps is not None else np.arange(len(values))
        windows = windows if windows is not None else result.get("windows", ())
        figure, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(12, 5.5), height_ratios=(3, 1.4))
        top.plot(x, values, lw=0.7, color="tab:blue", label="series")
        top.plot(x, result["predictions"], lw=0.6, color="tab:gray", alpha=0.6, label="prediction")
        for k, (start, end) in enumerate(windows):
            a, b = _position(start, stamps), _position(end, stamps)
            top.axvspan(a, b, color="tab:orange", alpha=0.2, lw=0, label="labelled window" if k == 0 else None)
            bottom.axvspan(a, b, color="tab:orange", alpha=0.2, lw=0)
        top.axvspan(x[0], x[min(result["probation"], len(x) - 1)], color="0.85", alpha=0.5, lw=0, label="probation")
        top.scatter(x[flags], values[flags], color="red", s=18, zorder=3, label=f"flagged ({int(flags.sum())})")
        top.legend(loc="upper left", fontsize=8, ncols=5)
        top.set_title(title or result.get("path") or f"{self.spec.name} anomaly scores", fontsize=10)
        bottom.plot(x, scores, lw=0.7, color="tab:purple")
        bottom.axhline(result["threshold"], color="red", ls="--", lw=0.8)
        bottom.set_ylim(-0.02, 1.02)
        bottom.set_ylabel("score")
        figure.tight_layout()
        if path is None:
            return figure
        figure.savefig(path, dpi=100)
        plt.close(figure)
        return path


def _position(point, stamps):
    """A window boundary on the plot's x axis: a timestamp as is, or a row number (mapped to its timestamp)."""
    if isinstance(point, (int, np.integer)) and not isinstance(point, bool):
        return stamps[int(point)] if stamps is not None else int(point)
    return np.datetime64(point, "s")


class AnomalyStream:
    """The detector fed one value at a time: ``update(value, timestamp=None) -> StreamPoint``.

    During the probation period it only collects values (score 0). When the period is full it normalizes,
    fine-tunes its copy of the predictor on those rows and replays them through the scorer; from then on each
    value costs one prediction (NumPy, `scoring.NumpyPredictor`) and one scorer update (O(1) memory).

    Example:
        >>> stream = zoo.pipeline("nab-lstm").stream(probation=750)
        >>> for value in feed:
        ...     point = stream.update(value)
        ...     if point.flag: alert(point.score)
    """

    def __init__(self, pipeline: AnomalyDetectionPipeline, *, probation: int, threshold: float, adapt: bool):
        self.pipeline = pipeline
        self.probation = probation
        self.threshold = threshold
        self.adapt = adapt
        self.window = pipeline.window
        self.rows = 0
        self.center = self.scale = None
        self._collected: list[float] = []
        self._recent = collections.deque(maxlen=self.window)
        self._scorer = likelihood.StreamingScorer(probation)
        self._predictor = None
        self._last_time = None

    def __repr__(self):
        return f"AnomalyStream({self.rows} rows, probation {self.probation}, threshold {self.threshold:.4f})"

    def update(self, value, timestamp=None) -> StreamPoint:
        """Adds the next value (and optionally its timestamp, which must be later than the previous one)."""
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"A stream takes one real number at a time; got {value!r} ({type(value).__name__}).")
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"Row {self.rows}: the value is {value}; a stream takes finite numbers only.")
        if timestamp is not None:
            try:
                when = np.datetime64(timestamp, "s")
            except (ValueError, TypeError):
                raise ValueError(f"Row {self.rows}: unreadable timestamp {timestamp!r}.") from None
            if self._last_time is not None and when <= self._last_time:
                raise ValueError(f"Row {self.rows}: timestamp {when} is not after the previous one ({self._last_time}); "
                                 "timestamps must be sorted and unique.")
            self._last_time = when
        self.rows += 1
        if self._predictor is None:
            self._collected.append(value)
            if len(self._collected) == self.probation:
                self._calibrate()
            return StreamPoint(0.0, False, math.nan)
        z = float(np.float32((value - self.center) / self.scale))  # float32, as the batch path normalizes
        predicted = self._predictor.predict(self._recent)
        self._recent.append(z)
        score = self._scorer.update(value, z - predicted)
        return StreamPoint(score, score >= self.threshold, predicted * self.scale + self.center)

    def _calibrate(self) -> None:
        from zoo.models.anomaly_detector.scoring import NumpyPredictor, adapted_predictor, predict_next

        values = np.asarray(self._collected, dtype=np.float64)
        self.center, self.scale = likelihood.normalization(values)
        normalized = ((values - self.center) / self.scale).astype(np.float32)
        model = self.pipeline.model
        predictor = adapted_predictor(model, normalized, self.probation) if self.adapt else model
        predicted = predict_next(predictor, normalized)
        errors = normalized.astype(np.float64) - predicted.astype(np.float64)
        for value, error in zip(values, errors):
            self._scorer.update(float(value), float(error))
        self._predictor = NumpyPredictor.from_model(predictor)
        self._recent.extend(normalized[-self.window:].astype(np.float64))
        self._collected = []
