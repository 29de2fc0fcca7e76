"""The special tokens of a generator's vocabulary, declared once (`SpecialTokens`)."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class SpecialTokens:
    """Ids of the special entries of a generator's vocabulary.

    The zoo's vocabularies are Keras ``StringLookup`` layers with the mask token ``""`` (id 0), one
    out-of-vocabulary entry (id 1) and the start and end markers first among the words (ids 2 and 3),
    so the defaults fit every family so far; a family declares its own instance in its ``model.py``.

    Attributes:
        pad: padding, written after a sequence has ended.
        unk: the out-of-vocabulary entry.
        start: fed to the first decoder step.
        end: ends a sequence.

    Example:
        >>> TOKENS = SpecialTokens(pad=0, unk=1, start=2, end=3)
        >>> TOKENS.end
        3
    """

    pad: int = 0
    unk: int = 1
    start: int = 2
    end: int = 3

    def __post_init__(self):
        ids = dataclasses.astuple(self)
        for field, value in zip(("pad", "unk", "start", "end"), ids):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"SpecialTokens.{field} must be an integer >= 0, got {value!r}.")
        if len(set(ids)) != len(ids):
            raise ValueError(f"The special tokens need four different ids, got {self}.")
