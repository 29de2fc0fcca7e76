"""The Numenta Anomaly Benchmark (NAB) score, ported from NAB's scorer to numpy.

This follows NAB's own code (github.com/numenta/NAB: ``nab/sweeper.py``, ``nab/optimizer.py``,
``nab/scorer.py``, ``nab/runner.py``, MIT licensed). At NAB's published thresholds it reproduces NAB's
published per-file, per-row, raw and normalized scores; its sweep gives the same threshold curve as NAB's
sweeper. (NAB's published thresholds predate the sweep: a hill climb found them, and for HTM's
reward_low_FP_rate it stopped at a local maximum, 63.12, where the sweep finds 63.21; see
``tests/test_nab_scorer.py``.) In short:

* Each file has labelled anomaly windows (``labels/combined_windows.json``). A window spans the rows
  from the first occurrence of its start timestamp to the first occurrence of its end timestamp.
* The first ``min(floor(0.15 n), 750)`` rows of a file (the probation period) are not scored.
* A row is a detection when its anomaly score is ``>= threshold``. Only the earliest detection in a window
  counts: it earns ``A_TP * sigma(p) / sigma(-1)`` where ``p = -(end - i + 1) / width`` is its relative position
  and ``sigma(x) = 2 / (1 + exp(5x)) - 1`` (NAB's scaled sigmoid, ``-1`` beyond ``x > 3``). A window without a
  detection costs ``-A_FN``.
* A detection outside every window costs ``A_FP * sigma((i - end) / (width - 1))``, measured from the end of the
  preceding window (nearly ``-A_FP`` far from it, near 0 just after it), or ``-A_FP`` before the first window.
  True negatives count nothing.
* The raw score is the sum over the corpus. One threshold per detector and profile is chosen by a sweep over
  every anomaly score in the corpus (the optimizer) and the score is normalized as
  ``100 * (S - S_null) / (S_perfect - S_null)``: ``S_null`` is NAB's null detector (a constant score, at its own
  best threshold: it detects nothing, so ``-A_FN`` per window) and ``S_perfect = A_TP * number of windows``.

The corpus is any mapping ``{name: series}`` whose items have ``timestamps`` (``datetime64``, in file order)
and ``windows`` (``(start, end)`` pairs), such as :func:`zoo.data.nab.load`'s.

Example:
    >>> from zoo.data import nab
    >>> from zoo.metrics import nab as nab_score
    >>> corpus = nab.load()
    >>> htm = {name: r.anomaly_score for name, r in nab.load_reference_results("numenta").items()}
    >>> result = nab_score.normalized_scores(htm, corpus)
    >>> round(result["standard"]["score"], 2), round(result["reward_low_FN_rate"]["score"], 2)
    (70.1, 74.32)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

import numpy as np

PROBATION_PERCENT = 0.15
# NAB's sweep starts "above every score" at 1.1 (scores are meant to lie in [0, 1]).
NO_DETECTION_THRESHOLD = 1.1


@dataclasses.dataclass(frozen=True)
class Profile:
    """A NAB application profile: the weights of NAB's cost matrix (``config/profiles.json``).

    ``tn`` is kept for completeness: NAB gives true negatives no score.
    """

    name: str
    tp: float
    fp: float
    fn: float
    tn: float = 1.0

    @classmethod
    def from_cost_matrix(cls, name: str, cost_matrix: Mapping) -> "Profile":
        """From NAB's ``{"tpWeight", "fpWeight", "fnWeight", "tnWeight"}``.

        Example:
            >>> Profile.from_cost_matrix("standard", {"tpWeight": 1, "fpWeight": 0.11, "fnWeight": 1, "tnWeight": 1})
            Profile(name='standard', tp=1.0, fp=0.11, fn=1.0, tn=1.0)
        """
        try:
            return cls(name, float(cost_matrix["tpWeight"]), float(cost_matrix["fpWeight"]),
                       float(cost_matrix["fnWeight"]), float(cost_matrix.get("tnWeight", 1.0)))
        except KeyError as error:
            raise ValueError(f"Cost matrix of profile {name!r} lacks {error.args[0]!r}.") from None


PROFILES: dict[str, Profile] = {
    "standard": Profile("standard", tp=1.0, fp=0.11, fn=1.0),
    "reward_low_FP_rate": Profile("reward_low_FP_rate", tp=1.0, fp=0.22, fn=1.0),
    "reward_low_FN_rate": Profile("reward_low_FN_rate", tp=1.0, fp=0.11, fn=2.0),
}


def _profile(profile) -> Profile:
    if isinstance(profile, Profile):
        return profile
    if isinstance(profile, str):
        if profile not in PROFILES:
            raise ValueError(f"Unknown NAB profile {profile!r}; expected one of {tuple(PROFILES)} or a Profile.")
        return PROFILES[profile]
    raise TypeError(f"profile must be a profile name or a Profile, got {type(profile).__name__}.")


def probation_length(num_rows: int, percent: float = PROBATION_PERCENT) -> int:
    """Rows at the start of a file that NAB does not score: ``min(floor(percent * n), percent * 5000)``.

    Example:
        >>> probation_length(4032), probation_length(1127), probation_length(22695)
        (604, 169, 750)
    """
    if isinstance(num_rows, bool) or not isinstance(num_rows, (int, np.integer)) or num_rows < 0:
        raise ValueError(f"num_rows must be a non-negative integer, got {num_rows!r}.")
    return int(min(math.floor(percent * num_rows), percent * 5000))


def scaled_sigmoid(position) -> np.ndarray:
    """NAB's scaled sigmoid of a relative position: ``2 / (1 + exp(5 x)) - 1``, and ``-1`` for ``x > 3``.

    Example:
        >>> np.round(scaled_sigmoid([-1.0, -0.5, 0.0, 1.0, 3.5]), 5).tolist()
        [0.98661, 0.84828, 0.0, -0.98661, -1.0]
    """
    x = np.asarray(position, dtype=np.float64)
    with np.errstate(over="ignore"):
        value = 2.0 * (1.0 / (1.0 + np.exp(5.0 * x))) - 1.0
    return np.where(x > 3.0, -1.0, value)


_MAX_TP = float(scaled_sigmoid(-1.0))


@dataclasses.dataclass(frozen=True)
class _Layout:
    """What NAB's sweeper knows of one file before seeing any score (profile-free)."""

    num_rows: int
    probation: int
    window: np.ndarray  # per row: index of its window, -1 outside every window
    unweighted: np.ndarray  # per row: sigma of the position in (or after) a window, before the profile's weights
    scorable_windows: np.ndarray  # per window: True when some of its rows lie after the probation period
    starts: np.ndarray  # per window: its first row

    def weighted(self, profile: Profile) -> np.ndarray:
        inside = self.window >= 0
        return np.where(inside, self.unweighted * profile.tp / _MAX_TP, self.unweighted * profile.fp)


