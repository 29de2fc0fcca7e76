"""Many-to-one RNN text classifiers: raw string in, class probability out.

The network reads the whole review with a recurrent cell (SimpleRNN, LSTM or GRU, optionally
bidirectional), pools the per-step outputs over time (max and mean, ignoring padding) and maps
the pooled vector to a probability. Preprocessing (standardization, vocabulary lookup, head+tail
cropping) lives inside the model, so a checkpoint takes raw strings.

Example:
    >>> import zoo
    >>> model = zoo.build("imdb-gru", vocabulary=["the", "film", "great"])
    >>> model(tf.constant(["A great film"])).shape
    TensorShape([1, 1])
"""

from __future__ import annotations

from zoo._pipeline import Pipeline
from zoo._registry import ModelSpec, register

CELLS = ("simple_rnn", "lstm", "gru")


def build_text_classifier(
    *,
    cell: str,
    units: int,
    bidirectional: bool = False,
    vocab_size: int = 20000,
    embedding_dim: int = 100,
    sequence_length: int = 400,
    head_length: int = 100,
    dropout: float = 0.3,
    pooling: str = "max_mean",
    vocabulary: list[str] | None = None,
    name: str = "text_classifier",
):
    """Builds an untrained end-to-end classifier (string input, positive-class probability output).

    Args:
        cell: ``"simple_rnn"``, ``"lstm"`` or ``"gru"``.
        units: hidden units of the cell (per direction when bidirectional).
        bidirectional: read the text in both directions.
        vocab_size: vocabulary size including the padding and out-of-vocabulary entries.
        embedding_dim: width of the word embeddings.
        sequence_length: tokens kept per text (head + tail of longer texts).
        head_length: how many of those come from the start of the text.
        dropout: dropout on embeddings (spatial) and before the output layer.
        pooling: ``"max"``, ``"mean"`` or ``"max_mean"`` over the per-step outputs.
        vocabulary: the tokens, most frequent first, without the padding and OOV entries. When
            None, the vectorizer layer (``model.get_layer("vectorize")``) must be adapted before use.
        name: the model's name.

    The model holds named parts: ``standardize``, ``vectorize``, ``crop`` (the preprocessing) and
    ``classifier`` (a nested model from token ids to probability, the part exported to TFLite).
    """
    import keras
    from keras import layers

    from zoo.layers.text import HeadTailCrop, StandardizeText

    if cell not in CELLS:
        raise ValueError(f"cell must be one of {CELLS}, got {cell!r}.")

    # === Preprocessing: raw text -> token ids ===
    text = keras.Input(shape=(), dtype="string", name="text")
    standardized = StandardizeText(name="standardize")(text)
    vectorizer = layers.TextVectorization(
        max_tokens=vocab_size,
        standardize=None,
        split="whitespace",
        output_mode="int",
        vocabulary=None if vocabulary is None else list(vocabulary)[: vocab_size - 2],
        name="vectorize",
    )
    ids = HeadTailCrop(sequence_length, head_length, name="crop")(vectorizer(standardized))

    # === Classifier: token ids -> probability ===
    classifier = build_sequence_classifier(
        cell=cell,
        units=units,
        bidirectional=bidirectional,
        vocab_size=vocab_size,
        embedding_dim=embedding_dim,
        dropout=dropout,
        pooling=pooling,
    )
    return keras.Model(text, classifier(ids), name=name)


def build_sequence_classifier(
    *, cell, units, bidirectional, vocab_size, embedding_dim, dropout, pooling
):
    """The token-id part of the classifier: embedding, RNN over every step, pooling, sigmoid."""
    import keras
    from keras import layers

    from zoo.layers.text import MaskedGlobalPooling

    rnn_class = {"simple_rnn": layers.SimpleRNN, "lstm": layers.LSTM, "gru": layers.GRU}[cell]
    ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    x = layers.Embedding(vocab_size, embedding_dim, mask_zero=True, name="embedding")(ids)
    x = layers.SpatialDropout1D(dropout, name="embedding_dropout")(x)
    rnn = rnn_class(units, return_sequences=True, name=cell)
    if bidirectional:
        rnn = layers.Bidirectional(rnn, name=f"bidirectional_{cell}")
    x = rnn(x)
    x = MaskedGlobalPooling(pooling, name="pool")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    probability = layers.Dense(1, activation="sigmoid", name="probability")(x)
    return keras.Model(ids, probability, name="classifier")


