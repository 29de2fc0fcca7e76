"""Scoring a sentiment model on IMDB: the figure written on the cards (`zoo eval imdb-...`)."""

from __future__ import annotations


def evaluate(model, *, split: str = "test", limit: int | None = None, batch_size: int = 256, progress: bool = True):
    """Accuracy of a sentiment model on an IMDB split.

    Returns:
        ``{"accuracy": float, "n": int}``.
    """
    import numpy as np

    from zoo.data import imdb
    from zoo.models.text_classifier.pipeline import predict_proba

    reviews = imdb.load(split, limit=limit)
    probabilities = predict_proba(model, reviews.texts, batch_size=batch_size, progress=progress, desc=f"eval {split}")
    predicted = (probabilities >= 0.5).astype(np.int32)
    return {"accuracy": round(float(np.mean(predicted == reviews.labels)), 4), "n": len(reviews)}
