"""Reusable layers. Importing this package registers them with Keras, so plain
``keras.saving.load_model`` opens zoo checkpoints after ``import zoo.layers``.
"""

from zoo.layers.crf import CRF, CRFTagger  # noqa: F401
from zoo.layers.language_model import AddBoundaryTokens, ContinuousCache, TiedEmbedding  # noqa: F401
from zoo.layers.tagging import CharCNN, NormalizeTokens, SplitCharacters, TokenizeText  # noqa: F401
from zoo.layers.text import HeadTailCrop, MaskedGlobalPooling, StandardizeText  # noqa: F401
from zoo.layers import forecasting  # noqa: F401  (Scaler, InstanceNormalization, segment layers of the forecasters)
from zoo.layers.audio import LogMelSpectrogram  # noqa: F401
