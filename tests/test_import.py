import ast
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEAVY = {"tensorflow", "keras", "numpy", "gensim", "ai_edge_litert", "tqdm", "matplotlib", "PIL", "sacrebleu",
         "seqeval", "pycocoevalcap", "scipy", "sklearn"}


def modules_loaded_by_import_zoo() -> list[str]:
    """The zoo modules `import zoo` (and listing and describing models) loads, found by running it."""
    code = "import sys, zoo; zoo.list_models(); zoo.info('imdb-bigru'); print('\\n'.join(m for m in sys.modules if m.startswith('zoo')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return sorted(out.stdout.split())


def test_import_zoo_does_not_import_heavy_packages():
    """What keeps `import zoo` fast; its time is measured by benchmarks/bench_import.py, not asserted here."""
    code = (
        "import sys; import zoo; zoo.list_models(); zoo.info('imdb-bigru');"
        f"print(sorted(m for m in {sorted(HEAVY)!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    loaded = out.stdout.strip().splitlines()[-1]
    assert loaded == "[]", f"import zoo loaded {loaded}"


def test_modules_that_import_zoo_loads_have_no_module_level_heavy_imports():
    modules = modules_loaded_by_import_zoo()
    assert "zoo.models.translator" in modules and "zoo.metrics" in modules, modules
    for module in modules:
        relative = module.replace(".", os.sep)
        path = os.path.join(ROOT, relative, "__init__.py") if os.path.isdir(os.path.join(ROOT, relative)) else \
            os.path.join(ROOT, relative + ".py")
        tree = ast.parse(open(path).read())
        for node in tree.body:
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in HEAVY, f"{module} imports {name} at module level"


def test_every_zoo_module_imports():
    """Each module of the package imports on its own (no cycles, no missing names), wherever it lies."""
    package = os.path.join(ROOT, "zoo")
    modules = []
    for folder, _, files in os.walk(package):
        for name in files:
            if name.endswith(".py") and name != "__main__.py":
                relative = os.path.relpath(os.path.join(folder, name), ROOT)[:-3]
                modules.append(relative.replace(os.sep, ".").removesuffix(".__init__"))
    code = "import importlib, sys\nfor m in sys.argv[1:]:\n    importlib.import_module(m)\n"
    out = subprocess.run([sys.executable, "-c", code, *modules], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
