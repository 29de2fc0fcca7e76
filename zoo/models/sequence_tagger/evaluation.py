"""Scoring a tagger: UPOS accuracy on UD English EWT, entity F1 on CoNLL-2003 (the cards' figures)."""

from __future__ import annotations

def _limited(data, limit):
    if limit is None:
        return data.tokens, data.tags
    if not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit must be a positive integer, got {limit!r}.")
    return data.tokens[:limit], data.tags[:limit]


def evaluate(model, *, split: str = "test", limit: int | None = None, batch_size: int = 64, progress: bool = True):
    """Token accuracy on UD English EWT with gold tokenization: ``{"accuracy": float, "n": tokens, "sentences": int}``."""
    from zoo.data import ud_ewt
    from zoo.models.sequence_tagger.pipeline import predict_tags

    sentences, gold = _limited(ud_ewt.load(split), limit)
    predicted = predict_tags(model, sentences, ud_ewt.UPOS_TAGS, batch_size=batch_size, progress=progress, desc=f"eval {split}")
    correct = total = 0
    for pred, ref in zip(predicted, gold):
        correct += sum(p == r for (p, _), r in zip(pred, ref))
        total += len(ref)
    return {"accuracy": round(correct / total, 4), "n": total, "sentences": len(sentences)}


def evaluate_entities(model, *, split: str = "test", limit: int | None = None, batch_size: int = 64,
                      progress: bool = True):
    """Entity-level micro precision, recall and F1 on CoNLL-2003 (seqeval, conlleval-compatible).

    Returns ``{"f1", "precision", "recall", "n": gold entities, "tokens", "sentences", "f1_per_type"}``;
    ``split`` is ``"test"`` (eng.testb), ``"validation"`` (eng.testa) or ``"train"``.
    """
    from seqeval.metrics import classification_report, f1_score, precision_score, recall_score

    from zoo.data import conll2003
    from zoo.models.sequence_tagger.pipeline import predict_tags

    sentences, gold = _limited(conll2003.load(split), limit)
    tagged = predict_tags(model, sentences, conll2003.TAGS, batch_size=batch_size, progress=progress, desc=f"eval {split}")
    predicted = [[tag for tag, _ in sentence] for sentence in tagged]
    report = classification_report(gold, predicted, output_dict=True, zero_division=0)
    return {
        "f1": round(float(f1_score(gold, predicted, zero_division=0)), 4),
        "precision": round(float(precision_score(gold, predicted, zero_division=0)), 4),
        "recall": round(float(recall_score(gold, predicted, zero_division=0)), 4),
        "n": int(report["micro avg"]["support"]),
        "tokens": sum(map(len, gold)),
        "sentences": len(sentences),
        "f1_per_type": {label: round(float(report[label]["f1-score"]), 4) for label in conll2003.LABELS if label in report},
    }
