"""CoNLL-2003 English named-entity recognition (Tjong Kim Sang & De Meulder, 2003).

Reuters newswire, one token per line (``token POS chunk NER``), four entity types. The files tag
entities in IOB1; the loader returns IOB2 (every entity starts with ``B-``), the scheme of
``TAGS`` and of most NER tooling (seqeval, Hugging Face ``conll2003``).

The Reuters text may not be redistributed, so there is no official download: the files
(``eng.train``, ``eng.testa``, ``eng.testb``, plain or gzipped) must be in ``$ZOO_DATA_DIR/conll2003/``.

Example:
    >>> from zoo.data import conll2003
    >>> test = conll2003.load("test")
    >>> test.tokens[1], test.tags[1]
    (['Nadim', 'Ladki'], ['B-PER', 'I-PER'])
"""

from __future__ import annotations

import functools

from zoo.data._common import Sentences, find_local_file, read_columns

# Same order and ids as the Hugging Face `conll2003` dataset.
LABELS = ("PER", "ORG", "LOC", "MISC")
TAGS = ("O",) + tuple(f"{prefix}-{label}" for label in LABELS for prefix in ("B", "I"))

SPLIT_FILES = {"train": "eng.train", "validation": "eng.testa", "test": "eng.testb"}
DOCUMENT_START = "-DOCSTART-"


def iob1_to_iob2(tags: list[str]) -> list[str]:
    """Converts one sentence's tags from IOB1 to IOB2.

    In IOB1 an entity starts with ``I-X`` and ``B-X`` only separates two adjacent entities of the same
    type. In IOB2 every entity starts with ``B-X``. So an ``I-X`` that does not continue an ``X``
    entity (after ``O``, after another type, or first in the sentence) becomes ``B-X``; all other
    tags are kept.

    Example:
        >>> iob1_to_iob2(["I-PER", "I-PER", "O", "I-LOC", "B-LOC", "I-ORG"])
        ['B-PER', 'I-PER', 'O', 'B-LOC', 'B-LOC', 'B-ORG']
    """
    converted = []
    previous_type = None
    for tag in tags:
        if tag == "O":
            previous_type = None
            converted.append(tag)
            continue
        prefix, _, entity_type = tag.partition("-")
        if prefix not in ("B", "I") or not entity_type:
            raise ValueError(f"Not an IOB tag: {tag!r} (expected 'O', 'B-<type>' or 'I-<type>').")
        if prefix == "I" and entity_type != previous_type:
            tag = f"B-{entity_type}"
        converted.append(tag)
        previous_type = entity_type
    return converted


def file_path(split: str) -> str:
    """Path of the file of one split in the data directory (plain or gzipped)."""
    name = SPLIT_FILES[split]
    path = find_local_file("conll2003", (name, f"{name}.gz"))
    if path is None:
        raise FileNotFoundError(
            f"CoNLL-2003 file {name!r} not found. The dataset has no official download (its Reuters text "
            "is licensed by NIST for research use only, https://trec.nist.gov/data/reuters/reuters.html), "
            f"so set ZOO_DATA_DIR to a folder holding conll2003/{name} or conll2003/{name}.gz."
        )
    return path


@functools.lru_cache(maxsize=4)
def _read(path: str) -> Sentences:
    """The sentences of one file (``token POS chunk NER``), tags in IOB2."""
    sentences = read_columns(path, column=3, columns=4, skip_first=DOCUMENT_START, layout="token POS chunk NER")
    return Sentences(sentences.tokens, [iob1_to_iob2(tags) for tags in sentences.tags])


def load(split: str, *, limit: int | None = None) -> Sentences:
    """Loads one split, tags in IOB2.

    Args:
        split: ``"train"`` (``eng.train``: 14,041 sentences), ``"validation"`` (``eng.testa``: 3,250)
            or ``"test"`` (``eng.testb``: 3,453). ``-DOCSTART-`` lines are dropped; sentences keep
            their file order.
        limit: keep only ``limit`` sentences: a fixed seeded sample of ``"train"``, the first ``limit`` of the
            other splits (`Sentences.limited`).
    """
    if split not in SPLIT_FILES:
        raise ValueError(f"Unknown CoNLL-2003 split {split!r}; expected one of {tuple(SPLIT_FILES)}.")
    return _read(file_path(split)).limited(split, limit)
