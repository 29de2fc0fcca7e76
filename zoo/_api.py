"""The public functions re-exported by `zoo`. Keras and TensorFlow are imported only when needed."""

from __future__ import annotations

from typing import Any

from zoo._registry import CHECKPOINT_DIR, CHECKPOINT_FORMAT, get_spec


class CheckpointError(ValueError):
    """A checkpoint that exists but cannot be used (no weights, newer format, unreadable file)."""


def info(name: str) -> dict[str, Any]:
    """The model card of ``name``: task, dataset, metrics, parameters, file, licenses, recipe, versions.

    Example:
        >>> zoo.info("imdb-bigru")["metrics"]
        {'accuracy': ..., 'n': 25000}
    """
    spec = get_spec(name)
    card = spec.card() or {}
    return {
        "name": spec.name,
        "task": spec.task,
        "structure": spec.structure,
        "dataset": spec.dataset_name,
        "split": card.get("split", "test"),
        "labels": list(spec.labels),
        "family": spec.family,
        "metric": spec.metric,
        "higher_is_better": spec.metric_info.higher_is_better,
        "metrics": card.get("metrics"),
        "validation": card.get("validation"),
        "num_params": card.get("num_params"),
        "file": card.get("file"),
        "size_bytes": card.get("size_bytes"),
        "sha256": card.get("sha256"),
        "data_license": spec.data_license,
        "weights_license": spec.weights_license,
        "recipe": spec.recipe,
        "recipe_command": card.get("recipe_command"),
        "training": card.get("training"),
        "versions": card.get("versions"),
        "description": spec.description,
        "example": spec.example,
        "validation_split": spec.validation_split,
        "unit": spec.unit,
        "architecture": dict(spec.builder_args),
        "pretrained": bool(card),
    }


def build(name: str, **overrides):
    """The architecture of ``name``, untrained, for retraining or fine-tuning.

    Keyword arguments override the registered builder arguments (e.g. ``vocabulary=[...]``).

    Example:
        >>> model = zoo.build("imdb-gru", vocabulary=["good", "bad"])
    """
    spec = get_spec(name)
    args = {**spec.builder_args, **overrides}
    args.setdefault("name", spec.name)
    return spec.builder_fn()(**args)


def checkpoint_path(name: str, *, progress: bool = True) -> str:
    """Local path of the verified checkpoint file of ``name`` (shipped, cached or downloaded)."""
    return _resolve(name, get_spec(name).card(), progress=progress)


def _resolve(name: str, card: dict | None, *, progress: bool) -> str:
    from zoo import _hub

    if card is None:
        raise CheckpointError(
            f"{name!r} has no pretrained checkpoint yet; zoo.build({name!r}) gives the untrained architecture."
        )
    if int(card.get("format", 1)) > CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"The checkpoint of {name!r} uses format {card['format']} (made by zoo {card['versions']['zoo']}); "
            f"this zoo reads format {CHECKPOINT_FORMAT} and older. Upgrade rnn-zoo."
        )
    return _hub.resolve(card["file"], card["sha256"], shipped_dir=CHECKPOINT_DIR, progress=progress)


def load(name: str, *, progress: bool = True):
    """The pretrained ``keras.Model`` of ``name``, ready for inference.

    Text models take a 1-D tensor of raw strings. The file is verified against its sha256 before use.

    Example:
        >>> model = zoo.load("imdb-bigru")
        >>> model.predict(tf.constant(["A wonderful, moving film."]))
    """
    card = get_spec(name).card()
    return _load_keras_file(_resolve(name, card, progress=progress), name=name, card=card)


def _load_keras_file(path: str, *, name: str, card: dict | None):
    import keras

    import zoo.layers  # noqa: F401  (registers the zoo's layers with Keras)

    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # deserialization errors come in many types; all mean the same to a user
        made_with = (card or {}).get("versions", {})
        from zoo import __version__

        raise CheckpointError(
            f"Could not read the checkpoint of {name!r} ({path}): {type(error).__name__}: {error}. "
            f"It was made with zoo {made_with.get('zoo', '?')} / keras {made_with.get('keras', '?')}; "
            f"this is zoo {__version__} / keras {keras.__version__}. If the file is newer than this zoo, upgrade rnn-zoo."
        ) from error


def pipeline(name: str, *, model=None, batch_size: int = 64):
    """A ready-to-use predictor with readable output.

    Example:
        >>> clf = zoo.pipeline("imdb-bigru")
        >>> clf(["A wonderful film.", "Dull and far too long."])
        [{'label': 'positive', 'score': 0.97}, {'label': 'negative', 'score': 0.95}]
    """
    spec = get_spec(name)
    return spec.pipeline_class()(spec, model if model is not None else load(name), batch_size=batch_size)


def export(name: str, out_dir: str, *, format: str = "saved_model") -> str:
    """Exports the pretrained ``name`` for serving (``"saved_model"``) or mobile (``"tflite"``).

    Everything the export needs goes into a folder of its own, ``<out_dir>/<name>_<format>/`` (the
    model, its vocabularies, ``labels.txt`` when the model has labels), so several models exported
    into one ``out_dir`` never overwrite each other's files. Returns the path of the exported model.
    See the README for what each format takes and returns.

    Example:
        >>> zoo.export("imdb-bigru", "out/", format="tflite")
        'out/imdb-bigru_tflite/imdb-bigru.tflite'
    """
    import os

    from zoo._export import EXPORT_FORMATS, export_folder, replacing_folder, write_lines

    if format not in EXPORT_FORMATS:
        raise ValueError(f"format must be one of {EXPORT_FORMATS}, got {format!r}.")
    if not isinstance(out_dir, (str, os.PathLike)):
        raise TypeError(f"out_dir must be a path, got {type(out_dir).__name__}.")
    spec = get_spec(name)
    exporter = spec.family_info.exporter(format)  # a format the family does not offer fails before loading
    model = load(name)
    folder = export_folder(os.fspath(out_dir), spec.name, format)
    with replacing_folder(folder) as temporary:
        path = exporter(spec, model, temporary)
        if spec.labels:
            write_lines(os.path.join(temporary, "labels.txt"), spec.labels)
        relative = os.path.relpath(path, temporary)
    return folder if relative == "." else os.path.join(folder, relative)


def evaluate(name: str, *, split: str = "test", limit: int | None = None, progress: bool = True) -> dict:
    """Scores the pretrained ``name`` on a split of its dataset: the figure written on its card."""
    spec = get_spec(name)
    return spec.evaluator_fn()(load(name, progress=progress), split=split, limit=limit, progress=progress)


__all__ = ["info", "build", "load", "pipeline", "export", "evaluate", "checkpoint_path", "CheckpointError", "CHECKPOINT_DIR"]
