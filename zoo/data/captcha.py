"""Captchas: the 1,040 five-character captcha images of the keras.io OCR example (captcha_images_v2).

Each PNG is 200x50 (RGBA, fully opaque) and shows five characters of the alphabet ``2345678bcdefgmnpwxy``
with noise (blur, a stroke); the label is the file name. There is no official split, so the zoo fixes one
by a stable hash of the label (`zoo.data._common.hash_split`, 10 buckets: 0 is ``test``, 1 ``validation``,
2-9 ``train``): train 819, validation 98, test 123 images. Every label is distinct, so no captcha is on two sides.

The archive is read from ``$ZOO_DATA_DIR/captcha/captcha_images_v2.zip``, else downloaded from the
address the keras.io example uses (its bytes are not those of the zip in the data folder, which was
rebuilt from the same PNGs, so the download is not hash-checked against a published value).

Example:
    >>> from zoo.data import captcha
    >>> test = captcha.load("test")
    >>> test.labels[0], len(test.images[0])       # the label and the PNG's bytes
"""

from __future__ import annotations

import dataclasses
import functools
import zipfile

from zoo.data._common import check_limit, find_local_file, hash_split, sample_indices

ALPHABET = "2345678bcdefgmnpwxy"
LENGTH = 5  # characters per captcha
WIDTH, HEIGHT = 200, 50
NUM_IMAGES = 1_040
SPLITS = ("train", "validation", "test")
COUNTS = {"train": 819, "validation": 98, "test": 123}
TEST_BUCKETS, VALIDATION_BUCKETS = (0,), (1,)  # of 10 hash buckets
ARCHIVE = "captcha_images_v2.zip"
OFFICIAL_URL = "https://github.com/AakashKumarNain/CaptchaCracker/raw/master/captcha_images_v2.zip"


@dataclasses.dataclass(frozen=True)
class Captchas:
    """Parallel lists: ``images[i]`` (the PNG's bytes) shows the text ``labels[i]``."""

    images: list[bytes]
    labels: list[str]

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, indices) -> "Captchas":
        return Captchas([self.images[i] for i in indices], [self.labels[i] for i in indices])


def split_of(label: str) -> str:
    """``"train"``, ``"validation"`` or ``"test"``: the split of the captcha showing ``label``."""
    return hash_split(label, buckets=10, validation=VALIDATION_BUCKETS, test=TEST_BUCKETS)


def archive_path() -> str:
    """``captcha_images_v2.zip`` in ``$ZOO_DATA_DIR/captcha/``, else downloaded (keras.io's address)."""
    local = find_local_file("captcha", (ARCHIVE,))
    if local:
        return local
    return _download()


def _download() -> str:
    import os

    if os.environ.get("ZOO_OFFLINE", "") not in ("", "0"):
        raise FileNotFoundError(f"The captcha images are not available offline: set ZOO_DATA_DIR to a folder holding "
                                f"captcha/{ARCHIVE}, or unset ZOO_OFFLINE to download it from {OFFICIAL_URL}.")
    import keras

    try:
        return keras.utils.get_file(ARCHIVE, origin=OFFICIAL_URL, cache_subdir="datasets/captcha")
    except Exception as error:  # Keras wraps every network failure in a bare Exception
        raise ConnectionError(f"Could not download the captcha images from {OFFICIAL_URL}: {error}. Without network "
                              f"access, set ZOO_DATA_DIR to a folder holding captcha/{ARCHIVE}.") from error


@functools.lru_cache(maxsize=2)
def _splits(path: str) -> dict[str, Captchas]:
    rows = {split: ([], []) for split in SPLITS}
    with zipfile.ZipFile(path) as archive:
        members = sorted(n for n in archive.namelist() if n.lower().endswith(".png"))
        if len(members) != NUM_IMAGES:
            raise ValueError(f"{path} does not look like captcha_images_v2.zip: {len(members):,} PNG files, "
                             f"expected {NUM_IMAGES:,}.")
        for member in members:
            label = member.rsplit("/", 1)[-1][:-4]
            if len(label) != LENGTH or set(label) - set(ALPHABET):
                raise ValueError(f"{path}: {member} is not named by a {LENGTH}-character label over {ALPHABET!r}.")
            images, labels = rows[split_of(label)]
            images.append(archive.read(member))
            labels.append(label)
    return {split: Captchas(*columns) for split, columns in rows.items()}


def load(split: str, *, limit: int | None = None) -> Captchas:
    """One split, in label order.

    Args:
        split: ``"train"``, ``"validation"`` or ``"test"``.
        limit: keep ``limit`` captchas: a fixed seeded sample of ``train``; the first ``limit`` of the others.
    """
    if split not in SPLITS:
        raise ValueError(f"Unknown captcha split {split!r}; expected one of {SPLITS}.")
    check_limit(limit)
    data = _splits(archive_path())[split]
    if limit is None:
        return data
    keep = sorted(sample_indices(len(data), limit)) if split == "train" else range(min(limit, len(data)))
    return data.take(keep)
