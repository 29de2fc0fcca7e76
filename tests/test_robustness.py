"""Bad input gets a clear ValueError/TypeError, never a crash deep in TensorFlow; nothing corrupt is used."""

import os

import numpy as np
import pytest

import zoo
from zoo import _api, _hub
from zoo._registry import get_spec


@pytest.fixture(scope="module")
def clf():
    model = zoo.build("imdb-gru", vocabulary=["good", "bad", "film", "!"])
    return zoo.pipeline("imdb-gru", model=model)


def test_readable_output(clf):
    one = clf("A good film!")
    assert set(one) == {"label", "score"} and one["label"] in ("negative", "positive")
    assert 0.5 <= one["score"] <= 1.0
    many = clf(["A good film!", "bad"])
    assert isinstance(many, list) and len(many) == 2
    assert clf(np.array(["good", "bad"]))[1]["label"] in ("negative", "positive")


@pytest.mark.parametrize(
    "bad, error, message",
    [
        ("", ValueError, "empty"),
        ("   \n", ValueError, "empty"),
        (None, TypeError, "got None"),
        (42, TypeError, "got int"),
        (["fine", 3.5], TypeError, "index 1 to be a str, got float"),
        (["fine", None], TypeError, "index 1"),
        ([], ValueError, "empty batch"),
        (b"caf\xe9 au lait", ValueError, "not valid UTF-8"),
        (["ok", b"\xff\xfe"], ValueError, "index 1 is bytes that are not valid UTF-8"),
        ({"text": "good"}, TypeError, "got dict"),
    ],
)
def test_bad_input_raises_a_clear_error(clf, bad, error, message):
    with pytest.raises(error, match=message):
        clf(bad)


def test_utf8_bytes_are_accepted(clf):
    assert clf("café, très bon film".encode("utf-8"))["label"] in ("negative", "positive")


def test_a_100000_character_review_is_cropped_not_a_crash(clf):
    review = ("good film " * 10_000)[:100_000]
    assert len(review) == 100_000
    assert clf(review)["label"] in ("negative", "positive")
    assert clf.tokenize(review).shape == (1, 400)


def test_text_with_no_known_characters_still_scores(clf):
    result = clf("!!! ??? ...")
    assert np.isfinite(result["score"])


def test_model_without_checkpoint_says_so(monkeypatch):
    spec = get_spec("imdb-gru")
    monkeypatch.setattr(type(spec), "card", lambda self: None)
    with pytest.raises(zoo.CheckpointError, match="no pretrained checkpoint"):
        zoo.load("imdb-gru")


def _fake_card(monkeypatch, tmp_path, **changes):
    """Points imdb-gru at a checkpoint in a temporary 'shipped' folder."""
    spec = get_spec("imdb-gru")
    card = {"name": "imdb-gru", "format": 1, "file": "imdb-gru.keras", "sha256": "0" * 64,
            "versions": {"zoo": "0.1.0", "keras": "3"}, **changes}
    monkeypatch.setattr(type(spec), "card", lambda self: card)
    monkeypatch.setattr(_api, "CHECKPOINT_DIR", str(tmp_path))
    return card


def test_checkpoint_from_a_newer_zoo_gets_a_clear_message(monkeypatch, tmp_path):
    _fake_card(monkeypatch, tmp_path, format=99, versions={"zoo": "9.0.0", "keras": "3"})
    with pytest.raises(zoo.CheckpointError, match="format 99.*zoo 9.0.0.*Upgrade rnn-zoo"):
        zoo.load("imdb-gru")


def test_unreadable_checkpoint_gets_a_clear_message_not_a_traceback(monkeypatch, tmp_path):
    path = tmp_path / "imdb-gru.keras"
    path.write_bytes(b"PK\x03\x04 this is not a keras archive")
    _fake_card(monkeypatch, tmp_path, sha256=_hub.sha256_of(str(path)))
    with pytest.raises(zoo.CheckpointError, match="Could not read the checkpoint of 'imdb-gru'"):
        zoo.load("imdb-gru")


def test_corrupt_cached_checkpoint_is_detected_removed_and_reported_offline(monkeypatch, tmp_path):
    card = _fake_card(monkeypatch, tmp_path / "shipped", sha256="a" * 64)
    cached = os.path.join(_hub.cache_dir(), "checkpoints", card["file"])
    os.makedirs(os.path.dirname(cached))
    with open(cached, "wb") as f:
        f.write(b"truncated")
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    with pytest.raises(_hub.HubError, match="a" * 64):
        zoo.load("imdb-gru")
    assert not os.path.exists(cached), "the corrupt file must not be kept"


def test_truncated_shipped_checkpoint_is_refused(monkeypatch, tmp_path):
    if not get_spec("imdb-gru").has_checkpoint:
        pytest.fail("imdb-gru must ship a checkpoint")
    real = get_spec("imdb-gru").card()
    shipped = tmp_path / real["file"]
    with open(os.path.join(_api.CHECKPOINT_DIR, real["file"]), "rb") as f:
        shipped.write_bytes(f.read()[:1000])
    _fake_card(monkeypatch, tmp_path, sha256=real["sha256"])
    with pytest.raises(_hub.ChecksumError, match=real["sha256"]):
        zoo.load("imdb-gru")


def test_the_pipeline_reuses_one_compiled_forward_pass(clf):
    from zoo._inference import compiled_forward

    clf("good")
    first = compiled_forward(clf.model)
    clf(["bad", "good film"])
    assert compiled_forward(clf.model) is first
    assert first.experimental_get_tracing_count() == 1, "a new call must not retrace the model"


def test_a_bad_batch_size_is_a_clear_error():
    model = zoo.build("imdb-gru", vocabulary=["good"])
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        zoo.pipeline("imdb-gru", model=model, batch_size=0)
