"""Recurrent forecasters: ``L`` rows of a multivariate series in, the next ``H`` rows out, in original units.

Every forecaster holds its scaler (the train rows' mean and standard deviation per channel, layer
``scaler``) and its inverse for the forecast channels (``unscaler``), so it takes and gives original units.
Between them, one of two networks:

- ``"lstm"`` / ``"gru"``: the textbook encoder. A recurrent layer reads the window one time step at a time,
  all channels together; its last state goes through a dense layer to all ``H x channels`` outputs at
  once (a direct multi-horizon head, no feedback of forecasts).
- ``"segrnn"``: SegRNN (Lin et al. 2023). Each channel is a separate series (channel independence, one
  set of weights for all). The window is cut into segments of ``segment_length`` steps, each embedded by a
  dense layer; a GRU reads the segments, so it takes ``L / segment_length`` steps, not ``L``. Decoding is
  parallel: from the final state, the same GRU takes one step on a learned query per output segment
  (position and channel embeddings), and a dense layer turns each resulting state into that segment's
  values.

An ensemble (``ensemble=K``) holds ``K`` such networks, built alike and trained apart (other seeds), as
sub-models ``member_0`` ... ``member_<K-1>`` of one model whose forecast is their average (a Keras
``Average`` layer): one ``.keras`` file, one forward pass, the same inputs and outputs as a single network.
With ``member_lengths`` the members read histories of different lengths (N-BEATS ensembles over several
lookbacks): the model takes the longest, and each member the last ``member_lengths[i]`` rows of it.

Per-window normalization (``normalization``): ``"last"`` subtracts each window's last value per column
(SegRNN's own) and adds it back to the forecast; ``"revin"`` does the same with the window's mean and
standard deviation (reversible instance normalization, Kim et al. 2022). With ``level_input`` the network
also gets the train-scaled window itself, so it sees the window's level (what long forecasts revert to)
besides its shape. ``highway`` adds a linear map from the last rows to the forecast (LSTNet's highway);
frozen (``highway_trainable=False``), it is fit first in closed form and the network learns the residual.

Example:
    >>> import zoo
    >>> model = zoo.build("etth1-segrnn-h96")
    >>> model(np.zeros((2, 336, 7), "float32")).shape
    TensorShape([2, 96, 7])
"""

from __future__ import annotations

ARCHITECTURES = ("lstm", "gru", "segrnn")
MEMBER_PREFIX = "member_"  # an ensemble's networks: member_0, member_1, ...
NORMALIZATIONS = ("none", "revin", "last")
HIGHWAY_INPUTS = ("scaled", "normalized")


