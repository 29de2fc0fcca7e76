"""Speed of the IMDB models: load time, single-review latency, batch throughput.

    python benchmarks/bench_imdb.py [--models imdb-bigru imdb-gru] [--repeats 50]

For each model it measures:
- load: `zoo.load(name)` (verify sha256 + deserialize), TensorFlow already imported;
- predict p50/p99: `model.predict` on one review (Keras' own predict loop);
- pipeline p50/p99: `zoo.pipeline(name)(review)` on one review (validation + a compiled forward pass);
- tflite p50/p99: the exported `.tflite` in the LiteRT interpreter on one review's token ids;
- batch 256: reviews per second through the compiled forward pass, 4 batches of 256.
Reviews come from the IMDB test split (needs ZOO_DATA_DIR). Writes benchmarks/results/imdb.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import zoo  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "imdb.md")


def percentiles(seconds: list[float]) -> tuple[float, float]:
    ms = np.asarray(seconds) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def timed(fn, repeats: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def bench_model(name: str, reviews: list[str], repeats: int) -> dict:
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    from zoo.models.text_classifier.pipeline import predict_proba as predict_in_batches

    start = time.perf_counter()
    model = zoo.load(name, progress=False)
    load_s = time.perf_counter() - start

    one = tf.constant(reviews[:1])
    predict = percentiles(timed(lambda: model.predict(one, verbose=0), repeats))
    clf = zoo.pipeline(name, model=model)
    pipeline = percentiles(timed(lambda: clf(reviews[0]), repeats))

    with tempfile.TemporaryDirectory() as tmp:
        path = zoo.export(name, tmp, format="tflite")
        interpreter = Interpreter(model_path=path, num_threads=os.cpu_count())
        interpreter.allocate_tensors()
        (inp,), (out,) = interpreter.get_input_details(), interpreter.get_output_details()
        ids = clf.tokenize(reviews[:1])

        def run_tflite():
            interpreter.set_tensor(inp["index"], ids)
            interpreter.invoke()
            return interpreter.get_tensor(out["index"])

        tflite = percentiles(timed(run_tflite, repeats))

    batch = reviews[:1024]
    predict_in_batches(model, batch[:256], batch_size=256)  # trace once
    start = time.perf_counter()
    predict_in_batches(model, batch, batch_size=256)
    throughput = len(batch) / (time.perf_counter() - start)
    return {"name": name, "load_s": load_s, "predict": predict, "pipeline": pipeline, "tflite": tflite,
            "throughput": throughput}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    classifiers = [n for n in zoo.list_models("imdb-*", pretrained=True) if zoo.info(n)["family"] == "text_classifier"]
    parser.add_argument("--models", nargs="*", default=classifiers)
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    from zoo.data import imdb

    reviews = imdb.load("test", limit=1024).texts
    rows = []
    for name in args.models:
        print(f"benchmarking {name} ...", file=sys.stderr, flush=True)
        rows.append(bench_model(name, reviews, args.repeats))

    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}, "
        f"TensorFlow {tf.__version__}; single-review latencies over {args.repeats} runs after warm-up "
        f"(median review of the slice: {int(np.median([len(r.split()) for r in reviews]))} words).",
        "",
        "| model | load (s) | predict p50 / p99 (ms) | pipeline p50 / p99 (ms) | TFLite p50 / p99 (ms) | batch 256 (reviews/s) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| `{r['name']}` | {r['load_s']:.2f} | {r['predict'][0]:.1f} / {r['predict'][1]:.1f} | "
            f"{r['pipeline'][0]:.1f} / {r['pipeline'][1]:.1f} | {r['tflite'][0]:.1f} / {r['tflite'][1]:.1f} | "
            f"{r['throughput']:.0f} |"
        )
    table = "\n".join(lines)
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w") as f:
        f.write(table + "\n")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
