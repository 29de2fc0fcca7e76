"""Writing a trained model as a shipped checkpoint: the `.keras` file plus its JSON card."""

from __future__ import annotations

import datetime
import json
import os
import platform
import tempfile

from zoo._hub import sha256_of
from zoo._registry import CHECKPOINT_FORMAT, ModelSpec

MAX_CHECKPOINT_BYTES = 12 * 1024 * 1024


def versions() -> dict[str, str]:
    import keras
    import tensorflow as tf

    import zoo

    return {"zoo": zoo.__version__, "keras": keras.__version__, "tensorflow": tf.__version__, "python": platform.python_version()}


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
    with open(os.path.join(out_dir, f"{spec.name}.json"), "w", encoding="utf-8") as f:
        json.dump(card, f, indent=2)
        f.write("\n")
    return card
