"""A read captcha as a picture: the image with the text read, and what CTC chose at each step."""

from __future__ import annotations

import os


def save_reading(path_out, image, pixels, text: str, confidence: float, probabilities, alphabet: str) -> str:
    """Writes a PNG: the image titled with ``text`` and ``confidence``; under it the model's grey input with
    each step's argmax written at its column (blank steps as a faint dot), and the per-step probabilities
    as a heat map (rows: blank, then the alphabet).

    ``image`` is the RGB array shown, ``pixels`` the model's grey ``(height, width)`` input and
    ``probabilities`` its ``(steps, 1 + len(alphabet))`` output. Needs matplotlib (imported here).
    """
    import numpy as np

    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError("save_reading needs matplotlib: pip install matplotlib") from error

    probabilities = np.asarray(probabilities, np.float32)
    steps = probabilities.shape[0]
    height, width = pixels.shape
    best = probabilities.argmax(axis=-1)
    figure = Figure(figsize=(8, 6.4), dpi=100)
    FigureCanvasAgg(figure)
    top, middle, bottom = figure.subplots(3, 1, gridspec_kw={"height_ratios": [1, 1.2, 2]})
    top.imshow(np.asarray(image, np.float32) / 255.0)
    top.set_title(f"read: {text!r}   confidence {confidence:.3f}", fontsize=12)
    top.axis("off")
    middle.imshow(pixels, cmap="gray", vmin=0, vmax=255, extent=(0, width, height, 0))
    step_width = width / steps
    for t, index in enumerate(best):
        x = (t + 0.5) * step_width
        if index:
            middle.axvline(x, color="tab:red", alpha=0.35, linewidth=1)
            middle.text(x, height + 2, alphabet[index - 1], ha="center", va="top", fontsize=9, color="tab:red")
        else:
            middle.text(x, height + 2, "·", ha="center", va="top", fontsize=8, color="0.6")
    middle.set_ylim(height + 12, 0)
    middle.set_title("per-step CTC argmax (· blank), at each step's column", fontsize=10)
    middle.axis("off")
    bottom.imshow(probabilities.T, aspect="auto", cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
    bottom.set_yticks(range(len(alphabet) + 1), ["blank", *alphabet], fontsize=7)
    bottom.set_xlabel("step")
    bottom.set_title("per-step probabilities", fontsize=10)
    figure.tight_layout()
    path_out = os.fspath(path_out)
    figure.savefig(path_out, format="png")
    return path_out
