"""Speed of the reading models (mnist-row-lstm, captcha-crnn-ctc): single-image latency and batch throughput.

    python benchmarks/bench_reading.py [--models mnist-row-lstm captcha-crnn-ctc] [--repeats 50]

For each model it measures:
- load: `zoo.load(name)` (verify sha256 + deserialize), TensorFlow already imported;
- pipeline p50/p99: `zoo.pipeline(name)(png_bytes)` on one test image: decoding the PNG, the model's
  preprocessing (MNIST centring; grey 200x50), a compiled forward pass, and for the captchas greedy CTC
  decoding; and for the captchas also with beam search (width 10);
- tflite p50/p99: the exported `.tflite` in the LiteRT interpreter on one image's pixels, plus (captchas)
  `read.py`'s NumPy greedy collapse;
- batch 256: images per second through the model and decoding on ready pixels, 1,024 test images in batches of 256.
Images come from the test splits (needs ZOO_DATA_DIR). Writes benchmarks/results/reading.md.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import zoo  # noqa: E402
from bench_imdb import percentiles, timed  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "reading.md")
MODELS = ("mnist-row-lstm", "captcha-crnn-ctc")


def test_images(name: str) -> tuple[list[bytes], np.ndarray]:
    """PNG bytes of test images and the model's pixels for 1,024 of them (the captcha test split has 123: repeated)."""
    from PIL import Image

    if name == "mnist-row-lstm":
        from zoo.data import mnist

        images = mnist.load("test", limit=1024).images
        pngs = []
        for image in images[:8]:
            buffer = io.BytesIO()
            Image.fromarray(255 - image).resize((112, 112), Image.BILINEAR).save(buffer, format="PNG")  # dark on light
            pngs.append(buffer.getvalue())
        return pngs, images.astype(np.float32)
    from zoo.data import captcha
    from zoo.models.ctc_reader.pipeline import to_pixels

    pngs = captcha.load("test").images
    pixels = to_pixels(pngs, 50, 200)
    return pngs[:8], np.concatenate([pixels] * (1024 // len(pixels) + 1))[:1024]


def bench_model(name: str, repeats: int) -> dict:
    from ai_edge_litert.interpreter import Interpreter

    pngs, pixels = test_images(name)
    start = time.perf_counter()
    model = zoo.load(name, progress=False)
    load_s = time.perf_counter() - start
    pipe = zoo.pipeline(name, model=model)
    row = {"name": name, "load_s": load_s, "pipeline": percentiles(timed(lambda: pipe(pngs[0]), repeats))}
    if name == "captcha-crnn-ctc":
        row["beam"] = percentiles(timed(lambda: pipe(pngs[0], beam_width=10), repeats))

    with tempfile.TemporaryDirectory() as tmp:
        path = zoo.export(name, tmp, format="tflite")
        runner = Interpreter(model_path=path, num_threads=os.cpu_count()).get_signature_runner()
        one = pixels[:1]
        if name == "captcha-crnn-ctc":
            from zoo.decoding import ctc_collapse

            def run_tflite():
                return ctc_collapse(next(iter(runner(pixels=one).values()))[0])
        else:
            def run_tflite():
                return next(iter(runner(pixels=one).values()))
        row["tflite"] = percentiles(timed(run_tflite, repeats))

    if name == "captcha-crnn-ctc":
        from zoo.models.ctc_reader.pipeline import read_pixels

        def run_batches():
            return read_pixels(model, pixels, pipe.alphabet, batch_size=256)
    else:
        from zoo.models.row_reader.pipeline import predict_proba

        def run_batches():
            return predict_proba(model, pixels, batch_size=256)
    run_batches()  # trace once
    start = time.perf_counter()
    run_batches()
    row["throughput"] = len(pixels) / (time.perf_counter() - start)
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list(MODELS))
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    rows = []
    for name in args.models:
        print(f"benchmarking {name} ...", file=sys.stderr, flush=True)
        rows.append(bench_model(name, args.repeats))
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}, "
        f"TensorFlow {tf.__version__}; single-image latencies over {args.repeats} runs after warm-up.",
        "",
        "| model | load (s) | pipeline p50 / p99 (ms) | pipeline, beam 10, p50 / p99 (ms) | TFLite p50 / p99 (ms) "
        "| batch 256 (images/s) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        beam = f"{r['beam'][0]:.1f} / {r['beam'][1]:.1f}" if "beam" in r else "-"
        lines.append(f"| `{r['name']}` | {r['load_s']:.2f} | {r['pipeline'][0]:.1f} / {r['pipeline'][1]:.1f} | {beam} | "
                     f"{r['tflite'][0]:.1f} / {r['tflite'][1]:.1f} | {r['throughput']:.0f} |")
    table = "\n".join(lines)
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w") as f:
        f.write(table + "\n")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
