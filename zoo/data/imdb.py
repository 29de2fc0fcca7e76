"""Large Movie Review Dataset (IMDB, Maas et al. 2011) for sentiment classification.

The loader reads the official archive layout (``aclImdb/{train,test}/{pos,neg,unsup}/<id>_<rating>.txt``)
from either the official ``aclImdb_v1.tar.gz`` or the recompressed ``aclImdb_v1.tar.xz`` found in the
data directory (``$ZOO_DATA_DIR/aclImdb/``). Without a local copy it downloads the official archive
with ``keras.utils.get_file`` and checks its official sha256.

Example:
    >>> from zoo.data import imdb
    >>> reviews = imdb.load("test", limit=4)
    >>> reviews.texts[0][:40], reviews.labels[0]
"""

from __future__ import annotations

import dataclasses
import functools
import re
import tarfile

import numpy as np

from zoo.data._common import check_limit, download_official, find_local_file, sample_indices

LABELS = ("negative", "positive")
OFFICIAL_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
OFFICIAL_SHA256 = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"
ARCHIVE_NAMES = ("aclImdb_v1.tar.gz", "aclImdb_v1.tar.xz")
SPLITS = ("train", "test", "unsup")

# Validation is carved from the 25,000 training reviews with this seed; the test split is never used for it.
VALIDATION_SIZE = 2500
VALIDATION_SEED = 1337
# The order in which `--limit N` takes test reviews: a fixed shuffle, so any prefix is close to balanced.
EVAL_ORDER_SEED = 2011

_MEMBER = re.compile(r"(?:^|/)aclImdb/(train|test)/(pos|neg|unsup)/(\d+)_(\d+)\.txt$")


@dataclasses.dataclass(frozen=True)
class Reviews:
    """Parallel arrays of review texts, labels (0 negative, 1 positive, -1 unlabelled) and ratings."""

    texts: list[str]
    labels: np.ndarray
    ratings: np.ndarray

    def __len__(self) -> int:
        return len(self.texts)

    def take(self, indices) -> "Reviews":
        indices = np.asarray(indices)
        return Reviews([self.texts[i] for i in indices], self.labels[indices], self.ratings[indices])


def archive_path() -> str:
    """Path of the IMDB archive: the local data directory first, else the official download."""
    local = find_local_file("aclImdb", ARCHIVE_NAMES)
    if local:
        return local
    return download_official(
        "aclImdb_v1.tar.gz", OFFICIAL_URL, OFFICIAL_SHA256, dataset="aclImdb"
    )


@functools.lru_cache(maxsize=2)
def _read_archive(path: str) -> dict[str, Reviews]:
    rows: dict[str, list[tuple[int, int, int, str]]] = {s: [] for s in SPLITS}
    with tarfile.open(path) as archive:
        for member in archive:
            match = _MEMBER.search(member.name)
            if not match or not member.isfile():
                continue
            split, polarity, review_id, rating = match.groups()
            if polarity == "unsup":
                split, label = "unsup", -1
            else:
                label = int(polarity == "pos")
            text = archive.extractfile(member).read().decode("utf-8")
            rows[split].append((label, int(review_id), int(rating), text))
    out = {}
    for split, items in rows.items():
        items.sort(key=lambda r: (r[0], r[1]))  # deterministic: by label, then review id
        out[split] = Reviews(
            texts=[r[3] for r in items],
            labels=np.array([r[0] for r in items], dtype=np.int32),
            ratings=np.array([r[2] for r in items], dtype=np.int32),
        )
    if len(out["train"]) != 25000 or len(out["test"]) != 25000:
        raise ValueError(
            f"{path} does not look like the IMDB archive: expected 25,000 train and 25,000 test "
            f"reviews, found {len(out['train']):,} and {len(out['test']):,}."
        )
    return out


def load(split: str, *, limit: int | None = None) -> Reviews:
    """Loads one split.

    Args:
        split: ``"train"`` (22,500 reviews: the official train split less the validation part),
            ``"validation"`` (2,500 carved from the official train split with a fixed seed),
            ``"train_full"`` (all 25,000), ``"test"`` (25,000, in a fixed shuffled order so that
            ``limit`` gives a balanced slice) or ``"unsup"`` (50,000 unlabelled).
        limit: keep only ``limit`` reviews. On ``"train"``, ``"train_full"`` and ``"unsup"`` (stored sorted by
            label) a fixed sample stratified by label (`zoo.data._common.sample_indices`: 200 train reviews
            are 100 of each label); on ``"validation"`` and ``"test"`` the first ``limit`` of their fixed
            shuffled order (the slices CI scores on).
    """
    valid = ("train", "validation", "train_full", "test", "unsup")
    if split not in valid:
        raise ValueError(f"Unknown IMDB split {split!r}; expected one of {valid}.")
    check_limit(limit)
    data = _read_archive(archive_path())
    if split in ("unsup", "train_full"):
        reviews = data["unsup" if split == "unsup" else "train"]
    elif split == "test":
        order = np.random.default_rng(EVAL_ORDER_SEED).permutation(len(data["test"]))
        reviews = data["test"].take(order)
    else:
        order = np.random.default_rng(VALIDATION_SEED).permutation(len(data["train"]))
        part = order[:VALIDATION_SIZE] if split == "validation" else np.sort(order[VALIDATION_SIZE:])
        reviews = data["train"].take(part)
    if limit is not None and split in ("validation", "test"):
        reviews = reviews.take(np.arange(min(limit, len(reviews))))
    elif limit is not None:
        reviews = reviews.take(sample_indices(len(reviews), limit, strata=reviews.labels))
    return reviews
