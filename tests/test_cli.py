"""The `zoo` command line. Most tests call `zoo.cli.main` in this process (a TensorFlow import per command would
cost seconds each); one runs the real `python -m zoo.cli` to check what a terminal sees."""

import io
import json
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest

import zoo
from zoo import cli
from zoo.metrics import get_metric

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def run_zoo(capsys, monkeypatch):
    """``run_zoo(*args, stdin=None)`` -> ``returncode``, ``stdout``, ``stderr`` of ``zoo ARGS``, run in this process."""
    def run(*args, stdin=None):
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin or ""))
        capsys.readouterr()
        code = cli.main(list(args))
        captured = capsys.readouterr()
        return SimpleNamespace(returncode=code, stdout=captured.out, stderr=captured.err)

    return run


def test_list_shows_every_model_with_its_score(run_zoo):
    out = run_zoo("list")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines] == zoo.list_models()
    for line in lines:
        spec = zoo.info(line.split()[0])
        assert f"{spec['metric']} {get_metric(spec['metric']).format(spec['metrics'][spec['metric']])}" in line
    assert "bleu 41.36" in out.stdout and "accuracy 0.8970" in out.stdout, "each metric prints in its own format"
    assert run_zoo("list", "imdb-bi*").stdout.count("\n") == 2


