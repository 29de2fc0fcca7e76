"""Text rules: ordered regex rewrites that run the same in Python (`re`) and in TensorFlow (RE2).

Tokenizers that must give the same tokens in a Python pipeline and inside an exported graph (the
taggers' `tokenize`/`TokenizeText`, the translators' normalization and detokenization) are written
as one `TextRules` each and applied with `apply` (Python) or `apply_tf` (graph). A rule is a
``(pattern, replacement)`` pair; write patterns both engines read alike: literal characters rather
than classes whose meaning differs (Python's ``\\d``, ``\\w`` and ``\\s`` are Unicode-aware, RE2's
are ASCII), and no look-around (RE2 has none).

Example:
    >>> rules = TextRules(WHITESPACE, (r"([!?])", r" \\1 "))
    >>> rules.apply("Hi!\\u00a0you?")
    'Hi !  you ? '
"""

from __future__ import annotations

import re
from typing import Iterator

# Every character Python's str.split() treats as whitespace becomes a space (TensorFlow splits on
# ASCII whitespace only). Literal characters, not escapes, so Python re and RE2 read the same class.
WHITESPACE = ("[\t\n\x0b\x0c\r\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]", " ")


class TextRules:
    """An ordered list of ``(pattern, replacement)`` rewrites; iterating gives the pairs."""

    def __init__(self, *rules: tuple[str, str]):
        for rule in rules:
            if not (isinstance(rule, tuple) and len(rule) == 2 and all(isinstance(part, str) for part in rule)):
                raise TypeError(f"A text rule is a (pattern, replacement) pair of str, got {rule!r}.")
        self.rules = tuple(rules)
        self._compiled = [(re.compile(pattern), replacement) for pattern, replacement in self.rules]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def __add__(self, other: "TextRules") -> "TextRules":
        return TextRules(*self.rules, *other.rules)

    def __repr__(self) -> str:
        return f"TextRules({len(self.rules)} rules)"

    def apply(self, text: str) -> str:
        """The rules applied in order to one Python string."""
        for pattern, replacement in self._compiled:
            text = pattern.sub(replacement, text)
        return text

    def apply_tf(self, texts):
        """The rules applied in order to a string tensor (any shape), with ``tf.strings.regex_replace``."""
        import tensorflow as tf

        for pattern, replacement in self.rules:
            texts = tf.strings.regex_replace(texts, pattern, replacement)
        return texts

    def describe(self) -> list[dict[str, str]]:
        """The rules as ``[{"pattern", "replacement"}, ...]``, for the tokenizer files beside exports."""
        return [{"pattern": pattern, "replacement": replacement} for pattern, replacement in self.rules]
