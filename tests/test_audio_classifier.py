"""fsdd-gru: the FSDD splits, the in-graph front end, reading audio, the pipeline, exports without zoo, scores
against the card.

Fast tests use synthetic audio and tiny untrained models; the `slow` ones load the shipped checkpoint or export it.
"""

import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import zoo
from zoo._registry import get_spec

NAME = "fsdd-gru"
RATE = 8000


def tone(seconds=0.5, rate=RATE, hz=440.0, amplitude=0.5):
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def wav_bytes(samples, rate=RATE, *, dtype="int16"):
    from scipy.io import wavfile

    buffer = io.BytesIO()
    samples = np.asarray(samples)
    if dtype == "int16":
        samples = np.round(samples * 32767).astype(np.int16)
    elif dtype == "uint8":
        samples = np.round(samples * 127 + 128).astype(np.uint8)
    else:
        samples = samples.astype(dtype)
    wavfile.write(buffer, rate, samples)
    return buffer.getvalue()


# === Data ===


@pytest.fixture(scope="module")
def test_split(data_dir):
    from zoo.data import fsdd

    return fsdd.load("test")


def test_splits_have_the_documented_counts_and_every_speaker_in_each(data_dir):
    from zoo.data import fsdd

    seen = set()
    for split in fsdd.SPLITS:
        data = fsdd.load(split)
        assert len(data) == fsdd.COUNTS[split]
        assert set(data.speakers) == set(fsdd.SPEAKERS) and set(data.digits) == set(range(10))
        indices = {fsdd.split_of(i, s) for i, s in zip(data.indices, data.speakers)}
        assert indices == {split}
        names = {data.file_name(i) for i in range(len(data))}
        assert not names & seen
        seen |= names
    assert len(seen) == fsdd.NUM_FILES
    test = fsdd.load("test")
    assert test.file_name(0) == "0_george_0.wav" and set(test.indices) == set(range(5))
    assert test.waveforms[0].dtype == np.float32 and np.abs(test.waveforms[0]).max() <= 1.0


def test_holding_out_a_speaker_tests_on_all_their_recordings_only(data_dir):
    from zoo.data import fsdd

    splits = {s: fsdd.load(s, holdout_speaker="theo") for s in fsdd.SPLITS}
    assert {s: len(d) for s, d in splits.items()} == fsdd.HOLDOUT_COUNTS
    assert set(splits["test"].speakers) == {"theo"} and "theo" not in splits["train"].speakers + splits["validation"].speakers
    assert set(splits["validation"].indices) == set(range(5, 10))
    with pytest.raises(ValueError, match="Unknown FSDD speaker"):
        fsdd.load("test", holdout_speaker="alice")


def test_limits_take_every_digit_and_bad_splits_fail(data_dir):
    from zoo.data import fsdd

    train = fsdd.load("train", limit=30)
    assert len(train) == 30 and sorted(set(train.digits)) == list(range(10)) and train == fsdd.load("train", limit=30)
    assert sorted(fsdd.load("test", limit=20).digits) == sorted(list(range(10)) * 2)
    with pytest.raises(ValueError, match="Unknown FSDD split"):
        fsdd.load("dev")
    with pytest.raises(ValueError, match="positive integer"):
        fsdd.load("test", limit=0)


def test_missing_data_is_a_clear_error(monkeypatch, tmp_path):
    from zoo.data import fsdd

    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="fsdd/recordings.tar.gz"):
        fsdd.archive_path()


# === The front end inside the model ===


def test_log_mel_is_the_power_stft_of_the_peak_normalised_waveform():
    import tensorflow as tf

    from zoo.layers.audio import LogMelSpectrogram

    x = np.random.default_rng(0).normal(size=(2, 8192)).astype(np.float32)
    layer = LogMelSpectrogram()
    normalised = x / np.abs(x).max(axis=1, keepdims=True)
    power = np.abs(tf.signal.stft(normalised, 256, 128, window_fn=tf.signal.hann_window).numpy()) ** 2
    np.testing.assert_allclose(layer(x).numpy(), np.log(power @ layer._mel + 1e-6), atol=1e-3)
    assert layer(x).shape == (2, 63, 40)
    np.testing.assert_allclose(layer(3 * x).numpy(), layer(x).numpy(), atol=1e-4)  # loudness does not matter
    short = x[:1, :5000]
    np.testing.assert_allclose(layer(short).numpy(), layer(np.pad(short, [(0, 0), (0, 3192)])).numpy(), atol=1e-5)
    np.testing.assert_allclose(layer(np.pad(x, [(0, 0), (0, 500)])).numpy(), layer(x).numpy(), atol=1e-5)
    clone = LogMelSpectrogram.from_config(layer.get_config())
    np.testing.assert_array_equal(clone(x).numpy(), layer(x).numpy())


