"""Exports of the name classifiers: a SavedModel taking raw names, and a TFLite model of the character-id part."""

from __future__ import annotations

TFLITE_LENGTH = 32  # characters the TFLite model takes (the longest name in the data has 20)


def export_saved_model(spec, model, out_dir: str) -> str:
    """SavedModel whose ``serving_default`` signature maps raw names to language probabilities.

    Takes ``name`` (tf.string ``[batch]``); returns ``probabilities`` (float32 ``[batch, languages]``, in
    the order of ``labels.txt``) and ``label`` (tf.string ``[batch]``, the likeliest language).
    """
    import tensorflow as tf

    from zoo._export import write_saved_model

    labels = tf.constant(list(spec.labels))

    def serve(name):
        probabilities = model(name, training=False)
        return {"probabilities": probabilities, "label": tf.gather(labels, tf.argmax(probabilities, axis=-1))}

    return write_saved_model(model, out_dir, {"serve": (serve, [tf.TensorSpec([None], tf.string, name="name")])})


def export_tflite(spec, model, out_dir: str) -> str:
    """TFLite of the character-id part (builtin ops only), with ``chars.txt`` and ``labels.txt`` beside it.

    Takes character ids (int32 ``[1, max_length]``, 0-padded at the end) and returns the probabilities
    (float32 ``[1, languages]``). ``chars.txt`` has one character per line (line i is id i; line 0 is
    padding, line 1 unknown); the name is first lower-cased (A-Z only) and split into Unicode characters.
    ``zoo.pipeline(name).char_ids(names)`` gives the same ids.
    """
    import os

    import tensorflow as tf

    from zoo._export import convert_to_tflite, write_json, write_lines

    classifier = model.get_layer("classifier")
    forward = tf.function(lambda ids: classifier(ids, training=False))
    length = TFLITE_LENGTH
    signature = [tf.TensorSpec([1, length], tf.int32, name="char_ids")]
    path = convert_to_tflite(forward, signature, os.path.join(out_dir, f"{spec.name}.tflite"))
    vocabulary = model.get_layer("characters").get_vocabulary()
    write_lines(os.path.join(out_dir, "chars.txt"), ["[PAD]", "[UNK]", *vocabulary[2:]])
    write_json(os.path.join(out_dir, "tokenizer.json"), {
        "steps": ["lower-case A-Z (other characters are kept as they are)", "split into Unicode characters",
                  "map each character to its line number in chars.txt; unknown characters are 1",
                  f"keep the first {length} ids and pad with 0 at the end to {length}"],
        "chars_file": "chars.txt", "padding_id": 0, "oov_id": 1,
        "input": {"name": "char_ids", "dtype": "int32", "shape": [1, length]},
        "output": {"dtype": "float32", "shape": [1, len(spec.labels)], "meaning": "probability per line of labels.txt"},
        "python": f"zoo.pipeline({spec.name!r}).char_ids(names)",
    })
    return path
