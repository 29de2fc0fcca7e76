"""The character language model's Keras model: raw text in, the next character's logits at every position out.

Characters are looked up inside the model (a built-in ``TextVectorization`` that splits into characters:
id 0 is padding, 1 an unknown character, ``2 + i`` the vocabulary's character ``i``), so a checkpoint
takes strings and holds its own alphabet. An embedding, stacked LSTMs (each followed by dropout) and a
dense layer give, at position ``i``, the logits of character ``i + 1``. The model is causal: padding
after a row never changes its outputs.

Example:
    >>> import zoo
    >>> model = zoo.build("shakespeare-char-lstm", units=16, embedding_dim=8)
    >>> model(tf.constant(["ROMEO:"])).shape          # 6 positions, padding + unknown + 65 characters
    TensorShape([1, 6, 67])
"""

from __future__ import annotations

from zoo.decoding import SpecialTokens

PAD_ID, UNK_ID = 0, 1
# Start and end markers are ids past every vocabulary: nothing is ever written as them (the length bound
# ends a text), and the step feeds the prompt's last character in place of the start marker.
TOKENS = SpecialTokens(pad=PAD_ID, unk=UNK_ID, start=1_000_000, end=1_000_001)


def build_char_language_model(
    *,
    characters: str | list[str] | None = None,
    max_chars: int = 128,
    embedding_dim: int = 64,
    units: int = 512,
    layers: int = 2,
    dropout: float = 0.2,
    cache_size: int = 0,
    cache_theta: float = 25.0,
    cache_mix: float = 0.15,
    name: str = "char_language_model",
):
    """Builds an untrained character language model (string in, logits ``(batch, chars, vocabulary)`` out).

    Args:
        characters: the alphabet (distinct characters); ids are ``2 + position``. When None the
            ``characters`` layer must be given a vocabulary before use and the output is ``max_chars`` wide.
        max_chars: the vocabulary size (with padding and unknown) when ``characters`` is None.
        embedding_dim: width of the character embeddings.
        units: LSTM units per layer.
        layers: stacked LSTM layers.
        dropout: dropout after the embedding and after each LSTM layer (training only).
        cache_size: with N > 0, the output mixes in a continuous cache of the last N positions
            (`zoo.layers.language_model.ContinuousCache`; its ``theta`` and ``mix`` start at ``cache_theta``
            and ``cache_mix`` and are fitted on validation text, `evaluation.fit_cache`). 0: no cache.
        name: the model's name.

    The model holds two named parts: ``characters`` (text -> ids) and ``network`` (a nested model from ids
    ``(batch, time)`` int32 to logits, the part that is trained, stepped when generating and exported to TFLite).
    """
    import keras

    if characters is not None:
        characters = list(characters)
        if not characters or len(set(characters)) != len(characters) or any(len(c) != 1 for c in characters):
            raise ValueError(f"characters must be distinct single characters, got {characters!r:.80}.")
    text = keras.Input(shape=(), dtype="string", name="text")
    to_ids = keras.layers.TextVectorization(
        max_tokens=None if characters is not None else max_chars, standardize=None, split="character",
        output_mode="int", vocabulary=characters, name="characters")
    vocab_size = len(characters) + 2 if characters is not None else max_chars
    network = build_network(vocab_size=vocab_size, embedding_dim=embedding_dim, units=units, layers=layers,
                            dropout=dropout, cache_size=cache_size, cache_theta=cache_theta, cache_mix=cache_mix)
    return keras.Model(text, network(to_ids(text)), name=name)


