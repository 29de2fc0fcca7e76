"""Tests for zoo._hub against a real HTTP server on 127.0.0.1 that can misbehave on purpose."""

from __future__ import annotations

import collections
import hashlib
import os
import socket
import stat
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import zoo
from zoo import _hub
from zoo._hub import CheckpointNotFoundError, ChecksumError, HubError, cache_dir, fetch_to, resolve, sha256_of

REPO = Path(__file__).resolve().parents[1]
NAME = "imdb-bigru.keras"
DATA = bytes(range(256)) * 1200  # 300 KiB, several server chunks
SHA = hashlib.sha256(DATA).hexdigest()
GARBAGE = b"not a checkpoint"
GARBAGE_SHA = hashlib.sha256(GARBAGE).hexdigest()
SERVE_CHUNK = 16 * 1024


class FakeHub:
    """What the test server serves and how it misbehaves; counts GET requests per file name."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: collections.Counter[str] = collections.Counter()
        self.truncate: set[str] = set()  # promise the full length, send half, hang up
        self.drop_first: dict[str, int] = {}  # close the connection without a reply on the first N requests
        self.fail_first: dict[str, tuple[int, int]] = {}  # name -> (N, HTTP status) for the first N requests
        self.chunk_delay_s = 0.0
        self.url = ""
        self._lock = threading.Lock()

    def count(self, name: str) -> int:
        with self._lock:
            self.requests[name] += 1
            return self.requests[name]


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format, *args) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        hub: FakeHub = self.server.hub
        name = self.path.lstrip("/")
        n = hub.count(name)
        if n <= hub.drop_first.get(name, 0):
            self.close_connection = True
            return
        failures, status = hub.fail_first.get(name, (0, 0))
        if n <= failures:
            self.send_error(status)
            return
        body = hub.files.get(name)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if name in hub.truncate:
            self.send_header("Content-Length", str(len(body) + 1000))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        for start in range(0, len(body), SERVE_CHUNK):
            self.wfile.write(body[start : start + SERVE_CHUNK])
            if hub.chunk_delay_s:
                self.wfile.flush()
                time.sleep(hub.chunk_delay_s)


@pytest.fixture(autouse=True)
def _env(monkeypatch, tmp_path):
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "zoo-home"))
    for var in ("ZOO_HUB_URL", "ZOO_OFFLINE", "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(_hub, "_BACKOFF_S", (0.01, 0.02))


def _serve():
    """A FakeHub on a free loopback port, and the function that stops it."""
    state = FakeHub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.hub = state
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return state, stop


@pytest.fixture
def hub(monkeypatch):
    state, stop = _serve()
    monkeypatch.setenv("ZOO_HUB_URL", state.url + "/")  # trailing slash on purpose
    yield state
    stop()


@pytest.fixture
def second_hub():
    """Another server, for a second mirror in ZOO_HUB_URL."""
    state, stop = _serve()
    yield state
    stop()


def _closed_url() -> str:
    """A loopback URL nothing listens on: connections are refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _cache_path() -> Path:
    return Path(cache_dir()) / "checkpoints" / NAME


def _leftovers() -> list[str]:
    """Files in the checkpoint cache other than lock files."""
    folder = _cache_path().parent
    if not folder.exists():
        return []
    return sorted(p.name for p in folder.iterdir() if not p.name.endswith(".lock"))


def test_download_lands_in_cache_and_is_reused(hub):
    hub.files[NAME] = DATA

    path = resolve(NAME, SHA, shipped_dir=None, progress=False)

    assert path == str(_cache_path())
    assert Path(path).read_bytes() == DATA
    assert sha256_of(path) == SHA
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert _leftovers() == [NAME]
    assert hub.requests[NAME] == 1

    assert resolve(NAME, SHA, shipped_dir=None, progress=False) == path
    assert hub.requests[NAME] == 1


def test_progress_bar_only_when_asked(hub, capsys):
    hub.files[NAME] = DATA
    resolve(NAME, SHA, shipped_dir=None, progress=True)
    assert NAME in capsys.readouterr().err

    _cache_path().unlink()
    resolve(NAME, SHA, shipped_dir=None, progress=False)
    assert capsys.readouterr().err == ""


