"""Exports of the row readers: a SavedModel and a TFLite model, both taking MNIST-style pixels."""

from __future__ import annotations

PREPROCESSING = [
    "grey = 0.2989 R + 0.5870 G + 0.1140 B",
    "invert (255 - grey) when the border is lighter than the middle of the range (dark ink on light paper)",
    "a 28x28 light-on-dark image is used as it is; otherwise subtract the border's median, scale the brightest "
    "ink to 255, crop to the pixels of at least 20 % of it, resize (bilinear, antialiased) so the longer side "
    "is 20, and paste into a 28x28 zero frame with the centre of mass at row 14, column 14",
]


def export_saved_model(spec, model, out_dir: str) -> str:
    """SavedModel whose ``serving_default`` signature maps MNIST pixels to digit probabilities.

    Takes ``pixels`` (float32 ``[batch, 28, 28]``, 0 background, 255 ink, MNIST-centred: see
    ``preprocessing.json``); returns ``probabilities`` (float32 ``[batch, 10]``) and ``label`` (tf.string
    ``[batch]``).
    """
    import os

    import tensorflow as tf

    from zoo._export import write_json, write_saved_model

    labels = tf.constant(list(spec.labels))

    def serve(pixels):
        probabilities = model(pixels, training=False)
        return {"probabilities": probabilities, "label": tf.gather(labels, tf.argmax(probabilities, axis=-1))}

    path = write_saved_model(model, out_dir, {"serve": (serve, [tf.TensorSpec([None, 28, 28], tf.float32, name="pixels")])})
    _write_preprocessing(spec, out_dir, write_json, os.path.join)
    return path


def export_tflite(spec, model, out_dir: str) -> str:
    """TFLite model (builtin ops only) from pixels (float32 ``[1, 28, 28]``) to probabilities (``[1, 10]``),
    with ``labels.txt`` and ``preprocessing.json`` beside it."""
    import os

    import tensorflow as tf

    from zoo._export import convert_to_tflite, write_json

    forward = tf.function(lambda pixels: model(pixels, training=False))
    path = convert_to_tflite(forward, [tf.TensorSpec([1, 28, 28], tf.float32, name="pixels")],
                             os.path.join(out_dir, f"{spec.name}.tflite"))
    _write_preprocessing(spec, out_dir, write_json, os.path.join)
    return path


def _write_preprocessing(spec, out_dir, write_json, join):
    write_json(join(out_dir, "preprocessing.json"), {
        "input": {"name": "pixels", "dtype": "float32", "shape": [None, 28, 28], "range": [0, 255],
                  "meaning": "MNIST-style: light ink on a black background, digit centred by its centre of mass"},
        "steps": PREPROCESSING,
        "python": f"zoo.pipeline({spec.name!r}).pixels(images)",
        "output": {"dtype": "float32", "shape": [None, len(spec.labels)], "meaning": "probability per line of labels.txt"},
    })
