"""The name classifier's pipeline and batched prediction: a surname in, its likeliest languages out."""

from __future__ import annotations

from zoo._pipeline import Pipeline


def predict_proba(model, names: list[str], *, batch_size: int = 256, progress: bool | None = None,
                  desc: str = "predict"):
    """Probabilities per language for a list of names, as a NumPy array ``(n, languages)``."""
    import numpy as np
    import tensorflow as tf

    from zoo._inference import compiled_forward
    from zoo._predict import predict_batched

    forward = compiled_forward(model)
    rows = predict_batched(names, lambda batch: list(np.asarray(forward(tf.constant(batch)))),
                           batch_size=batch_size, progress=progress, desc=desc, unit="name")
    return np.asarray(rows, np.float32).reshape(len(names), -1)


def check_names(names) -> tuple[list[str], bool]:
    """``(names, single)`` for one name or a batch; a name must be a non-empty string with a letter in it."""
    from zoo._inputs import as_text_batch

    batch, single = as_text_batch(names, what="name")
    for index, name in enumerate(batch):
        if not any(c.isalpha() for c in name):
            where = "" if single else f" at index {index}"
            raise ValueError(f"The name{where} has no letters: {name!r}. Give a surname such as 'Nakamura'.")
    return [name.strip() for name in batch], single


class NameClassificationPipeline(Pipeline):
    """A surname in, its ``top_k`` likeliest languages out, each ``{"label", "score"}``.

    Example:
        >>> langs = zoo.pipeline("names-char-rnn")
        >>> langs("Nakamura")
        [{'label': 'Japanese', 'score': 0.99}, {'label': 'Russian', 'score': 0.004}, ...]
        >>> langs(["Nakamura", "Schmidt"], top_k=1)
        [[{'label': 'Japanese', 'score': 0.99}], [{'label': 'German', 'score': 0.95}]]
    """

    def predict_proba(self, names):
        """Probabilities per language (in the order of ``self.labels``), ``(n, languages)``."""
        batch, _ = check_names(names)
        return predict_proba(self.model, batch, batch_size=self.batch_size)

    def __call__(self, names, *, top_k: int = 3):
        import numpy as np

        if not isinstance(top_k, int) or isinstance(top_k, bool) or not 1 <= top_k <= len(self.labels):
            raise ValueError(f"top_k must be an integer from 1 to {len(self.labels)}, got {top_k!r}.")
        batch, single = check_names(names)
        results = []
        for row in predict_proba(self.model, batch, batch_size=self.batch_size):
            best = np.argsort(-row, kind="stable")[:top_k]
            results.append([{"label": self.labels[i], "score": round(float(row[i]), 4)} for i in best])
        return results[0] if single else results

    @staticmethod
    def format(name: str, result: list) -> str:
        """One readable line for the command line."""
        return f"{name:<20} " + ", ".join(f"{r['label']} {r['score']:.4f}" for r in result)

    def char_ids(self, names):
        """Character ids exactly as the model sees them: int32 ``(n, longest)``, 0-padded (the TFLite input)."""
        import numpy as np
        import tensorflow as tf

        batch, _ = check_names(names)
        return np.asarray(self.model.get_layer("characters")(tf.constant(batch)), dtype=np.int32)
