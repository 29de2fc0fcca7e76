"""The IMDB recipe trains under MirroredStrategy over two logical CPU devices and resumes after a stop."""

import csv
import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Two logical CPU devices must be configured before TensorFlow initialises, so the recipe runs in a child.
LAUNCH = """
import runpy, sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
sys.argv = ["train_text_classifier.py"] + sys.argv[1:]
runpy.run_path("recipes/train_text_classifier.py", run_name="__main__")
"""


def run_recipe(*args):
    out = subprocess.run([sys.executable, "-c", LAUNCH, *args], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out.stdout


def test_mirrored_training_stops_resumes_and_writes_a_card(tmp_path, data_dir):
    common = ["imdb-gru", "--strategy", "mirrored", "--limit-train", "256", "--steps-per-epoch", "2",
              "--epochs", "2", "--eval-limit", "50", "--no-pretrain", "--batch-size", "16",
              "--run-dir", str(tmp_path / "runs"), "--out", str(tmp_path / "out")]
    first = run_recipe(*common, "--stop-after-epochs", "1")
    assert "MirroredStrategy with 2 replica(s)" in first
    assert "stopped after epoch 1" in first
    assert not (tmp_path / "out" / "imdb-gru.keras").exists()
    assert (tmp_path / "runs" / "imdb-gru" / "backup").exists()

    second = run_recipe(*common)
    assert "Epoch 2/2" in second and "Epoch 1/2" not in second, "the second run must resume at epoch 2"
    with open(tmp_path / "runs" / "imdb-gru" / "history.csv") as f:
        assert [row["epoch"] for row in csv.DictReader(f)] == ["0", "1"]
    card = json.loads((tmp_path / "out" / "imdb-gru.json").read_text())
    assert card["metrics"]["n"] == 50 and card["training"]["strategy"] == "mirrored"
    assert card["recipe_command"].startswith("python recipes/train_text_classifier.py imdb-gru --strategy mirrored")


def test_tagger_recipe_trains_and_writes_a_card(tmp_path, data_dir):
    out = subprocess.run(
        [sys.executable, "recipes/train_sequence_tagger.py", "udpos-bilstm", "--limit-train", "200", "--epochs", "1",
         "--eval-limit", "40", "--run-dir", str(tmp_path / "runs"), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    card = json.loads((tmp_path / "out" / "udpos-bilstm.json").read_text())
    assert card["metrics"]["sentences"] == 40 and 0.0 <= card["metrics"]["accuracy"] <= 1.0
    assert (tmp_path / "out" / "udpos-bilstm.keras").stat().st_size < 12 * 1024 * 1024
