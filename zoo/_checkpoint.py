"""Writing a trained model as a shipped checkpoint: the `.keras` file plus its JSON card.

Where the card goes (`card_file`): beside the weights, ``<out>/<name>.json``, except when ``<out>`` is the
repository's ``checkpoints/`` folder (the recipes' default): then the card is package data,
``zoo/cards/<name>.json``, the one place the zoo reads cards from, so it ships in the wheel. The weights stay in
``checkpoints/`` and are published to the download location (see zoo/_hub.py).
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import tempfile

from zoo._hub import sha256_of
from zoo._registry import CARDS_DIR, CHECKPOINT_DIR, CHECKPOINT_FORMAT, ModelSpec

MAX_CHECKPOINT_BYTES = 12 * 1024 * 1024


def versions() -> dict[str, str]:
    import keras
    import tensorflow as tf

    import zoo

    return {"zoo": zoo.__version__, "keras": keras.__version__, "tensorflow": tf.__version__, "python": platform.python_version()}


def card_file(out_dir: str, name: str) -> str:
    """Where `write_checkpoint` puts the card of ``name`` whose weights go to ``out_dir``.

    Example:
        >>> card_file("checkpoints", "imdb-gru")   # in a checkout: the package's cards
        '.../zoo/cards/imdb-gru.json'
        >>> card_file("my_checkpoints", "imdb-gru")
        'my_checkpoints/imdb-gru.json'
    """
    shipped = os.path.isdir(out_dir) and os.path.isdir(CHECKPOINT_DIR) and os.path.samefile(out_dir, CHECKPOINT_DIR)
    return os.path.join(CARDS_DIR if shipped else out_dir, f"{name}.json")


def write_checkpoint(
    spec: ModelSpec,
    model,
    *,
    metrics: dict,
    validation: dict,
    recipe_command: str,
    training: dict,
    out_dir: str,
) -> dict:
    """Saves ``model`` (uncompiled, no optimizer state) as ``<out_dir>/<name>.keras`` and writes its card.

    The card goes to `card_file(out_dir, name)`: ``zoo/cards/`` when ``out_dir`` is the repository's
    ``checkpoints/``, else beside the weights.

    The file is written to a temporary name and renamed, so a crash never leaves half a checkpoint.
    Returns the card.
    """
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, spec.checkpoint_file)
    fd, tmp = tempfile.mkstemp(dir=out_dir, suffix=".keras")
    os.close(fd)
    try:
        model.save(tmp)
        size = os.path.getsize(tmp)
        if size > MAX_CHECKPOINT_BYTES:
            raise ValueError(f"{spec.name}: checkpoint is {size / 2**20:.1f} MiB, over the 12 MiB limit.")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    card = {
        "name": spec.name,
        "format": CHECKPOINT_FORMAT,
        "file": spec.checkpoint_file,
        "sha256": sha256_of(path),
        "size_bytes": os.path.getsize(path),
        "num_params": int(model.count_params()),
        "metrics": metrics,
        "validation": validation,
        "recipe_command": recipe_command,
        "training": training,
        "versions": versions(),
        "trained_on": datetime.date.today().isoformat(),
    }
    with open(card_file(out_dir, spec.name), "w", encoding="utf-8") as f:
        json.dump(card, f, indent=2)
        f.write("\n")
    return card
