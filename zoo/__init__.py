"""rnn-zoo: pretrained recurrent networks for Keras 3."""
__version__ = "0.1.0"
from zoo import models as _models  # noqa: F401,E402  (registers every model)
from zoo._registry import list_models  # noqa: E402
