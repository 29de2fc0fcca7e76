"""J.S. Bach chorales (the Hands-On ML CSV version): four voices, one row per 16th note, MIDI pitch or 0 (rest).

``jsb_chorales.tgz`` holds ``{train,valid,test}/chorale_NNN.csv`` (229 / 76 / 77 chorales; the split of
Boulanger-Lewandowski et al. 2012), each with the header ``note0,note1,note2,note3``. Non-zero notes range
from 36 to 81.

The next-note protocol of *Hands-On ML* (2nd/3rd ed.), chapter 15, exercise 10, which `windows` implements:

* notes are mapped to 47 classes: 0 stays 0 (rest), pitch p becomes ``p - 36 + 1`` (1..46);
* each chorale is cut into windows of 33 consecutive chords (32 + 1) shifted by 16 chords, dropping an
  incomplete last window; a window is unrolled voice by voice (soprano, alto, tenor, bass of chord 0,
  then chord 1...), 132 notes;
* the input is the first 131 notes and the target the last 131 (the next note at every position); the
  metric is accuracy over every note of every window.

Counts (windows): train 3,111, validation 1,039, test 1,067.

Example:
    >>> from zoo.data import jsb_chorales
    >>> chorales = jsb_chorales.load("test")       # a list of int arrays (time, 4)
    >>> x, y = jsb_chorales.windows(chorales)       # (1067, 131) each
"""

from __future__ import annotations

import functools
import io
import re
import tarfile

from zoo.data._common import find_local_file

SPLITS = ("train", "validation", "test")
_FOLDERS = {"train": "train", "validation": "valid", "test": "test"}
COUNTS = {"train": 229, "validation": 76, "test": 77}  # chorales
WINDOW_COUNTS = {"train": 3_111, "validation": 1_039, "test": 1_067}
MIN_NOTE, MAX_NOTE = 36, 81
NUM_CLASSES = 47  # 0 rest, 1..46 for MIDI 36..81
WINDOW_CHORDS, WINDOW_SHIFT = 32, 16
OFFICIAL_URL = "https://github.com/ageron/handson-ml2/raw/master/datasets/jsb_chorales/jsb_chorales.tgz"
OFFICIAL_SHA256 = "594e5e25a3ff8af64687c378628970c6435fddd3093d96df2fa8ca9505ce30fe"


def archive_path() -> str:
    local = find_local_file("jsb-chorales", ("jsb_chorales.tgz",))
    if local:
        return local
    from zoo.data._common import download_official

    return download_official("jsb_chorales.tgz", OFFICIAL_URL, OFFICIAL_SHA256, dataset="jsb-chorales")


@functools.lru_cache(maxsize=2)
def _read(path: str) -> dict:
    import numpy as np

    out = {split: [] for split in SPLITS}
    folders = {folder: split for split, folder in _FOLDERS.items()}
    with tarfile.open(path) as archive:
        members = sorted((m for m in archive.getmembers() if m.isfile() and m.name.endswith(".csv")),
                         key=lambda m: m.name)
        for member in members:
            match = re.match(r"^(?:\./)?(train|valid|test)/chorale_(\d+)\.csv$", member.name)
            if not match:
                continue
            text = archive.extractfile(member).read().decode("utf-8")
            rows = np.loadtxt(io.StringIO(text), delimiter=",", skiprows=1, dtype=np.int32).reshape(-1, 4)
            out[folders[match.group(1)]].append(rows)
    for split, count in COUNTS.items():
        if len(out[split]) != count:
            raise ValueError(f"{path} does not look like jsb_chorales.tgz: {len(out[split])} {split} chorales, expected {count}.")
    return out


def load(split: str, *, limit: int | None = None) -> list:
    """The chorales of a split, in file order: int32 arrays ``(time, 4)`` of MIDI pitches, 0 for rest."""
    if split not in SPLITS:
        raise ValueError(f"Unknown jsb-chorales split {split!r}; expected one of {SPLITS}.")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise ValueError(f"limit must be a positive integer, got {limit!r}.")
    chorales = _read(archive_path())[split]
    return chorales[:limit] if limit is not None else list(chorales)


def to_classes(chords):
    """MIDI pitches (0 rest) -> classes 0..46."""
    import numpy as np

    chords = np.asarray(chords)
    return np.where(chords == 0, 0, chords - MIN_NOTE + 1).astype(np.int32)


def to_pitches(classes):
    """Classes 0..46 -> MIDI pitches (0 rest)."""
    import numpy as np

    classes = np.asarray(classes)
    return np.where(classes == 0, 0, classes + MIN_NOTE - 1).astype(np.int32)


def windows(chorales, *, chords: int = WINDOW_CHORDS, shift: int = WINDOW_SHIFT):
    """``(x, y)``: int32 ``(windows, 4 * chords - 1)`` each, the Hands-On ML next-note windows (see above)."""
    import numpy as np

    rows = []
    for chorale in chorales:
        notes = to_classes(chorale)
        for start in range(0, len(notes) - chords - 1 + 1, shift):
            rows.append(notes[start : start + chords + 1].reshape(-1))
    unrolled = np.asarray(rows, np.int32).reshape(-1, 4 * (chords + 1))
    return unrolled[:, :-1], unrolled[:, 1:]
