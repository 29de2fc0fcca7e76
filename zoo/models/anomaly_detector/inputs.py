"""What the anomaly detector accepts as a series, checked before any work.

A series is one of:

- a 1-D array or list of numbers (or a ``[rows, 1]`` array): values in time order, no timestamps;
- a pandas ``Series`` (its index is used as timestamps when it is a ``DatetimeIndex``) or a ``DataFrame``
  with a ``value`` column (or a single numeric column) and a ``DatetimeIndex`` or a ``timestamp`` /
  ``time`` / ``date`` / ``datetime`` column (pandas is imported only when one is given);
- an object with ``values`` and ``timestamps`` arrays (a `zoo.data.nab.Series`);
- a path to a CSV file: NAB's ``timestamp,value`` layout, any header with a ``value`` column (and
  optionally a time column), two columns (time, value) or one column of numbers, read without pandas.

Bad input is a ``TypeError`` (not numbers) or a ``ValueError`` (too short, NaN or infinite values, unsorted
or repeated timestamps, an unreadable file), naming the row.
"""

from __future__ import annotations

import csv
import dataclasses
import os

import numpy as np

TIME_COLUMNS = ("timestamp", "time", "date", "datetime")


@dataclasses.dataclass(frozen=True, eq=False)
class SeriesInput:
    """A checked series: float64 ``values``, ``datetime64`` ``timestamps`` (or None), and where it came from."""

    values: np.ndarray
    timestamps: np.ndarray | None
    source: str  # "array", "pandas", "file" or "series"
    path: str | None = None
    index: object = None  # the pandas index of a pandas input
    windows: tuple = ()  # labelled windows carried by the input (a zoo.data.nab.Series)


def is_series_batch(inputs) -> bool:
    """Whether ``inputs`` is a list of series (paths, arrays, pandas objects) rather than one list of numbers."""
    if not isinstance(inputs, (list, tuple)) or not inputs:
        return False
    return all(isinstance(item, (str, os.PathLike, np.ndarray, list, tuple)) or _is_pandas(item)
               or hasattr(item, "timestamps") for item in inputs)


def _is_pandas(obj) -> bool:
    return type(obj).__module__.split(".", 1)[0] == "pandas"


def as_series(series, *, min_rows: int, why: str = "", what: str = "series") -> SeriesInput:
    """Checks and converts one series; ``min_rows`` is the shortest series the caller can score (``why``: the reason)."""
    if isinstance(series, (str, os.PathLike)):
        out = _read_csv(os.fspath(series))
    elif _is_pandas(series):
        out = _from_pandas(series, what)
    elif hasattr(series, "values") and hasattr(series, "timestamps") and not isinstance(series, np.ndarray):
        out = SeriesInput(_numbers(series.values, what), _timestamps(series.timestamps, what), "series",
                          windows=tuple(getattr(series, "windows", ()) or ()))
    elif isinstance(series, (np.ndarray, list, tuple)):
        out = SeriesInput(_numbers(series, what), None, "array")
    elif series is None:
        raise TypeError(f"Expected a {what} (an array of numbers, a pandas Series or DataFrame, or a CSV path), got None.")
    else:
        raise TypeError(f"Expected a {what} (an array of numbers, a pandas Series or DataFrame, or a CSV path), "
                        f"got {type(series).__name__}.")
    _check(out, min_rows=min_rows, why=why, what=what)
    return out


def _numbers(values, what: str) -> np.ndarray:
    """A float64 1-D copy of ``values``; a TypeError names the first value that is not a real number."""
    try:
        array = np.asarray(values)
    except (ValueError, TypeError) as error:  # ragged nesting
        raise TypeError(f"The {what} must be a flat sequence of numbers ({error}).") from None
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(f"The {what} must be one column of values (1-D), got shape {array.shape}.")
    if array.dtype == bool or not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        items = values if isinstance(values, (list, tuple)) and array.ndim == 1 else array.tolist()
        for row, item in enumerate(items):
            if isinstance(item, bool) or not isinstance(item, (int, float, np.integer, np.floating)):
                raise TypeError(f"The {what} must hold real numbers; row {row} is {item!r} ({type(item).__name__}).")
        array = array.astype(np.float64)
    return array.astype(np.float64, copy=True)


def _timestamps(stamps, what: str) -> np.ndarray:
    try:
        out = np.asarray(stamps).astype("datetime64[s]")
    except (ValueError, TypeError) as error:
        raise ValueError(f"The {what}'s timestamps are not readable as dates and times ({error}).") from None
    if out.ndim != 1:
        raise ValueError(f"The {what}'s timestamps must be 1-D, got shape {out.shape}.")
    return out


