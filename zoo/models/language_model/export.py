"""Exports of the word language models: a SavedModel (the next word's probabilities, and generating with the
sampling loop in the graph) and a TFLite model of one word step (builtin ops) for a loop written by the app."""

from __future__ import annotations


def export_saved_model(spec, model, out_dir: str) -> str:
    """SavedModel with two signatures, raw strings in.

    * ``next_word`` (also ``serving_default``): ``text`` (string ``[batch]``) -> ``probabilities`` (float32
      ``[batch, vocabulary]``), the distribution of the token after each text's last token, the text read as
      the start of a review (after ``<eos>``); ids are the lines of ``vocab.txt`` (0 padding, 1 ``[UNK]``,
      2 ``<eos>``: the review ends here).
    * ``generate``: ``prompt`` (string scalar), ``max_words`` (int32 scalar), ``temperature`` (float32 scalar
      > 0), ``seed`` (int64 scalar) -> ``text`` (string scalar: the prompt and what follows): the sampling
      loop of ``zoo.pipeline(name).generate`` (no top-k / top-p), so the same seed gives the same text.
    """
    import os

    import tensorflow as tf

    from zoo._export import write_lines, write_saved_model
    from zoo.models.language_model.decoding import WordStep

    step = WordStep(model)
    vocabulary = model.get_layer("vectorize").get_vocabulary()

    def next_word(text):
        logits = model(text, training=False)  # (batch, tokens + 2): <eos>, the tokens, <eos>, padding
        tokens = tf.reduce_sum(tf.cast(tf.not_equal(model.get_layer("vectorize")(model.get_layer("standardize")(text)), 0),
                                       tf.int32), axis=1)
        return {"probabilities": tf.nn.softmax(tf.gather(logits, tokens, batch_dims=1), axis=-1)}

    def generate(prompt, max_words, temperature, seed):
        return {"text": step.generate_graph(prompt, max_words, temperature=temperature, seed=seed)}

    path = write_saved_model(model, out_dir, {
        "next_word": (next_word, [tf.TensorSpec([None], tf.string, name="text")]),
        "generate": (generate, [tf.TensorSpec([], tf.string, name="prompt"), tf.TensorSpec([], tf.int32, name="max_words"),
                                tf.TensorSpec([], tf.float32, name="temperature"), tf.TensorSpec([], tf.int64, name="seed")]),
    })
    write_lines(os.path.join(out_dir, "vocab.txt"), vocabulary)
    return path


def export_tflite(spec, model, out_dir: str) -> str:
    """TFLite of one word step (builtin ops only), with ``vocab.txt`` and ``generator.json`` describing the loop.

    Inputs (by name, through the signature runner): ``word_id`` (int32 ``[1]``) and the LSTM states ``h1, c1...``
    (float32 ``[1, units]``, zeros at the start). Outputs: ``output_0`` the next token's probabilities (float32
    ``[1, vocabulary]``), then the new states in the same order. The text goes in as token ids: the app
    lower-cases it and splits it as ``generator.json`` says (the model's `StandardizeText`).
    """
    import os

    from zoo._export import convert_step_to_tflite, write_json, write_lines
    from zoo.models.language_model.decoding import WordStep
    from zoo.models.language_model.model import EOS_ID, OOV_ID, PAD_ID

    step = WordStep(model)
    path = os.path.join(out_dir, f"{spec.name}.tflite")
    described = convert_step_to_tflite(step, path, token="word_id",
                                       probabilities="the next token's probabilities, float32 [1, vocabulary]")
    write_lines(os.path.join(out_dir, "vocab.txt"), model.get_layer("vectorize").get_vocabulary())
    write_json(os.path.join(out_dir, "generator.json"), {
        "vocab_file": "vocab.txt",
        "ids": {"padding": PAD_ID, "unknown": OOV_ID, "end_of_review": EOS_ID,
                "words": "line i of vocab.txt is id i (line 0, padding, is empty)"},
        "tokenize": ["lower-case", "replace '<br />' tags with a space", "put spaces around '!' and '?'",
                     "replace every run of characters that are not a letter, a digit, an apostrophe, '!' or '?' "
                     "with a space", "split on white space; a word not in vocab.txt is id 1"],
        **described,
        "loop": ["start with every state at zeros", f"feed id {EOS_ID} (the start of a review), then the prompt's "
                 "ids one by one, keeping the states", f"after the prompt's last id: draw the next id from output_0 "
                 f"(set ids {PAD_ID} and {OOV_ID} to probability 0; for a temperature T, raise the probabilities to "
                 f"the power 1/T and renormalize); stop at id {EOS_ID}, else write the word, feed it, repeat"],
        "python": f"zoo.pipeline({spec.name!r}).generate(prompt, max_words, temperature=..., seed=...)",
    })
    return path
