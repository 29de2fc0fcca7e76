"""The forecaster's pipeline: a history in original units in, the forecast in original units out.

What a history may be (the model reads its last ``L`` rows; more rows are fine):

- a NumPy array ``[rows, columns]`` or a batch ``[batch, rows, columns]`` of the model's input columns
  (`ForecastPipeline.input_columns`), giving an array ``[H, outputs]`` or ``[batch, H, outputs]``;
- a pandas DataFrame with the dataset's columns (`ForecastPipeline.columns`; others are ignored) and a
  DatetimeIndex or a timestamp column (``date``, ``timestamp``, ``time`` or ``datetime``): the forecast
  comes back as a DataFrame indexed by the next ``H`` timestamps (an array when no timestamps were given);
- a path to a CSV file of that layout: a `Forecast` (timestamps, values, columns; ``to_csv()``), read
  without pandas. ``zoo predict NAME history.csv`` prints its CSV.

Bad input fails early: fewer than ``L`` rows, missing columns, NaN or infinite values (with where),
non-numeric values, an empty history.
"""

from __future__ import annotations

import dataclasses
import importlib
import os

import numpy as np

from zoo._pipeline import Pipeline

TIME_COLUMNS = ("date", "timestamp", "time", "datetime")


@dataclasses.dataclass(frozen=True, eq=False)
class Forecast:
    """A dated forecast: ``values[i, j]`` is column ``columns[j]`` at ``timestamps[i]`` (original units)."""

    timestamps: np.ndarray
    values: np.ndarray
    columns: tuple[str, ...]

    def to_csv(self, decimals: int = 4) -> str:
        """``date,<columns>`` lines, the way the history CSV is written."""
        lines = [",".join(("date", *self.columns))]
        for stamp, row in zip(self.timestamps, self.values):
            when = str(np.datetime64(stamp, "s")).replace("T", " ")
            lines.append(",".join([when, *(f"{v:.{decimals}f}" for v in row)]))
        return "\n".join(lines) + "\n"

    def to_frame(self):
        """The same as a pandas DataFrame indexed by the timestamps (needs pandas)."""
        import pandas as pd

        return pd.DataFrame(self.values, index=pd.DatetimeIndex(self.timestamps, name="date"), columns=list(self.columns))


@dataclasses.dataclass(frozen=True)
class _History:
    features: np.ndarray  # float32 [batch, L, input columns]
    timestamps: np.ndarray | None  # datetime64[s] [batch, L] of the rows used, or None
    single: bool
    kind: str  # "array", "frame" or "file"
    index_name: str | None = None


