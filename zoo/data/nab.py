"""Numenta Anomaly Benchmark (NAB v1.1): 58 labelled univariate time series for streaming anomaly detection.

The loader reads NAB's own layout (``data/<category>/<file>.csv`` with the header ``timestamp,value``
and ``labels/combined_windows.json``) from ``$ZOO_DATA_DIR/nab/nab_data.tar.gz``, or from a NAB checkout
passed as ``path``. NAB publishes no single data archive with a fixed hash, so there is no download:
without a local copy :func:`load` raises ``FileNotFoundError``.

The reference outputs of two NAB detectors (``numenta`` = HTM and ``windowedGaussian``) with NAB's
``config/thresholds.json``, ``config/profiles.json`` and ``results/final_results.json`` are read from
``$ZOO_DATA_DIR/nab/nab_reference_results.tar.xz`` by :func:`load_reference_results` and
:func:`load_reference_json`; they exist to check the scorer in :mod:`zoo.metrics.nab`.

Example:
    >>> from zoo.data import nab
    >>> corpus = nab.load()
    >>> taxi = corpus["realKnownCause/nyc_taxi.csv"]
    >>> len(taxi), taxi.category, len(taxi.windows)
    (10320, 'realKnownCause', 5)
"""

from __future__ import annotations

import dataclasses
import functools
import io
import json
import os
import tarfile

import numpy as np

from zoo.data._common import find_local_file

ARCHIVE_NAMES = ("nab_data.tar.gz",)
REFERENCE_ARCHIVE_NAMES = ("nab_reference_results.tar.xz",)
WINDOWS_MEMBER = "labels/combined_windows.json"
CATEGORIES = (
    "artificialNoAnomaly",
    "artificialWithAnomaly",
    "realAdExchange",
    "realAWSCloudwatch",
    "realKnownCause",
    "realTraffic",
    "realTweets",
)
REFERENCE_DETECTORS = ("numenta", "windowedGaussian")
REFERENCE_JSON = {
    "thresholds": "config/thresholds.json",
    "profiles": "config/profiles.json",
    "final_results": "results/final_results.json",
}
NUM_FILES = 58
NUM_ROWS = 365_558
NUM_WINDOWS = 116
OFFICIAL_REPOSITORY = "https://github.com/numenta/NAB (commit ea702d75)"


@dataclasses.dataclass(frozen=True, eq=False)
class Series:
    """One NAB file: its rows in file order and its labelled anomaly windows.

    Attributes:
        name: NAB's relative path, e.g. ``"realKnownCause/nyc_taxi.csv"``.
        timestamps: ``datetime64[s]``, in file order (not always sorted or unique, as in NAB).
        values: ``float64``, one per timestamp.
        windows: ``(start, end)`` pairs of ``datetime64[s]``, both ends inclusive, in time order.
    """

    name: str
    timestamps: np.ndarray
    values: np.ndarray
    windows: tuple[tuple[np.datetime64, np.datetime64], ...]

    def __len__(self) -> int:
        return len(self.timestamps)

    @property
    def category(self) -> str:
        """The folder of the file: ``"realKnownCause"``, ``"artificialNoAnomaly"``, ..."""
        return self.name.split("/", 1)[0]

    @property
    def labels(self) -> np.ndarray:
        """0/1 per row: 1 where ``start <= timestamp <= end`` for some window (NAB's ``label`` column)."""
        out = np.zeros(len(self.timestamps), dtype=np.int8)
        for start, end in self.windows:
            out[(self.timestamps >= start) & (self.timestamps <= end)] = 1
        return out


@dataclasses.dataclass(frozen=True, eq=False)
class ReferenceResult:
    """One file of a NAB detector's published output (``results/<detector>/<category>/<detector>_<file>``).

    Attributes:
        timestamps: ``datetime64[s]`` per row.
        anomaly_score: the detector's score per row, what NAB's optimizer and scorer read.
        label: NAB's 0/1 label per row.
        row_scores: ``{profile: S(t)}``, NAB's per-row score columns at the published thresholds.
    """

    timestamps: np.ndarray
    anomaly_score: np.ndarray
    label: np.ndarray
    row_scores: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.timestamps)


def _missing(names: tuple[str, ...], what: str) -> FileNotFoundError:
    return FileNotFoundError(
        f"The NAB {what} was not found: set ZOO_DATA_DIR to a folder holding nab/{names[0]} (looked in "
        f"{os.environ.get('ZOO_DATA_DIR') or 'no ZOO_DATA_DIR set'}). NAB publishes no single archive "
        f"with a fixed hash to download; the files come from {OFFICIAL_REPOSITORY}."
    )


