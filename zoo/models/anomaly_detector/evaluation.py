"""Scoring an anomaly detector on the Numenta Anomaly Benchmark: the figures on the card (`zoo eval nab-lstm`).

Every file of NAB v1.1 (58 series, 365,558 rows, 116 labelled windows) is scored on its own by the pipeline's
code (`scoring.score_series`, NAB's probation rule), then NAB's scorer (`zoo.metrics.nab`, a tested port)
sweeps one corpus-wide threshold per profile and normalizes, as NAB does for every detector. HTM and the
windowed Gaussian, from NAB's published outputs, are scored by the same code in the same run.
"""

from __future__ import annotations

PROFILES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")
REFERENCES = {"numenta": "htm", "windowedGaussian": "windowed_gaussian"}  # NAB's detector name -> our key


def subset(corpus: dict, limit: int | None) -> dict:
    """The whole corpus, or ``limit`` files: the shortest of each category in turn (every category early)."""
    if limit is None:
        return dict(corpus)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit must be a positive number of files, got {limit!r}.")
    by_category: dict[str, list[str]] = {}
    for name in corpus:
        by_category.setdefault(name.split("/", 1)[0], []).append(name)
    queues = [sorted(names, key=lambda n: (len(corpus[n]), n)) for _, names in sorted(by_category.items())]
    chosen = []
    while len(chosen) < min(limit, len(corpus)):
        for queue in queues:
            if queue and len(chosen) < limit:
                chosen.append(queue.pop(0))
    return {name: corpus[name] for name in corpus if name in chosen}


def corpus_scores(model, corpus: dict, *, adapt: bool = True, progress: bool = True) -> dict:
    """``{name: per-row anomaly scores}`` for every series of ``corpus``, each scored on its own."""
    from zoo._progress import progress_bar
    from zoo.metrics.nab import probation_length
    from zoo.models.anomaly_detector.scoring import score_series

    out = {}
    with progress_bar(total=sum(len(s) for s in corpus.values()), desc="NAB" if adapt else "NAB (no adaptation)",
                      unit="row", enabled=progress, unit_scale=True) as bar:
        for name, series in corpus.items():
            out[name] = score_series(model, series.values, probation=probation_length(len(series)), adapt=adapt).scores
            bar.update(len(series))
    return out


def nab_figures(scores: dict, corpus: dict) -> dict:
    """NAB's three normalized scores, thresholds and raw scores, and the per-category scores (standard)."""
    from zoo.metrics import nab as nab_score

    final = nab_score.normalized_scores(scores, corpus)
    by_category = nab_score.category_scores(scores, corpus, profiles=["standard"])["standard"]
    return {
        "scores": {p: round(final[p]["score"], 4) for p in PROFILES},
        "thresholds": {p: final[p]["threshold"] for p in PROFILES},
        "raw": {p: round(final[p]["raw"], 4) for p in PROFILES},
        "by_category": {c: ({"raw": round(v["raw"], 4)} if v["perfect"] == v["null"] else
                            {"score": round(v["score"], 2), "raw": round(v["raw"], 4)})
                        for c, v in by_category.items()},
    }


def evaluate(model, *, split: str = "test", limit: int | None = None, progress: bool = True,
             references: bool = True, without_adaptation: bool = True) -> dict:
    """NAB scores of a detector on the whole corpus (or ``limit`` files), with HTM's and the windowed Gaussian's.

    Returns:
        ``nab_standard``, ``nab_reward_low_FP_rate``, ``nab_reward_low_FN_rate`` (normalized, higher is
        better), ``n`` (files), ``rows``, ``windows``, the corpus ``thresholds`` and ``raw`` scores per
        profile, ``by_category`` (standard profile: the detector's score and raw score, HTM's and the
        windowed Gaussian's score), ``references`` (their three profiles, same scorer, same run) and
        ``without_adaptation`` (the three profiles when the predictor is not fine-tuned per series, as in
        the exports).
    """
    from zoo.data import nab

    if split != "test":
        raise ValueError(f"NAB has one split, the whole labelled corpus: split must be 'test', got {split!r}.")
    corpus = subset(nab.load(), limit)
    figures = nab_figures(corpus_scores(model, corpus, progress=progress), corpus)
    out = {f"nab_{p}": figures["scores"][p] for p in PROFILES}
    out.update(n=len(corpus), rows=sum(len(s) for s in corpus.values()),
               windows=sum(len(s.windows) for s in corpus.values()),
               thresholds=figures["thresholds"], raw=figures["raw"], by_category=figures["by_category"])
    if references:
        try:
            published = {key: nab.load_reference_results(detector) for detector, key in REFERENCES.items()}
        except FileNotFoundError:
            published = {}
        reference_figures = {key: nab_figures({n: r[n].anomaly_score for n in corpus}, corpus)
                             for key, r in published.items()}
        for category, entry in out["by_category"].items():
            for key, theirs in reference_figures.items():
                if "score" in theirs["by_category"][category]:
                    entry[key] = theirs["by_category"][category]["score"]
        if reference_figures:
            out["references"] = {key: {p: round(f["scores"][p], 2) for p in PROFILES}
                                 for key, f in reference_figures.items()}
    if without_adaptation:
        plain = nab_figures(corpus_scores(model, corpus, adapt=False, progress=progress), corpus)
        out["without_adaptation"] = {p: round(plain["scores"][p], 2) for p in PROFILES}
    return out
