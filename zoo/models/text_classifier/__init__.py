"""Many-to-one RNN text classifiers: raw string in, class probability out.

The network reads the whole review with a recurrent cell (SimpleRNN, LSTM or GRU, optionally
bidirectional), pools the per-step outputs over time (max and mean, ignoring padding) and maps
the pooled vector to a probability. Preprocessing (standardization, vocabulary lookup, head+tail
cropping) lives inside the model, so a checkpoint takes raw strings.

The family's parts: `model` (builders), `pipeline` (prediction with readable output), `evaluation`
(the card's score), `export` (SavedModel and TFLite) and `examples` (what the registry-wide tests
run); this file registers the family and its models.

Example:
    >>> import zoo
    >>> clf = zoo.pipeline("imdb-bigru")
    >>> clf(["A wonderful, moving film.", "Dull and far too long."])
    [{'label': 'positive', 'score': 0.98}, {'label': 'negative', 'score': 0.97}]
"""

from __future__ import annotations

from zoo._family import Family, part_lookup, register_family
from zoo._registry import ModelSpec, register

_HERE = __name__
__getattr__ = part_lookup(__name__, ("model", "pipeline", "evaluation", "export", "examples"))
FAMILY = register_family(Family(
    name="text_classifier",
    builder=f"{_HERE}.model:build_text_classifier",
    pipeline=f"{_HERE}.pipeline:TextClassificationPipeline",
    evaluator=f"{_HERE}.evaluation:evaluate",
    exporters={"saved_model": f"{_HERE}.export:export_saved_model", "tflite": f"{_HERE}.export:export_tflite"},
    examples=f"{_HERE}.examples:examples",
))

_IMDB = dict(
    task="sentiment classification",
    structure="many-to-one",
    dataset="imdb",
    dataset_name="IMDB Large Movie Review Dataset v1.0 (Maas et al. 2011)",
    labels=("negative", "positive"),
    metric="accuracy",
    recipe="recipes/train_text_classifier.py",
    data_license="IMDb user reviews for research use; cite Maas et al. 2011 (no license stated by the authors)",
    family=FAMILY.name,
    example='["A wonderful, moving film.", "Dull and far too long."]',
    validation_split="2,500 reviews carved from the official train split with a fixed seed",
    unit="reviews",
)
_ARCHITECTURES = {
    "simplernn": ("A single SimpleRNN layer (Elman network).", dict(cell="simple_rnn", units=64)),
    "lstm": ("A single LSTM layer.", dict(cell="lstm", units=64)),
    "gru": ("A single GRU layer.", dict(cell="gru", units=64)),
    "bilstm": ("A bidirectional LSTM layer.", dict(cell="lstm", units=64, bidirectional=True)),
    "bigru": ("A bidirectional GRU layer.", dict(cell="gru", units=64, bidirectional=True)),
}
for _arch, (_what, _args) in _ARCHITECTURES.items():
    register(
        ModelSpec(
            name=f"imdb-{_arch}",
            builder_args=dict(_args, vocab_size=20000, embedding_dim=100, sequence_length=400, head_length=100),
            description=(
                f"Binary sentiment of an English movie review. {_what} It reads up to 400 tokens (the first 100 "
                "and the last 300 of longer reviews) with 100-d word embeddings initialised from word2vec vectors "
                "trained on the IMDB train and unlabelled reviews; the per-step outputs are max- and mean-pooled "
                "over time and a sigmoid gives P(positive)."
            ),
            **_IMDB,
        )
    )
