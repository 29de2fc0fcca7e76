"""Many-to-many aligned RNN taggers: one tag for every token (POS tagging; named entities with a softmax or a CRF).

Each token is represented by a word embedding (lower-cased, digits mapped to 0) concatenated with
a character CNN feature (so unseen words are tagged from their spelling); a bidirectional LSTM
reads the sentence, and every token's tag comes from the per-step `output` of the RNN, not only
its last hidden state: a softmax per token, or a linear-chain CRF that picks the best sequence of
tags (so an ``I-PER`` never follows an ``O``).

Two families share these parts (`model`, `pipeline`, `evaluation`, `export`, `examples`): POS
taggers (tokens with their tags) and entity taggers (entity spans, scored by entity F1).

Example:
    >>> tagger = zoo.pipeline("udpos-bilstm")
    >>> tagger("I love football")
    [('I', 'PRON'), ('love', 'VERB'), ('football', 'NOUN')]
    >>> zoo.pipeline("conll03-bilstm-crf")("Barack Obama visited Paris.")
    [{'text': 'Barack Obama', 'label': 'PER', 'start': 0, 'end': 12, ...}, {'text': 'Paris', 'label': 'LOC', ...}]
"""

from __future__ import annotations

from zoo._family import Family, part_lookup, register_family
from zoo._registry import ModelSpec, register
from zoo.data import conll2003
from zoo.data.ud_ewt import UPOS_TAGS

_HERE = __name__
__getattr__ = part_lookup(__name__, ("model", "pipeline", "evaluation", "export", "examples"))
_PARTS = dict(
    builder=f"{_HERE}.model:build_sequence_tagger",
    exporters={"saved_model": f"{_HERE}.export:export_saved_model", "tflite": f"{_HERE}.export:export_tflite"},
    examples=f"{_HERE}.examples:examples",
)
FAMILY = register_family(Family(
    name="sequence_tagger",
    pipeline=f"{_HERE}.pipeline:TokenTaggingPipeline",
    evaluator=f"{_HERE}.evaluation:evaluate",
    **_PARTS,
))
ENTITY_FAMILY = register_family(Family(
    name="entity_tagger",
    pipeline=f"{_HERE}.pipeline:EntityPipeline",
    evaluator=f"{_HERE}.evaluation:evaluate_entities",
    **_PARTS,
))

_UDPOS_ARGS = dict(tags=UPOS_TAGS, word_vocab_size=20000, char_vocab_size=200, word_dim=100, char_dim=32,
                   char_filters=128, max_chars=16, units=128, dropout=0.33, case_features=True, word_dropout=0.25,
                   lstm_layers=2)
_UDPOS_TOKENS = (
    "Each token is a 100-d word embedding (lower-cased, digits mapped to 0; 20,000 words: those seen twice in EWT "
    "train, then the most frequent in IMDB reviews, initialised from word2vec on the 75,000 train + unlabelled IMDB "
    "reviews and EWT train) concatenated with a 128-filter character CNN over its first 16 characters and an 8-d "
    "casing embedding"
)
_UDPOS_READING = (
    "two stacked bidirectional LSTMs (128 units each way) read the sentence and a softmax tags every token. "
    "Unknown: tokens outside the word vocabulary. Out of domain: the CoNLL-2000 (WSJ) and CoNLL-2003 (Reuters) "
    "test text, whose Penn POS tags (assigned by taggers) map to UPOS by the UD conversion table, which looks at "
    "tags only: where UD decides by word or syntax (AUX, PRON, SCONJ) right tags count as errors; "
    "`benchmarks/bench_pos.py` compares with a perceptron there."
)
_UDPOS = dict(
    family=FAMILY.name,
    task="part-of-speech tagging (17 UPOS tags)",
    structure="many-to-many",
    dataset="ud_ewt",
    dataset_name="Universal Dependencies English EWT r2.16 (gold tokenization)",
    labels=UPOS_TAGS,
    metric="accuracy",
    recipe="recipes/train_sequence_tagger.py",
    data_license="CC BY-SA 4.0 (UD English EWT annotations); texts from the LDC English Web Treebank",
    weights_license="CC BY-SA 4.0 (trained on CC BY-SA 4.0 annotations)",
    example='"I love football"',
    validation_split="the official dev split (2,001 sentences, 25,147 tokens)",
    unit="tokens",
)

