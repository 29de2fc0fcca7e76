import ast
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEAVY = {"tensorflow", "keras", "numpy", "gensim", "ai_edge_litert", "tqdm"}
# Modules that `import zoo` loads: they must not import heavy packages at module level.
LIGHT_MODULES = ["zoo/__init__.py", "zoo/_api.py", "zoo/_registry.py", "zoo/_inputs.py", "zoo/_hub.py",
                 "zoo/cli.py", "zoo/models/__init__.py", "zoo/models/text_classifier.py", "zoo/models/sequence_tagger.py",
                 "zoo/models/translator.py", "zoo/models/captioner.py", "zoo/_progress.py", "zoo/_inference.py", "zoo/_pipeline.py"]


def test_import_zoo_does_not_import_tensorflow_and_is_fast():
    code = (
        "import sys, time; t = time.perf_counter(); import zoo; zoo.list_models(); zoo.info('imdb-bigru');"
        "print(time.perf_counter() - t); print(sorted(m for m in ('tensorflow', 'keras', 'numpy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    seconds, loaded = out.stdout.strip().splitlines()
    assert loaded == "[]", f"import zoo loaded {loaded}"
    assert float(seconds) < 1.0


def test_light_modules_have_no_module_level_heavy_imports():
    for relative in LIGHT_MODULES:
        tree = ast.parse(open(os.path.join(ROOT, relative)).read())
        for node in tree.body:
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in HEAVY, f"{relative} imports {name} at module level"
