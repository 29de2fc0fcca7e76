"""Scoring a chorale composer: next-note accuracy and cross-entropy, the card's figures (`zoo eval jsb-chorales-lstm`).

The protocol of *Hands-On ML* (2nd/3rd ed.), chapter 15, exercise 10 (`zoo.data.jsb_chorales.windows`):
every chorale of the split is cut into windows of 33 chords starting every 16 chords (an incomplete last
window is dropped), each unrolled voice by voice into 132 note classes; the model reads the first 131
and predicts the next note at every position. Every note of every window counts (test: 1,067 windows,
139,777 notes), so notes in the overlap of two windows count twice, once with less context.
"""

from __future__ import annotations

from zoo.models.chorale_composer.midi import VOICE_NAMES


def score(probabilities, targets) -> dict:
    """Accuracy (headline), cross-entropy per note (nats) and accuracy per voice, from ``(n, T, 47)`` and ``(n, T)``."""
    import numpy as np

    predicted = probabilities.argmax(axis=-1)
    correct = predicted == targets
    chosen = np.take_along_axis(probabilities, targets[..., None], axis=-1)[..., 0]
    cross_entropy = -np.log(np.maximum(chosen.astype(np.float64), 1e-12))
    voice = (np.arange(targets.shape[1]) + 1) % 4  # target t is note t + 1 of the window
    return {
        "accuracy": round(float(correct.mean()), 4),
        "cross_entropy": round(float(cross_entropy.mean()), 4),
        "accuracy_by_voice": {name: round(float(correct[:, voice == v].mean()), 4) for v, name in enumerate(VOICE_NAMES)},
        "windows": int(targets.shape[0]),
        "n": int(targets.size),
    }


def evaluate(model, *, split: str = "test", limit: int | None = None, batch_size: int = 64, progress: bool = True):
    """Next-note accuracy, cross-entropy per note and accuracy per voice on a split's windows.

    ``limit`` keeps the windows of the first ``limit`` chorales. Returns ``{"accuracy", "cross_entropy",
    "accuracy_by_voice", "windows", "n"}`` (``n``: notes scored).
    """
    from zoo.data import jsb_chorales
    from zoo.models.chorale_composer.pipeline import predict_proba

    notes, targets = jsb_chorales.windows(jsb_chorales.load(split, limit=limit))
    probabilities = predict_proba(model, notes, batch_size=batch_size, progress=progress, desc=f"eval {split}")
    return score(probabilities, targets)
