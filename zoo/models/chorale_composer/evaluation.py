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


SAMPLE = dict(seed_chords=8, n_chords=16, temperature=1.0, seed=0)  # the card's generated sample


def evaluate(model, *, split: str = "test", limit: int | None = None, batch_size: int = 64, progress: bool = True):
    """Next-note accuracy, cross-entropy per note and accuracy per voice on a split's windows, and a sample.

    ``limit`` keeps the windows of the first ``limit`` chorales. Returns ``{"accuracy", "cross_entropy",
    "accuracy_by_voice", "windows", "n", "sample"}`` (``n``: notes scored; ``sample``: `SAMPLE`'s chords
    composed after the first chords of the split's chorale 0, written ``soprano alto tenor bass / ...``).
    """
    from zoo.data import jsb_chorales
    from zoo.models.chorale_composer.decoding import runtime
    from zoo.models.chorale_composer.pipeline import predict_proba

    chorales = jsb_chorales.load(split, limit=limit)
    notes, targets = jsb_chorales.windows(chorales)
    probabilities = predict_proba(model, notes, batch_size=batch_size, progress=progress, desc=f"eval {split}")
    metrics = score(probabilities, targets)
    seed = chorales[0][: SAMPLE["seed_chords"]]
    chords = runtime(model).compose(seed[None], SAMPLE["n_chords"], temperature=SAMPLE["temperature"], top_k=None,
                                    top_p=None, seed=SAMPLE["seed"])[0]
    metrics["sample"] = {
        "after": f"the first {SAMPLE['seed_chords']} chords of {split} chorale 0 ({_written(seed)})",
        "composed": _written(chords),
        "how": f"bach.compose(seed, n_chords={SAMPLE['n_chords']}, temperature={SAMPLE['temperature']}, seed={SAMPLE['seed']})",
    }
    return metrics


def _written(chords) -> str:
    return " / ".join(" ".join(str(int(p)) for p in chord) for chord in chords)


def readme_section() -> tuple[str, str]:
    """``("chorales", markdown)``: the README's table of `jsb-chorales-lstm` against the book's model, from its card."""
    from zoo._registry import get_spec

    card = get_spec("jsb-chorales-lstm").card()
    if card is None:
        return "chorales", "(no checkpoint yet)"
    m = card["metrics"]
    voices = m["accuracy_by_voice"]
    rows = ["| model | test next-note accuracy | test cross-entropy (nats/note) | soprano | alto | tenor | bass |",
            "|---|---|---|---|---|---|---|",
            f"| `jsb-chorales-lstm` | **{m['accuracy']:.4f}** | {m['cross_entropy']:.4f} | {voices['soprano']:.4f} | "
            f"{voices['alto']:.4f} | {voices['tenor']:.4f} | {voices['bass']:.4f} |",
            "| *Hands-On ML* ch. 15 ex. 10 (dilated Conv1D stack + LSTM) | 0.8164 | | | | | |",
            "",
            f"{m['windows']:,} test windows, {m['n']:,} notes. A sample (chords written soprano alto tenor bass, MIDI "
            f"pitches, 0 a rest), after {m['sample']['after']}, by `{m['sample']['how']}`:",
            "",
            f"    {m['sample']['composed']}"]
    return "chorales", "\n".join(rows)
