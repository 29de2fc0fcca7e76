"""Exports of the taggers: a SavedModel with tokenization and decoding inside, and a TFLite model of the network."""

from __future__ import annotations

TFLITE_MAX_TOKENS = 128  # fixed sentence width of the TFLite model; longer sentences are tagged in windows


def export_saved_model(spec, model, out_dir: str) -> str:
    """SavedModel with two signatures, tokenization and tagging inside the graph.

    ``serving_default``: ``text`` (tf.string ``[batch]``) -> ``tokens``, ``tags`` (tf.string
    ``[batch, time]``, ``""`` past each text's end) and ``scores`` (float32 ``[batch, time]``).
    ``tag_tokens``: ``tokens`` (tf.string ``[batch, time]``, padded with ``""``) -> ``tags``, ``scores``.
    """
    import tensorflow as tf

    from zoo._export import write_saved_model
    from zoo.layers.tagging import TokenizeText
    from zoo.models.sequence_tagger.pipeline import tagging_function

    tag_names = tf.constant(list(spec.builder_args["tags"]))
    tokenize = TokenizeText()
    predict = tagging_function(model)  # for a CRF tagger: Viterbi decoding and marginals, inside the graph

    def tag_tokens(tokens):
        ids, scores = predict(tokens)
        return {"tags": tf.where(tf.not_equal(tokens, ""), tf.gather(tag_names, ids), ""), "scores": scores}

    def tag_text(text):
        tokens = tokenize(text)
        return {"tokens": tokens, **tag_tokens(tokens)}

    return write_saved_model(model, out_dir, {
        "serve": (tag_text, [tf.TensorSpec([None], tf.string, name="text")]),
        "tag_tokens": (tag_tokens, [tf.TensorSpec([None, None], tf.string, name="tokens")]),
    })


def export_tflite(spec, model, out_dir: str) -> str:
    """TFLite of the network (builtin ops only): word ids and char ids in, tag probabilities out.

    For a CRF tagger the output is emission scores instead, and ``crf.json`` holds the transition
    weights for Viterbi decoding beside the interpreter (`zoo.layers.crf.CRF.viterbi_decode` in Python).

    Inputs: ``word_ids`` int32 ``[1, 128]``, ``char_ids`` int32 ``[1, 128, max_chars]`` and, for taggers with
    casing features, ``case_ids`` int32 ``[1, 128]`` (`zoo.layers.tagging.casing`), 0-padded;
    output float32 ``[1, 128, n_tags]`` (tags in ``labels.txt`` order). ``words.txt`` and ``chars.txt``
    map tokens (lower-cased, digits as 0) and characters to ids by line number (0 padding, 1 unknown);
    ``tokenizer.json`` gives the tokenization rules (``zoo.layers.tagging.tokenize`` in Python).
    """
    import json
    import os

    import tensorflow as tf

    from zoo._export import convert_to_tflite, write_json, write_lines
    from zoo.layers.tagging import CASINGS, TOKEN_RULES
    from zoo.models.sequence_tagger.pipeline import emission_part, is_crf

    args = spec.builder_args
    tagger = emission_part(model)
    network = tagger.get_layer("network")
    signature = [
        tf.TensorSpec([1, TFLITE_MAX_TOKENS], tf.int32, name="word_ids"),
        tf.TensorSpec([1, TFLITE_MAX_TOKENS, args["max_chars"]], tf.int32, name="char_ids"),
    ]
    if args.get("case_features"):
        signature.append(tf.TensorSpec([1, TFLITE_MAX_TOKENS], tf.int32, name="case_ids"))
    forward = tf.function(lambda *inputs: network(list(inputs), training=False))
    path = convert_to_tflite(forward, signature, os.path.join(out_dir, f"{spec.name}.tflite"))
    if is_crf(model):  # the TFLite model gives emission scores; Viterbi runs beside it with these weights
        crf = model.crf
        write_json(os.path.join(out_dir, "crf.json"), {
            "tags": list(args["tags"]),
            "transitions": crf.transitions.numpy().round(6).tolist(),
            "start_transitions": crf.start_transitions.numpy().round(6).tolist(),
            "end_transitions": crf.end_transitions.numpy().round(6).tolist(),
            "decoding": "Viterbi over score(y) = start[y0] + sum_t emission[t, y_t] + sum_t transitions[y_(t-1), y_t]"
                        " + end[y_last], on the sentence's real tokens only",
        })
    for layer, filename in (("words", "words.txt"), ("chars", "chars.txt")):
        write_lines(os.path.join(out_dir, filename), tagger.get_layer(layer).get_vocabulary())
    write_json(os.path.join(out_dir, "tokenizer.json"), {
        "rules": [{"pattern": p, "replacement": r} for p, r in TOKEN_RULES],
        "then": "split on whitespace",
        "word_id": "line of words.txt holding the token lower-cased with every digit replaced by 0; 1 if absent",
        "char_ids": f"line of chars.txt for each of the token's first {args['max_chars']} characters; 1 if absent",
        **({"case_id": "zoo.layers.tagging.casing(token): index in CASINGS " + json.dumps(CASINGS)}
           if args.get("case_features") else {}),
        "max_tokens": TFLITE_MAX_TOKENS,
        "python": "zoo.layers.tagging.tokenize(text) and zoo.pipeline(name).encode(tokens)",
    })
    return path
