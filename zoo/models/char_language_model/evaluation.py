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

    from zoo.models.char_language_model.model import forward

    @tf.function(reduce_retracing=True)
    def step(ids, targets, states):
        logits, states = forward(model, ids, states)
        nll = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits)
        return tf.reduce_sum(tf.cast(nll, tf.float64)), states

    return step


def window_nats(model, ids, *, window: int = WINDOW, progress: bool = False, desc: str = "score"):
    """Reads ``ids`` as one stream, ``window`` targets per call; yields ``(targets scored so far, nats of this window)``.

    Target ``i`` is ``ids[i + 1]``, predicted from every id before it (the LSTM state is carried from window to window).
    """
    import numpy as np
    import tensorflow as tf

    from zoo._inference import per_model
    from zoo._progress import progress_bar
    from zoo.models.char_language_model.model import network_parts

    ids = np.asarray(ids, np.int32)
    count = len(ids) - 1
    if count < 1:
        return
    step = per_model(model, "stream_step", _stream_step)
    _, _, lstms, _ = network_parts(model)
    states = [tf.zeros([1, lstm.units]) for lstm in lstms for _ in range(2)]
    with progress_bar(total=count, desc=desc, unit="char", enabled=progress, unit_scale=True) as bar:
        for start in range(0, count, window):
            end = min(start + window, count)
            nats, states = step(tf.constant(ids[None, start:end]), tf.constant(ids[None, start + 1 : end + 1]), states)
            bar.update(end - start)
            yield end, float(nats)


def stream_nats(model, ids, *, window: int = WINDOW, progress: bool = False, desc: str = "score") -> tuple[float, int]:
    """The summed cross-entropy (nats) of ``ids[1:]``, each predicted from all ids before it, and their count."""
    total, count = 0.0, 0
    for count, nats in window_nats(model, ids, window=window, progress=progress, desc=desc):
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

    def nats(inverse):
        return mean_nats(logits * inverse, targets)

    ratio = (math.sqrt(5) - 1) / 2
    a, b = 1 / high, 1 / low
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = nats(c), nats(d)
    while b - a > 1e-4:
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = nats(c)
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = nats(d)
    return 1 / ((a + b) / 2)


def stream_logits(model, ids, *, window: int = WINDOW):
    """The logits ``(len(ids) - 1, vocabulary)`` of ``ids[1:]``, read as one stream (as `stream_nats` reads it)."""
    import numpy as np
    import tensorflow as tf

    from zoo.models.char_language_model.model import forward

    ids = np.asarray(ids, np.int32)
    states, parts = None, []
    for start in range(0, len(ids) - 1, window):
        logits, states = forward(model, tf.constant(ids[None, start : min(start + window, len(ids) - 1)]), states)
        parts.append(np.asarray(logits[0]))
    return np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)


def calibrate_temperature(model, ids) -> dict:
    """Fits the softmax temperature on ``ids`` (a validation split) and folds it into the model's output layer.

    A network that fits its training text closely is over-confident on text it has not seen; dividing its
    logits by one fitted ``T > 1`` lowers the cross-entropy there without changing which character is most
    likely. The model is changed in place (the ``logits`` layer's kernel and bias are divided by ``T``);
    returns ``{"temperature", "nats_per_char_before_temperature", "nats_per_char"}`` on ``ids``.
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
    ``sample``: text generated from `SAMPLE`'s prompt and seed, for the card).
    """
    from zoo.data import tinyshakespeare
    from zoo.models.char_language_model.decoding import runtime

    ids = character_ids(model, tinyshakespeare.load(split, limit=limit))
    total = first = 0.0
    count = 0
    for count, nats in window_nats(model, ids, progress=progress, desc=f"eval {split}"):
        total += nats
        first += nats if count <= SLICE else 0.0  # one pass gives both figures
    metrics = {**scores(total, count), f"first_{SLICE}": scores(first, min(count, SLICE))["nats_per_char"]}
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
    rows = ["| model | parameters | test nats/char | bits/char | perplexity |",
            "|---|---|---|---|---|",
            f"| `shakespeare-char-lstm` ({spec.builder_args['layers']} x LSTM {spec.builder_args['units']}, CPU) | "
            f"{card['num_params'] / 1e6:.1f} M | **{m['nats_per_char']:.4f}** | {m['bits_per_char']:.4f} | "
            f"{m['perplexity']:.2f} |",
            "| nanoGPT baby GPT (6-layer Transformer, GPU; reported) | 10.7 M | 1.4697 | | |",
            "| nanoGPT's CPU-sized configuration (4-layer Transformer, reported) | | 1.88 | | |",
            "",
            f"{m['n']:,} test characters scored. A sample, `lm.generate({SAMPLE['prompt']!r}, "
            f"max_chars={SAMPLE['max_chars']}, temperature={SAMPLE['temperature']}, seed={SAMPLE['seed']})`:",
            "",
            sample]
    return "shakespeare", "\n".join(rows)
