"""Finding a checkpoint file and making sure it is the right one.

`resolve` looks for a checkpoint (such as ``imdb-bigru.keras``) in three places, in order:

1. the checkpoints shipped with the package;
2. the user cache, ``cache_dir()/checkpoints/`` (``$ZOO_HOME``, else ``$XDG_CACHE_HOME/rnn-zoo``,
   else ``~/.cache/rnn-zoo``);
3. the remote hub at ``$ZOO_HUB_URL``, downloading into the user cache.

The remote layout is flat: a static file server or release page that serves
``<ZOO_HUB_URL>/<name>.keras``, e.g. ``python -m http.server`` in a folder of checkpoints.
Every file is checked against its sha256 before its path is returned. Set ``ZOO_OFFLINE=1`` to
never open a socket.

Example:
    >>> path = resolve("imdb-bigru.keras", "9f2c...e1", shipped_dir="/path/to/zoo/checkpoints")
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request

import filelock

__all__ = ["HubError", "ChecksumError", "CheckpointNotFoundError", "cache_dir", "sha256_of", "resolve"]

_CHUNK = 1 << 20
_ATTEMPTS = 3
_BACKOFF_S = (0.5, 1.0)  # sleep before the 2nd and 3rd attempt
_SOCKET_TIMEOUT_S = 30.0
_LOCK_TIMEOUT_S = 600.0


class HubError(Exception):
    """A checkpoint could not be resolved to a verified local file."""


class ChecksumError(HubError, ValueError):
    """A checkpoint's sha256 is not the expected one."""


class CheckpointNotFoundError(HubError, FileNotFoundError):
    """A checkpoint is in none of the places looked in."""


class _RetryableError(Exception):
    """One download attempt failed in a way another attempt may fix."""


def cache_dir() -> str:
    """The user cache directory for rnn-zoo.

    Returns:
        ``$ZOO_HOME`` if set, else ``$XDG_CACHE_HOME/rnn-zoo``, else ``~/.cache/rnn-zoo``.
    """
    home = os.environ.get("ZOO_HOME")
    if home:
        return os.path.expanduser(home)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return os.path.join(os.path.expanduser(xdg), "rnn-zoo")
    return os.path.join(os.path.expanduser("~"), ".cache", "rnn-zoo")


def sha256_of(path: str) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks.

    Example:
        >>> sha256_of("imdb-bigru.keras")  # doctest: +SKIP
        '9f2c...e1'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _offline() -> bool:
    return os.environ.get("ZOO_OFFLINE", "") not in ("", "0")


def resolve(filename: str, sha256: str, *, shipped_dir: str | None, progress: bool = True) -> str:
    """Local path of a verified copy of `filename` (a checkpoint such as "imdb-bigru.keras").

    Looks in `shipped_dir`, then the user cache, then downloads from ``$ZOO_HUB_URL`` into the
    cache (unless ``$ZOO_OFFLINE`` is set). A corrupt cached copy is deleted and downloaded again.

    Args:
        filename: Bare file name, no directories.
        sha256: Expected hex sha256 of the file.
        shipped_dir: Directory of checkpoints shipped with the package, or None.
        progress: Show a download progress bar on stderr.

    Returns:
        Path of a local file whose sha256 matches.

    Raises:
        ChecksumError: The shipped file, or the download, has the wrong hash; or a corrupt cached
            copy was removed and could not be fetched again.
        CheckpointNotFoundError: The file is nowhere to be found (including HTTP 4xx).
        HubError: The download failed after all attempts.

    Example:
        >>> resolve("imdb-bigru.keras", "9f2c...e1", shipped_dir=None)  # doctest: +SKIP
        '/home/me/.cache/rnn-zoo/checkpoints/imdb-bigru.keras'
    """
    if filename in ("", ".", "..") or os.path.basename(filename) != filename:
        raise ValueError(f"checkpoint file name must be a bare file name, got {filename!r}")
    expected = sha256.lower()
    looked: list[str] = []

    if shipped_dir:
        shipped = os.path.join(shipped_dir, filename)
        looked.append(shipped)
        if os.path.isfile(shipped):
            actual = sha256_of(shipped)
            if actual != expected:
                raise ChecksumError(
                    f"shipped checkpoint {shipped} is corrupt: expected sha256 {expected}, got {actual}. "
                    "Reinstall the package."
                )
            return shipped

    cached = os.path.join(cache_dir(), "checkpoints", filename)
    looked.append(cached)
    corrupt_note = None
    if os.path.isfile(cached):
        actual = sha256_of(cached)
        if actual == expected:
            return cached
        os.remove(cached)
        corrupt_note = (
            f"cached checkpoint {cached} was corrupt (expected sha256 {expected}, got {actual}) and has been removed"
        )

    base = os.environ.get("ZOO_HUB_URL", "")
    url = base.rstrip("/") + "/" + filename if base else None

    if _offline():
        if url:
            looked.append(url + " (not tried)")
        if corrupt_note:
            raise ChecksumError(f"{corrupt_note}; ZOO_OFFLINE is set, so it was not downloaded again.")
        raise CheckpointNotFoundError(
            f"checkpoint {filename} not found, and ZOO_OFFLINE is set so nothing was downloaded. "
            f"Looked in: {', '.join(looked)}. Unset ZOO_OFFLINE or copy the file to {cached}."
        )

    if url is None:
        if corrupt_note:
            raise ChecksumError(f"{corrupt_note}; ZOO_HUB_URL is not set, so it cannot be downloaded again.")
        raise CheckpointNotFoundError(
            f"checkpoint {filename} not found. Looked in: {', '.join(looked)}. "
            f"Set ZOO_HUB_URL to a server that serves <ZOO_HUB_URL>/{filename}, or copy the file to {cached}."
        )

    try:
        return _fetch(url, cached, expected, progress=progress)
    except HubError as err:
        if corrupt_note:
            raise ChecksumError(f"{corrupt_note}; downloading it again failed: {err}") from err
        raise


