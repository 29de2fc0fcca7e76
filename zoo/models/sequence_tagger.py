"""Many-to-many aligned RNN taggers: one tag for every token (POS tagging; named entities with a softmax or a CRF).

Each token is represented by a word embedding (lower-cased, digits mapped to 0) concatenated with
a character CNN feature (so unseen words are tagged from their spelling); a bidirectional LSTM
reads the sentence, and every token's tag comes from the per-step `output` of the RNN, not only
its last hidden state: a softmax per token, or a linear-chain CRF that picks the best sequence of
tags (so an ``I-PER`` never follows an ``O``). The model takes tokens (a string tensor ``(batch,
time)`` padded with ``""``); `zoo.pipeline` tokenizes raw text with `zoo.layers.tagging.tokenize` first.

Example:
    >>> tagger = zoo.pipeline("udpos-bilstm")
    >>> tagger("I love football")
    [('I', 'PRON'), ('love', 'VERB'), ('football', 'NOUN')]
    >>> zoo.pipeline("conll03-bilstm-crf")("Barack Obama visited Paris.")
    [{'text': 'Barack Obama', 'label': 'PER', 'start': 0, 'end': 12, ...}, {'text': 'Paris', 'label': 'LOC', ...}]
"""

from __future__ import annotations

from zoo._pipeline import Pipeline
from zoo._registry import ModelSpec, register


def build_sequence_tagger(
    *,
    tags: tuple[str, ...],
    word_vocab_size: int = 10000,
    char_vocab_size: int = 200,
    word_dim: int = 100,
    char_dim: int = 32,
    char_filters: int = 64,
    max_chars: int = 16,
    units: int = 128,
    dropout: float = 0.33,
    crf: bool = False,
    case_features: bool = False,
    word_dropout: float = 0.0,
    word_vocabulary: list[str] | None = None,
    char_vocabulary: list[str] | None = None,
    name: str = "sequence_tagger",
):
    """Builds an untrained tagger: tokens ``(batch, time)`` in, tag probabilities ``(batch, time, len(tags))`` out.

    With ``crf=True`` the network outputs emission scores and a linear-chain CRF sits on top
    (`zoo.layers.crf.CRFTagger`): calling the model gives Viterbi tag ids, int32 ``(batch, time)``;
    ``model.emissions(tokens)`` and ``model.crf`` give scores and marginals.

    Args:
        tags: the tag set; output index i is ``tags[i]``.
        word_vocab_size: word embedding rows, including padding and out-of-vocabulary.
        char_vocab_size: character embedding rows, including padding and out-of-vocabulary.
        word_dim, char_dim, char_filters: embedding and char-CNN widths.
        max_chars: characters kept per token for the char CNN.
        units: LSTM units per direction.
        dropout: dropout on token features and on the BiLSTM output.
        crf: a CRF output layer (trained on the sequence log-likelihood) instead of a per-token softmax.
        case_features: add an 8-d embedding of each token's casing (`zoo.layers.tagging.CASINGS`), which the
            lower-cased word embedding loses.
        word_dropout: while training, the share of known words replaced by the out-of-vocabulary id, so
            that unseen words are tagged from their characters.
        word_vocabulary, char_vocabulary: most frequent first, without padding/OOV entries. When None,
            the lookup layers (``words``, ``chars``) must be adapted before use.
        name: the model's name.

    The nested model ``network`` maps ``word_ids``, ``char_ids`` (and ``case_ids``) to probabilities: the part
    exported to TFLite.
    """
    import keras
    from keras import layers

    from zoo.layers.tagging import NormalizeTokens, SplitCharacters, TokenCasing

    # === Preprocessing: tokens -> word ids and character ids ===
    tokens = keras.Input(shape=(None,), dtype="string", name="tokens")
    word_lookup = layers.StringLookup(
        vocabulary=None if word_vocabulary is None else list(word_vocabulary)[: word_vocab_size - 2],
        mask_token="", num_oov_indices=1, name="words",
    )
    char_lookup = layers.StringLookup(
        vocabulary=None if char_vocabulary is None else list(char_vocabulary)[: char_vocab_size - 2],
        mask_token="", num_oov_indices=1, name="chars",
    )
    word_ids = word_lookup(NormalizeTokens(name="normalize")(tokens))
    char_ids = char_lookup(SplitCharacters(max_chars, name="split_characters")(tokens))

    network_inputs = [word_ids, char_ids] + ([TokenCasing(name="casing")(tokens)] if case_features else [])

    network = build_tagger_network(
        num_tags=len(tags), word_vocab_size=word_vocab_size, char_vocab_size=char_vocab_size, word_dim=word_dim,
        char_dim=char_dim, char_filters=char_filters, max_chars=max_chars, units=units, dropout=dropout,
        activation=None if crf else "softmax", case_features=case_features, word_dropout=word_dropout,
    )
    if not crf:
        return keras.Model(tokens, network(network_inputs), name=name)
    from zoo.layers.crf import CRFTagger

    return CRFTagger(keras.Model(tokens, network(network_inputs), name="emissions"), name=name)


