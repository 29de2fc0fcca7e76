"""Every recipe, tiny: a run stopped after its first epoch resumes at the second, writes exactly one
checkpoint and card into --out and nothing into the repository; every card's recipe command still parses.

The recipes run in this process (``main(argv)``): TensorFlow and the datasets are loaded once for all of them.
"""

import json
import os
import re
import shlex
import shutil
import warnings

import pytest

import zoo
from zoo import _training
from zoo._registry import get_spec

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMALL = ["--steps-per-epoch", "2", "--epochs", "2", "--eval-limit", "6"]
CASES = {  # recipe: (model, its own tiny options); every stage uses only the --limit-* examples
    "train_text_classifier.py": ("imdb-gru", ["--limit-train", "120", "--limit-dev", "48", "--batch-size", "16"]),
    "train_sequence_tagger.py": ("conll03-bilstm-crf", ["--limit-train", "60", "--limit-dev", "24", "--batch-size", "16",
                                                        "--map-unseen-words"]),
    "train_translator.py": ("spa-eng-gru-attention", ["--limit-train", "200", "--limit-dev", "32", "--val-bleu-pairs", "12",
                                                      "--beam-width", "2", "--batch-size", "32"]),
    "train_captioner.py": ("image-caption-lstm-attention", ["--limit-train", "12", "--limit-dev", "6", "--beam-width", "2",
                                                            "--batch-size", "16"]),
    "train_names.py": ("names-char-rnn", ["--limit-train", "120", "--limit-dev", "40", "--batch-size", "16"]),
    "train_anomaly_detector.py": ("nab-lstm", ["--limit-train", "3", "--limit-dev", "64", "--batch-size", "32"]),
    "train_audio_classifier.py": ("fsdd-gru", ["--limit-train", "40", "--limit-dev", "20", "--batch-size", "16"]),
    "train_row_reader.py": ("mnist-row-lstm", ["--limit-train", "256", "--limit-dev", "64", "--batch-size", "32"]),
    "train_ctc_reader.py": ("captcha-crnn-ctc", ["--limit-train", "32", "--limit-dev", "8", "--batch-size", "16"]),
    "train_chorale_composer.py": ("jsb-chorales-lstm", ["--limit-train", "3", "--limit-dev", "2", "--batch-size", "8"]),
    "train_forecaster.py": ("etth1-segrnn-h96", ["--limit-train", "64", "--limit-dev", "32", "--batch-size", "16"]),
    "train_char_language_model.py": ("shakespeare-char-lstm", ["--limit-train", "3000", "--limit-dev", "300",
                                                               "--batch-size", "8", "--seq-len", "32", "--stateful",
                                                               "--dropout", "0.3"]),
}
# Stopping and resuming is the shared fit's (`Run.fit`: BackupAndRestore); these recipes take it through two kinds of
# network (a plain Keras model, a nested part with word vectors); test_char_language_model resumes a stateful twin.
STOPPED_AND_RESUMED = {"train_text_classifier.py", "train_sequence_tagger.py"}
NOT_THE_REPOSITORY = {".git", ".venv", "runs", ".pytest_cache", "__pycache__"}  # runs/: a user's own training


def repository_files() -> dict[str, tuple[int, int]]:
    files = {}
    for folder, subfolders, names in os.walk(ROOT):
        subfolders[:] = [s for s in subfolders if s not in NOT_THE_REPOSITORY and not s.endswith(".egg-info")]
        for name in names:
            path = os.path.join(folder, name)
            stat = os.stat(path)
            files[os.path.relpath(path, ROOT)] = (stat.st_mtime_ns, stat.st_size)
    return files


