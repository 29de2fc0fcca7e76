"""Images in: paths, bytes, PIL images and arrays, read the same way for every model that takes images.

JPEG, PNG, GIF and BMP are decoded by TensorFlow (like training features and SavedModel exports, so all
see the same pixels); other formats, and images too large for that, by Pillow; EXIF rotation applied.
"""

from __future__ import annotations

import io
import os

MAX_DECODE_SIDE = 1600  # larger images are shrunk while decoding (no zoo model looks at more pixels)


def load_image(image, *, where: str = ""):
    """One image as a float32 ``(H, W, 3)`` RGB array in [0, 255].

    Accepts a path (``str`` or ``os.PathLike``), encoded bytes (JPEG, PNG, GIF, BMP, WebP, TIFF...:
    whatever Pillow reads), a ``PIL.Image.Image`` or an array ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)``
    or ``(H, W, 4)`` (uint8 in [0, 255]; floats in [0, 255], or in [0, 1] when no value exceeds 1).
    Grayscale is repeated to RGB, alpha dropped, EXIF rotation applied; images over 1600 px are
    shrunk while decoding.

    Raises:
        FileNotFoundError: a path that does not exist.
        TypeError: anything that is not an image.
        ValueError: bytes or a file that are not an image, an empty or malformed array.
    """
    import numpy as np

    if image is None:
        raise TypeError(f"Expected an image{where} (a path, encoded bytes, a PIL image or an array), got None.")
    if isinstance(image, (str, os.PathLike)):
        path = os.fspath(image)
        if not os.path.exists(path):
            raise FileNotFoundError(f"No such image file{where}: {path!r}.")
        if os.path.isdir(path):
            raise ValueError(f"{path!r}{where} is a folder, not an image file.")
        with open(path, "rb") as f:
            return _decode(f.read(), f"the file {path!r}")
    if isinstance(image, (bytes, bytearray, memoryview)):
        if len(image) == 0:
            raise ValueError(f"The image bytes{where} are empty.")
        return _decode(bytes(image), f"the bytes{where}")
    if hasattr(image, "numpy") and not hasattr(image, "getpixel"):  # a tf.Tensor
        image = image.numpy()
        if isinstance(image, bytes):
            return load_image(image, where=where)
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - pillow is a dependency
        Image = None
    if Image is not None and isinstance(image, Image.Image):
        return _from_pil(image, where)
    if isinstance(image, np.ndarray) or hasattr(image, "__array__"):
        return _from_array(np.asarray(image), where)
    raise TypeError(
        f"Expected an image{where} (a path, encoded bytes, a PIL image or an (H, W, 3) array), got {type(image).__name__}."
    )