def build_tagger_network(*, num_tags, word_vocab_size, char_vocab_size, word_dim, char_dim, char_filters, max_chars,
                         units, dropout, activation="softmax", case_features=False, word_dropout=0.0):
    """Word ids ``(batch, time)``, char ids ``(batch, time, max_chars)`` and, with ``case_features``, casing ids
    ``(batch, time)`` to tag probabilities (or, with ``activation=None``, emission scores for a CRF)."""
    import keras
    from keras import layers

    from zoo.layers.tagging import CASINGS, CharCNN, WordDropout

    word_ids = keras.Input(shape=(None,), dtype="int32", name="word_ids")
    char_ids = keras.Input(shape=(None, max_chars), dtype="int32", name="char_ids")
    known_words = WordDropout(word_dropout, name="word_dropout")(word_ids) if word_dropout else word_ids
    words = layers.Embedding(word_vocab_size, word_dim, mask_zero=True, name="word_embedding")(known_words)
    chars = CharCNN(char_vocab_size, char_dim, char_filters, name="char_cnn")(char_ids)
    inputs, features = [word_ids, char_ids], [words, chars]
    if case_features:
        case_ids = keras.Input(shape=(None,), dtype="int32", name="case_ids")
        inputs.append(case_ids)
        # mask_zero: Concatenate ORs its inputs' masks, so every feature must mask padding itself.
        features.append(layers.Embedding(len(CASINGS), 8, mask_zero=True, name="case_embedding")(case_ids))
    x = layers.Concatenate(name="token_features")(features)
    x = layers.Dropout(dropout, name="feature_dropout")(x)
    x = layers.Bidirectional(layers.LSTM(units, return_sequences=True), name="bilstm")(x)
    x = layers.Dropout(dropout, name="output_dropout")(x)
    scores = layers.Dense(num_tags, activation=activation, name="tag_probabilities" if activation else "tag_scores")(x)
    return keras.Model(inputs, scores, name="network")


# === Batching, prediction and evaluation ===


def pad_tokens(sentences: list[list[str]]):
    """A list of token lists to a ``(batch, max_len)`` NumPy string array padded with ``""``."""
    import numpy as np

    width = max((len(s) for s in sentences), default=0)
    out = np.full((len(sentences), max(width, 1)), "", dtype=object)
    for i, sentence in enumerate(sentences):
        out[i, : len(sentence)] = sentence
    return out


# The layers of a tagger that make the network's inputs, and the inputs' names.
NETWORK_INPUTS = {"words": "word_ids", "chars": "char_ids", "casing": "case_ids"}


def is_crf(model) -> bool:
    """Whether the tagger ends in a CRF (`zoo.layers.crf.CRFTagger`) rather than a softmax."""
    return hasattr(model, "crf") and hasattr(model, "emission_model")


def emission_part(model):
    """The functional model from tokens to per-token scores: the tagger itself, or a CRF tagger's emission model."""
    return model.emission_model if is_crf(model) else model


def tagging_function(model):
    """A cached ``tf.function``: tokens ``(batch, time)`` -> tag ids and their probabilities ``(batch, time)``.

    Softmax taggers give each token's most probable tag; CRF taggers give the Viterbi sequence, scored by
    the CRF marginal probability of each chosen tag. Padding (``""``) gets tag 0 and score 0.
    """
    from zoo._inference import per_model

    return per_model(model, "tagging_function", _tagging_function)


def _tagging_function(model):
    import tensorflow as tf

    crf = is_crf(model)

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.string)], autograph=False)
    def function(tokens):
        present = tf.not_equal(tokens, "")
        if crf:
            emissions, _ = model.emissions(tokens, training=False)
            ids, _ = model.crf.viterbi_decode(emissions, present)
            probabilities = model.crf.marginals(emissions, present)
        else:
            probabilities = model(tokens, training=False)
            ids = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
        scores = tf.gather(probabilities, ids, batch_dims=2)
        return tf.where(present, ids, 0), tf.where(present, scores, 0.0)

    return function


