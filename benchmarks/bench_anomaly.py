"""Speed of the anomaly detector on the whole NAB corpus (58 series, 365,558 rows), streaming and batch.

    python benchmarks/bench_anomaly.py [--name nab-lstm] [--files N]

It measures:
- streaming: every series fed one value at a time to `det.stream(probation=NAB's rule)`, as a monitoring
  system would; rows per second over the whole corpus, calibration (normalization, fine-tuning on the
  probation rows, replay) included, and the latency of one `update` after calibration (p50 / p99);
- batch: `det(values)` per series (all windows of a series predicted at once); rows per second;
- the scores of both modes agree (largest difference printed).
Needs ZOO_DATA_DIR. Writes benchmarks/results/anomaly.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import zoo  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "anomaly.md")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default="nab-lstm")
    parser.add_argument("--files", type=int, default=None, help="only the first N series (a quick run)")
    args = parser.parse_args(argv)
    import keras
    import tensorflow as tf

    from zoo.data import nab
    from zoo.metrics.nab import probation_length

    corpus = nab.load()
    names = list(corpus)[: args.files] if args.files else list(corpus)
    rows = sum(len(corpus[n]) for n in names)
    det = zoo.pipeline(args.name)
    det(corpus[names[0]].values)  # warm-up: traces the fine-tuning step and the forward pass

    stream_seconds, calibration_seconds, latencies, batch_scores, stream_scores = 0.0, 0.0, [], {}, {}
    for name in names:
        values = corpus[name].values
        probation = probation_length(len(values))
        stream = det.stream(probation=probation)
        scores = np.empty(len(values))
        start = time.perf_counter()
        for i, value in enumerate(values):
            before = time.perf_counter()
            scores[i] = stream.update(float(value)).score
            after = time.perf_counter()
            if i == probation - 1:
                calibration_seconds += after - before
            elif i >= probation:
                latencies.append(after - before)
        stream_seconds += time.perf_counter() - start
        stream_scores[name] = scores
    start = time.perf_counter()
    for name in names:
        batch_scores[name] = det(corpus[name].values)["scores"]
    batch_seconds = time.perf_counter() - start
    difference = max(float(np.max(np.abs(stream_scores[n] - batch_scores[n]))) for n in names)
    p50, p99 = (float(np.percentile(latencies, q)) * 1000 for q in (50, 99))

    lines = [
        f"# Anomaly detector speed ({args.name})",
        "",
        f"{len(names)} NAB series, {rows:,} rows, on {platform.machine()} with {os.cpu_count()} CPU cores, "
        f"Python {platform.python_version()}, TensorFlow {tf.__version__}, Keras {keras.__version__}, "
        f"{time.strftime('%Y-%m-%d')}.",
        "",
        "| mode | rows/s | total (s) | notes |",
        "|---|---|---|---|",
        f"| streaming, one value at a time | {rows / stream_seconds:,.0f} | {stream_seconds:.1f} | calibration at the "
        f"end of each probation period (fine-tuning included): {calibration_seconds:.1f} s in all; one update after "
        f"it: p50 {p50:.3f} ms, p99 {p99:.3f} ms ({1000 / p50:,.0f} rows/s) |",
        f"| batch, `det(values)` per series | {rows / batch_seconds:,.0f} | {batch_seconds:.1f} | fine-tuning and all "
        "windows of a series at once |",
        "",
        f"Largest difference between the streaming and the batch scores: {difference:.2e}. Load average at the end: "
        f"{os.getloadavg()[0]:.1f} (other work may share the machine).",
        "",
    ]
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
