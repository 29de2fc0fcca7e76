"""One compiled forward pass per model, reused across calls (tracing costs far more than a small batch)."""

from __future__ import annotations

import weakref

_FORWARD = weakref.WeakKeyDictionary()


def compiled_forward(model):
    """A cached ``tf.function`` running ``model(inputs, training=False)``."""
    forward = _FORWARD.get(model)
    if forward is None:
        import tensorflow as tf

        # Every axis free (batch, time): one trace serves all batch sizes and lengths.
        spec = model.inputs[0]
        signature = [tf.TensorSpec([None] * len(spec.shape), spec.dtype)]

        @tf.function(input_signature=signature)
        def forward(inputs):
            return model(inputs, training=False)

        _FORWARD[model] = forward
    return forward