def _first_index(timestamps: np.ndarray, moment, name: str) -> int:
    hits = np.flatnonzero(timestamps == np.datetime64(moment))
    if not len(hits):
        # NAB's labeler rejects such windows too: boundaries must be timestamps of the file.
        raise ValueError(f"{name}: window boundary {moment} is not a timestamp of the file.")
    return int(hits[0])


def _layout(name: str, series, percent: float) -> _Layout:
    timestamps = getattr(series, "timestamps", None)
    windows = getattr(series, "windows", None)
    if timestamps is None or windows is None:
        raise TypeError(f"Corpus item {name!r} must have 'timestamps' and 'windows' (see zoo.data.nab.Series).")
    timestamps = np.asarray(timestamps)
    if not np.issubdtype(timestamps.dtype, np.datetime64):
        raise TypeError(f"{name}: timestamps must be datetime64, got {timestamps.dtype}.")
    n = len(timestamps)
    starts = np.array([_first_index(timestamps, w[0], name) for w in windows], dtype=np.int64)
    ends = np.array([_first_index(timestamps, w[1], name) for w in windows], dtype=np.int64)
    if np.any(ends < starts) or np.any(starts[1:] <= ends[:-1]):
        raise ValueError(f"{name}: windows must be in time order and must not overlap.")
    widths = (ends - starts + 1).astype(np.float64)
    rows = np.arange(n, dtype=np.int64)
    window = np.full(n, -1, dtype=np.int64)
    for k, (start, end) in enumerate(zip(starts, ends)):
        window[start:end + 1] = k
    unweighted = np.full(n, -1.0)
    inside = window >= 0
    k = window[inside]
    unweighted[inside] = scaled_sigmoid(-(ends[k] - rows[inside] + 1) / widths[k])
    # Outside: distance past the end of the preceding window, relative to its width less one. NAB divides
    # by zero after a one-row window; here that position is infinite, so the row costs the full -A_FP.
    previous = np.searchsorted(ends, rows, side="left") - 1
    after = ~inside & (previous >= 0)
    k = previous[after]
    with np.errstate(divide="ignore", invalid="ignore"):
        position = np.abs(ends[k] - rows[after]) / (widths[k] - 1.0)
    unweighted[after] = scaled_sigmoid(np.where(np.isnan(position), np.inf, position))
    probation = probation_length(n, percent)
    return _Layout(n, probation, window, unweighted, ends >= probation, starts)


