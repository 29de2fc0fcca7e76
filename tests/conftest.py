import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "datasets")

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if "ZOO_DATA_DIR" not in os.environ and os.path.isdir(SHARED):
    os.environ["ZOO_DATA_DIR"] = SHARED
# The suite never downloads: checkpoints are shipped and data comes from the data directory.
os.environ.setdefault("ZOO_OFFLINE", "1")


@pytest.fixture(scope="session")
def data_dir():
    """The datasets folder. Missing data fails (never skips) the tests that need it."""
    path = os.environ.get("ZOO_DATA_DIR")
    if not path or not os.path.isdir(path):
        pytest.fail(f"These tests need the real datasets: set ZOO_DATA_DIR (looked for {SHARED}).")
    return path


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Each test sees an empty user cache unless it sets ZOO_HOME itself."""
    monkeypatch.setenv("ZOO_HOME", str(tmp_path_factory.mktemp("zoo_home")))


@pytest.fixture(scope="session")
def imdb_test_slice(data_dir):
    """The fixed 1,000-review slice of the IMDB test split that CI scores checkpoints on."""
    from zoo.data import imdb

    return imdb.load("test", limit=1000)


@pytest.fixture(scope="session")
def load_recipe():
    """``load_recipe("train_x.py")``: that file of recipes/ loaded as a fresh module (recipes are not a package)."""
    import importlib.util

    def load(filename: str):
        spec = importlib.util.spec_from_file_location(f"recipe_{filename[:-3]}", os.path.join(ROOT, "recipes", filename))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load
