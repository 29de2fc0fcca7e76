"""Finding a checkpoint file and making sure it is the right one.

`resolve` looks for a checkpoint (such as ``imdb-bigru.keras``) in three places, in order:

1. the ``checkpoints/`` folder of a checkout of the repository, when there is one (development);
2. the user cache, ``cache_dir()/checkpoints/`` (``$ZOO_HOME``, else ``$XDG_CACHE_HOME/rnn-zoo``,
   else ``~/.cache/rnn-zoo``);
3. the download locations, `hub_urls()`: ``$ZOO_HUB_URL`` (one base URL, or several separated by
   spaces, tried in order), else `DEFAULT_HUB_URL`, the project's release downloads; the file is
   downloaded into the user cache, so later uses need no network.

The remote layout is flat: a static file server or release page that serves
``<ZOO_HUB_URL>/<name>.keras``, e.g. ``python -m http.server`` in a folder of checkpoints, or a
``file://`` folder. Every file is checked against its sha256 before its path is returned; downloads go
to a temporary file that is renamed into place only once verified. Set ``ZOO_OFFLINE=1`` to never
open a socket. `fetch_to` fills a folder of your choice (``zoo download --to DIR``); `cache_entries`
and `remove_cached` back ``zoo cache``.

Example:
    >>> path = resolve("imdb-bigru.keras", "9f2c...e1", shipped_dir="/path/to/rnn-zoo/checkpoints")
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

from zoo import __version__

__all__ = [
    "HubError", "ChecksumError", "CheckpointNotFoundError", "DEFAULT_HUB_URL", "hub_urls", "cache_dir", "cached_path",
    "sha256_of", "resolve", "fetch_to", "cache_entries", "remove_cached",
]

# The project's release downloads: one file per checkpoint, ``<DEFAULT_HUB_URL>/<name>.keras``, published with each
# release (a release's cards name the sha256 of that release's files). Override with ``$ZOO_HUB_URL``.
DEFAULT_HUB_URL_PATTERN = "https://github.com/rnn-zoo/rnn-zoo/releases/download/v{version}"
DEFAULT_HUB_URL = DEFAULT_HUB_URL_PATTERN.format(version=__version__)

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


class _DownloadFailed(Exception):
    """Every download location failed; ``failures`` holds ``(url, HubError)`` for each."""

    def __init__(self, failures: list[tuple[str, HubError]]) -> None:
        super().__init__(failures)
        self.failures = failures


def hub_urls() -> list[str]:
    """The base URLs checkpoints are downloaded from, in the order they are tried.

    Returns:
        The URLs in ``$ZOO_HUB_URL`` (separated by spaces), else ``[DEFAULT_HUB_URL]``; no trailing slashes.

    Example:
        >>> hub_urls()  # doctest: +SKIP
        ['https://github.com/rnn-zoo/rnn-zoo/releases/download/v0.1.0']
    """
    bases = [base.rstrip("/") for base in os.environ.get("ZOO_HUB_URL", "").split()]
    return [base for base in bases if base] or [DEFAULT_HUB_URL]


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


def cached_path(filename: str) -> str:
    """Where the user cache keeps ``filename``: ``cache_dir()/checkpoints/<filename>``."""
    return os.path.join(cache_dir(), "checkpoints", filename)


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


def _check_name(filename: str) -> None:
    if filename in ("", ".", "..") or os.path.basename(filename) != filename:
        raise ValueError(f"checkpoint file name must be a bare file name, got {filename!r}")


def resolve(filename: str, sha256: str, *, shipped_dir: str | None, progress: bool = True) -> str:
    """Local path of a verified copy of `filename` (a checkpoint such as "imdb-bigru.keras").

    Looks in `shipped_dir`, then the user cache, then downloads from `hub_urls()` into the cache
    (unless ``$ZOO_OFFLINE`` is set). A corrupt cached copy is deleted and downloaded again.

    Args:
        filename: Bare file name, no directories.
        sha256: Expected hex sha256 of the file.
        shipped_dir: The checkout's folder of checkpoints, or None; skipped when it does not exist.
        progress: Show a download progress bar on stderr.

    Returns:
        Path of a local file whose sha256 matches.

    Raises:
        ChecksumError: The shipped file, or every download, has the wrong hash; or a corrupt cached
            copy was removed and could not be fetched again.
        CheckpointNotFoundError: The file is nowhere to be found and no download location served it
            (HTTP 4xx, unreachable, dropped connections); the message names the file, every URL tried,
            and the ways out.
        HubError: Another process held the download lock for too long.

    Example:
        >>> resolve("imdb-bigru.keras", "9f2c...e1", shipped_dir=None)  # doctest: +SKIP
        '/home/me/.cache/rnn-zoo/checkpoints/imdb-bigru.keras'
    """
    _check_name(filename)
    expected = sha256.lower()
    looked: list[str] = []

    if shipped_dir and os.path.isdir(shipped_dir):
        shipped = os.path.join(shipped_dir, filename)
        looked.append(shipped)
        if os.path.isfile(shipped):
            actual = sha256_of(shipped)
            if actual != expected:
                raise ChecksumError(
                    f"shipped checkpoint {shipped} is corrupt: expected sha256 {expected}, got {actual}. "
                    "Restore it from git (or delete it to download a verified copy)."
                )
            return shipped

    cached = cached_path(filename)
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

    urls = [f"{base}/{filename}" for base in hub_urls()]
    if _offline():
        if corrupt_note:
            raise ChecksumError(f"{corrupt_note}; ZOO_OFFLINE is set, so it was not downloaded again.")
        raise CheckpointNotFoundError(
            f"checkpoint {filename} not found, and ZOO_OFFLINE is set so nothing was downloaded. "
            f"Looked in: {', '.join(looked)}. Not tried: {', '.join(urls)}. "
            f"Unset ZOO_OFFLINE, or copy the file to {cached}."
        )
    try:
        return _fetch(urls, cached, expected, progress=progress)
    except _DownloadFailed as failed:
        raise _unreachable(filename, expected, looked, failed.failures, corrupt_note) from failed.failures[-1][1]


def fetch_to(filename: str, sha256: str, dest_dir: str, *, shipped_dir: str | None = None,
             progress: bool = True) -> tuple[str, str]:
    """Puts a verified copy of `filename` into `dest_dir`, a folder to serve or carry to an offline machine.

    A verified copy already in `dest_dir` is kept (a file there with another hash is deleted); else one in
    `shipped_dir` or the user cache is copied; else the file is downloaded from `hub_urls()` (not through the
    cache). Either way it is written to a temporary file, checked, and renamed into place.

    Returns:
        ``(path, how)``: ``how`` says where the bytes came from (``"already there"``, ``"copied from ..."``,
        ``"downloaded from ..."``).

    Raises:
        The errors of `resolve`.

    Example:
        >>> fetch_to("imdb-gru.keras", "0a6e...7e", "mirror/")  # doctest: +SKIP
        ('mirror/imdb-gru.keras', 'downloaded from https://github.com/.../imdb-gru.keras')
    """
    _check_name(filename)
    expected = sha256.lower()
    os.makedirs(dest_dir, exist_ok=True)
    dest = os.path.join(dest_dir, filename)
    if os.path.isfile(dest):
        if sha256_of(dest) == expected:
            return dest, "already there"
        os.remove(dest)  # wrong bytes are never kept where they could be served or copied
    looked = [dest]
    shipped = [os.path.join(shipped_dir, filename)] if shipped_dir and os.path.isdir(shipped_dir) else []
    for source in shipped + [cached_path(filename)]:
        looked.append(source)
        if os.path.isfile(source) and sha256_of(source) == expected:
            _copy_verified(source, dest, expected)
            return dest, f"copied from {source}"
    urls = [f"{base}/{filename}" for base in hub_urls()]
    if _offline():
        raise CheckpointNotFoundError(
            f"checkpoint {filename} not found, and ZOO_OFFLINE is set so nothing was downloaded. "
            f"Looked in: {', '.join(looked)}. Not tried: {', '.join(urls)}."
        )
    try:
        url = _download(urls, dest, expected, progress=progress)
    except _DownloadFailed as failed:
        raise _unreachable(filename, expected, looked, failed.failures, None) from failed.failures[-1][1]
    return dest, f"downloaded from {url}"


def _unreachable(filename: str, expected: str, looked: list[str], failures: list[tuple[str, HubError]],
                 corrupt_note: str | None) -> HubError:
    """The error for a checkpoint that no location gave: which file, what was tried, and the ways out."""
    cached = cached_path(filename)
    tried = "\n".join(f"  {url}: {error}" for url, error in failures)
    message = (
        f"checkpoint {filename} (sha256 {expected}) is not on this machine and could not be downloaded.\n"
        + (f"{corrupt_note}.\n" if corrupt_note else "")
        + f"Looked in: {', '.join(looked)}.\nTried:\n{tried}\n"
        f"Two ways out: point ZOO_HUB_URL at a server or mirror that serves <ZOO_HUB_URL>/{filename} "
        f"(several URLs may be given, separated by spaces); or copy {filename} into {os.path.dirname(cached)}/ "
        f"(`zoo download NAME --to DIR` on a machine that is online fetches it)."
    )
    if corrupt_note or any(isinstance(error, ChecksumError) for _, error in failures):
        return ChecksumError(message)
    return CheckpointNotFoundError(message)


def _copy_verified(source: str, dest: str, expected: str) -> None:
    """Copies `source` to `dest` through a temporary file that is renamed only when its sha256 is `expected`."""
    folder, filename = os.path.split(dest)
    fd, tmp = tempfile.mkstemp(dir=folder or ".", prefix=filename + ".", suffix=".part")
    try:
        digest = hashlib.sha256()
        with open(source, "rb") as f, os.fdopen(fd, "wb") as out:
            for chunk in iter(lambda: f.read(_CHUNK), b""):
                out.write(chunk)
                digest.update(chunk)
        if digest.hexdigest() != expected:
            raise ChecksumError(f"{source} changed while it was copied: expected sha256 {expected}, got {digest.hexdigest()}")
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _fetch(urls: list[str], dest: str, expected: str, *, progress: bool) -> str:
    """Downloads into `dest` (the cache) under a file lock, so concurrent processes download once; returns `dest`."""
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
            _download(urls, dest, expected, progress=progress)
    except filelock.Timeout as err:
        raise HubError(
            f"timed out after {_LOCK_TIMEOUT_S:.0f} s waiting for {dest}.lock; another process is downloading "
            f"{filename}. Delete the lock file if no such process is running."
        ) from err
    return dest


def _download(urls: list[str], dest: str, expected: str, *, progress: bool) -> str:
    """Downloads the first of `urls` that serves the right bytes: to a temporary file beside `dest`, verified,
    then renamed to `dest`. Returns the URL used; raises `_DownloadFailed` listing each URL's failure."""
    folder, filename = os.path.split(dest)
    failures: list[tuple[str, HubError]] = []
    for url in urls:
        fd, tmp = tempfile.mkstemp(dir=folder or ".", prefix=filename + ".", suffix=".part")
        os.close(fd)
        try:
            actual = _download_with_retries(url, tmp, filename, progress=progress)
            if actual != expected:
                raise ChecksumError(
                    f"downloaded {filename} from {url} has the wrong sha256: expected {expected}, got {actual}"
                )
            os.chmod(tmp, 0o644)
            os.replace(tmp, dest)
            return url
        except HubError as err:
            failures.append((url, err))
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    raise _DownloadFailed(failures)