def _layouts(corpus: Mapping, percent: float) -> dict[str, _Layout]:
    if not isinstance(corpus, Mapping):
        raise TypeError(f"corpus must be a mapping {{name: series}}, got {type(corpus).__name__}.")
    if not corpus:
        raise ValueError("corpus is empty.")
    return {name: _layout(name, series, percent) for name, series in corpus.items()}


def _check_scores(scores_by_file: Mapping, layouts: Mapping[str, _Layout]) -> dict[str, np.ndarray]:
    if not isinstance(scores_by_file, Mapping):
        raise TypeError(f"scores_by_file must be a mapping {{name: scores}}, got {type(scores_by_file).__name__}.")
    missing = [name for name in layouts if name not in scores_by_file]
    extra = [name for name in scores_by_file if name not in layouts]
    if missing or extra:
        raise ValueError(
            f"scores_by_file must have one entry per corpus file: missing {missing[:3]}"
            f"{'...' if len(missing) > 3 else ''}, unknown {extra[:3]}{'...' if len(extra) > 3 else ''}."
        )
    out = {}
    for name, layout in layouts.items():
        raw = np.asarray(scores_by_file[name])
        if raw.dtype == object or not (np.issubdtype(raw.dtype, np.number) or raw.dtype == bool):
            raise TypeError(f"{name}: anomaly scores must be numbers, got dtype {raw.dtype}.")
        scores = raw.astype(np.float64)
        if scores.ndim != 1 or len(scores) != layout.num_rows:
            raise ValueError(f"{name}: expected {layout.num_rows} anomaly scores (one per row), got shape {raw.shape}.")
        if not np.all(np.isfinite(scores)):
            raise ValueError(f"{name}: anomaly scores must be finite; found NaN or infinity at row "
                             f"{int(np.flatnonzero(~np.isfinite(scores))[0])}.")
        out[name] = scores
    return out


@dataclasses.dataclass(frozen=True)
class FileScore:
    """One file's NAB score at a threshold, and its counts of rows after the probation period.

    Attributes:
        score: the file's raw score (``sum(window_scores) + fp_score``).
        window_scores: per window, the TP reward of its earliest detection or ``-A_FN``; NaN for a window
            wholly inside the probation period (NAB does not score it).
        fp_score: the sum of the (negative) costs of the detections outside windows.
        tp, tn, fp, fn: rows in a window detected / outside not detected / outside detected / in a window
            not detected. ``total`` is their sum, the file's rows after the probation period.
        row_scores: each row's share of ``score``: a window's score on the window's first row, each false
            positive's cost on its row, 0 elsewhere (the ``S(t)_<profile>`` columns of NAB's result files).
    """

    score: float
    window_scores: np.ndarray
    fp_score: float
    tp: int
    tn: int
    fp: int
    fn: int
    total: int
    row_scores: np.ndarray = dataclasses.field(repr=False)


@dataclasses.dataclass(frozen=True)
class CorpusScore:
    """The result of :func:`score_corpus`: the raw corpus score and every file's :class:`FileScore`."""

    profile: str
    threshold: float
    raw: float
    files: dict[str, FileScore]

    def counts(self) -> dict[str, int]:
        """The corpus totals of ``tp``, ``tn``, ``fp``, ``fn`` and ``total``."""
        return {key: sum(getattr(f, key) for f in self.files.values()) for key in ("tp", "tn", "fp", "fn", "total")}


