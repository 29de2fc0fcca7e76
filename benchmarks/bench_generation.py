"""Speed of the generators: chorales per second (jsb-chorales-lstm), one at a time and in batches.

    python benchmarks/bench_generation.py [--chords 64] [--repeats 10] [--batch 32]

For the chorale composer it measures:
- load: `zoo.load(name)` (verify sha256 + deserialize), TensorFlow already imported;
- pipeline p50/p99: `zoo.pipeline(name).compose(seed, n_chords)` on the first 8 chords of test chorale 0
  (sampling at temperature 1, the loop in a compiled graph, traced once);
- SavedModel p50/p99: the exported `compose` signature (the same loop in the graph) on the same seed;
- batch throughput: chorales (and notes) per second, `--batch` test-chorale seeds composed together.
Seeds come from the jsb-chorales test split (needs ZOO_DATA_DIR). Writes benchmarks/results/generation.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import zoo  # noqa: E402
from bench_imdb import percentiles, timed  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "generation.md")
CHORALES = ("jsb-chorales-lstm",)
SEED_CHORDS = 8


def bench_composer(name: str, seeds: list, chords: int, repeats: int, batch: int) -> dict:
    import tensorflow as tf

    from zoo.models.chorale_composer.decoding import runtime

    start = time.perf_counter()
    model = zoo.load(name, progress=False)
    load_s = time.perf_counter() - start
    bach = zoo.pipeline(name, model=model)
    one = seeds[0]
    pipeline = percentiles(timed(lambda: bach.compose(one, chords, seed=0), repeats))

    with tempfile.TemporaryDirectory() as tmp:
        compose = tf.saved_model.load(zoo.export(name, tmp, format="saved_model")).signatures["compose"]
        args = dict(seed_chords=tf.constant([one], tf.int32), n_chords=tf.constant(chords), temperature=tf.constant(1.0),
                    seed=tf.constant(0, tf.int64))
        saved = percentiles(timed(lambda: compose(**args), repeats))

    stacked = np.stack(seeds[:batch])
    step = runtime(model)
    step.compose(stacked, chords, temperature=1.0, top_k=None, top_p=None, seed=0)  # warm-up (traced already)
    start = time.perf_counter()
    step.compose(stacked, chords, temperature=1.0, top_k=None, top_p=None, seed=1)
    per_second = len(stacked) / (time.perf_counter() - start)
    return {"load": load_s, "pipeline": pipeline, "saved_model": saved, "chorales_per_s": per_second,
            "notes_per_s": per_second * chords * 4, "batch": len(stacked)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chords", type=int, default=64, help="chords composed per chorale (4 notes each)")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--batch", type=int, default=32, help="chorales composed together for the throughput figure")
    args = parser.parse_args(argv)

    import keras
    import tensorflow as tf

    from zoo.data import jsb_chorales

    seeds = [c[:SEED_CHORDS] for c in jsb_chorales.load("test")]
    rows = []
    for name in CHORALES:
        r = bench_composer(name, seeds, args.chords, args.repeats, args.batch)
        rows.append(f"| `{name}` | {r['load']:.2f} | {r['pipeline'][0]:.0f} / {r['pipeline'][1]:.0f} | "
                    f"{r['saved_model'][0]:.0f} / {r['saved_model'][1]:.0f} | {1000 / r['pipeline'][0]:.2f} | "
                    f"{r['chorales_per_s']:.2f} ({r['notes_per_s']:,.0f} notes/s) |")
        print(rows[-1], flush=True)
    table = "\n".join([
        f"Figures on {time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} CPU cores, Python "
        f"{platform.python_version()}, TensorFlow {tf.__version__}, Keras {keras.__version__}; each chorale is "
        f"{args.chords} chords ({args.chords * 4} notes) after the first {SEED_CHORDS} chords of a test chorale, sampled "
        f"at temperature 1; single-chorale figures over {args.repeats} runs after 3 warm-up runs; batch: "
        f"{args.batch} test-chorale seeds composed together.",
        "",
        "| model | load (s) | pipeline p50 / p99 (ms) | SavedModel `compose` p50 / p99 (ms) | one at a time (chorales/s) "
        f"| batch of {args.batch} (chorales/s) |",
        "|---|---|---|---|---|---|",
        *rows,
    ])
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w", encoding="utf-8") as f:
        f.write("# Generators\n\n`python benchmarks/bench_generation.py`\n\n" + table + "\n")
    print(table)


if __name__ == "__main__":
    main()
