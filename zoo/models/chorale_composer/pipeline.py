"""The chorale composer's pipeline: seed chords in, new chords out; MIDI files and piano rolls."""

from __future__ import annotations

from zoo._pipeline import Pipeline
from zoo.models.chorale_composer import midi
from zoo.models.chorale_composer.model import VOICES

SEED_CHORDS = 8  # chords of a test chorale that `zoo predict --seed-chorale N` starts from (as Hands-On ML does)


def predict_proba(model, notes, *, batch_size: int = 64, progress: bool | None = None, desc: str = "predict"):
    """Next-note probabilities for rows of note classes ``(n, length)``: float32 ``(n, length, 47)``.

    The model reads whole chords: rows are padded with rests to a multiple of 4 notes, and the outputs of
    the padding (which, the model being causal, change nothing before them) are dropped.
    """
    import numpy as np
    import tensorflow as tf

    from zoo._inference import compiled_forward
    from zoo._predict import predict_batched

    notes = np.asarray(notes, np.int32)
    length = notes.shape[1]
    padded = np.pad(notes, [(0, 0), (0, -length % VOICES)])
    forward = compiled_forward(model)
    rows = predict_batched(list(padded), lambda batch: list(np.asarray(forward(tf.constant(np.stack(batch))))[:, :length]),
                           batch_size=batch_size, progress=progress, desc=desc, unit="window")
    return np.asarray(rows, np.float32)


def seed_from_test_chorale(index: int, chords: int = SEED_CHORDS):
    """The first ``chords`` chords of test chorale ``index`` (from ``$ZOO_DATA_DIR``)."""
    from zoo.data import jsb_chorales

    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < jsb_chorales.COUNTS["test"]:
        raise ValueError(f"the seed chorale must be a test chorale index from 0 to {jsb_chorales.COUNTS['test'] - 1}, "
                         f"got {index!r}.")
    return jsb_chorales.load("test")[index][:chords]


class ChoraleComposerPipeline(Pipeline):
    """Continues a chorale, four voices at a time, by sampling the next note voice by voice.

    Example:
        >>> bach = zoo.pipeline("jsb-chorales-lstm")
        >>> seed = [[74, 70, 65, 58]] * 4 + [[75, 70, 67, 60]] * 4
        >>> chords = bach.compose(seed, n_chords=64, temperature=1.0, seed=0)   # int32 (64, 4)
        >>> bach.to_midi(np.concatenate([seed, chords]), "chorale.mid", tempo=80)
        >>> bach.plot(chords, "chorale.png")
    """

    def compose(self, seed_chords, n_chords: int = 64, *, temperature: float = 1.0, top_k: int | None = None,
                top_p: float | None = None, seed: int = 0):
        """``n_chords`` new chords after ``seed_chords``: int32 ``(n_chords, 4)`` of MIDI pitches (0 rest).

        Args:
            seed_chords: ``(n >= 1, 4)`` MIDI pitches, 0 or 36..81 (soprano, alto, tenor, bass; one row per 16th).
            n_chords: chords to write (>= 1).
            temperature, top_k, top_p: how notes are drawn (`zoo.decoding.sample`).
            seed: the random seed; the same seed and inputs give the same chords.

        The seed is not part of the result.
        """
        from zoo.decoding import check_options
        from zoo.models.chorale_composer.decoding import runtime

        chords = midi.check_chords(seed_chords, what="seed_chords")
        check_options(names={"max_length": "n_chords"}, max_length=n_chords, temperature=temperature, top_k=top_k,
                      top_p=top_p, seed=seed)
        return runtime(self.model).compose(chords[None], n_chords, temperature=float(temperature), top_k=top_k,
                                           top_p=None if top_p is None else float(top_p), seed=seed)[0]

    def __call__(self, seed_chords, n_chords: int = 64, **options):
        """The same as `compose`."""
        return self.compose(seed_chords, n_chords, **options)

    def next_note_probabilities(self, chords):
        """The model's probabilities of each note after the first, given the notes before it: ``(4 n - 1, 47)``.

        Row ``i`` is the distribution of note ``i + 1`` of the chords unrolled voice by voice (class 0 a rest,
        class c the MIDI pitch ``c + 35``).
        """
        from zoo.data.jsb_chorales import to_classes

        notes = to_classes(midi.check_chords(chords)).reshape(1, -1)
        return predict_proba(self.model, notes[:, :-1], batch_size=1)[0]

    @staticmethod
    def to_midi(chords, path, *, tempo: float = 80.0, velocity: int = 80, program: int = midi.CHURCH_ORGAN) -> str:
        """A standard MIDI file of four tracks (one per voice); see `zoo.models.chorale_composer.midi.to_midi`."""
        return midi.to_midi(chords, path, tempo=tempo, velocity=velocity, program=program)

    @staticmethod
    def plot(chords, path, *, title: str | None = None) -> str:
        """A piano roll of ``chords`` as a PNG (needs matplotlib)."""
        return midi.plot(chords, path, title=title)

    @staticmethod
    def format(seed, chords) -> str:
        """The chords as lines of four MIDI pitches."""
        return "\n".join(" ".join(f"{p:2d}" for p in chord) for chord in chords)

    def predict_command(self, inputs, *, as_json: bool = False, plot: str | None = None, seed_chorale: int = 0,
                        out: str | None = None, n_chords: int = 64, temperature: float = 1.0, seed: int = 0) -> int:
        """``zoo predict jsb-chorales-lstm --seed-chorale N [--out chorale.mid] [--plot roll.png]``.

        Continues the first chords of test chorale N; prints the new chords (or JSON), writes the seed and
        the continuation as MIDI to ``out`` and as a piano roll to ``plot``.
        """
        import json

        import numpy as np

        if inputs:
            raise ValueError(f"{self.spec.name} takes no text inputs, got {list(inputs)[:3]}; choose the seed with "
                             "--seed-chorale N (the first chords of test chorale N).")
        seed_chords = seed_from_test_chorale(seed_chorale)
        chords = self.compose(seed_chords, n_chords, temperature=temperature, seed=seed)
        whole = np.concatenate([seed_chords, chords])
        if out:  # the files first: output piped into `head` must not cost them
            self.to_midi(whole, out)
        if plot:
            self.plot(whole, plot, title=f"test chorale {seed_chorale}: {len(seed_chords)} chords, then the model's")
        if as_json:
            print(json.dumps({"seed_chorale": seed_chorale, "seed": seed_chords.tolist(), "chords": chords.tolist()}))
        else:
            print(self.format(seed_chords, chords))
        return 0
