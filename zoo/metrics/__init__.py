"""What the zoo knows about each metric: its name, its direction and how to print it.

Cards, ``zoo list``, keep-best checkpointing and early stopping read the direction from here, so a
lower-is-better metric (MSE, perplexity, CER) is never kept or stopped on as if higher were better.
Scorers that need heavy packages live in submodules (``zoo.metrics.nab``) and are imported lazily.

Example:
    >>> from zoo.metrics import get_metric
    >>> get_metric("mse").better(0.37, 0.41)
    True
    >>> get_metric("bleu").format(41.4312)
    '41.43'
"""

from __future__ import annotations

import dataclasses
import math


@dataclasses.dataclass(frozen=True)
class Metric:
    """One metric: ``name`` as written in cards, whether higher is better, and its printed precision.

    Attributes:
        name: the key in a card's ``metrics`` (``"accuracy"``, ``"bleu"``, ``"mse"``).
        higher_is_better: the direction keep-best, early stopping and bars use.
        decimals: digits printed after the point (accuracy 0.8970, BLEU 41.43).
        label: how tables name it (``"BLEU-4"``); the name when empty.
        unit: what the value is in, when it has a unit (``"nats/char"``); shown after the value.
    """

    name: str
    higher_is_better: bool
    decimals: int = 4
    label: str = ""
    unit: str = ""

    @property
    def mode(self) -> str:
        """``"max"`` or ``"min"``, as Keras callbacks take it."""
        return "max" if self.higher_is_better else "min"

    @property
    def worst(self) -> float:
        """A value every real score beats (the starting point of keep-best)."""
        return -math.inf if self.higher_is_better else math.inf

    def better(self, value: float, than: float) -> bool:
        """Whether ``value`` is strictly better than ``than`` in this metric's direction."""
        return value > than if self.higher_is_better else value < than

    def meets(self, value: float, bar: float) -> bool:
        """Whether ``value`` reaches ``bar`` (at least as good)."""
        return value >= bar if self.higher_is_better else value <= bar

    def format(self, value: float | None) -> str:
        """The value with this metric's precision (``"-"`` for None)."""
        if value is None:
            return "-"
        text = f"{value:,.{self.decimals}f}" if abs(value) >= 1000 else f"{value:.{self.decimals}f}"
        return f"{text} {self.unit}" if self.unit else text

    @property
    def title(self) -> str:
        return self.label or self.name


_METRICS: dict[str, Metric] = {}


def register_metric(metric: Metric) -> Metric:
    """Adds a metric description; a second one with the same name raises."""
    if metric.name in _METRICS:
        raise ValueError(f"Metric {metric.name!r} is already registered.")
    _METRICS[metric.name] = metric
    return metric


def get_metric(name: str) -> Metric:
    """The description of ``name``; an unknown name raises with the known ones."""
    if name not in _METRICS:
        raise ValueError(f"Unknown metric {name!r}; known metrics: {', '.join(sorted(_METRICS))}.")
    return _METRICS[name]


for _metric in (
    Metric("accuracy", True, 4),
    Metric("f1", True, 4, label="F1"),
    Metric("precision", True, 4),
    Metric("recall", True, 4),
    Metric("bleu", True, 2, label="BLEU"),
    Metric("bleu_1", True, 4, label="BLEU-1"),
    Metric("bleu_4", True, 4, label="BLEU-4"),
    Metric("cider", True, 4, label="CIDEr"),
    Metric("top3_accuracy", True, 4, label="top-3 accuracy"),
    Metric("macro_f1", True, 4, label="macro F1"),
    Metric("nab_standard", True, 2, label="NAB score (standard)"),
    Metric("loss", False, 4),
    Metric("mse", False, 4, label="MSE"),
    Metric("mae", False, 4, label="MAE"),
    Metric("rmse", False, 2, label="RMSE"),
    Metric("perplexity", False, 2),
    Metric("nats_per_char", False, 4, label="nats/char"),
    Metric("bits_per_char", False, 4, label="bits/char"),
    Metric("cross_entropy", False, 4, label="cross-entropy"),
    Metric("cer", False, 4, label="CER"),
    Metric("sequence_accuracy", True, 4, label="sequence accuracy"),
):
    register_metric(_metric)
