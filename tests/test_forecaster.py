"""Forecasters: the ETTh1 protocol (split borders, window counts, train-only scaler, the published repeat
figures), the PM2.5 protocol, the pipeline (units, inputs, errors, backtest, plot, CLI), exports without zoo,
each checkpoint on a fixed slice of its test windows against its card, and the recipe's smoke run."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import zoo
import zoo.models.forecaster  # noqa: F401
from zoo._registry import get_spec

ETT_MODELS = zoo.list_models("etth1-*")
ALL_MODELS = ETT_MODELS + zoo.list_models("beijing-pm25-*")
# Published test figures of repeating the last value on this protocol (LTSF-Linear, Table 2), MSE / MAE.
PUBLISHED_REPEAT = {96: (1.295, 0.713), 192: (1.325, 0.733), 336: (1.323, 0.744), 720: (1.339, 0.756)}
LSTMA_MSE = {336: 1.424, 720: 1.960}  # Informer's LSTMa, Table (multivariate ETTh1)
SEGRNN_L = get_spec("etth1-segrnn-h96").builder_args["input_length"]  # the model the pipeline tests use


@pytest.fixture(scope="module")
def recipe(load_recipe):
    """recipes/train_forecaster.py as a module."""
    return load_recipe("train_forecaster.py")


# === ETTh1 protocol ===


@pytest.mark.parametrize("length", [96, 336, 720])
def test_ett_splits_follow_the_reference_borders_and_drop_no_window(data_dir, length):
    from zoo.data import ett

    assert ett.split_rows("train", length) == (0, 8640)
    assert ett.split_rows("validation", length) == (8640 - length, 11520)
    assert ett.split_rows("test", length) == (11520 - length, 14400)
    for horizon in ett.HORIZONS:
        assert ett.num_windows("test", length, horizon) == ett.num_windows("validation", length, horizon) == 2881 - horizon
        assert ett.num_windows("train", length, horizon) == 8640 - length - horizon + 1
    test = ett.windows("test", input_length=length, horizon=720)
    values = ett.load().values
    assert len(test) == 2161 and test.starts[0] == 11520 and test.starts[-1] + 720 == 14400
    np.testing.assert_array_equal(test.inputs[0], values[11520 - length:11520].astype(np.float32))
    np.testing.assert_array_equal(test.targets[-1], values[14400 - 720:14400].astype(np.float32))
    assert str(test.timestamps[11520]) == "2017-10-24T00:00:00"


def test_ett_scaler_is_fit_on_the_train_rows_only(data_dir):
    from zoo.data import ett

    values = ett.load().values
    mean, scale = ett.scaler()
    np.testing.assert_allclose(mean, values[:8640].mean(axis=0))
    np.testing.assert_allclose(scale, values[:8640].std(axis=0))  # population std, as sklearn's StandardScaler
    assert not np.allclose(mean, values[:14400].mean(axis=0))


@pytest.mark.parametrize("horizon", [96, 192, 336, 720])
def test_repeat_baseline_reproduces_the_published_figures_from_our_windows(data_dir, horizon):
    """A strong check of the windows and the scaling: the published repeat figures within 0.01."""
    from zoo.data import ett
    from zoo.models.forecaster.baselines import repeat_last
    from zoo.models.forecaster.evaluation import ett_scores

    windows = ett.windows("test", input_length=96, horizon=horizon)
    scores = ett_scores(repeat_last(windows.inputs, horizon), windows.targets, *ett.scaler())
    mse, mae = PUBLISHED_REPEAT[horizon]
    assert abs(scores["mse"] - mse) < 0.01 and abs(scores["mae"] - mae) < 0.01, scores


def test_linear_baseline_in_closed_form_recovers_a_linear_map():
    from zoo.models.forecaster.baselines import LinearForecaster, channel_samples, from_channel_samples

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 12))
    w = rng.normal(size=(12, 3))
    linear = LinearForecaster.fit(x, x @ w + 0.5)
    np.testing.assert_allclose(linear.predict(x), x @ w + 0.5, atol=1e-8)
    windows = rng.normal(size=(4, 10, 3))
    np.testing.assert_array_equal(from_channel_samples(channel_samples(windows), 3), windows)


# === PM2.5 protocol ===


def test_pm25_windows_split_by_year_forward_fill_and_drop_missing_targets(data_dir):
    from zoo.data import beijing_pm25 as pm

    table = pm.load()
    years = {split: pm.windows(split) for split in pm.SPLITS}
    for split, (first, last) in pm.YEARS.items():
        w = years[split]
        target_years = (w.timestamps[w.starts].astype("datetime64[Y]").astype(int) + 1970,
                        w.timestamps[w.starts + 23].astype("datetime64[Y]").astype(int) + 1970)
        assert target_years[0].min() >= first and target_years[1].max() <= last
        assert np.isfinite(w.targets).all() and np.isfinite(w.inputs).all()
        assert len(w) + w.dropped == len(pm.split_starts(split))
    test = years["test"]
    assert len(pm.split_starts("test")) == 8760 - 24 + 1 and test.dropped > 0
    pm25 = table.columns["pm2.5"]
    features = pm.feature_table()
    gap = int(np.flatnonzero(np.isnan(pm25[1000:]))[0]) + 1000  # a missing reading after the first ones
    assert features[gap, 1] == 1.0 and features[gap, 0] == features[gap - 1, 0]
    assert features[gap - 1, 1] == 0.0 or np.isnan(pm25[gap - 1])
    np.testing.assert_array_equal(test.targets[0], pm25[test.starts[0]: test.starts[0] + 24].astype(np.float32))
    mean, _ = pm.scaler()
    years_of_rows = table.timestamps.astype("datetime64[Y]").astype(int) + 1970
    np.testing.assert_allclose(mean, features[years_of_rows <= 2012].astype(np.float64).mean(axis=0), rtol=1e-6)


# === The shipped checkpoints ===


@pytest.mark.parametrize("name", ETT_MODELS)
def test_ett_cards_meet_their_bars(name):
    card = get_spec(name).card()["metrics"]
    horizon = int(name.rsplit("-h", 1)[1])
    assert card["n"] == 2881 - horizon
    assert card["mse"] < card["repeat_mse"], "below the repeat baseline on the same windows"
    assert abs(card["repeat_mse"] - PUBLISHED_REPEAT[horizon][0]) < 0.01
    if "-lstm-" in name and horizon in LSTMA_MSE:
        assert card["mse"] < LSTMA_MSE[horizon], "the LSTM must beat Informer's LSTMa"


DLINEAR_MSE = {96: 0.375, 192: 0.405, 336: 0.439, 720: 0.472}  # Zeng et al. 2023, L = 336: issue 11's bar


@pytest.mark.parametrize("horizon", [96, 192, 336, 720])
def test_the_flagship_is_below_dlinear(horizon):
    assert get_spec(f"etth1-segrnn-h{horizon}").card()["metrics"]["mse"] < DLINEAR_MSE[horizon]


def test_pm25_card_beats_all_three_baselines():
    card = get_spec("beijing-pm25-lstm").card()["metrics"]
    assert set(card["baselines"]) == {"persistence", "same_hour_yesterday", "ridge"}
    for name, baseline in card["baselines"].items():
        assert card["rmse"] < baseline["rmse"], f"not below {name}"
    assert card["n"] + card["windows_dropped"] == 8737


@pytest.mark.parametrize("name", ALL_MODELS)
def test_checkpoint_scaler_holds_the_train_statistics(name):
    from zoo.models.forecaster.model import forecast_columns, members

    model = zoo.load(name)
    data = __import__(f"zoo.data.{get_spec(name).dataset}", fromlist=["scaler"])
    mean, scale = data.scaler()
    columns = forecast_columns(model)
    for network in members(model):  # (every network of an ensemble)
        np.testing.assert_allclose(np.asarray(network.get_layer("scaler").mean), mean, rtol=1e-6)
        np.testing.assert_allclose(np.asarray(network.get_layer("scaler").scale), scale, rtol=1e-6)
        np.testing.assert_allclose(np.asarray(network.get_layer("unscaler").scale), scale[columns], rtol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("name", ALL_MODELS)
def test_checkpoint_scores_like_its_card_on_a_fixed_slice(name, data_dir):
    """Every 7th test window (a fixed slice spread over the whole split and, 7 being prime to 24, over every hour
    of the day, which a stride of 8 is not) scores within 1% of the card's full-split figure; the PM2.5 model
    scores its whole test split."""
    from zoo.models.forecaster.evaluation import ett_scores, forecast, pm25_scores
    from zoo.models.forecaster.model import shapes

    model = zoo.load(name)
    card = get_spec(name).card()["metrics"]
    if get_spec(name).dataset == "ett":
        from zoo.data import ett

        length, _, horizon, _ = shapes(model)
        windows = ett.windows("test", input_length=length, horizon=horizon)
        got = ett_scores(forecast(model, windows.inputs[::7]), windows.targets[::7], *ett.scaler())["mse"]
        expected = card["mse"]
    else:
        from zoo.data import beijing_pm25

        windows = beijing_pm25.windows("test")  # small and heavy-tailed: the whole split, to the card's 2 decimals
        got = pm25_scores(forecast(model, windows.inputs)[..., 0], windows.targets)["rmse"]
        assert got == card["rmse"], f"{name}: {got} on the test split, card says {card['rmse']}"
        return
    assert abs(got - expected) <= 0.01 * expected, f"{name}: {got:.4f} on the slice, card says {expected:.4f}"


# === Ensembles ===


def test_an_ensemble_averages_its_networks_in_one_safe_keras_file(tmp_path):
    """``ensemble=K``: K networks as sub-models ``member_<i>`` and a built-in Average layer (no Lambda), one
    ``.keras`` file that loads in safe mode; the scaler reaches every member; a bad size is refused."""
    import keras

    from zoo.models.forecaster.model import build_forecaster, forecast_columns, members, set_scaler

    tiny = dict(architecture="segrnn", input_length=48, horizon=24, channels=3, units=4, segment_length=12,
                normalization="last")
    model, single = build_forecaster(**tiny, ensemble=3, name="tiny"), build_forecaster(**tiny)
    assert [m.name for m in members(model)] == ["member_0", "member_1", "member_2"] and members(single) == [single]
    assert model.count_params() == 3 * single.count_params()
    set_scaler(model, [1.0, 2.0, 3.0], [0.5, 0.5, 2.0])
    for network in members(model):
        np.testing.assert_allclose(np.asarray(network.get_layer("scaler").mean), [1.0, 2.0, 3.0])
        np.testing.assert_allclose(np.asarray(network.get_layer("unscaler").scale), [0.5, 0.5, 2.0])
    assert forecast_columns(model) == [0, 1, 2]
    window = np.random.default_rng(0).normal(2.0, 1.0, (2, 48, 3)).astype(np.float32)
    average = np.mean([np.asarray(network(window)) for network in members(model)], axis=0)
    np.testing.assert_allclose(np.asarray(model(window)), average, atol=1e-6)
    model.save(tmp_path / "tiny.keras")
    loaded = keras.saving.load_model(tmp_path / "tiny.keras", compile=False, safe_mode=True)
    np.testing.assert_allclose(np.asarray(loaded(window)), average, atol=1e-6)
    kinds = {type(layer).__name__ for network in members(loaded) for layer in network.layers}
    assert "Lambda" not in kinds and type(loaded.get_layer("average")).__name__ == "Average"
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="ensemble must be a positive number"):
            build_forecaster(**tiny, ensemble=bad)


def test_an_ensemble_over_input_lengths_gives_each_member_the_last_rows_it_reads(tmp_path):
    """``member_lengths``: the model takes the longest history and each member reads only its last
    ``member_lengths[i]`` rows (built-in ``Cropping1D``, safe mode); bad lengths are refused clearly."""
    import keras

    from zoo.models.forecaster.model import build_forecaster, members

    tiny = dict(architecture="segrnn", input_length=48, horizon=24, channels=3, units=4, segment_length=12,
                normalization="last")
    model = build_forecaster(**tiny, ensemble=3, member_lengths=[24, 48, 24], name="tiny")
    assert model.input_shape == (None, 48, 3) and model.output_shape == (None, 24, 3)
    assert [network.input_shape[1] for network in members(model)] == [24, 48, 24]
    window = np.random.default_rng(1).normal(0.0, 1.0, (2, 48, 3)).astype(np.float32)
    window[:, :24] += 100.0  # rows that only the 48-row member may see
    average = np.mean([np.asarray(network(window[:, -network.input_shape[1]:])) for network in members(model)], axis=0)
    np.testing.assert_allclose(np.asarray(model(window)), average, atol=1e-5)
    model.save(tmp_path / "tiny.keras")
    loaded = keras.saving.load_model(tmp_path / "tiny.keras", compile=False, safe_mode=True)
    np.testing.assert_allclose(np.asarray(loaded(window)), average, atol=1e-5)
    for bad in ([24, 48], [24, 60, 24], [0, 24, 48], "24,48,24", [24.0, 48, 24]):
        with pytest.raises(ValueError, match="member_lengths must give 3 whole numbers in \\[1, input_length = 48\\]"):
            build_forecaster(**tiny, ensemble=3, member_lengths=bad)
    with pytest.raises(ValueError, match="member_lengths goes with an ensemble"):
        build_forecaster(**tiny, member_lengths=[24])


def test_a_highway_reading_the_normalized_window_is_level_free():
    """``highway_input="normalized"`` with ``normalization="last"``: network and highway both read the window
    minus its last value, so lifting a history by c lifts its forecast by exactly c; the default highway reads
    the scaled window, level and all, and does not. A normalized highway needs a normalization."""
    from zoo.models.forecaster.model import build_forecaster

    tiny = dict(architecture="segrnn", input_length=48, horizon=24, channels=3, units=4, segment_length=12,
                normalization="last", highway=24, mean=[1.0, 2.0, 3.0], scale=[0.5, 0.5, 2.0])
    window = np.random.default_rng(2).normal(2.0, 1.0, (2, 48, 3)).astype(np.float32)
    lift = np.float32([5.0, -3.0, 40.0])
    for highway_input, level_free in (("normalized", True), ("scaled", False)):
        model = build_forecaster(**tiny, highway_input=highway_input)
        moved = np.asarray(model(window + lift)) - np.asarray(model(window))
        assert np.allclose(moved, np.broadcast_to(lift, moved.shape), atol=1e-4) == level_free, highway_input
    with pytest.raises(ValueError, match="give a normalization"):
        build_forecaster(**{**tiny, "normalization": "none"}, highway_input="normalized")
    with pytest.raises(ValueError, match="highway_input must be one of"):
        build_forecaster(**tiny, highway_input="level")


def test_a_frozen_level_free_highway_is_the_closed_form_map_of_windows_minus_their_last_value(recipe):
    """The recipe's ``fit_highway`` for a highway reading the normalized window: the ridge map from each
    column's window minus its last value to its future minus that value, as `LinearForecaster` solves it."""
    from zoo.models.forecaster.baselines import LinearForecaster, channel_samples
    from zoo.models.forecaster.model import build_forecaster

    rng = np.random.default_rng(3)
    series = np.cumsum(rng.normal(0.0, 1.0, (400, 2)), axis=0).astype(np.float32) + [50.0, -20.0]
    mean, scale = series[:200].mean(axis=0), series[:200].std(axis=0)
    starts = {"train": np.arange(48, 200), "validation": np.arange(224, 300)}
    model = build_forecaster(architecture="segrnn", input_length=48, horizon=24, channels=2, units=4, segment_length=12,
                             normalization="last", highway=48, highway_trainable=False, highway_input="normalized",
                             mean=mean.tolist(), scale=scale.tolist())
    ridge = recipe.fit_highway(model, series, starts, mean, scale, "last", "normalized")

    scaled = lambda rows: (series[starts["train"][:, None] + np.arange(*rows)] - mean) / scale  # noqa: E731
    x, y = scaled((-48, 0)), scaled((0, 24))
    x, y = x - x[:, -1:], y - x[:, -1:]
    expected = LinearForecaster.solve(*LinearForecaster.moments(channel_samples(x), channel_samples(y)), ridge=ridge)
    kernel, bias = model.get_layer("highway").get_weights()
    np.testing.assert_allclose(kernel, expected.weights[:-1], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bias, expected.weights[-1], rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="normalization 'none' or 'last'"):
        recipe.fit_highway(model, series, starts, mean, scale, "revin", "normalized")


