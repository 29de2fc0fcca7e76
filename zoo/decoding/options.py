"""The one validation of decoding options, shared by every generator (clear ValueErrors naming the value)."""

from __future__ import annotations

import math
import numbers

MAX_BEAM_WIDTH = 64  # wider beams cost width x the decoder steps and, on these models, find nothing better


def _is_integer(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


_RULES = {
    "beam_width": (lambda v: _is_integer(v) and 1 <= v <= MAX_BEAM_WIDTH,
                   f"an integer from 1 (greedy decoding) to {MAX_BEAM_WIDTH}"),
    "length_penalty": (lambda v: _is_number(v) and v >= 0, "a number >= 0 (0: no length normalization)"),
    "temperature": (lambda v: _is_number(v) and v > 0, "a number > 0 (1: the model's distribution)"),
    "top_k": (lambda v: v is None or (_is_integer(v) and v >= 1), "an integer >= 1, or None (no top-k filtering)"),
    "top_p": (lambda v: v is None or (_is_number(v) and 0 < v <= 1),
              "a number in (0, 1], or None (no nucleus filtering)"),
    "max_length": (lambda v: _is_integer(v) and v >= 1, "an integer >= 1"),
    "seed": (lambda v: _is_integer(v) and 0 <= v < 2**63, "an integer >= 0"),
}


def check_options(*, names: dict[str, str] | None = None, **options) -> dict:
    """Checks decoding options; returns them unchanged, or raises a ValueError naming the bad value.

    Args:
        names: the name a caller exposes an option under, for the message (``{"max_length": "max_words"}``).
        **options: any of ``beam_width`` (integer 1..64; 1 is greedy decoding), ``length_penalty``
            (number >= 0), ``temperature`` (number > 0), ``top_k`` (integer >= 1 or None), ``top_p``
            (number in (0, 1] or None), ``max_length`` (integer >= 1), ``seed`` (integer >= 0).
            Only the options given are checked.

    Example:
        >>> check_options(beam_width=5, length_penalty=0.6)
        {'beam_width': 5, 'length_penalty': 0.6}
        >>> check_options(beam_width=0)
        Traceback (most recent call last):
        ValueError: beam_width must be an integer from 1 (greedy decoding) to 64, got 0.
    """
    names = names or {}
    for option, value in options.items():
        if option not in _RULES:
            raise TypeError(f"Unknown decoding option {option!r}; known: {', '.join(_RULES)}.")
        valid, expected = _RULES[option]
        if not valid(value):
            raise ValueError(f"{names.get(option, option)} must be {expected}, got {value!r}.")
    return options
