"""Four-voice chorale composers: a recurrent next-note model over Bach's chorales, sampled note by note.

A chorale is a sequence of chords of four voices (soprano, alto, tenor, bass), one per 16th note, each
voice a MIDI pitch or a rest. Unrolled voice by voice it is one sequence of notes (47 classes: a rest
and MIDI 36..81), and the model predicts the next note at every position (*Hands-On ML*, chapter 15,
exercise 10). Composing continues seed chords by drawing one note at a time from the model through the
zoo's shared sampler (`zoo.decoding.sample`); the chords become a four-track MIDI file (`mido`) or a piano roll.

The family's parts: `model` (the builder), `decoding` (the one-note step and the sampling loop), `midi`
(MIDI files and piano rolls), `pipeline` (composing with readable output), `evaluation` (the card's
scores), `export` (SavedModel and TFLite) and `examples`; this file registers the family and its model.

Example:
    >>> import zoo
    >>> bach = zoo.pipeline("jsb-chorales-lstm")
    >>> chords = bach.compose([[74, 70, 65, 58]] * 8, n_chords=64, temperature=1.0, seed=0)
    >>> bach.to_midi(chords, "chorale.mid", tempo=80)
"""

from __future__ import annotations

from zoo._family import Family, part_lookup, register_family
from zoo._registry import ModelSpec, register

_HERE = __name__
__getattr__ = part_lookup(__name__, ("model", "decoding", "midi", "pipeline", "evaluation", "export", "examples"))
FAMILY = register_family(Family(
    name="chorale_composer",
    builder=f"{_HERE}.model:build_chorale_composer",
    pipeline=f"{_HERE}.pipeline:ChoraleComposerPipeline",
    evaluator=f"{_HERE}.evaluation:evaluate",
    exporters={"saved_model": f"{_HERE}.export:export_saved_model", "tflite": f"{_HERE}.export:export_tflite"},
    examples=f"{_HERE}.examples:examples",
))

register(ModelSpec(
    name="jsb-chorales-lstm",
    family=FAMILY.name,
    builder_args=dict(units=256, layers=2, embedding_dim=32, conv_filters=128, conv_kernel=8, hidden=256, dropout=0.3),
    task="four-voice chorale composition (next-note prediction and sampling)",
    structure="many-to-many",
    dataset="jsb_chorales",
    dataset_name="J.S. Bach chorales, Hands-On ML CSV version (229 / 76 / 77 chorales, Boulanger-Lewandowski et al. 2012 split)",
    labels=(),
    metric="accuracy",
    recipe="recipes/train_chorale_composer.py",
    description="(written after training)",
    data_license="Public domain music; the CSV archive is Apache-2.0 (ageron/handson-ml2)",
    example="[[74, 70, 65, 58]] * 8   # seed chords; bach.compose(seed, n_chords=64, seed=0)",
    validation_split="the official validation chorales (76; 1,039 windows)",
    unit="notes",
))
