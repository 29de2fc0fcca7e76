"""Electricity Transformer Temperature, ETT-small (Zhou et al. 2021): the long-horizon forecasting benchmark.

ETTh1 is hourly, 7 columns (``HUFL HULL MUFL MULL LUFL LULL OT``), 17,420 rows from 2016-07-01. The split
is the one of the reference code (Informer / Autoformer / LTSF-Linear ``Dataset_ETT_hour``): 12, 4 and 4
"months" of 30 days, so the targets of train, validation and test are rows [0, 8640), [8640, 11520) and
[11520, 14400); a validation or test window's input starts ``input_length`` rows before its first target,
so it may reach back into the previous split. Rows from 14,400 on are never used. A StandardScaler
(mean and population standard deviation) is fit on the train rows only, over all 7 columns.

Windows are taken with stride 1 and none is dropped (the reference test loaders' ``drop_last=True``
silently skips the last partial batch): a split with target rows [a, b) has ``b - a - horizon + 1``
windows whatever the input length.

The loader reads ``$ZOO_DATA_DIR/ett/ETTh1.csv.gz`` (or ``ETTh1.csv``); without a local copy it downloads
the official file from GitHub (zhouhaoyi/ETDataset) and checks its sha256.

Example:
    >>> from zoo.data import ett
    >>> series = ett.load()
    >>> series.values.shape, series.columns[-1]
    ((17420, 7), 'OT')
    >>> w = ett.windows("test", input_length=336, horizon=96)
    >>> w.inputs.shape, w.targets.shape          # 2,785 windows, in original units
    ((2785, 336, 7), (2785, 96, 7))
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import gzip
import io

import numpy as np

from zoo.data._common import download_official, find_local_file

COLUMNS = ("HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT")
TIME_COLUMN = "date"
FREQUENCY = np.timedelta64(1, "h")
NAMES = ("ETTh1",)
# Target rows of each split, [start, end): 12 / 4 / 4 months of 30 days (Informer's Dataset_ETT_hour borders).
BORDERS = {"train": (0, 8640), "validation": (8640, 11520), "test": (11520, 14400)}
SPLITS = tuple(BORDERS)
HORIZONS = (96, 192, 336, 720)
NUM_ROWS = 17420
OFFICIAL_URL = "https://raw.githubusercontent.com/zhouhaoyi/ETDataset/1d16c8f4f943005d613b5bc962e9eeb06058cf07/ETT-small/{name}.csv"
OFFICIAL_SHA256 = {"ETTh1": "f18de3ad269cef59bb07b5438d79bb3042d3be49bdeecf01c1cd6d29695ee066"}
LICENSE = "CC BY-ND 4.0 (ETDataset, Zhou et al. 2021)"


@dataclasses.dataclass(frozen=True, eq=False)
class Series:
    """A multivariate series: ``values[t, c]`` at ``timestamps[t]`` for ``columns[c]``."""

    timestamps: np.ndarray  # datetime64[s]
    values: np.ndarray  # float64 [time, channels], original units
    columns: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.timestamps)


@dataclasses.dataclass(frozen=True, eq=False)
class Windows:
    """Forecasting windows of one split: ``inputs[i]`` is followed by ``targets[i]``, both in original units.

    Attributes:
        inputs: float32 ``[n, input_length, channels]`` (a read-only view of the series).
        targets: float32 ``[n, horizon, channels]``.
        starts: the row of each window's first target.
        timestamps: the series' timestamps, to date any window (``timestamps[starts[i]]``).
    """

    inputs: np.ndarray
    targets: np.ndarray
    starts: np.ndarray
    timestamps: np.ndarray

    def __len__(self) -> int:
        return len(self.starts)


def file_path(name: str = "ETTh1") -> str:
    """Path of ``<name>.csv(.gz)``: the data directory first, else the official download."""
    if name not in NAMES:
        raise ValueError(f"name must be one of {NAMES}, got {name!r}.")
    local = find_local_file("ett", (f"{name}.csv.gz", f"{name}.csv"))
    if local:
        return local
    return download_official(f"{name}.csv", OFFICIAL_URL.format(name=name), OFFICIAL_SHA256[name], dataset="ett")


def read_csv(source, columns: tuple[str, ...] = COLUMNS) -> Series:
    """Reads a CSV with a ``date`` column and ``columns`` (any order, extra columns ignored), without pandas."""
    if isinstance(source, (str, bytes)) or hasattr(source, "__fspath__"):
        path = str(source)
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8", newline="") as f:
            text = f.read()
    else:
        text = source.read()
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise ValueError("The CSV is empty.")
    header = [h.strip() for h in rows[0]]
    missing = [c for c in (TIME_COLUMN, *columns) if c not in header]
    if missing:
        raise ValueError(f"The CSV lacks the column(s) {missing}; expected {TIME_COLUMN!r} and {list(columns)}.")
    index = [header.index(c) for c in columns]
    time_index = header.index(TIME_COLUMN)
    body = [r for r in rows[1:] if r]
    timestamps = np.array([r[time_index].strip().replace(" ", "T") for r in body], dtype="datetime64[s]")
    values = np.array([[float(r[i]) for i in index] for r in body], dtype=np.float64).reshape(len(body), len(columns))
    return Series(timestamps, values, tuple(columns))


@functools.lru_cache(maxsize=2)
def load(name: str = "ETTh1") -> Series:
    """The whole series of ``name`` (17,420 hourly rows for ETTh1), values in original units."""
    series = read_csv(file_path(name))
    if len(series) != NUM_ROWS:
        raise ValueError(f"{name}: expected {NUM_ROWS} rows, found {len(series)}; is the file complete?")
    series.values.setflags(write=False)
    return series


def split_rows(split: str, input_length: int) -> tuple[int, int]:
    """The rows a split reads, [start, end): its target rows, preceded by ``input_length`` rows of input.

    Example:
        >>> split_rows("test", 336)
        (11184, 14400)
    """
    if split not in BORDERS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}.")
    start, end = BORDERS[split]
    return (start if split == "train" else start - input_length), end


def num_windows(split: str, input_length: int, horizon: int) -> int:
    """How many windows a split has with stride 1 and none dropped (train: 8640 - L - H + 1; others: 2881 - H)."""
    start, end = split_rows(split, input_length)
    return end - start - input_length - horizon + 1


def scaler(name: str = "ETTh1") -> tuple[np.ndarray, np.ndarray]:
    """The StandardScaler of the train rows [0, 8640): ``(mean, scale)`` per column (population std, as sklearn)."""
    train = load(name).values[slice(*BORDERS["train"])]
    return train.mean(axis=0), train.std(axis=0)


def windows(split: str, *, input_length: int, horizon: int, name: str = "ETTh1", limit: int | None = None) -> Windows:
    """Every window of ``split`` with stride 1 (none dropped), inputs and targets in original units.

    Args:
        split: ``"train"``, ``"validation"`` or ``"test"``.
        input_length: L, the rows of history each window reads.
        horizon: H, the rows it forecasts.
        limit: only the first ``limit`` windows (a fixed, contiguous slice from the split's start).
    """
    if input_length < 1 or horizon < 1:
        raise ValueError(f"input_length and horizon must be positive, got {input_length} and {horizon}.")
    series = load(name)
    start, end = split_rows(split, input_length)
    count = num_windows(split, input_length, horizon)
    if count < 1:
        raise ValueError(f"{split}: no window of {input_length} + {horizon} rows fits in rows [{start}, {end}).")
    if limit is not None:
        count = min(count, int(limit))
    values = series.values.astype(np.float32)
    view = np.lib.stride_tricks.sliding_window_view(values[start:end], input_length + horizon, axis=0)
    view = view[:count].transpose(0, 2, 1)  # [n, L + H, C]
    starts = np.arange(count) + start + input_length
    return Windows(view[:, :input_length], view[:, input_length:], starts, series.timestamps)