def archive_path() -> str:
    """Path of ``nab_data.tar.gz`` in the data directory; ``FileNotFoundError`` when absent."""
    local = find_local_file("nab", ARCHIVE_NAMES)
    if not local:
        raise _missing(ARCHIVE_NAMES, "data archive")
    return local


def reference_archive_path() -> str:
    """Path of ``nab_reference_results.tar.xz`` in the data directory; ``FileNotFoundError`` when absent."""
    local = find_local_file("nab", REFERENCE_ARCHIVE_NAMES)
    if not local:
        raise _missing(REFERENCE_ARCHIVE_NAMES, "reference results archive")
    return local


def _parse_timestamps(strings: list[str], where: str) -> np.ndarray:
    try:
        return np.array(strings, dtype="datetime64[us]").astype("datetime64[s]")
    except ValueError as error:
        raise ValueError(f"{where}: unreadable timestamp ({error}).") from None


def _parse_table(text: str, where: str) -> tuple[list[str], np.ndarray]:
    """The header and the rows of a CSV without quoting, as a 2-D array of strings."""
    lines = text.splitlines()
    if not lines:
        raise ValueError(f"{where} is empty.")
    header = lines[0].split(",")
    rows = [line.split(",") for line in lines[1:] if line]
    if any(len(row) != len(header) for row in rows):
        raise ValueError(f"{where}: every row must have the {len(header)} columns of the header {header}.")
    return header, np.array(rows, dtype=str).reshape(len(rows), len(header))


def _read_series(name: str, text: str, windows: list) -> Series:
    header, table = _parse_table(text, name)
    if header != ["timestamp", "value"]:
        raise ValueError(f"{name}: expected the header 'timestamp,value', found {','.join(header)!r}.")
    timestamps = _parse_timestamps(table[:, 0].tolist(), name)
    values = table[:, 1].astype(np.float64)
    pairs = []
    for pair in windows:
        if len(pair) != 2:
            raise ValueError(f"{name}: a window must be [start, end], got {pair!r}.")
        start, end = _parse_timestamps(list(pair), f"{WINDOWS_MEMBER} for {name}")
        if end < start:
            raise ValueError(f"{name}: window {pair!r} ends before it starts.")
        pairs.append((start, end))
    return Series(name, timestamps, values, tuple(pairs))


def _read_members(path: str) -> tuple[dict[str, str], str]:
    """CSV texts by NAB name and the windows JSON text, from an archive or a NAB checkout folder."""
    texts: dict[str, str] = {}
    if os.path.isdir(path):
        root = os.path.join(path, "data")
        for category in sorted(os.listdir(root)) if os.path.isdir(root) else ():
            folder = os.path.join(root, category)
            for file in sorted(os.listdir(folder)) if os.path.isdir(folder) else ():
                if file.endswith(".csv"):
                    with open(os.path.join(folder, file), encoding="utf-8") as handle:
                        texts[f"{category}/{file}"] = handle.read()
        labels = os.path.join(path, WINDOWS_MEMBER)
        if not os.path.isfile(labels):
            raise FileNotFoundError(f"{path} is not a NAB checkout: {WINDOWS_MEMBER} is missing.")
        with open(labels, encoding="utf-8") as handle:
            return texts, handle.read()
    windows_text = None
    with tarfile.open(path) as archive:
        for member in archive:
            if not member.isfile():
                continue
            name = member.name[2:] if member.name.startswith("./") else member.name
            if name == WINDOWS_MEMBER:
                windows_text = archive.extractfile(member).read().decode("utf-8")
            elif name.startswith("data/") and name.endswith(".csv") and name.count("/") == 2:
                texts[name[len("data/"):]] = archive.extractfile(member).read().decode("utf-8")
    if windows_text is None:
        raise ValueError(f"{path} does not look like the NAB data archive: {WINDOWS_MEMBER} is missing.")
    return texts, windows_text


@functools.lru_cache(maxsize=2)
def _load(path: str) -> dict[str, Series]:
    texts, windows_text = _read_members(path)
    windows = json.loads(windows_text)
    missing = sorted(set(windows) - set(texts))
    if missing:
        raise ValueError(f"{path}: {WINDOWS_MEMBER} names files that are not in data/: {missing[:5]}.")
    # NAB scores only the files its label file names.
    return {name: _read_series(name, texts[name], windows[name]) for name in sorted(windows)}


def load(path: str | None = None) -> dict[str, Series]:
    """The NAB corpus: ``{name: Series}`` for the files named in ``labels/combined_windows.json``, sorted by name.

    Args:
        path: ``nab_data.tar.gz`` (or any tar with NAB's ``data/`` and ``labels/`` folders) or a NAB
            checkout folder; by default ``$ZOO_DATA_DIR/nab/nab_data.tar.gz``.

    Example:
        >>> corpus = load()
        >>> len(corpus), sum(len(s) for s in corpus.values()), sum(len(s.windows) for s in corpus.values())
        (58, 365558, 116)
    """
    path = archive_path() if path is None else os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No NAB data at {path}.")
    return _load(os.path.abspath(path))


