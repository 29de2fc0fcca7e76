"""The zoo works when installed from its wheel, with no checkout anywhere on the path.

The wheel is built once for this module (`pip wheel`, offline, from a copy of the source so the checkout gets no
``build/`` folder), installed with ``pip install --target`` into a temporary folder, and used by subprocesses that
run from a folder outside the checkout with ``python -S`` and a PYTHONPATH of that folder plus the virtual
environment's site-packages (for TensorFlow and the other dependencies; ``-S`` keeps the editable install of the
checkout out). The weights come from an HTTP server this test starts on 127.0.0.1, serving ``checkpoints/``.
"""

from __future__ import annotations

import collections
import functools
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import threading
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import zoo
from zoo._hub import sha256_of

REPO = Path(__file__).resolve().parents[1]
CHECKPOINTS = REPO / "checkpoints"
# The venv's site-packages: the dependencies, never the checkout (its editable install is a .pth that -S skips).
DEPENDENCIES = list(dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]))
TEXTS = ["A wonderful, moving film with a superb cast.", "Dull, predictable and far too long."]


def _run(args, **kwargs) -> subprocess.CompletedProcess:
    out = subprocess.run(args, capture_output=True, text=True, timeout=300, **kwargs)
    assert out.returncode == 0, f"{args}\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    """The wheel, the sdist, and the folder the wheel is installed into."""
    root = tmp_path_factory.mktemp("packaging")
    source = root / "source"
    source.mkdir()
    shutil.copytree(REPO / "zoo", source / "zoo", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", "-q"]
    _run([*pip, "wheel", str(source), "--no-deps", "--no-build-isolation", "--no-index", "-w", str(root / "dist")])
    (wheel,) = (root / "dist").glob("rnn_zoo-*.whl")
    # The sdist the way `python -m build --sdist` asks for it: through the build backend (offline).
    sdist = _run([sys.executable, "-c", "from setuptools import build_meta; print(build_meta.build_sdist('sdist'))"],
                 cwd=source).stdout.strip().splitlines()[-1]
    site = root / "site"
    _run([*pip, "install", "--no-deps", "--no-index", "--target", str(site), str(wheel)])
    elsewhere = root / "elsewhere"  # the working directory of every subprocess: outside the checkout
    elsewhere.mkdir()
    return {"wheel": wheel, "sdist": source / "sdist" / sdist, "site": site, "cwd": elsewhere, "root": root}


@pytest.fixture
def server():
    """An HTTP server on a free loopback port serving the checkout's checkpoints/; counts requests per file."""
    requests: collections.Counter[str] = collections.Counter()

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, format, *args):  # noqa: A002
            pass

        def do_GET(self):  # noqa: N802
            requests[self.path.lstrip("/")] += 1
            super().do_GET()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(CHECKPOINTS)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}"

    def stop():
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)

    yield {"url": url, "requests": requests, "stop": stop}
    stop()


