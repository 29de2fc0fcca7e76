"""The word language model's pipeline: continue a review after a prompt, stream it, and score text by perplexity."""

from __future__ import annotations

from zoo._pipeline import GeneratorPipeline


class LanguageModelPipeline(GeneratorPipeline):
    """Writes review text a word at a time after a prompt, and gives the perplexity of a text.

    Example:
        >>> lm = zoo.pipeline("imdb-lm-lstm")
        >>> print(lm.generate("This movie was", max_words=40, temperature=0.8, seed=0))
        >>> for piece in lm.stream("The acting", max_words=30):
        ...     print(piece, end="", flush=True)
        >>> lm.perplexity("One of the best films I have seen this year.")   # per token, lower is more typical
    """

    length_option = "max_words"

    @staticmethod
    def _check_text(text, what: str) -> str:
        from zoo._inputs import as_text_batch

        texts, single = as_text_batch(text, what=what)
        if not single:
            raise TypeError(f"Expected one {what} (a str), got a {type(text).__name__}; the pipeline itself takes a list.")
        return texts[0]

    def generate(self, prompt: str, max_words: int = 50, *, temperature: float = 1.0, top_k: int | None = None,
                 top_p: float | None = None, seed: int = 0) -> str:
        """The prompt followed by up to ``max_words`` tokens drawn from the model (`zoo.decoding.sample`).

        Writing stops earlier when the model ends the review (``<eos>``, never written out); ``[UNK]`` is
        never drawn. Words come out in `StandardizeText`'s form (lower case, no punctuation but ``!``, ``?``
        and apostrophes), with ``!``/``?`` attached, sentences and "I" capitalized; trailing white space of the
        prompt is dropped.

        Args:
            prompt: text to continue (any text; words the model does not know are read as ``[UNK]``).
            max_words: tokens to write at most (>= 1; ``!`` and ``?`` count as tokens).
            temperature: > 0; below 1 is more conservative, above 1 more adventurous.
            top_k, top_p: draw only from the k most likely words / the most likely up to probability p.
            seed: the same seed, prompt and options give the same text.
        """
        from zoo.models.language_model.decoding import runtime

        prompt = self._check_text(prompt, "prompt")
        options = self._checked_options(max_words, temperature, top_k, top_p, seed)
        return runtime(self.model).generate(prompt, max_words, **options)

    def stream(self, prompt: str, max_words: int = 50, *, temperature: float = 1.0, top_k: int | None = None,
               top_p: float | None = None, seed: int = 0):
        """Yields what `generate` writes after the prompt, a word at a time (``" word"``, ``"!"``): the same text."""
        from zoo.models.language_model.decoding import runtime

        prompt = self._check_text(prompt, "prompt")
        options = self._checked_options(max_words, temperature, top_k, top_p, seed)
        return runtime(self.model).stream(prompt, max_words, **options)

    def shown_prompt(self, prompt: str) -> str:
        from zoo.models.language_model.decoding import kept_prompt

        return kept_prompt(prompt)

    def perplexity(self, text: str) -> float:
        """The perplexity per token of ``text`` read as a review: ``<eos>`` before it, its tokens and ``<eos>`` scored.

        As in the card's evaluation: every token (words, ``[UNK]`` for unknown words, ``!``/``?`` and the
        closing ``<eos>``) is predicted from all before it, from a zero state; lower is more typical.
        """
        import numpy as np
        import tensorflow as tf

        from zoo.models.language_model.decoding import runtime
        from zoo.models.language_model.model import EOS_ID, perplexity_of_stream

        text = self._check_text(text, "text")
        framed = np.asarray(runtime(self.model).prompt_ids(tf.constant(text)))[0]  # <eos> then the tokens
        if len(framed) < 2:
            raise ValueError(f"The text has no words to score after standardization (punctuation is removed): {text!r:.60}.")
        stream = np.append(framed, EOS_ID)
        return perplexity_of_stream(self.model, stream, batch_size=1, seq_len=len(stream))["perplexity"]

    def predict_command(self, inputs, *, as_json: bool = False, max_words: int = 50, temperature: float = 0.8,
                        seed: int = 0) -> int:
        """``zoo predict imdb-lm-lstm "This movie was" --max-words 50``: prints each prompt's text as it is written."""
        return self._print_as_written(inputs, as_json=as_json, length=max_words, temperature=temperature, seed=seed)
