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


class GeneratorPipeline(Pipeline):
    """Base of the pipelines that continue a text prompt (the language models).

    A subclass writes ``generate(prompt, length, *, temperature, top_k, top_p, seed) -> str`` (the prompt and
    what follows) and ``stream(...)`` (the pieces written after the prompt, as each is drawn), names its length
    bound (``length_option``: ``"max_chars"``, ``"max_words"``) and gives ``zoo predict`` a ``predict_command``
    whose keyword arguments are the options it takes, calling `_print_as_written`.

    Example:
        >>> lm = zoo.pipeline("imdb-lm-lstm")
        >>> lm(["This movie was", "The acting"], 20, seed=0)   # one text per prompt
    """

    length_option = "max_length"

    def __call__(self, prompt, *args, **options):
        """`generate` for one prompt, or a list of prompts (one text each)."""
        if isinstance(prompt, (list, tuple)):
            return [self.generate(p, *args, **options) for p in prompt]
        return self.generate(prompt, *args, **options)

    @staticmethod
    def format(prompt, text) -> str:
        return text

    def shown_prompt(self, prompt: str) -> str:
        """The prompt as the generated text starts with it."""
        return prompt

    def _checked_options(self, length, temperature, top_k, top_p, seed) -> dict:
        """The sampling options checked (`zoo.decoding.check_options`), as the decoders take them."""
        from zoo.decoding import check_options

        check_options(names={"max_length": self.length_option}, max_length=length, temperature=temperature,
                      top_k=top_k, top_p=top_p, seed=seed)
        return dict(temperature=float(temperature), top_k=top_k, top_p=None if top_p is None else float(top_p), seed=seed)

    def _print_as_written(self, prompts, *, as_json: bool, length: int, temperature: float, seed: int) -> int:
        """``zoo predict``: each prompt's text printed as it is written (or one JSON line each)."""
        import json
        import sys

        if not prompts:
            raise ValueError(f"{self.spec.name} needs a prompt to continue, e.g. zoo predict {self.spec.name} {self.spec.example}.")
        for prompt in prompts:
            if as_json:
                text = self.generate(prompt, length, temperature=temperature, seed=seed)
                print(json.dumps({"prompt": prompt, "text": text}, ensure_ascii=False))
                continue
            pieces = self.stream(prompt, length, temperature=temperature, seed=seed)  # checks before printing
            sys.stdout.write(self.shown_prompt(prompt))
            for piece in pieces:
                sys.stdout.write(piece)
                sys.stdout.flush()
            sys.stdout.write("\n")
        return 0
