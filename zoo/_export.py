"""Export of pretrained models to SavedModel (serving) and TFLite (mobile).

Each model family says what its exports take and return (``export_saved_model`` and
``export_tflite`` in its module, documented there and in the README); this module holds the shared
machinery: the SavedModel archive and the TFLite conversion with builtin ops only.
"""

from __future__ import annotations

import importlib
import os

from zoo._registry import get_spec

FORMATS = ("saved_model", "tflite")


def export(name: str, out_dir: str, *, format: str = "saved_model") -> str:
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}.")
    if not isinstance(out_dir, (str, os.PathLike)):
        raise TypeError(f"out_dir must be a path, got {type(out_dir).__name__}.")
    from zoo._api import load

    spec = get_spec(name)
    model = load(name)
    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    _write_labels(spec, out_dir)
    family = importlib.import_module(spec.builder.partition(":")[0])
    if format == "saved_model":
        return family.export_saved_model(spec, model, os.path.join(out_dir, f"{name}_saved_model"))
    return family.export_tflite(spec, model, out_dir)


def _write_labels(spec, out_dir: str) -> None:
    with open(os.path.join(out_dir, "labels.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(spec.labels) + "\n")


def write_saved_model(model, path: str, endpoints: dict) -> str:
    """Writes ``model``'s variables and one signature per ``{name: (function, input_signature)}``.

    The first endpoint is also the ``serving_default`` signature.
    """
    import keras

    archive = keras.export.ExportArchive()
    archive.track(model)
    for endpoint, (function, signature) in endpoints.items():
        archive.add_endpoint(endpoint, function, input_signature=signature)
    archive.write_out(path, verbose=False)
    return path


def convert_to_tflite(function, input_signature, path: str) -> str:
    """Converts a ``tf.function`` of a Keras model to TFLite with builtin ops only (no Flex ops)."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    concrete = function.get_concrete_function(*input_signature)
    # Weights read inside an RNN's while loop stay resource variables unless frozen first.
    converter = tf.lite.TFLiteConverter.from_concrete_functions([convert_variables_to_constants_v2(concrete)])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    with open(path, "wb") as f:
        f.write(converter.convert())
    return path
