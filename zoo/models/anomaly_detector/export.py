"""Exports of the anomaly detector's predictor: a window in, the prediction and its error out.

Both formats carry the pretrained predictor and, beside it, ``likelihood.py`` (the scoring logic in NumPy
only, a copy of `zoo.models.anomaly_detector.likelihood`) and ``detector.json`` (the window, the thresholds,
the constants and the steps). A user of an export runs, per series:

1. ``center, scale = likelihood.normalization(values[:P])``, ``P`` the probation period (NAB:
   ``min(floor(0.15 n), 750)``; a stream fixes it, e.g. 750); ``z = float32((value - center) / scale)``;
2. for each row ``t >= W``: the model on ``[z_{t-W}, ..., z_{t-1}, z_t]`` gives ``prediction`` and
   ``error = z_t - prediction``;
3. ``scorer = likelihood.StreamingScorer(P)``; ``score = scorer.update(value, error)`` for every row (error
   NaN for the first ``W`` rows); the row is an anomaly when ``score >= thresholds[profile]``.

The zoo's pipeline also fine-tunes a copy of the predictor on the probation rows of each series (10 epochs,
Adam 1e-3, Huber loss); the exports do not, since neither format trains. The card gives the NAB scores with
and without that step.
"""

from __future__ import annotations

import os
import shutil


def _predict_and_error(model, width: int):
    import tensorflow as tf

    def serve(window):
        prediction = tf.reshape(model(window[:, :width], training=False), [-1])
        return {"prediction": prediction, "error": window[:, width] - prediction}

    return serve


def _side_files(spec, model, out_dir: str, *, inputs: dict, outputs: dict) -> None:
    from zoo._export import write_json
    from zoo.models.anomaly_detector import likelihood
    from zoo.models.anomaly_detector.model import window_length

    shutil.copyfile(likelihood.__file__, os.path.join(out_dir, "likelihood.py"))
    card = spec.card() or {}
    metrics = card.get("metrics") or {}
    width = window_length(model)
    write_json(os.path.join(out_dir, "detector.json"), {
        "model": spec.name,
        "window": width,
        "input": inputs,
        "output": outputs,
        "thresholds": metrics.get("thresholds", {}),
        "probation": "NAB's rule for a whole series of n rows: min(floor(0.15 * n), 750); a stream fixes it up front",
        "normalization": "center, scale = mean and standard deviation of the probation values; scale at least "
                         f"{likelihood.MIN_SCALE} * max(|center|, 1); z = float32((value - center) / scale)",
        "steps": [
            "normalize every value with the probation statistics",
            f"for each row t >= {width}: run the model on the {width + 1} values z[t-{width}] .. z[t]; it returns the "
            "prediction of z[t] from the first "
            f"{width} and error = z[t] - prediction",
            "score = likelihood.StreamingScorer(P).update(value, error) for every row in order (error NaN for the "
            f"first {width} rows); rows before P score 0",
            "flag the rows whose score >= thresholds[profile]",
        ],
        "constants": {"short_window": likelihood.SHORT_WINDOW, "history": likelihood.HISTORY,
                      "min_std": likelihood.MIN_STD, "red": likelihood.RED, "yellow": likelihood.YELLOW,
                      "log_floor": likelihood.LOG_FLOOR, "spatial_tolerance": likelihood.SPATIAL_TOLERANCE},
        "adaptation": "the zoo pipeline also fine-tunes a copy of the predictor on each series' probation rows "
                      "(10 epochs, batches of 64, Adam 1e-3, Huber loss); the exported predictor is the pretrained one",
        "python": f"zoo.pipeline({spec.name!r})(values) or .stream()",
    })


def export_saved_model(spec, model, out_dir: str) -> str:
    """SavedModel whose ``predict`` (and ``serving_default``) signature scores windows.

    Takes ``window`` (float32 ``[batch, W + 1]``: the ``W`` previous normalized values, then the current one)
    and returns ``prediction`` (float32 ``[batch]``, the current value predicted from the ``W`` before it) and
    ``error`` (``current - prediction``). Needs neither zoo nor Keras:
    ``tf.saved_model.load(path).signatures["serving_default"](window=...)``.
    """
    import tensorflow as tf

    from zoo._export import write_saved_model
    from zoo.models.anomaly_detector.model import window_length

    width = window_length(model)
    signature = [tf.TensorSpec([None, width + 1], tf.float32, name="window")]
    path = write_saved_model(model, out_dir, {"predict": (_predict_and_error(model, width), signature)})
    _side_files(spec, model, out_dir, inputs={"name": "window", "dtype": "float32", "shape": [None, width + 1]},
                outputs={"prediction": "float32 [batch]", "error": "float32 [batch]"})
    return path


def export_tflite(spec, model, out_dir: str) -> str:
    """TFLite (builtin ops only) of the same function for one window: ``window`` float32 ``[1, W + 1]`` in;
    ``output_0`` (the prediction) and ``output_1`` (the error), float32 ``[1]``, out."""
    import tensorflow as tf

    from zoo._export import convert_to_tflite
    from zoo.models.anomaly_detector.model import window_length

    width = window_length(model)
    signature = [tf.TensorSpec([1, width + 1], tf.float32, name="window")]
    serve = _predict_and_error(model, width)

    def predict_and_error(window):  # a tuple: the outputs keep this order (output_0, output_1)
        out = serve(window)
        return out["prediction"], out["error"]

    path = convert_to_tflite(predict_and_error, signature, os.path.join(out_dir, f"{spec.name}.tflite"))
    _side_files(spec, model, out_dir, inputs={"name": "window", "dtype": "float32", "shape": [1, width + 1]},
                outputs={"output_0": "prediction, float32 [1]", "output_1": "error, float32 [1]"})
    return path
