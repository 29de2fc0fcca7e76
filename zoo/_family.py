"""Model families: what the zoo needs to know once per family, so that adding one is uniform.

A family (text classifiers, sequence taggers, translators, captioners...) is a folder
``zoo/models/<family>/`` that registers one `Family` in its ``__init__.py`` and then its models
(`zoo._registry.ModelSpec`, each naming the family). The description is light: every entry is a
``"module:attribute"`` string imported only when it is used, so ``import zoo`` stays fast.

Example:
    >>> from zoo._family import get_family
    >>> family = get_family("text_classifier")
    >>> family.formats
    ('saved_model', 'tflite')
    >>> family.load("builder")(cell="gru", units=8, vocabulary=["good", "bad"])
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any

_FAMILIES: dict[str, "Family"] = {}


@dataclasses.dataclass(frozen=True)
class Family:
    """One model family.

    Attributes:
        name: the family's id, also its folder under ``zoo/models/``.
        builder: ``"module:function"`` building an untrained ``keras.Model`` from a spec's ``builder_args``.
        pipeline: ``"module:Class"`` of the readable-output predictor (a `zoo._pipeline.Pipeline`).
        evaluator: ``"module:function"`` scoring a model on a split: ``fn(model, *, split, limit, progress) -> dict``
            holding the card's metrics and ``"n"``, the number of units scored.
        exporters: format -> ``"module:function"``, ``fn(spec, model, out_dir) -> path``; a format missing here
            is not offered for this family, and asking for it is a clear error.
        examples: ``"module:function"`` returning `Examples`: tiny builder arguments and a model-input batch,
            which the registry-wide tests build and run every model of the family with.
        inputs: what a user gives the pipeline on the command line: ``"text"`` or ``"file"`` (a path).
        export_notes: why a format is not offered, per format (shown in the error).
        readme_section: ``"module:function"`` giving ``(marker, markdown)`` for a generated README block
            (``<!-- marker:start ... -->``), built from the family's cards; None when the family has none.
    """

    name: str
    builder: str
    pipeline: str
    evaluator: str
    exporters: dict[str, str]
    examples: str
    inputs: str = "text"
    export_notes: dict[str, str] = dataclasses.field(default_factory=dict)
    readme_section: str | None = None

    @property
    def formats(self) -> tuple[str, ...]:
        """The export formats this family offers."""
        return tuple(self.exporters)

    def load(self, what: str) -> Any:
        """The object an entry names: ``family.load("builder")``, ``family.load("pipeline")``..."""
        return import_object(getattr(self, what))

    def exporter(self, format: str):
        """The export function of ``format``; a format the family does not offer raises a ValueError."""
        if format not in self.exporters:
            note = self.export_notes.get(format, "")
            offered = ", ".join(repr(f) for f in self.formats) or "none"
            raise ValueError(
                f"Format {format!r} is not offered for {self.name} models{': ' + note if note else ''}. "
                f"Offered: {offered}."
            )
        return import_object(self.exporters[format])


@dataclasses.dataclass(frozen=True)
class Examples:
    """What the registry-wide tests build and run a family's models with.

    Attributes:
        builder_args: overrides that make a tiny model (small vocabularies, few units, no downloads).
        inputs: a batch in the model's own input format, whose last row is the shortest example.
        rows: how many examples the batch holds.
        last_alone: the last example in a batch of its own (no padding), so tests can check that the
            padding a batch adds does not change an example's output.
        outputs: what the model gives: ``"probabilities"`` (in [0, 1]; tag ids for a CRF tagger) or
            ``"logits"`` (any finite number: a language model's next-token scores).
    """

    builder_args: dict[str, Any]
    inputs: Any
    rows: int
    last_alone: Any
    outputs: str = "probabilities"


def import_object(path: str) -> Any:
    """``"package.module:attribute"`` -> the attribute, importing the module."""
    module, _, attribute = path.partition(":")
    if not attribute:
        raise ValueError(f"Expected 'module:attribute', got {path!r}.")
    return getattr(importlib.import_module(module), attribute)


def register_family(family: Family) -> Family:
    """Adds a family; a second one with the same name raises."""
    if family.name in _FAMILIES:
        raise ValueError(f"Family {family.name!r} is already registered.")
    unknown = set(family.exporters) - set(EXPORT_FORMATS)
    if unknown:
        raise ValueError(f"Family {family.name!r} offers unknown export formats {sorted(unknown)}; known: {EXPORT_FORMATS}.")
    _FAMILIES[family.name] = family
    return family


def get_family(name: str) -> Family:
    if name not in _FAMILIES:
        raise ValueError(f"Unknown model family {name!r}; registered: {', '.join(sorted(_FAMILIES))}.")
    return _FAMILIES[name]


def list_families() -> list[str]:
    return sorted(_FAMILIES)


EXPORT_FORMATS = ("saved_model", "tflite")


def part_lookup(package: str, parts: tuple[str, ...]):
    """A module ``__getattr__`` that finds a name in a family's part modules, imported on first use.

    ``zoo.models.translator.translate`` then works (and ``from zoo.models.translator import translate``)
    although ``translate`` lives in ``zoo.models.translator.decoding``, while ``import zoo`` imports none
    of the parts. ``parts`` are module names relative to ``package``, or absolute (``"zoo._images"``).
    """

    def __getattr__(name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        for part in parts:
            module = importlib.import_module(part if part.startswith("zoo.") else f"{package}.{part}")
            if hasattr(module, name):
                return getattr(module, name)
        raise AttributeError(f"module {package!r} has no attribute {name!r} (looked in its parts: {', '.join(parts)})")

    return __getattr__