def predict_tags(model, sentences: list[list[str]], tags, *, batch_size: int = 64, progress: bool = False, desc="tag"):
    """Per sentence, a list of ``(tag, probability)`` for each token."""
    import numpy as np
    import tensorflow as tf

    from zoo._progress import progress_bar

    function = tagging_function(model)
    # Sentences of similar length share a batch, so little time goes into padding.
    order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
    results = [None] * len(sentences)
    with progress_bar(total=len(sentences), desc=desc, unit="sentence", enabled=progress) as bar:
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            ids, scores = (np.asarray(t) for t in function(tf.constant(pad_tokens([sentences[i] for i in chunk]))))
            for row, i in enumerate(chunk):
                n = len(sentences[i])
                results[i] = [(tags[b], float(p)) for b, p in zip(ids[row, :n], scores[row, :n])]
            bar.update(len(chunk))
    return results


def _limited(data, limit):
    if limit is None:
        return data.tokens, data.tags
    if not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit must be a positive integer, got {limit!r}.")
    return data.tokens[:limit], data.tags[:limit]


def evaluate(model, *, split: str = "test", limit: int | None = None, batch_size: int = 64, progress: bool = True):
    """Token accuracy on UD English EWT with gold tokenization: ``{"accuracy": float, "n": tokens, "sentences": int}``."""
    from zoo.data import ud_ewt

    sentences, gold = _limited(ud_ewt.load(split), limit)
    predicted = predict_tags(model, sentences, ud_ewt.UPOS_TAGS, batch_size=batch_size, progress=progress, desc=f"eval {split}")
    correct = total = 0
    for pred, ref in zip(predicted, gold):
        correct += sum(p == r for (p, _), r in zip(pred, ref))
        total += len(ref)
    return {"accuracy": round(correct / total, 4), "n": total, "sentences": len(sentences)}


def evaluate_entities(model, *, split: str = "test", limit: int | None = None, batch_size: int = 64,
                      progress: bool = True):
    """Entity-level micro precision, recall and F1 on CoNLL-2003 (seqeval, conlleval-compatible).

    Returns ``{"f1", "precision", "recall", "n": gold entities, "tokens", "sentences", "f1_per_type"}``;
    ``split`` is ``"test"`` (eng.testb), ``"validation"`` (eng.testa) or ``"train"``.
    """
    from seqeval.metrics import classification_report, f1_score, precision_score, recall_score

    from zoo.data import conll2003

    sentences, gold = _limited(conll2003.load(split), limit)
    tagged = predict_tags(model, sentences, conll2003.TAGS, batch_size=batch_size, progress=progress, desc=f"eval {split}")
    predicted = [[tag for tag, _ in sentence] for sentence in tagged]
    report = classification_report(gold, predicted, output_dict=True, zero_division=0)
    return {
        "f1": round(float(f1_score(gold, predicted, zero_division=0)), 4),
        "precision": round(float(precision_score(gold, predicted, zero_division=0)), 4),
        "recall": round(float(recall_score(gold, predicted, zero_division=0)), 4),
        "n": int(report["micro avg"]["support"]),
        "tokens": sum(map(len, gold)),
        "sentences": len(sentences),
        "f1_per_type": {label: round(float(report[label]["f1-score"]), 4) for label in conll2003.LABELS if label in report},
    }


