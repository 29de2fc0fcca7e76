"""Scoring a character language model: cross-entropy per character on a whole split (`zoo eval shakespeare-char-lstm`).

The split is read as one stream, left to right, the LSTM state carried from each stretch of
``WINDOW`` characters to the next, so every character after the first is predicted from *every*
character before it in the split (the first has no context and is not scored). The figure is the mean
cross-entropy of those characters in nats (lower is better), also given in bits and as perplexity.
"""

from __future__ import annotations

import math

WINDOW = 1000  # characters read per compiled call (the state is carried across calls)


def character_ids(model, text: str):
    """``text`` as the model's character ids, int32 ``(len(text),)`` (unknown characters: id 1)."""
    import numpy as np
    import tensorflow as tf

    return np.asarray(model.get_layer("characters")(tf.constant([text]))[0], np.int32)


def _stream_step(model):
    import tensorflow as tf

    from zoo.models.char_language_model.model import forward, network_parts

    logits_layer = network_parts(model)[3]

    def summed(logits, targets):
        nll = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits)
        return tf.reduce_sum(tf.cast(nll, tf.float64))

    @tf.function(reduce_retracing=True)
    def step(ids, targets, states):
        out, states, top = forward(model, ids, states, hidden=True)
        return summed(out, targets), summed(logits_layer(top), targets), states  # the model's, the network's alone

    return step


def window_nats(model, ids, *, window: int = WINDOW, progress: bool = False, desc: str = "score"):
    """Reads ``ids`` as one stream, ``window`` targets per call; yields ``(targets scored so far, nats of this window,
    nats of this window from the network alone)`` (the last two differ when the model has a cache).

    Target ``i`` is ``ids[i + 1]``, predicted from every id before it (the LSTM state is carried from window to window).
    """
    import numpy as np
    import tensorflow as tf

    from zoo._inference import per_model
    from zoo._progress import progress_bar
    from zoo.models.char_language_model.model import initial_states

    ids = np.asarray(ids, np.int32)
    count = len(ids) - 1
    if count < 1:
        return
    step = per_model(model, "stream_step", _stream_step)
    states = initial_states(model, 1)
    with progress_bar(total=count, desc=desc, unit="char", enabled=progress, unit_scale=True) as bar:
        for start in range(0, count, window):
            end = min(start + window, count)
            nats, network_nats, states = step(tf.constant(ids[None, start:end]), tf.constant(ids[None, start + 1 : end + 1]),
                                              states)
            bar.update(end - start)
            yield end, float(nats), float(network_nats)


def stream_nats(model, ids, *, window: int = WINDOW, progress: bool = False, desc: str = "score") -> tuple[float, int]:
    """The summed cross-entropy (nats) of ``ids[1:]``, each predicted from all ids before it, and their count."""
    total, count = 0.0, 0
    for count, nats, _ in window_nats(model, ids, window=window, progress=progress, desc=desc):
        total += nats
    return total, count


def mean_nats(logits, targets) -> float:
    """The mean cross-entropy (nats) of ``targets`` ``(n,)`` under ``logits`` ``(n, vocabulary)``."""
    import numpy as np

    logits = np.asarray(logits, np.float64)
    top = logits.max(axis=1)
    chosen = logits[np.arange(len(targets)), targets]
    return float(np.mean(top + np.log(np.exp(logits - top[:, None]).sum(axis=1)) - chosen))


def best_temperature(logits, targets, *, low: float = 0.25, high: float = 4.0) -> float:
    """The softmax temperature ``T`` that minimizes the mean cross-entropy of ``targets`` under ``logits / T``.

    ``logits`` ``(n, vocabulary)``, ``targets`` ``(n,)``. The cross-entropy is convex in ``1 / T``, so a
    golden-section search over ``1 / T`` in ``[1 / high, 1 / low]`` finds it.
    """
    import numpy as np

    logits = np.asarray(logits, np.float64)
    targets = np.asarray(targets)
    if logits.ndim != 2 or targets.shape != logits.shape[:1] or not len(targets):
        raise ValueError(f"expected logits (n, vocabulary) and n targets, got {logits.shape} and {targets.shape}.")

    return 1 / golden_minimum(lambda inverse: mean_nats(logits * inverse, targets), 1 / high, 1 / low)


def stream_logits(model, ids, *, window: int = WINDOW, hidden: bool = False):
    """The network's own logits (before any cache) ``(len(ids) - 1, vocabulary)`` of ``ids[1:]``, read as one
    stream (as `stream_nats` reads it); with ``hidden`` also the top LSTM's outputs ``(len(ids) - 1, units)``."""
    import numpy as np
    import tensorflow as tf

    from zoo.models.char_language_model.model import forward

    ids = np.asarray(ids, np.int32)
    states, logits, tops = None, [], []
    for start in range(0, len(ids) - 1, window):
        out, states, top = forward(model, tf.constant(ids[None, start : min(start + window, len(ids) - 1)]), states,
                                   hidden=True, network_only=True)
        logits.append(np.asarray(out[0]))
        tops.append(np.asarray(top[0]))
    if not logits:
        raise ValueError("the text must have at least two characters: the first is context, the rest are scored.")
    return (np.concatenate(logits), np.concatenate(tops)) if hidden else np.concatenate(logits)


