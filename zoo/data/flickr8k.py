"""Flickr8k (Hodosh, Young & Hockenmaier 2013): 8,091 Flickr photos with 5 English captions each.

The official split lists 6,000 training, 1,000 development and 1,000 test images; 91 images are in
no split. The loader reads two archives from ``$ZOO_DATA_DIR/flickr8k/``:

- the images: ``Flickr8k_Dataset_160.tar`` (every image resized to 160x160, the copy this project
  trains on) or the official ``Flickr8k_Dataset.zip`` (full-size photos); both hold
  ``Flicker8k_Dataset/<image id>.jpg`` (sic: "Flicker");
- the text files: ``Flickr8k_text.tar.gz`` or the official ``Flickr8k_text.zip``, holding
  ``Flickr8k.token.txt`` (``<image>.jpg#<0-4>\\t<caption>``) and ``Flickr_8k.{train,dev,test}Images.txt``.

Flickr8k has no download with a published hash (the original page hands it out through a request
form), so nothing is downloaded: a missing archive raises `FileNotFoundError` saying where to put it.
A known quirk of ``Flickr8k.token.txt`` is ignored: five captions for ``2258277193_586949ec62.jpg.1``,
an image that does not exist and is in no split.

Example:
    >>> from zoo.data import flickr8k
    >>> test = flickr8k.load("test")
    >>> len(test), test.images[0], test.captions[0][0]
    (1000, '3385593926_d3e9c21170.jpg', 'The dogs are in the snow in front of a fence .')
    >>> jpeg_bytes = flickr8k.read_images(test.images[:2])
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import tarfile
import zipfile

DATASET = "flickr8k"
IMAGE_ARCHIVES = ("Flickr8k_Dataset_160.tar", "Flickr8k_Dataset.zip")
TEXT_ARCHIVES = ("Flickr8k_text.tar.gz", "Flickr8k_text.zip")
CAPTIONS_FILE = "Flickr8k.token.txt"
SPLIT_FILES = {"train": "Flickr_8k.trainImages.txt", "validation": "Flickr_8k.devImages.txt",
               "test": "Flickr_8k.testImages.txt"}
SPLIT_SIZES = {"train": 6000, "validation": 1000, "test": 1000}
SPLIT_ALIASES = {"dev": "validation"}
CAPTIONS_PER_IMAGE = 5
IMAGE_FOLDER = "Flicker8k_Dataset"  # the official folder name, misspelling included

# A caption token: a run of letters/digits, or a clitic such as 's (so "dog's" is "dog" + "'s", as the
# PTB tokenizer of the COCO caption evaluation splits it). Everything else (punctuation) is dropped.
_TOKEN = re.compile(r"'[a-z]+|[a-z0-9]+")


@dataclasses.dataclass(frozen=True)
class Captions:
    """Images of one split, in the order of the official list, with their reference captions.

    Attributes:
        images: image file names, e.g. ``"1000268201_693b08cb0e.jpg"``.
        captions: per image, its 5 captions (``#0`` to ``#4``) exactly as written in ``Flickr8k.token.txt``.
    """

    images: list[str]
    captions: list[tuple[str, ...]]

    def __post_init__(self):
        if len(self.images) != len(self.captions):
            raise ValueError("images and captions must be parallel lists.")

    def __len__(self) -> int:
        return len(self.images)


def tokenize(caption: str) -> list[str]:
    """Lower-case word tokens of a caption, punctuation dropped: ``"A dog's ball ."`` -> ``["a", "dog", "'s", "ball"]``."""
    return _TOKEN.findall(caption.lower())


def detokenize(tokens) -> str:
    """The caption string of tokens: words joined by spaces, clitics attached (``dog 's`` -> ``dog's``)."""
    return " ".join(tokens).replace(" '", "'")


def _missing(kind: str, names: tuple[str, ...]) -> FileNotFoundError:
    from zoo.data._common import data_dir

    root = data_dir()
    where = os.path.join(root, DATASET) if root else "no ZOO_DATA_DIR set"
    return FileNotFoundError(
        f"Flickr8k {kind} not found: put {' or '.join(names)} in $ZOO_DATA_DIR/{DATASET}/ (looked in {where}). "
        "Flickr8k has no download with a published checksum; request it from the authors "
        "(https://forms.illinois.edu/sec/1713398) or use a copy of the official Flickr8k_Dataset.zip and Flickr8k_text.zip."
    )


def text_archive_path() -> str:
    """Path of the text archive (captions and split lists) in the data directory."""
    from zoo.data._common import find_local_file

    path = find_local_file(DATASET, TEXT_ARCHIVES)
    if path is None:
        raise _missing("text files", TEXT_ARCHIVES)
    return path


def image_archive_path() -> str:
    """Path of the image archive in the data directory."""
    from zoo.data._common import find_local_file

    path = find_local_file(DATASET, IMAGE_ARCHIVES)
    if path is None:
        raise _missing("images", IMAGE_ARCHIVES)
    return path


# === Text: captions and splits ===


def _read_members(path: str, wanted: set[str]) -> dict[str, str]:
    """The text of the members of an archive whose base name is in ``wanted``."""
    out = {}
    if path.endswith(".zip"):
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                base = name.rsplit("/", 1)[-1]
                if base in wanted and "__MACOSX" not in name:
                    out[base] = archive.read(name).decode("utf-8")
    else:
        with tarfile.open(path) as archive:
            for member in archive:
                base = member.name.rsplit("/", 1)[-1]
                if base in wanted and member.isfile():
                    out[base] = archive.extractfile(member).read().decode("utf-8")
    missing = wanted - set(out)
    if missing:
        raise ValueError(f"{path} does not look like the Flickr8k text archive: {sorted(missing)} missing.")
    return out


@functools.lru_cache(maxsize=2)
def _read_text(path: str) -> dict[str, Captions]:
    files = _read_members(path, {CAPTIONS_FILE, *SPLIT_FILES.values()})
    captions: dict[str, dict[int, str]] = {}
    for number, line in enumerate(files[CAPTIONS_FILE].splitlines(), start=1):
        if not line.strip():
            continue
        key, sep, caption = line.partition("\t")
        image, hash_sign, index = key.rpartition("#")
        if not sep or not hash_sign or not index.isdigit():
            raise ValueError(f"{path}:{CAPTIONS_FILE}:{number}: expected '<image>#<n>\\t<caption>', got {line!r:.80}.")
        captions.setdefault(image, {})[int(index)] = caption.strip()
    out = {}
    for split, filename in SPLIT_FILES.items():
        images = [line.strip() for line in files[filename].splitlines() if line.strip()]
        rows = []
        for image in images:
            found = captions.get(image, {})
            if sorted(found) != list(range(CAPTIONS_PER_IMAGE)):
                raise ValueError(f"{path}: image {image} of the {split} split has captions {sorted(found)}, expected #0-#4.")
            rows.append(tuple(found[i] for i in range(CAPTIONS_PER_IMAGE)))
        if len(images) != SPLIT_SIZES[split] or len(set(images)) != len(images):
            raise ValueError(f"{path}: the {split} list has {len(images):,} images ({len(set(images)):,} distinct), "
                             f"expected {SPLIT_SIZES[split]:,}.")
        out[split] = Captions(images, rows)
    return out


def load(split: str, *, limit: int | None = None) -> Captions:
    """Images and reference captions of one official split.

    Args:
        split: ``"train"`` (6,000 images), ``"validation"`` (the official dev list, 1,000; ``"dev"`` is an
            alias) or ``"test"`` (1,000).
        limit: keep only ``limit`` images: a fixed seeded sample of ``"train"``
            (`zoo.data._common.sample_indices`), the first ``limit`` of the official list otherwise (the
            slices that evaluation and its tests use).
    """
    from zoo.data._common import check_limit, sample_indices

    split = SPLIT_ALIASES.get(split, split)
    if split not in SPLIT_FILES:
        raise ValueError(f"Unknown Flickr8k split {split!r}; expected one of {tuple(SPLIT_FILES)} (or 'dev').")
    check_limit(limit)
    data = _read_text(text_archive_path())[split]
    if limit is not None and split == "train":
        keep = sample_indices(len(data), limit)
        data = Captions([data.images[i] for i in keep], [data.captions[i] for i in keep])
    elif limit is not None:
        data = Captions(data.images[:limit], data.captions[:limit])
    return data


# === Images ===


@functools.lru_cache(maxsize=2)
def _image_index(path: str) -> dict[str, tuple[int, int]]:
    """``{image file name: (offset, size)}`` of the JPEGs in a plain tar; for a zip, the member names."""
    index = {}
    if path.endswith(".zip"):
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                base = info.filename.rsplit("/", 1)[-1]
                if base.endswith(".jpg") and "__MACOSX" not in info.filename:
                    index[base] = (-1, info.file_size)
        return index
    with tarfile.open(path) as archive:
        for member in archive:
            base = member.name.rsplit("/", 1)[-1]
            if member.isfile() and base.endswith(".jpg"):
                index[base] = (member.offset_data, member.size)
    return index


def image_names() -> list[str]:
    """File names of every image in the archive, sorted."""
    return sorted(_image_index(image_archive_path()))


def read_images(names) -> list[bytes]:
    """The encoded JPEG bytes of images given by file name, in the given order."""
    path = image_archive_path()
    index = _image_index(path)
    missing = [n for n in names if n not in index]
    if missing:
        raise KeyError(f"{len(missing)} image(s) not in {path}, e.g. {missing[0]!r}.")
    if path.endswith(".zip"):
        with zipfile.ZipFile(path) as archive:
            members = {info.filename.rsplit("/", 1)[-1]: info for info in archive.infolist()}
            return [archive.read(members[n]) for n in names]
    out = []
    with open(path, "rb") as f:
        for name in names:
            offset, size = index[name]
            f.seek(offset)
            out.append(f.read(size))
    return out