def test_mel_filters_cover_the_band_and_bad_settings_fail():
    from zoo.layers.audio import LogMelSpectrogram, mel_filterbank

    bank = mel_filterbank(num_mel_bins=40, fft_length=256, sample_rate=8000, lower_hz=20.0, upper_hz=4000.0)
    assert bank.shape == (129, 40) and (bank.max(axis=0) > 0.5).all() and bank.max() <= 1.0
    with pytest.raises(ValueError, match="multiples of frame_step"):
        LogMelSpectrogram(frame_length=200, frame_step=128)
    with pytest.raises(ValueError, match="upper_hz"):
        mel_filterbank(num_mel_bins=4, fft_length=256, sample_rate=8000, lower_hz=0.0, upper_hz=5000.0)


# === Reading audio ===


@pytest.mark.parametrize("dtype", ["int16", "uint8", "float32"])
def test_wav_files_of_any_sample_format_read_alike(dtype):
    from zoo._audio import load_audio

    samples = tone()
    got = load_audio(wav_bytes(samples, dtype=dtype), target_rate=RATE)
    assert got.dtype == np.float32 and got.shape == samples.shape
    np.testing.assert_allclose(got, samples, atol=0.01 if dtype == "uint8" else 1e-4)


def test_stereo_is_mixed_down_and_other_rates_resampled(tmp_path):
    from zoo._audio import load_audio

    high = tone(rate=44100, hz=440.0)
    got = load_audio(high, sample_rate=44100, target_rate=RATE)
    assert len(got) == 4000
    spectrum = np.abs(np.fft.rfft(got))
    assert abs(np.argmax(spectrum) * RATE / len(got) - 440.0) <= 2.0
    stereo = np.stack([tone(), np.zeros(4000, np.float32)], axis=1)
    np.testing.assert_allclose(load_audio(stereo, sample_rate=RATE, target_rate=RATE), tone() / 2, atol=1e-6)
    np.testing.assert_allclose(load_audio(stereo.T, sample_rate=RATE, target_rate=RATE), tone() / 2, atol=1e-6)
    path = tmp_path / "stereo.wav"
    path.write_bytes(wav_bytes(stereo, rate=16000))
    assert len(load_audio(str(path), target_rate=RATE)) == 2000


@pytest.mark.parametrize("bad, kwargs, error, message", [
    (None, {}, TypeError, "got None"),
    (42, {}, TypeError, "got int"),
    (np.zeros(100, np.float32) + 0.5, {}, TypeError, "sample_rate"),
    (b"", {}, ValueError, "empty"),
    (b"GIF89a not audio at all", {}, ValueError, "not a WAV file"),
    (b"RIFF\x00\x00\x00\x00WAVEjunk", {}, ValueError, "could not be read as a WAV"),
    (np.zeros(8000, np.float32), {"sample_rate": RATE}, ValueError, "silent"),
    (tone(0.05), {"sample_rate": RATE}, ValueError, "too short"),
    (np.full(8000, np.nan, np.float32), {"sample_rate": RATE}, ValueError, "NaN"),
    (np.zeros((3, 3, 3), np.float32), {"sample_rate": RATE}, ValueError, "shape"),
    (np.array(["a", "b"]), {"sample_rate": RATE}, TypeError, "numeric"),
    (tone(), {"sample_rate": 0}, ValueError, "positive integer"),
])
def test_bad_audio_is_a_clear_error(bad, kwargs, error, message):
    from zoo._audio import load_audio

    with pytest.raises(error, match=message):
        load_audio(bad, target_rate=RATE, min_seconds=0.1, **kwargs)


def test_a_missing_file_or_a_folder_is_a_clear_error(tmp_path):
    from zoo._audio import load_audio

    with pytest.raises(FileNotFoundError, match="No such audio file"):
        load_audio(str(tmp_path / "nope.wav"), target_rate=RATE)
    with pytest.raises(ValueError, match="folder"):
        load_audio(str(tmp_path), target_rate=RATE)
    with pytest.raises(ValueError, match="says its sample rate is 8000"):
        load_audio(wav_bytes(tone()), target_rate=RATE, sample_rate=16000)


def test_silence_is_trimmed_at_both_ends_only():
    from zoo._audio import trim_silence

    speech = tone(0.3)
    padded = np.concatenate([np.zeros(4000, np.float32), speech, np.zeros(2000, np.float32)])
    trimmed = trim_silence(padded, RATE)
    assert abs(len(trimmed) - len(speech)) <= 256
    np.testing.assert_array_equal(trim_silence(speech, RATE), speech)