def test_recipe_options_that_repeat_the_registered_architecture_change_nothing(recipe):
    """Only options that differ from the registered builder arguments count as an architecture change (which
    asks for --validation-only)."""
    registered = get_spec("etth1-segrnn-h96").builder_args

    def overrides(*options):
        return recipe.architecture_overrides(recipe.parse_args(["etth1-segrnn-h96", *options, "--validation-only"]), registered)

    assert overrides("--input-length", str(registered["input_length"]), "--ensemble", "1", "--units",
                     str(registered["units"])) == {}
    assert overrides("--input-length", "720", "--member-lengths", "336,720", "--ensemble", "2") == {
        "input_length": 720, "member_lengths": [336, 720], "ensemble": 2}
    assert overrides("--highway", "336", "--frozen-highway", "--highway-input", "normalized") == {
        "highway": 336, "highway_trainable": False, "highway_input": "normalized"}
    with pytest.raises(SystemExit):
        recipe.parse_args(["etth1-segrnn-h96", "--member-lengths", "336,seven"])


# === Pipeline ===


@pytest.fixture(scope="module")
def segrnn():
    return zoo.pipeline("etth1-segrnn-h96")


@pytest.fixture(scope="module")
def test_window(data_dir):
    from zoo.data import ett

    windows = ett.windows("test", input_length=SEGRNN_L, horizon=96, limit=3)
    return windows


