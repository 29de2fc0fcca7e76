"""Many-to-one character RNN name classifiers: a surname in, a probability per language out.

The seeds' own worked example (the PyTorch "classifying names with a character-level RNN" tutorial),
done as a zoo family: the name's characters are lower-cased (A-Z), split and looked up inside the model, so
a checkpoint takes raw strings; an embedding per character feeds a bidirectional GRU whose last states
feed a softmax over 18 languages.

The family's parts: `model` (builders), `pipeline` (prediction with readable output), `evaluation`
(the card's scores), `export` (SavedModel and TFLite) and `examples`; this file registers the family and
its models.

Example:
    >>> import zoo
    >>> zoo.pipeline("names-char-rnn")("Nakamura")
    [{'label': 'Japanese', 'score': 0.99}, ...]
"""

from __future__ import annotations

from zoo._family import Family, part_lookup, register_family
from zoo._registry import ModelSpec, register

_HERE = __name__
__getattr__ = part_lookup(__name__, ("model", "pipeline", "evaluation", "export", "examples"))
FAMILY = register_family(Family(
    name="name_classifier",
    builder=f"{_HERE}.model:build_name_classifier",
    pipeline=f"{_HERE}.pipeline:NameClassificationPipeline",
    evaluator=f"{_HERE}.evaluation:evaluate",
    exporters={"saved_model": f"{_HERE}.export:export_saved_model", "tflite": f"{_HERE}.export:export_tflite"},
    examples=f"{_HERE}.examples:examples",
    readme_section=f"{_HERE}.evaluation:readme_section",
))

LANGUAGES = ("Arabic", "Chinese", "Czech", "Dutch", "English", "French", "German", "Greek", "Irish", "Italian",
             "Japanese", "Korean", "Polish", "Portuguese", "Russian", "Scottish", "Spanish", "Vietnamese")

register(ModelSpec(
    name="names-char-rnn",
    family=FAMILY.name,
    builder_args=dict(num_classes=len(LANGUAGES), cell="gru", units=128, bidirectional=True, embedding_dim=64,
                      dropout=0.3, max_chars=64),
    task="surname language classification (18 languages)",
    structure="many-to-one",
    dataset="names",
    dataset_name="Surnames of 18 languages (PyTorch char-RNN tutorial data), deduplicated (name, language) pairs",
    labels=LANGUAGES,
    metric="accuracy",
    recipe="recipes/train_names.py",
    description=(
        "Which language is this surname? The name's characters (lower-cased A-Z, split into Unicode "
        "characters inside the model) are embedded (64-d) and read by a bidirectional GRU (128 units each "
        "way); its last states feed a softmax over 18 languages. The data: the 20,074 lines of the tutorial "
        "deduplicated to 18,014 (name, language) pairs of 17,452 distinct names, split by a hash of the "
        "case-folded name (80/10/10 %), so no name sits on two sides: train 13,925 names (14,389 pairs), "
        "validation 1,751 (1,801), test 1,776 (1,824). A name listed under several languages is one example, "
        "scored correct when the prediction is any of its languages (top-3: any of them among the three); "
        "training spreads its target equally over them. For macro F1 and the per-language table a name's gold "
        "label is the predicted language when it is one of the name's, else its first (alphabetical); macro F1 "
        "averages the languages occurring as gold or prediction (every Scottish test name is also English). "
        "Classes are very unbalanced (Russian is over half); no class weighting (it lowered validation top-1)."
    ),
    data_license="No separate data license; the PyTorch tutorials repository is BSD-3-Clause",
    example='"Nakamura"',
    validation_split="the validation split (names whose hash bucket is 1 of 10)",
    unit="names",
))