def test_options_may_stand_between_the_name_and_the_inputs_and_a_terminal_sees_only_the_answer():
    out = subprocess.run([sys.executable, "-m", "zoo.cli", "predict", "imdb-bigru", "--json", "Nice.", "A dull film."],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    results = [json.loads(line) for line in out.stdout.strip().splitlines()]
    assert [r["text"] for r in results] == ["Nice.", "A dull film."]
    assert out.stderr == "", f"the CLI prints only its answer unless --verbose: {out.stderr[:500]}"


def test_python_dash_m_zoo_is_the_zoo_command():
    out = subprocess.run([sys.executable, "-m", "zoo", "list", "captcha-*"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[0] == "captcha-crnn-ctc" and out.stdout.count("\n") == 1


def test_info_prints_the_card_as_json(run_zoo):
    out = run_zoo("info", "imdb-bigru")
    card = json.loads(out.stdout)
    assert card["name"] == "imdb-bigru" and card["metrics"]["n"] == 25000
    assert card["versions"]["keras"] and card["data_license"] and card["num_params"] > 0
    assert card["sha256"] and card["recipe_command"].startswith("python recipes/")


def test_unknown_name_fails_with_the_closest_names(run_zoo):
    out = run_zoo("info", "imdb-bigr")
    assert out.returncode == 2
    assert "did you mean 'imdb-bigru'" in out.stderr.lower()
    assert "Traceback" not in out.stderr


def test_predict_arguments_and_stdin(run_zoo):
    out = run_zoo("predict", "imdb-gru", "A wonderful, moving film.", "Dull, boring and far too long.")
    assert out.returncode == 0, out.stderr
    first, second = out.stdout.strip().splitlines()
    assert first.startswith("positive") and second.startswith("negative")
    out = run_zoo("predict", "imdb-gru", "--json", stdin="A wonderful, moving film.\n\nDull, boring and far too long.\n")
    rows = [json.loads(line) for line in out.stdout.strip().splitlines()]
    assert [r["result"]["label"] for r in rows] == ["positive", "negative"]
    assert rows[0]["text"] == "A wonderful, moving film."


def test_predict_rejects_empty_text_cleanly(run_zoo):
    out = run_zoo("predict", "imdb-gru", "")
    assert out.returncode == 2 and "empty" in out.stderr and "Traceback" not in out.stderr


def test_eval_prints_a_progress_bar_then_json_on_the_last_line(run_zoo, data_dir):
    out = run_zoo("eval", "imdb-gru", "--limit", "200")
    assert out.returncode == 0, out.stderr
    metrics = json.loads(out.stdout.strip().splitlines()[-1])
    assert metrics["n"] == 200 and 0.8 < metrics["accuracy"] <= 1.0
    assert "eval test" in out.stderr  # the progress bar


def test_eval_rejects_a_bad_limit(run_zoo):
    out = run_zoo("eval", "imdb-gru", "--limit", "0")
    assert out.returncode == 2 and "limit must be a positive integer" in out.stderr


def test_export_writes_the_requested_format(run_zoo, tmp_path):
    out = run_zoo("export", "imdb-simplernn", "--format", "tflite", "--out", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(tmp_path / "imdb-simplernn_tflite" / "imdb-simplernn.tflite")
    assert os.listdir(tmp_path) == ["imdb-simplernn_tflite"], "an export writes only into its own folder"
    assert sorted(os.listdir(tmp_path / "imdb-simplernn_tflite")) == [
        "imdb-simplernn.tflite", "labels.txt", "tokenizer.json", "vocab.txt"]


def test_train_without_a_recipe_says_where_it_looked(monkeypatch, capsys):
    from zoo import cli, _registry
    import dataclasses

    spec = dataclasses.replace(_registry.get_spec("imdb-gru"), recipe="recipes/missing.py")
    monkeypatch.setitem(_registry._REGISTRY, "imdb-gru", spec)
    assert cli.main(["train", "imdb-gru"]) == 2
    assert "recipes/missing.py is not installed" in capsys.readouterr().err


# === zoo download and zoo cache (the installed-wheel case, downloading from a server, is in test_packaging.py) ===


def test_download_in_a_checkout_finds_the_shipped_file_and_fills_a_folder(run_zoo, tmp_path):
    from zoo._hub import sha256_of

    out = run_zoo("download", "imdb-gru")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == (f"imdb-gru  8.0 MiB  {os.path.join(ROOT, 'checkpoints', 'imdb-gru.keras')}  "
                                  "(in this checkout, sha256 verified)")

    mirror = tmp_path / "mirror"
    out = run_zoo("download", "imdb-gru", "--to", str(mirror), "udpos-bilstm")
    assert out.returncode == 0, out.stderr
    assert "copied from" in out.stdout and "sha256 verified" in out.stdout
    assert sorted(os.listdir(mirror)) == ["imdb-gru.keras", "udpos-bilstm.keras"], "only the files, ready to serve"
    for name in ("imdb-gru", "udpos-bilstm"):
        assert sha256_of(str(mirror / f"{name}.keras")) == zoo.info(name)["sha256"]
    assert "(already there" in run_zoo("download", "--to", str(mirror), "imdb-gru").stdout


def test_download_needs_names_or_all_and_checks_every_name_first(run_zoo, tmp_path):
    out = run_zoo("download")
    assert out.returncode == 2 and "--all" in out.stderr
    out = run_zoo("download", "imdb-gru", "imdb-bigr", "--to", str(tmp_path))
    assert out.returncode == 2 and "did you mean 'imdb-bigru'" in out.stderr.lower()
    assert os.listdir(tmp_path) == [], "nothing is fetched when a name is wrong"


def test_cache_lists_and_clears(run_zoo, tmp_path):
    from zoo._hub import cache_dir

    folder = os.path.join(cache_dir(), "checkpoints")
    assert run_zoo("cache").stdout.strip() == f"{folder}: nothing cached"
    # Filled the way the error message of an offline machine suggests: copy the file into the cache.
    os.makedirs(folder)
    with open(os.path.join(ROOT, "checkpoints", "imdb-gru.keras"), "rb") as f, \
            open(os.path.join(folder, "imdb-gru.keras"), "wb") as g:
        g.write(f.read())
    with open(os.path.join(folder, "imdb-lstm.keras"), "wb") as g:
        g.write(b"an old download")

    out = run_zoo("cache")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[0] == folder and lines[-1] == "2 files, 8.0 MiB"
    assert lines[1].split() == ["imdb-gru.keras", "8.0", "MiB", "imdb-gru"]
    assert lines[2].startswith("imdb-lstm.keras") and "not the size on its card" in lines[2]
    assert run_zoo("cache", "imdb-gru").stdout.strip().splitlines()[-1] == "1 file, 8.0 MiB"

    out = run_zoo("cache", "--clear", "imdb-gru")
    assert out.returncode == 0 and out.stdout.strip() == f"removed {os.path.join(folder, 'imdb-gru.keras')} (8.0 MiB)"
    assert run_zoo("cache", "--clear", "imdb-gru").stdout.strip() == "imdb-gru.keras: not cached"
    assert run_zoo("cache", "--clear").returncode == 2
    out = run_zoo("cache", "--clear", "--all")
    assert out.returncode == 0 and out.stdout.startswith("removed") and "imdb-lstm.keras" in out.stdout
    assert run_zoo("cache").stdout.strip() == f"{folder}: nothing cached"
