"""Scoring the translators: sacrebleu BLEU on the test split, overall and by source length."""

from __future__ import annotations

from zoo.models.translator.decoding import translate
from zoo.models.translator.model import DEFAULT_BEAM_WIDTH, DEFAULT_LENGTH_PENALTY, LENGTH_BUCKETS

def length_bucket(source: str) -> str:
    """The source-length bucket of a Spanish sentence (words split on whitespace)."""
    words = len(source.split())
    for label, low, high in LENGTH_BUCKETS:
        if words >= low and (high is None or words <= high):
            return label
    return LENGTH_BUCKETS[0][0]


def bleu_scores(sources: list[str], hypotheses: list[str], references: list[str]) -> dict:
    """sacrebleu corpus BLEU (13a tokenization, case-sensitive), overall and by source-length bucket."""
    import sacrebleu

    metric = sacrebleu.metrics.BLEU()
    overall = metric.corpus_score(hypotheses, [references]).score
    by_length = {}
    for label, _, _ in LENGTH_BUCKETS:
        picked = [i for i, s in enumerate(sources) if length_bucket(s) == label]
        if picked:
            score = metric.corpus_score([hypotheses[i] for i in picked], [[references[i] for i in picked]]).score
            by_length[label] = {"bleu": round(score, 2), "n": len(picked)}
    return {"bleu": round(overall, 2), "n": len(hypotheses), "bleu_by_length": by_length,
            "signature": str(metric.get_signature())}


def evaluate(model, *, split: str = "test", limit: int | None = None, beam_width: int = DEFAULT_BEAM_WIDTH,
             length_penalty: float = DEFAULT_LENGTH_PENALTY, batch_size: int = 64, progress: bool = True) -> dict:
    """sacrebleu corpus BLEU of the detokenized translations against the reference English.

    Returns:
        ``{"bleu", "n", "beam_width", "length_penalty", "bleu_by_length": {bucket: {"bleu", "n"}}, "signature"}``,
        buckets by Spanish words: 1-5, 6-8, 9-11, 12+.
    """
    from zoo.data import spa_eng

    pairs = spa_eng.load(split, limit=limit)
    hypotheses = translate(model, pairs.source, beam_width=beam_width, length_penalty=length_penalty,
                           batch_size=batch_size, progress=progress, desc=f"eval {split}")
    scores = bleu_scores(pairs.source, hypotheses, pairs.target)
    return {"bleu": scores["bleu"], "n": scores["n"], "beam_width": beam_width, "length_penalty": length_penalty,
            "bleu_by_length": scores["bleu_by_length"], "signature": scores["signature"]}