def build_network(*, vocab_size: int, embedding_dim: int, units: int, layers: int, dropout: float,
                  stateful_batch: int | None = None, cache_size: int = 0, cache_theta: float = 25.0,
                  cache_mix: float = 0.15):
    """Ids ``(batch, time)`` int32 -> logits ``(batch, time, vocab_size)``: embedding, ``lstm_1..n``, ``logits``
    (and with ``cache_size`` a ``cache`` after them: its log-probabilities are the logits then).

    The LSTMs also return their final states (unused by the model), so `forward` can carry the state from
    one stretch of text to the next. With ``stateful_batch`` the batch is fixed at that many rows and each
    LSTM keeps its state from one call to the next (Keras ``stateful=True``; ``reset_states()`` zeroes it):
    the training network of truncated backpropagation through time. Its weights are those of the
    ordinary network, layer for layer, so either loads the other's weights file.
    """
    import keras
    from keras import layers as kl

    if layers < 1:
        raise ValueError(f"layers must be at least 1, got {layers}.")
    if stateful_batch is not None and (isinstance(stateful_batch, bool) or not isinstance(stateful_batch, int)
                                       or stateful_batch < 1):
        raise ValueError(f"stateful_batch must be a positive number of rows or None, got {stateful_batch!r}.")
    if isinstance(cache_size, bool) or not isinstance(cache_size, int) or cache_size < 0:
        raise ValueError(f"cache_size must be a whole number of positions >= 0, got {cache_size!r}.")
    ids = keras.Input(batch_shape=(stateful_batch, None), dtype="int32", name="char_ids")
    x = kl.Embedding(vocab_size, embedding_dim, name="embedding")(ids)
    x = kl.Dropout(dropout, name="embedding_dropout")(x)
    for i in range(1, layers + 1):
        top, _, _ = kl.LSTM(units, return_sequences=True, return_state=True, stateful=stateful_batch is not None,
                            name=f"lstm_{i}")(x)
        x = kl.Dropout(dropout, name=f"dropout_{i}")(top)
    logits = kl.Dense(vocab_size, name="logits")(x)
    if cache_size:  # (the network alone while training: the cache layer passes the log-softmax through then)
        from zoo.layers.language_model import ContinuousCache

        logits = ContinuousCache(cache_size, theta=cache_theta, mix=cache_mix, name="cache")([logits, top, ids])
    return keras.Model(ids, logits, name="network")


def alphabet(model) -> list[str]:
    """The model's characters in id order from id 2 (what ids ``2, 3, ...`` stand for)."""
    return [str(c) for c in model.get_layer("characters").get_vocabulary()[2:]]


def network_parts(model):
    """``(network, embedding, lstms, logits)`` of a full model (or of its network)."""
    network = model.get_layer("network") if any(layer.name == "network" for layer in model.layers) else model
    lstms = sorted((layer for layer in network.layers if layer.name.startswith("lstm_")), key=lambda l: int(l.name[5:]))
    return network, network.get_layer("embedding"), lstms, network.get_layer("logits")


def cache_part(model):
    """The model's `ContinuousCache` layer, or None when it has none."""
    network = network_parts(model)[0]
    return network.get_layer("cache") if any(layer.name == "cache" for layer in network.layers) else None


def initial_states(model, batch: int) -> list:
    """`forward`'s states for ``batch`` texts not begun: zero LSTM states, then the cache's empty memory."""
    from keras import ops

    _, _, lstms, _ = network_parts(model)
    cache = cache_part(model)
    states = [ops.zeros((batch, lstm.units)) for lstm in lstms for _ in range(2)]
    return states + ([] if cache is None else list(cache.empty_memory(batch, lstms[-1].units)))


def scale_logits(model, factor: float) -> None:
    """Multiplies every logit the model gives by ``factor`` (in place: the ``logits`` layer's kernel and bias).

    With ``factor = 1 / T`` the model's softmax is the old one at temperature ``T``; nothing else changes.
    """
    if not factor > 0:
        raise ValueError(f"factor must be positive, got {factor!r}.")
    _, _, _, logits = network_parts(model)
    logits.set_weights([w * factor for w in logits.get_weights()])


def forward(model, ids, states=None, *, hidden: bool = False, network_only: bool = False):
    """Logits for ids ``(batch, time)`` read from ``states`` (``[h1, c1, h2, c2, ...]``, then the cache's memory
    when the model has a cache; None: a text not begun), and the new states. With ``hidden`` also the top
    LSTM's outputs ``(batch, time, units)``; with ``network_only`` the network's own logits and LSTM states,
    the cache left out.

    No dropout.
    """
    _, embedding, lstms, logits = network_parts(model)
    cache = None if network_only else cache_part(model)
    x, new_states = embedding(ids), []
    for i, lstm in enumerate(lstms):
        initial = None if states is None else [states[2 * i], states[2 * i + 1]]
        x, h, c = lstm(x, initial_state=initial, training=False)
        new_states += [h, c]
    top, out = x, logits(x)
    if cache is not None:
        memory = cache.empty_memory(ids.shape[0], lstms[-1].units) if states is None else states[2 * len(lstms) :]
        out, memory = cache([out, top, ids], memory=tuple(memory))
        new_states += list(memory)
    return (out, new_states, top) if hidden else (out, new_states)