def test_shipped_dir_wins(hub, tmp_path):
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    (shipped / NAME).write_bytes(DATA)
    hub.files[NAME] = DATA

    assert resolve(NAME, SHA, shipped_dir=str(shipped), progress=False) == str(shipped / NAME)
    assert hub.requests[NAME] == 0
    assert not _cache_path().exists()


def test_corrupt_shipped_file_raises_and_is_kept(hub, tmp_path):
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    (shipped / NAME).write_bytes(GARBAGE)
    hub.files[NAME] = DATA

    with pytest.raises(ChecksumError) as info:
        resolve(NAME, SHA, shipped_dir=str(shipped), progress=False)

    message = str(info.value)
    assert SHA in message and GARBAGE_SHA in message and NAME in message
    assert (shipped / NAME).read_bytes() == GARBAGE
    assert hub.requests[NAME] == 0


@pytest.mark.parametrize("status", [404, 403])
def test_client_error_is_not_retried(hub, status):
    if status != 404:
        hub.files[NAME] = DATA
        hub.fail_first[NAME] = (99, status)

    with pytest.raises(CheckpointNotFoundError) as info:
        resolve(NAME, SHA, shipped_dir=None, progress=False)

    message = str(info.value)
    assert f"{hub.url}/{NAME}" in message and str(status) in message
    assert isinstance(info.value, FileNotFoundError)
    assert hub.requests[NAME] == 1
    assert _leftovers() == []


def test_truncated_body_every_time_fails_cleanly(hub):
    hub.files[NAME] = DATA
    hub.truncate.add(NAME)

    with pytest.raises(HubError) as info:
        resolve(NAME, SHA, shipped_dir=None, progress=False)

    assert not isinstance(info.value, ChecksumError)
    assert "3 attempts" in str(info.value)
    assert hub.requests[NAME] == 3
    assert _leftovers() == []


def test_dropped_connection_is_retried(hub):
    hub.files[NAME] = DATA
    hub.drop_first[NAME] = 1

    path = resolve(NAME, SHA, shipped_dir=None, progress=False)

    assert Path(path).read_bytes() == DATA
    assert hub.requests[NAME] == 2
    assert _leftovers() == [NAME]


def test_server_error_is_retried(hub):
    hub.files[NAME] = DATA
    hub.fail_first[NAME] = (2, 503)

    assert Path(resolve(NAME, SHA, shipped_dir=None, progress=False)).read_bytes() == DATA
    assert hub.requests[NAME] == 3


def test_wrong_hash_served(hub):
    hub.files[NAME] = GARBAGE

    with pytest.raises(ChecksumError) as info:
        resolve(NAME, SHA, shipped_dir=None, progress=False)

    message = str(info.value)
    assert SHA in message and GARBAGE_SHA in message and f"{hub.url}/{NAME}" in message
    assert hub.requests[NAME] == 1
    assert _leftovers() == []


def test_corrupt_cache_is_replaced(hub):
    hub.files[NAME] = DATA
    _cache_path().parent.mkdir(parents=True)
    _cache_path().write_bytes(GARBAGE)

    path = resolve(NAME, SHA, shipped_dir=None, progress=False)

    assert Path(path).read_bytes() == DATA
    assert hub.requests[NAME] == 1
    assert _leftovers() == [NAME]


def test_corrupt_cache_offline_is_removed_and_reported(hub, monkeypatch):
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    hub.files[NAME] = DATA
    _cache_path().parent.mkdir(parents=True)
    _cache_path().write_bytes(GARBAGE)

    with pytest.raises(ChecksumError) as info:
        resolve(NAME, SHA, shipped_dir=None, progress=False)

    message = str(info.value)
    assert "removed" in message and SHA in message and GARBAGE_SHA in message
    assert not _cache_path().exists()
    assert hub.requests[NAME] == 0


def test_offline_with_nothing_local(hub, monkeypatch, tmp_path):
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    hub.files[NAME] = DATA

    with pytest.raises(CheckpointNotFoundError) as info:
        resolve(NAME, SHA, shipped_dir=str(shipped), progress=False)

    message = str(info.value)
    for needle in (NAME, str(shipped / NAME), str(_cache_path()), f"{hub.url}/{NAME}", "ZOO_OFFLINE"):
        assert needle in message
    assert sum(hub.requests.values()) == 0