def _download_with_retries(url: str, tmp: str, filename: str, *, progress: bool) -> str:
    """Streams `url` into `tmp`, retrying dropped connections and 5xx; returns the sha256 of what was written."""
    last_error: Exception | None = None
    for attempt in range(_ATTEMPTS):
        if attempt:
            time.sleep(_BACKOFF_S[min(attempt - 1, len(_BACKOFF_S) - 1)])
        try:
            return _download_once(url, tmp, filename, progress=progress)
        except _RetryableError as err:
            last_error = err
    raise HubError(
        f"could not download {filename} from {url} after {_ATTEMPTS} attempts: {last_error}"
    ) from last_error.__cause__


def cache_entries() -> list[tuple[str, int]]:
    """``(path, size in bytes)`` of every file in the checkpoint cache (lock files left out), sorted by name."""
    folder = os.path.join(cache_dir(), "checkpoints")
    if not os.path.isdir(folder):
        return []
    entries = []
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if os.path.isfile(path) and not name.endswith(".lock"):
            entries.append((path, os.path.getsize(path)))
    return entries


def remove_cached(filename: str) -> list[str]:
    """Deletes `filename` and its unfinished downloads from the cache, under the download lock; returns what was removed.

    Raises:
        HubError: Another process is downloading the file right now.
    """
    _check_name(filename)
    dest = cached_path(filename)
    folder = os.path.dirname(dest)
    if not os.path.isdir(folder):
        return []
    removed = []
    try:
        with filelock.FileLock(dest + ".lock", timeout=1.0):
            for name in sorted(os.listdir(folder)):
                if name == filename or (name.startswith(filename + ".") and name.endswith(".part")):
                    os.remove(os.path.join(folder, name))
                    removed.append(os.path.join(folder, name))
    except filelock.Timeout as err:
        raise HubError(f"{filename} is being downloaded by another process; try again when it is done.") from err
    return removed


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
