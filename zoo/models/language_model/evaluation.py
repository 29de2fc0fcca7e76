"""Scoring a word language model: perplexity per token on the IMDB test reviews (`zoo eval imdb-lm-lstm`).

The reviews are read as one stream joined by ``<eos>``, the LSTM state carried along
(`zoo.models.language_model.model.evaluate` says exactly what is counted). Lower is better.
"""

from __future__ import annotations

SAMPLE = dict(prompt="This movie was", max_words=60, temperature=0.8, seed=0)  # the card's generated sample
SLICE = 200  # the card also gives the perplexity of the split's first SLICE reviews, which CI recomputes


def evaluate(model, *, split: str = "test", limit: int | None = None, progress: bool = True) -> dict:
    """Perplexity per token on an IMDB split, and a sample.

    Returns ``{"perplexity", "cross_entropy", "tokens", "oov_rate", "n", "first_200", "sample"}``:
    cross-entropy in nats per token; ``tokens`` scored; ``oov_rate`` the share of them that are ``[UNK]``;
    ``n`` the reviews read; ``first_200`` the perplexity of the split's first `SLICE` reviews scored on their
    own (what CI recomputes quickly); ``sample`` text generated from `SAMPLE`'s prompt and seed, for the card.
    """
    from zoo.models.language_model.decoding import runtime
    from zoo.models.language_model.model import evaluate as perplexity_on

    metrics = perplexity_on(model, split=split, limit=limit, progress=progress)
    first = metrics["perplexity"] if metrics["n"] <= SLICE else \
        perplexity_on(model, split=split, limit=SLICE, progress=False)["perplexity"]
    sample = runtime(model).generate(SAMPLE["prompt"], SAMPLE["max_words"], temperature=SAMPLE["temperature"],
                                     top_k=None, top_p=None, seed=SAMPLE["seed"])
    return {**metrics, f"first_{SLICE}": first, "sample": sample}


def readme_section() -> tuple[str, str]:
    """``("imdb-lm", markdown)``: the README's block for `imdb-lm-lstm`, from its card."""
    from zoo._registry import get_spec, list_models

    spec = get_spec("imdb-lm-lstm") if list_models("imdb-lm-lstm") else None
    card = spec.card() if spec is not None else None
    if card is None:
        return "imdb-lm", "(no checkpoint yet)"
    m = card["metrics"]
    args = spec.builder_args
    sample = "\n".join("    " + line for line in m["sample"].splitlines())
    rows = ["| model | parameters | vocabulary | test perplexity | cross-entropy (nats/token) | tokens scored | OOV rate |",
            "|---|---|---|---|---|---|---|",
            f"| `imdb-lm-lstm` ({args['layers']} x LSTM {args['units']}, tied {args['embedding_dim']}-d embedding) | "
            f"{card['num_params'] / 1e6:.1f} M | {args['vocab_size']:,} | **{m['perplexity']:.2f}** | "
            f"{m['cross_entropy']:.4f} | {m['tokens']:,} | {m['oov_rate']:.2%} |",
            "",
            f"A sample, `lm.generate({SAMPLE['prompt']!r}, max_words={SAMPLE['max_words']}, "
            f"temperature={SAMPLE['temperature']}, seed={SAMPLE['seed']})`:",
            "",
            sample]
    return "imdb-lm", "\n".join(rows)
