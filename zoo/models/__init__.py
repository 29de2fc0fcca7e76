"""Model families. Importing this package registers every model; builders import Keras lazily."""

from zoo.models import sequence_tagger, text_classifier  # noqa: F401
