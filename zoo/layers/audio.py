"""Audio front end that travels inside a checkpoint, so a raw waveform goes in.

`LogMelSpectrogram` fits a waveform to a fixed length, normalises its peak and computes a log-mel
spectrogram with the most common operations only: frames are cut by reshapes and concatenation and the
short-time Fourier transform is a product with a constant (windowed) real-DFT matrix, so the TFLite file
holds matrix products (FULLY_CONNECTED), not the RFFT2D and COMPLEX_ABS ops ``tf.signal.stft`` converts to
(builtins too, with TensorFlow 2.21, but fewer runtimes and delegates implement them).
"""

from __future__ import annotations

import keras
import numpy as np


def hz_to_mel(hz):
    """HTK mel scale: ``2595 * log10(1 + hz / 700)``."""
    return 2595.0 * np.log10(1.0 + np.asarray(hz, np.float64) / 700.0)


def mel_to_hz(mel):
    return 700.0 * (10.0 ** (np.asarray(mel, np.float64) / 2595.0) - 1.0)


def mel_filterbank(*, num_mel_bins: int, fft_length: int, sample_rate: int, lower_hz: float, upper_hz: float):
    """Triangular filters on the HTK mel scale: float32 ``(fft_length // 2 + 1, num_mel_bins)``.

    Filter ``m`` rises from mel edge ``m`` to ``m + 1`` and falls to ``m + 2`` (edges evenly spaced in mel
    between ``lower_hz`` and ``upper_hz``), the shape ``tf.signal.linear_to_mel_weight_matrix`` uses.
    """
    if not 0 <= lower_hz < upper_hz <= sample_rate / 2:
        raise ValueError(f"Need 0 <= lower_hz < upper_hz <= sample_rate / 2, got {lower_hz}, {upper_hz}, {sample_rate}.")
    bins_hz = np.arange(fft_length // 2 + 1) * sample_rate / fft_length
    edges = mel_to_hz(np.linspace(hz_to_mel(lower_hz), hz_to_mel(upper_hz), num_mel_bins + 2))
    lower, center, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins_hz[None, :] - lower) / (center - lower)
    falling = (upper - bins_hz[None, :]) / (upper - center)
    return np.maximum(0.0, np.minimum(rising, falling)).T.astype(np.float32)


def dft_matrix(frame_length: int):
    """A periodic Hann window folded into the real DFT: float32 ``(frame_length, 2 * (frame_length // 2 + 1))``,
    the cosine (real part) columns, then the sine (imaginary part, sign dropped: only the power is used)."""
    n = np.arange(frame_length)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * n / frame_length)
    k = np.arange(frame_length // 2 + 1)
    angle = 2 * np.pi * np.outer(n, k) / frame_length
    return (window[:, None] * np.concatenate([np.cos(angle), np.sin(angle)], axis=1)).astype(np.float32)


@keras.saving.register_keras_serializable(package="zoo")
class LogMelSpectrogram(keras.layers.Layer):
    """Waveform ``(batch, samples)`` -> log-mel spectrogram ``(batch, frames, num_mel_bins)``.

    Steps: keep the first ``max_samples`` samples (pad the rest with zeros), divide by the peak absolute
    value (so the loudness of a recording does not matter; zero padding does not change it), cut frames
    of ``frame_length`` samples every ``frame_step``, take each frame's power spectrum through a
    Hann-windowed real DFT (a matrix product), sum it into mel bands and take ``log(mel + 1e-6)``.
    ``frames = (max_samples - frame_length) // frame_step + 1``.

    Example:
        >>> LogMelSpectrogram(max_samples=8192)(np.zeros((2, 5000), "float32")).shape
        TensorShape([2, 63, 40])
    """

    def __init__(self, *, sample_rate: int = 8000, max_samples: int = 8192, frame_length: int = 256,
                 frame_step: int = 128, num_mel_bins: int = 40, lower_hz: float = 20.0, upper_hz: float | None = None,
                 **kwargs):
        super().__init__(**kwargs)
        if frame_length % frame_step or max_samples % frame_step or max_samples < frame_length:
            raise ValueError("frame_length and max_samples must be multiples of frame_step, and max_samples >= "
                             f"frame_length; got {frame_length}, {max_samples}, {frame_step}.")
        self.sample_rate, self.max_samples = int(sample_rate), int(max_samples)
        self.frame_length, self.frame_step, self.num_mel_bins = int(frame_length), int(frame_step), int(num_mel_bins)
        self.lower_hz = float(lower_hz)
        self.upper_hz = float(upper_hz if upper_hz is not None else sample_rate / 2)
        self._dft = dft_matrix(self.frame_length)
        self._mel = mel_filterbank(num_mel_bins=self.num_mel_bins, fft_length=self.frame_length,
                                   sample_rate=self.sample_rate, lower_hz=self.lower_hz, upper_hz=self.upper_hz)

    @property
    def num_frames(self) -> int:
        return (self.max_samples - self.frame_length) // self.frame_step + 1

    def call(self, waveform):
        import tensorflow as tf

        x = tf.cast(waveform, tf.float32)[:, : self.max_samples]
        x = tf.pad(x, [[0, 0], [0, self.max_samples - tf.shape(x)[1]]])
        peak = tf.reduce_max(tf.abs(x), axis=1, keepdims=True)
        x = x / tf.maximum(peak, 1e-5)
        # Frames by reshape: chunks of frame_step samples; frame i is chunks i .. i + k - 1 side by side.
        k = self.frame_length // self.frame_step
        chunks = tf.reshape(x, [-1, self.max_samples // self.frame_step, self.frame_step])
        frames = tf.concat([chunks[:, i : i + self.num_frames] for i in range(k)], axis=-1)
        flat = tf.reshape(frames, [-1, self.frame_length])
        spectrum = tf.matmul(flat, tf.constant(self._dft))
        real, imaginary = tf.split(spectrum, 2, axis=-1)
        mel = tf.matmul(real * real + imaginary * imaginary, tf.constant(self._mel))
        return tf.reshape(tf.math.log(mel + 1e-6), [-1, self.num_frames, self.num_mel_bins])

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_frames, self.num_mel_bins)

    def get_config(self):
        return {**super().get_config(), "sample_rate": self.sample_rate, "max_samples": self.max_samples,
                "frame_length": self.frame_length, "frame_step": self.frame_step, "num_mel_bins": self.num_mel_bins,
                "lower_hz": self.lower_hz, "upper_hz": self.upper_hz}
