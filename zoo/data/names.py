"""Surnames by language: the 18 lists of the PyTorch char-RNN classification tutorial.

``names.tar.gz`` holds ``names/<Language>.txt``, one surname per line (20,074 lines, UTF-8). The lists
repeat names (Arabic has 108 distinct names in 2,000 lines) and some names sit under several languages
("Abel": English, French, German, Russian and Spanish). There is no official split, so the zoo fixes one:

* the lines are stripped, the 24 junk "To The First Page" lines of Russian.txt dropped, and the
  (name, language) pairs deduplicated: 18,014 pairs of 17,452 distinct names (the spelling is kept);
* every name goes to a split by a stable hash of its key (Unicode NFC, case-folded): sha256 of the key,
  its first 8 bytes as a big-endian integer, modulo 10: 0 is ``test``, 1 ``validation``, 2-9 ``train``
  (about 10/10/80 %). All the pairs of one name therefore share a split, and a name never sits on two sides;
* a split is a list of distinct names, each with the set of its languages (`Names.languages[i]`, a
  tuple, alphabetical). A prediction counts as correct when it is *any* of the name's languages (see
  `zoo.models.name_classifier.evaluation`); training uses the same sets as targets (probability shared
  equally among a name's languages).

Counts (names / pairs): train 13,925 / 14,389, validation 1,751 / 1,801, test 1,776 / 1,824.

The archive is read from ``$ZOO_DATA_DIR/names/names.tar.gz`` (or the tutorial's own
https://download.pytorch.org/tutorial/data.zip placed there as ``names/data.zip``).

Example:
    >>> from zoo.data import names
    >>> test = names.load("test")
    >>> test.names[0], test.languages[0]
"""

from __future__ import annotations

import dataclasses
import functools
import random
import tarfile
import unicodedata
import zipfile

from zoo.data._common import find_local_file, hash_split

LANGUAGES = ("Arabic", "Chinese", "Czech", "Dutch", "English", "French", "German", "Greek", "Irish", "Italian",
             "Japanese", "Korean", "Polish", "Portuguese", "Russian", "Scottish", "Spanish", "Vietnamese")
NUM_LINES = 20_074
COUNTS = {"train": (13_925, 14_389), "validation": (1_751, 1_801), "test": (1_776, 1_824)}  # names, pairs
JUNK = "To The First Page"  # 24 lines of Russian.txt that are not names
SPLITS = ("train", "validation", "test")
TEST_BUCKETS, VALIDATION_BUCKETS = (0,), (1,)  # of 10 hash buckets
LIMIT_SEED = 2017  # the fixed sample `limit` takes of the training split
OFFICIAL_URL = "https://download.pytorch.org/tutorial/data.zip"


@dataclasses.dataclass(frozen=True)
class Names:
    """Parallel lists: ``names[i]`` belongs to the languages ``languages[i]`` (a tuple, alphabetical)."""

    names: list[str]
    languages: list[tuple[str, ...]]

    def __len__(self) -> int:
        return len(self.names)

    @property
    def num_pairs(self) -> int:
        return sum(len(langs) for langs in self.languages)

    def take(self, indices) -> "Names":
        return Names([self.names[i] for i in indices], [self.languages[i] for i in indices])


def split_key(name: str) -> str:
    """The form of a name that decides its split: Unicode NFC, case-folded, stripped."""
    return unicodedata.normalize("NFC", name).strip().casefold()


def split_of(name: str) -> str:
    """``"train"``, ``"validation"`` or ``"test"``: where every pair of this name belongs."""
    return hash_split(split_key(name), buckets=10, validation=VALIDATION_BUCKETS, test=TEST_BUCKETS)


def archive_path() -> str:
    """Path of ``names.tar.gz`` in ``$ZOO_DATA_DIR/names/`` (or of the tutorial's ``data.zip`` placed there)."""
    local = find_local_file("names", ("names.tar.gz", "data.zip"))
    if local:
        return local
    raise FileNotFoundError(
        "The names dataset was not found: set ZOO_DATA_DIR to a folder holding names/names.tar.gz, or put the "
        f"PyTorch tutorial's data.zip ({OFFICIAL_URL}) there as names/data.zip."
    )


def _read_lists(path: str) -> dict[str, list[str]]:
    lists = {}
    if path.endswith(".zip"):
        with zipfile.ZipFile(path) as archive:
            for language in LANGUAGES:
                lists[language] = archive.read(f"data/names/{language}.txt").decode("utf-8").splitlines()
        return lists
    with tarfile.open(path) as archive:
        for language in LANGUAGES:
            member = archive.extractfile(f"names/{language}.txt")
            if member is None:
                raise ValueError(f"{path} does not look like the names archive: it has no names/{language}.txt.")
            lists[language] = member.read().decode("utf-8").splitlines()
    return lists


@functools.lru_cache(maxsize=2)
def _splits(path: str) -> dict[str, Names]:
    lists = _read_lists(path)
    lines = sum(len(v) for v in lists.values())
    if lines != NUM_LINES:
        raise ValueError(f"{path} does not look like the names archive: expected {NUM_LINES:,} lines, found {lines:,}.")
    by_name: dict[str, set[str]] = {}
    for language, rows in lists.items():
        for row in rows:
            name = unicodedata.normalize("NFC", row.strip())
            if name and name != JUNK:
                by_name.setdefault(name, set()).add(language)
    rows = {s: ([], []) for s in SPLITS}
    for name in sorted(by_name):
        names, languages = rows[split_of(name)]
        names.append(name)
        languages.append(tuple(sorted(by_name[name])))
    return {split: Names(*columns) for split, columns in rows.items()}


def load(split: str, *, limit: int | None = None) -> Names:
    """Loads one split: distinct names (alphabetical) with their languages.

    Args:
        split: ``"train"``, ``"validation"`` or ``"test"``.
        limit: keep only ``limit`` names: a fixed seeded sample (alphabetical order would give few languages).
    """
    if split not in SPLITS:
        raise ValueError(f"Unknown names split {split!r}; expected one of {SPLITS}.")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise ValueError(f"limit must be a positive integer, got {limit!r}.")
    data = _splits(archive_path())[split]
    if limit is not None:
        order = list(range(len(data)))
        random.Random(LIMIT_SEED).shuffle(order)
        data = data.take(sorted(order[:limit]))
    return data
