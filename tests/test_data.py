"""The IMDB loader: real split sizes, the validation carve, both archive names, the official-download fallback."""

import hashlib
import http.server
import io
import tarfile
import threading

import numpy as np
import pytest

from zoo.data import _common, imdb


def test_splits_have_the_verified_sizes_and_no_overlap(data_dir):
    train, validation, full = imdb.load("train"), imdb.load("validation"), imdb.load("train_full")
    assert (len(train), len(validation), len(full)) == (22_500, 2_500, 25_000)
    assert len(imdb.load("test")) == 25_000 and len(imdb.load("unsup")) == 50_000
    # A partition of the official train split (IMDB has a few duplicate reviews, so compare as multisets).
    assert sorted(train.texts + validation.texts) == sorted(full.texts)
    assert 0.45 < validation.labels.mean() < 0.55


def test_limit_gives_a_balanced_fixed_slice_of_test(data_dir, imdb_test_slice):
    again = imdb.load("test", limit=1000)
    assert again.texts == imdb_test_slice.texts
    assert 0.45 < imdb_test_slice.labels.mean() < 0.55
    assert set(np.unique(imdb_test_slice.labels)) == {0, 1}


def test_reviews_keep_their_html_breaks_for_the_model_to_standardize(data_dir):
    assert any("<br />" in t for t in imdb.load("test", limit=200).texts)


def test_unknown_split_and_bad_limit_are_clear_errors():
    with pytest.raises(ValueError, match="Unknown IMDB split 'dev'"):
        imdb.load("dev")
    with pytest.raises(ValueError, match="positive integer"):
        imdb.load("test", limit=-1)


def _tiny_archive(path, compression):
    with tarfile.open(path, f"w:{compression}") as archive:
        for name, text in {"aclImdb/train/pos/0_9.txt": "great", "aclImdb/test/neg/0_1.txt": "awful"}.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize("filename, compression", [("aclImdb_v1.tar.gz", "gz"), ("aclImdb_v1.tar.xz", "xz")])
def test_both_archive_names_are_read(tmp_path, monkeypatch, filename, compression):
    (tmp_path / "aclImdb").mkdir()
    _tiny_archive(tmp_path / "aclImdb" / filename, compression)
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path))
    assert imdb.archive_path() == str(tmp_path / "aclImdb" / filename)
    with pytest.raises(ValueError, match="expected 25,000 train and 25,000 test reviews, found 1 and 1"):
        imdb.load("test")


def test_offline_without_data_names_the_folder_to_set(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    with pytest.raises(FileNotFoundError, match="ZOO_DATA_DIR.*aclImdb"):
        imdb.archive_path()


@pytest.fixture
def file_server(tmp_path):
    payload = b"official archive bytes" * 100

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/archive.tar.gz", payload
    server.shutdown()


def test_official_download_is_verified_by_its_hash(tmp_path, monkeypatch, file_server):
    url, payload = file_server
    monkeypatch.setenv("ZOO_OFFLINE", "0")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    good = hashlib.sha256(payload).hexdigest()
    path = _common.download_official("archive.tar.gz", url, good, dataset="tiny")
    assert open(path, "rb").read() == payload
    with pytest.raises(ValueError):
        _common.download_official("other.tar.gz", url, "0" * 64, dataset="tiny")


def test_a_failed_download_says_how_to_work_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_OFFLINE", "0")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    closed_port = "http://127.0.0.1:9/archive.tar.gz"  # the discard port: nothing listens there
    with pytest.raises(ConnectionError, match="set ZOO_DATA_DIR"):
        _common.download_official("archive.tar.gz", closed_port, "0" * 64, dataset="tiny")


# === `limit` on every data module: a fixed sample of a training split, the first N of an evaluation split ===

TRAINING_LOADERS = ("imdb", "spa_eng", "flickr8k", "conll2003", "ud_ewt")


def _keys(module, data):
    """One hashable key per item, to find a sample's items in the full split."""
    if module == "imdb":
        return list(data.texts)
    if module == "spa_eng":
        return list(zip(data.source, data.target))
    if module == "flickr8k":
        return list(data.images)
    return [tuple(tokens) for tokens in data.tokens]


@pytest.mark.parametrize("module", TRAINING_LOADERS)
def test_limit_on_a_training_split_is_a_fixed_sample_spread_over_the_split(module, data_dir):
    """Training splits are often stored sorted (IMDB by label, Tatoeba by length): their first N items are no sample."""
    import importlib

    loader = importlib.import_module(f"zoo.data.{module}")
    full, sample = loader.load("train"), loader.load("train", limit=200)
    assert len(sample) == 200
    assert _keys(module, loader.load("train", limit=200)) == _keys(module, sample), "the same sample every time"
    assert _keys(module, loader.load("train", limit=50)) == _keys(module, sample)[:50], "a smaller limit is a prefix"
    position = {}
    for i, key in enumerate(_keys(module, full)):
        position.setdefault(key, i)
    spots = sorted(position[key] for key in _keys(module, sample))
    assert spots[0] < 0.1 * len(full) and spots[-1] > 0.9 * len(full), "drawn from the whole split"
    assert spots != list(range(200))


def test_a_limited_imdb_train_split_has_both_labels_in_equal_numbers(data_dir):
    """The train split is stored sorted by label: the first 200 reviews are all negative."""
    for split in ("train", "train_full"):
        assert imdb.load(split, limit=200).labels.tolist().count(1) == 100
    assert 0.4 < imdb.load("train", limit=31).labels.mean() < 0.6


@pytest.mark.parametrize("module", ["conll2003", "ud_ewt"])
def test_limit_on_an_evaluation_split_is_its_first_sentences(module, data_dir):
    """As the taggers' evaluators take them, so `zoo eval --limit N` and the CI slices are unchanged."""
    import importlib

    loader = importlib.import_module(f"zoo.data.{module}")
    for split in ("validation", "test"):
        assert loader.load(split, limit=7).tokens == loader.load(split).tokens[:7]
    with pytest.raises(ValueError, match="positive integer"):
        loader.load("test", limit=0)


def test_limit_keeps_imdbs_evaluation_slices(data_dir, imdb_test_slice):
    assert imdb.load("test", limit=1000).texts == imdb.load("test").texts[:1000] == imdb_test_slice.texts
    assert imdb.load("validation", limit=300).texts == imdb.load("validation").texts[:300]
