"""The machinery every family's exports share: one folder per export, the SavedModel archive, the one
TFLite converter (builtin ops only) and the side files written beside a model.

Which formats a family offers, and what each export takes and returns, is the family's business
(``zoo/models/<family>/export.py``, listed in its `zoo._family.Family`); `zoo.export` dispatches.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile

from zoo._family import EXPORT_FORMATS


def export_folder(out_dir: str, name: str, format: str) -> str:
    """The folder one export owns: ``<out_dir>/<name>_<format>``; no two models or formats share one."""
    return os.path.join(out_dir, f"{name}_{format}")


@contextlib.contextmanager
def replacing_folder(path: str):
    """Yields a fresh temporary folder beside ``path`` that replaces ``path`` when the block succeeds.

    A failed export leaves the previous export (if any) untouched and no half-written folder.
    """
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    temporary = tempfile.mkdtemp(dir=parent, prefix=f".{os.path.basename(path)}.")
    try:
        yield temporary
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.exists(path):
            raise FileExistsError(f"{path} exists and is not a folder; remove it or choose another --out.")
        os.replace(temporary, path)
    finally:
        if os.path.isdir(temporary):
            shutil.rmtree(temporary)


def write_lines(path: str, lines) -> str:
    """One entry per line (a vocabulary, the labels); an empty list is a bug, not a file."""
    lines = list(lines)
    if not lines:
        raise ValueError(f"Refusing to write {os.path.basename(path)} with no lines.")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return path


def write_json(path: str, content) -> str:
    """Writes ``content`` as indented JSON through a temporary file and a rename: never half a file."""
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        with open(temporary, "w", encoding="utf-8") as f:
            json.dump(content, f, indent=2, ensure_ascii=False)
            f.write("\n")
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return path


def write_saved_model(model, path: str, endpoints: dict) -> str:
    """Writes ``model``'s variables and one signature per ``{name: (function, input_signature)}``.

    The first endpoint is also the ``serving_default`` signature.
    """
    import keras

    archive = keras.export.ExportArchive()
    archive.track(model)
    for endpoint, (function, signature) in endpoints.items():
        archive.add_endpoint(endpoint, function, input_signature=signature)
    archive.write_out(path, verbose=False)
    return path


def convert_to_tflite(function, input_signature, path: str) -> str:
    """Converts ``function`` (a Python function or ``tf.function`` over Keras layers) to TFLite.

    Weights are frozen first (those read inside an RNN's while loop would otherwise stay resource
    variables), only builtin ops are allowed (no Flex ops), and the model keeps one signature whose
    inputs carry the names of ``input_signature``
    (``interpreter.get_signature_runner()(word_id=..., h=...)``; outputs ``output_0``, ``output_1``...).
    """
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    if not isinstance(function, tf.types.experimental.GenericFunction):
        function = tf.function(function)
    concrete = function.get_concrete_function(*input_signature)
    # Lookup tables initialised eagerly (the models' vocabularies) leave None in the graph's
    # "table_initializer" collection, which the traced function copies; freezing exports the collection
    # and warns that None cannot be serialized. The function needs no table initializer: drop the Nones.
    initializers = concrete.graph.get_collection_ref("table_initializer")
    initializers[:] = [op for op in initializers if op is not None]
    frozen = convert_variables_to_constants_v2(concrete)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen], tf.Module())
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    with open(path, "wb") as f:
        f.write(converter.convert())
    return path


def convert_step_to_tflite(step, path: str, *, token: str, probabilities: str) -> dict:
    """TFLite of one step of a generator that a mobile app loops itself; returns its inputs and outputs, described.

    ``step`` has ``advance(ids, state) -> (logits, state)`` and ``state_specs()`` (name -> (shape without the
    batch axis, dtype), in the state's order), as the generators' decoding steps do. The model's inputs are
    ``token`` (int32 ``[1]``) and the states by name (``[1, *shape]``); its outputs are ``output_0``, the next
    token's probabilities (``probabilities`` says what they are over), then the new states in the same order.
    The returned ``{"inputs": ..., "outputs": ...}`` goes into the side file that describes the loop.
    """
    import tensorflow as tf

    specs = step.state_specs()

    def one_step(token_id, *state):
        logits, state = step.advance(token_id, state)
        return (tf.nn.softmax(logits, axis=-1), *state)

    signature = [tf.TensorSpec([1], tf.int32, name=token)] + [
        tf.TensorSpec([1, *shape], dtype, name=name) for name, (shape, dtype) in specs.items()]
    convert_to_tflite(one_step, signature, path)
    return {"inputs": {token: {"dtype": "int32", "shape": [1]},
                       **{name: {"dtype": dtype, "shape": [1, *shape]} for name, (shape, dtype) in specs.items()}},
            "outputs": {"output_0": probabilities, **{f"output_{i + 1}": f"the new {name}" for i, name in enumerate(specs)}}}


__all__ = ["EXPORT_FORMATS", "export_folder", "replacing_folder", "write_lines", "write_json", "write_saved_model",
           "convert_to_tflite", "convert_step_to_tflite"]
