"""Word-level LSTM language models: raw string in, next-word logits out.

The network embeds word ids, runs one or more LSTM layers over them, projects each step's output
back to the embedding width and scores it against the same embedding matrix (tied input and output
embeddings, ``zoo.layers.language_model.TiedEmbedding``). Preprocessing is the IMDB classifiers'
(``StandardizeText`` then a whitespace split and a vocabulary lookup), so a classifier fine-tuned
from the language model reads the same token ids. Every text is framed by the end-of-review token
``<eos>`` (id 2): the logits at position ``i`` predict token ``i + 1``, so the first word is scored
from the leading ``<eos>`` and the end of the review from the last word.

Example:
    >>> from zoo.models.language_model.model import build_language_model
    >>> model = build_language_model(vocabulary=["the", "film", "great"], vocab_size=6,
    ...                              embedding_dim=8, units=16, layers=1)
    >>> model(tf.constant(["A great film"])).shape  # <eos> a great film <eos>
    TensorShape([1, 5, 6])
"""

from __future__ import annotations

import math
import weakref

_STEPS = weakref.WeakKeyDictionary()  # network -> its compiled stateful_step, so validation traces once

EOS = "<eos>"  # end of review; StandardizeText removes "<" and ">", so no raw text can produce it
PAD_ID, OOV_ID, EOS_ID = 0, 1, 2  # TextVectorization puts "" at 0 and "[UNK]" at 1; <eos> is the first word


def build_language_model(
    *,
    vocabulary: list[str] | None = None,
    vocab_size: int = 12000,
    embedding_dim: int = 128,
    units: int = 512,
    layers: int = 1,
    embedding_dropout: float = 0.05,
    dropout: float = 0.1,
    name: str = "language_model",
):
    """Builds an untrained end-to-end language model (string input, next-token logits output).

    Args:
        vocabulary: words, most frequent first, without the padding, OOV and ``<eos>`` entries
            (``<eos>`` is dropped from it if present). When None, the vectorizer layer
            (``model.get_layer("vectorize")``) must be given a vocabulary before use.
        vocab_size: ids in all: padding (0), OOV (1), ``<eos>`` (2) and ``vocab_size - 3`` words.
        embedding_dim: width of the tied input/output embedding.
        units: LSTM units per layer.
        layers: stacked LSTM layers.
        embedding_dropout: rate at which whole words are dropped from the input (their vector is
            zeroed at every position they occur in a row; AWD-LSTM's embedding dropout, per position).
        dropout: locked (same mask at every time step) dropout on each LSTM layer's output.
        name: the model's name.

    Returns:
        A ``keras.Model`` from ``text`` (tf.string ``(batch,)``) to float32 logits
        ``(batch, time + 2, vocab_size)``. It holds named parts: ``standardize``, ``vectorize``,
        ``frame`` (raw text to framed token ids) and ``language_model``, the nested network
        from token ids (int32 ``(batch, time)``) to logits, built by :func:`build_network`.
    """
    import keras
    from keras import layers as kl

    from zoo.layers.language_model import AddBoundaryTokens
    from zoo.layers.text import StandardizeText

    if vocab_size < 4:
        raise ValueError(f"vocab_size must be at least 4 (padding, OOV, <eos> and one word), got {vocab_size}.")
    text = keras.Input(shape=(), dtype="string", name="text")
    standardized = StandardizeText(name="standardize")(text)
    vectorizer = kl.TextVectorization(
        max_tokens=vocab_size,
        standardize=None,
        split="whitespace",
        output_mode="int",
        vocabulary=None if vocabulary is None else full_vocabulary(vocabulary, vocab_size),
        name="vectorize",
    )
    ids = AddBoundaryTokens(EOS_ID, name="frame")(vectorizer(standardized))
    network = build_network(
        vocab_size=vocab_size, embedding_dim=embedding_dim, units=units, layers=layers,
        embedding_dropout=embedding_dropout, dropout=dropout,
    )
    return keras.Model(text, network(ids), name=name)


def full_vocabulary(words, vocab_size: int) -> list[str]:
    """The vectorizer's vocabulary: ``<eos>`` then the most frequent ``vocab_size - 3`` other words."""
    return [EOS] + [w for w in words if w != EOS][: vocab_size - 3]