# === Scoring ===


def test_score_counts_accuracy_per_speaker_and_digit():
    from zoo.models.audio_classifier.evaluation import score

    probabilities = np.eye(10)[[1, 2, 3, 3]]
    out = score(probabilities, [1, 2, 3, 4], ["a", "a", "b", "b"])
    assert out == {"accuracy": 0.75, "per_speaker": {"a": 1.0, "b": 0.5},
                   "per_digit": {"1": 1.0, "2": 1.0, "3": 1.0, "4": 0.0}, "errors": 1, "n": 4}


# === The shipped checkpoint ===


@pytest.fixture(scope="module")
def pipe():
    return zoo.pipeline(NAME)


@pytest.fixture(scope="module")
def recordings(test_split):
    """Two test recordings of each digit (different speakers), as WAV bytes, with their digits."""
    rows = [i for i in range(len(test_split)) if test_split.indices[i] == 0 and test_split.speakers[i] in ("jackson", "theo")]
    return [wav_bytes(test_split.waveforms[i]) for i in rows], [str(test_split.digits[i]) for i in rows]


@pytest.mark.slow
def test_pipeline_reads_paths_bytes_and_resampled_arrays(pipe, recordings, tmp_path):
    clips, digits = recordings
    out = pipe(clips)
    assert [r["label"] for r in out] == digits and all(0.5 < r["score"] <= 1.0 for r in out)
    path = tmp_path / "clip.wav"
    path.write_bytes(clips[7])
    assert pipe(str(path)) == out[7]
    from zoo._audio import load_audio

    samples = load_audio(clips[7], target_rate=RATE)
    from scipy.signal import resample_poly

    stereo_44k = np.stack([resample_poly(samples, 441, 80)] * 2, axis=1)
    assert pipe(stereo_44k, sample_rate=44100)["label"] == digits[7]
    top = pipe(clips[7], top_k=3)
    assert len(top) == 3 and top[0] == out[7] and top[0]["score"] >= top[1]["score"] >= top[2]["score"]
    assert abs(float(pipe.predict_proba(clips[7]).sum()) - 1.0) < 1e-4
    assert digits[7] in pipe.format("clip.wav", out[7])
    with pytest.raises(ValueError, match="top_k"):
        pipe(clips[0], top_k=0)
    with pytest.raises(ValueError, match="empty batch"):
        pipe([])
    with pytest.raises(ValueError, match="at index 1 is silent"):
        pipe([clips[0], np.zeros(8000, np.float32)], sample_rate=RATE)


@pytest.mark.slow
def test_plot_shows_waveform_and_spectrogram(pipe, recordings, tmp_path):
    out = pipe.save_plot(recordings[0][3], str(tmp_path / "plot.png"))
    assert os.path.getsize(out) > 10_000


def test_card_has_the_split_and_the_speaker_independent_table():
    card = get_spec(NAME).card()
    assert card["metrics"]["n"] == 300 and card["validation"]["n"] == 300
    assert set(card["metrics"]["per_speaker"]) == {"george", "jackson", "lucas", "nicolas", "theo", "yweweler"}
    report = card["training"]["speaker_independent"]
    assert set(report["per_speaker"]) == set(card["metrics"]["per_speaker"])
    assert all(row["n"] == 500 for row in report["per_speaker"].values())
    assert report["mean"] == round(float(np.mean([r["accuracy"] for r in report["per_speaker"].values()])), 4)


@pytest.mark.slow
def test_checkpoint_scores_like_its_card_on_the_test_split(data_dir):
    """The test split is small (300 recordings): CI scores all of it and must find the card's figures."""
    from zoo.models.audio_classifier.evaluation import evaluate

    card = get_spec(NAME).card()["metrics"]
    got = evaluate(zoo.load(NAME), split="test", progress=False)
    assert abs(got["accuracy"] - card["accuracy"]) <= 2e-4 and got["n"] == card["n"] == 300
    assert got["per_speaker"] == pytest.approx(card["per_speaker"], abs=2e-4)
    assert got["accuracy"] >= 0.99


