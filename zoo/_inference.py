"""One compiled forward pass per model, reused across calls (tracing costs far more than a small batch)."""

from __future__ import annotations

import weakref

_CACHE = weakref.WeakKeyDictionary()  # model -> {what: object built from it}


def per_model(model, what: str, build):
    """``build(model)``, made once per model and kind ``what`` and kept while the model lives.

    Example:
        >>> to_ids = per_model(model, "token_ids", lambda m: keras.Model(m.input, m.get_layer("crop").output))
    """
    built = _CACHE.setdefault(model, {})
    if what not in built:
        built[what] = build(model)
    return built[what]


def compiled_forward(model):
    """A cached ``tf.function`` running ``model(inputs, training=False)``."""
    return per_model(model, "forward", _forward)


def _forward(model):
    import tensorflow as tf

    # Every axis free (batch, time): one trace serves all batch sizes and lengths.
    spec = model.inputs[0]
    signature = [tf.TensorSpec([None] * len(spec.shape), spec.dtype)]

    @tf.function(input_signature=signature)
    def forward(inputs):
        return model(inputs, training=False)

    return forward
