"""Tatoeba Spanish-English sentence pairs (manythings.org/anki, 2018-05-13) for translation.

The TensorFlow "Neural machine translation with attention" copy: ``spa-eng.zip`` holding
``spa-eng/spa.txt``, 118,964 lines of ``English<TAB>Spanish`` (UTF-8). One English sentence often has
several Spanish translations, and the file is sorted roughly by English length. There is no
official split, so the zoo fixes one:

* every pair goes to a split by a stable hash of its Spanish sentence (the translation source),
  after Unicode NFKC normalization, case folding and whitespace collapsing: sha256 of that key, its
  first 8 bytes as a big-endian integer, modulo 1,000. 0-24 is ``test``, 25-49 ``validation``, the rest
  ``train``. Duplicates of one Spanish sentence (in any case or spacing) therefore always share a split,
  and the split never changes when the file is re-read, re-ordered or extended.
* ``test`` and ``validation`` come in a fixed shuffled order (seeded), so ``limit=N`` gives a slice with
  short and long sentences alike; ``train`` keeps the file order, and ``limit=N`` on it takes a fixed
  seeded sample (the file is sorted by length, so its first pairs are the shortest).

The archive is read from ``$ZOO_DATA_DIR/spa-eng/spa-eng.zip``; without it, the official zip is downloaded
with ``keras.utils.get_file`` and checked against its sha256.

Example:
    >>> from zoo.data import spa_eng
    >>> test = spa_eng.load("test", limit=2)
    >>> test.source[0], test.target[0]      # Spanish, English
"""

from __future__ import annotations

import dataclasses
import functools
import random
import unicodedata
import zipfile

from zoo.data._common import check_limit, download_official, find_local_file, hash_split, sample_indices

OFFICIAL_URL = "https://storage.googleapis.com/download.tensorflow.org/data/spa-eng.zip"
OFFICIAL_SHA256 = "0c4fd7825d3d872488d38c157f784e035edab4f2ff0df25a2a208790ecb5b58f"
ARCHIVE_NAMES = ("spa-eng.zip",)
MEMBER = "spa-eng/spa.txt"
NUM_PAIRS = 118_964
SPLITS = ("train", "validation", "test")

# Hash buckets (per mille) of each split: test 2.5 %, validation 2.5 %, train 95 %.
TEST_BUCKETS = range(0, 25)
VALIDATION_BUCKETS = range(25, 50)
# The fixed order in which `limit` takes test and validation pairs.
EVAL_ORDER_SEED = 2018

SOURCE_LANGUAGE, TARGET_LANGUAGE = "spa", "eng"


@dataclasses.dataclass(frozen=True)
class Pairs:
    """Parallel lists: ``source[i]`` (Spanish) is translated by ``target[i]`` (English)."""

    source: list[str]
    target: list[str]

    def __post_init__(self):
        if len(self.source) != len(self.target):
            raise ValueError(f"source and target must be parallel, got {len(self.source)} and {len(self.target)} sentences.")

    def __len__(self) -> int:
        return len(self.source)

    def take(self, indices) -> "Pairs":
        return Pairs([self.source[i] for i in indices], [self.target[i] for i in indices])


def split_key(spanish: str) -> str:
    """The form of a Spanish sentence that decides its split: NFKC, case-folded, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", spanish).casefold().split())


def split_of(spanish: str) -> str:
    """``"train"``, ``"validation"`` or ``"test"``: where a pair with this Spanish sentence belongs."""
    return hash_split(split_key(spanish), buckets=1000, validation=VALIDATION_BUCKETS, test=TEST_BUCKETS)


def archive_path() -> str:
    """Path of ``spa-eng.zip``: the local data directory first, else the official download."""
    local = find_local_file("spa-eng", ARCHIVE_NAMES)
    if local:
        return local
    return download_official("spa-eng.zip", OFFICIAL_URL, OFFICIAL_SHA256, dataset="spa-eng")


@functools.lru_cache(maxsize=2)
def _read_archive(path: str) -> dict[str, Pairs]:
    with zipfile.ZipFile(path) as archive:
        try:
            text = archive.read(MEMBER).decode("utf-8")
        except KeyError:
            raise ValueError(f"{path} does not look like the spa-eng archive: it has no {MEMBER}.") from None
    rows: dict[str, tuple[list[str], list[str]]] = {s: ([], []) for s in SPLITS}
    count = 0
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        columns = line.split("\t")
        if len(columns) < 2:
            raise ValueError(f"{path}:{MEMBER} line {number} is not 'English<TAB>Spanish': {line[:80]!r}.")
        english, spanish = columns[0].strip(), columns[1].strip()
        source, target = rows[split_of(spanish)]
        source.append(spanish)
        target.append(english)
        count += 1
    if count != NUM_PAIRS:
        raise ValueError(
            f"{path} does not look like the spa-eng archive: expected {NUM_PAIRS:,} sentence pairs, found {count:,}."
        )
    out = {}
    for split, (source, target) in rows.items():
        pairs = Pairs(source, target)
        if split != "train":
            order = list(range(len(pairs)))
            random.Random(EVAL_ORDER_SEED).shuffle(order)
            pairs = pairs.take(order)
        out[split] = pairs
    return out


def load(split: str, *, limit: int | None = None) -> Pairs:
    """Loads one split of Spanish -> English pairs.

    Args:
        split: ``"train"`` (about 95 % of the pairs, file order), ``"validation"`` or ``"test"``
            (about 2.5 % each, in a fixed shuffled order).
        limit: keep only ``limit`` pairs: the first of ``"validation"`` and ``"test"`` (already shuffled), a
            fixed seeded sample of ``"train"`` (`zoo.data._common.sample_indices`).
    """
    if split not in SPLITS:
        raise ValueError(f"Unknown spa-eng split {split!r}; expected one of {SPLITS}.")
    check_limit(limit)
    pairs = _read_archive(archive_path())[split]
    if limit is not None and split == "train":
        pairs = pairs.take(sample_indices(len(pairs), limit))
    elif limit is not None:
        pairs = pairs.take(range(min(limit, len(pairs))))
    return pairs
