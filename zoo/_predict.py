"""The one batched predict loop, used by the pipelines and by evaluation alike (so scores and pipeline
outputs cannot drift): items are ordered by a length key so a batch holds similar lengths, run batch
by batch, and returned in the caller's order, with a progress bar on long runs."""

from __future__ import annotations

from typing import Any, Callable, Sequence

AUTO_PROGRESS_ITEMS = 2000  # with progress=None, a bar is shown from this many items on


def predict_batched(
    items: Sequence[Any],
    run: Callable[[list], Sequence[Any]],
    *,
    batch_size: int,
    length: Callable[[Any], int] | None = None,
    progress: bool | None = None,
    desc: str = "predict",
    unit: str = "item",
) -> list:
    """``run`` over ``items`` in batches; one result per item, in the order of ``items``.

    Args:
        items: the inputs (texts, token lists, images...).
        run: maps a list of at most ``batch_size`` items to a sequence of as many results.
        batch_size: items per call of ``run``.
        length: when given, items are batched in order of ``length(item)`` (less padding).
        progress: show a progress bar; None shows one for long runs only.
        desc, unit: the progress bar's label and unit.

    Example:
        >>> predict_batched(["a b", "a", "a b c"], lambda batch: [len(t) for t in batch], batch_size=2, length=len)
        [3, 1, 5]
    """
    from zoo._progress import progress_bar

    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
    n = len(items)
    order = sorted(range(n), key=lambda i: length(items[i])) if length else list(range(n))
    results: list = [None] * n
    show = progress if progress is not None else n >= AUTO_PROGRESS_ITEMS
    with progress_bar(total=n, desc=desc, unit=unit, enabled=show) as bar:
        for start in range(0, n, batch_size):
            chunk = order[start : start + batch_size]
            out = run([items[i] for i in chunk])
            if len(out) != len(chunk):
                raise RuntimeError(f"{desc}: a batch of {len(chunk)} items gave {len(out)} results.")
            for i, result in zip(chunk, out):
                results[i] = result
            bar.update(len(chunk))
    return results
