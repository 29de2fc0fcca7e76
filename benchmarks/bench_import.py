"""How long `import zoo` takes, with listing and describing a model, in a fresh interpreter each time.

    python benchmarks/bench_import.py [--repeats 20]

Prints the median and the 90th percentile over the runs, and the same for a bare interpreter (the floor).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ZOO = ("import time; t = time.perf_counter(); import zoo; zoo.list_models(); zoo.info('imdb-bigru'); "
       "print(time.perf_counter() - t)")


def seconds(code: str, repeats: int) -> list[float]:
    """Wall time of the whole interpreter for ``code``, ``repeats`` times, and the in-process time it prints."""
    import time

    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
        runs.append((time.perf_counter() - start, float(out.stdout.strip() or 0)))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    bare = seconds("print(0)", args.repeats)
    zoo_runs = seconds(ZOO, args.repeats)
    for label, runs in (("python -c pass", bare), ("import zoo + list + info", zoo_runs)):
        wall = sorted(r[0] for r in runs)
        inner = sorted(r[1] for r in runs)
        print(f"{label:<26} interpreter p50 {statistics.median(wall) * 1000:6.0f} ms, "
              f"p90 {wall[int(0.9 * (len(wall) - 1))] * 1000:6.0f} ms; in-process p50 {statistics.median(inner) * 1000:6.0f} ms")


if __name__ == "__main__":
    main()