register(
    ModelSpec(
        name="udpos-bilstm",
        builder_args=_UDPOS_ARGS,
        description=(
            f"Universal POS tags for English tokens. {_UDPOS_TOKENS} (in training, a quarter of the known words are "
            f"shown as unknown, so words are also learnt from their spelling); {_UDPOS_READING}"
        ),
        **_UDPOS,
    )
)

register(
    ModelSpec(
        name="udpos-bilstm-v2",
        builder_args=dict(_UDPOS_ARGS, rare_word_dropout=True),
        description=(
            f"udpos-bilstm's network with other weights (as torchvision ships _V2 weights; its 20,000 extra "
            f"parameters are the per-word dropout rates, used in training only): more accurate than udpos-bilstm in "
            f"EWT and on both news sets, ahead of the perceptron on all three, and on unknown words in EWT (+2 "
            f"points) and Reuters (+3), but 0.55 points behind udpos-bilstm on CoNLL-2000's unknown words (25 of "
            f"4,586 tokens), so it does not take that name. Universal POS tags for English tokens. {_UDPOS_TOKENS}. In "
            f"training a word seen n times in EWT train is shown as unknown with probability max(0.25, 2 / (2 + n)) "
            f"(two in three for a word seen once; Kiperwasser and Goldberg's rare-word dropout, floored at "
            f"udpos-bilstm's uniform rate), so the words most like other text's unseen words are the ones learnt "
            f"from their spelling most; after training, the vectors of the 8,982 vocabulary words that no training "
            f"sentence holds, which training never moved, are mapped into the trained space by a ridge map fitted "
            f"on the words it did move (Madhyastha et al. 2016; recipe option --map-unseen-words; dev accuracy "
            f"0.9543 -> 0.9547 by zoo eval's function). Then {_UDPOS_READING}"
        ),
        **_UDPOS,
    )
)


# CoNLL-2003 named entities. The Reuters text may not be republished, so the word vocabulary and its
# word2vec initialisation come from IMDB reviews, not from the CoNLL files (see the recipe).
_CONLL_TAGS = conll2003.TAGS
_CONLL_ARGS = dict(tags=_CONLL_TAGS, word_vocab_size=20000, char_vocab_size=100, word_dim=100, char_dim=32,
                   char_filters=128, max_chars=16, units=128, dropout=0.5, case_features=True, word_dropout=0.25)

for _name, _crf in (("conll03-bilstm-crf", True), ("conll03-bilstm", False)):
    register(
        ModelSpec(
            name=_name,
            family=ENTITY_FAMILY.name,
            builder_args=dict(_CONLL_ARGS, crf=_crf),
            task="named-entity recognition (PER, LOC, ORG, MISC)",
            structure="many-to-many",
            dataset="conll2003",
            dataset_name="CoNLL-2003 English (eng.testb; IOB2 tags)",
            labels=_CONLL_TAGS,
            metric="f1",
            recipe="recipes/train_sequence_tagger.py",
            description=(
                "Person, organisation, location and miscellaneous names in English text. Each token is a 100-d word "
                "embedding (20,000 words, lower-cased, initialised from word2vec on IMDB reviews) concatenated with a "
                "128-filter character CNN and an 8-d casing embedding (in training, a quarter of the known words are "
                "shown as unknown, so names are also learnt from their spelling); a bidirectional LSTM (128 units "
                "each way) reads the sentence and "
                + ("a linear-chain CRF picks the best tag sequence (Viterbi)." if _crf else
                   "a softmax tags every token independently (the baseline the CRF model is compared with).")
            ),
            data_license="CoNLL-2003 annotations over Reuters RCV1 text: research use only, not redistributable",
            weights_license=(
                "research use only (trained on CoNLL-2003); the checkpoint holds no Reuters text: its word vocabulary "
                "comes from IMDB reviews"
            ),
            example='"Barack Obama visited Paris with Angela Merkel."',
            validation_split="eng.testa, the official development split (3,250 sentences, 5,942 entities)",
            unit="entities",
        )
    )