def evaluate(model, *, split: str = "test", limit: int | None = None, batch_size: int = 256, progress: bool = True):
    """Accuracy of a sentiment model on an IMDB split: the figure written on the cards.

    Returns:
        ``{"accuracy": float, "n": int}``.
    """
    import numpy as np

    from zoo.data import imdb

    reviews = imdb.load(split, limit=limit)
    probabilities = predict_in_batches(model, reviews.texts, batch_size=batch_size, progress=progress, desc=f"eval {split}")
    predicted = (probabilities >= 0.5).astype(np.int32)
    return {"accuracy": round(float(np.mean(predicted == reviews.labels)), 4), "n": len(reviews)}


def predict_in_batches(model, texts, *, batch_size=256, progress=False, desc="predict"):
    """P(positive) for a list of strings, batch by batch, with an optional progress bar."""
    import numpy as np
    import tensorflow as tf

    from zoo._inference import compiled_forward
    from zoo._progress import progress_bar

    forward = compiled_forward(model)
    out = []
    with progress_bar(total=len(texts), desc=desc, unit="text", enabled=progress) as bar:
        for start in range(0, len(texts), batch_size):
            batch = tf.constant(texts[start : start + batch_size])
            out.append(np.asarray(forward(batch)).reshape(-1))
            bar.update(len(batch))
    return np.concatenate(out) if out else np.zeros((0,), np.float32)


class TextClassificationPipeline(Pipeline):
    """Raw text in, ``{"label", "score"}`` out.

    Example:
        >>> clf = zoo.pipeline("imdb-bigru")
        >>> clf("A wonderful film.")
        {'label': 'positive', 'score': 0.97}
        >>> clf(["A wonderful film.", "Dull and far too long."])
        [{'label': 'positive', 'score': 0.97}, {'label': 'negative', 'score': 0.95}]
    """

    def predict_proba(self, texts):
        """P(positive) per text, as a NumPy array of shape ``(n,)``."""
        from zoo._inputs import as_text_batch

        batch, _ = as_text_batch(texts)
        return predict_in_batches(self.model, batch, batch_size=self.batch_size)

    def __call__(self, texts):
        from zoo._inputs import as_text_batch

        batch, single = as_text_batch(texts)
        results = []
        for p in predict_in_batches(self.model, batch, batch_size=self.batch_size):
            positive = bool(p >= 0.5)
            results.append({"label": self.labels[int(positive)], "score": round(float(p if positive else 1.0 - p), 4)})
        return results[0] if single else results

    @staticmethod
    def format(text: str, result: dict) -> str:
        """One readable line for the command line."""
        preview = text if len(text) <= 60 else text[:57] + "..."
        return f"{result['label']:<9} {result['score']:.4f}  {preview}"

    def tokenize(self, texts):
        """Token ids exactly as the model sees them: int32 ``(n, sequence_length)``, 0-padded.

        This is the input of the TFLite export (``zoo.export(name, dir, format="tflite")``).
        """
        import keras
        import numpy as np
        import tensorflow as tf

        from zoo._inputs import as_text_batch

        batch, _ = as_text_batch(texts)
        if not hasattr(self, "_to_ids"):
            self._to_ids = keras.Model(self.model.input, self.model.get_layer("crop").output)
        return np.asarray(self._to_ids(tf.constant(batch)), dtype=np.int32)


# === Export ===


def export_saved_model(spec, model, path: str) -> str:
    """SavedModel whose ``serving_default`` signature maps raw strings to probabilities.

    Takes ``text`` (tf.string ``[batch]``); returns ``probabilities`` (float32 ``[batch, 2]``, in
    the order of ``labels.txt``) and ``label`` (tf.string ``[batch]``).
    """
    import tensorflow as tf

    from zoo._export import write_saved_model

    labels = tf.constant(list(spec.labels))

    def serve(text):
        positive = tf.reshape(model(text, training=False), [-1])
        probabilities = tf.stack([1.0 - positive, positive], axis=-1)
        return {"probabilities": probabilities, "label": tf.gather(labels, tf.cast(positive >= 0.5, tf.int32))}

    return write_saved_model(model, path, {"serve": (serve, [tf.TensorSpec([None], tf.string, name="text")])})


