"""Many-to-many aligned RNN taggers: one tag for every token (POS tagging, and NER in later entries).

Each token is represented by a word embedding (lower-cased, digits mapped to 0) concatenated with
a character CNN feature (so unseen words are tagged from their spelling); a bidirectional LSTM
reads the sentence and a softmax gives every token's tag: the per-step `output` of the RNN, not
only its last hidden state. The model takes tokens (a string tensor ``(batch, time)`` padded with
``""``); `zoo.pipeline` tokenizes raw text with `zoo.layers.tagging.tokenize` first.

Example:
    >>> tagger = zoo.pipeline("udpos-bilstm")
    >>> tagger("I love football")
    [('I', 'PRON'), ('love', 'VERB'), ('football', 'NOUN')]
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
    word_vocabulary: list[str] | None = None,
    char_vocabulary: list[str] | None = None,
    name: str = "sequence_tagger",
):
    """Builds an untrained tagger: tokens ``(batch, time)`` in, tag probabilities ``(batch, time, len(tags))`` out.

    Args:
        tags: the tag set; output index i is ``tags[i]``.
        word_vocab_size: word embedding rows, including padding and out-of-vocabulary.
        char_vocab_size: character embedding rows, including padding and out-of-vocabulary.
        word_dim, char_dim, char_filters: embedding and char-CNN widths.
        max_chars: characters kept per token for the char CNN.
        units: LSTM units per direction.
        dropout: dropout on token features and on the BiLSTM output.
        word_vocabulary, char_vocabulary: most frequent first, without padding/OOV entries. When None,
            the lookup layers (``words``, ``chars``) must be adapted before use.
        name: the model's name.

    The nested model ``network`` maps ``word_ids`` and ``char_ids`` to probabilities: the part exported to TFLite.
    """
    import keras
    from keras import layers

    from zoo.layers.tagging import NormalizeTokens, SplitCharacters

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

    network = build_tagger_network(
        num_tags=len(tags), word_vocab_size=word_vocab_size, char_vocab_size=char_vocab_size, word_dim=word_dim,
        char_dim=char_dim, char_filters=char_filters, max_chars=max_chars, units=units, dropout=dropout,
    )
    return keras.Model(tokens, network([word_ids, char_ids]), name=name)


def build_tagger_network(*, num_tags, word_vocab_size, char_vocab_size, word_dim, char_dim, char_filters, max_chars,
                         units, dropout):
    """Word ids ``(batch, time)`` and char ids ``(batch, time, max_chars)`` to tag probabilities."""
    import keras
    from keras import layers

    from zoo.layers.tagging import CharCNN

    word_ids = keras.Input(shape=(None,), dtype="int32", name="word_ids")
    char_ids = keras.Input(shape=(None, max_chars), dtype="int32", name="char_ids")
    words = layers.Embedding(word_vocab_size, word_dim, mask_zero=True, name="word_embedding")(word_ids)
    chars = CharCNN(char_vocab_size, char_dim, char_filters, name="char_cnn")(char_ids)
    x = layers.Concatenate(name="token_features")([words, chars])
    x = layers.Dropout(dropout, name="feature_dropout")(x)
    x = layers.Bidirectional(layers.LSTM(units, return_sequences=True), name="bilstm")(x)
    x = layers.Dropout(dropout, name="output_dropout")(x)
    probabilities = layers.Dense(num_tags, activation="softmax", name="tag_probabilities")(x)
    return keras.Model([word_ids, char_ids], probabilities, name="network")


# === Batching, prediction and evaluation ===


def pad_tokens(sentences: list[list[str]]):
    """A list of token lists to a ``(batch, max_len)`` NumPy string array padded with ``""``."""
    import numpy as np

    width = max((len(s) for s in sentences), default=0)
    out = np.full((len(sentences), max(width, 1)), "", dtype=object)
    for i, sentence in enumerate(sentences):
        out[i, : len(sentence)] = sentence
    return out


def predict_tags(model, sentences: list[list[str]], tags, *, batch_size: int = 64, progress: bool = False, desc="tag"):
    """Per sentence, a list of ``(tag, probability)`` for each token."""
    import numpy as np
    import tensorflow as tf

    from zoo._inference import compiled_forward
    from zoo._progress import progress_bar

    forward = compiled_forward(model)
    # Sentences of similar length share a batch, so little time goes into padding.
    order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
    results = [None] * len(sentences)
    with progress_bar(total=len(sentences), desc=desc, unit="sentence", enabled=progress) as bar:
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            probabilities = np.asarray(forward(tf.constant(pad_tokens([sentences[i] for i in chunk]))))
            for row, i in enumerate(chunk):
                p = probabilities[row, : len(sentences[i])]
                best = p.argmax(-1)
                results[i] = [(tags[b], float(p[t, b])) for t, b in enumerate(best)]
            bar.update(len(chunk))
    return results


def evaluate(model, *, split: str = "test", limit: int | None = None, batch_size: int = 64, progress: bool = True):
    """Token accuracy on UD English EWT with gold tokenization: ``{"accuracy": float, "n": tokens, "sentences": int}``."""
    from zoo.data import ud_ewt

    data = ud_ewt.load(split)
    sentences, gold = data.tokens, data.tags
    if limit is not None:
        if not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit must be a positive integer, got {limit!r}.")
        sentences, gold = sentences[:limit], gold[:limit]
    predicted = predict_tags(model, sentences, ud_ewt.UPOS_TAGS, batch_size=batch_size, progress=progress, desc=f"eval {split}")
    correct = total = 0
    for pred, ref in zip(predicted, gold):
        correct += sum(p == r for (p, _), r in zip(pred, ref))
        total += len(ref)
    return {"accuracy": round(correct / total, 4), "n": total, "sentences": len(sentences)}


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

    def encode(self, sentences: list[list[str]]):
        """Word ids ``(n, time)`` and char ids ``(n, time, max_chars)`` as the network sees them (the TFLite inputs)."""
        import keras
        import numpy as np
        import tensorflow as tf

        if not hasattr(self, "_encoder"):
            outputs = [self.model.get_layer("words").output, self.model.get_layer("chars").output]
            self._encoder = keras.Model(self.model.input, outputs)
        word_ids, char_ids = self._encoder(tf.constant(pad_tokens(sentences)))
        return np.asarray(word_ids, np.int32), np.asarray(char_ids, np.int32)

    def tag(self, sentences: list[list[str]]):
        """Tags for pre-tokenized sentences: per sentence, ``[(tag, probability), ...]``."""
        return predict_tags(self.model, sentences, self.labels, batch_size=self.batch_size)

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

    tag_names = tf.constant(list(spec.labels))
    tokenize = TokenizeText()

    def tag_tokens(tokens):
        probabilities = model(tokens, training=False)
        present = tf.not_equal(tokens, "")
        tags = tf.where(present, tf.gather(tag_names, tf.argmax(probabilities, axis=-1)), "")
        scores = tf.where(present, tf.reduce_max(probabilities, axis=-1), 0.0)
        return {"tags": tags, "scores": scores}

    def tag_text(text):
        tokens = tokenize(text)
        return {"tokens": tokens, **tag_tokens(tokens)}

    return write_saved_model(model, path, {
        "serve": (tag_text, [tf.TensorSpec([None], tf.string, name="text")]),
        "tag_tokens": (tag_tokens, [tf.TensorSpec([None, None], tf.string, name="tokens")]),
    })


def export_tflite(spec, model, out_dir: str) -> str:
    """TFLite of the network (builtin ops only): word ids and char ids in, tag probabilities out.

    Inputs: ``word_ids`` int32 ``[1, 128]`` and ``char_ids`` int32 ``[1, 128, max_chars]``, 0-padded;
    output float32 ``[1, 128, n_tags]`` (tags in ``labels.txt`` order). ``words.txt`` and ``chars.txt``
    map tokens (lower-cased, digits as 0) and characters to ids by line number (0 padding, 1 unknown);
    ``tokenizer.json`` gives the tokenization rules (``zoo.layers.tagging.tokenize`` in Python).
    """
    import json
    import os

    import tensorflow as tf

    from zoo._export import convert_to_tflite
    from zoo.layers.tagging import TOKEN_RULES

    args = spec.builder_args
    network = model.get_layer("network")
    forward = tf.function(lambda word_ids, char_ids: network([word_ids, char_ids], training=False))
    signature = [
        tf.TensorSpec([1, TFLITE_MAX_TOKENS], tf.int32, name="word_ids"),
        tf.TensorSpec([1, TFLITE_MAX_TOKENS, args["max_chars"]], tf.int32, name="char_ids"),
    ]
    path = convert_to_tflite(forward, signature, os.path.join(out_dir, f"{spec.name}.tflite"))
    for layer, filename in (("words", "words.txt"), ("chars", "chars.txt")):
        with open(os.path.join(out_dir, filename), "w", encoding="utf-8") as f:
            f.write("\n".join(model.get_layer(layer).get_vocabulary()) + "\n")
    with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump({
            "rules": [{"pattern": p, "replacement": r} for p, r in TOKEN_RULES],
            "then": "split on whitespace",
            "word_id": "line of words.txt holding the token lower-cased with every digit replaced by 0; 1 if absent",
            "char_ids": f"line of chars.txt for each of the token's first {args['max_chars']} characters; 1 if absent",
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
