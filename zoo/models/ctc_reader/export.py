"""Exports of the CTC readers: a SavedModel from image bytes to text (decoding inside), and a TFLite model of
the network (CTC decoding stays outside TFLite: `zoo.decoding.ctc_collapse`, a few lines of NumPy)."""

from __future__ import annotations

COLLAPSE = """\
import numpy as np

def read(probabilities, alphabet):
    # probabilities: (steps, 1 + len(alphabet)) from the TFLite model; class 0 is the CTC blank
    best = probabilities.argmax(-1)
    keep = np.concatenate([[True], best[1:] != best[:-1]]) & (best != 0)
    confidence = float(np.exp(np.log(np.maximum(probabilities.max(-1), 1e-30)).sum()))
    return "".join(alphabet[i - 1] for i in best[keep]), confidence
"""


def export_saved_model(spec, model, out_dir: str) -> str:
    """SavedModel whose ``serving_default`` signature reads encoded images (PNG, JPEG, GIF, BMP) into text.

    Takes ``image`` (tf.string ``[batch]``, encoded image bytes of any size); each is decoded to RGB, made
    grey (``tf.image.rgb_to_grayscale``) and resized (bilinear, antialiased) to the model's size as the
    pipeline does; the per-step probabilities are decoded greedily (`zoo.decoding.ctc_decode`). Returns
    ``text`` (tf.string ``[batch]``), ``confidence`` (float32 ``[batch]``, the best path's probability) and
    ``probabilities`` (float32 ``[batch, steps, 1 + characters]``). A second signature, ``read_beam``, takes
    ``image`` and ``beam_width`` (int32 scalar) and decodes with CTC prefix beam search of the widest of
    `BEAM_WIDTHS` not above it.
    """
    import tensorflow as tf

    from zoo._export import write_saved_model
    from zoo.decoding.ctc import MAX_CTC_BEAM_WIDTH, ctc_decode
    from zoo.models.ctc_reader.pipeline import input_size

    height, width = input_size(model)
    characters = tf.constant(["", *spec.labels])  # class 0 (blank) is never written: ids are 1..C or -1 padding

    def pixels_of(image):
        decoded = tf.io.decode_image(image, channels=3, expand_animations=False)
        decoded.set_shape([None, None, 3])
        grey = tf.image.rgb_to_grayscale(tf.cast(decoded, tf.float32))
        same = tf.logical_and(tf.shape(grey)[0] == height, tf.shape(grey)[1] == width)
        grey = tf.cond(same, lambda: grey,  # the pipeline resizes only images of another size
                       lambda: tf.image.resize(grey, (height, width), method="bilinear", antialias=True))
        return grey[:, :, 0]

    def probabilities_of(image):
        pixels = tf.map_fn(pixels_of, image, fn_output_signature=tf.TensorSpec([height, width], tf.float32))
        return model(pixels, training=False)

    def texts(probabilities, beam_width: int):
        decoded = ctc_decode(probabilities, beam_width=beam_width)
        ids = tf.where(decoded.ids < 0, tf.zeros_like(decoded.ids), decoded.ids)
        return tf.strings.reduce_join(tf.gather(characters, ids), axis=-1), tf.exp(decoded.scores)

    def serve(image):
        probabilities = probabilities_of(image)
        text, confidence = texts(probabilities, 1)
        return {"text": text, "confidence": confidence, "probabilities": probabilities}

    def read_beam(image, beam_width):
        # TensorFlow's decoder takes the beam width as a constant: one branch per offered width, the widest
        # of `BEAM_WIDTHS` not above the request.
        probabilities = probabilities_of(image)
        requested = tf.clip_by_value(beam_width, 1, MAX_CTC_BEAM_WIDTH)
        index = tf.reduce_sum(tf.cast(tf.constant(BEAM_WIDTHS[1:]) <= requested, tf.int32))
        text, confidence = tf.switch_case(index, [lambda w=w: texts(probabilities, w) for w in BEAM_WIDTHS])
        return {"text": text, "confidence": confidence, "probabilities": probabilities}

    return write_saved_model(model, out_dir, {
        "serve": (serve, [tf.TensorSpec([None], tf.string, name="image")]),
        "read_beam": (read_beam, [tf.TensorSpec([None], tf.string, name="image"),
                                  tf.TensorSpec([], tf.int32, name="beam_width")]),
    })


BEAM_WIDTHS = (1, 2, 3, 5, 10, 20, 50, 100)  # the SavedModel's beam widths: a request uses the widest not above it


def export_tflite(spec, model, out_dir: str) -> str:
    """TFLite of the network (builtin ops only): grey pixels (float32 ``[1, height, width]`` in [0, 255]) to
    per-step probabilities (``[1, steps, 1 + characters]``, class 0 the blank). Beside it: ``labels.txt``
    (class ``i`` is line ``i - 1``), ``read.py`` (the greedy CTC collapse in NumPy) and ``preprocessing.json``."""
    import os

    import tensorflow as tf

    from zoo._export import convert_to_tflite, write_json
    from zoo.models.ctc_reader.pipeline import input_size

    height, width = input_size(model)
    forward = tf.function(lambda pixels: model(pixels, training=False))
    path = convert_to_tflite(forward, [tf.TensorSpec([1, height, width], tf.float32, name="pixels")],
                             os.path.join(out_dir, f"{spec.name}.tflite"))
    with open(os.path.join(out_dir, "read.py"), "w", encoding="utf-8") as f:
        f.write(COLLAPSE)
    write_json(os.path.join(out_dir, "preprocessing.json"), {
        "input": {"name": "pixels", "dtype": "float32", "shape": [1, height, width], "range": [0, 255]},
        "steps": ["decode the image to RGB", "grey = 0.2989 R + 0.5870 G + 0.1140 B",
                  f"resize to {height}x{width} (bilinear, antialiased) when it is another size"],
        "output": {"dtype": "float32", "shape": [1, int(model.outputs[0].shape[1]), len(spec.labels) + 1],
                   "meaning": "per-step probabilities; class 0 is the CTC blank, class i is line i of labels.txt (1-based)"},
        "decoding": "read.py: best class per step, repeats merged, blanks dropped (zoo.decoding.ctc_collapse)",
        "python": f"zoo.pipeline({spec.name!r}).pixels(images)",
    })
    return path
