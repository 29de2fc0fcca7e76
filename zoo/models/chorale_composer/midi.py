"""Chords to a standard MIDI file (with `mido`) and to a piano-roll picture (with matplotlib).

A chord is one 16th note of four voices (soprano, alto, tenor, bass), each a MIDI pitch or 0 for a rest.
In the MIDI file each voice is a track of its own (type 1 file, four tracks, one channel each); a voice
that keeps its pitch from one 16th to the next holds the note (the data does not tell a held note from a
repeated one), and a rest is silence.
"""

from __future__ import annotations

VOICE_NAMES = ("soprano", "alto", "tenor", "bass")
TICKS_PER_BEAT = 480  # MIDI ticks per quarter note
STEPS_PER_BEAT = 4  # a chord lasts a 16th note
CHURCH_ORGAN = 19  # General MIDI program (0-based)


def check_chords(chords, *, what: str = "chords"):
    """``chords`` as an int32 array ``(n, 4)`` of MIDI pitches (0 rest, else 36..81); a clear error otherwise."""
    import numpy as np

    from zoo.data.jsb_chorales import MAX_NOTE, MIN_NOTE

    try:
        array = np.asarray(chords)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{what} must be an array of shape (n, 4) of MIDI pitches, got {type(chords).__name__}.") from error
    if array.dtype == object or not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise TypeError(f"{what} must hold integer MIDI pitches, got dtype {array.dtype}.")
    if array.ndim != 2 or array.shape[1] != 4 or array.shape[0] < 1:
        raise ValueError(f"{what} must have shape (n >= 1, 4): one row per 16th note, one column per voice "
                         f"(soprano, alto, tenor, bass); got shape {array.shape}.")
    if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array) & (array == np.round(array))):
        raise ValueError(f"{what} must hold whole MIDI pitches.")
    array = array.astype(np.int64)
    bad = (array != 0) & ((array < MIN_NOTE) | (array > MAX_NOTE))
    if bad.any():
        row, voice = map(int, np.argwhere(bad)[0])
        raise ValueError(f"{what} must hold 0 (rest) or MIDI pitches {MIN_NOTE}..{MAX_NOTE}; got {int(array[row, voice])} "
                         f"at row {row}, voice {voice} ({VOICE_NAMES[voice]}).")
    return array.astype(np.int32)


def to_midi(chords, path, *, tempo: float = 80.0, velocity: int = 80, program: int = CHURCH_ORGAN) -> str:
    """Writes ``chords`` ``(n, 4)`` to ``path`` as a type-1 MIDI file of four tracks; returns the path.

    Args:
        chords: MIDI pitches (0 rest), one row per 16th note.
        path: the ``.mid`` file to write.
        tempo: quarter notes per minute.
        velocity: MIDI velocity of every note (1..127).
        program: the General MIDI instrument of every voice (0..127, 0-based; 19 is a church organ).

    Example:
        >>> to_midi([[74, 70, 65, 58]] * 8, "chord.mid", tempo=60)
    """
    import os

    import mido

    chords = check_chords(chords)
    if not isinstance(tempo, (int, float)) or isinstance(tempo, bool) or not 1 <= tempo <= 1000:
        raise ValueError(f"tempo must be a number of quarter notes per minute from 1 to 1000, got {tempo!r}.")
    for option, value, top in (("velocity", velocity, 127), ("program", program, 127)):
        if not isinstance(value, int) or isinstance(value, bool) or not (1 if option == "velocity" else 0) <= value <= top:
            raise ValueError(f"{option} must be an integer up to {top}, got {value!r}.")
    step = TICKS_PER_BEAT // STEPS_PER_BEAT
    song = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    for voice, name in enumerate(VOICE_NAMES):
        track = mido.MidiTrack()
        track.append(mido.MetaMessage("track_name", name=name, time=0))
        if voice == 0:
            track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo), time=0))
        track.append(mido.Message("program_change", channel=voice, program=program, time=0))
        wait = 0  # ticks since the last message of this track
        for pitch, length in _held_notes(chords[:, voice]):
            if pitch == 0:
                wait += length * step
                continue
            track.append(mido.Message("note_on", channel=voice, note=int(pitch), velocity=velocity, time=wait))
            track.append(mido.Message("note_off", channel=voice, note=int(pitch), velocity=0, time=length * step))
            wait = 0
        track.append(mido.MetaMessage("end_of_track", time=wait))
        song.tracks.append(track)
    song.save(os.fspath(path))
    return os.fspath(path)


def from_midi(path):
    """The chords of a MIDI file written by `to_midi` (or any four-track file on a 16th-note grid): int32 ``(n, 4)``.

    Tracks without notes (a conductor track) are skipped; a track's length, final rests included, is its last event.
    """
    import mido
    import numpy as np

    song = mido.MidiFile(path)
    step = song.ticks_per_beat // STEPS_PER_BEAT
    voices = [track for track in song.tracks if any(m.type == "note_on" for m in track)]
    notes, length = [], 0  # (voice, start step, end step, pitch); the longest track, in 16ths
    for voice, track in enumerate(voices):
        now, sounding = 0, {}
        for message in track:
            now += message.time
            if message.type == "note_on" and message.velocity > 0:
                sounding[message.note] = now
            elif message.type in ("note_off", "note_on") and message.note in sounding:
                notes.append((voice, sounding.pop(message.note) // step, now // step, message.note))
        length = max(length, now // step)  # end_of_track comes after any final rest
    chords = np.zeros((length, max(len(voices), 4)), np.int32)
    for voice, start, end, pitch in notes:
        chords[start:end, voice] = pitch
    return chords


def _held_notes(voice):
    """Runs of one pitch: ``[(pitch, 16ths), ...]``."""
    runs = []
    for pitch in voice.tolist():
        if runs and runs[-1][0] == pitch:
            runs[-1][1] += 1
        else:
            runs.append([pitch, 1])
    return [(pitch, length) for pitch, length in runs]


def plot(chords, path, *, title: str | None = None) -> str:
    """Draws ``chords`` ``(n, 4)`` as a piano roll (time in 16ths, MIDI pitch), one colour per voice; returns the path."""
    import os

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    chords = check_chords(chords)
    figure, axes = plt.subplots(figsize=(max(6.0, len(chords) / 12), 4))
    for voice, name in enumerate(VOICE_NAMES):
        start, label = 0, name  # the legend names each voice once
        for pitch, length in _held_notes(chords[:, voice]):
            if pitch:
                axes.broken_barh([(start, length)], (pitch - 0.4, 0.8), color=f"C{voice}", label=label)
                label = None
            start += length
    axes.set_xlabel("time (16th notes)")
    axes.set_ylabel("MIDI pitch")
    axes.set_xlim(0, len(chords))
    axes.legend(loc="upper right", fontsize="small")
    if title:
        axes.set_title(title)
    figure.tight_layout()
    figure.savefig(os.fspath(path), dpi=100)
    plt.close(figure)
    return os.fspath(path)

