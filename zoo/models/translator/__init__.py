"""Sequence-to-sequence translation (many-to-many, unaligned): Spanish text in, English text out.

An encoder RNN reads the source sentence; a decoder RNN writes the target one token at a time,
each step conditioned on the tokens written so far.

* ``spa-eng-gru`` (Sutskever et al. 2014 / Cho et al. 2014 style): a GRU encoder compresses the
  source into one context vector c, its last hidden state, which is the decoder GRU's initial state.
  Everything the decoder knows about the source must pass through c.
* ``spa-eng-gru-attention`` (Bahdanau et al. 2015): a bidirectional GRU encoder keeps one state per
  source token; at every step the decoder scores each of them with additive attention
  ``v . tanh(W_q s_t + W_k h_j)`` (padding excluded), takes their weighted mean as the context and
  predicts the next word from its own state and that context.

Text handling is word-level and the same everywhere (training data, the Python pipeline, the
SavedModel graph), written as regex rewrites that run identically in Python ``re`` and in TensorFlow
(RE2): Unicode normalization (typographic quotes, dashes and spaces folded, decomposed accents
composed), punctuation split from words (``¿Dónde?`` -> ``¿ dónde ?``; ``3,5`` and ``7:30`` stay whole),
English clitics split (``don't`` -> ``do n't``); the source is lower-cased, the target keeps its case
(BLEU is case-sensitive). Detokenization undoes the splits. Words outside the vocabulary are
``[UNK]``; the attention model replaces an ``[UNK]`` it writes with the source word it attended to most.

The Keras model (the checkpoint) takes tokens and scores a translation with teacher forcing:
``{"source_tokens": (batch, S), "target_tokens": (batch, T)}`` string tensors padded with ``""``
(``target_tokens`` starts with ``[START]``) -> next-token probabilities ``(batch, T, target vocabulary)``.
`decoding.py` implements one decoder step from the model's layers; greedy decoding and beam search are the
shared searches of `zoo.decoding`, run in the graph (the SavedModel's `translate` signature decodes greedily).

Example:
    >>> mt = zoo.pipeline("spa-eng-gru-attention")
    >>> mt("¿Dónde está la biblioteca?")
    'Where is the library?'
    >>> mt(["Hace frío.", "Me gusta leer."], beam_width=5)
    ["It's cold.", 'I like to read.']
"""

from __future__ import annotations

from __future__ import annotations

from zoo._family import Family, part_lookup, register_family
from zoo._registry import ModelSpec, register

_HERE = __name__
__getattr__ = part_lookup(__name__, ("model", "text", "decoding", "evaluation", "pipeline", "plots", "export", "examples"))
FAMILY = register_family(Family(
    name="translator",
    builder=f"{_HERE}.model:build_translator",
    pipeline=f"{_HERE}.pipeline:TranslationPipeline",
    evaluator=f"{_HERE}.evaluation:evaluate",
    exporters={"saved_model": f"{_HERE}.export:export_saved_model"},
    export_notes={"tflite": "string processing and the decoding loop need TensorFlow ops outside the TFLite "
                            "builtins; use format='saved_model'"},
    examples=f"{_HERE}.examples:examples",
    readme_section=f"{_HERE}.plots:readme_section",
))

_SPA_ENG = dict(
    family=FAMILY.name,
    task="Spanish-to-English translation",
    structure="seq2seq",
    dataset="spa_eng",
    dataset_name="Tatoeba Spanish-English pairs (manythings.org/anki 2018-05-13, TensorFlow spa-eng.zip)",
    labels=(),
    metric="bleu",
    recipe="recipes/train_translator.py",
    data_license="CC BY 2.0 FR (Tatoeba sentences via manythings.org/anki)",
    example='["¿Dónde está la biblioteca?", "Hace frío."]',
    validation_split="2,933 pairs chosen by a stable hash of the Spanish sentence (zoo.data.spa_eng)",
    unit="sentence pairs",
    # The vocabularies inside the checkpoint are Tatoeba words; attribution carries over to the weights.
    weights_license="CC BY 2.0 FR, like the training sentences (attribute tatoeba.org and manythings.org/anki)",
)
_BEAM_WIDTH = 5  # zoo.models.translator.model.DEFAULT_BEAM_WIDTH (not imported: registration stays light)
_VOCABULARY = dict(source_vocab_size=8000, target_vocab_size=6000, embedding_dim=96, output_units=128, dropout=0.1)

SPECS = (
    register(ModelSpec(
        name="spa-eng-gru",
        builder_args=dict(attention=False, encoder_units=256, decoder_units=256, **_VOCABULARY),
        description=(
            "Spanish to English with a plain GRU encoder-decoder: a 256-unit GRU reads the Spanish words (8,000, "
            "lower-cased, 96-d embeddings) and its last state, the context vector, starts a 256-unit GRU decoder "
            "that writes English words (6,000, cased) through a 128-unit tanh layer and a softmax. Beam search "
            f"(width {_BEAM_WIDTH}, length-normalized)."
        ),
        **_SPA_ENG,
    )),
    register(ModelSpec(
        name="spa-eng-gru-attention",
        builder_args=dict(attention=True, encoder_units=128, decoder_units=256, attention_units=128, **_VOCABULARY),
        description=(
            "Spanish to English with a bidirectional GRU encoder (128 units each way) and a 256-unit GRU decoder "
            "with additive (Bahdanau) attention over every encoder state: at each step the decoder scores the "
            "source words, reads their weighted mean and writes the next English word. 8,000 Spanish words "
            "(lower-cased), 6,000 English words (cased), 96-d embeddings; unknown output words are copied from "
            f"the most-attended source word. Beam search (width {_BEAM_WIDTH}, length-normalized)."
        ),
        **_SPA_ENG,
    )),
)