class TokenTaggingPipeline(Pipeline):
    """Raw text (or tokens) in, ``[(token, tag), ...]`` out.

    Example:
        >>> tagger = zoo.pipeline("udpos-bilstm")
        >>> tagger("I love football")
        [('I', 'PRON'), ('love', 'VERB'), ('football', 'NOUN')]
        >>> tagger(["I", "love", "football"], pretokenized=True)   # one sentence, already tokenized
        >>> tagger(["First text.", "Second text."])                 # a batch of raw texts
    """

    def tokenize(self, texts) -> list[list[tuple[str, int, int]]]:
        """``(token, start, end)`` per token, offsets into each text."""
        from zoo._inputs import as_text_batch
        from zoo.layers.tagging import tokenize

        batch, _ = as_text_batch(texts)
        return [tokenize(text) for text in batch]

    def encode(self, sentences: list[list[str]]) -> dict:
        """The network's inputs (the TFLite inputs), by name: ``word_ids`` ``(n, time)``, ``char_ids``
        ``(n, time, max_chars)`` and, for taggers with casing features, ``case_ids`` ``(n, time)``."""
        import keras
        import numpy as np
        import tensorflow as tf

        if not hasattr(self, "_encoder"):
            tagger = emission_part(self.model)
            present = {layer.name for layer in tagger.layers}
            outputs = {input_name: tagger.get_layer(layer).output for layer, input_name in NETWORK_INPUTS.items()
                       if layer in present}
            self._encoder = keras.Model(tagger.input, outputs)
        return {k: np.asarray(v, np.int32) for k, v in self._encoder(tf.constant(pad_tokens(sentences))).items()}

    def tag(self, sentences: list[list[str]]):
        """Tags for pre-tokenized sentences: per sentence, ``[(tag, probability), ...]``."""
        return predict_tags(self.model, sentences, self.spec.builder_args["tags"], batch_size=self.batch_size)

    def __call__(self, texts, *, pretokenized: bool = False):
        sentences, single = _as_sentences(texts, pretokenized=pretokenized)
        results = [[(token, tag) for token, (tag, _) in zip(tokens, tagged)]
                   for tokens, tagged in zip(sentences, self.tag(sentences))]
        return results[0] if single else results

    @staticmethod
    def format(text, result) -> str:
        """One readable line for the command line."""
        return " ".join(f"{token}/{tag}" for token, tag in result)


def _as_sentences(texts, *, pretokenized: bool):
    """Raw texts (tokenized here) or token lists to a list of token lists, and whether one input was given."""
    from zoo._inputs import as_text_batch
    from zoo.layers.tagging import tokenize

    if not pretokenized:
        batch, single = as_text_batch(texts)
        return [[token for token, _, _ in tokenize(text)] for text in batch], single
    if isinstance(texts, (list, tuple)) and texts and all(isinstance(t, str) for t in texts):
        texts, single = [list(texts)], True
    else:
        single = False
    if not isinstance(texts, (list, tuple)) or not texts:
        raise (ValueError if isinstance(texts, (list, tuple)) else TypeError)(
            f"pretokenized input must be a list of tokens or a non-empty list of token lists, got {texts!r:.60}."
        )
    sentences = []
    for i, tokens in enumerate(texts):
        tokens, _ = as_text_batch(tokens, what=f"token of sentence {i}")
        if any(len(t.split()) != 1 for t in tokens):
            raise ValueError(f"Sentence {i}: a token holds whitespace; pretokenized tokens must be single tokens.")
        sentences.append(tokens)
    return sentences, single


class EntityPipeline(TokenTaggingPipeline):
    """Raw text (or tokens) in, named entities out: ``[{"text", "label", "start", "end", "score"}, ...]``.

    ``start``/``end`` are character offsets into the text (for pre-tokenized input, into the tokens
    joined by single spaces); ``token_start``/``token_end`` index the tokens (end exclusive). ``score``
    is the mean probability of the entity's tags (CRF marginals, or the softmax).

    Example:
        >>> ner = zoo.pipeline("conll03-bilstm-crf")
        >>> ner("Barack Obama visited Paris.")
        [{'text': 'Barack Obama', 'label': 'PER', 'start': 0, 'end': 12, 'score': 0.99, ...},
         {'text': 'Paris', 'label': 'LOC', 'start': 21, 'end': 26, 'score': 0.99, ...}]
        >>> ner.tags("Barack Obama visited Paris.")    # [('Barack', 'B-PER'), ('Obama', 'I-PER'), ...]
    """

    def __call__(self, texts, *, pretokenized: bool = False):
        documents, single = self._documents(texts, pretokenized)
        tagged = self.tag([[token for token, _, _ in spans] for _, spans in documents])
        results = [entities(text, spans, tags) for (text, spans), tags in zip(documents, tagged)]
        return results[0] if single else results

    def tags(self, texts, *, pretokenized: bool = False):
        """The IOB2 tag of every token: ``[(token, tag), ...]`` (what the softmax or CRF predicts)."""
        return super().__call__(texts, pretokenized=pretokenized)

    def _documents(self, texts, pretokenized):
        """``[(text, [(token, start, end), ...]), ...]`` and whether one input was given."""
        if not pretokenized:
            from zoo._inputs import as_text_batch
            from zoo.layers.tagging import tokenize

            batch, single = as_text_batch(texts)
            return [(text, tokenize(text)) for text in batch], single
        sentences, single = _as_sentences(texts, pretokenized=True)
        documents = []
        for tokens in sentences:
            spans, position = [], 0
            for token in tokens:
                spans.append((token, position, position + len(token)))
                position += len(token) + 1
            documents.append((" ".join(tokens), spans))
        return documents, single

    @staticmethod
    def format(text, result) -> str:
        """The text with each entity marked ``[Barack Obama](PER)``, for the command line."""
        pieces, position = [], 0
        for entity in result:
            pieces += [text[position : entity["start"]], f"[{entity['text']}]({entity['label']})"]
            position = entity["end"]
        return "".join(pieces + [text[position:]])


