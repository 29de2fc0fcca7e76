"""Scoring a name classifier: the figures written on the card (`zoo eval names-char-rnn`).

One example per distinct name. A name listed under several languages ("Abel": English, French, German,
Russian, Spanish) is scored against all of them: a top-k prediction is correct when any of its k
languages is one of the name's. For macro F1 and the per-language table each name gets one gold label: the predicted language when it
is one of the name's, else the first of its languages (alphabetical), so that a name's languages never
count as errors of each other. Macro F1 averages the languages that occur as a gold label or a prediction
(as scikit-learn does): in the test split every Scottish name is also English, so Scottish occurs only
when it is predicted. Each row also gives ``listed``: the names that list the language at all.
"""

from __future__ import annotations


def score(probabilities, languages: list[tuple[str, ...]], labels: tuple[str, ...]) -> dict:
    """Top-1, top-3 accuracy, macro F1 and a per-language table, from probabilities ``(n, labels)``."""
    import numpy as np

    index = {label: i for i, label in enumerate(labels)}
    gold_sets = [{index[lang] for lang in langs} for langs in languages]
    order = np.argsort(-probabilities, axis=1, kind="stable")
    top1 = order[:, 0]
    hit1 = np.array([top1[i] in gold for i, gold in enumerate(gold_sets)])
    hit3 = np.array([bool(set(order[i, :3].tolist()) & gold) for i, gold in enumerate(gold_sets)])
    gold = np.array([top1[i] if hit1[i] else index[languages[i][0]] for i in range(len(gold_sets))])
    classes = list(range(len(labels)))
    true_pos = np.array([np.sum((top1 == c) & (gold == c)) for c in classes], np.float64)
    predicted = np.array([np.sum(top1 == c) for c in classes], np.float64)
    support = np.array([np.sum(gold == c) for c in classes], np.float64)
    precision = np.divide(true_pos, predicted, out=np.zeros_like(true_pos), where=predicted > 0)
    recall = np.divide(true_pos, support, out=np.zeros_like(true_pos), where=support > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(both), where=both > 0)
    per_language = {
        labels[c]: {"names": int(support[c]), "listed": sum(c in g for g in gold_sets),
                    "precision": round(float(precision[c]), 4),
                    "recall": round(float(recall[c]), 4), "f1": round(float(f1[c]), 4)}
        for c in classes
    }
    return {
        "accuracy": round(float(hit1.mean()), 4),
        "top3_accuracy": round(float(hit3.mean()), 4),
        "macro_f1": round(float(f1[(support + predicted) > 0].mean()), 4),
        "per_language": per_language,
        "n": len(gold_sets),
    }


def evaluate(model, *, split: str = "test", limit: int | None = None, batch_size: int = 512, progress: bool = True,
             labels: tuple[str, ...] | None = None):
    """Top-1 accuracy (headline), top-3 accuracy, macro F1 and per-language scores on a names split.

    Returns:
        ``{"accuracy", "top3_accuracy", "macro_f1", "per_language": {language: {...}}, "n"}``.
    """
    from zoo.data import names
    from zoo.models.name_classifier.pipeline import predict_proba

    data = names.load(split, limit=limit)
    probabilities = predict_proba(model, data.names, batch_size=batch_size, progress=progress, desc=f"eval {split}")
    return score(probabilities, data.languages, labels or names.LANGUAGES)


def readme_section() -> tuple[str, str]:
    """``("names", markdown)``: the README's per-language table of `names-char-rnn`, from its card."""
    from zoo._registry import get_spec

    card = get_spec("names-char-rnn").card()
    if card is None:
        return "names", "(no checkpoint yet)"
    metrics = card["metrics"]
    rows = ["| language | test names (gold) | names listing it | precision | recall | F1 |", "|---|---|---|---|---|---|"]
    for language, row in sorted(metrics["per_language"].items(), key=lambda item: -item[1]["names"]):
        rows.append(f"| {language} | {row['names']:,} | {row['listed']:,} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} |")
    rows.append(f"| **all** | {metrics['n']:,} | | top-1 accuracy {metrics['accuracy']:.4f} | top-3 accuracy "
                f"{metrics['top3_accuracy']:.4f} | macro {metrics['macro_f1']:.4f} |")
    return "names", "\n".join(rows)
