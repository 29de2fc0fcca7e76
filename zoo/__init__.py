"""rnn-zoo: pretrained recurrent networks for Keras 3.

Example:
    >>> import zoo
    >>> zoo.list_models("imdb-*")
    ['imdb-bigru', 'imdb-bilstm', 'imdb-gru', 'imdb-lstm', 'imdb-simplernn']
    >>> clf = zoo.pipeline("imdb-bigru")
    >>> clf(["A wonderful film.", "Dull and far too long."])
    [{'label': 'positive', 'score': 0.97}, {'label': 'negative', 'score': 0.95}]

Importing `zoo` does not import TensorFlow; `load`, `build`, `pipeline` and `export` do.
"""

__version__ = "0.1.0"

from zoo import models as _models  # noqa: F401,E402  (registers every model)
from zoo._api import CheckpointError, build, evaluate, export, info, load, pipeline  # noqa: E402
from zoo._registry import UnknownModelError, list_models  # noqa: E402

__all__ = [
    "__version__",
    "list_models",
    "info",
    "build",
    "load",
    "pipeline",
    "export",
    "evaluate",
    "UnknownModelError",
    "CheckpointError",
]
