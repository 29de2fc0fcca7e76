"""Scoring the captioners: BLEU-1..4 and CIDEr with the COCO caption evaluation code."""

from __future__ import annotations

import contextlib
import io

from zoo._images import to_pixels
from zoo.models.captioner.decoding import caption_pixels
from zoo.models.captioner.model import DEFAULT_BEAM_WIDTH, image_size_of

def score_captions(predictions: list[str], references: list) -> dict:
    """BLEU-1..4 and CIDEr of captions against their references, with the COCO caption evaluation code.

    Both sides are tokenized by pycocoevalcap's PTBTokenizer (Stanford CoreNLP, needs Java), which
    lower-cases and drops punctuation; BLEU is corpus-level with the "closest" reference length,
    CIDEr is CIDEr-D as in the COCO server (document frequencies from these references).
    """

    try:
        from pycocoevalcap.bleu.bleu import Bleu
        from pycocoevalcap.cider.cider import Cider
        from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer
    except ImportError as error:
        raise ImportError("Scoring captions needs pycocoevalcap: pip install pycocoevalcap") from error
    if len(predictions) != len(references) or not predictions:
        raise ValueError(f"Expected one prediction per reference set, got {len(predictions)} and {len(references)}.")
    gts = {i: [{"caption": r} for r in refs] for i, refs in enumerate(references)}
    res = {i: [{"caption": p}] for i, p in enumerate(predictions)}
    tokenizer = PTBTokenizer()
    try:
        with _java_stderr_captured() as java_log:
            gts, res = tokenizer.tokenize(gts), tokenizer.tokenize(res)
    except FileNotFoundError as error:
        raise FileNotFoundError(
            "The COCO caption tokenizer (PTBTokenizer) runs Java, which was not found: install a Java runtime "
            f"(e.g. apt-get install default-jre-headless). ({error})"
        ) from None
    except Exception as error:
        raise RuntimeError(f"The COCO caption tokenizer (PTBTokenizer) failed: {error}. Java said: "
                           f"{java_log.getvalue()[-2000:] or '(nothing)'}") from error
    with contextlib.redirect_stdout(io.StringIO()):  # the BLEU scorer prints its counts
        bleu, _ = Bleu(4).compute_score(gts, res)
        cider, _ = Cider().compute_score(gts, res)
    scores = {f"bleu_{n}": round(float(b), 4) for n, b in enumerate(bleu, start=1)}
    scores["cider"] = round(float(cider), 4)
    return scores


def evaluate(model, *, split: str = "test", limit: int | None = None, beam_width: int = DEFAULT_BEAM_WIDTH,
             batch_size: int = 50, progress: bool = True):
    """BLEU-1..4 and CIDEr on a Flickr8k split (every image against its 5 references): the card's figures.

    Images are read from the archive and go through the same preprocessing as the pipeline.

    Returns:
        ``{"bleu_1", "bleu_2", "bleu_3", "bleu_4", "cider", "n": images}``.
    """
    from zoo._predict import predict_batched
    from zoo.data import flickr8k
    from zoo.decoding import check_options

    check_options(beam_width=beam_width)
    data = flickr8k.load(split, limit=limit)
    size = image_size_of(model)

    def caption_batch(names):
        return caption_pixels(model, to_pixels(flickr8k.read_images(names), size), beam_width=beam_width)

    predictions = predict_batched(data.images, caption_batch, batch_size=batch_size, progress=progress,
                                  desc=f"eval {split}", unit="image")
    return {**score_captions(predictions, data.captions), "n": len(data)}


@contextlib.contextmanager
def _java_stderr_captured():
    """Collects what child processes write to stderr (the PTB tokenizer's Java prints a progress line per
    call) instead of letting it reach the terminal; the text is there for the error message if it fails."""
    import os
    import sys
    import tempfile

    log = io.StringIO()
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield log
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            log.write(capture.read().decode("utf-8", "replace"))
