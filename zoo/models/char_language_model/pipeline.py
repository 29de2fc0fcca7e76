"""The character language model's pipeline: generate text after a prompt, stream it, score text."""

from __future__ import annotations

from zoo._pipeline import GeneratorPipeline


class CharLanguageModelPipeline(GeneratorPipeline):
    """Writes text one character at a time after a prompt, and scores text in nats per character.

    Example:
        >>> lm = zoo.pipeline("shakespeare-char-lstm")
        >>> print(lm.generate("ROMEO:", max_chars=200, temperature=0.8, seed=0))   # the prompt, then 200 characters
        >>> for character in lm.stream("JULIET:", max_chars=100):
        ...     print(character, end="", flush=True)
        >>> lm.score("To be, or not to be, that is the question.")                  # nats per character
    """

    length_option = "max_chars"

    @property
    def characters(self) -> str:
        """The characters the model knows (its alphabet), in id order."""
        from zoo.models.char_language_model.decoding import runtime

        return "".join(runtime(self.model).characters)  # read from the model once, with its decoder

    def _check_text(self, text, what: str) -> str:
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError as error:
                raise ValueError(f"The {what} is bytes that are not valid UTF-8 ({error.reason} at byte {error.start}).") from None
        if not isinstance(text, str):
            raise TypeError(f"Expected the {what} to be a str, got {type(text).__name__}: {text!r:.60}.")
        if not text:
            raise ValueError(f"The {what} is empty; give at least one character.")
        known = self.characters
        unknown = sorted(set(text) - set(known))
        if unknown:
            shown = ", ".join(repr(c) for c in unknown[:10]) + (" ..." if len(unknown) > 10 else "")
            raise ValueError(f"The {what} has {len(unknown)} character(s) the model does not know: {shown}. "
                             f"It knows these {len(known)}: {known!r}.")
        return text

    def generate(self, prompt: str, max_chars: int = 500, *, temperature: float = 1.0, top_k: int | None = None,
                 top_p: float | None = None, seed: int = 0) -> str:
        """The prompt followed by ``max_chars`` characters drawn from the model (`zoo.decoding.sample`).

        Args:
            prompt: text to continue (at least one character, all in `characters`).
            max_chars: characters to write (>= 1).
            temperature: > 0; below 1 is more conservative, above 1 more adventurous.
            top_k, top_p: draw only from the k most likely characters / the most likely up to probability p.
            seed: the same seed, prompt and options give the same text.
        """
        from zoo.models.char_language_model.decoding import runtime

        prompt = self._check_text(prompt, "prompt")
        options = self._checked_options(max_chars, temperature, top_k, top_p, seed)
        return runtime(self.model).generate(prompt, max_chars, **options)

    def stream(self, prompt: str, max_chars: int = 500, *, temperature: float = 1.0, top_k: int | None = None,
               top_p: float | None = None, seed: int = 0):
        """Yields the characters `generate` writes after the prompt, each as soon as it is drawn (the same text)."""
        from zoo.models.char_language_model.decoding import runtime

        prompt = self._check_text(prompt, "prompt")
        options = self._checked_options(max_chars, temperature, top_k, top_p, seed)
        return runtime(self.model).stream(prompt, max_chars, **options)

    def score(self, text: str) -> float:
        """The mean cross-entropy, in nats, of each character of ``text`` after the first, given all before it."""
        from zoo.models.char_language_model.evaluation import character_ids, stream_nats

        text = self._check_text(text, "text")
        if len(text) < 2:
            raise ValueError("The text must have at least two characters: the first is context, the rest are scored.")
        nats, count = stream_nats(self.model, character_ids(self.model, text))
        return nats / count

    def predict_command(self, inputs, *, as_json: bool = False, max_chars: int = 300, temperature: float = 0.8,
                        seed: int = 0) -> int:
        """``zoo predict shakespeare-char-lstm "ROMEO:" --max-chars 300``: prints each prompt's text as it is written."""
        return self._print_as_written(inputs, as_json=as_json, length=max_chars, temperature=temperature, seed=seed)
