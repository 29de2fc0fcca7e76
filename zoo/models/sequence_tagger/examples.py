"""Tiny models and inputs the registry-wide tests run every tagger with."""

from __future__ import annotations

from zoo._family import Examples

SENTENCES = [["I", "love", "football", "."], ["Paris", "in", "1999"], ["Hi"]]


def examples() -> Examples:
    import tensorflow as tf

    from zoo.models.sequence_tagger.pipeline import pad_tokens

    return Examples(
        builder_args=dict(word_vocabulary=["i", "love", "football", ".", "in"], char_vocabulary=list("abcdefilnoPrst.")),
        inputs=tf.constant(pad_tokens(SENTENCES)),
        rows=len(SENTENCES),
        last_alone=tf.constant(pad_tokens(SENTENCES[-1:])),
    )
