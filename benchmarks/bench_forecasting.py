"""Forecasters: accuracy beside baselines measured here on the same windows, and speed.

    python benchmarks/bench_forecasting.py [--skip-speed] [--repeats 50]

Accuracy (ETTh1 test split, every window, stride 1, none dropped; MSE / MAE on the train-scaler's scale):
- repeat the last value;
- a linear model (DLinear's function class: one linear map from the L past values of a column to its H
  future values, shared by the 7 columns, plus a bias) fit in closed form by least squares on the train
  windows, its L (96, 336, 720) and ridge penalty chosen on the validation windows;
- every shipped `etth1-*` checkpoint, scored by the same function as `zoo eval`.
Beijing PM2.5 (2014): the shipped model beside persistence, same hour yesterday and ridge regression.

Speed (each shipped forecaster): single-window latency p50/p99 of the pipeline (`zoo.pipeline(name)(window)`)
and of the exported TFLite model in the LiteRT interpreter; windows per second through the compiled forward
pass at batch 256. Writes benchmarks/results/forecasting.md. Needs ZOO_DATA_DIR.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import zoo  # noqa: E402
import zoo.models.forecaster  # noqa: E402,F401
from bench_imdb import percentiles, timed  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "forecasting.md")
HORIZONS = (96, 192, 336, 720)
LINEAR_LENGTHS = (96, 336, 720)
RIDGE_GRID = (0.0, 10.0, 1000.0, 10000.0)


# === Baselines on the same windows ===


def scaled_samples(split: str, length: int, horizon: int):
    """Channel-independent samples on the normalized scale: ``x [n * 7, L]``, ``y [n * 7, H]``."""
    from zoo.data import ett
    from zoo.models.forecaster.baselines import channel_samples

    windows = ett.windows(split, input_length=length, horizon=horizon)
    mean, scale = ett.scaler()
    return (channel_samples((windows.inputs - mean) / scale), channel_samples((windows.targets - mean) / scale),
            windows)


def linear_baseline(horizon: int) -> dict:
    """The closed-form linear model: L and ridge chosen on validation, then scored once on test."""
    from zoo.models.forecaster.baselines import LinearForecaster

    best = None
    for length in LINEAR_LENGTHS:
        x, y, _ = scaled_samples("train", length, horizon)
        gram, cross = LinearForecaster.moments(x, y)
        vx, vy, _ = scaled_samples("validation", length, horizon)
        for ridge in RIDGE_GRID:
            linear = LinearForecaster.solve(gram, cross, ridge=ridge)
            score = float(np.mean((linear.predict(vx) - vy) ** 2))
            if best is None or score < best["validation_mse"]:
                best = {"validation_mse": score, "input_length": length, "ridge": ridge, "model": linear}
    tx, ty, _ = scaled_samples("test", best["input_length"], horizon)
    error = best.pop("model").predict(tx) - ty
    return {**best, "mse": float(np.mean(error**2)), "mae": float(np.mean(np.abs(error))), "n": len(tx) // 7}


def repeat_baseline(horizon: int) -> dict:
    from zoo.data import ett
    from zoo.models.forecaster.baselines import repeat_last
    from zoo.models.forecaster.evaluation import ett_scores

    windows = ett.windows("test", input_length=1, horizon=horizon)  # the last value does not depend on L
    scores = ett_scores(repeat_last(windows.inputs, horizon), windows.targets, *ett.scaler())
    return {**scores, "n": len(windows)}


# === Speed ===


def bench_speed(name: str, repeats: int) -> dict:
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    from zoo._inference import per_model
    from zoo.models.forecaster.evaluation import forecast_function

    model = zoo.load(name, progress=False)
    fc = zoo.pipeline(name, model=model)
    window = _real_windows(name, 256)  # real test windows, in original units
    one = window[0]
    pipeline = percentiles(timed(lambda: fc(one), repeats))
    with tempfile.TemporaryDirectory() as tmp:
        path = zoo.export(name, tmp, format="tflite")
        interpreter = Interpreter(model_path=path)
        interpreter.allocate_tensors()
        (inp,), (outp,) = interpreter.get_input_details(), interpreter.get_output_details()

        def tflite():
            interpreter.set_tensor(inp["index"], one[None].astype(np.float32))
            interpreter.invoke()
            return interpreter.get_tensor(outp["index"])

        lite = percentiles(timed(tflite, repeats))
    forward = per_model(model, "forecast", forecast_function)
    batch = tf.constant(window.astype(np.float32))
    forward(batch)
    start = time.perf_counter()
    for _ in range(4):
        np.asarray(forward(batch))
    throughput = 4 * len(window) / (time.perf_counter() - start)
    return {"pipeline": pipeline, "tflite": lite, "throughput": throughput}


def _real_windows(name: str, count: int) -> np.ndarray:
    from zoo._registry import get_spec
    from zoo.models.forecaster.model import shapes

    spec = get_spec(name)
    length, _, horizon, _ = shapes(zoo.build(name))
    if spec.dataset == "ett":
        from zoo.data import ett

        return np.asarray(ett.windows("test", input_length=length, horizon=horizon).inputs[:count])
    from zoo.data import beijing_pm25

    return beijing_pm25.windows("test", limit=count).inputs


# === Report ===


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--skip-speed", action="store_true")
    args = parser.parse_args(argv)
    from zoo.models.forecaster.evaluation import evaluate

    shipped = zoo.list_models("etth1-*", pretrained=True)
    rows = {}
    for horizon in HORIZONS:
        rows[("repeat the last value", horizon)] = repeat_baseline(horizon)
        rows[("linear (least squares, L and ridge on validation)", horizon)] = linear_baseline(horizon)
        print(horizon, "baselines done", flush=True)
    models = {}
    for name in shipped:
        horizon = int(name.rsplit("-h", 1)[1])
        models[(name.rsplit("-h", 1)[0], horizon)] = evaluate(zoo.load(name, progress=False), split="test", progress=False)
    lines = [
        "# Forecasting benchmarks",
        "",
        f"Measured on {time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} CPU cores, "
        f"Python {platform.python_version()}, by `python benchmarks/bench_forecasting.py`.",
        "",
        "## ETTh1 test split (MSE / MAE on the train-scaler's scale, every window, none dropped)",
        "",
        "| model | 96 | 192 | 336 | 720 |",
        "|---|---|---|---|---|",
    ]
    for arch in sorted({a for a, _ in models}):
        lines.append(f"| `{arch}-h*` | " + " | ".join(
            f"**{models[(arch, h)]['mse']:.3f}** / {models[(arch, h)]['mae']:.3f}" if (arch, h) in models else "-"
            for h in HORIZONS) + " |")
    for title in ("repeat the last value", "linear (least squares, L and ridge on validation)"):
        lines.append(f"| {title} | " + " | ".join(
            f"{rows[(title, h)]['mse']:.3f} / {rows[(title, h)]['mae']:.3f}" for h in HORIZONS) + " |")
    linear = [rows[("linear (least squares, L and ridge on validation)", h)] for h in HORIZONS]
    lines += ["", "Linear model settings chosen on validation: " + "; ".join(
        f"H={h}: L={r['input_length']}, ridge {r['ridge']:g} (validation MSE {r['validation_mse']:.4f})"
        for h, r in zip(HORIZONS, linear)) + "."]

    if "beijing-pm25-lstm" in zoo.list_models(pretrained=True):
        m = evaluate(zoo.load("beijing-pm25-lstm", progress=False), split="test", progress=False)
        lines += ["", f"## Beijing PM2.5, 2014 ({m['n']:,} windows scored, {m['windows_dropped']:,} with a missing "
                      "target hour dropped; µg/m³)", "",
                  "| model | RMSE (mean of 24 h) | MAE | RMSE +1 h | +6 h | +12 h | +24 h |", "|---|---|---|---|---|---|---|",
                  f"| `beijing-pm25-lstm` | **{m['rmse']:.2f}** | {m['mae']:.2f} | "
                  + " | ".join(f"{v:.2f}" for v in m["rmse_by_hour"].values()) + " |"]
        for baseline, b in m["baselines"].items():
            lines.append(f"| {baseline.replace('_', ' ')} | {b['rmse']:.2f} | {b['mae']:.2f} | "
                         + " | ".join(f"{b[f'rmse +{h}h']:.2f}" for h in (1, 6, 12, 24)) + " |")

    if not args.skip_speed:
        lines += ["", "## Speed", "",
                  "Single window: p50 / p99 over "
                  f"{args.repeats} runs after 3 warm-up runs; batch 256: windows per second through the compiled "
                  "forward pass.", "",
                  "| model | pipeline p50 / p99 (ms) | TFLite p50 / p99 (ms) | batch 256 (windows/s) |", "|---|---|---|---|"]
        for name in zoo.list_models(pretrained=True):
            if zoo.info(name)["family"] != "forecaster":
                continue
            s = bench_speed(name, args.repeats)
            lines.append(f"| `{name}` | {s['pipeline'][0]:.1f} / {s['pipeline'][1]:.1f} | "
                         f"{s['tflite'][0]:.1f} / {s['tflite'][1]:.1f} | {s['throughput']:,.0f} |")
            print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w", encoding="utf-8") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
