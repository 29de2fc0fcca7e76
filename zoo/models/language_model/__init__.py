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
from zoo._registry import ModelSpec, register

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

register(ModelSpec(
    name="imdb-lm-lstm",
    family=FAMILY.name,
    builder_args=dict(vocab_size=12000, embedding_dim=128, units=512, layers=1),
    task="word-level language modelling and review generation",
    structure="many-to-many",
    dataset="imdb",
    dataset_name="IMDB Large Movie Review Dataset v1.0 (Maas et al. 2011): train and unlabelled reviews",
    labels=(),
    metric="perplexity",
    recipe="recipes/train_language_model.py",
    description=(
        "Writes IMDB-review-like text a word at a time, and scores text by perplexity; the language model that the "
        "fine-tuned IMDB classifier starts from. Tokenization is the IMDB classifiers': StandardizeText (lower case, "
        "<br /> tags and every character but letters, digits, apostrophes, '!' and '?' removed, '!' and '?' made "
        "tokens of their own) and a whitespace split. The vocabulary is 12,000 ids: padding, [UNK] (every other "
        "word), <eos> (the end of a review) and the 11,997 most frequent words of the 22,500 train and 50,000 "
        "unlabelled reviews (never the test or validation reviews); perplexities are only comparable at equal "
        "vocabularies and tokenization. The test figure is the perplexity per token over the 25,000 test reviews "
        "read as one stream, <eos> r1 <eos> r2 ... <eos>, cut at review boundaries into 64 rows of about equal "
        "length, each read left to right from a zero state with the LSTM state carried (across reviews too); every "
        "token after the leading <eos> is predicted once with the "
        "full softmax: words, [UNK] and each review's closing <eos>. The network: a 128-d word embedding tied to "
        "the output softmax (one matrix both ways, plus an output bias), one LSTM of 512 units, a dense projection "
        "back to 128, embedding dropout 0.05 and locked dropout 0.1 on the LSTM's output. "
        "Trained by recipes/train_language_model.py on contiguous text: the 72,500 reviews, shuffled and joined by "
        "<eos> (17.1 M tokens), cut into 64 parallel streams read 70 tokens at a time with the LSTM state carried "
        "between windows; a sampled softmax (1,024 negatives) for the training loss, AdamW (2e-3, weight decay 0.01, "
        "gradient norm clipped at 1) with a 300-step warm-up and a cosine decay planned over 32 epochs of a quarter "
        "pass each. Only 16 of those 32 epochs ran (4 passes over the text, 7.6 hours on 2 shared CPU cores, "
        "five stages that resumed from the recipe's backup); the checkpoint is epoch 16 (validation perplexity "
        "99.30 on 605,873 tokens of the 2,500 validation reviews; epochs 11 to 16: 104.90, 103.06, 102.09, "
        "101.60, 100.13, 99.30), written with --finish-now before the schedule ended, so the learning rate "
        "never decayed to its floor: more epochs of the same run would lower the perplexity. The scoring rows used "
        "to start at even cuts of the stream, inside reviews, and from a zero "
        "state inside a review the network can lock one cell into a runaway count that costs 20+ nats a token "
        "for the rest of the row (it never learnt to start there: every review it read came after an <eos>). "
        "That made the per-epoch validation figures jump (epoch 8 111.79, epoch 9 202.29, epoch 11 148.92); "
        "rows now start at review boundaries, and the two weights the run had kept, scored again that way, "
        "gave epoch 8 111.73 and epoch 11 104.90. "
        "Generating samples each word from the model (zoo.decoding.sample: temperature, "
        "top-k, top-p, seeded), never [UNK]; <eos> ends the text."
    ),
    data_license="IMDb user reviews for research use; cite Maas et al. 2011 (no license stated by the authors)",
    example="'This movie was'",
    validation_split="2,500 reviews carved from the official train split with a fixed seed",
    unit="reviews",
))
