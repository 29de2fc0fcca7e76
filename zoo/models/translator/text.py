"""Text handling of the translators, the same in Python and in the graph (see the package docstring)."""

from __future__ import annotations

import unicodedata

from zoo._textrules import WHITESPACE, TextRules
from zoo.models.translator.model import END, START, UNK

# === Text normalization, tokenization and detokenization ===
#
# Each rule list is a `zoo._textrules.TextRules`: `tokenize_source`/`tokenize_target`/`detokenize` apply
# it in Python; the graph versions (`_tf_tokenize`, `_tf_detokenize`) apply the very same list in TensorFlow.


def _composition_rules() -> tuple[tuple[str, str], ...]:
    """NFC for decomposed Latin letters: ``a`` + U+0301 -> ``á`` (TensorFlow has no Unicode normalization op)."""
    rules = []
    for base in "AEIOUYNCaeiouync":
        for mark in "\u0300\u0301\u0302\u0303\u0308\u0327":
            composed = unicodedata.normalize("NFC", base + mark)
            if len(composed) == 1:
                rules.append((base + mark, composed))
    return tuple(rules)


NORMALIZE_RULES = TextRules(
    WHITESPACE,  # every space character (and the control characters str.split() splits on)
    ("[\u200b\u200c\u200d\u2060\ufeff]", ""),  # zero-width characters
    ("[\u2018\u2019\u201a\u201b\u2032`\u00b4]", "'"),  # typographic single quotes, prime, accents used as quotes
    ("[\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb\u00a8]", '"'),  # “ ” „ ‟ ″ « » and ¨ (used as a quote in Tatoeba)
    ("[\u2010\u2011]", "-"),  # hyphens
    ("[\u2012\u2013\u2014\u2015]", " - "),  # dashes
    ("\u2026", "..."),  # ellipsis character
    ("\uff1f", "?"), ("\uff01", "!"), ("\uff0c", ","),  # full-width ? ! ,
) + TextRules(*_composition_rules())

SPLIT_RULES = TextRules(
    (r"(\.\.\.+)", r" \1 "),  # an ellipsis is one token
    (r"([¿¡?!;\"()\[\]{}%$€£])", r" \1 "),  # always a token of its own
    (r"([^0-9]),", r"\1 , "), (r",([^0-9])", r" , \1"), (r"^,|,$", r" , "),  # commas, except in 3,5
    (r"([^0-9]):", r"\1 : "), (r":([^0-9])", r" : \1"), (r"^:|:$", r" : "),  # colons, except in 7:30
    (r"([^. ])\.( |$)", r"\1 .\2"),  # a period before a space or the end (3.5 and the first dots of U.S. stay)
    (r"(^| )'([^ ])", r"\1' \2"),  # an opening single quote
    (r"([^ ])'( |$)", r"\1 '\2"),  # a closing single quote (and the plural possessive: students')
)
CLITIC_RULES = TextRules(  # English only: do|n't, ca|n't, Tom|'s, we|'re
    (r"(?i)([^ '])(n't)( |$)", r"\1 \2\3"),
    (r"(?i)([^ '])('(?:s|re|ve|ll|d|m))( |$)", r"\1 \2\3"),
)
DETOKENIZE_RULES = TextRules(
    (r"(?i) (n't|'(?:s|re|ve|ll|d|m))( |$)", r"\1\2"),  # clitics join their word
    (r" '( |$)", r"'\1"),  # a closing single quote joins its word
    (r" ([.,!?;:%)\]}])", r"\1"),  # no space before closing punctuation (nor inside an ellipsis)
    (r"([(\[{$¿¡]) ", r"\1"),  # no space after opening punctuation and currency
    (r"\"[ ]*([^\"]*?)[ ]*\"", r'"\1"'),  # double quotes hug what they quote, pair by pair
)

def normalize(text: str) -> str:
    """The zoo's Unicode normalization (the graph applies the same rules): quotes, dashes, spaces, accents."""
    return NORMALIZE_RULES.apply(text)


def tokenize_source(text: str, *, lowercase: bool = True) -> list[str]:
    """Spanish text to the tokens the encoder reads (lower-cased unless ``lowercase=False``).

    Example:
        >>> tokenize_source("¿Dónde está la biblioteca?")
        ['¿', 'dónde', 'está', 'la', 'biblioteca', '?']
    """
    tokens = SPLIT_RULES.apply(normalize(text)).split(" ")
    return [t.lower() if lowercase else t for t in tokens if t]


def tokenize_target(text: str) -> list[str]:
    """English text to target tokens (case kept, clitics split).

    Example:
        >>> tokenize_target("I don't know, Tom's right.")
        ['I', 'do', "n't", 'know', ',', 'Tom', "'s", 'right', '.']
    """
    return [t for t in CLITIC_RULES.apply(SPLIT_RULES.apply(normalize(text))).split(" ") if t]


def detokenize(tokens) -> str:
    """Target tokens back to text: the inverse of `tokenize_target` on ordinary sentences.

    Example:
        >>> detokenize(['I', 'do', "n't", 'know', ',', 'Tom', "'s", 'right', '.'])
        "I don't know, Tom's right."
    """
    return DETOKENIZE_RULES.apply(" ".join(t for t in tokens if t and t not in (UNK, START, END)))


def _tf_tokenize(texts, *, target: bool = False):
    """Graph tokenization of a 1-D string tensor: a ``tf.RaggedTensor`` of tokens (case kept)."""
    import tensorflow as tf

    texts = SPLIT_RULES.apply_tf(NORMALIZE_RULES.apply_tf(texts))
    if target:
        texts = CLITIC_RULES.apply_tf(texts)
    return tf.strings.split(texts)  # on whitespace, which normalization made plain spaces


def _tf_detokenize(tokens):
    """Graph detokenization of ``(batch, time)`` tokens padded with ``""``: one string per row."""
    import tensorflow as tf

    joined = tf.strings.reduce_join(tokens, axis=-1, separator=" ")
    joined = tf.strings.strip(tf.strings.regex_replace(joined, " +", " "))
    return DETOKENIZE_RULES.apply_tf(joined)


def tokenize_batch(texts: list[str], *, target: bool = False, batch_size: int = 4096) -> list[list[str]]:
    """Graph tokenization of many texts at once, as Python lists (the recipe builds its data with it)."""
    import tensorflow as tf

    fn = tf.function(lambda t: _tf_tokenize(t, target=target), input_signature=[tf.TensorSpec([None], tf.string)])
    out = []
    for start in range(0, len(texts), batch_size):
        ragged = fn(tf.constant(texts[start : start + batch_size]))
        for row in ragged.to_list():
            tokens = [t.decode("utf-8") for t in row]
            out.append(tokens if target else [t.lower() for t in tokens])
    return out