class ForecastPipeline(Pipeline):
    """Histories in, forecasts out, both in original units.

    Example:
        >>> fc = zoo.pipeline("etth1-segrnn-h96")
        >>> fc(history)                       # history: [336, 7] array -> [96, 7] array
        >>> fc(frame)                         # a DataFrame with a DatetimeIndex -> a DataFrame of the next 96 hours
        >>> fc.backtest(series, start=336, stride=24)["metrics"]
        >>> fc.plot(history, truth=truth, path="forecast.png")
    """

    def __init__(self, spec, model, *, batch_size: int = 64):
        super().__init__(spec, model, batch_size=batch_size)
        from zoo.models.forecaster.model import forecast_columns, shapes

        self.input_length, self.channels, self.horizon, self.outputs = shapes(model)
        self.data = importlib.import_module(f"zoo.data.{spec.dataset}")
        self.columns = tuple(self.data.COLUMNS)
        self.input_columns = tuple(getattr(self.data, "FEATURES", self.data.COLUMNS))
        if len(self.input_columns) != self.channels:
            raise ValueError(f"{spec.name}: the model reads {self.channels} columns, the dataset gives {len(self.input_columns)}.")
        self.targets = tuple(self.input_columns[i] for i in forecast_columns(model))
        self.frequency = self.data.FREQUENCY

    def __repr__(self):
        return (f"ForecastPipeline({self.spec.name!r}, {self.input_length} rows of {len(self.columns)} columns in, "
                f"{self.horizon} rows of {list(self.targets)} out)")

    # === Forecasting ===

    def __call__(self, history):
        """The forecast of ``history`` (see the module docstring for what it may be and what comes back)."""
        parsed = self._parse(history)
        values = self.predict(parsed.features)
        if parsed.timestamps is None:
            return values[0] if parsed.single else values
        future = parsed.timestamps[:, -1:] + self.frequency * np.arange(1, self.horizon + 1)[None, :]
        if parsed.kind == "file":
            return Forecast(future[0], values[0], self.targets)
        import pandas as pd

        frames = [pd.DataFrame(v, index=pd.DatetimeIndex(t, name=parsed.index_name), columns=list(self.targets))
                  for v, t in zip(values, future)]
        return frames[0] if parsed.single else frames

    def predict(self, features) -> np.ndarray:
        """The model on ready inputs, float32 ``[batch, L, input columns]`` in original units -> ``[batch, H, outputs]``."""
        from zoo.models.forecaster.evaluation import forecast

        return forecast(self.model, features, batch_size=self.batch_size, progress=False)

    def forecast_file(self, path) -> Forecast:
        """The forecast of the history in a CSV file (the dataset's layout), read without pandas."""
        return self(os.fspath(path))

    def predict_command(self, paths, *, as_json: bool = False, plot: str | None = None) -> int:
        """What ``zoo predict NAME history.csv ...`` prints: each forecast as CSV (or one JSON line per file)."""
        import json

        for i, path in enumerate(paths):
            result = self.forecast_file(path)
            if as_json:
                print(json.dumps({"file": path, "columns": list(result.columns),
                                  "timestamps": [str(t) for t in result.timestamps],
                                  "forecast": np.round(result.values.astype(float), 4).tolist()}))
            else:
                if len(paths) > 1:
                    print(f"# {path}")
                print(result.to_csv(), end="")
            if plot:
                target = plot if len(paths) == 1 else f"{os.path.splitext(plot)[0]}-{i + 1}{os.path.splitext(plot)[1] or '.png'}"
                self.plot(os.fspath(path), path=target)
        return 0

    # === Backtesting ===

    def backtest(self, series, *, start: int | None = None, end: int | None = None, stride: int = 1) -> dict:
        """Historical forecasts over a span of ``series`` and their errors.

        A forecast is made from every ``stride``-th row ``s`` in ``[start, end - H]`` (``s`` is the first
        forecast row; its input is rows ``[s - L, s)``), compared with rows ``[s, s + H)``.

        Args:
            series: one long history (array ``[rows, columns]``, DataFrame or CSV path, as for a call).
            start: the first forecast row (default and minimum: ``L``).
            end: rows from ``end`` on are not used (default: all).
            stride: rows between forecast origins.

        Returns:
            ``{"origins", "forecasts" [n, H, outputs], "truth" [n, H, outputs], "metrics"}``; origins are row
            numbers, or timestamps when the series has them. Metrics are ``mse``/``mae`` in original units,
            and on the normalized scale of the model's own scaler (``mse_normalized``...) for ETT; ``rmse``
            (per horizon step, averaged) and ``mae`` for PM2.5, skipping windows with a missing target.
        """
        parsed = self._parse(series, whole=True)
        if parsed.features.shape[0] != 1:
            raise ValueError("backtest takes one series, not a batch.")
        features = parsed.features[0]
        rows = len(features)
        start = self.input_length if start is None else int(start)
        end = rows if end is None else min(int(end), rows)
        if not isinstance(stride, int) or stride < 1:
            raise ValueError(f"stride must be a positive integer, got {stride!r}.")
        if start < self.input_length:
            raise ValueError(f"start must be at least L = {self.input_length} (a full input before it), got {start}.")
        origins = np.arange(start, end - self.horizon + 1, stride)
        if len(origins) == 0:
            raise ValueError(f"No forecast of {self.horizon} rows fits between rows {start} and {end} ({rows} rows given).")
        inputs = np.stack([features[s - self.input_length: s] for s in origins])
        truth = self._truth(parsed, series)
        truth = np.stack([truth[s: s + self.horizon] for s in origins])
        forecasts = self.predict(inputs)
        return {
            "origins": parsed.timestamps[0][origins] if parsed.timestamps is not None else origins,
            "forecasts": forecasts,
            "truth": truth,
            "metrics": self._metrics(forecasts, truth),
        }

    def _truth(self, parsed: _History, series) -> np.ndarray:
        """The forecast columns of the whole series, in original units (NaN where a PM2.5 reading is missing)."""
        if hasattr(self.data, "FEATURES") and parsed.kind != "array":
            raw = self._raw_columns(series)
            return np.stack([np.asarray(raw[name], np.float64) for name in self.targets], axis=-1)
        index = [self.input_columns.index(name) for name in self.targets]
        return parsed.features[0][:, index].astype(np.float64)

    def _metrics(self, forecasts, truth) -> dict:
        error = forecasts.astype(np.float64) - truth
        keep = np.isfinite(error).all(axis=(1, 2))
        error = error[keep]
        metrics = {"mse": float(np.mean(error**2)), "mae": float(np.mean(np.abs(error))), "n": int(keep.sum())}
        if hasattr(self.data, "FEATURES"):
            metrics["rmse"] = float(np.sqrt(np.mean(error**2, axis=0)).mean())
            metrics["windows_skipped"] = int((~keep).sum())
        else:
            from zoo.models.forecaster.model import network_layer

            scale = np.asarray(network_layer(self.model, "unscaler").scale, np.float64)
            metrics["mse_normalized"] = float(np.mean((error / scale) ** 2))
            metrics["mae_normalized"] = float(np.mean(np.abs(error / scale)))
        return metrics

    # === Plotting ===

    def plot(self, history, truth=None, *, path: str = "forecast.png", context: int | None = None) -> str:
        """Draws the end of ``history``, the forecast and, when given, the truth (one panel per forecast column).

        Args:
            history: one history, as for a call.
            truth: the actual next rows, ``[H, outputs]`` (array) or anything `__call__` accepts of that shape.
            path: the PNG to write.
            context: how many history rows to show (default: ``min(L, 3 H)``).
        """
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        parsed = self._parse(history)
        if parsed.features.shape[0] != 1:
            raise ValueError("plot draws one history, not a batch.")
        forecast = self.predict(parsed.features)[0]
        index = [self.input_columns.index(name) for name in self.targets]
        past = parsed.features[0][:, index]
        shown = min(self.input_length, 3 * self.horizon) if context is None else int(context)
        x_past = np.arange(-shown, 0)
        x_future = np.arange(self.horizon)
        if truth is not None:
            truth = np.asarray(truth, np.float64).reshape(-1, len(self.targets))[: self.horizon]
        figure, axes = plt.subplots(len(self.targets), 1, figsize=(10, 1.8 * len(self.targets) + 1), sharex=True,
                                    squeeze=False)
        for j, (axis, name) in enumerate(zip(axes[:, 0], self.targets)):
            axis.plot(x_past, past[-shown:, j], color="0.3", linewidth=1, label="history")
            axis.plot(x_future, forecast[:, j], color="tab:blue", linewidth=1.3, label="forecast")
            if truth is not None:
                axis.plot(np.arange(len(truth)), truth[:, j], color="tab:orange", linewidth=1, label="truth")
            axis.axvline(-0.5, color="0.7", linewidth=0.8)
            axis.set_ylabel(name)
        axes[0, 0].legend(loc="upper left", fontsize=8, ncol=3)
        axes[-1, 0].set_xlabel(f"rows from the forecast start ({self.spec.name})")
        figure.tight_layout()
        figure.savefig(path, dpi=110)
        plt.close(figure)
        return path

    # === Input parsing ===

    def _parse(self, history, *, whole: bool = False) -> _History:
        """Any accepted history -> float32 features ``[batch, rows, input columns]`` (the last L rows unless ``whole``)."""
        if history is None:
            raise TypeError("Expected a history (array, DataFrame or CSV path), got None.")
        if isinstance(history, (str, os.PathLike)):
            features, stamps = self._from_file(os.fspath(history))
            return self._checked(features[None], stamps[None], single=True, kind="file", whole=whole)
        if type(history).__module__.startswith("pandas") and hasattr(history, "columns"):
            features, stamps, name = self._from_frame(history)
            return self._checked(features[None], None if stamps is None else stamps[None], single=True,
                                 kind="frame", whole=whole, index_name=name)
        if isinstance(history, (list, tuple)) and history and all(
                isinstance(h, (str, os.PathLike)) for h in history):
            raise TypeError("Give one CSV path at a time (or use predict_command for several).")
        if hasattr(history, "numpy"):
            history = history.numpy()
        array = np.asarray(history)
        if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
            raise TypeError(f"The history must be numeric, got values of type {array.dtype} "
                            f"(for raw columns with text, such as cbwd, pass a DataFrame or a CSV file).")
        if array.ndim not in (2, 3):
            raise ValueError(f"Expected a history [rows, {self.channels}] or a batch [batch, rows, {self.channels}], "
                             f"got an array of shape {array.shape}.")
        single = array.ndim == 2
        array = array[None] if single else array
        if array.shape[-1] != self.channels:
            raise ValueError(f"Expected {self.channels} columns ({', '.join(self.input_columns)}), "
                             f"got {array.shape[-1]}.")
        return self._checked(array.astype(np.float32), None, single=single, kind="array", whole=whole)

    def _checked(self, features, stamps, *, single, kind, whole, index_name=None) -> _History:
        if features.shape[0] == 0 or features.shape[1] == 0:
            raise ValueError(f"The history is empty; give at least L = {self.input_length} rows.")
        rows = features.shape[1]
        if rows < self.input_length:
            raise ValueError(f"The history has {rows} rows; this model needs at least L = {self.input_length} "
                             f"(it reads the last {self.input_length}).")
        if not whole:
            features = features[:, -self.input_length:]
            stamps = None if stamps is None else stamps[:, -self.input_length:]
        bad = ~np.isfinite(features)
        if bad.any():
            b, r, c = np.argwhere(bad)[0]
            what = "NaN" if np.isnan(features[b, r, c]) else "an infinite value"
            where = f"window {b}, " if not single else ""
            first_row = rows - features.shape[1]
            raise ValueError(f"The history holds {what} at {where}row {first_row + r}, column "
                             f"{self.input_columns[c]!r} ({int(bad.sum())} bad value(s) in all).")
        if stamps is not None:
            steps = np.diff(stamps[0]).astype("timedelta64[s]")
            wrong = np.flatnonzero(steps != self.frequency.astype("timedelta64[s]"))
            if len(wrong):
                raise ValueError(f"The history's rows must be one {self._frequency_text()} apart; rows {wrong[0]} and "
                                 f"{wrong[0] + 1} are {steps[wrong[0]]} apart.")
        return _History(features, stamps, single, kind, index_name)

    def _frequency_text(self) -> str:
        return {np.timedelta64(1, "h"): "hour"}.get(self.frequency, str(self.frequency))

    def _from_file(self, path: str):
        if not os.path.isfile(path):
            raise FileNotFoundError(f"No such history file: {path}")
        if hasattr(self.data, "FEATURES"):
            raw, stamps = self._read_raw_csv(path)
            return self.data.features(raw, stamps), stamps
        try:
            series = self.data.read_csv(path, self.columns)
        except ValueError as error:
            if "could not convert" in str(error):
                raise TypeError(f"{path}: a value is not a number ({error}).") from None
            raise
        return series.values.astype(np.float32), series.timestamps

    def _read_raw_csv(self, path: str):
        """A PM2.5-style CSV: the raw columns plus a time column or ``year,month,day,hour``."""
        import csv

        with open(path, encoding="utf-8", newline="") as f:
            rows = [r for r in csv.reader(f) if r]
        if len(rows) < 2:
            raise ValueError(f"{path}: the history is empty (no data rows).")
        header = [h.strip() for h in rows[0]]
        table = {name: [r[i].strip() for r in rows[1:]] for i, name in enumerate(header)}
        return self._raw_from_table(table, path)

    def _raw_from_table(self, table: dict, where: str):
        missing = [c for c in self.columns if c not in table]
        if missing:
            raise ValueError(f"{where}: missing column(s) {missing}; expected {list(self.columns)} and the time.")
        stamps = _timestamps_from_table(table)
        if stamps is None:
            raise ValueError(f"{where}: no time column; give {' or '.join(TIME_COLUMNS)}, or year, month, day, hour.")
        raw = {}
        for name in self.columns:
            values = table[name]
            if name == "cbwd":
                raw[name] = np.asarray([str(v) for v in values], dtype=object)
                continue
            raw[name] = _numeric(values, name, allow_missing=(name == self.data.TARGET))
        return raw, stamps

    def _raw_columns(self, series):
        if isinstance(series, (str, os.PathLike)):
            return self._read_raw_csv(os.fspath(series))[0]
        return self._raw_from_table(self._frame_table(series)[0], "the DataFrame")[0]

    @staticmethod
    def _frame_stamps(frame):
        """``(timestamps or None, their name)`` from a DatetimeIndex or a time column."""
        import pandas as pd

        if isinstance(frame.index, pd.DatetimeIndex):
            return frame.index.to_numpy().astype("datetime64[s]"), frame.index.name
        for column in TIME_COLUMNS:
            if column in frame.columns:
                return pd.to_datetime(frame[column]).to_numpy().astype("datetime64[s]"), column
        return None, None

    def _frame_table(self, frame):
        """The frame's columns as arrays, with its timestamps under ``"timestamp"`` when it has any."""
        stamps, name = self._frame_stamps(frame)
        table = {str(c): frame[c].to_numpy() for c in frame.columns}
        if stamps is not None:
            table["timestamp"] = stamps
        return table, name

    def _from_frame(self, frame):
        if len(frame) == 0:
            raise ValueError(f"The DataFrame is empty; give at least L = {self.input_length} rows.")
        stamps, index_name = self._frame_stamps(frame)
        if hasattr(self.data, "FEATURES"):
            table, index_name = self._frame_table(frame)
            raw, stamps = self._raw_from_table(table, "the DataFrame")
            return self.data.features(raw, stamps), stamps, index_name or "date"
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise ValueError(f"The DataFrame lacks column(s) {missing}; expected {list(self.columns)} "
                             f"(got {list(map(str, frame.columns))}).")
        values = np.stack([_numeric(frame[c].to_numpy(), c, allow_missing=True) for c in self.columns], axis=-1)
        return values.astype(np.float32), stamps, index_name


