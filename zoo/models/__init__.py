"""Model families, one folder each. Importing this package registers every family and model; builders,
pipelines and exports import Keras only when they are used."""

from zoo.models import anomaly_detector, captioner, sequence_tagger, text_classifier, translator  # noqa: F401
from zoo.models import name_classifier  # noqa: F401  (names-char-rnn)
from zoo.models import row_reader  # noqa: F401  (mnist-row-lstm)
from zoo.models import ctc_reader  # noqa: F401  (captcha-crnn-ctc)
from zoo.models import chorale_composer  # noqa: F401  (jsb-chorales-lstm)
from zoo.models import audio_classifier  # noqa: F401  (fsdd-gru)
from zoo.models import forecaster  # noqa: F401  (etth1-lstm-h*, etth1-segrnn-h*, beijing-pm25-lstm)
from zoo.models import char_language_model  # noqa: F401  (shakespeare-char-lstm)
from zoo.models import language_model  # noqa: F401  (imdb-lm-lstm)
