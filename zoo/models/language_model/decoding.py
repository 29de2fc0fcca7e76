"""Generating reviews: the word model's decoder step (from its layers), the sampling loop and readable text.

The sampler is the zoo's (`zoo.decoding.sample`: temperature, top-k, top-p, stateless seeded draws), in the
graph, so the SavedModel's ``generate`` signature runs the same loop as `WordStep.generate`; `WordStep.stream`
draws the same words one call at a time (`zoo.decoding.sample_stream`). A prompt is read the way the model
reads a review, after ``<eos>``; writing stops at the model's ``<eos>`` (the end of the review) or after
``max_words`` tokens.

The text comes back readable: the model writes `StandardizeText`'s tokens (lower case, no punctuation but
``!``, ``?`` and apostrophes), so ``!`` and ``?`` join the word before them, the word after them and the
first written after a prompt that ends a sentence start with a capital, and so do ``i``, ``i'm``, ``i've``...
"""

from __future__ import annotations

from zoo.decoding import LSTMStepModel, SpecialTokens, sample, sample_stream
from zoo.models.language_model.model import EOS_ID, OOV_ID, PAD_ID, forward, network_parts

# <eos> ends a review; the start marker is an id past every vocabulary, replaced by the prompt's last token.
TOKENS = SpecialTokens(pad=PAD_ID, unk=OOV_ID, start=1_000_000, end=EOS_ID)
SENTENCE_ENDS = ("!", "?")  # the only sentence punctuation StandardizeText keeps (it removes "." and ",")
PROMPT_ENDS_SENTENCE = r"(?s).*[.!?][\"')\]]*"  # a prompt matching this ends a sentence (after its trailing spaces)
TRAILING_SPACE = r"[\t\n\v\f\r ]+$"  # removed from a prompt before the text is added (the same in re and RE2)


def runtime(model) -> "WordStep":
    """The (cached) decoding machinery of a word language model."""
    from zoo._inference import per_model

    return per_model(model, "word_step", WordStep)


def kept_prompt(prompt: str) -> str:
    """The prompt as the generated text starts with it: its trailing white space removed."""
    import re

    return re.sub(TRAILING_SPACE, "", prompt)


def capitalized(word: str) -> str:
    """``word`` with its first letter upper-cased (``i'm`` -> ``I'm``)."""
    return word[:1].upper() + word[1:]


class ReviewText:
    """Written token ids -> readable text, the same in Python (`piece`, a token at a time) and in TF (`ids_to_text`).

    Example:
        >>> text = ReviewText(["", "[UNK]", "<eos>", "i", "loved", "it", "!", "the", "film"])
        >>> text.ids_to_text(tf.constant([3, 4, 5, 6, 7, 8]), tf.constant(False))  # " I loved it! The film"
    """

    def __init__(self, vocabulary):
        silent = {PAD_ID, OOV_ID, EOS_ID}
        # Per id: the word as written mid-sentence and at a sentence start ("" for what writes nothing),
        # whether it joins the word before it (no space), and whether a sentence starts after it.
        words = ["" if i in silent else str(w) for i, w in enumerate(vocabulary)]
        self.capitals = [capitalized(w) for w in words]
        self.words = [self.capitals[i] if w == "i" or w.startswith("i'") else w for i, w in enumerate(words)]
        self.joins = [i in silent or w in SENTENCE_ENDS for i, w in enumerate(words)]
        self.ends_sentence = [w in SENTENCE_ENDS for w in words]

    def piece(self, token: int, after_sentence_end: bool) -> str:
        """What token ``token`` adds to the text (its space, if any, and the word), in Python."""
        word = self.capitals[token] if after_sentence_end else self.words[token]
        return word if self.joins[token] else " " + word

    def ids_to_text(self, ids, starts_sentence):
        """Written ids ``(n,)`` -> the text they add (tf.string scalar), as TF ops; `piece` joined.

        ``starts_sentence`` (tf.bool scalar): whether the first word opens a sentence.
        """
        import tensorflow as tf

        ends = tf.gather(tf.constant(self.ends_sentence), ids)
        capital = tf.concat([tf.reshape(starts_sentence, [1]), ends[:-1]], axis=0)
        words = tf.where(capital, tf.gather(tf.constant(self.capitals), ids), tf.gather(tf.constant(self.words), ids))
        spaces = tf.where(tf.gather(tf.constant(self.joins), ids), "", " ")
        return tf.strings.reduce_join(tf.strings.join([spaces, words]))