def _decode(data: bytes, what: str):
    """Encoded bytes to float32 RGB. JPEG, PNG, GIF and BMP are decoded by TensorFlow, like the training
    features and the SavedModel (so all three see the same pixels); other formats and huge images by Pillow."""
    from PIL import Image, UnidentifiedImageError

    what = what[0].upper() + what[1:]
    try:
        image = Image.open(io.BytesIO(data))  # reads the header only
        fmt, size, mode = image.format, image.size, image.mode
        orientation = image.getexif().get(0x0112, 1)
    except Image.DecompressionBombError as error:
        raise ValueError(f"{what} holds an image too large to decode safely: {error}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise ValueError(f"{what} is not an image Pillow can read ({error}).") from None
    if fmt in ("JPEG", "PNG", "GIF", "BMP") and max(size) <= MAX_DECODE_SIDE and mode not in ("CMYK", "YCbCr"):
        import numpy as np
        import tensorflow as tf

        try:
            pixels = tf.io.decode_image(data, channels=3, expand_animations=False).numpy().astype(np.float32)
        except (tf.errors.InvalidArgumentError, ValueError):
            pixels = None
        if pixels is not None:
            return _orient(pixels, orientation)
    try:
        if fmt == "JPEG" and max(size) > MAX_DECODE_SIDE:
            image.draft("RGB", (MAX_DECODE_SIDE, MAX_DECODE_SIDE))  # decode a huge JPEG at a reduced scale
        image.load()
    except Image.DecompressionBombError as error:
        raise ValueError(f"{what} holds an image too large to decode safely: {error}") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise ValueError(f"{what} is not an image Pillow can read ({error}).") from None
    return _from_pil(image, "")


def _orient(pixels, orientation: int):
    """Applies an EXIF orientation (1-8) to an (H, W, 3) array, as PIL.ImageOps.exif_transpose does."""
    import numpy as np

    transposed = pixels.transpose(1, 0, 2)
    return np.ascontiguousarray({
        2: pixels[:, ::-1], 3: pixels[::-1, ::-1], 4: pixels[::-1], 5: transposed,
        6: np.rot90(pixels, -1), 7: transposed[::-1, ::-1], 8: np.rot90(pixels, 1),
    }.get(orientation, pixels))


def _from_pil(image, where: str):
    import numpy as np
    from PIL import Image, ImageOps

    image = ImageOps.exif_transpose(image)
    if max(image.size) > MAX_DECODE_SIDE:
        image = image.copy()
        image.thumbnail((MAX_DECODE_SIDE, MAX_DECODE_SIDE), Image.BILINEAR)
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        return _from_array(np.asarray(image, dtype=np.float32) / (257.0 if image.mode.startswith("I;16") else 1.0), where)
    return np.asarray(image.convert("RGB"), dtype=np.float32)


def _from_array(array, where: str):
    import numpy as np

    if array.dtype == bool:
        array = array.astype(np.float32)
    if not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise TypeError(f"Expected a numeric image array{where}, got dtype {array.dtype}.")
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[-1] not in (1, 3, 4):
        raise ValueError(f"Expected an image array{where} of shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), "
                         f"got shape {array.shape}.")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"The image array{where} is empty (shape {array.shape}).")
    integer = np.issubdtype(array.dtype, np.integer)
    scale = 1.0 / 257.0 if array.dtype == np.uint16 else 1.0
    array = array.astype(np.float32) * scale
    if not np.all(np.isfinite(array)):
        raise ValueError(f"The image array{where} holds NaN or infinite values.")
    if not integer and array.max(initial=0.0) <= 1.0:
        array = array * 255.0
    array = np.clip(array, 0.0, 255.0)
    if array.shape[-1] == 1:
        array = np.repeat(array, 3, axis=-1)
    return np.ascontiguousarray(array[:, :, :3])


def as_image_batch(images) -> tuple[list, bool]:
    """One image or a batch of them to a list, and whether one image was given."""
    import numpy as np

    if images is None:
        raise TypeError("Expected an image (a path, encoded bytes, a PIL image or an array) or a list of them, got None.")
    if hasattr(images, "numpy") and not hasattr(images, "getpixel"):
        images = images.numpy()
    if isinstance(images, np.ndarray) and (images.ndim == 4 or (images.dtype == object and images.ndim == 1)):
        images = list(images)
    if isinstance(images, (list, tuple)):
        if len(images) == 0:
            raise ValueError("Expected at least one image, got an empty batch.")
        return list(images), False
    return [images], True


def resize_pixels(array, image_size: int):
    """A float32 ``(H, W, 3)`` image resized (whole image, no crop; bilinear with antialiasing) to ``(size, size, 3)``.

    The SavedModel export does the same in its graph, so both see the same pixels.
    """
    import numpy as np
    import tensorflow as tf

    return np.asarray(tf.image.resize(array, (image_size, image_size), method="bilinear", antialias=True), np.float32)


def to_pixels(images, image_size: int, *, first_index: int | None = 0):
    """A list of images (any accepted form) to the encoder input: float32 ``(n, size, size, 3)`` in [0, 255].

    ``first_index`` is the batch index of ``images[0]``, named in error messages (None for a single image).
    """
    import numpy as np

    return np.stack([
        resize_pixels(load_image(image, where="" if first_index is None else f" at index {first_index + i}"), image_size)
        for i, image in enumerate(images)
    ])
