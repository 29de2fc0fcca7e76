"""jsb-chorales-lstm: the Hands-On ML windows, composing through zoo.decoding, MIDI files read back with mido,
exports without zoo, and the shipped checkpoint against its card.

Fast tests use a tiny untrained model; the `slow` ones load the shipped checkpoint or the real data.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import zoo

NAME = "jsb-chorales-lstm"
SEED = [[74, 70, 65, 58]] * 4 + [[75, 70, 67, 60], [75, 70, 67, 0], [77, 72, 69, 62], [77, 72, 69, 62]]


@pytest.fixture(scope="module")
def tiny():
    import keras

    from zoo.models.chorale_composer.examples import examples

    keras.utils.set_random_seed(1)
    return zoo.pipeline(NAME, model=zoo.build(NAME, **examples().builder_args))


# === Data ===


def test_splits_and_windows_follow_the_book(data_dir):
    from zoo.data import jsb_chorales

    for split in jsb_chorales.SPLITS:
        chorales = jsb_chorales.load(split)
        assert len(chorales) == jsb_chorales.COUNTS[split]
        x, y = jsb_chorales.windows(chorales)
        assert x.shape == y.shape == (jsb_chorales.WINDOW_COUNTS[split], 131)
        assert x.min() == 0 and x.max() <= 46
    chorale = jsb_chorales.load("test", limit=1)[0]
    x, y = jsb_chorales.windows([chorale])
    assert len(x) == (len(chorale) - 33) // 16 + 1
    second = jsb_chorales.to_classes(chorale[16:49]).reshape(-1)  # window 1: chords 16..48, voice by voice
    np.testing.assert_array_equal(x[1], second[:-1])
    np.testing.assert_array_equal(y[1], second[1:])
    np.testing.assert_array_equal(jsb_chorales.to_pitches(jsb_chorales.to_classes(chorale)), chorale)
    assert list(jsb_chorales.to_classes([0, 36, 81])) == [0, 1, 46]


def test_bad_split_limit_and_missing_data_are_clear_errors(monkeypatch, tmp_path):
    from zoo.data import jsb_chorales

    with pytest.raises(ValueError, match="Unknown jsb-chorales split"):
        jsb_chorales.load("valid")
    with pytest.raises(ValueError, match="positive integer"):
        jsb_chorales.load("test", limit=0)
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="jsb-chorales/jsb_chorales.tgz"):
        jsb_chorales.archive_path()


# === Composing ===


def test_compose_is_reproducible_from_its_seed_and_draws_valid_chords(tiny):
    first = tiny.compose(SEED, n_chords=12, seed=0)
    assert first.shape == (12, 4) and first.dtype == np.int32
    assert np.all((first == 0) | ((first >= 36) & (first <= 81)))
    np.testing.assert_array_equal(tiny.compose(SEED, n_chords=12, seed=0), first)
    assert not np.array_equal(tiny.compose(SEED, n_chords=12, seed=1), first)
    greedy = tiny.compose(SEED, n_chords=3, top_k=1, seed=5)
    np.testing.assert_array_equal(greedy, tiny.compose(SEED, n_chords=3, top_k=1, seed=6))


def test_the_one_note_step_matches_the_whole_network(tiny):
    """The sampler's step (conv buffer and LSTM cells) gives the network's probabilities, note by note."""
    import tensorflow as tf

    from zoo.data.jsb_chorales import to_classes
    from zoo.models.chorale_composer.decoding import runtime

    notes = to_classes(np.asarray(SEED)).reshape(1, -1)
    full = tiny.next_note_probabilities(SEED)
    step = runtime(tiny.model)
    state, rows = step.zero_state(1), []
    for t in range(notes.shape[1] - 1):
        logits, state = step.advance(tf.constant(notes[:, t]), state)
        rows.append(tf.nn.softmax(logits)[0].numpy())
    np.testing.assert_allclose(np.stack(rows), full, atol=1e-5)


@pytest.mark.parametrize("call, message", [
    (lambda p: p.compose([[74, 70, 65]], 4), r"shape \(n >= 1, 4\).*got shape \(1, 3\)"),
    (lambda p: p.compose(np.zeros((0, 4), int), 4), r"shape \(n >= 1, 4\)"),
    (lambda p: p.compose([[74, 70, 65, 20]], 4), r"0 \(rest\) or MIDI pitches 36..81; got 20 at row 0, voice 3 \(bass\)"),
    (lambda p: p.compose([[74, 70, 65, 90]], 4), "got 90"),
    (lambda p: p.compose([[74.5, 70, 65, 58]], 4), "whole MIDI pitches"),
    (lambda p: p.compose(SEED, 0), "n_chords must be an integer >= 1, got 0"),
    (lambda p: p.compose(SEED, -3), "n_chords must be an integer >= 1"),
    (lambda p: p.compose(SEED, 4, temperature=0), r"temperature must be a number > 0 .*, got 0\."),
    (lambda p: p.compose(SEED, 4, temperature=-1.0), "temperature must be a number > 0"),
    (lambda p: p.compose(SEED, 4, top_k=0), "top_k must be"),
    (lambda p: p.compose(SEED, 4, seed=-1), "seed must be"),
])
def test_bad_input_is_a_clear_value_error(tiny, call, message):
    with pytest.raises(ValueError, match=message):
        call(tiny)


def test_non_numeric_chords_are_a_type_error(tiny):
    with pytest.raises(TypeError, match="integer MIDI pitches"):
        tiny.compose([["C", "E", "G", "C"]], 4)


# === MIDI and piano rolls ===


def read_back(path):
    """What a MIDI player hears, per track: (start tick, end tick, pitch) of every note, read with mido."""
    import mido

    song = mido.MidiFile(path)
    tracks = []
    for track in song.tracks:
        now, sounding, notes = 0, {}, []
        for message in track:
            now += message.time
            if message.type == "note_on" and message.velocity > 0:
                sounding[message.note] = now
            elif message.type in ("note_off", "note_on"):
                notes.append((sounding.pop(message.note), now, message.note))
        tracks.append(notes)
    return song, tracks


def test_the_midi_file_holds_four_tracks_whose_notes_are_the_chords(tiny, tmp_path):
    chords = np.concatenate([SEED, tiny.compose(SEED, n_chords=8, seed=2)])
    path = tiny.to_midi(chords, tmp_path / "chorale.mid", tempo=90)
    song, tracks = read_back(path)
    assert song.type == 1 and len(song.tracks) == 4
    sixteenth = song.ticks_per_beat // 4
    assert [m.tempo for m in song.tracks[0] if m.type == "set_tempo"] == [666_667]  # 90 quarter notes a minute
    for voice, notes in enumerate(tracks):
        heard = np.zeros(len(chords), np.int32)
        for start, end, pitch in notes:
            assert start % sixteenth == 0 and end % sixteenth == 0
            heard[start // sixteenth : end // sixteenth] = pitch
        np.testing.assert_array_equal(heard, chords[:, voice])
    assert sum(len(notes) for notes in tracks) < np.count_nonzero(chords), "a held pitch is one note, not one per 16th"
    from zoo.models.chorale_composer.midi import from_midi

    np.testing.assert_array_equal(from_midi(path), chords)


def test_midi_options_and_piano_roll(tiny, tmp_path):
    with pytest.raises(ValueError, match="tempo must be"):
        tiny.to_midi(SEED, tmp_path / "x.mid", tempo=0)
    with pytest.raises(ValueError, match="shape"):
        tiny.to_midi(np.zeros((4, 3), int), tmp_path / "x.mid")
    path = tiny.plot(SEED, tmp_path / "roll.png")
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


# === Exports, without zoo ===

SAVED_MODEL_CHECK = """
import json, sys
import numpy as np, tensorflow as tf
loaded = tf.saved_model.load(sys.argv[1])
notes = tf.constant(json.loads(sys.argv[2]), tf.int32)
probabilities = loaded.signatures["next_note"](notes=notes)["probabilities"].numpy()
compose = loaded.signatures["compose"]
args = dict(seed_chords=tf.constant([json.loads(sys.argv[3])], tf.int32), n_chords=tf.constant(6),
            temperature=tf.constant(1.0), seed=tf.constant(3, tf.int64))
