"""The text classifier's pipeline and batched prediction: raw text in, a label and its probability out."""

from __future__ import annotations

from zoo._pipeline import Pipeline


def predict_proba(model, texts: list[str], *, batch_size: int = 256, progress: bool | None = None,
                  desc: str = "predict"):
    """P(positive) for a list of strings, as a NumPy array ``(n,)`` (the batched loop `zoo._predict` runs)."""
    import numpy as np
    import tensorflow as tf

    from zoo._inference import compiled_forward
    from zoo._predict import predict_batched

    forward = compiled_forward(model)
    # Texts of similar length go together (results come back in the given order): a model that trims its
    # padding then reads each batch only as far as its longest text.
    out = predict_batched(texts, lambda batch: np.asarray(forward(tf.constant(batch))).reshape(-1),
                          batch_size=batch_size, length=len, progress=progress, desc=desc, unit="text")
    return np.asarray(out, np.float32)


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
        return predict_proba(self.model, batch, batch_size=self.batch_size)

    def __call__(self, texts):
        from zoo._inputs import as_text_batch

        batch, single = as_text_batch(texts)
        results = []
        for p in predict_proba(self.model, batch, batch_size=self.batch_size):
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
        import numpy as np
        import tensorflow as tf

        from zoo._inference import per_model
        from zoo._inputs import as_text_batch

        batch, _ = as_text_batch(texts)
        to_ids = per_model(self.model, "token_ids", _token_id_model)
        ids = np.asarray(to_ids(tf.constant(batch)), dtype=np.int32)
        length = self.model.get_layer("crop").length  # a trimming model reads fewer; the TFLite input is always this wide
        return np.pad(ids, [(0, 0), (0, length - ids.shape[1])])


def _token_id_model(model):
    import keras

    return keras.Model(model.input, model.get_layer("crop").output)
