"""The taggers' batched prediction and pipelines: raw text (or tokens) in, tags or entity spans out."""

from __future__ import annotations

from zoo._pipeline import Pipeline

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


def predict_tags(model, sentences: list[list[str]], tags, *, batch_size: int = 64, progress: bool | None = None,
                 desc="tag"):
    """Per sentence, a list of ``(tag, probability)`` for each token."""
    import numpy as np
    import tensorflow as tf

    from zoo._predict import predict_batched

    function = tagging_function(model)

    def run(batch):
        ids, scores = (np.asarray(t) for t in function(tf.constant(pad_tokens(batch))))
        return [[(tags[b], float(p)) for b, p in zip(ids[row, : len(s)], scores[row, : len(s)])]
                for row, s in enumerate(batch)]

    # Sentences of similar length share a batch, so little time goes into padding.
    return predict_batched(sentences, run, batch_size=batch_size, length=len, progress=progress, desc=desc,
                           unit="sentence")


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