def categories(corpus: dict[str, Series]) -> dict[str, list[str]]:
    """File names by category (folder), in corpus order: ``{"realKnownCause": [...], ...}``."""
    out: dict[str, list[str]] = {}
    for name in corpus:
        out.setdefault(name.split("/", 1)[0], []).append(name)
    return out


@functools.lru_cache(maxsize=1)
def _reference_members(path: str) -> dict[str, bytes]:
    with tarfile.open(path) as archive:
        return {m.name: archive.extractfile(m).read() for m in archive if m.isfile()}


def load_reference_results(detector: str) -> dict[str, ReferenceResult]:
    """NAB's published output of ``detector`` (``"numenta"`` or ``"windowedGaussian"``): ``{name: ReferenceResult}``.

    Example:
        >>> htm = load_reference_results("numenta")
        >>> htm["realKnownCause/nyc_taxi.csv"].anomaly_score.shape
        (10320,)
    """
    if detector not in REFERENCE_DETECTORS:
        raise ValueError(f"Unknown NAB reference detector {detector!r}; expected one of {REFERENCE_DETECTORS}.")
    members = _reference_members(reference_archive_path())
    prefix = f"results/{detector}/"
    out = {}
    for member in sorted(members):
        if not (member.startswith(prefix) and member.endswith(".csv")):
            continue
        if member.count("/") != 3:  # results/<detector>/<detector>_<profile>_scores.csv: see load_reference_scores
            continue
        category, file = member[len(prefix):].split("/", 1)
        if not file.startswith(detector + "_"):
            raise ValueError(f"Unexpected reference file {member!r}: its name must start with {detector}_.")
        name = f"{category}/{file[len(detector) + 1:]}"
        header, table = _parse_table(members[member].decode("utf-8"), member)
        for column in ("timestamp", "anomaly_score", "label"):
            if column not in header:
                raise ValueError(f"{member} has no {column!r} column (header {header}).")
        column = {key: table[:, i] for i, key in enumerate(header)}
        out[name] = ReferenceResult(
            timestamps=_parse_timestamps(column["timestamp"].tolist(), member),
            anomaly_score=column["anomaly_score"].astype(np.float64),
            label=column["label"].astype(np.float64).astype(np.int8),
            row_scores={
                key[len("S(t)_"):]: column[key].astype(np.float64) for key in header if key.startswith("S(t)_")
            },
        )
    if not out:
        raise ValueError(f"No results for {detector!r} in {reference_archive_path()}.")
    return out


def load_reference_scores(detector: str, profile: str) -> dict[str, dict[str, float]]:
    """NAB's per-file score table ``results/<detector>/<detector>_<profile>_scores.csv`` at the published threshold.

    Returns ``{name: {"threshold", "score", "tp", "tn", "fp", "fn", "total"}}`` with one more key,
    ``"Totals"``, for the corpus row. ``tp``/``tn``/``fp``/``fn`` count rows after the probation period;
    ``total`` counts every row of the file.

    Example:
        >>> round(load_reference_scores("numenta", "standard")["Totals"]["score"], 4)
        46.6345
    """
    if detector not in REFERENCE_DETECTORS:
        raise ValueError(f"Unknown NAB reference detector {detector!r}; expected one of {REFERENCE_DETECTORS}.")
    member = f"results/{detector}/{detector}_{profile}_scores.csv"
    members = _reference_members(reference_archive_path())
    if member not in members:
        raise ValueError(f"No score table for detector {detector!r} and profile {profile!r} ({member} is missing).")
    header, table = _parse_table(members[member].decode("utf-8"), member)
    column = {key: i for i, key in enumerate(header)}
    out = {}
    for row in table:
        name = "Totals" if row[column["Detector"]] == "Totals" else row[column["File"]]
        out[name] = {
            key.lower().replace("_count", ""): float(row[column[key]]) if row[column[key]] else float("nan")
            for key in ("Threshold", "Score", "TP", "TN", "FP", "FN", "Total_Count")
        }
    return out


def load_reference_json(which: str) -> dict:
    """One of NAB's JSON files from the reference archive: ``"thresholds"``, ``"profiles"`` or ``"final_results"``.

    Example:
        >>> round(load_reference_json("final_results")["numenta"]["standard"], 2)
        70.1
    """
    if which not in REFERENCE_JSON:
        raise ValueError(f"Unknown NAB reference file {which!r}; expected one of {tuple(REFERENCE_JSON)}.")
    members = _reference_members(reference_archive_path())
    return json.load(io.BytesIO(members[REFERENCE_JSON[which]]))
