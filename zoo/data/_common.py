"""Where datasets are found: the data directory first, then the official download."""

from __future__ import annotations

import os


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
