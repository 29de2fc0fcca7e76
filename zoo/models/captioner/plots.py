"""A captioned image, with one attention map per word for the attention model, as a PNG."""

from __future__ import annotations

import os

from zoo._images import load_image

def save_captioned_image(path_out, image, caption: str, attention=None) -> str:
    """Writes ``image`` with ``caption`` above it to a PNG; with ``attention`` (``(words, h, w)``, as
    `ImageCaptioningPipeline.caption_with_attention` gives), one more panel per word shows where the
    model looked when it wrote that word.

    ``image`` is anything `load_image` accepts. Needs matplotlib (imported here, not at import time).
    """
    import numpy as np

    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError("save_captioned_image needs matplotlib: pip install matplotlib") from error
    import textwrap

    from zoo.data.flickr8k import tokenize

    pixels = load_image(image) / 255.0
    words = tokenize(caption) if attention is not None else []  # the model's words: "dog's" is "dog" + "'s"
    panels = 1 + (len(words) if attention is not None else 0)
    columns = min(panels, 5)
    rows = -(-panels // columns)
    figure = Figure(figsize=(3.0 * columns, 3.2 * rows + 0.4), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.subplots(rows, columns, squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    axes[0, 0].imshow(pixels)
    axes[0, 0].set_title("\n".join(textwrap.wrap(caption, 32)) if columns == 1 else "input", fontsize=10)
    if attention is not None:
        attention = np.asarray(attention, np.float32)
        height, width = pixels.shape[:2]
        for i, word in enumerate(words[: len(attention)]):
            ax = axes.ravel()[i + 1]
            ax.imshow(pixels)
            ax.imshow(attention[i], cmap="inferno", alpha=0.55, interpolation="bilinear",
                      extent=(0, width, height, 0), vmin=0.0, vmax=float(attention[i].max()) or 1.0)
            ax.set_title(word, fontsize=11)
    if columns > 1:
        figure.suptitle(caption, fontsize=12)
    figure.tight_layout()
    path_out = os.fspath(path_out)
    figure.savefig(path_out, format="png")
    return path_out
