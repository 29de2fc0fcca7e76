"""Scoring a CTC reader: the figures written on the card (`zoo eval captcha-crnn-ctc`).

Sequence accuracy: the share of images whose whole text is read exactly. Character error rate (CER):
the Levenshtein distance (insertions, deletions, substitutions) between the text read and the true
text, summed over the split and divided by the number of true characters (lower is better). Both are
given for greedy decoding (the headline, as the pipeline reads by default) and for CTC prefix beam search.
"""

from __future__ import annotations

BEAM_WIDTH = 10  # the beam of the card's beam-search figures


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance between two strings (unit costs).

    Example:
        >>> edit_distance("226md", "22md")
        1
    """
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def score(predicted: list[str], truth: list[str]) -> dict:
    """``{"sequence_accuracy", "cer", "errors"}`` of texts read against the true texts."""
    if len(predicted) != len(truth) or not truth:
        raise ValueError(f"Need one prediction per true text, got {len(predicted)} for {len(truth)}.")
    distance = sum(edit_distance(p, t) for p, t in zip(predicted, truth))
    exact = sum(p == t for p, t in zip(predicted, truth))
    return {"sequence_accuracy": round(exact / len(truth), 4), "cer": round(distance / sum(map(len, truth)), 4),
            "errors": len(truth) - exact}


def evaluate(model, *, split: str = "test", limit: int | None = None, beam_width: int = BEAM_WIDTH,
             progress: bool = True, greedy_only: bool = False):
    """Sequence accuracy (headline) and CER with greedy decoding, and both with beam search, on a captcha split.

    Returns:
        ``{"sequence_accuracy", "cer", "errors", "beam_sequence_accuracy", "beam_cer", "beam_errors",
        "beam_width", "characters", "n", "misread": [[truth, greedy text], ...]}``.
    """
    from zoo.data import captcha
    from zoo.models.ctc_reader.pipeline import input_size, read_pixels, to_pixels

    data = captcha.load(split, limit=limit)
    pixels = to_pixels(data.images, *input_size(model))
    greedy = [text for text, _, _ in read_pixels(model, pixels, captcha.ALPHABET, progress=progress, desc=f"eval {split}")]
    result = score(greedy, data.labels)
    if not greedy_only:
        beam = [text for text, _, _ in read_pixels(model, pixels, captcha.ALPHABET, beam_width=beam_width,
                                                   progress=progress, desc=f"eval {split} (beam {beam_width})")]
        result.update({f"beam_{k}": v for k, v in score(beam, data.labels).items()}, beam_width=beam_width)
    result.update(characters=sum(map(len, data.labels)), n=len(data.labels),
                  misread=[[t, p] for t, p in zip(data.labels, greedy) if t != p])
    return result