def _from_pandas(obj, what: str) -> SeriesInput:
    import pandas as pd

    if isinstance(obj, pd.DataFrame):
        stamps = None
        columns = [c for c in obj.columns if str(c).lower() in TIME_COLUMNS]
        if columns:
            stamps = pd.to_datetime(obj[columns[0]]).to_numpy()
        if "value" in obj.columns:
            column = obj["value"]
        else:
            numeric = [c for c in obj.columns if c not in columns and pd.api.types.is_numeric_dtype(obj[c])]
            if len(numeric) != 1:
                raise ValueError(f"The DataFrame needs a 'value' column or exactly one numeric column; found "
                                 f"columns {list(obj.columns)}.")
            column = obj[numeric[0]]
        if stamps is None and isinstance(obj.index, pd.DatetimeIndex):
            stamps = obj.index.to_numpy()
        values = _numbers(column.to_numpy(), what)
    elif isinstance(obj, pd.Series):
        values = _numbers(obj.to_numpy(), what)
        stamps = obj.index.to_numpy() if isinstance(obj.index, pd.DatetimeIndex) else None
    else:
        raise TypeError(f"Expected a pandas Series or DataFrame, got {type(obj).__name__}.")
    return SeriesInput(values, None if stamps is None else _timestamps(stamps, what), "pandas", index=obj.index)


def _read_csv(path: str) -> SeriesInput:
    if not os.path.isfile(path):
        raise ValueError(f"No such file: {path}.")
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = [row for row in csv.reader(handle) if row and any(cell.strip() for cell in row)]
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not a UTF-8 text (CSV) file.") from None
    if not rows:
        raise ValueError(f"{path} is empty.")
    header = [cell.strip().lower() for cell in rows[0]]
    has_header = not _is_number(rows[0][-1])
    body = rows[1:] if has_header else rows
    width = len(rows[0])
    if has_header and "value" in header:
        value_column = header.index("value")
    else:
        value_column = width - 1
    time_column = next((header.index(name) for name in TIME_COLUMNS if has_header and name in header), None)
    if time_column is None and width == 2:
        time_column = 0
    values, stamps = [], []
    for line, row in enumerate(body, start=2 if has_header else 1):
        if len(row) != width:
            raise ValueError(f"{path}, line {line}: expected {width} columns, got {len(row)}.")
        cell = row[value_column].strip()
        try:
            values.append(float(cell))
        except ValueError:
            raise ValueError(f"{path}, line {line}: the value {cell!r} is not a number.") from None
        if time_column is not None:
            stamps.append(row[time_column].strip())
    timestamps = None
    if time_column is not None:
        try:
            timestamps = np.array(stamps, dtype="datetime64[us]").astype("datetime64[s]")
        except ValueError as error:
            raise ValueError(f"{path}: unreadable timestamp ({error}); expected e.g. 2014-04-01 00:00:00.") from None
    return SeriesInput(np.array(values, dtype=np.float64), timestamps, "file", path=path)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _check(series: SeriesInput, *, min_rows: int, why: str, what: str) -> None:
    where = f"{series.path}: " if series.path else ""
    n = len(series.values)
    if n < min_rows:
        raise ValueError(f"{where}the {what} has {n} rows; the detector needs at least {min_rows}{why}.")
    bad = np.flatnonzero(~np.isfinite(series.values))
    if len(bad):
        raise ValueError(f"{where}the {what} has {len(bad)} NaN or infinite values, the first at row {int(bad[0])} "
                         f"({series.values[bad[0]]}); fill or drop them first.")
    if series.timestamps is not None:
        stamps = series.timestamps
        if len(stamps) != n:
            raise ValueError(f"{where}{len(stamps)} timestamps for {n} values.")
        if np.any(np.isnat(stamps)):
            raise ValueError(f"{where}missing timestamp at row {int(np.flatnonzero(np.isnat(stamps))[0])}.")
        steps = np.diff(stamps.astype(np.int64))
        if np.any(steps <= 0):
            row = int(np.flatnonzero(steps <= 0)[0]) + 1
            kind = "repeats" if steps[row - 1] == 0 else "goes back in time from"
            raise ValueError(f"{where}the timestamps must be sorted and unique: row {row} ({stamps[row]}) {kind} "
                             f"row {row - 1} ({stamps[row - 1]}). Sort and deduplicate them, or pass the values alone "
                             "to score the rows in the given order.")