def _file_score(layout: _Layout, scores: np.ndarray, profile: Profile, threshold: float) -> FileScore:
    weighted = layout.weighted(profile)
    scorable = np.arange(layout.num_rows) >= layout.probation
    detected = scorable & (scores >= threshold)
    inside = layout.window >= 0
    fp_rows = detected & ~inside
    fp_score = float(weighted[fp_rows].sum())
    window_scores = np.where(layout.scorable_windows, -profile.fn, np.nan)
    hits = np.flatnonzero(detected & inside)
    # Rows are in file order, so the first hit of each window is its earliest detection (its best reward).
    first_windows, first = np.unique(layout.window[hits], return_index=True)
    window_scores[first_windows] = weighted[hits[first]]
    tp = int(np.count_nonzero(detected & inside))
    fp = int(np.count_nonzero(fp_rows))
    fn = int(np.count_nonzero(scorable & inside)) - tp
    tn = int(np.count_nonzero(scorable & ~inside)) - fp
    score = float(np.nansum(window_scores)) + fp_score
    row_scores = np.where(fp_rows, weighted, 0.0)
    counted = layout.scorable_windows
    row_scores[layout.starts[counted]] = window_scores[counted]
    return FileScore(score, window_scores, fp_score, tp, tn, fp, fn, tp + tn + fp + fn, row_scores)


def score_corpus(scores_by_file: Mapping, corpus: Mapping, *, profile="standard", threshold: float,
                 probation_percent: float = PROBATION_PERCENT) -> CorpusScore:
    """Scores a detector on the corpus at one threshold (NAB's scoring step).

    Args:
        scores_by_file: ``{name: anomaly scores}``, one finite score per row of every corpus file.
        corpus: ``{name: series}`` with ``timestamps`` and ``windows`` (:func:`zoo.data.nab.load`).
        profile: ``"standard"``, ``"reward_low_FP_rate"``, ``"reward_low_FN_rate"`` or a :class:`Profile`.
        threshold: a row is a detection when its score is ``>= threshold``.

    Example:
        >>> result = score_corpus(htm, corpus, profile="standard", threshold=0.5421876907348634)
        >>> round(result.raw, 4), result.counts()["tp"]
        (46.6345, 240)
    """
    profile = _profile(profile)
    threshold = float(threshold)
    if math.isnan(threshold):
        raise ValueError("threshold must not be NaN.")
    layouts = _layouts(corpus, probation_percent)
    scores = _check_scores(scores_by_file, layouts)
    files = {name: _file_score(layouts[name], scores[name], profile, threshold) for name in layouts}
    return CorpusScore(profile.name, threshold, float(sum(f.score for f in files.values())), files)


class _Sweep:
    """All scorable rows of a corpus, sorted once by decreasing anomaly score."""

    def __init__(self, scores: Mapping[str, np.ndarray], layouts: Mapping[str, _Layout]):
        anomaly, window, unweighted = [], [], []
        offset = 0
        scorable_windows = 0
        for name, layout in layouts.items():
            rows = slice(layout.probation, None)
            local = layout.window[rows]
            anomaly.append(scores[name][rows])
            window.append(np.where(local >= 0, local + offset, -1))
            unweighted.append(layout.unweighted[rows])
            offset += len(layout.scorable_windows)
            scorable_windows += int(layout.scorable_windows.sum())
        anomaly = np.concatenate(anomaly)
        order = np.argsort(-anomaly, kind="stable")
        self.anomaly = anomaly[order]
        self.window = np.concatenate(window)[order]
        self.unweighted = np.concatenate(unweighted)[order]
        self.scorable_windows = scorable_windows
        # The rows that lower the threshold to a new value: the last of each run of equal scores.
        self.last_of_run = np.flatnonzero(np.append(self.anomaly[1:] != self.anomaly[:-1], True))
        hits = np.flatnonzero(self.window >= 0)
        by_window = hits[np.argsort(self.window[hits], kind="stable")]
        cuts = np.flatnonzero(np.diff(self.window[by_window])) + 1
        self.window_runs = np.split(by_window, cuts) if len(by_window) else []

    def curve(self, profile: Profile) -> tuple[np.ndarray, np.ndarray]:
        inside = self.window >= 0
        weighted = np.where(inside, self.unweighted * profile.tp / _MAX_TP, self.unweighted * profile.fp)
        step = np.where(inside, 0.0, weighted)
        # A detection in a window changes the score only when it beats the window's best so far.
        for run in self.window_runs:
            best = np.maximum.accumulate(np.maximum(weighted[run], -profile.fn))
            step[run] = np.diff(best, prepend=-profile.fn)
        base = -profile.fn * self.scorable_windows
        total = base + np.cumsum(step)
        none = NO_DETECTION_THRESHOLD
        if len(self.anomaly) and self.anomaly[0] >= none:
            none = float(np.nextafter(self.anomaly[0], np.inf))
        thresholds = np.concatenate([[none], self.anomaly[self.last_of_run]])
        raw = np.concatenate([[base], total[self.last_of_run]])
        return thresholds, raw


