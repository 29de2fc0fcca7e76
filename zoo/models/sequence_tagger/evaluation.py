"""Scoring a tagger: UPOS accuracy on UD English EWT, entity F1 on CoNLL-2003 (the cards' figures)."""

from __future__ import annotations

def _limited(data, limit):
    if limit is None:
        return data.tokens, data.tags
    if not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit must be a positive integer, got {limit!r}.")
    return data.tokens[:limit], data.tags[:limit]


def known_words(model, sentences: list[list[str]], *, batch_size: int = 256) -> list[list[bool]]:
    """Per token, whether the tagger's word vocabulary holds it (after the model's own normalization):
    an unknown word is tagged from its characters (and casing) alone."""
    import numpy as np
    import tensorflow as tf

    from zoo.models.sequence_tagger.pipeline import emission_part, pad_tokens

    tagger = emission_part(model)
    normalize, lookup = tagger.get_layer("normalize"), tagger.get_layer("words")
    known = []
    for start in range(0, len(sentences), batch_size):
        batch = sentences[start : start + batch_size]
        ids = np.asarray(lookup(normalize(tf.constant(pad_tokens(batch)))))
        known += [[bool(i > 1) for i in row[: len(s)]] for row, s in zip(ids, batch)]  # 0 padding, 1 out of vocabulary
    return known


def tagging_scores(predicted: list[list[str]], gold: list[list[str]], known: list[list[bool]] | None = None) -> dict:
    """Token accuracy, ``{"accuracy", "n"}``; with ``known`` (per token, a bool), also the share of unknown
    tokens and the accuracy on them: ``unknown_rate``, ``unknown_accuracy``.

    Example:
        >>> tagging_scores([["DET", "NOUN"]], [["DET", "VERB"]], known=[[True, False]])
        {'accuracy': 0.5, 'n': 2, 'unknown_rate': 0.5, 'unknown_accuracy': 0.0}
    """
    if len(predicted) != len(gold) or any(len(p) != len(g) for p, g in zip(predicted, gold)):
        raise ValueError("predicted and gold tags must be parallel: one tag per token in every sentence.")
    pairs = [(p == g, k) for pred, ref, flags in zip(predicted, gold, known or [[True] * len(g) for g in gold])
             for p, g, k in zip(pred, ref, flags)]
    if not pairs:
        raise ValueError("no tokens to score.")
    scores = {"accuracy": round(sum(right for right, _ in pairs) / len(pairs), 4), "n": len(pairs)}
    if known is not None:
        unknown = [right for right, k in pairs if not k]
        scores["unknown_rate"] = round(len(unknown) / len(pairs), 4)
        scores["unknown_accuracy"] = round(sum(unknown) / len(unknown), 4) if unknown else None
    return scores


def out_of_domain_sets(*, limit: int | None = None) -> dict:
    """English text from other sources than EWT, with Penn Treebank POS tags mapped to UPOS (`zoo.data.ptb_upos`):
    ``{name: (tokens, upos tags)}`` for the CoNLL-2000 test split (Wall Street Journal, section 20) and the
    CoNLL-2003 test split (Reuters, eng.testb). Their POS tags were assigned by taggers (Brill's, MBT), not by hand."""
    from zoo.data import conll2000, conll2003, ptb_upos

    wsj = conll2000.load("test", limit=limit)
    reuters = conll2000.read_columns(conll2003.file_path("test"), column=1, columns=4, skip_first="-DOCSTART-")
    reuters = reuters.limited("test", limit)
    return {name: (data.tokens, [ptb_upos.to_upos(tags) for tags in data.tags])
            for name, data in (("conll2000_test", wsj), ("conll2003_test", reuters))}


def evaluate(model, *, split: str = "test", limit: int | None = None, batch_size: int = 64, progress: bool = True):
    """Token accuracy on UD English EWT with gold tokenization: ``{"accuracy", "n": tokens, "sentences",
    "unknown_rate", "unknown_accuracy"}`` (unknown: not in the tagger's word vocabulary). On the test split also
    ``"out_of_domain"``: the same scores on news text tagged with mapped Penn tags (`out_of_domain_sets`)."""
    from zoo.data import ud_ewt
    from zoo.models.sequence_tagger.pipeline import predict_tags

    def score(sentences, gold, desc):
        tagged = predict_tags(model, sentences, ud_ewt.UPOS_TAGS, batch_size=batch_size, progress=progress, desc=desc)
        return tagging_scores([[tag for tag, _ in s] for s in tagged], gold, known_words(model, sentences))

    sentences, gold = _limited(ud_ewt.load(split), limit)
    metrics = score(sentences, gold, f"eval {split}")
    metrics = {"accuracy": metrics["accuracy"], "n": metrics["n"], "sentences": len(sentences),
               "unknown_rate": metrics["unknown_rate"], "unknown_accuracy": metrics["unknown_accuracy"]}
    if split == "test":
        metrics["out_of_domain"] = {name: score(tokens, tags, f"eval {name}")
                                    for name, (tokens, tags) in out_of_domain_sets(limit=limit).items()}
    return metrics


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
