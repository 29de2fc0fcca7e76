"""Export of pretrained models to SavedModel (serving) and TFLite (mobile).

SavedModel: the ``serving_default`` signature takes raw strings (``text``: tf.string ``[batch]``) and
returns ``probabilities`` (float32 ``[batch, n_labels]``, in the order of ``labels.txt``) and
``label`` (tf.string ``[batch]``). Load it with plain ``tf.saved_model.load`` or TF Serving.

TFLite: ``<name>.tflite`` takes token ids (int32 ``[1, sequence_length]``, 0-padded) and returns
P(positive) (float32 ``[1, 1]``), builtin ops only. Beside it: ``vocab.txt`` (one token per line;
line i is id i, 0 is padding, 1 is out-of-vocabulary), ``tokenizer.json`` (the rules that turn
text into ids) and ``labels.txt``. ``zoo.pipeline(name).tokenize(texts)`` gives the same ids.
"""

from __future__ import annotations

import json
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
    if format == "saved_model":
        return export_saved_model(spec, model, os.path.join(out_dir, f"{name}_saved_model"))
    return export_tflite(spec, model, out_dir)


def _write_labels(spec, out_dir: str) -> None:
    with open(os.path.join(out_dir, "labels.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(spec.labels) + "\n")


def export_saved_model(spec, model, path: str) -> str:
    """Writes a SavedModel whose ``serving_default`` signature maps raw strings to probabilities."""
    import keras
    import tensorflow as tf

    labels = tf.constant(list(spec.labels))

    def serve(text):
        positive = tf.reshape(model(text, training=False), [-1])
        probabilities = tf.stack([1.0 - positive, positive], axis=-1)
        return {"probabilities": probabilities, "label": tf.gather(labels, tf.cast(positive >= 0.5, tf.int32))}

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serve", serve, input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    archive.write_out(path, verbose=False)
    return path


def export_tflite(spec, model, out_dir: str) -> str:
    """Converts the token-id part of a text classifier to TFLite (builtin ops only) with its tokenizer."""
    import tensorflow as tf

    args = spec.builder_args
    classifier = model.get_layer("classifier")
    forward = tf.function(lambda ids: classifier(ids, training=False))
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    concrete = forward.get_concrete_function(tf.TensorSpec([1, args["sequence_length"]], tf.int32, name="token_ids"))
    # Weights read inside the RNN's while loop stay resource variables unless frozen first.
    frozen = convert_variables_to_constants_v2(concrete)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    path = os.path.join(out_dir, f"{spec.name}.tflite")
    with open(path, "wb") as f:
        f.write(converter.convert())

    vocabulary = model.get_layer("vectorize").get_vocabulary()
    with open(os.path.join(out_dir, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(vocabulary) + "\n")
    tokenizer = {
        "steps": [
            "lower-case (Unicode)",
            "replace <br />, <br/> and <br> with a space",
            "put spaces around ! and ?",
            "replace every run of characters that are not a letter, a digit, an apostrophe, ! or ? with a space",
            "split on whitespace",
            "map each token to its line number in vocab.txt; unknown tokens are 1 ([UNK])",
            f"if there are more than {args['sequence_length']} ids, keep the first {args['head_length']} "
            f"and the last {args['sequence_length'] - args['head_length']}",
            f"pad with 0 at the end to {args['sequence_length']} ids",
        ],
        "sequence_length": args["sequence_length"],
        "head_length": args["head_length"],
        "padding_id": 0,
        "oov_id": 1,
        "vocab_file": "vocab.txt",
        "input": {"name": "token_ids", "dtype": "int32", "shape": [1, args["sequence_length"]]},
        "output": {"name": "probability", "dtype": "float32", "shape": [1, 1], "meaning": f"P({spec.labels[1]})"},
        "python": f"zoo.pipeline({spec.name!r}).tokenize(texts)",
    }
    with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer, f, indent=2)
    return path