def threshold_sweep(scores_by_file: Mapping, corpus: Mapping, profile="standard", *,
                    probation_percent: float = PROBATION_PERCENT) -> tuple[np.ndarray, np.ndarray]:
    """The raw corpus score at every distinct threshold (NAB's ``calcScoreByThreshold`` over the corpus).

    Returns ``(thresholds, raw_scores)``, thresholds decreasing: first 1.1 (nothing detected), then every
    distinct anomaly score after the probation periods, each scored with the detections ``>=`` it.

    Example:
        >>> thresholds, raw = threshold_sweep(htm, corpus, "standard")
        >>> float(raw[0])  # nothing detected: -A_FN for each of the 116 windows
        -116.0
    """
    profile = _profile(profile)
    layouts = _layouts(corpus, probation_percent)
    return _Sweep(_check_scores(scores_by_file, layouts), layouts).curve(profile)


def _best(thresholds: np.ndarray, raw: np.ndarray) -> tuple[float, float]:
    # The first maximum is the highest threshold among ties, as NAB's stable sort by score picks.
    k = int(np.argmax(raw))
    return float(thresholds[k]), float(raw[k])


def optimize_threshold(scores_by_file: Mapping, corpus: Mapping, profile="standard", *,
                       probation_percent: float = PROBATION_PERCENT) -> tuple[float, float]:
    """The threshold with the best raw corpus score, and that score (NAB's optimizer).

    Example:
        >>> threshold, raw = optimize_threshold(htm, corpus, "standard")
        >>> round(raw, 4)
        46.6345
    """
    return _best(*threshold_sweep(scores_by_file, corpus, profile, probation_percent=probation_percent))


def _null_scores(layouts: Mapping[str, _Layout]) -> dict[str, np.ndarray]:
    # NAB's null detector reports 0.5 on every row.
    return {name: np.full(layout.num_rows, 0.5) for name, layout in layouts.items()}


def null_score(corpus: Mapping, profile="standard", *, probation_percent: float = PROBATION_PERCENT) -> float:
    """``S_null``: NAB's null detector (a constant score) at its own best threshold.

    Example:
        >>> null_score(corpus, "reward_low_FN_rate")
        -232.0
    """
    layouts = _layouts(corpus, probation_percent)
    return _best(*_Sweep(_null_scores(layouts), layouts).curve(_profile(profile)))[1]


def perfect_score(corpus: Mapping, profile="standard") -> float:
    """``S_perfect``: ``A_TP`` for every labelled window of the corpus (NAB counts them all).

    Example:
        >>> perfect_score(corpus)
        116.0
    """
    if not isinstance(corpus, Mapping):
        raise TypeError(f"corpus must be a mapping {{name: series}}, got {type(corpus).__name__}.")
    return _profile(profile).tp * sum(len(series.windows) for series in corpus.values())


def normalize(raw: float, null: float, perfect: float) -> float:
    """``100 * (raw - null) / (perfect - null)``; NaN when ``perfect == null`` (no window to find).

    Example:
        >>> round(normalize(46.634450197137596, -116.0, 116.0), 2)
        70.1
    """
    if perfect == null:
        return float("nan")
    return 100.0 * (raw - null) / (perfect - null)


def _profiles(profiles) -> list[Profile]:
    if profiles is None:
        return list(PROFILES.values())
    if isinstance(profiles, (str, Profile)):
        profiles = [profiles]
    return [_profile(p) for p in profiles]


