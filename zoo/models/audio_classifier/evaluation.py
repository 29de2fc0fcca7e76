"""Scoring a spoken-digit classifier: the figures written on the card (`zoo eval fsdd-gru`).

Accuracy on the official FSDD test split (index 0-4 of every speaker and digit: 300 recordings), with the
accuracy per speaker and per digit. The same function scores a leave-one-speaker-out run
(``holdout_speaker=NAME``: all 500 recordings of the speaker left out of training).
"""

from __future__ import annotations


def score(probabilities, digits, speakers) -> dict:
    """Accuracy, and accuracy per speaker and per digit, from probabilities ``(n, 10)``."""
    import numpy as np

    predicted = np.argmax(probabilities, axis=1)
    digits, speakers = np.asarray(digits), np.asarray(speakers)
    right = predicted == digits

    def by(keys):
        return {str(k): round(float(right[keys == k].mean()), 4) for k in sorted(set(keys.tolist()))}

    return {"accuracy": round(float(right.mean()), 4), "per_speaker": by(speakers), "per_digit": by(digits),
            "errors": int((~right).sum()), "n": int(len(right))}


def evaluate(model, *, split: str = "test", limit: int | None = None, batch_size: int = 256, progress: bool = True,
             holdout_speaker: str | None = None) -> dict:
    """Accuracy (headline), per speaker and per digit, on an FSDD split.

    Returns:
        ``{"accuracy", "per_speaker": {speaker: accuracy}, "per_digit": {digit: accuracy}, "errors", "n"}``.
    """
    from zoo.data import fsdd
    from zoo.models.audio_classifier.pipeline import predict_proba

    data = fsdd.load(split, limit=limit, holdout_speaker=holdout_speaker)
    probabilities = predict_proba(model, data.waveforms, batch_size=batch_size, progress=progress, desc=f"eval {split}")
    return score(probabilities, data.digits, data.speakers)


def speaker_independent_table(report: dict) -> str:
    """Markdown table of a leave-one-speaker-out report (``{"per_speaker": {speaker: {...}}, "mean", ...}``)."""
    rows = [f"| speaker left out | test recordings | accuracy | best epoch (of {report.get('epochs_max', '?')}) |",
            "|---|---|---|---|"]
    for speaker, row in report["per_speaker"].items():
        rows.append(f"| {speaker} | {row['n']:,} | {row['accuracy']:.4f} | {row['epochs']} |")
    rows.append(f"| **mean** | {sum(r['n'] for r in report['per_speaker'].values()):,} | **{report['mean']:.4f}** | |")
    return "\n".join(rows)


def readme_section() -> tuple[str, str]:
    """``("fsdd", markdown)``: the README's leave-one-speaker-out table of `fsdd-gru`, from its card."""
    from zoo._registry import get_spec

    card = get_spec("fsdd-gru").card()
    report = (card or {}).get("training", {}).get("speaker_independent")
    if not report:
        return "fsdd", "(no leave-one-speaker-out figures yet)"
    return "fsdd", speaker_independent_table(report)
