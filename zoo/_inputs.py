"""Validation of user input, so that bad input fails with a clear message and not deep in TensorFlow."""

from __future__ import annotations


def as_text_batch(texts, *, what: str = "text") -> tuple[list[str], bool]:
    """Normalises one text or a batch of texts to a list of str.

    Accepts ``str``, UTF-8 ``bytes``, or a list/tuple/NumPy array/tensor of those.

    Returns:
        ``(texts, single)`` where ``single`` tells that one text (not a batch) was given.

    Raises:
        TypeError: for None or anything that is not text.
        ValueError: for an empty batch, an empty text or bytes that are not valid UTF-8.
    """
    if texts is None:
        raise TypeError(f"Expected a {what} (str) or a list of them, got None.")
    if isinstance(texts, (str, bytes)):
        return [_one_text(texts, None, what)], True
    if hasattr(texts, "numpy"):  # a tf.Tensor
        texts = texts.numpy()
    if hasattr(texts, "tolist") and not isinstance(texts, (list, tuple)):
        texts = texts.tolist()
        if isinstance(texts, (str, bytes)):
            return [_one_text(texts, None, what)], True
    if not isinstance(texts, (list, tuple)):
        raise TypeError(f"Expected a {what} (str) or a list of them, got {type(texts).__name__}.")
    if len(texts) == 0:
        raise ValueError(f"Expected at least one {what}, got an empty batch.")
    return [_one_text(t, i, what) for i, t in enumerate(texts)], False


def _one_text(text, index: int | None, what: str) -> str:
    where = f" at index {index}" if index is not None else ""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ValueError(f"The {what}{where} is bytes that are not valid UTF-8 ({error.reason} at byte {error.start}).") from None
    if not isinstance(text, str):
        raise TypeError(f"Expected the {what}{where} to be a str, got {type(text).__name__}: {text!r:.60}.")
    if not text.strip():
        raise ValueError(f"The {what}{where} is empty; give at least one word.")
    return text
