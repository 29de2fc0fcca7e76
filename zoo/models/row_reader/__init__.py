"""Digits read row by row: an MNIST image as 28 time steps of 28 pixels, read by an LSTM (many-to-one).

A picture of a digit (any size, dark on light or light on dark) is first made to look like MNIST
(`digits.to_mnist`: grey, light-on-dark, the ink's bounding box scaled to 20x20 and its centre of mass
put at the centre of a 28x28 frame); the model reads its rows top to bottom, and its last state feeds a
softmax over the ten digits.

The family's parts: `model` (the builder), `digits` (any picture to MNIST pixels), `pipeline`
(prediction with readable output), `evaluation` (the card's scores), `export` (SavedModel and TFLite)
and `examples`; this file registers the family and its model.

Example:
    >>> import zoo
    >>> zoo.pipeline("mnist-row-lstm")("seven.png")
    {'label': '7', 'score': 0.998, 'inverted': True, 'top': [...]}
"""

from __future__ import annotations

from zoo._family import Family, part_lookup, register_family
from zoo._registry import ModelSpec, register

_HERE = __name__
__getattr__ = part_lookup(__name__, ("model", "digits", "pipeline", "evaluation", "export", "examples"))
FAMILY = register_family(Family(
    name="row_reader",
    builder=f"{_HERE}.model:build_row_reader",
    pipeline=f"{_HERE}.pipeline:DigitReadingPipeline",
    evaluator=f"{_HERE}.evaluation:evaluate",
    exporters={"saved_model": f"{_HERE}.export:export_saved_model", "tflite": f"{_HERE}.export:export_tflite"},
    examples=f"{_HERE}.examples:examples",
    inputs="file",
))

DIGITS = tuple("0123456789")

register(ModelSpec(
    name="mnist-row-lstm",
    family=FAMILY.name,
    builder_args=dict(units=128, layers=1, bidirectional=True, dropout=0.2),
    task="handwritten digit recognition",
    structure="many-to-one",
    dataset="mnist",
    dataset_name="MNIST (the four official IDX files: 60,000 training and 10,000 test images)",
    labels=DIGITS,
    metric="accuracy",
    recipe="recipes/train_row_reader.py",
    description=(
        "A 28x28 grey digit read as a sequence: each of its 28 rows (28 pixels, scaled to [0, 1]) is one "
        "time step of a bidirectional LSTM (128 units each way); its last states feed a softmax over the ten "
        "digits. Trained on the first 55,000 official training images (random shifts of up to 1 pixel, Adam "
        "with a cosine learning-rate decay); the last 5,000 are the validation split that chose the epoch. "
        "Scored on the 10,000 official test images."
    ),
    data_license="CC BY-SA 3.0 (Yann LeCun and Corinna Cortes, as the Keras mnist documentation states)",
    example='"digit.png"',
    validation_split="the last 5,000 images of the official training file",
    unit="images",
))
