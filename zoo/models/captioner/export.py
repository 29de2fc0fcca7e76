"""Exports of the captioners: a SavedModel captioning encoded images, and TFLite encoder + decoder step."""

from __future__ import annotations

import os

from zoo.models.captioner.decoding import caption_decoder
from zoo.models.captioner.model import END_ID, MAX_WORDS, PAD_ID, START_ID, image_size_of

def export_saved_model(spec, model, out_dir: str) -> str:
    """SavedModel whose ``caption`` signature (also ``serving_default``) captions encoded images.

    Takes ``images`` (tf.string ``[batch]``: JPEG, PNG, GIF or BMP bytes) and returns ``caption``
    (tf.string ``[batch]``), decoded greedily (the loop runs inside the graph). It needs neither zoo
    nor Keras: ``tf.saved_model.load(path).signatures["caption"](images=tf.constant([jpeg_bytes]))``.
    Images are decoded as stored (EXIF rotation is not applied) and resized to 160x160 like the pipeline.
    """
    import tensorflow as tf

    from zoo._export import write_saved_model

    decoder = caption_decoder(model)
    size = image_size_of(model)
    vocabulary = tf.constant(decoder.vocabulary)

    def decode_one(data):
        image = tf.io.decode_image(data, channels=3, expand_animations=False)
        image = tf.image.resize(tf.cast(image, tf.float32), (size, size), method="bilinear", antialias=True)
        return tf.ensure_shape(image, [size, size, 3])

    def caption(images):
        pixels = tf.map_fn(decode_one, images, fn_output_signature=tf.TensorSpec([size, size, 3], tf.float32))
        ids, _ = decoder.decode_graph(decoder.encoder(pixels, training=False), beam_width=1, max_words=MAX_WORDS)
        keep = tf.cumsum(tf.cast((ids == END_ID) | (ids == PAD_ID), tf.int32), axis=1) == 0
        words = tf.ragged.boolean_mask(tf.gather(vocabulary, ids), keep)
        text = tf.strings.reduce_join(words, axis=1, separator=" ")
        return {"caption": tf.strings.regex_replace(text, " '", "'")}

    return write_saved_model(model, out_dir, {"caption": (caption, [tf.TensorSpec([None], tf.string, name="images")])})


def export_tflite(spec, model, out_dir: str) -> str:
    """Two TFLite models (builtin ops only, weights frozen) and the vocabulary; returns the encoder's path.

    - ``encoder.tflite``: ``pixels`` float32 ``[1, 160, 160, 3]`` (RGB in [0, 255], the whole image
      resized to 160x160; ``zoo.pipeline(name).pixels(image)`` gives it) -> the decoder's start:
      ``output_0`` = h, ``output_1`` = c (float32 ``[1, units]``) and, for the attention model,
      ``output_2`` = values ``[1, 25, feature_dim]``, ``output_3`` = keys ``[1, 25, attention_dim]``.
    - ``decoder_step.tflite``: ``word_id`` int32 ``[1]``, ``h``, ``c`` (and ``values``, ``keys``) ->
      ``output_0`` = probabilities float32 ``[1, vocab]``, ``output_1`` = h, ``output_2`` = c (and
      ``output_3`` = attention ``[1, 25]``, one weight per grid cell, row-major 5x5).
    - ``vocab.txt``: line i is the word of id i (0 padding, 1 unknown, 2 ``<start>``, 3 ``<end>``);
      ``decoding.json`` repeats the loop below.

    Both have one signature (``interpreter.get_signature_runner()``; inputs by name, outputs ``output_i``).
    Greedy decoding loop (values and keys stay the same at every step)::

        h, c[, values, keys] = encoder(pixels)
        word_id, words = 2, []                       # <start>
        while len(words) < 20:                       # at most 20 words
            probabilities, h, c[, attention] = decoder_step(word_id, h, c[, values, keys])
            probabilities[[0, 1, 2]] = -1            # never padding, unknown or <start>
            word_id = argmax(probabilities)
            if word_id == 3: break                   # <end>
            words.append(vocab[word_id])
        caption = " ".join(words).replace(" '", "'")

    This loop gives the pipeline's ``beam_width=1`` captions (tests/test_captioner.py checks it).
    """
    import tensorflow as tf

    from zoo._export import convert_to_tflite, write_json, write_lines

    decoder = caption_decoder(model)
    size = image_size_of(model)
    encoder = decoder.encoder
    preprocess, backbone = encoder.get_layer("preprocess"), encoder.get_layer("mobilenet_v2")
    attention = decoder.kind == "attention"
    units = decoder.units

    def encode(pixels):  # the encoder without its resize layer: the caller resizes to 160x160
        (h, c), memory = decoder.start(backbone(preprocess(pixels), training=False))
        return (h, c, *memory)

    encoder_path = convert_to_tflite(encode, [tf.TensorSpec([1, size, size, 3], tf.float32, name="pixels")],
                              os.path.join(out_dir, "encoder.tflite"))
    state_spec = [tf.TensorSpec([1], tf.int32, name="word_id"), tf.TensorSpec([1, units], tf.float32, name="h"),
                  tf.TensorSpec([1, units], tf.float32, name="c")]
    if attention:
        _, _, values, keys = encode(tf.zeros([1, size, size, 3]))
        state_spec += [tf.TensorSpec(values.shape, tf.float32, name="values"),
                       tf.TensorSpec(keys.shape, tf.float32, name="keys")]

        def step(word_id, h, c, values, keys):
            probabilities, (h, c), alpha = decoder.probabilities(word_id, (h, c), (values, keys))
            return probabilities, h, c, alpha
    else:
        def step(word_id, h, c):
            probabilities, (h, c), _ = decoder.probabilities(word_id, (h, c), ())
            return probabilities, h, c

    convert_to_tflite(step, state_spec, os.path.join(out_dir, "decoder_step.tflite"))
    write_lines(os.path.join(out_dir, "vocab.txt"), decoder.vocabulary)
    write_json(os.path.join(out_dir, "decoding.json"), {
        "image": f"RGB, whole image resized to {size}x{size} (bilinear, antialiased), float32 in [0, 255]",
        "encoder": {"inputs": ["pixels"], "outputs": ["h", "c"] + (["values", "keys"] if attention else []),
                    "output_names": "output_0, output_1, ... in this order"},
        "decoder_step": {"inputs": [s.name for s in state_spec],
                         "outputs": ["probabilities", "h", "c"] + (["attention"] if attention else []),
                         "output_names": "output_0, output_1, ... in this order"},
        "start_id": START_ID, "end_id": END_ID, "never_write": list(decoder.never_write),
        "max_words": MAX_WORDS,
        "loop": "word_id = start_id; while fewer than max_words words: run decoder_step, feed back h and c "
                "(values and keys stay); word_id = argmax(probabilities) over ids not in never_write; "
                "stop at end_id, else append vocab[word_id]",
        "caption": "the words joined by single spaces, then the space before a clitic removed (dog 's -> dog's)",
        "python": f"zoo.pipeline({spec.name!r})(image, beam_width=1)",
    })
    return encoder_path