def build_forecaster(
    *,
    architecture: str,
    input_length: int,
    horizon: int,
    channels: int,
    targets: list[int] | None = None,
    units: int = 64,
    num_layers: int = 1,
    segment_length: int = 24,
    normalization: str = "none",
    level_input: bool = False,
    highway: int = 0,
    highway_trainable: bool = True,
    highway_input: str = "scaled",
    dropout: float = 0.1,
    mean: list[float] | None = None,
    scale: list[float] | None = None,
    ensemble: int = 1,
    member_lengths: list[int] | None = None,
    name: str = "forecaster",
):
    """Builds an untrained forecaster: float32 ``[batch, input_length, channels]`` in original units to
    ``[batch, horizon, len(targets)]``.

    Args:
        architecture: ``"lstm"``, ``"gru"`` (time-step encoders, channels mixed) or ``"segrnn"``.
        input_length: L, the rows of history the model reads.
        horizon: H, the rows it forecasts.
        channels: the columns of each row (model inputs).
        targets: indices of the forecast columns among the inputs; None forecasts every column.
        units: recurrent units (and SegRNN's segment embedding width).
        num_layers: stacked recurrent layers (``lstm``/``gru`` only).
        segment_length: SegRNN's segment length; ``input_length`` and ``horizon`` must be multiples of it.
        normalization: ``"none"``, ``"revin"`` (each window's mean and std per channel) or ``"last"`` (its
            last value) taken out before the network and put back on the forecast.
        level_input: with a normalization, also give the network the scaled window itself, so it sees the
            window's level (for mean reversion) besides its shape.
        highway: when positive, a linear map from the last ``highway`` rows of the train-scaled window (every
            column; for ``segrnn`` each column on its own, as DLinear) to the forecast is added to the network's
            output (LSTNet's autoregressive highway, Lai et al. 2018): the recurrent part then learns what a
            linear model misses.
        highway_trainable: False freezes the highway; the recipe then fits it first, in closed form (ridge
            regression on the train windows), and the network learns the residual.
        highway_input: what the highway reads: ``"scaled"``, the train-scaled window with its level, or
            ``"normalized"``, the window after the instance normalization, as the network reads it (with
            ``"last"``, NLinear's level-free map: the last value out of its input and back on its output).
        dropout: before the output layer.
        mean, scale: the scaler's statistics per input column; when None, set them before training with
            `set_scaler` (the recipes fit them on the train rows).
        ensemble: K > 1 builds K such networks (sub-models ``member_<i>``) whose forecasts are averaged.
        member_lengths: with an ensemble, the rows of history each member reads (K values, each at most
            ``input_length``; the model takes ``input_length`` rows); None: all of them, for every member.
        name: the model's name.
    """
    network = {key: value for key, value in locals().items() if key not in ("ensemble", "member_lengths", "name")}
    import keras
    from keras import layers

    if isinstance(ensemble, bool) or not isinstance(ensemble, int) or ensemble < 1:
        raise ValueError(f"ensemble must be a positive number of networks, got {ensemble!r}.")
    lengths = ensemble_lengths(input_length, ensemble, member_lengths)
    if ensemble == 1 and lengths != [input_length]:
        raise ValueError(f"member_lengths goes with an ensemble; one network reads input_length = {input_length} rows, "
                         f"got member_lengths={member_lengths!r}.")
    if ensemble > 1:
        history = keras.Input(shape=(input_length, channels), dtype="float32", name="history")
        forecasts = []
        for i, length in enumerate(lengths):
            member = build_forecaster(**{**network, "input_length": length}, name=f"{MEMBER_PREFIX}{i}")
            recent = history if length == input_length else layers.Cropping1D(
                (input_length - length, 0), name=f"last_{length}_rows_{i}")(history)
            forecasts.append(member(recent))
        forecast = layers.Average(name="average")(forecasts)
        return keras.Model(history, forecast, name=name)

    from zoo.layers.forecasting import (FromSegments, InstanceDenormalization, InstanceNormalization, Scaler,
                                        SegmentQueries, SelectChannels, ToSegments)

    if architecture not in ARCHITECTURES:
        raise ValueError(f"architecture must be one of {ARCHITECTURES}, got {architecture!r}.")
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {NORMALIZATIONS}, got {normalization!r}.")
    targets = list(range(channels)) if targets is None else [int(t) for t in targets]
    if not targets or min(targets) < 0 or max(targets) >= channels:
        raise ValueError(f"targets must be column indices in [0, {channels}), got {targets}.")
    outputs = len(targets)

    # === Scaling: original units -> the train rows' z-scores ===
    history = keras.Input(shape=(input_length, channels), dtype="float32", name="history")
    scaled = Scaler(channels, mean=mean, scale=scale, name="scaler")(history)
    x = scaled
    if normalization != "none":
        x, level, spread = InstanceNormalization(normalization, name="instance_norm")(scaled)
    elif level_input:
        raise ValueError("level_input goes with a normalization ('revin' or 'last'); without one the level is the input.")

    # === Network: scaled window -> scaled forecast [batch, horizon, outputs] ===
    if highway and not 0 < highway <= input_length:
        raise ValueError(f"highway must be in [1, input_length = {input_length}], got {highway}.")
    if highway_input not in HIGHWAY_INPUTS:
        raise ValueError(f"highway_input must be one of {HIGHWAY_INPUTS}, got {highway_input!r}.")
    if highway and highway_input == "normalized" and normalization == "none":
        raise ValueError("highway_input='normalized' reads the instance-normalized window; give a normalization "
                         "('revin' or 'last'), got 'none'.")
    if architecture == "segrnn":
        if outputs != channels:
            raise ValueError("segrnn forecasts every input column (channel independence); give targets=None.")
        for what, value in (("input_length", input_length), ("horizon", horizon)):
            if value % segment_length:
                raise ValueError(f"{what} {value} is not a multiple of segment_length {segment_length}.")
        segments = ToSegments(segment_length, name="segments")(x)
        if level_input:
            levels = ToSegments(segment_length, name="level_segments")(scaled)
            segments = layers.Concatenate(name="segments_and_levels")([segments, levels])
        embedded = layers.Dense(units, activation="relu", name="segment_embedding")(segments)
        gru = layers.GRU(units, return_state=True, name="gru")
        _, state = gru(embedded)
        queries, states = SegmentQueries(channels, horizon // segment_length, units, name="queries")(state)
        _, decoded = gru(queries, initial_state=states)  # the same GRU: one step per output segment, in parallel
        decoded = layers.Dropout(dropout, name="dropout")(decoded)
        y = layers.Dense(segment_length, name="head")(decoded)
        y = FromSegments(channels, horizon, name="merge_segments")(y)
    else:
        rnn_class = layers.LSTM if architecture == "lstm" else layers.GRU
        h = layers.Concatenate(name="window_and_levels")([x, scaled]) if level_input else x
        for i in range(num_layers):
            last = i == num_layers - 1
            h = rnn_class(units, return_sequences=not last, name=architecture if last else f"{architecture}_{i + 1}")(h)
        h = layers.Dropout(dropout, name="dropout")(h)
        y = layers.Dense(horizon * outputs, name="head")(h)  # flat [batch, H * outputs]; shaped after the highway

    if highway:  # a linear map from the recent rows (train-scaled, or as the network reads them), beside the network
        recent = layers.Cropping1D((input_length - highway, 0), name="highway_rows")(
            x if highway_input == "normalized" else scaled)
        if architecture == "segrnn":  # channel-independent, like the network: one map from a column's rows to its future
            rows = layers.Flatten(name="highway_flat")(ToSegments(highway, name="highway_columns")(recent))
            linear = layers.Dense(horizon, name="highway", trainable=highway_trainable)(rows)
            linear = FromSegments(channels, horizon, name="highway_steps")(linear)
        else:  # added while flat: the TFLite converter fails on an Add between two reshaped dense outputs
            linear = layers.Dense(horizon * outputs, name="highway", trainable=highway_trainable)(
                layers.Flatten(name="highway_flat")(recent))
        y = layers.Add(name="network_plus_highway")([y, linear])
    if architecture != "segrnn":
        y = layers.Reshape((horizon, outputs), name="forecast_steps")(y)

    # === Back to original units ===
    if normalization != "none":
        if outputs != channels:
            level = SelectChannels(targets, name="level_targets")(level)
            spread = SelectChannels(targets, name="spread_targets")(spread)
        y = InstanceDenormalization(name="instance_denorm")([y, level, spread])
    forecast = Scaler(outputs, inverse=True, name="unscaler", columns=None if targets == list(range(channels)) else targets,
                      mean=None if mean is None else [mean[t] for t in targets],
                      scale=None if scale is None else [scale[t] for t in targets])(y)
    return keras.Model(history, forecast, name=name)


def ensemble_lengths(input_length: int, ensemble: int, member_lengths=None) -> list[int]:
    """The rows of history each of an ensemble's ``ensemble`` members reads (checked).

    Example:
        >>> ensemble_lengths(720, 4, [336, 336, 720, 720])
        [336, 336, 720, 720]
    """
    if member_lengths is None:
        return [input_length] * ensemble
    lengths = list(member_lengths) if isinstance(member_lengths, (list, tuple)) else None
    if (lengths is None or len(lengths) != ensemble
            or not all(isinstance(n, int) and not isinstance(n, bool) and 0 < n <= input_length for n in lengths)):
        raise ValueError(f"member_lengths must give {ensemble} whole numbers in [1, input_length = {input_length}] "
                         f"(one per ensemble member), got {member_lengths!r}.")
    return lengths


def set_scaler(model, mean, scale) -> None:
    """Sets the model's scaler (inputs) and unscaler (forecast columns) from per-column statistics.

    Example:
        >>> set_scaler(model, *zoo.data.ett.scaler())   # the train rows' mean and standard deviation
    """
    import numpy as np

    mean, scale = np.asarray(mean, "float64"), np.asarray(scale, "float64")
    targets = forecast_columns(model)
    for network in members(model):
        network.get_layer("scaler").set_statistics(mean, scale)
        network.get_layer("unscaler").set_statistics(mean[targets], scale[targets])


def members(model) -> list:
    """The networks of a forecaster: an ensemble's ``member_<i>`` sub-models, in order, or ``[model]``.

    Example:
        >>> [m.name for m in members(zoo.build("etth1-segrnn-h192", ensemble=3))]
        ['member_0', 'member_1', 'member_2']
    """
    inner = [layer for layer in model.layers if layer.name.startswith(MEMBER_PREFIX) and hasattr(layer, "layers")]
    return sorted(inner, key=lambda layer: int(layer.name[len(MEMBER_PREFIX):])) or [model]


def network_layer(model, name: str):
    """The layer ``name`` of a forecaster's (first) network: ``scaler``, ``unscaler``... Every member of an
    ensemble holds the same scaler and unscaler."""
    return members(model)[0].get_layer(name)


def forecast_columns(model) -> list[int]:
    """Indices of the forecast columns among the model's inputs (the ``unscaler``'s ``columns``)."""
    unscaler = network_layer(model, "unscaler")
    return list(range(unscaler.channels)) if unscaler.columns is None else list(unscaler.columns)


def shapes(model) -> tuple[int, int, int, int]:
    """``(input_length, channels, horizon, outputs)`` of a forecaster."""
    _, length, channels = model.input_shape
    _, horizon, outputs = model.output_shape
    return int(length), int(channels), int(horizon), int(outputs)
