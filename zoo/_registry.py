"""The model registry: explicit `<dataset>-<architecture>` names mapped to one spec each.

Nothing here imports TensorFlow or Keras; builders are imported when a model is built.
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import importlib.resources
import json
import os
import re
from typing import Any, Callable

from zoo._family import Family, get_family
from zoo.metrics import Metric, get_metric

NAME_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)+$")
# The weights of a checkout (`<repository>/checkpoints/<name>.keras`), looked in first when it exists. An installed
# package has no such folder and downloads the weights instead (zoo._hub).
CHECKPOINT_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "checkpoints")
# The cards (`<name>.json`: sha256, size, metrics, versions) are package data, `zoo/cards/`, so they travel with a wheel.
CARDS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cards")
# Bumped when the checkpoint layout changes in a way older zoo versions cannot read.
CHECKPOINT_FORMAT = 1

_REGISTRY: dict[str, "ModelSpec"] = {}
_ALIASES: dict[str, str] = {}


class UnknownModelError(ValueError):
    """Raised for a name that is not registered; the message lists the closest names."""


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """Everything the zoo knows about one registered model.

    Attributes:
        name: registered name, ``<dataset>-<architecture>``.
        family: the model family (`zoo._family.Family`): its builder, pipeline, scorer and exporters.
        builder_args: keyword arguments for the family's builder (architecture and preprocessing).
        task: what the model does, e.g. ``"sentiment classification"``.
        structure: the RNN structure it shows, e.g. ``"many-to-one"``.
        dataset: the dataset module under ``zoo.data`` and its human name.
        labels: output label names, when the task has them.
        metric: the headline metric written on the card (described in `zoo.metrics`: direction, format).
        recipe: path of the training recipe, relative to the repository root.
        description: one paragraph for the card.
        data_license: license of the training data.
        example: a Python literal a user can pass to the pipeline (shown on the card).
        validation_split: what the early-stopping split is.
        unit: what the metric counts (``"reviews"``, ``"tokens"``).
        weights_license: license of the shipped weights.
    """

    name: str
    family: str
    builder_args: dict[str, Any]
    task: str
    structure: str
    dataset: str
    dataset_name: str
    labels: tuple[str, ...]
    metric: str
    recipe: str
    description: str
    data_license: str
    example: str
    validation_split: str
    unit: str
    weights_license: str = "Apache-2.0"

    @property
    def checkpoint_file(self) -> str:
        return f"{self.name}.keras"

    @property
    def card_path(self) -> str:
        """Where the card lives: ``zoo/cards/<name>.json``, package data of the installed zoo."""
        return str(_card_resource(self.name))

    def card(self) -> dict[str, Any] | None:
        """The checkpoint card (metrics, sha256, size...) or None when the model has no pretrained checkpoint."""
        resource = _card_resource(self.name)
        if not resource.is_file():
            return None
        return json.loads(resource.read_text(encoding="utf-8"))

    @property
    def has_checkpoint(self) -> bool:
        return _card_resource(self.name).is_file()

    @property
    def family_info(self) -> "Family":
        """The `zoo._family.Family` this model belongs to."""
        return get_family(self.family)

    @property
    def metric_info(self) -> "Metric":
        """The description (direction, format) of the headline metric."""
        return get_metric(self.metric)

    def builder_fn(self) -> Callable[..., Any]:
        return self.family_info.load("builder")

    def evaluator_fn(self) -> Callable[..., Any]:
        return self.family_info.load("evaluator")

    def pipeline_class(self) -> type:
        return self.family_info.load("pipeline")


def _card_resource(name: str):
    """The card of ``name`` as an `importlib.resources` traversable (a plain path for an ordinary install)."""
    return importlib.resources.files("zoo") / "cards" / f"{name}.json"


def register(spec: ModelSpec) -> ModelSpec:
    """Adds a spec; a second registration of the same name raises, and so do an unknown family or metric."""
    get_family(spec.family)
    get_metric(spec.metric)
    if not NAME_PATTERN.match(spec.name):
        raise ValueError(f"Model name {spec.name!r} does not follow the '<dataset>-<architecture>' pattern.")
    if spec.name in _REGISTRY or spec.name in _ALIASES:
        raise ValueError(f"Model name {spec.name!r} is already registered.")
    _REGISTRY[spec.name] = spec
    return spec


def register_alias(old: str, new: str) -> None:
    """Keeps a renamed model loadable under its old name (with a deprecation warning)."""
    if old in _REGISTRY or old in _ALIASES:
        raise ValueError(f"Model name {old!r} is already registered.")
    _ALIASES[old] = new


def list_models(pattern: str = "*", *, pretrained: bool = False) -> list[str]:
    """Registered names matching a shell-style ``pattern``, sorted; only those with weights if ``pretrained``."""
    if not isinstance(pattern, str):
        raise TypeError(f"pattern must be a string such as 'imdb-*', got {type(pattern).__name__}.")
    names = sorted(n for n in _REGISTRY if fnmatch.fnmatchcase(n, pattern))
    if pretrained:
        names = [n for n in names if _REGISTRY[n].has_checkpoint]
    return names


def get_spec(name: str) -> ModelSpec:
    """The spec registered under ``name``; unknown names raise with the closest matches."""
    if not isinstance(name, str):
        raise TypeError(f"Model name must be a string such as 'imdb-bigru', got {type(name).__name__}.")
    if name in _ALIASES:
        import warnings

        warnings.warn(f"Model name {name!r} is deprecated; use {_ALIASES[name]!r}.", DeprecationWarning, stacklevel=3)
        name = _ALIASES[name]
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=3, cutoff=0.5)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise UnknownModelError(
            f"Unknown model {name!r}.{hint} Run `zoo list` or zoo.list_models() to see all {len(_REGISTRY)} names."
        )
    return _REGISTRY[name]