def build_network(*, vocab_size, embedding_dim, units, layers, embedding_dropout, dropout):
    """The token-id part: ``token_ids`` int32 ``(batch, time)`` -> logits float32 ``(batch, time, vocab_size)``.

    Layers (by name): ``embedding`` (a ``TiedEmbedding``), ``embedding_dropout``, ``lstm_1`` ..
    ``lstm_n`` each followed by ``dropout_i``, ``projection`` (Dense to ``embedding_dim``) and the
    embedding again in reverse for the logits. Each LSTM also returns its final state, which
    :func:`stateful_step` uses to carry the state from one window of text to the next.
    """
    import keras
    from keras import layers as kl

    from zoo.layers.language_model import TiedEmbedding

    if layers < 1:
        raise ValueError(f"layers must be at least 1, got {layers}.")
    ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    parts = {"embedding": TiedEmbedding(vocab_size, embedding_dim, name="embedding")}
    parts["embedding_dropout"] = kl.Dropout(embedding_dropout, noise_shape=(None, None, 1), name="embedding_dropout")
    for i in range(1, layers + 1):
        parts[f"lstm_{i}"] = kl.LSTM(units, return_sequences=True, return_state=True, name=f"lstm_{i}")
        parts[f"dropout_{i}"] = kl.SpatialDropout1D(dropout, name=f"dropout_{i}")
    parts["projection"] = kl.Dense(embedding_dim, name="projection")
    hidden, _ = forward(parts, ids, layers=layers)
    logits = parts["embedding"](hidden, reverse=True)
    return keras.Model(ids, logits, name="language_model")


def forward(parts, ids, *, layers, states=None, training=None):
    """Runs the network's layers up to the projection: ``(hidden, final_states)``.

    ``states`` is None (zero initial state) or a list ``[h1, c1, h2, c2, ...]``, one pair per LSTM
    layer; ``final_states`` has the same layout, the state after the last step.
    """
    x = parts["embedding"](ids)
    x = parts["embedding_dropout"](x, training=training)
    final_states = []
    for i in range(1, layers + 1):
        initial = None if states is None else list(states[2 * (i - 1) : 2 * i])
        x, h, c = parts[f"lstm_{i}"](x, initial_state=initial, training=training)
        final_states += [h, c]
        x = parts[f"dropout_{i}"](x, training=training)
    return parts["projection"](x), final_states


def network_parts(network) -> tuple[dict, int]:
    """The named layers of a network built by :func:`build_network` (or of a full model holding one)."""
    names = [layer.name for layer in network.layers]
    if "language_model" in names:
        network = network.get_layer("language_model")
        names = [layer.name for layer in network.layers]
    layers = sum(1 for n in names if n.startswith("lstm_"))
    keep = ["embedding", "embedding_dropout", "projection"]
    keep += [f"{kind}_{i}" for i in range(1, layers + 1) for kind in ("lstm", "dropout")]
    return {n: network.get_layer(n) for n in keep}, layers


def stateful_step(network):
    """A compiled ``step(ids, targets, weights, states) -> (nll_sum, count, new_states)`` (no dropout).

    Scores one window of ``batch`` parallel streams with the full softmax, starting from ``states``
    (``[h1, c1, ...]``, each float32 ``(batch, units)``), and returns the summed cross-entropy of the
    ``targets`` (in nats) over the positions whose ``weights`` is 1, their count, and the state
    after the window, to feed the next window of the same streams.
    """
    import tensorflow as tf

    if network in _STEPS:
        return _STEPS[network]
    parts, layers = network_parts(network)
    embedding = parts["embedding"]

    @tf.function(reduce_retracing=True)
    def step(ids, targets, weights, states):
        hidden, new_states = forward(parts, ids, layers=layers, states=states, training=False)
        logits = embedding(hidden, reverse=True)
        nll = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits)
        weights = tf.cast(weights, nll.dtype)
        return tf.reduce_sum(nll * weights), tf.reduce_sum(weights), new_states

    _STEPS[network] = step
    return step


def stream_windows(stream, *, batch_size: int, seq_len: int):
    """Cuts one token stream into up to ``batch_size`` rows and yields ``(ids, targets, weights)`` windows.

    Every token but the first is a target exactly once. Rows begin at review boundaries: row ``r``
    starts at the first ``<eos>`` at or after position ``r * (len - 1) / batch_size`` and reads up to
    the next row's start, predicting each next token; a row never starts inside a review, because the
    network only ever learnt to read a review after an ``<eos>`` (from a zero state inside one it can
    lock a cell into a runaway state and score the rest of the row at 20+ nats a token). A stream with
    too few ``<eos>`` gets fewer rows. Rows are padded at the end with weight 0; windows are ``seq_len``
    wide (the last one may be narrower) and go left to right, so a row's state can be carried from
    window to window.
    """
    import numpy as np

    stream = np.asarray(stream, dtype=np.int32)
    n = len(stream) - 1
    if n < 1:
        return
    boundaries = np.flatnonzero(stream[:n] == EOS_ID)
    starts = [0]
    for r in range(1, batch_size):
        i = np.searchsorted(boundaries, math.ceil(r * n / batch_size))
        if i < len(boundaries) and boundaries[i] > starts[-1]:
            starts.append(int(boundaries[i]))
    ends = starts[1:] + [n]
    m = max(end - start for start, end in zip(starts, ends))
    ids = np.zeros((batch_size, m), np.int32)
    targets = np.zeros((batch_size, m), np.int32)
    weights = np.zeros((batch_size, m), np.float32)
    for row, (start, end) in enumerate(zip(starts, ends)):
        ids[row, : end - start] = stream[start:end]
        targets[row, : end - start] = stream[start + 1 : end + 1]
        weights[row, : end - start] = 1.0
    for start in range(0, m, seq_len):
        end = min(start + seq_len, m)
        yield ids[:, start:end], targets[:, start:end], weights[:, start:end]