def entities(text: str, spans, tagged) -> list[dict]:
    """Groups IOB2-tagged tokens into entities (an ``I-X`` that does not continue an ``X`` starts one, as in conlleval).

    ``spans`` are ``(token, start, end)``, ``tagged`` is ``[(tag, probability), ...]`` for the same tokens.
    """
    from seqeval.metrics.sequence_labeling import get_entities

    found = []
    for label, first, last in get_entities([tag for tag, _ in tagged]):
        start, end = spans[first][1], spans[last][2]
        found.append({
            "text": text[start:end], "label": label, "start": start, "end": end,
            "score": round(sum(p for _, p in tagged[first : last + 1]) / (last + 1 - first), 4),
            "token_start": first, "token_end": last + 1,
        })
    return found


# === Export ===

TFLITE_MAX_TOKENS = 128  # fixed sentence width of the TFLite model; longer sentences are tagged in windows


def export_saved_model(spec, model, path: str) -> str:
    """SavedModel with two signatures, tokenization and tagging inside the graph.

    ``serving_default``: ``text`` (tf.string ``[batch]``) -> ``tokens``, ``tags`` (tf.string
    ``[batch, time]``, ``""`` past each text's end) and ``scores`` (float32 ``[batch, time]``).
    ``tag_tokens``: ``tokens`` (tf.string ``[batch, time]``, padded with ``""``) -> ``tags``, ``scores``.
    """
    import tensorflow as tf

    from zoo._export import write_saved_model
    from zoo.layers.tagging import TokenizeText

    tag_names = tf.constant(list(spec.builder_args["tags"]))
    tokenize = TokenizeText()
    predict = tagging_function(model)  # for a CRF tagger: Viterbi decoding and marginals, inside the graph

    def tag_tokens(tokens):
        ids, scores = predict(tokens)
        return {"tags": tf.where(tf.not_equal(tokens, ""), tf.gather(tag_names, ids), ""), "scores": scores}

    def tag_text(text):
        tokens = tokenize(text)
        return {"tokens": tokens, **tag_tokens(tokens)}

    return write_saved_model(model, path, {
        "serve": (tag_text, [tf.TensorSpec([None], tf.string, name="text")]),
        "tag_tokens": (tag_tokens, [tf.TensorSpec([None, None], tf.string, name="tokens")]),
    })


