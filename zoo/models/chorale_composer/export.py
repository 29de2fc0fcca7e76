"""Exports of the chorale composers: a SavedModel (next-note probabilities, and composing with the sampling
loop in the graph) and a TFLite model of one note step (builtin ops) for a loop written by the app."""

from __future__ import annotations


def export_saved_model(spec, model, out_dir: str) -> str:
    """SavedModel with two signatures.

    * ``next_note`` (also ``serving_default``): ``notes`` (int32 ``[batch, time]``, note classes: 0 rest, c
      the MIDI pitch ``c + 35``, unrolled voice by voice; ``time`` a multiple of 4, whole chords: pad with
      rests, the model is causal) -> ``probabilities`` (float32 ``[batch, time, 47]``), the next note's
      distribution at every position.
    * ``compose``: ``seed_chords`` (int32 ``[batch, chords >= 1, 4]``, MIDI pitches, 0 rest), ``n_chords``
      (int32 scalar), ``temperature`` (float32 scalar > 0), ``seed`` (int64 scalar) -> ``chords`` (int32
      ``[batch, n_chords, 4]``): the sampling loop of ``zoo.pipeline(name).compose`` (no top-k / top-p), so
      the same seed gives the same chords.
    """
    import tensorflow as tf

    from zoo._export import write_saved_model
    from zoo.models.chorale_composer.decoding import ComposerStep

    step = ComposerStep(model)

    def next_note(notes):
        return {"probabilities": model(notes, training=False)}

    def compose(seed_chords, n_chords, temperature, seed):
        return {"chords": step.compose_graph(seed_chords, n_chords, temperature=temperature, seed=seed)}

    return write_saved_model(model, out_dir, {
        "next_note": (next_note, [tf.TensorSpec([None, None], tf.int32, name="notes")]),
        "compose": (compose, [tf.TensorSpec([None, None, 4], tf.int32, name="seed_chords"),
                              tf.TensorSpec([], tf.int32, name="n_chords"),
                              tf.TensorSpec([], tf.float32, name="temperature"),
                              tf.TensorSpec([], tf.int64, name="seed")]),
    })


def export_tflite(spec, model, out_dir: str) -> str:
    """TFLite of one note step (builtin ops only), with ``composer.json`` describing the loop around it.

    Inputs (by name, through the signature runner): ``note`` (int32 ``[1]``, the previous note's class) and
    the state (`ComposerStep.state_specs`: ``notes``, ``phase``, ``context``, ``h1, c1, h2, c2``), whose
    starting values are written to ``initial_state.json``. Outputs:
    ``output_0`` the next note's probabilities (float32 ``[1, 47]``), then the new states in the same order.
    """
    import os

    import numpy as np

    from zoo._export import convert_step_to_tflite, write_json
    from zoo.models.chorale_composer.decoding import ComposerStep

    step = ComposerStep(model)
    specs = step.state_specs()
    path = os.path.join(out_dir, f"{spec.name}.tflite")
    described = convert_step_to_tflite(step, path, token="note",
                                       probabilities="the next note's probabilities, float32 [1, 47]")
    write_json(os.path.join(out_dir, "composer.json"), {
        "notes": "class 0 is a rest; class c (1..46) is MIDI pitch c + 35; a chord is 4 notes (soprano, alto, tenor, "
                 "bass), a 16th note long; a chorale is its chords unrolled voice by voice",
        "inputs": described["inputs"],
        "state": {"notes": "the embeddings of the last notes, oldest first, that the causal convolution reads",
                  "phase": "the voice of the note fed (0 soprano, 1 alto, 2 tenor, 3 bass)",
                  "context": "the last LSTM layer's output for the current chord",
                  "h1, c1, ...": "the LSTM states (the LSTMs step once per chord, after its bass note)"},
        "outputs": described["outputs"],
        "loop": ["start from the state zoo's ComposerStep.zero_state gives (initial_state.json: the LSTMs after "
                 "one chord of zeros)", "feed the seed's notes one by one, keeping the states",
                 "after the seed's last note: draw the next note from output_0 (divide the log-probabilities by a "
                 "temperature first), feed it, repeat; every 4 notes make one chord"],
        "python": f"zoo.pipeline({spec.name!r}).compose(seed_chords, n_chords, temperature=..., seed=...)",
    })
    write_json(os.path.join(out_dir, "initial_state.json"),
               {name: np.asarray(value).tolist() for name, value in zip(specs, step.zero_state(1))})
    return path
