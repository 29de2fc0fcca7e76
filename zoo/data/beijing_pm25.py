"""Beijing PM2.5 (UCI 381, Liang et al. 2015): hourly PM2.5 at the US Embassy with weather, 2010-2014.

The zoo's protocol (UCI defines no split): windows are assigned to a split by the year of their target
hours, train 2010-2012, validation 2013, test 2014. From the last 72 hours of every feature a model
forecasts PM2.5 for each of the next 24 hours. A window's input may reach back into the previous year;
all 24 of its target hours lie in the split's years. Windows are taken with stride 1.

Missing values: only ``pm2.5`` has any (2,067 hours). Model inputs forward-fill it (the hours before the
first reading take the first reading) and add a feature that is 1 where the reading was missing. A window
with a missing target hour is not scored: `windows` drops it and counts it (``Windows.dropped``).

Features (`FEATURES`, in this order): ``pm2.5`` (forward-filled, µg/m³), ``pm2.5_missing``, ``DEWP``,
``TEMP``, ``PRES``, ``Iws``, ``Is``, ``Ir``, the combined wind direction one-hot (``cbwd_NE``, ``cbwd_NW``,
``cbwd_SE``, ``cbwd_cv``) and the hour of day as ``hour_sin``, ``hour_cos``.

The loader reads ``$ZOO_DATA_DIR/beijing-pm25/PRSA_data_2010.1.1-2014.12.31.csv(.gz)``; without a local
copy it downloads the official UCI file and checks its sha256.

Example:
    >>> from zoo.data import beijing_pm25
    >>> w = beijing_pm25.windows("test")
    >>> w.inputs.shape, w.targets.shape, w.dropped
    ((8003, 72, 14), (8003, 24), 734)
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import gzip
import io

import numpy as np

from zoo.data._common import download_official, find_local_file

FILE = "PRSA_data_2010.1.1-2014.12.31.csv"
OFFICIAL_URL = f"https://archive.ics.uci.edu/ml/machine-learning-databases/00381/{FILE}"
OFFICIAL_SHA256 = "4127f868775e31b3956522adc0ec75af8937dde6a3896e8beed3a376c6d27f1c"
LICENSE = "CC BY 4.0 (UCI Machine Learning Repository, Liang et al. 2015)"
NUM_ROWS = 43824

TARGET = "pm2.5"
WIND_DIRECTIONS = ("NE", "NW", "SE", "cv")
# The raw columns a user gives (besides the time): the UCI file's, without its row number and date parts.
COLUMNS = ("pm2.5", "DEWP", "TEMP", "PRES", "cbwd", "Iws", "Is", "Ir")
NUMERIC_WEATHER = ("DEWP", "TEMP", "PRES", "Iws", "Is", "Ir")
FEATURES = ("pm2.5", "pm2.5_missing", *NUMERIC_WEATHER, *(f"cbwd_{d}" for d in WIND_DIRECTIONS), "hour_sin", "hour_cos")
INPUT_LENGTH = 72
HORIZON = 24
FREQUENCY = np.timedelta64(1, "h")
YEARS = {"train": (2010, 2012), "validation": (2013, 2013), "test": (2014, 2014)}
SPLITS = tuple(YEARS)


@dataclasses.dataclass(frozen=True, eq=False)
class Table:
    """The raw hourly table: ``timestamps`` and one array per column of `COLUMNS` (pm2.5 has NaN where missing)."""

    timestamps: np.ndarray  # datetime64[s]
    columns: dict

    def __len__(self) -> int:
        return len(self.timestamps)


@dataclasses.dataclass(frozen=True, eq=False)
class Windows:
    """Scored windows of one split: ``inputs[i]`` (features, original units) is followed by ``targets[i]``.

    Attributes:
        inputs: float32 ``[n, 72, len(FEATURES)]``.
        targets: float32 ``[n, 24]``, PM2.5 in µg/m³ (no missing value: such windows are dropped).
        starts: the row of each window's first target hour.
        timestamps: the table's timestamps.
        dropped: how many windows of the split were not kept because a target hour is missing.
    """

    inputs: np.ndarray
    targets: np.ndarray
    starts: np.ndarray
    timestamps: np.ndarray
    dropped: int

    def __len__(self) -> int:
        return len(self.starts)


def file_path() -> str:
    local = find_local_file("beijing-pm25", (f"{FILE}.gz", FILE))
    if local:
        return local
    return download_official(FILE, OFFICIAL_URL, OFFICIAL_SHA256, dataset="beijing-pm25")


def read_csv(source) -> Table:
    """Reads the UCI layout (``year,month,day,hour`` and `COLUMNS`; ``NA`` or empty = missing), without pandas."""
    path = str(source)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(io.StringIO(f.read())))
    header = [h.strip() for h in rows[0]]
    body = [r for r in rows[1:] if r]
    col = {name: header.index(name) for name in header}
    timestamps = np.array(
        [f"{int(r[col['year']]):04d}-{int(r[col['month']]):02d}-{int(r[col['day']]):02d}T{int(r[col['hour']]):02d}"
         for r in body], dtype="datetime64[h]").astype("datetime64[s]")
    columns = {}
    for name in COLUMNS:
        values = [r[col[name]].strip() for r in body]
        if name == "cbwd":
            columns[name] = np.array(values, dtype=object)
        else:
            columns[name] = np.array([np.nan if v in ("", "NA") else float(v) for v in values], dtype=np.float64)
    return Table(timestamps, columns)


@functools.lru_cache(maxsize=1)
def load() -> Table:
    """The whole table: 43,824 hourly rows from 2010-01-01 00:00 to 2014-12-31 23:00."""
    table = read_csv(file_path())
    if len(table) != NUM_ROWS:
        raise ValueError(f"Beijing PM2.5: expected {NUM_ROWS} rows, found {len(table)}; is the file complete?")
    return table


def features(columns: dict, timestamps) -> np.ndarray:
    """Model inputs from raw columns: float32 ``[time, len(FEATURES)]`` (see the module docstring).

    ``columns`` maps each name of `COLUMNS` to a sequence over time (``pm2.5`` may hold NaN; nothing else may);
    ``timestamps`` are the hours (anything ``numpy.datetime64`` reads).
    """
    pm = np.asarray(columns["pm2.5"], dtype=np.float64)
    missing = ~np.isfinite(pm)
    if missing.all():
        raise ValueError("Every pm2.5 value of the history is missing; at least one reading is needed.")
    filled = pm.copy()
    observed = np.where(~missing, np.arange(len(pm)), -1)
    last_seen = np.maximum.accumulate(observed)
    first = int(np.argmax(~missing))
    filled = np.where(last_seen >= 0, pm[np.maximum(last_seen, 0)], pm[first])
    wind = np.asarray(columns["cbwd"]).astype(str)
    unknown = sorted(set(wind) - set(WIND_DIRECTIONS))
    if unknown:
        raise ValueError(f"cbwd has unknown wind direction(s) {unknown}; expected {list(WIND_DIRECTIONS)}.")
    hours = (np.asarray(timestamps, dtype="datetime64[h]").astype(np.int64) % 24).astype(np.float64)
    parts = [filled, missing.astype(np.float64)]
    parts += [np.asarray(columns[name], dtype=np.float64) for name in NUMERIC_WEATHER]
    parts += [(wind == d).astype(np.float64) for d in WIND_DIRECTIONS]
    parts += [np.sin(2 * np.pi * hours / 24), np.cos(2 * np.pi * hours / 24)]
    return np.stack(parts, axis=-1).astype(np.float32)


@functools.lru_cache(maxsize=1)
def feature_table() -> np.ndarray:
    """`features` of the whole table, float32 ``[43824, 14]`` (read-only)."""
    table = load()
    out = features(table.columns, table.timestamps)
    out.setflags(write=False)
    return out


def split_starts(split: str) -> np.ndarray:
    """Every first-target row of ``split`` (stride 1, before dropping windows with missing targets)."""
    if split not in YEARS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}.")
    first_year, last_year = YEARS[split]
    years = load().timestamps.astype("datetime64[Y]").astype(int) + 1970
    rows = np.flatnonzero((years >= first_year) & (years <= last_year))
    start, end = max(int(rows[0]), INPUT_LENGTH), int(rows[-1]) + 1
    return np.arange(start, end - HORIZON + 1)


def scaler() -> tuple[np.ndarray, np.ndarray]:
    """Mean and population standard deviation of each feature over the train years' rows (2010-2012)."""
    years = load().timestamps.astype("datetime64[Y]").astype(int) + 1970
    train = feature_table()[years <= YEARS["train"][1]].astype(np.float64)
    scale = train.std(axis=0)
    return train.mean(axis=0), np.where(scale > 0, scale, 1.0)


def windows(split: str, *, limit: int | None = None) -> Windows:
    """The scored windows of ``split``: inputs ``[n, 72, 14]`` and PM2.5 targets ``[n, 24]``.

    Windows with any missing target hour are dropped and counted. ``limit`` keeps the first ``limit``
    scored windows (a fixed, contiguous slice).
    """
    starts = split_starts(split)
    pm = load().columns["pm2.5"].astype(np.float32)
    targets = np.lib.stride_tricks.sliding_window_view(pm, HORIZON)[starts]
    complete = np.isfinite(targets).all(axis=1)
    dropped = int((~complete).sum())
    starts, targets = starts[complete], targets[complete]
    if limit is not None:
        starts, targets = starts[: int(limit)], targets[: int(limit)]
    view = np.lib.stride_tricks.sliding_window_view(feature_table(), INPUT_LENGTH, axis=0)  # [T - 71, F, 72]
    inputs = view[starts - INPUT_LENGTH].transpose(0, 2, 1)
    return Windows(np.ascontiguousarray(inputs), np.ascontiguousarray(targets), starts, load().timestamps, dropped)
