"""Tiny Shakespeare (Karpathy's char-rnn excerpt): 1,115,394 characters of the plays, 65 distinct, all ASCII.

The split is nanoGPT's (``data/shakespeare_char/prepare.py``): the first 90% of the characters train, the
last 10% are held out. The held-out 10% (111,540 characters) is this protocol's **test** split; the zoo's
**validation** split (for early stopping) is the last 5% of the training 90%, and **train** is the rest:

=========== ============== ====================
split        characters     from .. to
=========== ============== ====================
train        953,661        0 .. 953,661
validation   50,193         953,661 .. 1,003,854
test         111,540        1,003,854 .. end
=========== ============== ====================

Example:
    >>> from zoo.data import tinyshakespeare
    >>> text = tinyshakespeare.load("test")          # one string
    >>> len(text), tinyshakespeare.characters()[:5]
    (111540, ['\\n', ' ', '!', '$', '&'])
"""

from __future__ import annotations

import functools
import gzip

from zoo.data._common import check_limit, find_local_file

SPLITS = ("train", "validation", "test")
TOTAL = 1_115_394
COUNTS = {"train": 953_661, "validation": 50_193, "test": 111_540}
DISTINCT = 65
OFFICIAL_URL = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
OFFICIAL_SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"  # of input.txt


def text_path() -> str:
    """The local ``input.txt.gz`` from ``$ZOO_DATA_DIR/tinyshakespeare/``, else the official ``input.txt``, downloaded."""
    local = find_local_file("tinyshakespeare", ("input.txt.gz", "input.txt"))
    if local:
        return local
    from zoo.data._common import download_official

    return download_official("input.txt", OFFICIAL_URL, OFFICIAL_SHA256, dataset="tinyshakespeare")


@functools.lru_cache(maxsize=2)
def _read(path: str) -> str:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        text = f.read().decode("ascii")
    if len(text) != TOTAL:
        raise ValueError(f"{path} holds {len(text):,} characters; tiny Shakespeare has {TOTAL:,}. Is it the right file?")
    return text


def boundaries() -> dict[str, tuple[int, int]]:
    """Each split's ``(start, end)`` character offsets in the whole text."""
    held_out = int(TOTAL * 0.9)  # nanoGPT: data[:int(n * 0.9)] trains
    early_stopping = int(held_out * 0.95)
    return {"train": (0, early_stopping), "validation": (early_stopping, held_out), "test": (held_out, TOTAL)}


def load(split: str, *, limit: int | None = None) -> str:
    """The characters of ``split`` as one string; ``limit`` keeps its first ``limit`` characters."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}.")
    check_limit(limit)
    start, end = boundaries()[split]
    text = _read(text_path())[start:end]
    return text if limit is None else text[:limit]


def characters() -> list[str]:
    """The 65 distinct characters of the whole text, in code-point order (nanoGPT's vocabulary)."""
    return sorted(set(_read(text_path())))
