"""Audio in: paths, WAV bytes and arrays, read the same way for every model that takes sound.

WAV files (PCM 8/16/24/32-bit or float) are read with ``scipy.io.wavfile``; several channels are averaged
to mono; other sample rates are resampled with ``scipy.signal.resample_poly`` (a polyphase filter with a
Kaiser-windowed low-pass, so no aliasing when going down to 8 kHz). Leading and trailing silence is cut by
`trim_silence`. Too short, silent, empty or non-finite audio, and bytes that are not a WAV file, are
clear ``ValueError``s; anything that is not audio is a ``TypeError``.

Example:
    >>> from zoo._audio import load_audio
    >>> load_audio("seven.wav", target_rate=8000)                      # a path (or WAV bytes)
    >>> load_audio(samples, sample_rate=44100, target_rate=8000)      # an array with its rate
"""

from __future__ import annotations

import io
import math
import os

MAX_CHANNELS = 8  # a 2-D array with at most this many rows (and more columns) is read as (channels, samples)
SILENCE_PEAK = 1e-3  # audio whose peak is below this (about -60 dBFS, 33 steps of 16-bit) is "silent"
TRIM_DB = 40.0  # `trim_silence` keeps frames within this many dB of the loudest frame
TRIM_FRAME_SECONDS = 0.016  # the frames `trim_silence` measures (16 ms)


def load_audio(audio, *, target_rate: int, sample_rate: int | None = None, min_seconds: float = 0.0,
               where: str = ""):
    """One recording as float32 mono samples at ``target_rate``, in [-1, 1] for integer WAV data.

    Args:
        audio: a path (``str`` or ``os.PathLike``) or the bytes of a WAV file; or an array of samples
            ``(samples,)``, ``(samples, channels)`` or ``(channels, samples)`` (floats in [-1, 1], or
            integers of a PCM type) with ``sample_rate`` given.
        target_rate: the sample rate to return.
        sample_rate: the rate of an array (a file says its own; giving one for a file must agree).
        min_seconds: shorter audio (after resampling) is a ValueError.
        where: text added to error messages (`` at index 3``).

    Raises:
        FileNotFoundError: a path that does not exist.
        TypeError: anything that is not audio, or an array without ``sample_rate``.
        ValueError: bytes that are not a WAV file; empty, too short, silent or non-finite audio.
    """
    import numpy as np

    if audio is None:
        raise TypeError(f"Expected audio{where} (a WAV path, WAV bytes, or an array with sample_rate=...), got None.")
    if hasattr(audio, "numpy") and not isinstance(audio, np.ndarray):  # a tf.Tensor
        audio = audio.numpy()
    if isinstance(audio, (str, os.PathLike)):
        path = os.fspath(audio)
        if not os.path.exists(path):
            raise FileNotFoundError(f"No such audio file{where}: {path!r}.")
        if os.path.isdir(path):
            raise ValueError(f"{path!r}{where} is a folder, not an audio file.")
        with open(path, "rb") as f:
            rate, samples = _read_wav(f.read(), f"The file {path!r}")
    elif isinstance(audio, (bytes, bytearray, memoryview)):
        rate, samples = _read_wav(bytes(audio), f"The bytes{where}")
    elif isinstance(audio, (list, tuple, np.ndarray)):
        if sample_rate is None:
            raise TypeError(f"An array of samples{where} needs its sample rate: pass sample_rate=... (e.g. 8000).")
        rate, samples = sample_rate, _as_float(np.asarray(audio), where)
    else:
        raise TypeError(f"Expected audio{where} (a WAV path, WAV bytes, or an array with sample_rate=...), "
                        f"got {type(audio).__name__}.")
    if sample_rate is not None and int(sample_rate) != int(rate):
        raise ValueError(f"The audio{where} says its sample rate is {rate} Hz, but sample_rate={sample_rate} was given.")
    if not isinstance(rate, (int, np.integer)) or isinstance(rate, bool) or rate <= 0:
        raise ValueError(f"sample_rate{where} must be a positive integer (Hz), got {rate!r}.")
    samples = _mono(samples, where)
    if samples.size == 0:
        raise ValueError(f"The audio{where} is empty (no samples).")
    if not np.all(np.isfinite(samples)):
        raise ValueError(f"The audio{where} holds NaN or infinite samples.")
    samples = resample(samples, int(rate), target_rate)
    check_audible(samples, target_rate, min_seconds=min_seconds, where=where)
    return samples