def _start(build, code_or_cli, *, home, hub_url=None, extra_env=None) -> subprocess.Popen:
    """Starts Python code (a string) or the `zoo` command (a list) from the installed wheel, outside the checkout."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("ZOO_") and k != "PYTHONPATH" and k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    env.update(PYTHONPATH=os.pathsep.join([str(build["site"]), *DEPENDENCIES]), ZOO_HOME=str(home),
               TF_CPP_MIN_LOG_LEVEL="3", **(extra_env or {}))
    if hub_url:
        env["ZOO_HUB_URL"] = hub_url
    args = ["-m", "zoo.cli", *code_or_cli] if isinstance(code_or_cli, list) else ["-c", code_or_cli]
    return subprocess.Popen([sys.executable, "-S", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd=build["cwd"])


def _wait(proc: subprocess.Popen, *, check: bool = True) -> subprocess.CompletedProcess:
    try:
        stdout, stderr = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if check:
        assert proc.returncode == 0, stdout[-3000:] + stderr[-3000:]
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def _installed(build, code_or_cli, *, check=True, **kwargs) -> subprocess.CompletedProcess:
    return _wait(_start(build, code_or_cli, **kwargs), check=check)


def test_the_wheel_carries_every_card_and_no_weights(build):
    names = zipfile.ZipFile(build["wheel"]).namelist()
    cards = sorted(n for n in names if n.startswith("zoo/cards/"))
    assert cards == sorted(f"zoo/cards/{name}.json" for name in zoo.list_models(pretrained=True))
    assert not [n for n in names if n.endswith(".keras") or n.startswith(("checkpoints/", "tests/", "recipes/"))]
    assert build["wheel"].stat().st_size < 2 * 2**20
    with tarfile.open(build["sdist"]) as sdist:
        members = sdist.getnames()
    assert {f"zoo/cards/{name}.json" for name in zoo.list_models(pretrained=True)} <= \
        {m.split("/", 1)[1] for m in members if "/" in m}, "the sdist carries the cards too"


def test_installed_zoo_knows_every_card_without_a_checkout(build, tmp_path):
    code = ("import json, sys, zoo; print(json.dumps({'file': zoo.__file__, 'path': sys.path, "
            "'cards': {n: zoo.info(n)['sha256'] for n in zoo.list_models(pretrained=True)}, "
            "'pretrained': zoo.list_models(pretrained=True)}))")
    result = json.loads(_installed(build, code, home=tmp_path / "home").stdout)
    assert result["file"] == str(build["site"] / "zoo" / "__init__.py")
    assert not [p for p in result["path"] if p and Path(p).resolve() == REPO], "the checkout must not be on the path"
    assert result["pretrained"] == zoo.list_models(pretrained=True) and len(result["pretrained"]) >= 12
    assert result["cards"] == {name: sha256_of(str(CHECKPOINTS / f"{name}.keras"))
                               for name in zoo.list_models(pretrained=True)}

    listing = _installed(build, ["list"], home=tmp_path / "home").stdout
    assert "no checkpoint" not in listing and "accuracy 0.8858" in listing


def test_installed_zoo_downloads_verifies_caches_and_says_what_to_do_offline(build, server, tmp_path):
    home = tmp_path / "home"
    # 1. zoo.load fetches imdb-gru from the server into the cache, verifies it and predicts like the checkout.
    code = ("import json, zoo; pipe = zoo.pipeline('imdb-gru'); "
            f"print(json.dumps([r['score'] if r['label'] == 'positive' else 1 - r['score'] for r in pipe({TEXTS!r})]))")
    child = _start(build, code, home=home, hub_url=server["url"])
    clf = zoo.pipeline("imdb-gru")  # meanwhile, the checkout's own checkpoint
    expected = [r["score"] if r["label"] == "positive" else 1 - r["score"] for r in clf(TEXTS)]
    first = _wait(child)
    assert server["requests"]["imdb-gru.keras"] == 1
    cached = home / "checkpoints" / "imdb-gru.keras"
    assert sha256_of(str(cached)) == zoo.info("imdb-gru")["sha256"]
    assert "imdb-gru.keras" in first.stderr, "the first download shows a progress bar"
    assert json.loads(first.stdout.strip().splitlines()[-1]) == pytest.approx(expected, abs=1e-6)

    # 2. zoo download: into the cache, and into a folder to serve (not through the cache).
    out = _installed(build, ["download", "imdb-lstm", "imdb-gru"], home=home, hub_url=server["url"])
    assert out.stdout.splitlines() == [
        f"imdb-lstm  8.0 MiB  {home / 'checkpoints' / 'imdb-lstm.keras'}  (downloaded, sha256 verified)",
        f"imdb-gru  8.0 MiB  {cached}  (already cached, sha256 verified)",
    ]
    mirror = tmp_path / "mirror"
    out = _installed(build, ["download", "imdb-bigru", "--to", str(mirror)], home=home, hub_url=server["url"])
    assert f"(downloaded from {server['url']}/imdb-bigru.keras, sha256 verified)" in out.stdout
    assert os.listdir(mirror) == ["imdb-bigru.keras"]
    assert sha256_of(str(mirror / "imdb-bigru.keras")) == zoo.info("imdb-bigru")["sha256"]
    assert dict(server["requests"]) == {"imdb-gru.keras": 1, "imdb-lstm.keras": 1, "imdb-bigru.keras": 1}

    # 3. A second process, with the server gone, reads the cache (and zoo cache lists it).
    server["stop"]()
    code = "import sys, zoo; print(zoo._api.checkpoint_path('imdb-gru')); assert 'tensorflow' not in sys.modules"
    assert _installed(build, code, home=home, hub_url=server["url"]).stdout.strip() == str(cached)
    listing = _installed(build, ["cache"], home=home).stdout.splitlines()
    assert [line.split()[0] for line in listing[1:-1]] == ["imdb-gru.keras", "imdb-lstm.keras"]
    assert listing[-1] == "2 files, 16.0 MiB"

    # 4. No server and an empty cache: the error names the file, the URLs tried and the ways out.
    empty = tmp_path / "empty-home"
    code = "import zoo\ntry:\n    zoo.load('imdb-gru')\nexcept FileNotFoundError as e:\n    print(e)\nelse:\n    raise SystemExit('loaded')"
    message = _installed(build, code, home=empty, hub_url=f"{server['url']}/ {server['url']}/mirror").stdout
    for needle in ("imdb-gru.keras", f"{server['url']}/imdb-gru.keras", f"{server['url']}/mirror/imdb-gru.keras",
                   "ZOO_HUB_URL", str(empty / "checkpoints"), "Connection refused"):
        assert needle in message, needle
    out = _installed(build, ["download", "imdb-gru"], home=empty, hub_url=server["url"], check=False)
    assert out.returncode == 2 and f"{server['url']}/imdb-gru.keras" in out.stderr and "Traceback" not in out.stderr
    # Without ZOO_HUB_URL the default location is the one named (offline here, so nothing is opened).
    out = _installed(build, code, home=empty, extra_env={"ZOO_OFFLINE": "1"})
    assert f"https://github.com/rnn-zoo/rnn-zoo/releases/download/v{zoo.__version__}/imdb-gru.keras" in out.stdout
    assert not (empty / "checkpoints").exists() or os.listdir(empty / "checkpoints") == [] or \
        all(n.endswith(".lock") for n in os.listdir(empty / "checkpoints")), "no file is left in the cache"
