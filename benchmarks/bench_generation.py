"""Speed of the generators: chorales per second (jsb-chorales-lstm), characters per second (shakespeare-char-lstm).

    python benchmarks/bench_generation.py [--chords 64] [--chars 500] [--repeats 10] [--batch 32]

For the chorale composer it measures:
- load: `zoo.load(name)` (verify sha256 + deserialize), TensorFlow already imported;
- pipeline p50/p99: `zoo.pipeline(name).compose(seed, n_chords)` on the first 8 chords of test chorale 0
  (sampling at temperature 1, the loop in a compiled graph, traced once);
- SavedModel p50/p99: the exported `compose` signature (the same loop in the graph) on the same seed;
- batch throughput: chorales (and notes) per second, `--batch` test-chorale seeds composed together.
Seeds come from the jsb-chorales test split (needs ZOO_DATA_DIR).

For the character language model it measures load; `zoo.pipeline(name).generate("ROMEO:", max_chars)` and the
exported SavedModel's `generate` signature (p50/p99, in characters per second); the time to the first character
of `stream` and its characters per second; and scoring (`score`, characters per second, one stream).
Writes benchmarks/results/generation.md.
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
CHARACTER_MODELS = ("shakespeare-char-lstm",)
PROMPT = "ROMEO:"
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


def bench_character_model(name: str, chars: int, repeats: int, text: str) -> dict:
    import tensorflow as tf

    start = time.perf_counter()
    model = zoo.load(name, progress=False)
    load_s = time.perf_counter() - start
    lm = zoo.pipeline(name, model=model)
    pipeline = percentiles(timed(lambda: lm.generate(PROMPT, chars, seed=0), repeats))

    with tempfile.TemporaryDirectory() as tmp:
        generate = tf.saved_model.load(zoo.export(name, tmp, format="saved_model")).signatures["generate"]
        args = dict(prompt=tf.constant(PROMPT), length=tf.constant(chars), temperature=tf.constant(1.0),
                    seed=tf.constant(0, tf.int64))
        saved = percentiles(timed(lambda: generate(**args), repeats))

    "".join(lm.stream(PROMPT, 5, seed=0))  # traced once
    start = time.perf_counter()
    stream = lm.stream(PROMPT, chars, seed=1)
    next(stream)
    first_ms = 1000 * (time.perf_counter() - start)
    for _ in stream:
        pass
    stream_per_s = chars / (time.perf_counter() - start)

    lm.score(text[:100])  # traced once
    start = time.perf_counter()
    lm.score(text)
    score_per_s = (len(text) - 1) / (time.perf_counter() - start)
    return {"load": load_s, "pipeline": pipeline, "saved_model": saved, "first_ms": first_ms,
            "stream_per_s": stream_per_s, "score_per_s": score_per_s}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chords", type=int, default=64, help="chords composed per chorale (4 notes each)")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--batch", type=int, default=32, help="chorales composed together for the throughput figure")
    parser.add_argument("--chars", type=int, default=500, help="characters generated after the prompt")
    args = parser.parse_args(argv)

    import keras
    import tensorflow as tf

    from zoo.data import jsb_chorales, tinyshakespeare

    seeds = [c[:SEED_CHORDS] for c in jsb_chorales.load("test")]
    rows = []
    for name in CHORALES:
        r = bench_composer(name, seeds, args.chords, args.repeats, args.batch)
        rows.append(f"| `{name}` | {r['load']:.2f} | {r['pipeline'][0]:.0f} / {r['pipeline'][1]:.0f} | "
                    f"{r['saved_model'][0]:.0f} / {r['saved_model'][1]:.0f} | {1000 / r['pipeline'][0]:.2f} | "
                    f"{r['chorales_per_s']:.2f} ({r['notes_per_s']:,.0f} notes/s) |")
        print(rows[-1], flush=True)
    text = tinyshakespeare.load("test", limit=20_000)
    char_rows = []
    for name in CHARACTER_MODELS:
        r = bench_character_model(name, args.chars, args.repeats, text)
        pipeline_rate = [args.chars / (ms / 1000) for ms in r["pipeline"]]
        saved_rate = [args.chars / (ms / 1000) for ms in r["saved_model"]]
        char_rows.append(f"| `{name}` | {r['load']:.2f} | {pipeline_rate[0]:,.0f} / {pipeline_rate[1]:,.0f} | "
                         f"{saved_rate[0]:,.0f} / {saved_rate[1]:,.0f} | {r['first_ms']:.0f} | "
                         f"{r['stream_per_s']:,.0f} | {r['score_per_s']:,.0f} |")
        print(char_rows[-1], flush=True)
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
        "",
        f"Character models: {args.chars} characters after {PROMPT!r} at temperature 1; characters per second at the "
        f"p50 / p99 time over {args.repeats} runs; `stream` hands out one character per call; `score` reads the first "
        f"{len(text):,} test characters as one stream.",
        "",
        "| model | load (s) | pipeline `generate` p50 / p99 (chars/s) | SavedModel `generate` p50 / p99 (chars/s) | "
        "`stream`: first character (ms) | `stream` (chars/s) | `score` (chars/s) |",
        "|---|---|---|---|---|---|---|",
        *char_rows,
    ])
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w", encoding="utf-8") as f:
        f.write("# Generators\n\n`python benchmarks/bench_generation.py`\n\n" + table + "\n")
    print(table)


if __name__ == "__main__":
    main()