def check_audible(samples, rate: int, *, min_seconds: float, where: str = "") -> None:
    """Raises a ValueError for audio shorter than ``min_seconds`` or whose peak is below `SILENCE_PEAK`."""
    import numpy as np

    seconds = len(samples) / rate
    if seconds < min_seconds:
        raise ValueError(f"The audio{where} is too short: {seconds:.3f} s, at least {min_seconds:g} s is needed.")
    peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
    if peak < SILENCE_PEAK:
        raise ValueError(f"The audio{where} is silent (peak amplitude {peak:.2g}, below {SILENCE_PEAK:g}).")


def resample(samples, rate: int, target_rate: int):
    """``samples`` at ``target_rate`` (float32), by ``scipy.signal.resample_poly``; unchanged when the rates agree."""
    import numpy as np

    if rate == target_rate:
        return samples.astype(np.float32, copy=False)
    from scipy.signal import resample_poly

    g = math.gcd(int(rate), int(target_rate))
    return resample_poly(samples.astype(np.float64), target_rate // g, rate // g).astype(np.float32)


def trim_silence(samples, rate: int, *, top_db: float = TRIM_DB):
    """Cuts leading and trailing frames (16 ms) quieter than ``top_db`` below the loudest frame (RMS).

    Example:
        >>> trim_silence(np.r_[np.zeros(8000), speech, np.zeros(8000)], 8000)   # ~ speech
    """
    import numpy as np

    frame = max(1, int(round(TRIM_FRAME_SECONDS * rate)))
    n = len(samples) // frame
    if n < 2:
        return samples
    rms = np.sqrt(np.mean(samples[: n * frame].reshape(n, frame).astype(np.float64) ** 2, axis=1))
    loud = np.flatnonzero(rms >= rms.max() * 10 ** (-top_db / 20))
    start, end = loud[0] * frame, (loud[-1] + 1) * frame if loud[-1] < n - 1 else len(samples)
    return samples[start:end]


def _read_wav(data: bytes, what: str):
    import numpy as np
    from scipy.io import wavfile

    if len(data) == 0:
        raise ValueError(f"{what} are empty." if what.startswith("The bytes") else f"{what} is empty.")
    if data[:4] not in (b"RIFF", b"RIFX") or data[8:12] != b"WAVE":
        raise ValueError(f"{what} {'are' if what.startswith('The bytes') else 'is'} not a WAV file (no RIFF/WAVE "
                         f"header; starts with {data[:12]!r}). Give a .wav file, or an array with sample_rate=...")
    try:
        rate, samples = wavfile.read(io.BytesIO(data))
    except Exception as error:  # noqa: BLE001  (scipy fails on malformed files with assorted exceptions)
        raise ValueError(f"{what} could not be read as a WAV file: {error}") from None
    return int(rate), _as_float(np.asarray(samples), "")


def _as_float(samples, where: str):
    """Integer PCM to float32 in [-1, 1] (unsigned 8-bit is centred on 128); floats as they are."""
    import numpy as np

    if samples.dtype == np.uint8:
        return (samples.astype(np.float32) - 128.0) / 128.0
    if np.issubdtype(samples.dtype, np.integer):
        return samples.astype(np.float32) / float(-np.iinfo(samples.dtype).min)
    if np.issubdtype(samples.dtype, np.floating):
        return samples.astype(np.float32)
    if samples.dtype == np.bool_ or samples.dtype == object or samples.dtype.kind in "USV":
        raise TypeError(f"Expected numeric audio samples{where}, got an array of {samples.dtype}.")
    raise TypeError(f"Expected numeric audio samples{where}, got an array of {samples.dtype}.")


def _mono(samples, where: str):
    """``(samples,)``, ``(samples, channels)`` or ``(channels, samples)`` -> mono, by averaging the channels."""
    if samples.ndim == 1:
        return samples
    if samples.ndim != 2:
        raise ValueError(f"Expected audio{where} of shape (samples,) or (samples, channels), got shape {samples.shape}.")
    rows, columns = samples.shape
    if rows <= MAX_CHANNELS < columns:
        return samples.mean(axis=0)
    if columns <= MAX_CHANNELS:
        return samples.mean(axis=1)
    raise ValueError(f"Expected audio{where} of shape (samples,) or (samples, channels) with at most {MAX_CHANNELS} "
                     f"channels, got shape {samples.shape}.")