def test_pipeline_takes_and_gives_original_units(segrnn, test_window):
    from zoo.models.forecaster.evaluation import forecast

    one = segrnn(test_window.inputs[0])
    batch = segrnn(test_window.inputs)
    assert one.shape == (96, 7) and batch.shape == (3, 96, 7)
    np.testing.assert_allclose(batch[0], one, atol=1e-5)
    np.testing.assert_allclose(batch, forecast(segrnn.model, test_window.inputs), atol=1e-5)
    # Original units: the oil temperature forecast sits near the window's own level (°C), not near 0.
    assert abs(one[:, -1].mean() - test_window.inputs[0][-96:, -1].mean()) < 10
    longer = np.concatenate([np.zeros((50, 7), np.float32), test_window.inputs[0]])
    np.testing.assert_allclose(segrnn(longer), one, atol=1e-5)  # only the last L rows are read
    assert segrnn.targets == segrnn.columns == ("HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT")


def _write_csv(path, timestamps, values, columns=("HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT")):
    with open(path, "w") as f:
        f.write(",".join(("date", *columns)) + "\n")
        for t, row in zip(timestamps, values):
            f.write(",".join([str(t).replace("T", " "), *(repr(float(v)) for v in row)]) + "\n")


def test_pipeline_reads_a_csv_and_dates_the_forecast(segrnn, test_window, tmp_path):
    path = tmp_path / "history.csv"
    start = int(test_window.starts[0])
    _write_csv(path, test_window.timestamps[start - SEGRNN_L:start], test_window.inputs[0])
    result = segrnn(str(path))
    np.testing.assert_allclose(result.values, segrnn(test_window.inputs[0]), atol=1e-4)
    assert str(result.timestamps[0]) == "2017-10-24T00:00:00" and str(result.timestamps[-1]) == "2017-10-27T23:00:00"
    lines = result.to_csv().splitlines()
    assert lines[0] == "date,HUFL,HULL,MUFL,MULL,LUFL,LULL,OT" and lines[1].startswith("2017-10-24 00:00:00,")
    assert len(lines) == 97


