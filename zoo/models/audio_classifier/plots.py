"""A recording's waveform and log-mel spectrogram, titled with the predicted digit, as a PNG."""

from __future__ import annotations


def save_waveform_and_spectrogram(path_out: str, waveform, spectrogram, result: dict, *, sample_rate: int,
                                  title: str | None = None) -> str:
    """Writes two panels: the waveform the model takes (trimmed, padded) over time, and its log-mel
    spectrogram (frames x mel bands, as the model's ``log_mel`` layer computes it).

    Needs matplotlib (imported here, not at import time).
    """
    import numpy as np

    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError("save_plot needs matplotlib: pip install matplotlib") from error

    waveform = np.asarray(waveform, np.float32)
    seconds = len(waveform) / sample_rate
    figure = Figure(figsize=(8, 5), dpi=100)
    FigureCanvasAgg(figure)
    top, bottom = figure.subplots(2, 1, sharex=True)
    top.plot(np.arange(len(waveform)) / sample_rate, waveform, linewidth=0.6, color="#1f4e79")
    top.set_ylabel("amplitude")
    top.set_xlim(0, seconds)
    bottom.imshow(np.asarray(spectrogram).T, origin="lower", aspect="auto", cmap="magma",
                  extent=(0, seconds, 0, spectrogram.shape[1]))
    bottom.set_ylabel("mel band")
    bottom.set_xlabel(f"seconds (the model's input: {len(waveform):,} samples at {sample_rate:,} Hz)")
    heading = f"predicted digit: {result['label']} (score {result['score']:.3f})"
    figure.suptitle(f"{title}: {heading}" if title else heading, fontsize=12)
    figure.tight_layout()
    figure.savefig(path_out)
    return path_out
