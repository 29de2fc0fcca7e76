"""Exports of the text classifiers: a SavedModel taking raw strings, and a TFLite model of the token-id part."""

from __future__ import annotations


def export_saved_model(spec, model, out_dir: str) -> str:
    """SavedModel whose ``serving_default`` signature maps raw strings to probabilities.

    Takes ``text`` (tf.string ``[batch]``); returns ``probabilities`` (float32 ``[batch, 2]``, in
    the order of the labels: negative, positive) and ``label`` (tf.string ``[batch]``).
    """
    import tensorflow as tf

    from zoo._export import write_saved_model

    labels = tf.constant(list(spec.labels))

    def serve(text):
        positive = tf.reshape(model(text, training=False), [-1])
        probabilities = tf.stack([1.0 - positive, positive], axis=-1)
        return {"probabilities": probabilities, "label": tf.gather(labels, tf.cast(positive >= 0.5, tf.int32))}

    return write_saved_model(model, out_dir, {"serve": (serve, [tf.TensorSpec([None], tf.string, name="text")])})


def export_tflite(spec, model, out_dir: str) -> str:
    """TFLite of the token-id part (builtin ops only), with ``vocab.txt``, ``labels.txt`` and ``tokenizer.json`` beside it.

    Takes token ids (int32 ``[1, sequence_length]``, 0-padded) and returns P(positive) (float32
    ``[1, 1]``). ``vocab.txt`` has one token per line (line i is id i; 0 padding, 1 out-of-vocabulary);
    ``zoo.pipeline(name).tokenize(texts)`` gives the same ids.
    """
    import os

    import tensorflow as tf

    from zoo._export import convert_to_tflite, write_json, write_lines

    args = spec.builder_args
    classifier = model.get_layer("classifier")
    forward = tf.function(lambda ids: classifier(ids, training=False))
    signature = [tf.TensorSpec([1, args["sequence_length"]], tf.int32, name="token_ids")]
    path = convert_to_tflite(forward, signature, os.path.join(out_dir, f"{spec.name}.tflite"))

    write_lines(os.path.join(out_dir, "vocab.txt"), model.get_layer("vectorize").get_vocabulary())
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
    write_json(os.path.join(out_dir, "tokenizer.json"), tokenizer)
    return path


