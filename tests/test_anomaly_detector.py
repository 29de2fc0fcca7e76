"""The anomaly detector family (nab-lstm): scoring logic, causality, pipeline and stream, bad input, exports, card."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import zoo
from zoo._registry import get_spec
from zoo.metrics.nab import probation_length
from zoo.models.anomaly_detector import likelihood
from zoo.models.anomaly_detector.pipeline import AnomalyDetectionPipeline



def _series(n=1200, seed=0, spike_at=900):
    """A daily-ish sine with noise and one level jump: values and 5-minute timestamps."""
    rng = np.random.RandomState(seed)
    t = np.arange(n)
    values = 10 + 3 * np.sin(2 * np.pi * t / 96) + rng.normal(0, 0.3, n)
    values[spike_at:spike_at + 20] += 6.0
    stamps = np.datetime64("2024-01-01T00:00:00") + np.arange(n) * np.timedelta64(5, "m")
    return values, stamps


@pytest.fixture(scope="module")
def tiny():
    """The pipeline around a tiny untrained predictor (window 8): every code path, no checkpoint needed."""
    import keras

    keras.utils.set_random_seed(0)
    return AnomalyDetectionPipeline(get_spec("nab-lstm"), zoo.build("nab-lstm", units=4, window=8))


# === The scoring logic (NumPy) ===


def test_batch_and_streaming_scorers_agree(monkeypatch):
    monkeypatch.setattr(likelihood, "HISTORY", 60)  # exercise the sliding reference window
    rng = np.random.RandomState(1)
    errors = rng.standard_t(3, 700) * 0.3
    errors[:8] = np.nan
    errors[400:410] += 8.0  # a burst: a red run, then the filter
    values = np.cumsum(rng.normal(size=700))
    values[650] = values.max() + 100  # a spatial anomaly
    batch = likelihood.score_errors(errors, values, probation=100)
    scorer = likelihood.StreamingScorer(100)
    stream = np.array([scorer.update(v, e) for v, e in zip(values, errors)])
    np.testing.assert_allclose(stream, batch, atol=1e-9)
    assert np.all(batch[:100] == 0) and batch[650] == 1.0 and np.all((batch >= 0) & (batch <= 1))
    assert batch[400:412].max() > 0.5  # the burst is seen...
    assert np.sum(likelihood.tail_probabilities(errors)[400:420] <= likelihood.RED) == 1  # ...once, in the red


def test_spatial_rule_and_normalization():
    flags = likelihood.spatial_anomalies([1.0, 2.0, 2.0, 2.04, 2.2, 0.95, 0.8])
    assert flags.tolist() == [False, False, False, False, True, False, True]
    assert likelihood.spatial_anomalies([5.0, 5.0, 9.0]).tolist() == [False, False, False]  # no range yet
    center, scale = likelihood.normalization([45.0] * 10)  # a flat probation period: the floor
    assert (center, scale) == (45.0, 45.0 * likelihood.MIN_SCALE)
    with pytest.raises(ValueError, match="non-empty"):
        likelihood.normalization([])


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_numpy_predictor_matches_keras(cell):
    import keras

    from zoo.models.anomaly_detector.scoring import NumpyPredictor

    keras.utils.set_random_seed(3)
    model = zoo.build("nab-lstm", cell=cell, units=6, window=12)
    for variable in model.trainable_variables:  # weights far from the initial ones
        variable.assign(np.random.RandomState(0).normal(0, 0.4, variable.shape).astype("float32"))
    windows = np.random.RandomState(1).normal(0, 3, (5, 12)).astype("float32")
    expected = np.asarray(model(windows))[:, 0]
    numpy = NumpyPredictor.from_model(model)
    np.testing.assert_allclose([numpy.predict(w) for w in windows], expected, rtol=1e-4, atol=1e-4)


# === Pipeline, stream, causality (a tiny predictor) ===


def test_scores_are_causal(tiny):
    values, _ = _series()
    base = tiny(values)["scores"]
    for t in (300, 700, 1000):
        changed = values.copy()
        changed[t + 1:] = np.random.RandomState(t).normal(50, 20, len(values) - t - 1)
        np.testing.assert_array_equal(tiny(changed)["scores"][: t + 1], base[: t + 1])


def test_pipeline_output_and_stream_agree(tiny):
    values, stamps = _series()
    probation = probation_length(len(values))
    result = tiny(values)
    assert result["probation"] == probation == 180
    scores, flags = result["scores"], result["flags"]
    assert scores.shape == flags.shape == (1200,) and scores.dtype == np.float64 and flags.dtype == bool
    assert np.all((scores >= 0) & (scores <= 1)) and np.all(scores[:probation] == 0)
    np.testing.assert_array_equal(flags, scores >= result["threshold"])
    assert result["threshold"] == tiny.threshold("standard")
    np.testing.assert_array_equal(result["flagged"], np.flatnonzero(flags))
    assert np.all(np.isnan(result["predictions"][:8])) and np.all(np.isfinite(result["predictions"][8:]))

    stream = tiny.stream(probation=probation)
    points = [stream.update(v, t) for v, t in zip(values, stamps)]
    np.testing.assert_allclose([p.score for p in points], scores, atol=1e-4)
    agree = np.array([p.flag for p in points]) == flags
    assert np.all(agree | (np.abs(scores - result["threshold"]) < 1e-4))
    np.testing.assert_allclose([p.prediction for p in points][probation:], result["predictions"][probation:], rtol=1e-4)
    assert stream.rows == 1200

    low_fn = tiny(values, profile="reward_low_FN_rate")
    assert low_fn["threshold"] == tiny.threshold("reward_low_FN_rate") and low_fn["profile"] == "reward_low_FN_rate"
    assert tiny(values, threshold=0.0)["flags"][probation:].all()


def test_inputs_arrays_lists_files_and_batches(tiny, tmp_path):
    values, stamps = _series(n=400)
    path = tmp_path / "series.csv"
    path.write_text("timestamp,value\n" + "".join(f"{str(t).replace('T', ' ')},{float(v)!r}\n" for t, v in zip(stamps, values)))
    from_file = tiny(str(path))
    np.testing.assert_array_equal(from_file["scores"], tiny(values)["scores"])
    np.testing.assert_array_equal(tiny(list(values))["scores"], from_file["scores"])
    assert from_file["timestamps"][0] == stamps[0] and from_file["path"] == str(path)
    both = tiny([str(path), values])
    assert len(both) == 2 and np.array_equal(both[1]["scores"], from_file["scores"])
    text = AnomalyDetectionPipeline.format(str(path), from_file)
    assert text.splitlines()[0].startswith(f"{path}: 400 rows, probation 60")
    json.dumps(AnomalyDetectionPipeline.to_json(from_file))
    (tmp_path / "plain.csv").write_text("".join(f"{v}\n" for v in values))
    np.testing.assert_array_equal(tiny(str(tmp_path / "plain.csv"))["scores"], from_file["scores"])


def test_pandas_inputs(tiny):
    pd = pytest.importorskip("pandas")
    values, stamps = _series(n=400)
    frame = pd.DataFrame({"timestamp": stamps, "value": values})
    result = tiny(frame)
    np.testing.assert_array_equal(result["scores"], tiny(values)["scores"])
    assert list(result["frame"].columns) == ["value", "prediction", "score", "flag"]
    series = pd.Series(values, index=pd.DatetimeIndex(stamps))
    assert tiny(series)["timestamps"][5] == stamps[5]
    with pytest.raises(ValueError, match="sorted and unique"):
        tiny(pd.Series(values, index=pd.DatetimeIndex(stamps[::-1])))


def test_bad_input_is_a_clear_error(tiny, tmp_path):
    values, stamps = _series(n=400)
    with pytest.raises(ValueError, match="has 100 rows; the detector needs at least 160: it calibrates on the first 15%"):
        tiny(values[:100])  # NAB's 15% of 100 rows is too short a probation period
    assert len(tiny(values[:100], probation=60)["scores"]) == 100  # unless the period is given
    with pytest.raises(ValueError, match="probation must be at least 24"):
        tiny(values, probation=10)
    with pytest.raises(ValueError, match="NaN or infinite values, the first at row 7"):
        tiny(np.where(np.arange(400) == 7, np.nan, values))
    with pytest.raises(ValueError, match="NaN or infinite"):
        tiny(np.where(np.arange(400) == 9, np.inf, values))
    with pytest.raises(TypeError, match="row 2 is 'x'"):
        tiny([1.0, 2.0, "x"] + [1.0] * 400)
    with pytest.raises(TypeError, match="got None"):
        tiny(None)
    with pytest.raises(TypeError, match="got dict"):
        tiny({"value": values})
    with pytest.raises(ValueError, match="1-D"):
        tiny(np.ones((400, 2)))
    shuffled = tmp_path / "unsorted.csv"
    rows = [f"{str(t).replace('T', ' ')},{v}" for t, v in zip(stamps, values)]
    rows[50], rows[51] = rows[51], rows[50]
    shuffled.write_text("timestamp,value\n" + "\n".join(rows) + "\n")
    with pytest.raises(ValueError, match="row 51 .* goes back in time"):
        tiny(str(shuffled))
    repeated = tmp_path / "repeated.csv"
    rows[50] = rows[51]
    repeated.write_text("timestamp,value\n" + "\n".join(rows) + "\n")
    with pytest.raises(ValueError, match="repeats row"):
        tiny(str(repeated))
    with pytest.raises(ValueError, match="line 3: the value 'n/a' is not a number"):
        (tmp_path / "text.csv").write_text("timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,n/a\n")
        tiny(str(tmp_path / "text.csv"))
    with pytest.raises(ValueError, match="No such file"):
        tiny(str(tmp_path / "missing.csv"))
    with pytest.raises(ValueError, match="Unknown profile"):
        tiny(values, profile="lenient")
    with pytest.raises(ValueError, match="threshold must be a number in"):
        tiny(values, threshold=2.0)
    stream = tiny.stream(probation=30)
    with pytest.raises(TypeError, match="one real number"):
        stream.update("3.5")
    with pytest.raises(ValueError, match="finite"):
        stream.update(float("nan"))
    stream.update(1.0, "2024-01-01 00:05:00")
    with pytest.raises(ValueError, match="not after the previous"):
        stream.update(1.0, "2024-01-01 00:05:00")
    assert stream.rows == 1


def test_plot_draws_series_scores_flags_and_windows(tiny, tmp_path):
    pytest.importorskip("matplotlib")
    values, stamps = _series(n=400, spike_at=300)
    path = tiny.plot(values, path=str(tmp_path / "anomalies.png"), windows=[(290, 330)], threshold=0.3)
    assert path.endswith("anomalies.png") and os.path.getsize(path) > 10_000
    figure = tiny.plot(values, windows=[(290, 330)])
    assert len(figure.axes) == 2


# === The shipped checkpoint (slow) ===


@pytest.fixture(scope="module")
def shipped():
    return zoo.pipeline("nab-lstm")


@pytest.mark.slow
def test_ci_slice_reproduces_the_card(shipped, data_dir):
    """Two whole categories scored now give the card's raw scores at the card's thresholds."""
    from zoo.data import nab
    from zoo.metrics import nab as nab_score
    from zoo.models.anomaly_detector.evaluation import corpus_scores

    card = get_spec("nab-lstm").card()["metrics"]
    corpus = nab.load()
    for category in ("realAdExchange", "realTraffic"):
        files = {name: s for name, s in corpus.items() if s.category == category}
        scores = corpus_scores(shipped.model, files, progress=False)
        result = nab_score.score_corpus(scores, files, threshold=card["thresholds"]["standard"])
        assert result.raw == pytest.approx(card["by_category"][category]["raw"], abs=1e-3), category


@pytest.mark.slow
def test_stream_matches_the_pipeline_on_a_nab_file(shipped, data_dir):
    from zoo.data import nab

    series = nab.load()["realTraffic/speed_7578.csv"]
    result = shipped(series.values)
    stream = shipped.stream(probation=result["probation"])
    scores = np.array([stream.update(v).score for v in series.values])
    np.testing.assert_allclose(scores, result["scores"], atol=1e-4)
    assert result["flags"].sum() >= 1


@pytest.mark.slow
def test_cli_predict_prints_the_flagged_rows(tmp_path, capsys, data_dir):
    from zoo import cli
    from zoo.data import nab

    series = nab.load()["realTraffic/speed_7578.csv"]
    path = tmp_path / "speed.csv"
    path.write_text("timestamp,value\n" + "".join(f"{str(t).replace('T', ' ')},{v}\n"
                                                   for t, v in zip(series.timestamps, series.values)))
    assert cli.main(["predict", "nab-lstm", str(path)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith(f"{path}: 1,127 rows, probation 169") and "flagged" in lines[0]
    assert all(line.lstrip().startswith("row ") for line in lines[1:]) and len(lines) > 1


_PARITY = r"""
import importlib.util, json, sys
import numpy as np
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter
assert not any(m == "zoo" or m.startswith("zoo.") for m in sys.modules)
saved, tflite, data = sys.argv[1:4]
arrays = np.load(data)
windows = arrays["windows"]
served = tf.saved_model.load(saved).signatures["serving_default"](window=tf.constant(windows))
runner = Interpreter(model_path=tflite).get_signature_runner()
lite = [runner(window=w[None]) for w in windows[:20]]
# The user's side of the export: the copied likelihood.py and detector.json score a series.
spec = importlib.util.spec_from_file_location("likelihood", saved + "/likelihood.py")
likelihood = importlib.util.module_from_spec(spec); spec.loader.exec_module(likelihood)
config = json.load(open(saved + "/detector.json"))
values, probation, width = arrays["values"], int(arrays["probation"]), config["window"]
center, scale = likelihood.normalization(values[:probation])
z = ((values - center) / scale).astype(np.float32)
stacked = np.lib.stride_tricks.sliding_window_view(z, width + 1)
error = tf.saved_model.load(saved).signatures["serving_default"](window=tf.constant(stacked))["error"].numpy()
errors = np.concatenate([np.full(width, np.nan), error.astype(np.float64)])
scorer = likelihood.StreamingScorer(probation)
scores = [scorer.update(float(v), float(e)) for v, e in zip(values, errors)]
np.savez(sys.argv[4], prediction=served["prediction"].numpy(), error=served["error"].numpy(),
         lite_prediction=np.array([r["output_0"][0] for r in lite]), lite_error=np.array([r["output_1"][0] for r in lite]),
         scores=np.array(scores), threshold=config["thresholds"]["standard"])
