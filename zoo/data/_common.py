"""Where datasets are found: the data directory first, then the official download."""

from __future__ import annotations

import dataclasses
import gzip
import os


@dataclasses.dataclass(frozen=True)
class Sentences:
    """Parallel lists of sentences: ``tokens[i]`` and its tags ``tags[i]``, of equal lengths."""

    tokens: list[list[str]]
    tags: list[list[str]]

    def __post_init__(self):
        if len(self.tokens) != len(self.tags) or any(len(s) != len(t) for s, t in zip(self.tokens, self.tags)):
            raise ValueError("tokens and tags must be parallel: one tag per token in every sentence.")

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def num_tokens(self) -> int:
        return sum(len(sentence) for sentence in self.tokens)

    def take(self, indices) -> "Sentences":
        return Sentences([self.tokens[i] for i in indices], [self.tags[i] for i in indices])

    def limited(self, split: str, limit: int | None) -> "Sentences":
        """``limit`` sentences: a fixed seeded sample of ``"train"``, the first ``limit`` (file order) of the
        evaluation splits, as the taggers' evaluators take them."""
        check_limit(limit)
        if limit is None:
            return self
        if split == "train":
            return self.take(sample_indices(len(self), limit))
        return self.take(range(min(limit, len(self))))


# The seed of every `limit` on a training split: a fixed sample, the same on every machine and run.
SAMPLE_SEED = 20240607


def check_limit(limit) -> None:
    """A ``limit`` must be None or a positive integer (not a bool); anything else is a clear ValueError."""
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise ValueError(f"limit must be a positive integer, got {limit!r}.")


def sample_indices(n: int, limit: int | None, *, strata=None, seed: int = SAMPLE_SEED) -> list[int]:
    """Indices of a fixed sample of ``limit`` of ``n`` items, in a seeded shuffled order.

    Training splits are often stored sorted (IMDB by label, Tatoeba by length), so their first N items
    are no sample at all. This takes a seeded permutation instead; with ``strata`` (one label per item)
    the permutation interleaves the classes in proportion to their sizes, so every prefix is stratified
    (200 IMDB reviews: 100 of each label). A smaller limit's sample is a prefix of a larger one's.
    ``limit=None`` (or one at least ``n``) gives every index, still in that order.

    Example:
        >>> sample_indices(10, 4, strata=[0] * 5 + [1] * 5)   # two of each label
    """
    import numpy as np

    check_limit(limit)
    order = np.random.default_rng(seed).permutation(n)
    if strata is not None:
        strata = np.asarray(strata)[order]
        rank = np.empty(n, dtype=np.float64)  # an item's position within its class, as a share of the class
        for value in np.unique(strata):
            members = np.flatnonzero(strata == value)
            rank[members] = (np.arange(len(members)) + 0.5) / len(members)
        order = order[np.argsort(rank, kind="stable")]
    return [int(i) for i in order[: n if limit is None else min(limit, n)]]


def data_dir() -> str | None:
    """The data directory named by ``ZOO_DATA_DIR``, or None when unset."""
    path = os.environ.get("ZOO_DATA_DIR")
    return os.path.expanduser(path) if path else None


def find_local_file(dataset: str, names: tuple[str, ...]) -> str | None:
    """The first of ``names`` present in ``$ZOO_DATA_DIR/<dataset>/`` (or directly in ``$ZOO_DATA_DIR``)."""
    root = data_dir()
    if not root:
        return None
    for folder in (os.path.join(root, dataset), root):
        for name in names:
            candidate = os.path.join(folder, name)
            if os.path.isfile(candidate):
                return candidate
    return None


def download_official(filename: str, url: str, sha256: str, *, dataset: str) -> str:
    """Downloads an official archive into the Keras cache, verified against its published sha256."""
    if os.environ.get("ZOO_OFFLINE", "") not in ("", "0"):
        raise FileNotFoundError(
            f"Dataset {dataset!r} is not available offline: set ZOO_DATA_DIR to a folder holding "
            f"{dataset}/{filename} (looked in {data_dir() or 'no ZOO_DATA_DIR set'}), or unset ZOO_OFFLINE "
            f"to download it from {url}."
        )
    import keras

    try:
        return keras.utils.get_file(
            filename, origin=url, file_hash=sha256, hash_algorithm="sha256", cache_subdir=f"datasets/{dataset}"
        )
    except ValueError:  # hash mismatch: Keras already names the file and both hashes
        raise
    except Exception as error:  # Keras wraps every network failure in a bare Exception
        raise ConnectionError(
            f"Could not download dataset {dataset!r} from {url}: {error}. Without network access, set "
            f"ZOO_DATA_DIR to a folder holding {dataset}/{filename}."
        ) from error


def hash_split(key: str, *, buckets: int, validation, test) -> str:
    """``"train"``, ``"validation"`` or ``"test"`` for a key, by a stable hash: the first 8 bytes of its
    UTF-8 sha256, big-endian, modulo ``buckets``; ``validation`` and ``test`` are the buckets of those splits.

    Splits made this way never move when the data grows or is reordered, and equal keys share a side.

    Example:
        >>> hash_split("hola", buckets=10, validation={8}, test={9})
    """
    import hashlib

    bucket = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") % buckets
    if bucket in test:
        return "test"
    if bucket in validation:
        return "validation"
    return "train"


def read_columns(path: str, *, column: int, columns: int, skip_first: str | None = None,
                 layout: str | None = None) -> Sentences:
    """Sentences of a one-token-per-line file (plain or gzipped), blank lines between sentences: the first
    column as tokens and ``column`` as tags. Every line must have ``columns`` space-separated columns; a
    line whose first column is ``skip_first`` (such as CoNLL-2003's ``-DOCSTART-``) ends the sentence and is
    dropped. ``layout`` names the columns in the error a malformed line raises.

    Example:
        >>> read_columns("eng.testb.gz", column=1, columns=4, skip_first="-DOCSTART-")  # CoNLL-2003 POS tags
    """
    tokens: list[list[str]] = []
    tags: list[list[str]] = []
    words: list[str] = []
    word_tags: list[str] = []
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            fields = line.split()
            if not fields or fields[0] == skip_first:
                if words:
                    tokens.append(words)
                    tags.append(word_tags)
                    words, word_tags = [], []
                continue
            if len(fields) != columns:
                expected = f"{columns} columns ({layout})" if layout else f"{columns} space-separated columns"
                raise ValueError(f"{path}:{number}: expected {expected}, got {line!r}.")
            words.append(fields[0])
            word_tags.append(fields[column])
    if words:
        tokens.append(words)
        tags.append(word_tags)
    return Sentences(tokens, tags)
