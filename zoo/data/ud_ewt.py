"""Universal Dependencies English Web Treebank (UD_English-EWT r2.16) for part-of-speech tagging.

Weblogs, newsgroups, emails, reviews and Yahoo! Answers in CoNLL-U. The loader returns each
sentence's syntactic words (the lines with an integer ID) with their universal POS tag (UPOS).
It skips multiword-token lines (``3-4 didn't``: the words ``did`` and ``n't`` follow on their own
lines) and empty nodes of the enhanced graph (``8.1``), which are not in the surface sentence.

Files are read from ``$ZOO_DATA_DIR/ud-english-ewt/`` (``en_ewt-ud-{train,dev,test}.conllu``, plain
or gzipped); without them, the official files of the r2.16 release are downloaded from the treebank's
GitHub repository and checked against their sha256.

Example:
    >>> from zoo.data import ud_ewt
    >>> dev = ud_ewt.load("validation")
    >>> dev.tokens[0], dev.tags[0]
    (['From', 'the', 'AP', 'comes', 'this', 'story', ':'], ['ADP', 'DET', 'PROPN', 'VERB', 'DET', 'NOUN', 'PUNCT'])
"""

from __future__ import annotations

import functools
import gzip

from zoo.data._common import Sentences, download_official, find_local_file

UPOS_TAGS = tuple("ADJ ADP ADV AUX CCONJ DET INTJ NOUN NUM PART PRON PROPN PUNCT SCONJ SYM VERB X".split())

RELEASE = "r2.16"
OFFICIAL_URL = f"https://raw.githubusercontent.com/UniversalDependencies/UD_English-EWT/{RELEASE}/{{name}}"
# sha256 of the uncompressed official files (the repository serves them uncompressed).
OFFICIAL_SHA256 = {
    "en_ewt-ud-train.conllu": "3fb78e2b55482c8ee00caa653af436c88c9e5bc9a73ce26e4ae3ddc79d2b7e7b",
    "en_ewt-ud-dev.conllu": "531a54ff90d6ab12201c5a50c3e78e6ddac4de69abc4bce5d275d3cd29efe2b6",
    "en_ewt-ud-test.conllu": "e266e515a0a7547657ed3d90d9ba46487d6bd251f27ad4269d4e8a427c8555cd",
}
SPLIT_FILES = {"train": "en_ewt-ud-train.conllu", "validation": "en_ewt-ud-dev.conllu", "test": "en_ewt-ud-test.conllu"}
_COLUMNS = 10  # ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC


def file_path(split: str) -> str:
    """Path of the CoNLL-U file of one split: the data directory first, else the official download."""
    name = SPLIT_FILES[split]
    local = find_local_file("ud-english-ewt", (name, f"{name}.gz"))
    if local:
        return local
    return download_official(name, OFFICIAL_URL.format(name=name), OFFICIAL_SHA256[name], dataset="ud-english-ewt")


@functools.lru_cache(maxsize=4)
def _read(path: str) -> Sentences:
    tokens: list[list[str]] = []
    tags: list[list[str]] = []
    words: list[str] = []
    word_tags: list[str] = []
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            line = line.rstrip("\n")
            if not line.strip():
                if words:
                    tokens.append(words)
                    tags.append(word_tags)
                    words, word_tags = [], []
                continue
            if line.startswith("#"):
                continue
            columns = line.split("\t")
            if len(columns) != _COLUMNS:
                raise ValueError(f"{path}:{number}: expected {_COLUMNS} tab-separated CoNLL-U columns, got {line!r}.")
            word_id, form, _, upos = columns[:4]
            if not word_id.isdigit():  # "3-4": multiword token, "8.1": empty node
                continue
            if upos not in UPOS_TAGS:
                raise ValueError(f"{path}:{number}: {upos!r} is not a universal POS tag.")
            words.append(form)
            word_tags.append(upos)
    if words:
        tokens.append(words)
        tags.append(word_tags)
    return Sentences(tokens, tags)


def load(split: str, *, limit: int | None = None) -> Sentences:
    """Loads one split: syntactic words and their UPOS tags, one entry per sentence.

    Args:
        split: ``"train"`` (12,544 sentences, 204,577 words), ``"validation"`` (the official dev
            file: 2,001 sentences, 25,147 words) or ``"test"`` (2,077 sentences, 25,094 words).
        limit: keep only ``limit`` sentences: a fixed seeded sample of ``"train"``, the first ``limit`` of the
            other splits (`Sentences.limited`).
    """
    if split not in SPLIT_FILES:
        raise ValueError(f"Unknown UD English-EWT split {split!r}; expected one of {tuple(SPLIT_FILES)}.")
    return _read(file_path(split)).limited(split, limit)
