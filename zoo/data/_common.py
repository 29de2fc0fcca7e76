"""Where datasets are found: the data directory first, then the official download."""

from __future__ import annotations

import dataclasses
import os


@dataclasses.dataclass(frozen=True)
class Sentences:
    """Parallel lists of sentences: ``tokens[i]`` and its tags ``tags[i]``, of equal lengths."""

    tokens: list[list[str]]
    tags: list[list[str]]

    def __post_init__(self):
        if len(self.tokens) != len(self.tags) or any(len(s) != len(t) for s, t in zip(self.tokens, self.tags)):
            raise ValueError("tokens and tags must be parallel: one tag per token in every sentence.")

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def num_tokens(self) -> int:
        return sum(len(sentence) for sentence in self.tokens)


def data_dir() -> str | None:
    """The data directory named by ``ZOO_DATA_DIR``, or None when unset."""
    path = os.environ.get("ZOO_DATA_DIR")
    return os.path.expanduser(path) if path else None


def find_local_file(dataset: str, names: tuple[str, ...]) -> str | None:
    """The first of ``names`` present in ``$ZOO_DATA_DIR/<dataset>/`` (or directly in ``$ZOO_DATA_DIR``)."""
    root = data_dir()
    if not root:
        return None
    for folder in (os.path.join(root, dataset), root):
        for name in names:
            candidate = os.path.join(folder, name)
            if os.path.isfile(candidate):
                return candidate
    return None


def download_official(filename: str, url: str, sha256: str, *, dataset: str) -> str:
    """Downloads an official archive into the Keras cache, verified against its published sha256."""
    if os.environ.get("ZOO_OFFLINE", "") not in ("", "0"):
        raise FileNotFoundError(
            f"Dataset {dataset!r} is not available offline: set ZOO_DATA_DIR to a folder holding "
            f"{dataset}/{filename} (looked in {data_dir() or 'no ZOO_DATA_DIR set'}), or unset ZOO_OFFLINE "
            f"to download it from {url}."
        )
    import keras

    try:
        return keras.utils.get_file(
            filename, origin=url, file_hash=sha256, hash_algorithm="sha256", cache_subdir=f"datasets/{dataset}"
        )
    except ValueError:  # hash mismatch: Keras already names the file and both hashes
        raise
    except Exception as error:  # Keras wraps every network failure in a bare Exception
        raise ConnectionError(
            f"Could not download dataset {dataset!r} from {url}: {error}. Without network access, set "
            f"ZOO_DATA_DIR to a folder holding {dataset}/{filename}."
        ) from error