def perplexity_of_stream(network, stream, *, batch_size: int = 64, seq_len: int = 100, progress: bool = False, desc: str = "perplexity"):
    """Cross-entropy and perplexity of one token stream, scored as :func:`stream_windows` cuts it.

    The LSTM state carries from each window to the next of the same row and starts at zero at the
    start of each row. Returns ``{"perplexity", "cross_entropy", "tokens"}`` (cross-entropy in nats
    per token).
    """
    import numpy as np
    import tensorflow as tf

    from zoo._progress import progress_bar

    step = stateful_step(network)
    parts, layers = network_parts(network)
    units = [parts[f"lstm_{i}"].units for i in range(1, layers + 1)]
    states = [tf.zeros((batch_size, u)) for u in units for _ in range(2)]
    total, count = 0.0, 0.0
    windows = list(stream_windows(stream, batch_size=batch_size, seq_len=seq_len))
    with progress_bar(total=len(windows), desc=desc, unit="window", enabled=progress) as bar:
        for ids, targets, weights in windows:
            nll, n, states = step(tf.constant(ids), tf.constant(targets), tf.constant(weights), states)
            total += float(nll)
            count += float(n)
            bar.update(1)
    cross_entropy = total / max(count, 1.0)
    return {"perplexity": float(np.exp(cross_entropy)), "cross_entropy": cross_entropy, "tokens": int(count)}


def encode_reviews(model, texts, *, batch_size: int = 512):
    """Token ids of each text with the model's own preprocessing (no ``<eos>``), as a list of int32 arrays."""
    import keras
    import numpy as np
    import tensorflow as tf

    to_ids = keras.Model(model.input, model.get_layer("vectorize").output)
    out = []
    for start in range(0, len(texts), batch_size):
        ids = np.asarray(to_ids(tf.constant(texts[start : start + batch_size])), dtype=np.int32)
        out.extend(row[row != PAD_ID] for row in ids)
    return out


def join_reviews(reviews):
    """One int32 array: ``<eos> review_1 <eos> review_2 <eos> ... review_n <eos>``."""
    import numpy as np

    eos = np.array([EOS_ID], np.int32)
    return np.concatenate([eos] + [part for ids in reviews for part in (np.asarray(ids, np.int32), eos)])


def evaluate(model, *, split: str = "test", limit: int | None = None, batch_size: int = 64, seq_len: int = 100, progress: bool = True):
    """Perplexity of a language model on an IMDB split: the figure written on the card.

    How it is counted: each review is tokenized by the model's own preprocessing (``standardize``
    and ``vectorize``; words outside the vocabulary are ``[UNK]``, id 1, and count as tokens); the
    reviews, in the split's order (``zoo.data.imdb.load``), are joined into one stream as
    ``<eos> r1 <eos> r2 <eos> ... rn <eos>``. Every token after the leading ``<eos>`` is predicted
    once, words, ``[UNK]`` and each review's closing ``<eos>`` alike. The stream is cut into
    ``batch_size`` contiguous rows, each read left to right in windows of ``seq_len`` tokens with
    the LSTM state carried across windows (and across review boundaries within a row); each row
    starts from a zero state at a review boundary (:func:`stream_windows`).
    Perplexity is ``exp(total cross-entropy / tokens)`` with the full softmax, dropout off.

    Args:
        model: the full model (text input, from :func:`build_language_model`) or a saved one.
        split: an IMDB split; the card uses ``"test"`` (25,000 reviews, 5,773,972 tokens scored).
        limit: score only the first ``limit`` reviews of the split.

    Returns:
        ``{"perplexity", "cross_entropy", "tokens", "oov_rate", "n"}``, ``n`` being the reviews scored.
    """
    import numpy as np

    from zoo.data import imdb

    reviews = imdb.load(split, limit=limit)
    encoded = encode_reviews(model, reviews.texts)
    stream = join_reviews(encoded)
    result = perplexity_of_stream(model, stream, batch_size=batch_size, seq_len=seq_len, progress=progress, desc=f"eval {split}")
    oov = float(np.mean(stream[1:] == OOV_ID)) if len(stream) > 1 else 0.0
    return {
        "perplexity": round(result["perplexity"], 2),
        "cross_entropy": round(result["cross_entropy"], 4),
        "tokens": result["tokens"],
        "oov_rate": round(oov, 4),
        "n": len(reviews),
    }
