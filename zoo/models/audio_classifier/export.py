"""Exports of the audio classifiers: a SavedModel and a TFLite model, both taking the raw 8 kHz waveform
(the log-mel front end is inside both; the TFLite one computes its STFT as a constant matrix product)."""

from __future__ import annotations


def export_saved_model(spec, model, out_dir: str) -> str:
    """SavedModel whose ``serving_default`` signature maps waveforms to label probabilities.

    Takes ``waveform`` (float32 ``[batch, samples]``: mono, at the model's sample rate, in [-1, 1], any
    length: cropped or zero-padded to ``max_samples`` inside); returns ``probabilities`` (float32
    ``[batch, labels]``, in the order of ``labels.txt``) and ``label`` (tf.string ``[batch]``). The zoo's
    pipeline also cuts leading and trailing silence first (``zoo.pipeline(name).model_input(audio)`` gives
    the exact rows).
    """
    import tensorflow as tf

    from zoo._export import write_saved_model

    labels = tf.constant(list(spec.labels))

    def serve(waveform):
        probabilities = model(waveform, training=False)
        return {"probabilities": probabilities, "label": tf.gather(labels, tf.argmax(probabilities, axis=-1))}

    return write_saved_model(model, out_dir, {"serve": (serve, [tf.TensorSpec([None, None], tf.float32, name="waveform")])})


def export_tflite(spec, model, out_dir: str) -> str:
    """TFLite of the whole model (builtin ops only), with ``labels.txt`` and ``audio.json`` beside it.

    Takes ``waveform`` (float32 ``[1, max_samples]``: mono at the model's rate, silence trimmed, cropped or
    zero-padded at the end) and returns the probabilities (float32 ``[1, labels]``).
    """
    import os

    import tensorflow as tf

    from zoo._export import convert_to_tflite, write_json
    from zoo._audio import SILENCE_PEAK, TRIM_DB, TRIM_FRAME_SECONDS

    front_end = model.get_layer("log_mel")
    signature = [tf.TensorSpec([1, front_end.max_samples], tf.float32, name="waveform")]
    path = convert_to_tflite(tf.function(lambda waveform: model(waveform, training=False)), signature,
                             os.path.join(out_dir, f"{spec.name}.tflite"))
    write_json(os.path.join(out_dir, "audio.json"), {
        "steps": [f"mono float32 samples in [-1, 1] at {front_end.sample_rate} Hz (average the channels; resample)",
                  f"cut leading and trailing {TRIM_FRAME_SECONDS * 1000:g} ms frames whose RMS is more than "
                  f"{TRIM_DB:g} dB below the loudest frame's",
                  f"keep the first {front_end.max_samples} samples and pad with zeros at the end to {front_end.max_samples}"],
        "sample_rate": front_end.sample_rate, "max_samples": front_end.max_samples,
        "silence_peak": SILENCE_PEAK,
        "input": {"name": "waveform", "dtype": "float32", "shape": [1, front_end.max_samples]},
        "output": {"dtype": "float32", "shape": [1, len(spec.labels)], "meaning": "probability per line of labels.txt"},
        "python": f"zoo.pipeline({spec.name!r}).model_input(audio)",
    })
    return path