def normalized_scores(scores_by_file: Mapping, corpus: Mapping, *, profiles=None,
                      thresholds: Mapping[str, float] | None = None,
                      probation_percent: float = PROBATION_PERCENT) -> dict[str, dict[str, float]]:
    """NAB's final scores: per profile, the optimized threshold, the raw score and the normalized score.

    Args:
        profiles: profile names or :class:`Profile` objects; NAB's three by default.
        thresholds: ``{profile name: threshold}`` to score at given thresholds instead of optimizing
            (e.g. NAB's published ``config/thresholds.json``).

    Returns:
        ``{profile: {"threshold", "raw", "null", "perfect", "score"}}``; ``score`` is
        ``100 * (raw - null) / (perfect - null)``: 0 for the null detector, 100 for a perfect one.

    Example:
        >>> round(normalized_scores(htm, corpus)["reward_low_FP_rate"]["score"], 2)  # NAB's sweep; 63.12 published
        63.21
    """
    layouts = _layouts(corpus, probation_percent)
    scores = _check_scores(scores_by_file, layouts)
    sweep = _Sweep(scores, layouts)
    null_sweep = _Sweep(_null_scores(layouts), layouts)
    out = {}
    for profile in _profiles(profiles):
        if thresholds is not None and profile.name in thresholds:
            threshold = float(thresholds[profile.name])
            raw = sum(_file_score(layouts[n], scores[n], profile, threshold).score for n in layouts)
        else:
            threshold, raw = _best(*sweep.curve(profile))
        null = _best(*null_sweep.curve(profile))[1]
        perfect = perfect_score(corpus, profile)
        out[profile.name] = {"threshold": threshold, "raw": float(raw), "null": null, "perfect": perfect,
                             "score": normalize(raw, null, perfect)}
    return out


def category_scores(scores_by_file: Mapping, corpus: Mapping, *, profiles=None,
                    thresholds: Mapping[str, float] | None = None,
                    probation_percent: float = PROBATION_PERCENT) -> dict[str, dict[str, dict[str, float]]]:
    """Normalized scores per category (a file's folder), at the detector's corpus-wide threshold.

    NAB itself reports only corpus scores. Here a category's raw score is the sum of its files' scores at
    the corpus-wide (optimized, or given) threshold, and it is normalized with that category's own
    baselines: ``null`` is the null detector's score on the category's files at the null detector's
    corpus-wide threshold, ``perfect`` is ``A_TP`` times the category's windows. A category without
    windows (``artificialNoAnomaly``) has ``perfect == null == 0`` and a NaN ``score``; its ``raw`` is
    the cost of its false positives.

    Returns:
        ``{profile: {category: {"threshold", "raw", "null", "perfect", "score"}}}``.

    Example:
        >>> by_category = category_scores(htm, corpus)
        >>> sorted(by_category["standard"])[:2]
        ['artificialNoAnomaly', 'artificialWithAnomaly']
    """
    layouts = _layouts(corpus, probation_percent)
    scores = _check_scores(scores_by_file, layouts)
    nulls = _null_scores(layouts)
    sweep = _Sweep(scores, layouts)
    null_sweep = _Sweep(nulls, layouts)
    groups: dict[str, list[str]] = {}
    for name in layouts:
        groups.setdefault(name.split("/", 1)[0], []).append(name)
    out = {}
    for profile in _profiles(profiles):
        if thresholds is not None and profile.name in thresholds:
            threshold = float(thresholds[profile.name])
        else:
            threshold = _best(*sweep.curve(profile))[0]
        null_threshold = _best(*null_sweep.curve(profile))[0]
        out[profile.name] = {}
        for category, names in sorted(groups.items()):
            raw = sum(_file_score(layouts[n], scores[n], profile, threshold).score for n in names)
            null = sum(_file_score(layouts[n], nulls[n], profile, null_threshold).score for n in names)
            perfect = profile.tp * sum(len(corpus[n].windows) for n in names)
            out[profile.name][category] = {"threshold": threshold, "raw": float(raw), "null": float(null),
                                           "perfect": float(perfect), "score": normalize(raw, null, perfect)}
    return out