def _fetch(url: str, dest: str, expected: str, *, progress: bool) -> str:
    """Downloads `url` to `dest` under a file lock, verifying `expected`; returns `dest`."""
    folder = os.path.dirname(dest)
    filename = os.path.basename(dest)
    os.makedirs(folder, exist_ok=True)
    try:
        with filelock.FileLock(dest + ".lock", timeout=_LOCK_TIMEOUT_S):
            # Another process may have finished the same download while we waited for the lock.
            if os.path.isfile(dest):
                if sha256_of(dest) == expected:
                    return dest
                os.remove(dest)

            fd, tmp = tempfile.mkstemp(dir=folder, prefix=filename + ".", suffix=".part")
            os.close(fd)
            try:
                last_error: Exception | None = None
                for attempt in range(_ATTEMPTS):
                    if attempt:
                        time.sleep(_BACKOFF_S[min(attempt - 1, len(_BACKOFF_S) - 1)])
                    try:
                        actual = _download_once(url, tmp, filename, progress=progress)
                        break
                    except _RetryableError as err:
                        last_error = err
                else:
                    raise HubError(
                        f"could not download {filename} from {url} after {_ATTEMPTS} attempts: {last_error}"
                    ) from last_error.__cause__
                if actual != expected:
                    raise ChecksumError(
                        f"downloaded {filename} from {url} has the wrong sha256: expected {expected}, got {actual}"
                    )
                os.chmod(tmp, 0o644)
                os.replace(tmp, dest)
            finally:
                if os.path.exists(tmp):
                    os.remove(tmp)
    except filelock.Timeout as err:
        raise HubError(
            f"timed out after {_LOCK_TIMEOUT_S:.0f} s waiting for {dest}.lock; another process is downloading "
            f"{filename}. Delete the lock file if no such process is running."
        ) from err
    return dest


def _download_once(url: str, tmp: str, filename: str, *, progress: bool) -> str:
    """One attempt at streaming `url` into `tmp`; returns the hex sha256 of what was written.

    Raises `_RetryableError` for failures another attempt may fix, `CheckpointNotFoundError` for 4xx.
    """
    from tqdm.auto import tqdm

    digest = hashlib.sha256()
    received = 0
    request = urllib.request.Request(url, headers={"User-Agent": "rnn-zoo"})
    try:
        with urllib.request.urlopen(request, timeout=_SOCKET_TIMEOUT_S) as response:
            header = response.headers.get("Content-Length")
            total = int(header) if header and header.isdigit() else None
            with open(tmp, "wb") as out, tqdm(
                total=total,
                desc=filename,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                file=sys.stderr,
                disable=not progress,
                leave=False,
            ) as bar:
                while True:
                    chunk = response.read(_CHUNK)
                    if not chunk:
                        break
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
    except urllib.error.HTTPError as err:
        if 400 <= err.code < 500:
            reason = "not found" if err.code == 404 else "refused"
            raise CheckpointNotFoundError(f"checkpoint {filename} {reason} at {url} (HTTP {err.code} {err.reason})") from err
        raise _RetryableError(f"HTTP {err.code} {err.reason}") from err
    except (urllib.error.URLError, http.client.HTTPException, OSError) as err:
        # Covers refused/reset/dropped connections, socket timeouts and IncompleteRead.
        raise _RetryableError(f"{type(err).__name__}: {err}") from err
    if total is not None and received < total:
        raise _RetryableError(f"connection closed after {received} of {total} bytes")
    return digest.hexdigest()
