"""The CTC reader's pipeline: a picture of text in, the text and a confidence out."""

from __future__ import annotations

from zoo._images import as_image_batch, load_image
from zoo._pipeline import Pipeline


def to_pixels(images, height: int, width: int, *, first_index: int | None = 0):
    """Images (paths, bytes, PIL images, arrays) to the model's input: grey float32 ``(n, height, width)`` in [0, 255].

    Grey is TensorFlow's ``rgb_to_grayscale`` (0.2989 R + 0.5870 G + 0.1140 B); the image is resized
    (bilinear, antialiased) to ``height x width``. The SavedModel export does the same in its graph.
    ``first_index`` is the batch index of ``images[0]``, named in error messages (None for a single image).
    """
    import numpy as np

    rows = []
    for i, image in enumerate(images):
        rgb = load_image(image, where="" if first_index is None else f" at index {first_index + i}")
        rows.append(grey_pixels(rgb, height, width))
    return np.stack(rows)


def grey_pixels(rgb, height: int, width: int):
    """One float32 ``(H, W, 3)`` RGB image in [0, 255] to grey ``(height, width)``, as the SavedModel does it."""
    import numpy as np
    import tensorflow as tf

    grey = tf.image.rgb_to_grayscale(tf.convert_to_tensor(rgb, tf.float32))
    if tuple(grey.shape[:2]) != (height, width):
        grey = tf.image.resize(grey, (height, width), method="bilinear", antialias=True)
    return np.asarray(grey, np.float32)[:, :, 0]


def read_pixels(model, pixels, alphabet: str, *, beam_width: int = 1, batch_size: int = 256,
                progress: bool | None = None, desc: str = "read"):
    """``(text, confidence, probabilities)`` for each row of grey pixels ``(n, height, width)``.

    The probabilities are the model's ``(steps, 1 + len(alphabet))`` per example; the text is decoded by
    `zoo.decoding.ctc_decode` (greedy for ``beam_width=1``, else prefix beam search); the confidence is
    ``exp`` of its score: the best path's probability (greedy) or the labelling's (beam).
    """
    import numpy as np
    import tensorflow as tf

    from zoo._inference import compiled_forward
    from zoo._predict import predict_batched
    from zoo.decoding.ctc import ctc_decode

    forward = compiled_forward(model)

    def run(batch):
        probabilities = forward(tf.constant(np.stack(batch), tf.float32))
        decoded = ctc_decode(probabilities, beam_width=beam_width)
        out = []
        for ids, length, score, p in zip(decoded.ids.numpy(), decoded.lengths.numpy(), decoded.scores.numpy(),
                                         probabilities.numpy()):
            text = "".join(alphabet[i - 1] for i in ids[:length])
            out.append((text, float(np.exp(score)), p))
        return out

    return predict_batched(list(np.asarray(pixels, np.float32)), run, batch_size=batch_size, progress=progress,
                           desc=desc, unit="image")


def input_size(model) -> tuple[int, int]:
    """``(height, width)`` of the pixels ``model`` reads."""
    _, height, width = model.inputs[0].shape
    return int(height), int(width)


class TextReadingPipeline(Pipeline):
    """Pictures of text in, ``{"text", "confidence"}`` out.

    Example:
        >>> reader = zoo.pipeline("captcha-crnn-ctc")
        >>> reader("226md.png")                       # a path, PNG/JPEG bytes, a PIL image or an array
        {'text': '226md', 'confidence': 0.9088}
        >>> reader(["a.png", "b.png"], beam_width=5)  # a batch: a list of results
        >>> reader.plot("226md.png", "read.png")       # the image, its text and the per-step CTC argmax
    """

    def __init__(self, spec, model, *, batch_size: int = 64, beam_width: int = 1):
        from zoo.decoding.ctc import check_beam_width

        super().__init__(spec, model, batch_size=batch_size)
        self.beam_width = check_beam_width(beam_width)
        self.alphabet = "".join(spec.labels)
        self.height, self.width = input_size(model)

    def __repr__(self):
        return f"{type(self).__name__}({self.spec.name!r}, beam_width={self.beam_width})"

    def pixels(self, images):
        """The model's input for one image or a batch: grey float32 ``(n, height, width)`` (the TFLite input)."""
        batch, single = as_image_batch(images)
        return to_pixels(batch, self.height, self.width, first_index=None if single else 0)

    def _read(self, images, beam_width):
        from zoo.decoding.ctc import check_beam_width

        beam_width = check_beam_width(self.beam_width if beam_width is None else beam_width)
        batch, single = as_image_batch(images)
        rows = read_pixels(self.model, to_pixels(batch, self.height, self.width, first_index=None if single else 0),
                           self.alphabet, beam_width=beam_width, batch_size=self.batch_size)
        return rows, single

    def __call__(self, images, *, beam_width: int | None = None):
        """The text of one image (a dict) or of a batch (a list of dicts).

        Args:
            images: a path, encoded bytes, a PIL image or an array, or a list of those.
            beam_width: 1 for greedy decoding (the default, as the card's headline figures); up to 100
                for CTC prefix beam search.
        """
        rows, single = self._read(images, beam_width)
        results = [{"text": text, "confidence": round(confidence, 4)} for text, confidence, _ in rows]
        return results[0] if single else results

    def plot(self, image, path_out, *, beam_width: int | None = None) -> dict:
        """Reads one image and writes a PNG of it with the text read and the per-step CTC argmax; returns the result."""
        from zoo.models.ctc_reader.plots import save_reading

        (row,), _ = self._read([image], beam_width)
        text, confidence, probabilities = row
        save_reading(path_out, load_image(image), self.pixels(image)[0], text, confidence, probabilities, self.alphabet)
        return {"text": text, "confidence": round(confidence, 4)}

    @staticmethod
    def format(source, result) -> str:
        """One readable line for the command line: ``226md.png: 226md (0.9088)``."""
        return f"{source}: {result['text']} ({result['confidence']:.4f})"
