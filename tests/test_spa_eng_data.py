"""The spa-eng loader: the real archive, the fixed hash split (sizes, determinism, no straddling), errors."""

import io
import zipfile

import pytest

from zoo.data import spa_eng

# The split of the 118,964 pairs of spa-eng.zip (2018-05-13) by the hash of the Spanish sentence.
SIZES = {"train": 113_065, "validation": 2_933, "test": 2_966}


@pytest.fixture(scope="module")
def splits(data_dir):
    return {split: spa_eng.load(split) for split in spa_eng.SPLITS}


def test_split_sizes_cover_every_pair(splits):
    assert {split: len(pairs) for split, pairs in splits.items()} == SIZES
    assert sum(SIZES.values()) == spa_eng.NUM_PAIRS
    assert SIZES["test"] >= 2_000 and SIZES["validation"] >= 2_000


def test_no_spanish_sentence_straddles_two_splits(splits):
    owner = {}
    for split, pairs in splits.items():
        for spanish in pairs.source:
            key = spa_eng.split_key(spanish)
            assert owner.setdefault(key, split) == split, f"{spanish!r} is in {owner[key]} and {split}"
    # Duplicates exist (one Spanish sentence, several English ones), and they stay together.
    keys = [spa_eng.split_key(s) for s in splits["train"].source]
    assert len(set(keys)) < len(keys)


def test_the_split_is_deterministic_and_independent_of_file_order(splits):
    spa_eng._read_archive.cache_clear()
    again = spa_eng.load("test")
    assert again.source == splits["test"].source and again.target == splits["test"].target
    # The split is a function of the Spanish sentence alone (fixed values guard against a changed hash).
    assert [spa_eng.split_of(s) for s in ("Hace frío.", "Tengo hambre.", "¿Dónde está la biblioteca?")] == [
        spa_eng.split_of(" hace  FRÍO. "), spa_eng.split_of("tengo hambre."), spa_eng.split_of("¿dónde está la biblioteca?")
    ]
    assert all(spa_eng.split_of(s) == "test" for s in splits["test"].source[:50])


def test_pairs_are_spanish_to_english_and_keep_accents_and_punctuation(splits):
    test = splits["test"]
    assert all(s.strip() == s and e.strip() == e and s and e for s, e in zip(test.source, test.target))
    assert sum("¿" in s for s in test.source) > 100 and sum("á" in s or "é" in s for s in test.source) > 300
    everything = {pair for pairs in splits.values() for pair in zip(pairs.source, pairs.target)}
    assert ("Hace frío.", "It's cold.") in everything and ("Ve.", "Go.") in everything  # (Spanish, English)


def test_limit_takes_a_fixed_prefix_with_long_and_short_sentences(splits):
    head = spa_eng.load("test", limit=300)
    assert head.source == splits["test"].source[:300]
    lengths = [len(s.split()) for s in head.source]
    assert min(lengths) <= 3 and max(lengths) >= 12  # shuffled, not the file's length order


def test_unknown_split_and_bad_limit_are_clear_errors():
    with pytest.raises(ValueError, match="Unknown spa-eng split 'dev'"):
        spa_eng.load("dev")
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="positive integer"):
            spa_eng.load("test", limit=bad)


def test_a_wrong_archive_is_refused_with_the_counts(tmp_path, monkeypatch):
    (tmp_path / "spa-eng").mkdir()
    with zipfile.ZipFile(tmp_path / "spa-eng" / "spa-eng.zip", "w") as archive:
        archive.writestr(spa_eng.MEMBER, "Go.\tVe.\nHi.\tHola.\n")
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path))
    assert spa_eng.archive_path() == str(tmp_path / "spa-eng" / "spa-eng.zip")
    with pytest.raises(ValueError, match="expected 118,964 sentence pairs, found 2"):
        spa_eng.load("test")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("other.txt", "x")
    (tmp_path / "spa-eng" / "spa-eng.zip").write_bytes(buffer.getvalue())
    spa_eng._read_archive.cache_clear()
    with pytest.raises(ValueError, match="has no spa-eng/spa.txt"):
        spa_eng.load("test")


def test_offline_without_a_local_copy_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    with pytest.raises(FileNotFoundError, match="spa-eng/spa-eng.zip"):
        spa_eng.load("test")


def test_limit_on_train_samples_every_length_not_the_files_shortest_pairs(splits):
    """The file is sorted by English length: a prefix of the train split would hold only 1- and 2-word sentences."""
    sample = spa_eng.load("train", limit=300)
    lengths = [len(s.split()) for s in sample.source]
    assert len(sample) == 300 and max(lengths) >= 12 and sum(lengths) / len(lengths) > 4
    assert set(zip(sample.source, sample.target)) <= set(zip(splits["train"].source, splits["train"].target))