def calibrate_temperature(model, ids) -> dict:
    """Fits the softmax temperature on ``ids`` (a validation split) and folds it into the model's output layer.

    A network that fits its training text closely is over-confident on text it has not seen; dividing its
    logits by one fitted ``T > 1`` lowers the cross-entropy there without changing which character is most
    likely. The model is changed in place (the ``logits`` layer's kernel and bias are divided by ``T``);
    returns ``{"temperature", "nats_per_char_before_temperature", "nats_per_char"}`` on ``ids`` (the last as
    `zoo eval` scores: with a cache, at its present settings, so fit the cache after).
    """
    import numpy as np

    from zoo.models.char_language_model.model import scale_logits

    ids = np.asarray(ids, np.int32)
    logits = stream_logits(model, ids)
    temperature = best_temperature(logits, ids[1:])
    scale_logits(model, 1 / temperature)
    after, count = stream_nats(model, ids)  # the folded model, scored as `zoo eval` scores
    return {"temperature": round(temperature, 4),
            "nats_per_char_before_temperature": round(mean_nats(logits, ids[1:]), 4),
            "nats_per_char": round(after / count, 4)}


CACHE_THETAS = (5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 40.0, 60.0)  # the grid `fit_cache` searches
CACHE_CHUNK = 1000  # positions scored against the cache at a time


def cache_probabilities(hidden, targets, *, size: int, thetas) -> dict:
    """``{theta: p (n,)}``: the cache's probability of each target (``targets[t]`` follows ``hidden[t]``) from the
    ``size`` positions before it, as `ContinuousCache` computes it; nan where the cache is empty (position 0)."""
    import numpy as np

    keys = hidden / np.maximum(np.linalg.norm(hidden, axis=1, keepdims=True), 1e-12)
    targets = np.asarray(targets)
    out = {theta: np.full(len(targets), np.nan) for theta in thetas}
    for a in range(1, len(targets), CACHE_CHUNK):
        b, low = min(len(targets), a + CACHE_CHUNK), max(0, a - size)
        sims = keys[a:b] @ keys[low:b].T  # queries t in [a, b), cached positions i in [low, b)
        t, i = np.arange(a, b)[:, None], np.arange(low, b)[None, :]
        usable = (i < t) & (i >= t - size) & (targets[low:b][None, :] > 0)
        same = targets[low:b][None, :] == targets[a:b][:, None]
        for theta in thetas:
            scores = np.where(usable, theta * sims, -np.inf)
            weights = np.exp(scores - scores.max(axis=1, keepdims=True))
            out[theta][a:b] = (weights * same).sum(axis=1) / weights.sum(axis=1)
    return out


def fit_cache(model, ids) -> dict:
    """Fits the model's cache (``theta`` from `CACHE_THETAS`, then ``mix`` in [0, 0.9]) on ``ids`` (a validation
    split) and sets them in the model's `ContinuousCache` layer (in place).

    Returns ``{"cache_size", "cache_theta", "cache_mix", "nats_per_char_before_cache", "nats_per_char"}`` on
    ``ids``; the last is the fitted model's stream score, as `zoo eval` scores.
    """
    import numpy as np

    from zoo.models.char_language_model.model import cache_part

    cache = cache_part(model)
    if cache is None:
        raise ValueError("this model has no cache to fit (build it with cache_size > 0).")
    ids = np.asarray(ids, np.int32)
    logits, hidden = stream_logits(model, ids, hidden=True)
    targets = ids[1:]
    top = logits.max(axis=1)
    model_p = np.exp(logits[np.arange(len(targets)), targets] - top - np.log(np.exp(logits - top[:, None]).sum(axis=1)))
    fits = []
    for theta, cached in cache_probabilities(hidden, targets, size=cache.size, thetas=CACHE_THETAS).items():
        empty = np.isnan(cached)

        def nats(mix):
            return float(-np.mean(np.log(np.where(empty, model_p, (1 - mix) * model_p + mix * np.nan_to_num(cached)))))

        mix = golden_minimum(nats, 0.0, 0.9)
        fits.append((nats(mix), theta, mix))
    _, theta, mix = min(fits)
    cache.theta.assign(theta)
    cache.mix.assign(mix)
    nats, count = stream_nats(model, ids)
    return {"cache_size": cache.size, "cache_theta": theta, "cache_mix": round(mix, 4),
            "nats_per_char_before_cache": round(float(-np.mean(np.log(model_p))), 4), "nats_per_char": round(nats / count, 4)}


