"""The translators' pipeline: Spanish text in, English text out (and what attention looked at)."""

from __future__ import annotations

import warnings

from zoo._pipeline import Pipeline
from zoo.decoding import check_options
from zoo.models.translator.decoding import runtime, translate
from zoo.models.translator.model import DEFAULT_BEAM_WIDTH, DEFAULT_LENGTH_PENALTY, END, END_ID, MAX_SOURCE_TOKENS, UNK
from zoo.models.translator.plots import save_attention_heatmap
from zoo.models.translator.text import tokenize_source

class TranslationPipeline(Pipeline):
    """Spanish text in, English text out.

    Example:
        >>> mt = zoo.pipeline("spa-eng-gru-attention")
        >>> mt("¿Dónde está la biblioteca?")
        'Where is the library?'
        >>> mt(["Hace frío.", "Me gusta leer."], beam_width=5)
        ["It's cold.", 'I like to read.']
        >>> mt.attention("Tengo hambre.")["target_tokens"]
        ['I', "'m", 'hungry', '.', '[END]']
        >>> mt.save_attention("Tengo hambre.", "attention.png")
    """

    def __repr__(self):
        return f"{type(self).__name__}({self.spec.name!r})"

    def __call__(self, texts, *, beam_width: int = DEFAULT_BEAM_WIDTH, length_penalty: float = DEFAULT_LENGTH_PENALTY):
        """Translates one text (returns a str) or a list of texts (returns a list of str).

        Args:
            beam_width: hypotheses kept per text; 1 is greedy decoding (the SavedModel's ``translate``).
            length_penalty: alpha of the length normalization of beam scores (0: none).
        """
        batch, single = self._texts(texts)
        out = translate(self.model, batch, beam_width=beam_width, length_penalty=length_penalty,
                        batch_size=self.batch_size)
        return out[0] if single else out

    def tokenize(self, texts) -> list[list[str]]:
        """The source tokens the encoder reads (lower-cased, at most 100 per text)."""
        batch, _ = self._texts(texts)
        return [tokenize_source(t)[:MAX_SOURCE_TOKENS] for t in batch]

    def attention(self, text, *, beam_width: int = 1, length_penalty: float = DEFAULT_LENGTH_PENALTY) -> dict:
        """What the decoder looked at while translating one text.

        Returns:
            ``{"source_tokens": [...], "target_tokens": [..., "[END]"], "weights": ndarray (target, source),
            "translation": str}``; each row of ``weights`` sums to 1 over the source tokens.
        """
        import numpy as np

        if not runtime(self.model).has_attention:
            raise ValueError(f"{self.spec.name} has no attention: its decoder sees only the last encoder state.")
        batch, single = self._texts(text)
        if not single:
            raise TypeError(f"attention() takes one text (str), got a batch of {len(batch)}.")
        check_options(beam_width=beam_width, length_penalty=length_penalty)
        result = runtime(self.model).decode(batch, beam_width=beam_width, length_penalty=length_penalty)
        ids = result["ids"][0]
        steps = int(np.argmax(ids == END_ID)) + 1 if (ids == END_ID).any() else len(ids)
        source = [t.decode("utf-8") for t in result["source_tokens"][0] if t]
        target = []
        for i in range(steps):
            token = result["target_tokens"][0][i].decode("utf-8")
            target.append(END if ids[i] == END_ID else token or UNK)
        return {"source_tokens": source, "target_tokens": target,
                "weights": np.asarray(result["attention"][0, :steps, : len(source)], np.float32),
                "translation": result["translation"][0].decode("utf-8")}

    def save_attention(self, text, path: str, **kwargs) -> str:
        """Saves the attention heat map of one translation as a PNG; returns the path."""
        return save_attention_heatmap(self.attention(text, **kwargs), path)

    def _texts(self, texts):
        from zoo._inputs import as_text_batch

        batch, single = as_text_batch(texts)
        for i, text in enumerate(batch):
            n = len(tokenize_source(text))
            if n > MAX_SOURCE_TOKENS:
                where = "" if single else f" at index {i}"
                warnings.warn(f"The text{where} has {n} tokens; only the first {MAX_SOURCE_TOKENS} are translated.",
                              stacklevel=3)
        return batch, single

    @staticmethod
    def format(text: str, result: str) -> str:
        """One readable line for the command line: the translation."""
        return result
