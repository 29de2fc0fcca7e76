"""Exports of the forecasters: a SavedModel with a ``forecast`` signature and a TFLite model, both taking and
giving original units (the scaler is inside), with ``forecaster.json`` beside them."""

from __future__ import annotations

import os


def describe(spec, model) -> dict:
    """What a user of an export needs besides the model: columns, lengths, frequency and the scaler."""
    import importlib

    import numpy as np

    from zoo.models.forecaster.model import forecast_columns, network_layer, shapes

    data = importlib.import_module(f"zoo.data.{spec.dataset}")
    input_length, channels, horizon, _ = shapes(model)
    inputs = list(getattr(data, "FEATURES", data.COLUMNS))
    scaler = network_layer(model, "scaler")  # (an ensemble's members share it)
    return {
        "model": spec.name,
        "input": {"name": "history", "dtype": "float32", "shape": ["batch", input_length, channels],
                  "columns": inputs, "units": "original units (the scaler is inside the model)"},
        "output": {"name": "forecast", "dtype": "float32", "shape": ["batch", horizon, len(forecast_columns(model))],
                   "columns": [inputs[i] for i in forecast_columns(model)]},
        "input_length": input_length,
        "horizon": horizon,
        "frequency": str(data.FREQUENCY),
        "scaler": {"mean": np.asarray(scaler.mean, float).round(8).tolist(),
                   "scale": np.asarray(scaler.scale, float).round(8).tolist(),
                   "fit_on": "the train rows only"},
        "features": (f"zoo.data.{spec.dataset}.features(columns, timestamps) builds these columns from the raw ones"
                     if hasattr(data, "FEATURES") else "the raw columns, in this order"),
    }


def export_saved_model(spec, model, out_dir: str) -> str:
    """SavedModel whose ``forecast`` signature (also ``serving_default``) maps ``history`` (float32
    ``[batch, L, C]``, original units) to ``forecast`` (float32 ``[batch, H, outputs]``, original units).

    It needs neither zoo nor Keras:
    ``tf.saved_model.load(path).signatures["forecast"](history=x)["forecast"]``.
    """
    import tensorflow as tf

    from zoo._export import write_json, write_saved_model
    from zoo.models.forecaster.model import shapes

    input_length, channels, _, _ = shapes(model)

    def serve(history):
        return {"forecast": model(history, training=False)}

    signature = [tf.TensorSpec([None, input_length, channels], tf.float32, name="history")]
    path = write_saved_model(model, out_dir, {"forecast": (serve, signature)})
    write_json(os.path.join(out_dir, "forecaster.json"), describe(spec, model))
    return path


def export_tflite(spec, model, out_dir: str) -> str:
    """TFLite (builtin ops only) of the whole forecaster for one window: ``history`` float32 ``[1, L, C]`` in
    original units to the forecast ``[1, H, outputs]``; ``forecaster.json`` gives the columns and lengths.

    Example (the standalone LiteRT interpreter):
        >>> runner = Interpreter(model_path=path).get_signature_runner()
        >>> runner(history=window[None].astype("float32"))["output_0"]   # [1, H, outputs]
    """
    import tensorflow as tf

    from zoo._export import convert_to_tflite, write_json
    from zoo.models.forecaster.model import shapes

    input_length, channels, _, _ = shapes(model)
    forward = tf.function(lambda history: model(history, training=False))
    signature = [tf.TensorSpec([1, input_length, channels], tf.float32, name="history")]
    path = convert_to_tflite(forward, signature, os.path.join(out_dir, f"{spec.name}.tflite"))
    write_json(os.path.join(out_dir, "forecaster.json"), describe(spec, model))
    return path