def test_cli_predict_prints_the_forecast_as_csv(segrnn, test_window, tmp_path, capsys):
    from zoo import cli

    path = tmp_path / "history.csv"
    start = int(test_window.starts[0])
    _write_csv(path, test_window.timestamps[start - SEGRNN_L:start], test_window.inputs[0])
    assert cli.main(["predict", "etth1-segrnn-h96", str(path)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "date,HUFL,HULL,MUFL,MULL,LUFL,LULL,OT" and len(lines) == 97
    first = np.array([float(v) for v in lines[1].split(",")[1:]])
    np.testing.assert_allclose(first, segrnn(test_window.inputs[0])[0], atol=1e-3)
    # as the README shows it: --plot draws the forecast too; a forecaster refuses another family's option
    assert cli.main(["predict", "etth1-segrnn-h96", str(path), "--plot", str(tmp_path / "f.png")]) == 0
    assert (tmp_path / "f.png").stat().st_size > 0
    assert cli.main(["predict", "etth1-segrnn-h96", str(path), "--seed-chorale", "0"]) == 2
    assert "does not take --seed-chorale" in capsys.readouterr().err


@pytest.mark.parametrize("bad, error, match", [
    (None, TypeError, "got None"),
    (np.zeros((0, 7)), ValueError, "empty"),
    (np.zeros((SEGRNN_L - 1, 7)), ValueError, f"{SEGRNN_L - 1} rows.*L = {SEGRNN_L}"),
    (np.zeros((SEGRNN_L, 6)), ValueError, "Expected 7 columns"),
    (np.zeros(7), ValueError, "shape"),
    (np.array([["a"] * 7] * SEGRNN_L), TypeError, "numeric"),
])
def test_pipeline_rejects_bad_histories_clearly(segrnn, bad, error, match):
    with pytest.raises(error, match=match):
        segrnn(bad)


def test_pipeline_says_where_a_nan_or_inf_is(segrnn, test_window, tmp_path):
    history = np.array(test_window.inputs[0])
    history[300, 6] = np.nan
    with pytest.raises(ValueError, match="NaN at row 300, column 'OT'"):
        segrnn(history)
    history[300, 6] = np.inf
    with pytest.raises(ValueError, match="infinite value at row 300"):
        segrnn(history)
    path = tmp_path / "short.csv"
    _write_csv(path, np.arange(10).astype("datetime64[h]"), np.zeros((10, 7)))
    with pytest.raises(ValueError, match=f"10 rows.*L = {SEGRNN_L}"):
        segrnn(str(path))
    _write_csv(path, np.arange(SEGRNN_L).astype("datetime64[h]"), np.zeros((SEGRNN_L, 6)), columns=("a", "b", "c", "d", "e", "f"))
    with pytest.raises(ValueError, match="lacks the column"):
        segrnn(str(path))


def test_dataframes_in_dataframes_out(segrnn, test_window):
    pd = pytest.importorskip("pandas")
    start = int(test_window.starts[0])
    index = pd.DatetimeIndex(test_window.timestamps[start - SEGRNN_L:start], name="date")
    frame = pd.DataFrame(test_window.inputs[0], index=index, columns=list(segrnn.columns))
    out = segrnn(frame[list(reversed(segrnn.columns))])  # column order does not matter
    assert list(out.columns) == list(segrnn.targets) and len(out) == 96
    assert out.index[0] == pd.Timestamp("2017-10-24 00:00:00") and out.index.name == "date"
    np.testing.assert_allclose(out.to_numpy(), segrnn(test_window.inputs[0]), atol=1e-4)
    np.testing.assert_allclose(segrnn(frame.reset_index(drop=True)), segrnn(test_window.inputs[0]), atol=1e-5)
    with pytest.raises(ValueError, match="lacks column"):
        segrnn(frame.drop(columns=["OT"]))
    with pytest.raises(ValueError, match="empty"):
        segrnn(frame.iloc[:0])


def test_backtest_matches_the_evaluation_of_the_same_windows(segrnn, data_dir):
    from zoo.data import ett
    from zoo.models.forecaster.evaluation import ett_scores, forecast

    values = ett.load().values[11520 - SEGRNN_L: 11520 + 96 + 40].astype(np.float32)
    result = segrnn.backtest(values, stride=10)
    assert list(result["origins"]) == [SEGRNN_L + k for k in (0, 10, 20, 30, 40)]
    windows = ett.windows("test", input_length=SEGRNN_L, horizon=96, limit=41)
    expected = ett_scores(forecast(segrnn.model, windows.inputs[::10]), windows.targets[::10], *ett.scaler())
    assert abs(result["metrics"]["mse_normalized"] - expected["mse"]) < 1e-5
    assert abs(result["metrics"]["mse"] - expected["mse_original_units"]) < 1e-3
    with pytest.raises(ValueError, match=f"start must be at least L = {SEGRNN_L}"):
        segrnn.backtest(values, start=100)


def test_plot_draws_history_forecast_and_truth(segrnn, test_window, tmp_path):
    path = segrnn.plot(test_window.inputs[0], truth=test_window.targets[0], path=str(tmp_path / "f.png"))
    assert os.path.getsize(path) > 10_000


def test_pm25_pipeline_reads_the_uci_layout_with_missing_readings(data_dir, tmp_path):
    from zoo.data import beijing_pm25 as pm

    fc = zoo.pipeline("beijing-pm25-lstm")
    windows = pm.windows("test", limit=1)
    start = int(windows.starts[0])
    table = pm.load()
    path = tmp_path / "pm.csv"
    with open(path, "w") as f:
        f.write("year,month,day,hour,pm2.5,DEWP,TEMP,PRES,cbwd,Iws,Is,Ir\n")
        for row in range(start - 100, start):
            t = table.timestamps[row].astype(object)
            c = {k: v[row] for k, v in table.columns.items()}
            pm25 = "NA" if np.isnan(c["pm2.5"]) else c["pm2.5"]
            f.write(f"{t.year},{t.month},{t.day},{t.hour},{pm25},{c['DEWP']},{c['TEMP']},{c['PRES']},{c['cbwd']},"
                    f"{c['Iws']},{c['Is']},{c['Ir']}\n")
    result = fc(str(path))
    assert result.columns == ("pm2.5",) and result.values.shape == (24, 1)
    np.testing.assert_allclose(result.values, fc(windows.inputs[0]), atol=1e-3)
    assert result.timestamps[0] == table.timestamps[start]


# === Exports: parity without zoo ===


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    out = tmp_path_factory.mktemp("forecast_exports")
    return {fmt: zoo.export("etth1-segrnn-h96", str(out), format=fmt) for fmt in ("saved_model", "tflite")}


@pytest.mark.slow
def test_saved_model_forecast_signature_runs_without_zoo(exports, test_window):
    path = exports["saved_model"]
    script = (
        "import json, sys, numpy as np, tensorflow as tf\n"
        "x = np.asarray(json.load(sys.stdin), np.float32)\n"
        f"forecast = tf.saved_model.load({path!r}).signatures['forecast']\n"
        "out = forecast(history=tf.constant(x))['forecast'].numpy()\n"
        "assert 'zoo' not in sys.modules\n"
        "print(json.dumps(out.tolist()))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], input=json.dumps(test_window.inputs.tolist()),
                         capture_output=True, text=True, cwd=os.path.dirname(path), env={**os.environ, "PYTHONPATH": ""})
    assert run.returncode == 0, run.stderr[-2000:]
    served = np.asarray(json.loads(run.stdout.strip().splitlines()[-1]))
    assert served.shape == (3, 96, 7)
    np.testing.assert_allclose(served, zoo.pipeline("etth1-segrnn-h96")(test_window.inputs), atol=1e-4)
    described = json.load(open(os.path.join(path, "forecaster.json")))
    assert described["input"]["shape"] == ["batch", SEGRNN_L, 7] and described["horizon"] == 96


@pytest.mark.slow
def test_tflite_uses_builtin_ops_and_matches_keras(exports, test_window):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=exports["tflite"])
    interpreter.allocate_tensors()
    ops = {op["op_name"] for op in interpreter._get_ops_details()}
    assert not any(op.startswith("Flex") for op in ops), ops
    runner = interpreter.get_signature_runner()
    expected = zoo.pipeline("etth1-segrnn-h96")(test_window.inputs)
    for window, want in zip(test_window.inputs, expected):
        got = runner(history=window[None].astype(np.float32))["output_0"]
        np.testing.assert_allclose(got[0], want, atol=1e-3)


@pytest.mark.parametrize("name", ["etth1-lstm-h96", "beijing-pm25-lstm", "etth1-segrnn-h192"])
def test_the_other_forecaster_graphs_convert_to_builtin_tflite_and_match_keras(name, tmp_path):
    """The LSTM graphs (one with the ridge highway and a forecast column subset) and an ensemble of SegRNN
    networks convert too, not only one SegRNN."""
    from ai_edge_litert.interpreter import Interpreter

    path = zoo.export(name, str(tmp_path), format="tflite")
    interpreter = Interpreter(model_path=path)
    assert not any(op["op_name"].startswith("Flex") for op in interpreter._get_ops_details())
    model = zoo.load(name, progress=False)
    window = np.random.default_rng(0).uniform(1.0, 50.0, (1, *model.input_shape[1:])).astype(np.float32)
    got = interpreter.get_signature_runner()(history=window)["output_0"]
    np.testing.assert_allclose(got, np.asarray(model(window)), rtol=1e-4, atol=1e-2)


# === Recipe ===


@pytest.mark.slow
def test_recipe_smoke_run_writes_a_checkpoint_and_card(recipe, tmp_path, data_dir):
    from zoo.data import ett

    main = recipe.main
    argv = ["etth1-segrnn-h96", "--epochs", "1", "--limit-train", "64", "--limit-dev", "32", "--eval-limit", "32",
            "--out", str(tmp_path / "out"), "--run-dir", str(tmp_path / "runs")]
    card = main(argv)
    assert card["metrics"]["n"] == 32 and card["validation"]["n"] == 32 and card["training"]["train_windows"] == 64
    assert card["recipe_command"] == "python recipes/train_forecaster.py " + " ".join(argv)
    assert os.path.getsize(tmp_path / "out" / "etth1-segrnn-h96.keras") == card["size_bytes"]
    model = zoo._api._load_keras_file(str(tmp_path / "out" / "etth1-segrnn-h96.keras"), name="smoke", card=card)
    np.testing.assert_allclose(np.asarray(model.get_layer("scaler").mean), ett.scaler()[0], rtol=1e-6)
    with pytest.raises(SystemExit, match="validation-only"):
        main(["etth1-segrnn-h96", "--input-length", "96", "--out", str(tmp_path / "other")])


@pytest.mark.slow
def test_recipe_trains_an_ensemble_member_by_member_and_reuses_finished_members(recipe, tmp_path, data_dir, capsys):
    main = recipe.main
    argv = ["etth1-segrnn-h96", "--ensemble", "2", "--validation-only", "--epochs", "1", "--steps-per-epoch", "1",
            "--limit-train", "64", "--limit-dev", "16", "--run-dir", str(tmp_path / "runs")]
    main(argv)
    first = capsys.readouterr().out
    assert '"seed": 42' in first and '"seed": 43' in first and "validation:" in first
    runs = tmp_path / "runs" / "etth1-segrnn-h96"
    assert sorted(p.name for p in runs.glob("member_?.weights.h5")) == ["member_0.weights.h5", "member_1.weights.h5"]
    main(argv)  # a restarted command trains only what is not finished: here nothing
    second = capsys.readouterr().out
    assert "member 0: trained already" in second and "member 1: trained already" in second and "Epoch" not in second
    first_scores, second_scores = (json.loads(line) for line in (runs / "validation.jsonl").read_text().splitlines())
    assert [m["seed"] for m in second_scores["members"]] == [42, 43] and second_scores["n"] == 16
    assert second_scores["mse"] == first_scores["mse"]
    # members reading other lengths: each length has its own seeds; member 0 (336 rows, seed 42) is reused
    main(argv[:2] + ["3", "--member-lengths", "336,168,336", "--input-length", "336"] + argv[3:])
    third = capsys.readouterr().out
    assert "member 0: trained already" in third and "member 1: trained already" not in third
    mixed = json.loads((runs / "validation.jsonl").read_text().splitlines()[-1])
    assert [(m["input_length"], m["seed"]) for m in mixed["members"]] == [(336, 42), (168, 42), (336, 43)]


@pytest.mark.slow
def test_recipe_trains_beside_a_frozen_level_free_highway_as_the_readme_shows(recipe, tmp_path, data_dir, capsys):
    recipe.main(["etth1-segrnn-h96", "--highway", "336", "--frozen-highway", "--highway-input", "normalized",
                 "--validation-only", "--epochs", "1", "--steps-per-epoch", "1", "--limit-train", "64",
                 "--limit-dev", "16", "--run-dir", str(tmp_path / "runs")])
    out = capsys.readouterr().out
    assert "highway: ridge regression over the last 336 rows, penalty" in out and "validation:" in out
    record = json.loads((tmp_path / "runs" / "etth1-segrnn-h96" / "validation.jsonl").read_text().splitlines()[-1])
    assert "--highway-input normalized" in record["command"] and record["n"] == 16 and "test:" not in out
