"""Streaming anomaly detection: an RNN predicts each value of a series, HTM's anomaly likelihood scores its errors.

The predictor reads the last ``W`` values of a series (normalized by the series' probation period) and
predicts the next; a copy is fine-tuned on each series' probation rows; the errors become scores in
``[0, 1]`` through HTM's anomaly likelihood (recent mean error against the long-run error distribution, a
Gaussian tail probability, log-scaled) plus NAB's HTM spatial rule. Scored on the whole Numenta Anomaly
Benchmark with a tested port of NAB's scorer (`zoo.metrics.nab`).

The family's parts: `model` (the predictor), `likelihood` (errors to scores, NumPy only), `scoring` (one
series: normalization, fine-tuning, batched prediction), `inputs` (arrays, pandas, CSV files), `pipeline`
(scores, streams, plots), `evaluation` (the card's NAB figures), `export` (SavedModel and TFLite) and
`report` (the README's NAB tables) and `examples` (what the registry-wide tests run); this file registers them.

Example:
    >>> import zoo
    >>> det = zoo.pipeline("nab-lstm")
    >>> det("series.csv")["flagged"]
    >>> stream = det.stream(); stream.update(12.5)
"""

from __future__ import annotations

from zoo._family import Family, part_lookup, register_family
from zoo._registry import ModelSpec, register

_HERE = __name__
__getattr__ = part_lookup(__name__, ("model", "likelihood", "scoring", "inputs", "pipeline", "evaluation", "export",
                                     "examples"))
FAMILY = register_family(Family(
    name="anomaly_detector",
    builder=f"{_HERE}.model:build_anomaly_detector",
    pipeline=f"{_HERE}.pipeline:AnomalyDetectionPipeline",
    evaluator=f"{_HERE}.evaluation:evaluate",
    exporters={"saved_model": f"{_HERE}.export:export_saved_model", "tflite": f"{_HERE}.export:export_tflite"},
    examples=f"{_HERE}.examples:examples",
    inputs="file",
    readme_section=f"{_HERE}.report:readme_section",
))

register(ModelSpec(
    name="nab-lstm",
    family=FAMILY.name,
    builder_args=dict(cell="lstm", units=32, window=32, clip=10.0),
    task="streaming anomaly detection (univariate series)",
    structure="many-to-one",
    dataset="nab",
    dataset_name="Numenta Anomaly Benchmark v1.1 (58 series, 365,558 rows, 116 labelled windows; Lavin & Ahmad 2015)",
    labels=(),
    metric="nab_standard",
    recipe="recipes/train_anomaly_detector.py",
    description=(
        "Scores each row of a univariate series for anomaly, streaming: the score of row t uses rows up to t "
        "only. An LSTM (32 units) reads the last 32 values, normalized by the mean and standard deviation of the "
        "series' probation period (NAB's first min(15%, 750) rows), centered on the last value and soft-clipped, "
        "and predicts the next value. It was pretrained on the probation periods of all 58 NAB series (no label, "
        "no scored row); for each series a copy is fine-tuned on that series' probation rows. The errors become "
        "scores the way HTM does (Ahmad et al. 2017): the mean absolute error of the last 10 rows against the mean "
        "and spread of that average over the previous 8,640 rows gives a Gaussian tail probability, filtered "
        "(a run of red rows keeps its first) and log-scaled to [0, 1]; a value 5% beyond the range seen so far "
        "scores 1 (the spatial rule of NAB's HTM detector). One threshold per NAB profile comes from NAB's sweep "
        "over the corpus. No label is used except by the scorer."
    ),
    data_license="NAB data: MIT (Numenta, since NAB commit ea702d75; AGPL-3.0 before)",
    example='"series.csv"',
    validation_split="no NAB split: the last 10% of each series' probation windows (3,082), held out from the "
                     "pretraining and scored by their Huber loss",
    unit="series",
))