def test_offline_uses_cache(hub, monkeypatch):
    _cache_path().parent.mkdir(parents=True)
    _cache_path().write_bytes(DATA)
    monkeypatch.setenv("ZOO_OFFLINE", "1")

    assert resolve(NAME, SHA, shipped_dir=None, progress=False) == str(_cache_path())
    assert sum(hub.requests.values()) == 0


def test_offline_zero_means_online(hub, monkeypatch):
    monkeypatch.setenv("ZOO_OFFLINE", "0")
    hub.files[NAME] = DATA

    assert Path(resolve(NAME, SHA, shipped_dir=None, progress=False)).read_bytes() == DATA
    assert hub.requests[NAME] == 1


def test_without_zoo_hub_url_the_default_location_is_used(hub, monkeypatch):
    assert _hub.DEFAULT_HUB_URL == f"https://github.com/rnn-zoo/rnn-zoo/releases/download/v{zoo.__version__}"
    monkeypatch.delenv("ZOO_HUB_URL")
    assert _hub.hub_urls() == [_hub.DEFAULT_HUB_URL]
    monkeypatch.setattr(_hub, "DEFAULT_HUB_URL", hub.url)
    hub.files[NAME] = DATA

    assert resolve(NAME, SHA, shipped_dir=None, progress=False) == str(_cache_path())
    assert hub.requests[NAME] == 1


def test_zoo_hub_url_may_name_several_mirrors(monkeypatch):
    monkeypatch.setenv("ZOO_HUB_URL", " http://a.example/zoo/  file:///srv/zoo ")
    assert _hub.hub_urls() == ["http://a.example/zoo", "file:///srv/zoo"]
    monkeypatch.setenv("ZOO_HUB_URL", "")
    assert _hub.hub_urls() == [_hub.DEFAULT_HUB_URL]


def test_mirrors_are_tried_in_order(hub, second_hub, monkeypatch):
    monkeypatch.setenv("ZOO_HUB_URL", f"{hub.url} {second_hub.url}/")
    second_hub.files[NAME] = DATA  # the first one answers 404

    assert Path(resolve(NAME, SHA, shipped_dir=None, progress=False)).read_bytes() == DATA
    assert hub.requests[NAME] == 1 and second_hub.requests[NAME] == 1
    assert _leftovers() == [NAME]


def test_a_mirror_serving_the_wrong_bytes_is_passed_over(hub, second_hub, monkeypatch):
    monkeypatch.setenv("ZOO_HUB_URL", f"{hub.url} {second_hub.url}")
    hub.files[NAME] = GARBAGE
    second_hub.files[NAME] = DATA

    assert Path(resolve(NAME, SHA, shipped_dir=None, progress=False)).read_bytes() == DATA
    assert _leftovers() == [NAME]


def test_nothing_reachable_names_the_file_the_urls_and_the_ways_out(monkeypatch, tmp_path):
    first, second = _closed_url(), _closed_url()
    monkeypatch.setenv("ZOO_HUB_URL", f"{first} {second}")

    with pytest.raises(CheckpointNotFoundError) as info:
        resolve(NAME, SHA, shipped_dir=str(tmp_path / "no-checkout"), progress=False)

    message = str(info.value)
    for needle in (NAME, SHA, f"{first}/{NAME}", f"{second}/{NAME}", "3 attempts", "ZOO_HUB_URL",
                   str(_cache_path().parent), "zoo download"):
        assert needle in message, needle
    assert "no-checkout" not in message, "a checkout folder that does not exist is not a place looked in"
    assert isinstance(info.value, FileNotFoundError)
    assert _leftovers() == []


def test_the_default_location_is_named_when_offline(monkeypatch):
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    with pytest.raises(CheckpointNotFoundError) as info:
        resolve(NAME, SHA, shipped_dir=None, progress=False)
    message = str(info.value)
    assert f"{_hub.DEFAULT_HUB_URL}/{NAME}" in message and str(_cache_path()) in message


