"""Speed of the translators: single-sentence latency and batch throughput, greedy and beam search.

    python benchmarks/bench_translator.py [--models spa-eng-gru-attention] [--repeats 30] [--sentences 512]

For each model it measures:
- load: `zoo.load(name)` (verify sha256 + deserialize), TensorFlow already imported;
- greedy / beam 5 p50/p99: `zoo.pipeline(name)(sentence, beam_width=...)` on one test sentence;
- SavedModel p50/p99: the exported `translate` signature (greedy, the loop in the graph) on one sentence;
- greedy / beam 5 throughput: sentences per second over a fixed slice of the test split, batches of 64.
Sentences come from the zoo's spa-eng test split (needs ZOO_DATA_DIR). Writes benchmarks/results/translators.md.
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

import zoo  # noqa: E402
from bench_imdb import percentiles, timed  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "translators.md")
NAMES = ("spa-eng-gru", "spa-eng-gru-attention")


def bench_model(name: str, sentences: list[str], repeats: int) -> dict:
    import tensorflow as tf

    start = time.perf_counter()
    model = zoo.load(name, progress=False)
    load_s = time.perf_counter() - start

    mt = zoo.pipeline(name, model=model)
    one = sentences[len(sentences) // 2]
    greedy = percentiles(timed(lambda: mt(one, beam_width=1), repeats))
    beam = percentiles(timed(lambda: mt(one, beam_width=5), repeats))

    with tempfile.TemporaryDirectory() as tmp:
        path = zoo.export(name, tmp, format="saved_model")
        translate = tf.saved_model.load(path).signatures["translate"]
        text = tf.constant([one])
        saved = percentiles(timed(lambda: translate(text=text), repeats))

    throughput = {}
    for width in (1, 5):
        mt(sentences[:64], beam_width=width)  # warm-up: traces the batched functions
        start = time.perf_counter()
        mt(sentences, beam_width=width)
        throughput[width] = len(sentences) / (time.perf_counter() - start)
    return {"load": load_s, "greedy": greedy, "beam": beam, "saved_model": saved, "throughput": throughput}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(NAMES))
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--sentences", type=int, default=512, help="test sentences for the throughput figures")
    args = parser.parse_args(argv)

    import keras
    import tensorflow as tf

    from zoo.data import spa_eng

    sentences = spa_eng.load("test", limit=args.sentences).source
    words = sorted(len(s.split()) for s in sentences)
    rows = []
    for name in args.models:
        r = bench_model(name, sentences, args.repeats)
        rows.append(
            f"| `{name}` | {r['load']:.2f} | {r['greedy'][0]:.1f} / {r['greedy'][1]:.1f} | "
            f"{r['beam'][0]:.1f} / {r['beam'][1]:.1f} | {r['saved_model'][0]:.1f} / {r['saved_model'][1]:.1f} | "
            f"{r['throughput'][1]:.0f} | {r['throughput'][5]:.0f} |"
        )
        print(rows[-1], flush=True)
    table = "\n".join([
        f"Figures on {time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} CPU cores, Python "
        f"{platform.python_version()}, TensorFlow {tf.__version__}, Keras {keras.__version__}; "
        f"{len(sentences)} test sentences, median {words[len(words) // 2]} Spanish words; single-sentence figures "
        f"over {args.repeats} runs after 3 warm-up runs.",
        "",
        "| model | load (s) | greedy p50 / p99 (ms) | beam 5 p50 / p99 (ms) | SavedModel greedy p50 / p99 (ms) "
        "| greedy (sentences/s) | beam 5 (sentences/s) |",
        "|---|---|---|---|---|---|---|",
        *rows,
    ])
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w", encoding="utf-8") as f:
        f.write("# Translators\n\n`python benchmarks/bench_translator.py`\n\n" + table + "\n")
    print(table)


if __name__ == "__main__":
    main()
