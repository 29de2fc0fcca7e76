import re

import pytest

import zoo
from zoo import _registry


def test_every_name_follows_the_dataset_architecture_pattern():
    names = zoo.list_models()
    assert names, "the registry is empty"
    for name in names:
        assert re.fullmatch(r"[a-z0-9]+-[a-z0-9]+(-[a-z0-9]+)*", name), name


def test_the_imdb_models_are_registered():
    classifiers = [n for n in zoo.list_models("imdb-*") if _registry.get_spec(n).family == "text_classifier"]
    assert {"imdb-bigru", "imdb-bilstm", "imdb-gru", "imdb-lstm", "imdb-simplernn"} <= set(classifiers)
    assert classifiers == sorted(classifiers)
    assert [n for n in zoo.list_models("imdb-*") if n not in classifiers] == ["imdb-lm-lstm"]
    assert zoo.list_models("imdb-bi*") == ["imdb-bigru", "imdb-bilstm"]


def test_a_second_registration_of_a_name_raises():
    spec = _registry.get_spec("imdb-gru")
    with pytest.raises(ValueError, match="already registered"):
        _registry.register(spec)


def test_a_malformed_name_is_refused():
    import dataclasses

    spec = dataclasses.replace(_registry.get_spec("imdb-gru"), name="IMDB_gru")
    with pytest.raises(ValueError, match="pattern"):
        _registry.register(spec)


def test_unknown_name_suggests_the_closest():
    with pytest.raises(zoo.UnknownModelError, match="Did you mean 'imdb-bigru'"):
        zoo.info("imdb-bigruu")
    with pytest.raises(zoo.UnknownModelError, match="Unknown model 'nothing-like-it'"):
        zoo.load("nothing-like-it")


def test_non_string_name_is_a_type_error():
    with pytest.raises(TypeError, match="string"):
        zoo.info(3)
    with pytest.raises(TypeError):
        zoo.list_models(None)


def test_a_renamed_model_keeps_a_deprecated_alias(monkeypatch):
    monkeypatch.setattr(_registry, "_ALIASES", {"imdb-bidirectional-gru": "imdb-bigru"})
    with pytest.warns(DeprecationWarning, match="imdb-bigru"):
        assert zoo.info("imdb-bidirectional-gru")["name"] == "imdb-bigru"