"""


@pytest.mark.slow
def test_exports_match_the_keras_model_and_the_pipeline_without_zoo(shipped, tmp_path, data_dir):
    from zoo.data import nab

    series = nab.load()["realAdExchange/exchange-2_cpc_results.csv"]
    saved = zoo.export("nab-lstm", str(tmp_path), format="saved_model")
    tflite = zoo.export("nab-lstm", str(tmp_path), format="tflite")
    assert sorted(os.listdir(os.path.dirname(tflite))) == ["detector.json", "likelihood.py", "nab-lstm.tflite"]
    windows = np.random.RandomState(0).normal(0, 2, (64, shipped.window + 1)).astype("float32")
    plain = shipped(series.values, adapt=False)
    np.savez(tmp_path / "in.npz", windows=windows, values=series.values, probation=plain["probation"])
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run([sys.executable, "-c", _PARITY, saved, tflite, str(tmp_path / "in.npz"), str(tmp_path / "out.npz")],
                   check=True, cwd=str(tmp_path), env=env)
    out = np.load(tmp_path / "out.npz")
    expected = np.asarray(shipped.model(windows[:, :-1]))[:, 0]
    np.testing.assert_allclose(out["prediction"], expected, atol=1e-5)
    np.testing.assert_allclose(out["error"], windows[:, -1] - expected, atol=1e-5)
    np.testing.assert_allclose(out["lite_prediction"], expected[:20], atol=1e-4)
    np.testing.assert_allclose(out["lite_error"], windows[:20, -1] - expected[:20], atol=1e-4)
    # Without the per-series fine-tuning (which the exports cannot do), export + likelihood.py = the pipeline.
    np.testing.assert_allclose(out["scores"], plain["scores"], atol=1e-4)
    assert float(out["threshold"]) == shipped.threshold("standard")


# The recipe's tiny stop-and-resume run is tests/test_recipes.py's case for train_anomaly_detector.py.
