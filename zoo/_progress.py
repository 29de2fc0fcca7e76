"""Progress bars for long work (tqdm when present, silent otherwise)."""

from __future__ import annotations

import contextlib
import sys


@contextlib.contextmanager
def progress_bar(*, total: int | None, desc: str, unit: str = "it", enabled: bool = True, unit_scale: bool = False):
    """A tqdm bar on stderr; a no-op object when disabled or tqdm is missing."""
    bar = None
    if enabled:
        try:
            from tqdm.auto import tqdm

            bar = tqdm(total=total, desc=desc, unit=unit, unit_scale=unit_scale, file=sys.stderr, leave=False)
        except ImportError:
            bar = None
    try:
        yield bar if bar is not None else _Silent()
    finally:
        if bar is not None:
            bar.close()


class _Silent:
    def update(self, n: int = 1) -> None:
        pass
