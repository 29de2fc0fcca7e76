"""Exports of the character language models: a SavedModel (next-character probabilities, and generating with
the sampling loop in the graph) and a TFLite model of one character step (builtin ops) for a loop written by the app."""

from __future__ import annotations


def export_saved_model(spec, model, out_dir: str) -> str:
    """SavedModel with two signatures.

    * ``next_char`` (also ``serving_default``): ``text`` (string ``[batch]``) -> ``probabilities`` (float32
      ``[batch, chars, vocabulary]``), the next character's distribution after every position (ids: 0 padding,
      1 unknown, ``2 + i`` the alphabet's character ``i``; the alphabet is in ``characters.json``), the model's
      cache (if it has one) mixed in over the text given.
    * ``generate``: ``prompt`` (string scalar), ``length`` (int32 scalar, characters to write), ``temperature``
      (float32 scalar > 0), ``seed`` (int64 scalar) -> ``text`` (string scalar: the prompt and what follows):
      the sampling loop of ``zoo.pipeline(name).generate`` (no top-k / top-p), so the same seed gives the same text
      (drawn from the network alone, as the pipeline draws it: no cache).
    """
    import os

    import tensorflow as tf

    from zoo._export import write_json, write_saved_model
    from zoo.models.char_language_model.decoding import CharStep
    from zoo.models.char_language_model.model import alphabet

    step = CharStep(model)

    def next_char(text):
        return {"probabilities": tf.nn.softmax(model(text, training=False), axis=-1)}

    def generate(prompt, length, temperature, seed):
        return {"text": step.generate_graph(prompt, length, temperature=temperature, seed=seed)}

    path = write_saved_model(model, out_dir, {
        "next_char": (next_char, [tf.TensorSpec([None], tf.string, name="text")]),
        "generate": (generate, [tf.TensorSpec([], tf.string, name="prompt"), tf.TensorSpec([], tf.int32, name="length"),
                                tf.TensorSpec([], tf.float32, name="temperature"), tf.TensorSpec([], tf.int64, name="seed")]),
    })
    write_json(os.path.join(out_dir, "characters.json"), {"first_id": 2, "characters": alphabet(model)})
    return path


def export_tflite(spec, model, out_dir: str) -> str:
    """TFLite of one character step (builtin ops only), with ``generator.json`` describing the loop around it.

    Inputs (by name, through the signature runner): ``char_id`` (int32 ``[1]``) and the LSTM states ``h1, c1,
    h2, c2...`` (float32 ``[1, units]``, zeros at the start). Outputs: ``output_0`` the next character's
    probabilities (float32 ``[1, vocabulary]``, from the network alone, as ``generate`` draws them: no cache),
    then the new states in the same order.
    """
    import os

    from zoo._export import convert_step_to_tflite, write_json
    from zoo.models.char_language_model.decoding import CharStep
    from zoo.models.char_language_model.model import alphabet

    path = os.path.join(out_dir, f"{spec.name}.tflite")
    described = convert_step_to_tflite(CharStep(model), path, token="char_id",
                                       probabilities="the next character's probabilities, float32 [1, vocabulary]")
    write_json(os.path.join(out_dir, "generator.json"), {
        "characters": alphabet(model),
        "ids": "id 2 + i is characters[i]; 0 (padding) and 1 (unknown) are never fed nor drawn",
        **described,
        "loop": ["start with every state at zeros", "feed the prompt's characters one by one, keeping the states",
                 "after the prompt's last character: draw the next character from output_0 (set ids 0 and 1 to "
                 "probability 0; for a temperature T, raise the probabilities to the power 1/T and renormalize), "
                 "feed it, repeat"],
        "python": f"zoo.pipeline({spec.name!r}).generate(prompt, max_chars, temperature=..., seed=...)",
    })
    return path