def _numeric(values, name: str, *, allow_missing: bool) -> np.ndarray:
    """Floats of a column; non-numbers raise a TypeError naming the column and row; NaN only if ``allow_missing``."""
    out = np.empty(len(values), np.float64)
    for i, v in enumerate(values):
        if isinstance(v, str):
            text = v.strip()
            if text in ("", "NA", "NaN", "nan"):
                out[i] = np.nan
                continue
            try:
                out[i] = float(text)
            except ValueError:
                raise TypeError(f"Column {name!r} holds a non-numeric value {v!r} at row {i}.") from None
        elif isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.number)) and v is not None:
            raise TypeError(f"Column {name!r} holds a non-numeric value {v!r} at row {i}.")
        else:
            out[i] = np.nan if v is None else float(v)
    bad = ~np.isfinite(out)
    if bad.any() and not allow_missing:
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"Column {name!r} holds {'NaN' if np.isnan(out[i]) else 'an infinite value'} at row {i}.")
    if allow_missing and np.isinf(out).any():
        i = int(np.flatnonzero(np.isinf(out))[0])
        raise ValueError(f"Column {name!r} holds an infinite value at row {i}.")
    return out


def _timestamps_from_table(table: dict):
    for column in ("timestamp", *TIME_COLUMNS):
        if column in table:
            values = table[column]
            if isinstance(values, np.ndarray) and np.issubdtype(values.dtype, np.datetime64):
                return values.astype("datetime64[s]")
            return np.array([str(v).strip().replace(" ", "T") for v in values], dtype="datetime64[s]")
    if all(c in table for c in ("year", "month", "day", "hour")):
        parts = [np.asarray(table[c]).astype(float).astype(int) for c in ("year", "month", "day", "hour")]
        return np.array([f"{y:04d}-{m:02d}-{d:02d}T{h:02d}" for y, m, d, h in zip(*parts)],
                        dtype="datetime64[h]").astype("datetime64[s]")
    return None