def golden_minimum(f, low: float, high: float, *, tolerance: float = 1e-4) -> float:
    """The minimum of a convex ``f`` on ``[low, high]`` by golden-section search."""
    ratio = (math.sqrt(5) - 1) / 2
    a, b = low, high
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = f(c), f(d)
    while b - a > tolerance:
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = f(d)
    return (a + b) / 2


def scores(nats: float, count: int) -> dict:
    """nats/char (the headline), bits/char and perplexity from a summed cross-entropy and its character count."""
    mean = nats / count
    return {"nats_per_char": round(mean, 4), "bits_per_char": round(mean / math.log(2), 4),
            "perplexity": round(math.exp(mean), 4), "n": count}


SAMPLE = dict(prompt="ROMEO:", max_chars=300, temperature=0.8, seed=0)  # the card's generated sample
SLICE = 10_000  # the card also gives the figure of the split's first SLICE + 1 characters, which CI recomputes
assert SLICE % WINDOW == 0, "the slice's figure is summed from whole windows of the one pass"


def evaluate(model, *, split: str = "test", limit: int | None = None, progress: bool = True) -> dict:
    """Cross-entropy per character on a split of tiny Shakespeare, read as one stream; and a sample.

    ``limit`` keeps the split's first ``limit`` characters. Returns ``{"nats_per_char", "bits_per_char",
    "perplexity", "n", "first_10000", "sample"}`` (``n``: characters scored, one fewer than read;
    ``first_10000``: nats per character of the first `SLICE` characters scored, what CI recomputes quickly;
    ``sample``: text generated from `SAMPLE`'s prompt and seed, for the card), and for a model with a cache
    ``nats_per_char_without_cache``: the network alone, read in the same pass.
    """
    from zoo.data import tinyshakespeare
    from zoo.models.char_language_model.decoding import runtime
    from zoo.models.char_language_model.model import cache_part

    ids = character_ids(model, tinyshakespeare.load(split, limit=limit))
    total = first = network = 0.0
    count = 0
    for count, nats, network_nats in window_nats(model, ids, progress=progress, desc=f"eval {split}"):
        total += nats
        network += network_nats
        first += nats if count <= SLICE else 0.0  # one pass gives both figures
    metrics = {**scores(total, count), f"first_{SLICE}": scores(first, min(count, SLICE))["nats_per_char"]}
    if cache_part(model) is not None:
        metrics["nats_per_char_without_cache"] = scores(network, count)["nats_per_char"]
    sample = runtime(model).generate(SAMPLE["prompt"], SAMPLE["max_chars"], temperature=SAMPLE["temperature"],
                                     top_k=None, top_p=None, seed=SAMPLE["seed"])
    return {**metrics, "sample": sample}


def readme_section() -> tuple[str, str]:
    """``("shakespeare", markdown)``: the README's table of `shakespeare-char-lstm` against nanoGPT, from its card."""
    from zoo._registry import get_spec

    spec = get_spec("shakespeare-char-lstm")
    card = spec.card()
    if card is None:
        return "shakespeare", "(no checkpoint yet)"
    m = card["metrics"]
    sample = "\n".join("    " + line for line in m["sample"].splitlines())
    args = spec.builder_args

    def row(label, parameters, nats, bold=False):
        figure = f"**{nats:.4f}**" if bold else f"{nats:.4f}"
        return f"| {label} | {parameters} | {figure} | {nats / math.log(2):.4f} | {math.exp(nats):.2f} |"

    cache = f" + a continuous cache of {args['cache_size']:,} positions" if args.get("cache_size") else ""
    rows = ["| model | parameters | test nats/char | bits/char | perplexity |",
            "|---|---|---|---|---|",
            row(f"`shakespeare-char-lstm` ({args['layers']} x LSTM {args['units']}{cache}, CPU)",
                f"{card['num_params'] / 1e6:.1f} M", m["nats_per_char"], bold=True)]
    if "nats_per_char_without_cache" in m:
        rows.append(row("the same network without its cache", "", m["nats_per_char_without_cache"]))
    rows += ["| nanoGPT baby GPT (6-layer Transformer, GPU, no cache; reported) | 10.7 M | 1.4697 | | |",
             "| nanoGPT's CPU-sized configuration (4-layer Transformer, reported) | | 1.88 | | |",
             "",
             f"{m['n']:,} test characters scored. A sample, `lm.generate({SAMPLE['prompt']!r}, "
             f"max_chars={SAMPLE['max_chars']}, temperature={SAMPLE['temperature']}, seed={SAMPLE['seed']})`:",
             "",
             sample]
    return "shakespeare", "\n".join(rows)
