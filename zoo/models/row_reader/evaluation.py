"""Scoring a row reader: the figures written on the card (`zoo eval mnist-row-lstm`)."""

from __future__ import annotations


def score(probabilities, labels) -> dict:
    """Accuracy and per-digit recall from probabilities ``(n, 10)`` and the true digits ``(n,)``."""
    import numpy as np

    predicted = np.argmax(probabilities, axis=-1)
    labels = np.asarray(labels).astype(np.int64)
    per_digit = {str(d): round(float(np.mean(predicted[labels == d] == d)), 4)
                 for d in range(probabilities.shape[-1]) if np.any(labels == d)}
    return {"accuracy": round(float(np.mean(predicted == labels)), 4), "per_digit_recall": per_digit,
            "errors": int(np.sum(predicted != labels)), "n": int(len(labels))}


def evaluate(model, *, split: str = "test", limit: int | None = None, batch_size: int = 1024, progress: bool = True):
    """Accuracy (headline), the number of errors and the recall of each digit on an MNIST split.

    The images are the dataset's own 28x28 pixels (already MNIST-centred), fed to the model as they are.

    Returns:
        ``{"accuracy", "per_digit_recall": {digit: recall}, "errors", "n"}``.
    """
    from zoo.data import mnist
    from zoo.models.row_reader.pipeline import predict_proba

    data = mnist.load(split, limit=limit)
    probabilities = predict_proba(model, data.images, batch_size=batch_size, progress=progress, desc=f"eval {split}")
    return score(probabilities, data.labels)
