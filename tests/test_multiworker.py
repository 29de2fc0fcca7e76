"""Two workers on 127.0.0.1 train one model with `--strategy multiworker` (tf.distribute.MultiWorkerMirroredStrategy).

Both must exit 0 having taken the same optimizer steps to the same weights (every worker prints a fingerprint
of its final weights), and only the chief (worker 0) writes: one checkpoint and card into its --out, the
history into the shared --run-dir; worker 1's --out stays absent and its temporary folder is removed.
"""

import json
import os
import re
import socket
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ["--steps-per-epoch", "2", "--epochs", "2", "--eval-limit", "4", "--batch-size", "8"]
CASES = {  # one recipe: the distribution is the shared fit's (`zoo._training.Run`), the same for every family
    "spa-eng-gru": ["recipes/train_translator.py", "--limit-train", "160", "--limit-dev", "16", "--val-bleu-pairs", "8",
                    "--beam-width", "1"],  # greedy: the dev scorer's compiled search
}


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def start_workers(tmp_path, recipe, name, options):
    """One process per worker, as a user would start them: the same command, TF_CONFIG naming the worker."""
    cluster = [f"127.0.0.1:{port}" for port in free_ports(2)]
    (tmp_path / "tmp").mkdir(exist_ok=True)
    workers = []
    for index in range(2):
        env = dict(os.environ, TF_CONFIG=json.dumps({"cluster": {"worker": cluster}, "task": {"type": "worker", "index": index}}),
                   TMPDIR=str(tmp_path / "tmp"), TF_CPP_MIN_LOG_LEVEL="2")
        command = [sys.executable, os.path.join(ROOT, recipe), name, *TINY, *options, "--strategy", "multiworker",
                   "--run-dir", str(tmp_path / "runs"), "--out", str(tmp_path / f"out{index}")]
        workers.append(subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True))
    return workers


@pytest.mark.parametrize("name", list(CASES))
def test_two_workers_train_in_step_and_only_the_chief_writes(name, tmp_path, data_dir):
    recipe, *options = CASES[name]
    workers = start_workers(tmp_path, recipe, name, options)
    try:
        logs = [worker.communicate(timeout=240)[0] for worker in workers]
    finally:
        for worker in workers:
            worker.kill()
    for index, (worker, log) in enumerate(zip(workers, logs)):
        assert worker.returncode == 0, f"worker {index}:\n{log[-4000:]}"
    assert "2 worker(s)" in logs[0] and "(chief)" in logs[0] and "(chief)" not in logs[1]

    # In step: the same number of optimizer steps (2 epochs of 2) and identical final weights on both workers.
    trained = [re.findall(r"trained: (\d+) optimizer steps in all, weights fingerprint (\w+)", log) for log in logs]
    assert trained[0] == trained[1] and len(trained[0]) == 1 and trained[0][0][0] == "4", trained

    # Only the chief wrote: one checkpoint and card (and, for the translator, its report) in its --out.
    written = sorted(p.name for p in (tmp_path / "out0").iterdir() if p.suffix in (".keras", ".json"))
    assert written == [f"{name}.json", f"{name}.keras"]
    assert not (tmp_path / "out1").exists()
    card = json.loads((tmp_path / "out0" / f"{name}.json").read_text())
    assert card["training"]["workers"] == 2 and card["training"]["strategy"] == "multiworker"
    assert card["training"]["batch_size"] == 8 and card["training"]["global_batch_size"] == 16
    assert card["metrics"]["n"] > 0 and "test:" in logs[0] and "test:" not in logs[1], "the test split is scored once"
    history = (tmp_path / "runs" / name / "history.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in history[1:]] == ["0", "1"], "one history, the chief's"
    assert sorted(os.listdir(tmp_path / "runs")) == [name]
    assert os.listdir(tmp_path / "tmp") == [], "worker 1's temporary folder must be removed"
