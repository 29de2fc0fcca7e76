"""MNIST handwritten digits: the four original IDX files (LeCun, Cortes, Burges).

28x28 grey images of digits 0-9, white on black (0 background, 255 ink), each digit's 20x20 bounding box
centred by its centre of mass. The official split is 60,000 training and 10,000 test images; the zoo
carves its ``validation`` split from the end of the training file (its last 5,000 images), as the
original papers did, so ``train`` is the first 55,000.

The files are read from ``$ZOO_DATA_DIR/mnist/`` (``train-images-idx3-ubyte.gz``,
``train-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz``, ``t10k-labels-idx1-ubyte.gz``), else
downloaded from the CVDF mirror (the one torchvision and TFDS use) and checked against their sha256.

Example:
    >>> from zoo.data import mnist
    >>> test = mnist.load("test")
    >>> test.images.shape, test.images.dtype, test.labels[:5]
    ((10000, 28, 28), dtype('uint8'), array([7, 2, 1, 0, 4], dtype=uint8))
"""

from __future__ import annotations

import dataclasses
import functools
import gzip

from zoo.data._common import check_limit, download_official, find_local_file, sample_indices

SPLITS = ("train", "validation", "test")
VALIDATION_SIZE = 5_000  # the last images of the official training file
COUNTS = {"train": 55_000, "validation": 5_000, "test": 10_000}
OFFICIAL_URL = "https://storage.googleapis.com/cvdf-datasets/mnist/"
FILES = {  # file: sha256 (the official files; SOURCE.md of the data folder)
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
IMAGE_MAGIC, LABEL_MAGIC = 2051, 2049


@dataclasses.dataclass(frozen=True)
class Digits:
    """``images[i]`` (uint8 ``(28, 28)``, 0 background, 255 ink) shows the digit ``labels[i]``."""

    images: "object"  # np.ndarray (n, 28, 28) uint8
    labels: "object"  # np.ndarray (n,) uint8

    def __len__(self) -> int:
        return len(self.labels)


def file_path(filename: str) -> str:
    """The local copy of one of the four files, else the verified download."""
    local = find_local_file("mnist", (filename,))
    if local:
        return local
    return download_official(filename, OFFICIAL_URL + filename, FILES[filename], dataset="mnist")


def read_idx(path: str, *, magic: int):
    """An IDX file (gzip) as a uint8 array: ``(n, rows, cols)`` for images (magic 2051), ``(n,)`` for labels (2049)."""
    import numpy as np

    with gzip.open(path, "rb") as f:
        data = f.read()
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        raise ValueError(f"{path} is not an MNIST IDX file: magic number {found}, expected {magic}.")
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(magic - 2048)]
    header = 4 + 4 * len(dims)
    array = np.frombuffer(data, dtype=np.uint8, offset=header)
    if array.size != int(np.prod(dims)):
        raise ValueError(f"{path} is truncated: {array.size:,} values for a declared shape {tuple(dims)}.")
    return array.reshape(dims)


@functools.lru_cache(maxsize=2)
def _official(part: str) -> Digits:
    prefix = "train" if part == "train" else "t10k"
    images = read_idx(file_path(f"{prefix}-images-idx3-ubyte.gz"), magic=IMAGE_MAGIC)
    labels = read_idx(file_path(f"{prefix}-labels-idx1-ubyte.gz"), magic=LABEL_MAGIC)
    if len(images) != len(labels):
        raise ValueError(f"MNIST {part}: {len(images):,} images but {len(labels):,} labels.")
    return Digits(images, labels)


def load(split: str, *, limit: int | None = None) -> Digits:
    """One split: ``"train"`` (first 55,000 official training images), ``"validation"`` (last 5,000) or ``"test"``.

    Args:
        limit: keep ``limit`` images: a fixed, class-stratified seeded sample of ``train``; the first
            ``limit`` of ``validation`` and ``test`` (file order).
    """
    if split not in SPLITS:
        raise ValueError(f"Unknown MNIST split {split!r}; expected one of {SPLITS}.")
    check_limit(limit)
    if split == "test":
        data = _official("test")
    else:
        whole = _official("train")
        cut = len(whole) - VALIDATION_SIZE
        part = slice(0, cut) if split == "train" else slice(cut, None)
        data = Digits(whole.images[part], whole.labels[part])
    if limit is None:
        return data
    if split == "train":
        keep = sorted(sample_indices(len(data), limit, strata=data.labels))
    else:
        keep = list(range(min(limit, len(data))))
    return Digits(data.images[keep], data.labels[keep])
