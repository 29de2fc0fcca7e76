"""Model families. Importing this package registers every model; builders import Keras lazily."""

from zoo.models import captioner, sequence_tagger, text_classifier, translator  # noqa: F401
