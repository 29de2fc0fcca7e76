"""Free Spoken Digit Dataset (FSDD): 3,000 recordings of the digits 0-9, 8 kHz mono 16-bit WAV.

Six speakers (george, jackson, lucas, nicolas, theo, yweweler) each say every digit 50 times; a file is
``recordings/{digit}_{speaker}_{index}.wav`` (index 0-49). The dataset's README fixes the test split:
"Recordings numbered 0-4 (inclusive) are in the test and 5-49 are in the training set." The zoo carves
its validation split out of that training set by index too:

* ``test``: index 0-4 of every speaker and digit (300 recordings, the official test set);
* ``validation``: index 5-9 (300), for choosing epochs; never the test split;
* ``train``: index 10-49 (2,400).

Every speaker is in every split, so these splits do not measure how the model does on a new voice. For that,
``holdout_speaker=NAME`` gives the leave-one-speaker-out protocol: ``test`` is all 500 recordings of that
speaker, ``validation`` index 5-9 of the five others (250), ``train`` index 0-4 and 10-49 of the five
others (2,250).

The archive is read from ``$ZOO_DATA_DIR/fsdd/recordings.tar.gz``; the GitHub archive of the dataset's
release (``free-spoken-digit-dataset-1.0.10.tar.gz``, from :data:`OFFICIAL_URL`) placed there works too.
It is not downloaded automatically: the repository publishes no checksum for its archive.

Example:
    >>> from zoo.data import fsdd
    >>> test = fsdd.load("test")
    >>> len(test), test.digits[0], test.speakers[0], test.waveforms[0].dtype
    (300, 0, 'george', dtype('float32'))
"""

from __future__ import annotations

import dataclasses
import functools
import io
import os
import re
import tarfile
import wave

from zoo.data._common import check_limit, find_local_file, sample_indices

SAMPLE_RATE = 8000
SPEAKERS = ("george", "jackson", "lucas", "nicolas", "theo", "yweweler")
DIGITS = tuple(str(d) for d in range(10))
SPLITS = ("train", "validation", "test")
TEST_INDICES, VALIDATION_INDICES = range(0, 5), range(5, 10)
COUNTS = {"train": 2_400, "validation": 300, "test": 300}
HOLDOUT_COUNTS = {"train": 2_250, "validation": 250, "test": 500}
NUM_FILES = 3_000
ARCHIVES = ("recordings.tar.gz", "free-spoken-digit-dataset-1.0.10.tar.gz", "v1.0.10.tar.gz")
OFFICIAL_URL = "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/tags/v1.0.10.tar.gz"
_FILE = re.compile(r"(?:^|/)recordings/(\d)_([a-z]+)_(\d+)\.wav$")


@dataclasses.dataclass(frozen=True)
class Recordings:
    """Parallel lists: ``waveforms[i]`` (float32 in [-1, 1], 8 kHz) is ``digits[i]`` said by ``speakers[i]``
    (recording ``indices[i]`` of that speaker and digit)."""

    waveforms: list
    digits: list[int]
    speakers: list[str]
    indices: list[int]

    def __len__(self) -> int:
        return len(self.digits)

    def take(self, rows) -> "Recordings":
        rows = list(rows)
        return Recordings([self.waveforms[i] for i in rows], [self.digits[i] for i in rows],
                          [self.speakers[i] for i in rows], [self.indices[i] for i in rows])

    def file_name(self, i: int) -> str:
        return f"{self.digits[i]}_{self.speakers[i]}_{self.indices[i]}.wav"


def archive_path() -> str:
    """Path of the recordings archive in ``$ZOO_DATA_DIR/fsdd/``."""
    local = find_local_file("fsdd", ARCHIVES)
    if local:
        return local
    raise FileNotFoundError(
        "The FSDD recordings were not found: set ZOO_DATA_DIR to a folder holding fsdd/recordings.tar.gz, or put "
        f"the dataset's release archive ({OFFICIAL_URL}) there as fsdd/free-spoken-digit-dataset-1.0.10.tar.gz."
    )