# === fetch_to: filling a folder to serve or carry (zoo download --to DIR) ===


def test_fetch_to_downloads_into_the_folder_not_the_cache(hub, tmp_path):
    hub.files[NAME] = DATA
    folder = tmp_path / "mirror"

    path, how = fetch_to(NAME, SHA, str(folder), progress=False)

    assert path == str(folder / NAME) and Path(path).read_bytes() == DATA
    assert how == f"downloaded from {hub.url}/{NAME}"
    assert sorted(p.name for p in folder.iterdir()) == [NAME], "no lock or partial files in a folder to serve"
    assert not _cache_path().exists()
    assert fetch_to(NAME, SHA, str(folder), progress=False) == (path, "already there")
    assert hub.requests[NAME] == 1


def test_fetch_to_copies_a_verified_local_copy_without_the_network(hub, tmp_path):
    _cache_path().parent.mkdir(parents=True)
    _cache_path().write_bytes(DATA)

    path, how = fetch_to(NAME, SHA, str(tmp_path / "mirror"), progress=False)

    assert Path(path).read_bytes() == DATA and how == f"copied from {_cache_path()}"
    assert sum(hub.requests.values()) == 0


def test_fetch_to_replaces_a_wrong_file_and_never_keeps_wrong_bytes(hub, tmp_path):
    folder = tmp_path / "mirror"
    folder.mkdir()
    (folder / NAME).write_bytes(GARBAGE)
    hub.files[NAME] = DATA
    assert Path(fetch_to(NAME, SHA, str(folder), progress=False)[0]).read_bytes() == DATA

    hub.files[NAME] = GARBAGE
    with pytest.raises(ChecksumError):
        fetch_to(NAME, SHA, str(tmp_path / "other"), progress=False)
    assert list((tmp_path / "other").iterdir()) == []


# === The cache: listing and clearing (zoo cache) ===


def test_cache_entries_and_remove_cached(hub):
    hub.files[NAME] = DATA
    resolve(NAME, SHA, shipped_dir=None, progress=False)
    partial = _cache_path().parent / f"{NAME}.abc123.part"
    partial.write_bytes(b"half")

    assert _hub.cache_entries() == [(str(_cache_path()), len(DATA)), (str(partial), 4)]
    assert _hub.remove_cached(NAME) == [str(_cache_path()), str(partial)]
    assert _hub.cache_entries() == [] and _hub.remove_cached(NAME) == []


def test_remove_cached_waits_for_no_download(hub):
    _cache_path().parent.mkdir(parents=True)
    _cache_path().write_bytes(DATA)
    import filelock

    with filelock.FileLock(str(_cache_path()) + ".lock"):  # as a downloading process holds it
        with pytest.raises(HubError, match="being downloaded"):
            _hub.remove_cached(NAME)
    assert _cache_path().exists()


def test_bare_file_names_only():
    with pytest.raises(ValueError):
        resolve("../evil.keras", SHA, shipped_dir=None)


def test_cache_dir_precedence(monkeypatch, tmp_path):
    assert cache_dir() == str(tmp_path / "zoo-home")
    monkeypatch.delenv("ZOO_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == str(tmp_path / "xdg" / "rnn-zoo")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "me"))
    assert cache_dir() == str(tmp_path / "me" / ".cache" / "rnn-zoo")


_CHILD = """
import sys
from zoo._hub import resolve
print("ready", flush=True)
sys.stdin.readline()
print(resolve(sys.argv[1], sys.argv[2], shipped_dir=None, progress=False), flush=True)
"""


def test_two_processes_download_once(hub):
    hub.files[NAME] = DATA
    hub.chunk_delay_s = 0.03  # ~0.6 s per download, so the two processes overlap

    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, NAME, SHA],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        # Both children are imported and waiting before either starts, so their resolves race.
        for proc in procs:
            assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        for proc in procs:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results = [proc.communicate(timeout=60) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    for proc, (out, err) in zip(procs, results):
        assert proc.returncode == 0, err
        assert out.strip() == str(_cache_path())
    assert _cache_path().read_bytes() == DATA
    assert hub.requests[NAME] == 1
    assert _leftovers() == [NAME]