@pytest.mark.slow
def test_saved_model_takes_waveforms_without_zoo_and_matches_keras(tmp_path, pipe, recordings):
    path = zoo.export(NAME, str(tmp_path), format="saved_model")
    clips, digits = recordings
    rows = pipe.model_input(clips[:6])
    rows = [rows[i][: 5000 + 500 * i].tolist() for i in range(6)]  # any length: the model pads inside
    width = max(map(len, rows))
    batch = [r + [0.0] * (width - len(r)) for r in rows]
    script = (
        "import json, sys, tensorflow as tf\n"
        f"serve = tf.saved_model.load({path!r}).signatures['serving_default']\n"
        "out = serve(waveform=tf.constant(json.load(sys.stdin), tf.float32))\n"
        "assert 'zoo' not in sys.modules\n"
        "print(json.dumps({'p': out['probabilities'].numpy().tolist(), 'label': [l.decode() for l in out['label'].numpy()]}))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], input=json.dumps(batch), capture_output=True, text=True,
                         cwd=str(tmp_path), env={**os.environ, "PYTHONPATH": ""})
    assert run.returncode == 0, run.stderr[-2000:]
    served = json.loads(run.stdout.strip().splitlines()[-1])
    keras_p = np.asarray(pipe.model(np.asarray(batch, np.float32)))
    np.testing.assert_allclose(served["p"], keras_p, atol=1e-5)
    assert served["label"] == [pipe.labels[i] for i in keras_p.argmax(axis=1)]


@pytest.mark.slow
def test_tflite_takes_the_waveform_with_builtin_ops_only_and_matches_keras(tmp_path, pipe, recordings):
    from ai_edge_litert.interpreter import Interpreter

    path = zoo.export(NAME, str(tmp_path), format="tflite")
    folder = os.path.dirname(path)
    settings = json.load(open(os.path.join(folder, "audio.json")))
    assert open(os.path.join(folder, "labels.txt")).read().split() == list(pipe.labels)
    interpreter = Interpreter(model_path=path)
    interpreter.allocate_tensors()
    assert not any(op["op_name"].startswith("Flex") for op in interpreter._get_ops_details())
    clips, _ = recordings
    rows = pipe.model_input(clips[:6])
    assert rows.shape == (6, settings["max_samples"])
    runner = interpreter.get_signature_runner()
    got = np.concatenate([runner(waveform=row[None, :])["output_0"] for row in rows])
    np.testing.assert_allclose(got, pipe.predict_proba(clips[:6]), atol=1e-4)


# === The recipe's speaker-independent mode ===


@pytest.mark.slow
def test_the_scorer_takes_a_held_out_speakers_recordings(data_dir):
    """A --holdout-speaker run scores with this (its training is the recipe's, tested in test_recipes)."""
    from zoo.models.audio_classifier.evaluation import evaluate

    out = evaluate(zoo.load(NAME), split="test", limit=20, holdout_speaker="theo", progress=False)
    assert out["n"] == 20 and list(out["per_speaker"]) == ["theo"] and len(out["per_digit"]) == 10


def test_loso_all_runs_each_speaker_and_writes_the_mean(tmp_path, monkeypatch, load_recipe):
    module = load_recipe("train_audio_classifier.py")
    seen = []

    def fake_run(argv, args, *, holdout_speaker, report_dir):
        seen.append((argv[-2:], args.run_dir))
        accuracy = 0.5 + 0.1 * len(seen)
        return {"accuracy": accuracy, "n": 500, "epochs": 3, "validation_accuracy": 0.9}

    monkeypatch.setattr(module, "train_one", fake_run)
    report = module.main([NAME, "--loso-all", "--epochs", "3", "--run-dir", str(tmp_path)])
    speakers = ["george", "jackson", "lucas", "nicolas", "theo", "yweweler"]
    assert [argv for argv, _ in seen] == [["--holdout-speaker", s] for s in speakers]
    assert [run_dir for _, run_dir in seen] == [str(tmp_path / "fsdd-gru-loso" / s) for s in speakers]
    assert list(report["per_speaker"]) == speakers and report["mean"] == 0.85 and report["epochs_max"] == 3
    assert json.loads((tmp_path / "fsdd-gru-loso" / "report.json").read_text()) == report


def test_loso_all_keeps_the_speakers_an_interrupted_run_finished(tmp_path, monkeypatch, load_recipe):
    module = load_recipe("train_audio_classifier.py")
    folder = tmp_path / "fsdd-gru-loso"
    folder.mkdir()
    (folder / "george.json").write_text(json.dumps({"accuracy": 0.5, "n": 500, "epochs": 2, "validation_accuracy": 0.8}))
    trained = []
    monkeypatch.setattr(module, "train_one", lambda argv, args, *, holdout_speaker, report_dir: trained.append(
        holdout_speaker) or {"accuracy": 1.0, "n": 500, "epochs": 3, "validation_accuracy": 0.9})
    report = module.main([NAME, "--loso-all", "--run-dir", str(tmp_path)])
    assert trained == ["jackson", "lucas", "nicolas", "theo", "yweweler"]
    assert report["per_speaker"]["george"]["accuracy"] == 0.5 and report["mean"] == round(5.5 / 6, 4)
