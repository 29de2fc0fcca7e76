"""Any picture of one digit made to look like MNIST: 28x28 grey, light ink on a dark background, the ink's
bounding box scaled to 20x20 (aspect kept) and its centre of mass at the centre of the frame.

That is how the MNIST images themselves were made (LeCun et al.: "the images were centered in a 28x28
image by computing the center of mass of the pixels"); a row reader trained on them expects it.

Example:
    >>> from zoo.models.row_reader.digits import to_mnist
    >>> pixels, inverted = to_mnist("seven.png")   # a dark digit on white paper
    >>> pixels.shape, inverted
    ((28, 28), True)
"""

from __future__ import annotations

SIDE = 28  # the MNIST frame
BOX = 20  # the longer side of the digit's bounding box in MNIST
CENTRE = 14.0  # where MNIST puts the centre of mass (row and column; measured: 14.00 and 14.01 on average)
INK = 0.2  # a pixel is ink when its brightness above the background is at least this share of the brightest


def to_mnist(image, *, where: str = ""):
    """``(pixels, inverted)``: float32 ``(28, 28)`` MNIST-style pixels in [0, 255], and whether the picture was
    dark on light and so was inverted.

    A picture that is already 28x28 and light on dark is taken as MNIST pixels as it is. Any other is made
    grey (0.2989 R + 0.5870 G + 0.1140 B), inverted when its border is lighter than the middle of its range
    (dark ink on light paper), its background level subtracted and its brightest ink scaled to 255, cropped
    to the ink's bounding box, resized so the longer side is 20 pixels (bilinear, antialiased) and placed in
    a 28x28 frame with its centre of mass at (14, 14).

    Raises:
        ValueError: a picture with no ink (one flat colour), or anything `zoo._images.load_image` refuses.
    """
    import numpy as np

    from zoo._images import load_image

    rgb = load_image(image, where=where)
    grey_already = np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 0], rgb[..., 2])
    grey = rgb[..., 0] if grey_already else rgb @ np.array([0.2989, 0.5870, 0.1140], np.float32)
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    low, high = float(grey.min()), float(grey.max())
    if high - low < 1.0:
        raise ValueError(f"The image{where} is one flat colour ({low:.0f}): no digit to read.")
    inverted = bool(np.median(border) > (low + high) / 2)
    if inverted:
        grey = 255.0 - grey
        border = 255.0 - border
    if grey.shape == (SIDE, SIDE) and not inverted:
        return grey.astype(np.float32), False
    ink = np.clip(grey - np.median(border), 0.0, None)
    if ink.max() < 1.0:
        raise ValueError(f"The image{where} has no digit: nothing stands out from its background.")
    ink *= 255.0 / ink.max()
    rows, cols = np.flatnonzero((ink >= INK * 255.0).any(axis=1)), np.flatnonzero((ink >= INK * 255.0).any(axis=0))
    digit = ink[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1]
    return _centred(_fit_box(digit)), inverted


def _fit_box(digit):
    """The cropped digit resized so its longer side is `BOX` pixels (aspect kept)."""
    import numpy as np
    import tensorflow as tf

    height, width = digit.shape
    scale = BOX / max(height, width)
    size = (max(1, round(height * scale)), max(1, round(width * scale)))
    resized = tf.image.resize(digit[:, :, None], size, method="bilinear", antialias=True)
    return np.clip(np.asarray(resized, np.float32)[:, :, 0], 0.0, 255.0)


def _centred(digit):
    """The digit pasted into a 28x28 frame so that its centre of mass is at (`CENTRE`, `CENTRE`)."""
    import numpy as np

    height, width = digit.shape
    ys, xs = np.mgrid[:height, :width]
    mass = digit.sum()
    top = int(round(CENTRE - (ys * digit).sum() / mass))
    left = int(round(CENTRE - (xs * digit).sum() / mass))
    top, left = min(max(top, 0), SIDE - height), min(max(left, 0), SIDE - width)  # keep the digit in the frame
    frame = np.zeros((SIDE, SIDE), np.float32)
    frame[top: top + height, left: left + width] = digit
    return frame