class WordStep(LSTMStepModel):
    """The word model one token at a time.

    ``start(ids)`` reads a framed prompt's ids ``(batch, S >= 1)`` (``<eos>`` then the prompt's tokens): the
    LSTMs run over all but the last token, which is the memory fed to the first step in place of
    ``tokens.start``. ``step`` (`LSTMStepModel`'s) gives the next token's log-probabilities and the new LSTM
    states (``h1, c1, ...``). Padding and ``[UNK]`` are never written; ``<eos>`` ends the text, after at least
    one token. ``generate`` (`LSTMStepModel`'s) runs `generate_graph` compiled.
    """

    tokens = TOKENS
    never_write = (PAD_ID, OOV_ID)
    min_length = 1
    force_end = False

    def __init__(self, model):
        self.model = model
        self.parts, self.layers = network_parts(model)
        self.lstms = [self.parts[f"lstm_{i}"] for i in range(1, self.layers + 1)]
        self.text = ReviewText(model.get_layer("vectorize").get_vocabulary())

    def advance(self, ids, state):
        """One token id per row ``(batch,)`` -> the next token's logits ``(batch, vocabulary)``, new state."""
        import tensorflow as tf

        embedding = self.parts["embedding"]
        x, state = self.run_cells(tf.gather(embedding.embeddings, ids), state)
        return embedding(self.parts["projection"](x), reverse=True), state

    def start(self, ids):
        import tensorflow as tf

        ids = tf.cast(ids, tf.int32)
        heads = ids[:, :-1]  # every token but the last; empty for a prompt without tokens (only <eos>)
        state = tf.cond(tf.shape(heads)[1] > 0,
                        lambda: tuple(forward(self.parts, heads, layers=self.layers, training=False)[1]),
                        lambda: self.zero_state(tf.shape(ids)[0]))
        return state, (ids[:, -1],)

    # --- Text in, text out ---

    def prompt_ids(self, prompt):
        """A prompt (tf.string scalar) -> its framed ids ``(1, S)`` int32: ``<eos>`` then its tokens."""
        import tensorflow as tf

        tokens = self.model.get_layer("vectorize")(self.model.get_layer("standardize")(tf.reshape(prompt, [1])))
        return tf.concat([tf.fill([1, 1], EOS_ID), tf.cast(tokens, tf.int32)], axis=1)

    def generate_graph(self, prompt, max_words, *, temperature=1.0, top_k=None, top_p=None, seed=0):
        """A prompt (tf.string scalar) -> the prompt (trailing space removed) and what follows, as TF ops."""
        import tensorflow as tf

        prompt = tf.strings.regex_replace(prompt, TRAILING_SPACE, "")
        ids = self.prompt_ids(prompt)
        decoded = sample(self, ids, max_length=tf.cast(max_words, tf.int32),
                         temperature=temperature, top_k=top_k, top_p=top_p, seed=seed)
        return tf.strings.join([prompt, self.text.ids_to_text(decoded.ids[0], self.opens_sentence(prompt, ids))])

    def opens_sentence(self, prompt, ids):
        """Whether the first word written after ``prompt`` (framed ``ids``) starts a sentence, as TF ops."""
        import tensorflow as tf

        return tf.strings.regex_full_match(prompt, PROMPT_ENDS_SENTENCE) | tf.equal(tf.shape(ids)[1], 1)

    def stream(self, prompt: str, max_words: int, *, temperature: float, top_k, top_p, seed: int):
        """Yields the pieces of text `generate` adds after ``prompt`` (``" word"``, ``"!"``), as each is drawn.

        The same draws as `generate` (`zoo.decoding.sample_stream`), so the joined stream equals its
        continuation; it ends at ``<eos>`` or after ``max_words`` tokens.
        """
        import tensorflow as tf

        prompt = tf.strings.regex_replace(tf.constant(prompt), TRAILING_SPACE, "")
        ids = self.prompt_ids(prompt)
        after_end = bool(self.opens_sentence(prompt, ids))
        for token in sample_stream(self, ids, max_length=max_words, temperature=temperature, top_k=top_k,
                                   top_p=top_p, seed=seed):
            if token == EOS_ID:
                return
            yield self.text.piece(token, after_end)
            after_end = self.text.ends_sentence[token]
