"""The captioners' pipeline: images in, captions out (and where the model looked)."""

from __future__ import annotations

from zoo._images import as_image_batch, load_image, to_pixels
from zoo._pipeline import Pipeline
from zoo._predict import predict_batched
from zoo.decoding import check_options
from zoo.models.captioner.decoding import caption_pixels
from zoo.models.captioner.model import DEFAULT_BEAM_WIDTH, MAX_WORDS, image_size_of
from zoo.models.captioner.plots import save_captioned_image

class ImageCaptioningPipeline(Pipeline):
    """Images in, caption strings out.

    Example:
        >>> cap = zoo.pipeline("image-caption-lstm")
        >>> cap("dog.jpg")                                # a path, bytes, a PIL image or an (H, W, 3) array
        'a black dog runs through the grass'
        >>> cap(["a.jpg", "b.png"], beam_width=3)         # a batch: a list of captions
        >>> cap.caption_to_png("dog.jpg", "dog_captioned.png")   # with one attention map per word for the attention model
    """

    def __init__(self, spec, model, *, batch_size: int = 64, beam_width: int = DEFAULT_BEAM_WIDTH,
                 max_words: int = MAX_WORDS):
        super().__init__(spec, model, batch_size=batch_size)
        self.beam_width, self.max_words = _checked(beam_width, max_words)
        self.image_size = image_size_of(model)

    def __repr__(self):
        return f"{type(self).__name__}({self.spec.name!r}, beam_width={self.beam_width})"

    def pixels(self, images):
        """The encoder input of one image or a batch: float32 ``(n, 160, 160, 3)`` in [0, 255] (the TFLite encoder input)."""
        batch, single = as_image_batch(images)
        return to_pixels(batch, self.image_size, first_index=None if single else 0)

    def _run(self, images, beam_width, max_words):
        """``(caption, attention map or None)`` per image, in batches, and whether one image was given."""
        beam_width, max_words = _checked(self.beam_width if beam_width is None else beam_width,
                                         self.max_words if max_words is None else max_words)
        batch, single = as_image_batch(images)

        def caption_batch(chunk):  # (index, image) pairs: the index names a bad image in the error
            pixels = to_pixels([image for _, image in chunk], self.image_size, first_index=None if single else chunk[0][0])
            captions, maps = caption_pixels(self.model, pixels, beam_width=beam_width, max_words=max_words,
                                            return_attention=True)
            return list(zip(captions, maps))

        return predict_batched(list(enumerate(batch)), caption_batch, batch_size=self.batch_size, progress=False), single

    def __call__(self, images, *, beam_width: int | None = None, max_words: int | None = None):
        """Captions of one image (a str) or of a batch (a list of str).

        Args:
            images: a path, encoded bytes, a PIL image or an array, or a list of those (or an ``(n, H, W, 3)`` array).
            beam_width: 1 for greedy decoding; default 3 (the setting of the card's scores).
            max_words: longest caption, in words (default 20).
        """
        pairs, single = self._run(images, beam_width, max_words)
        captions = [caption for caption, _ in pairs]
        return captions[0] if single else captions

    def caption_with_attention(self, images, *, beam_width: int | None = None, max_words: int | None = None):
        """``(caption, attention)`` per image; attention is ``(words, 5, 5)`` for the attention model (one map per
        word of ``zoo.data.flickr8k.tokenize(caption)``, each summing to 1) and None for show_and_tell."""
        pairs, single = self._run(images, beam_width, max_words)
        return pairs[0] if single else pairs

    def caption_to_png(self, image, path_out, *, beam_width: int | None = None) -> str:
        """Captions one image and writes it with its caption (and attention maps) to a PNG; returns the caption.

        See `save_captioned_image`.
        """
        caption, attention = self.caption_with_attention(image, beam_width=beam_width)
        save_captioned_image(path_out, load_image(image), caption, attention)
        return caption

    @staticmethod
    def format(text, result) -> str:
        """One readable line for the command line: ``photo.jpg: a dog runs on the grass``."""
        return f"{text}: {result}"


def _checked(beam_width, max_words):
    check_options(beam_width=beam_width, max_length=max_words, names={"max_length": "max_words"})
    return beam_width, max_words
