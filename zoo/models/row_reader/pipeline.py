"""The row reader's pipeline and batched prediction: a picture of a digit in, the digit out."""

from __future__ import annotations

from zoo._pipeline import Pipeline


def predict_proba(model, pixels, *, batch_size: int = 1024, progress: bool | None = None, desc: str = "predict"):
    """Probabilities per digit for MNIST pixels ``(n, 28, 28)`` (0 background, 255 ink), as ``(n, 10)``."""
    import numpy as np
    import tensorflow as tf

    from zoo._inference import compiled_forward
    from zoo._predict import predict_batched

    pixels = np.asarray(pixels, np.float32)
    forward = compiled_forward(model)
    rows = predict_batched(list(pixels), lambda batch: list(np.asarray(forward(tf.constant(np.stack(batch))))),
                           batch_size=batch_size, progress=progress, desc=desc, unit="image")
    return np.asarray(rows, np.float32).reshape(len(pixels), -1)


def to_pixels(images, *, first_index: int | None = 0):
    """Pictures of digits (any accepted form) to ``(pixels (n, 28, 28), inverted (n,))`` (`digits.to_mnist` each)."""
    import numpy as np

    from zoo.models.row_reader.digits import to_mnist

    rows = [to_mnist(image, where="" if first_index is None else f" at index {first_index + i}")
            for i, image in enumerate(images)]
    return np.stack([pixels for pixels, _ in rows]), [inverted for _, inverted in rows]


class DigitReadingPipeline(Pipeline):
    """A picture of one digit in (a path, bytes, a PIL image or an array, any size), the digit out.

    The picture is first made MNIST-like (`zoo.models.row_reader.digits.to_mnist`); ``inverted`` says whether
    it was dark on light and was inverted for the model.

    Example:
        >>> reader = zoo.pipeline("mnist-row-lstm")
        >>> reader("seven.png")
        {'label': '7', 'score': 0.9991, 'inverted': True, 'top': [{'label': '7', 'score': 0.9991}, ...]}
        >>> reader(["a.png", "b.png"])                 # a batch: a list of results
    """

    def pixels(self, images):
        """MNIST-style pixels of one picture or a batch: float32 ``(n, 28, 28)`` (the SavedModel and TFLite input)."""
        from zoo._images import as_image_batch

        batch, single = as_image_batch(images)
        return to_pixels(batch, first_index=None if single else 0)[0]

    def predict_proba(self, images):
        """Probabilities per digit, ``(n, 10)``."""
        return predict_proba(self.model, self.pixels(images), batch_size=self.batch_size)

    def __call__(self, images, *, top_k: int = 3):
        import numpy as np

        from zoo._images import as_image_batch

        if not isinstance(top_k, int) or isinstance(top_k, bool) or not 1 <= top_k <= len(self.labels):
            raise ValueError(f"top_k must be an integer from 1 to {len(self.labels)}, got {top_k!r}.")
        batch, single = as_image_batch(images)
        pixels, inverted = to_pixels(batch, first_index=None if single else 0)
        results = []
        for row, flipped in zip(predict_proba(self.model, pixels, batch_size=self.batch_size), inverted):
            best = np.argsort(-row, kind="stable")[:top_k]
            top = [{"label": self.labels[i], "score": round(float(row[i]), 4)} for i in best]
            results.append({**top[0], "inverted": flipped, "top": top})
        return results[0] if single else results

    @staticmethod
    def format(source, result) -> str:
        """One readable line for the command line: ``seven.png: 7 (0.9991), inverted (dark on light)``."""
        note = ", inverted (dark on light)" if result["inverted"] else ""
        return f"{source}: {result['label']} ({result['score']:.4f}){note}"
