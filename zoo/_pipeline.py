"""What every pipeline shares: the spec, the model and the batch size."""

from __future__ import annotations


class Pipeline:
    """Base of the family pipelines (`zoo.pipeline(name)` returns one)."""

    def __init__(self, spec, model, *, batch_size: int = 64):
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
        self.spec = spec
        self.model = model
        self.labels = spec.labels
        self.batch_size = batch_size

    def __repr__(self):
        return f"{type(self).__name__}({self.spec.name!r}, {len(self.labels)} labels)"
