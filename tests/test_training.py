"""Shared recipe machinery (zoo._training) that needs no training run."""

from zoo import _training


def test_a_fresh_run_forgets_an_older_runs_best_epoch_and_history(tmp_path):
    run_dir = tmp_path / "imdb-gru"
    run_dir.mkdir()
    for name in _training.RUN_STATE_FILES:
        (run_dir / name).write_text("from an older run")
    (run_dir / "notes.txt").write_text("not ours")
    assert _training.prepare_run_dir(str(run_dir)) == str(run_dir)
    assert sorted(p.name for p in run_dir.iterdir()) == ["notes.txt"]


def test_a_resumed_run_keeps_its_best_epoch_and_history(tmp_path):
    run_dir = tmp_path / "imdb-gru"
    (run_dir / "backup").mkdir(parents=True)
    for name in _training.RUN_STATE_FILES:
        (run_dir / name).write_text("this run's")
    _training.prepare_run_dir(str(run_dir))
    assert all((run_dir / name).read_text() == "this run's" for name in _training.RUN_STATE_FILES)


def test_the_run_dir_is_created(tmp_path):
    assert (tmp_path / "a" / "b").exists() is False
    _training.prepare_run_dir(str(tmp_path / "a" / "b"))
    assert (tmp_path / "a" / "b").is_dir()