chords = compose(**args)["chords"].numpy()
assert (compose(**args)["chords"].numpy() == chords).all()
print(json.dumps({"probabilities": probabilities.tolist(), "chords": chords.tolist()}))
"""


def test_saved_model_next_note_and_compose_match_the_pipeline_without_zoo(tiny, tmp_path):
    from zoo.data.jsb_chorales import to_classes
    from zoo.models.chorale_composer.export import export_saved_model

    spec = zoo._registry.get_spec(NAME)
    export_saved_model(spec, tiny.model, str(tmp_path / "sm"))
    notes = to_classes(np.asarray(SEED)).reshape(1, -1)  # whole chords
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([sys.executable, "-c", SAVED_MODEL_CHECK, str(tmp_path / "sm"), json.dumps(notes.tolist()),
                          json.dumps(SEED)], capture_output=True, text=True, cwd=str(tmp_path), env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    np.testing.assert_allclose(np.asarray(got["probabilities"])[0, :-1], tiny.next_note_probabilities(SEED), atol=1e-5)
    np.testing.assert_array_equal(np.asarray(got["chords"])[0], tiny.compose(SEED, n_chords=6, seed=3))


def test_tflite_one_step_runs_builtin_ops_and_matches_keras(tiny, tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    from zoo.data.jsb_chorales import to_classes
    from zoo.models.chorale_composer.decoding import runtime
    from zoo.models.chorale_composer.export import export_tflite

    spec = zoo._registry.get_spec(NAME)
    path = export_tflite(spec, tiny.model, str(tmp_path))
    interpreter = Interpreter(model_path=path)
    assert not any(op["op_name"].startswith("Flex") for op in interpreter._get_ops_details())
    run = interpreter.get_signature_runner()
    described = json.loads((tmp_path / "composer.json").read_text())
    specs = runtime(tiny.model).state_specs()
    assert list(described["inputs"]) == ["note", *specs]
    initial = json.loads((tmp_path / "initial_state.json").read_text())
    state = {name: np.asarray(initial[name], dtype) for name, (_, dtype) in specs.items()}
    rows = []
    for note in to_classes(np.asarray(SEED)).reshape(-1)[:-1]:
        out = run(note=np.array([note], np.int32), **state)
        rows.append(out["output_0"][0])
        state = {name: out[f"output_{i + 1}"] for i, name in enumerate(specs)}
    np.testing.assert_allclose(np.stack(rows), tiny.next_note_probabilities(SEED), atol=1e-5)


# === The shipped checkpoint ===


@pytest.mark.slow
def test_cli_continues_a_test_chorale_into_a_midi_file(tmp_path, capsys, data_dir):
    from zoo import cli
    from zoo.data import jsb_chorales

    out = tmp_path / "chorale.mid"
    assert cli.main(["predict", NAME, "--seed-chorale", "0", "--out", str(out), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    seed = jsb_chorales.load("test")[0][:8]
    assert printed["seed"] == seed.tolist() and np.asarray(printed["chords"]).shape == (64, 4)
    from zoo.models.chorale_composer.midi import from_midi

    np.testing.assert_array_equal(from_midi(str(out)), np.concatenate([seed, printed["chords"]]))
    assert cli.main(["predict", NAME, "--seed-chorale", "77"]) == 2
    assert "test chorale index from 0 to 76" in capsys.readouterr().err
