"""CoNLL-2000 chunking (Tjong Kim Sang & Buchholz, 2000): Wall Street Journal text with POS and chunk tags.

Sections 15-18 of the Penn Treebank WSJ are ``train`` (8,936 sentences), section 20 is ``test``
(2,012). One token per line, ``token POS chunk``, a blank line after each sentence. The POS column
holds Penn Treebank tags, which the shared task generated with the Brill tagger rather than taking the
Treebank's own; the chunk column is IOB2 over 11 chunk types. The zoo uses the POS column as text from
another source than UD English EWT, mapped to UPOS by `zoo.data.ptb_upos` (`benchmarks/bench_pos.py`).

Files are read from ``$ZOO_DATA_DIR/conll2000/`` (``train.txt``, ``test.txt``, plain or gzipped);
without them, the official archives are downloaded from the task site and checked against their sha256.

Example:
    >>> from zoo.data import conll2000
    >>> test = conll2000.load("test")
    >>> test.tokens[0][:3], test.tags[0][:3]
    (['Rockwell', 'International', 'Corp.'], ['NNP', 'NNP', 'NNP'])
    >>> conll2000.load("test", column="chunk").tags[0][:3]
    ['B-NP', 'I-NP', 'I-NP']
"""

from __future__ import annotations

import functools

from zoo.data._common import Sentences, download_official, find_local_file, read_columns  # noqa: F401  (read_columns: also for CoNLL-2003)

SPLIT_FILES = {"train": "train.txt", "test": "test.txt"}
OFFICIAL_URL = "https://www.clips.uantwerpen.be/conll2000/chunking/{name}.gz"
# sha256 of the official gzipped archives (the task site serves them gzipped).
OFFICIAL_SHA256 = {
    "train.txt.gz": "160109d8a1c31381976affcb534abbfa11e0bb5acabc60d4feb5c6b0874a8858",
    "test.txt.gz": "6864d222606f9deff739206a49f01d43651041b8deb94f0ea4e98ba0b14217ab",
}
COLUMNS = ("token", "pos", "chunk")


def file_path(split: str) -> str:
    """Path of one split's file: the data directory first, else the official download."""
    name = SPLIT_FILES[split]
    local = find_local_file("conll2000", (name, f"{name}.gz"))
    if local:
        return local
    archive = f"{name}.gz"
    return download_official(archive, OFFICIAL_URL.format(name=name), OFFICIAL_SHA256[archive], dataset="conll2000")


@functools.lru_cache(maxsize=4)
def _read(path: str, column: int) -> Sentences:
    return read_columns(path, column=column, columns=len(COLUMNS))


def load(split: str, *, column: str = "pos", limit: int | None = None) -> Sentences:
    """Loads one split: tokens and, per token, its Penn Treebank POS tag (or, with ``column="chunk"``, its
    IOB2 chunk tag).

    Args:
        split: ``"train"`` (8,936 sentences, 211,727 tokens) or ``"test"`` (2,012 sentences, 47,377 tokens).
        column: ``"pos"`` or ``"chunk"``.
        limit: keep only ``limit`` sentences: a fixed seeded sample of ``"train"``, the first ``limit`` of
            ``"test"`` (`Sentences.limited`).
    """
    if split not in SPLIT_FILES:
        raise ValueError(f"Unknown CoNLL-2000 split {split!r}; expected one of {tuple(SPLIT_FILES)}.")
    if column not in COLUMNS[1:]:
        raise ValueError(f"Unknown CoNLL-2000 column {column!r}; expected 'pos' or 'chunk'.")
    return _read(file_path(split), COLUMNS.index(column)).limited(split, limit)