@pytest.mark.slow
@pytest.mark.parametrize("recipe", list(CASES))
def test_a_run_trains_resumes_if_stopped_and_writes_one_checkpoint_and_card(
        recipe, tmp_path, monkeypatch, capsys, data_dir, load_recipe):
    name, options = CASES[recipe]
    monkeypatch.chdir(tmp_path)  # a recipe that wrote into the working folder would show up there
    before = repository_files()
    main = load_recipe(recipe).main
    argv = [name, *SMALL, *options, "--run-dir", str(tmp_path / "runs"), "--out", str(tmp_path / "out")]

    first, caught = "", []
    if recipe in STOPPED_AND_RESUMED:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert main([*argv, "--stop-after-epochs", "1"]) is None
        first = capsys.readouterr().out
        assert "Epoch 1/2" in first and "stopped after epoch 1" in first
        assert not (tmp_path / "out").exists()
        assert (tmp_path / "runs" / name / "backup").is_dir()

    with warnings.catch_warnings(record=True) as caught_again:
        warnings.simplefilter("always")
        card = main(argv)
    second = capsys.readouterr().out
    noise = [str(w.message) for w in caught + caught_again if re.search(r"ran out of data|`shuffle=True`", str(w.message))]
    assert noise == [], "Keras warns when a dataset's length is unknown or a Dataset gets shuffle=True"
    if recipe in STOPPED_AND_RESUMED:
        assert "resuming from the backup of epoch 1" in second
        assert "Epoch 2/2" in second and "Epoch 1/2" not in second, "the second run must resume at epoch 2"
    else:
        assert "Epoch 1/2" in second and "Epoch 2/2" in second

    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir() if p.suffix in (".keras", ".json")) == [f"{name}.json", f"{name}.keras"]
    assert json.loads((out / f"{name}.json").read_text()) == card
    assert card["recipe_command"] == f"python recipes/{recipe} " + " ".join(shlex.quote(a) for a in argv)
    assert card["metrics"]["n"] > 0 and card["validation"]["n"] > 0
    training = card["training"]
    invocations = 2 if recipe in STOPPED_AND_RESUMED else 1
    assert training["invocations"] == invocations and training["workers"] == 1 and training["best_epoch"] in (1, 2)
    assert training["batch_size"] == training["global_batch_size"] == int(options[options.index("--batch-size") + 1])
    history = (tmp_path / "runs" / name / "history.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in history[1:]] == ["0", "1"]
    assert not (tmp_path / "runs" / name / "backup").exists(), "a finished run removes its backup"

    for tokens in re.findall(r"word2vec: ([\d,]+) tokens", first + second):  # limits reach every stage
        assert int(tokens.replace(",", "")) < 500_000, f"word2vec over {tokens} tokens in a smoke run"
    if recipe == "train_sequence_tagger.py":  # --map-unseen-words ran on the shipped model before the test split
        assert "unseen_words_mapped" in card["validation"] and "f1_after_mapping" in card["validation"]
    if recipe == "train_row_reader.py":  # --finish-now on the finished run writes its best epoch again
        again = main([*argv[:-1], str(tmp_path / "out_again"), "--finish-now"])
        assert "of a finished run" in capsys.readouterr().out
        assert again["metrics"] == card["metrics"] and again["training"]["best_epoch"] == card["training"]["best_epoch"]
        shutil.rmtree(tmp_path / "out_again")
    if recipe == "train_translator.py":  # its BLEU-by-length report goes beside the card, not into docs/
        assert (out / f"{name}-bleu-by-length.md").exists() and (out / f"{name}-bleu-by-length.png").exists()
    assert sorted(os.listdir(tmp_path)) == ["out", "runs"]
    after = repository_files()
    assert {path for path in after if after[path] != before.get(path)} == set(), "a recipe run wrote into the repository"


def uses_the_shared_pieces(recipe: str) -> bool:
    """Whether a recipe parses with `_training.recipe_parser` and starts with `_training.start_run` (so parsing
    its options runs nothing else)."""
    with open(os.path.join(ROOT, recipe), encoding="utf-8") as f:
        source = f.read()
    return "_training.recipe_parser(" in source and "_training.start_run(" in source


def test_the_four_recipes_use_the_shared_pieces():
    assert all(uses_the_shared_pieces(f"recipes/{recipe}") for recipe in CASES)


def test_every_cards_recipe_command_still_parses(monkeypatch, load_recipe):
    """The cards' commands are the record of how a checkpoint was trained: options may be added, never renamed.

    Only the options are parsed: `start_run`, the first thing a recipe does after parsing, is replaced by a
    stop, so nothing is trained or written.
    """

    class Parsed(Exception):
        pass

    def parsed(recipe, args, argv=None, **_):
        raise Parsed(recipe, args)

    monkeypatch.setattr(_training, "start_run", parsed)
    checked = 0
    for name in zoo.list_models(pretrained=True):
        spec = get_spec(name)
        if not uses_the_shared_pieces(spec.recipe):
            continue
        command = shlex.split(spec.card()["recipe_command"])
        assert command[:2] == ["python", spec.recipe]
        with pytest.raises(Parsed) as caught:
            load_recipe(os.path.basename(command[1])).main(command[2:])
        recipe, args = caught.value.args
        assert recipe == spec.recipe and args.name == name
        checked += 1
    assert checked >= 12, "the twelve models of the four recipes above"