def export_tflite(spec, model, out_dir: str) -> str:
    """TFLite of the token-id part (builtin ops only), with ``vocab.txt`` and ``tokenizer.json`` beside it.

    Takes token ids (int32 ``[1, sequence_length]``, 0-padded) and returns P(positive) (float32
    ``[1, 1]``). ``vocab.txt`` has one token per line (line i is id i; 0 padding, 1 out-of-vocabulary);
    ``zoo.pipeline(name).tokenize(texts)`` gives the same ids.
    """
    import json
    import os

    import tensorflow as tf

    from zoo._export import convert_to_tflite

    args = spec.builder_args
    classifier = model.get_layer("classifier")
    forward = tf.function(lambda ids: classifier(ids, training=False))
    signature = [tf.TensorSpec([1, args["sequence_length"]], tf.int32, name="token_ids")]
    path = convert_to_tflite(forward, signature, os.path.join(out_dir, f"{spec.name}.tflite"))

    vocabulary = model.get_layer("vectorize").get_vocabulary()
    with open(os.path.join(out_dir, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(vocabulary) + "\n")
    tokenizer = {
        "steps": [
            "lower-case (Unicode)",
            "replace <br />, <br/> and <br> with a space",
            "put spaces around ! and ?",
            "replace every run of characters that are not a letter, a digit, an apostrophe, ! or ? with a space",
            "split on whitespace",
            "map each token to its line number in vocab.txt; unknown tokens are 1 ([UNK])",
            f"if there are more than {args['sequence_length']} ids, keep the first {args['head_length']} "
            f"and the last {args['sequence_length'] - args['head_length']}",
            f"pad with 0 at the end to {args['sequence_length']} ids",
        ],
        "sequence_length": args["sequence_length"],
        "head_length": args["head_length"],
        "padding_id": 0,
        "oov_id": 1,
        "vocab_file": "vocab.txt",
        "input": {"name": "token_ids", "dtype": "int32", "shape": [1, args["sequence_length"]]},
        "output": {"name": "probability", "dtype": "float32", "shape": [1, 1], "meaning": f"P({spec.labels[1]})"},
        "python": f"zoo.pipeline({spec.name!r}).tokenize(texts)",
    }
    with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer, f, indent=2)
    return path


# === Registered IMDB models ===

_IMDB = dict(
    task="sentiment classification",
    structure="many-to-one",
    dataset="imdb",
    dataset_name="IMDB Large Movie Review Dataset v1.0 (Maas et al. 2011)",
    labels=("negative", "positive"),
    metric="accuracy",
    recipe="recipes/train_text_classifier.py",
    data_license="IMDb user reviews for research use; cite Maas et al. 2011 (no license stated by the authors)",
    builder="zoo.models.text_classifier:build_text_classifier",
    evaluator="zoo.models.text_classifier:evaluate",
    pipeline="zoo.models.text_classifier:TextClassificationPipeline",
    example='["A wonderful, moving film.", "Dull and far too long."]',
    validation_split="2,500 reviews carved from the official train split with a fixed seed",
    unit="reviews",
)
_ARCHITECTURES = {
    "simplernn": ("A single SimpleRNN layer (Elman network).", dict(cell="simple_rnn", units=64)),
    "lstm": ("A single LSTM layer.", dict(cell="lstm", units=64)),
    "gru": ("A single GRU layer.", dict(cell="gru", units=64)),
    "bilstm": ("A bidirectional LSTM layer.", dict(cell="lstm", units=64, bidirectional=True)),
    "bigru": ("A bidirectional GRU layer.", dict(cell="gru", units=64, bidirectional=True)),
}
for _arch, (_what, _args) in _ARCHITECTURES.items():
    register(
        ModelSpec(
            name=f"imdb-{_arch}",
            builder_args=dict(_args, vocab_size=20000, embedding_dim=100, sequence_length=400, head_length=100),
            description=(
                f"Binary sentiment of an English movie review. {_what} It reads up to 400 tokens (the first 100 "
                "and the last 300 of longer reviews) with 100-d word embeddings initialised from word2vec vectors "
                "trained on the IMDB train and unlabelled reviews; the per-step outputs are max- and mean-pooled "
                "over time and a sigmoid gives P(positive)."
            ),
            **_IMDB,
        )
    )