def read_pcm16(data: bytes, what: str):
    """A 16-bit mono WAV file's samples as float32 in [-1, 1] (the format of every FSDD file)."""
    import numpy as np

    with wave.open(io.BytesIO(data)) as wav:
        if (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) != (1, 2, SAMPLE_RATE):
            raise ValueError(f"{what}: expected 8 kHz mono 16-bit audio, got {wav.getframerate()} Hz, "
                             f"{wav.getnchannels()} channel(s), {8 * wav.getsampwidth()}-bit.")
        frames = wav.readframes(wav.getnframes())
    return np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0


@functools.lru_cache(maxsize=1)
def _all(path: str) -> Recordings:
    rows = []
    with tarfile.open(path) as archive:
        for member in archive:
            match = _FILE.search(member.name)
            if member.isfile() and match:
                digit, speaker, index = int(match[1]), match[2], int(match[3])
                waveform = read_pcm16(archive.extractfile(member).read(), member.name)
                rows.append((speaker, digit, index, waveform))
    if len(rows) != NUM_FILES:
        raise ValueError(f"{path} does not look like the FSDD recordings: expected {NUM_FILES:,} WAV files under "
                         f"recordings/, found {len(rows):,}.")
    rows.sort(key=lambda row: row[:3])
    return Recordings([r[3] for r in rows], [r[1] for r in rows], [r[0] for r in rows], [r[2] for r in rows])


def split_of(index: int, speaker: str, holdout_speaker: str | None = None) -> str:
    """Which split a recording belongs to (see the module docstring)."""
    if holdout_speaker is not None and speaker == holdout_speaker:
        return "test"
    if index in VALIDATION_INDICES:
        return "validation"
    if index in TEST_INDICES and holdout_speaker is None:
        return "test"
    return "train"


def load(split: str, *, limit: int | None = None, holdout_speaker: str | None = None) -> Recordings:
    """Loads one split, ordered by speaker, digit and index.

    Args:
        split: ``"train"``, ``"validation"`` or ``"test"``.
        limit: keep ``limit`` recordings: a fixed seeded sample of ``train`` stratified by digit, the first
            ``limit`` of the other splits in an order that spreads digits and speakers evenly (every 10 recordings
            hold the ten digits; a slice of 20 holds every speaker).
        holdout_speaker: leave this speaker out of ``train`` and ``validation`` and test on all of their
            recordings (the speaker-independent protocol).
    """
    if split not in SPLITS:
        raise ValueError(f"Unknown FSDD split {split!r}; expected one of {SPLITS}.")
    if holdout_speaker is not None and holdout_speaker not in SPEAKERS:
        raise ValueError(f"Unknown FSDD speaker {holdout_speaker!r}; expected one of {SPEAKERS}.")
    check_limit(limit)
    data = _all(archive_path())
    rows = [i for i in range(len(data)) if split_of(data.indices[i], data.speakers[i], holdout_speaker) == split]
    data = data.take(rows)
    if limit is None:
        return data
    if split == "train":
        return data.take(sorted(sample_indices(len(data), limit, strata=data.digits)))
    # Evaluation slices: index 0 first, and within an index diagonals of the (speaker, digit) grid, each
    # holding every digit and every speaker: the first 10 recordings are the ten digits said by six speakers.
    rank = {speaker: r for r, speaker in enumerate(SPEAKERS)}
    order = sorted(range(len(data)), key=lambda i: (data.indices[i], (rank[data.speakers[i]] - data.digits[i]) % 6,
                                                    data.digits[i]))
    return data.take(sorted(order[:limit]))


def local_recording(name: str = "7_jackson_0.wav") -> bytes | None:
    """The bytes of one recording from the archive in ``$ZOO_DATA_DIR`` (for demos), or None without the data."""
    try:
        path = archive_path()
    except FileNotFoundError:
        return None
    with tarfile.open(path) as archive:
        for member in archive:
            if member.isfile() and os.path.basename(member.name) == name and _FILE.search(member.name):
                return archive.extractfile(member).read()
    raise ValueError(f"No recording named {name!r} in {path}.")
