"""Speed of the spoken-digit classifier: single-recording latency and batch throughput.

    python benchmarks/bench_audio.py [--name fsdd-gru] [--repeats 50]

It measures, on recordings of the FSDD test split (needs ZOO_DATA_DIR):
- load: `zoo.load(name)` (verify sha256 + deserialize), TensorFlow already imported;
- pipeline p50/p99: `zoo.pipeline(name)(wav_bytes)` on one recording: WAV parsing, silence trimming and one
  compiled forward pass (front end included);
- pipeline, 44.1 kHz array: the same recording given as a 44.1 kHz float array (resampling included);
- tflite p50/p99: the exported `.tflite` in the LiteRT interpreter on one prepared 8,192-sample waveform;
- batch 256: recordings per second through `predict_proba` (preparation and forward pass), 1,024
  recordings (the 300 test recordings repeated) in batches of 256.
Writes benchmarks/results/audio.md.
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

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "audio.md")


def wav_bytes(samples, rate: int) -> bytes:
    from scipy.io import wavfile

    buffer = io.BytesIO()
    wavfile.write(buffer, rate, np.round(np.asarray(samples) * 32767).astype(np.int16))
    return buffer.getvalue()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default="fsdd-gru")
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter
    from scipy.signal import resample_poly

    from zoo.data import fsdd
    from zoo.models.audio_classifier.pipeline import predict_proba

    test = fsdd.load("test")
    median = int(np.argsort([len(w) for w in test.waveforms])[len(test) // 2])
    clip = wav_bytes(test.waveforms[median], fsdd.SAMPLE_RATE)
    at_44k = resample_poly(test.waveforms[median], 441, 80).astype(np.float32)

    start = time.perf_counter()
    model = zoo.load(args.name, progress=False)
    load_s = time.perf_counter() - start
    pipe = zoo.pipeline(args.name, model=model)
    pipeline = percentiles(timed(lambda: pipe(clip), args.repeats))
    pipeline_44k = percentiles(timed(lambda: pipe(at_44k, sample_rate=44100), args.repeats))

    with tempfile.TemporaryDirectory() as tmp:
        path = zoo.export(args.name, tmp, format="tflite")
        interpreter = Interpreter(model_path=path, num_threads=os.cpu_count())
        interpreter.allocate_tensors()
        (inp,), (out,) = interpreter.get_input_details(), interpreter.get_output_details()
        row = pipe.model_input(clip)

        def run_tflite():
            interpreter.set_tensor(inp["index"], row)
            interpreter.invoke()
            return interpreter.get_tensor(out["index"])

        tflite = percentiles(timed(run_tflite, args.repeats))

    batch = (test.waveforms * 4)[:1024]
    predict_proba(model, batch[:256], batch_size=256, progress=False)  # trace once
    start = time.perf_counter()
    predict_proba(model, batch, batch_size=256, progress=False)
    throughput = len(batch) / (time.perf_counter() - start)

    lines = [
        f"# Spoken-digit classifier speed ({args.name})",
        "",
        f"{platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}, TensorFlow "
        f"{tf.__version__}, Keras {keras.__version__}, {time.strftime('%Y-%m-%d')}. Single-recording latencies over "
        f"{args.repeats} runs after 3 warm-up runs, on the test recording of median length "
        f"({len(test.waveforms[median]) / fsdd.SAMPLE_RATE:.2f} s, `{test.file_name(median)}`).",
        "",
        "| what | p50 (ms) | p99 (ms) |",
        "|---|---|---|",
        f"| pipeline, WAV bytes (8 kHz) | {pipeline[0]:.1f} | {pipeline[1]:.1f} |",
        f"| pipeline, 44.1 kHz float array (resampled) | {pipeline_44k[0]:.1f} | {pipeline_44k[1]:.1f} |",
        f"| TFLite, one prepared 8,192-sample waveform | {tflite[0]:.1f} | {tflite[1]:.1f} |",
        "",
        f"Load: {load_s:.2f} s. Batch 256: **{throughput:.0f} recordings/s** (1,024 recordings through "
        "`predict_proba`: trimming, padding and the compiled forward pass, front end included).",
    ]
    table = "\n".join(lines)
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w") as f:
        f.write(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
