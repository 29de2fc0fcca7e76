"""Word-level language models: review text in, the next word's distribution out; review generation by sampling.

The model reads raw text (its vocabulary is inside the checkpoint: `StandardizeText`, a whitespace split and
a lookup, the IMDB classifiers' preprocessing) and at every position gives the logits of the next token
(`model`). Generating continues a prompt one word at a time through the zoo's shared sampler
(`zoo.decoding.sample`), in the graph (`decoding`); scoring reads reviews joined by ``<eos>`` as one stream
with the LSTM state carried along (`model.evaluate`, `evaluation`).

The family's parts: `model` (the builder, perplexity counting), `decoding` (the one-word step, generating
and streaming, readable text), `pipeline` (generate, stream, perplexity), `evaluation` (the card's figures),
`export` (SavedModel with the sampling loop in the graph, TFLite of one step) and `examples`; this file
registers the family and its model.

Example:
    >>> import zoo
    >>> lm = zoo.pipeline("imdb-lm-lstm")
    >>> print(lm.generate("This movie was", max_words=50, temperature=0.8, seed=0))
    >>> lm.perplexity("One of the best films I have seen this year.")     # per token, lower is more typical
"""

from __future__ import annotations

from zoo._family import Family, part_lookup, register_family

_HERE = __name__
__getattr__ = part_lookup(__name__, ("model", "decoding", "pipeline", "evaluation", "export", "examples"))
FAMILY = register_family(Family(
    name="language_model",
    builder=f"{_HERE}.model:build_language_model",
    pipeline=f"{_HERE}.pipeline:LanguageModelPipeline",
    evaluator=f"{_HERE}.evaluation:evaluate",
    exporters={"saved_model": f"{_HERE}.export:export_saved_model", "tflite": f"{_HERE}.export:export_tflite"},
    examples=f"{_HERE}.examples:examples",
    readme_section=f"{_HERE}.evaluation:readme_section",
))