def export_tflite(spec, model, out_dir: str) -> str:
    """TFLite of the network (builtin ops only): word ids and char ids in, tag probabilities out.

    For a CRF tagger the output is emission scores instead, and ``crf.json`` holds the transition
    weights for Viterbi decoding beside the interpreter (`zoo.layers.crf.CRF.viterbi_decode` in Python).

    Inputs: ``word_ids`` int32 ``[1, 128]``, ``char_ids`` int32 ``[1, 128, max_chars]`` and, for taggers with
    casing features, ``case_ids`` int32 ``[1, 128]`` (`zoo.layers.tagging.casing`), 0-padded;
    output float32 ``[1, 128, n_tags]`` (tags in ``labels.txt`` order). ``words.txt`` and ``chars.txt``
    map tokens (lower-cased, digits as 0) and characters to ids by line number (0 padding, 1 unknown);
    ``tokenizer.json`` gives the tokenization rules (``zoo.layers.tagging.tokenize`` in Python).
    """
    import json
    import os

    import tensorflow as tf

    from zoo._export import convert_to_tflite
    from zoo.layers.tagging import CASINGS, TOKEN_RULES

    args = spec.builder_args
    tagger = emission_part(model)
    network = tagger.get_layer("network")
    signature = [
        tf.TensorSpec([1, TFLITE_MAX_TOKENS], tf.int32, name="word_ids"),
        tf.TensorSpec([1, TFLITE_MAX_TOKENS, args["max_chars"]], tf.int32, name="char_ids"),
    ]
    if args.get("case_features"):
        signature.append(tf.TensorSpec([1, TFLITE_MAX_TOKENS], tf.int32, name="case_ids"))
    forward = tf.function(lambda *inputs: network(list(inputs), training=False))
    path = convert_to_tflite(forward, signature, os.path.join(out_dir, f"{spec.name}.tflite"))
    if is_crf(model):  # the TFLite model gives emission scores; Viterbi runs beside it with these weights
        crf = model.crf
        with open(os.path.join(out_dir, "crf.json"), "w", encoding="utf-8") as f:
            json.dump({
                "tags": list(args["tags"]),
                "transitions": crf.transitions.numpy().round(6).tolist(),
                "start_transitions": crf.start_transitions.numpy().round(6).tolist(),
                "end_transitions": crf.end_transitions.numpy().round(6).tolist(),
                "decoding": "Viterbi over score(y) = start[y0] + sum_t emission[t, y_t] + sum_t transitions[y_(t-1), y_t]"
                            " + end[y_last], on the sentence's real tokens only",
            }, f)
    for layer, filename in (("words", "words.txt"), ("chars", "chars.txt")):
        with open(os.path.join(out_dir, filename), "w", encoding="utf-8") as f:
            f.write("\n".join(tagger.get_layer(layer).get_vocabulary()) + "\n")
    with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump({
            "rules": [{"pattern": p, "replacement": r} for p, r in TOKEN_RULES],
            "then": "split on whitespace",
            "word_id": "line of words.txt holding the token lower-cased with every digit replaced by 0; 1 if absent",
            "char_ids": f"line of chars.txt for each of the token's first {args['max_chars']} characters; 1 if absent",
            **({"case_id": "zoo.layers.tagging.casing(token): index in CASINGS " + json.dumps(CASINGS)}
               if args.get("case_features") else {}),
            "max_tokens": TFLITE_MAX_TOKENS,
            "python": "zoo.layers.tagging.tokenize(text) and zoo.pipeline(name).encode(tokens)",
        }, f, indent=2)
    return path


# === Registered models ===

UPOS_TAGS = ("ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN", "PUNCT",
             "SCONJ", "SYM", "VERB", "X")  # the 17 Universal POS tags, in zoo.data.ud_ewt.UPOS_TAGS order

register(
    ModelSpec(
        name="udpos-bilstm",
        builder="zoo.models.sequence_tagger:build_sequence_tagger",
        builder_args=dict(
            tags=UPOS_TAGS,
            word_vocab_size=10000, char_vocab_size=200, word_dim=100, char_dim=32, char_filters=64, max_chars=16,
            units=128, dropout=0.33,
        ),
        evaluator="zoo.models.sequence_tagger:evaluate",
        pipeline="zoo.models.sequence_tagger:TokenTaggingPipeline",
        task="part-of-speech tagging (17 UPOS tags)",
        structure="many-to-many",
        dataset="ud_ewt",
        dataset_name="Universal Dependencies English EWT r2.16 (gold tokenization)",
        labels=UPOS_TAGS,
        metric="accuracy",
        recipe="recipes/train_sequence_tagger.py",
        description=(
            "Universal POS tags for English tokens. Each token is a 100-d word embedding (lower-cased, digits "
            "mapped to 0; 10,000 words) concatenated with a 64-filter character CNN over its first 16 characters; "
            "a bidirectional LSTM (128 units each way) reads the sentence and a softmax tags every token."
        ),
        data_license="CC BY-SA 4.0 (UD English EWT annotations); texts from the LDC English Web Treebank",
        weights_license="CC BY-SA 4.0 (trained on CC BY-SA 4.0 annotations)",
        example='"I love football"',
        validation_split="the official dev split (2,001 sentences, 25,147 tokens)",
        unit="tokens",
    )
)


# CoNLL-2003 named entities. The Reuters text may not be republished, so the word vocabulary and its
# word2vec initialisation come from IMDB reviews, not from the CoNLL files (see the recipe).
_CONLL_TAGS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC")  # zoo.data.conll2003.TAGS
_CONLL_ARGS = dict(tags=_CONLL_TAGS, word_vocab_size=20000, char_vocab_size=100, word_dim=100, char_dim=32,
                   char_filters=128, max_chars=16, units=128, dropout=0.5, case_features=True, word_dropout=0.25)

for _name, _crf in (("conll03-bilstm-crf", True), ("conll03-bilstm", False)):
    register(
        ModelSpec(
            name=_name,
            builder="zoo.models.sequence_tagger:build_sequence_tagger",
            builder_args=dict(_CONLL_ARGS, crf=_crf),
            evaluator="zoo.models.sequence_tagger:evaluate_entities",
            pipeline="zoo.models.sequence_tagger:EntityPipeline",
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
