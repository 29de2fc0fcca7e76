"""The family protocol: family and metric descriptions, the shared predict loop and text rules."""

import dataclasses
import os

import pytest

import zoo
from zoo import _family, _registry
from zoo._predict import predict_batched
from zoo._textrules import WHITESPACE, TextRules
from zoo.metrics import Metric, get_metric, register_metric


@pytest.mark.parametrize("family", _family.list_families())
def test_every_family_entry_resolves(family):
    info = _family.get_family(family)
    for entry in ("builder", "pipeline", "evaluator", "examples"):
        assert callable(info.load(entry)), f"{family}.{entry}"
    for format in info.formats:
        assert callable(info.exporter(format))
    assert info.inputs in ("text", "file")


def test_every_model_names_a_registered_family_and_metric():
    for name in zoo.list_models():
        spec = _registry.get_spec(name)
        assert spec.family in _family.list_families()
        assert spec.metric_info.name == spec.metric
        assert zoo.info(name)["higher_is_better"] is spec.metric_info.higher_is_better


def test_a_format_a_family_does_not_offer_is_refused_with_the_offered_ones():
    with pytest.raises(ValueError, match="not offered for translator models.*Offered: 'saved_model'"):
        _family.get_family("translator").exporter("tflite")


def test_duplicate_or_malformed_registrations_raise():
    family = _family.get_family("text_classifier")
    with pytest.raises(ValueError, match="already registered"):
        _family.register_family(family)
    with pytest.raises(ValueError, match="unknown export formats"):
        _family.register_family(dataclasses.replace(family, name="other", exporters={"onnx": "x:y"}))
    spec = _registry.get_spec("imdb-gru")
    with pytest.raises(ValueError, match="Unknown model family"):
        _registry.register(dataclasses.replace(spec, name="imdb-other", family="nope"))
    with pytest.raises(ValueError, match="Unknown metric"):
        _registry.register(dataclasses.replace(spec, name="imdb-other", metric="nope"))
    with pytest.raises(ValueError, match="already registered"):
        register_metric(Metric("accuracy", True))


@pytest.mark.parametrize("name, better, worse, shown", [
    ("accuracy", 0.9, 0.8, "0.9000"), ("bleu", 41.4, 41.3, "41.40"), ("mse", 0.37, 0.41, "0.3700"),
    ("perplexity", 80.0, 95.5, "80.00"), ("cer", 0.01, 0.02, "0.0100"), ("nats_per_char", 1.47, 1.55, "1.4700"),
])
def test_metrics_know_their_direction_and_format(name, better, worse, shown):
    metric = get_metric(name)
    assert metric.better(better, worse) and not metric.better(worse, better)
    assert metric.meets(better, worse) and metric.meets(better, better)
    assert metric.better(better, metric.worst)
    assert metric.mode == ("max" if metric.higher_is_better else "min")
    assert metric.format(better) == shown and metric.format(None) == "-"


def test_an_unknown_metric_names_the_known_ones():
    with pytest.raises(ValueError, match="known metrics: .*accuracy"):
        get_metric("acuracy")


def test_predict_batched_keeps_the_callers_order_and_batches_by_length():
    seen = []

    def run(batch):
        seen.append(list(batch))
        return [len(item) for item in batch]

    items = ["ccc", "a", "bb", "dddd", "e"]
    assert predict_batched(items, run, batch_size=2, length=len) == [3, 1, 2, 4, 1]
    assert seen == [["a", "e"], ["bb", "ccc"], ["dddd"]]
    assert predict_batched([], run, batch_size=2) == []
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        predict_batched(items, run, batch_size=0)
    with pytest.raises(RuntimeError, match="gave 1 results"):
        predict_batched(items, lambda batch: [0], batch_size=2)


def test_text_rules_give_the_same_text_in_python_and_in_the_graph():
    import tensorflow as tf

    from zoo.layers.tagging import TOKEN_RULES
    from zoo.models.translator.text import CLITIC_RULES, NORMALIZE_RULES, SPLIT_RULES

    texts = ["I don't know, Tom's right...", "Hi!\u00a0you?\u2003(yes)", "¿Dónde está?", "He said \u201chello\u201d.",
             "café", "3,5 km at 7:30.", "x\u2028y"]
    for rules in (TOKEN_RULES, NORMALIZE_RULES + SPLIT_RULES + CLITIC_RULES):
        graph = [t.decode("utf-8") for t in rules.apply_tf(tf.constant(texts)).numpy()]
        assert graph == [rules.apply(t) for t in texts]
    assert TextRules(WHITESPACE).apply("a\u00a0b\u2003c") == "a b c"
    with pytest.raises(TypeError, match="pair of str"):
        TextRules(("only a pattern",))


def test_tflite_conversion_after_an_eager_lookup_table_logs_no_serialization_warning(tmp_path):
    """Eager vocabularies leave None in the "table_initializer" collection; the converter must not warn about it."""
    import logging

    import keras
    import tensorflow as tf

    from zoo._export import convert_to_tflite

    keras.layers.StringLookup(vocabulary=["a", "b"])(tf.constant(["a"]))  # an eagerly initialised table
    dense = keras.layers.Dense(2)
    messages = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())
    tf.get_logger().addHandler(handler)
    try:
        path = convert_to_tflite(lambda x: dense(x), [tf.TensorSpec([1, 3], tf.float32, name="x")],
                                 str(tmp_path / "m.tflite"))
    finally:
        tf.get_logger().removeHandler(handler)
    assert os.path.getsize(path) > 0
    assert not [m for m in messages if "table_initializer" in m], messages
