"""The spoken-digit pipeline and batched prediction: audio in, the digit said out.

What the pipeline does before the model (and the scorer and the recipe do the same, through `prepare`):
read the audio (`zoo._audio.load_audio`: a WAV path or bytes, or an array with its sample rate; mixed
down to mono, resampled to the model's rate), cut leading and trailing silence (`zoo._audio.trim_silence`),
then crop or zero-pad to the model's ``max_samples`` (the model would do the same inside). Recordings of
the digits run 0.14-2.3 s in FSDD (99.3 % under 1 s), so speech longer than ``max_samples`` after
trimming is cut at its end.
"""

from __future__ import annotations

from zoo._pipeline import Pipeline

MIN_SECONDS = 0.1  # shorter audio is refused (the shortest FSDD recording is 0.14 s)


def prepare(samples, *, sample_rate: int, max_samples: int):
    """Mono float32 samples at the model's rate -> the model's input row: silence trimmed, cropped or
    zero-padded to ``max_samples`` (float32 ``(max_samples,)``)."""
    import numpy as np

    from zoo._audio import trim_silence

    trimmed = trim_silence(np.asarray(samples, np.float32), sample_rate)[:max_samples]
    row = np.zeros(max_samples, np.float32)
    row[: len(trimmed)] = trimmed
    return row


def front_end_settings(model) -> dict:
    """``{"sample_rate", "max_samples"}`` of a model's ``log_mel`` layer."""
    layer = model.get_layer("log_mel")
    return {"sample_rate": layer.sample_rate, "max_samples": layer.max_samples}


def predict_proba(model, waveforms, *, batch_size: int = 256, progress: bool | None = None, desc: str = "predict"):
    """Probabilities per class ``(n, classes)`` for mono waveforms already at the model's rate (FSDD's own
    recordings, or what `load_audio` gives); each goes through `prepare` first."""
    import numpy as np
    import tensorflow as tf

    from zoo._inference import compiled_forward
    from zoo._predict import predict_batched

    settings = front_end_settings(model)
    forward = compiled_forward(model)

    def run(batch):
        rows = np.stack([prepare(w, **settings) for w in batch])
        return list(np.asarray(forward(tf.constant(rows))))

    out = predict_batched(list(waveforms), run, batch_size=batch_size, progress=progress, desc=desc, unit="clip")
    return np.asarray(out, np.float32).reshape(len(waveforms), -1)


def _is_batch(audio) -> bool:
    """A list or tuple of recordings (not of samples): its items are paths, bytes or arrays."""
    import os

    import numpy as np

    if not isinstance(audio, (list, tuple)):
        return False
    return len(audio) == 0 or isinstance(audio[0], (str, os.PathLike, bytes, bytearray, np.ndarray, list, tuple))


class AudioClassificationPipeline(Pipeline):
    """Audio in (a WAV path, WAV bytes, or an array with ``sample_rate=``), its likeliest label out.

    Example:
        >>> digits = zoo.pipeline("fsdd-gru")
        >>> digits("seven.wav")
        {'label': '7', 'score': 0.99}
        >>> digits(samples, sample_rate=44100)                       # resampled to 8 kHz
        >>> digits(["a.wav", "b.wav"], top_k=2)                      # a batch: one list per recording
        [[{'label': '3', 'score': 0.97}, {'label': '2', 'score': 0.02}], ...]
    """

    def load(self, audio, *, sample_rate: int | None = None):
        """``(waveforms, single)``: each recording as mono float32 at the model's rate (not yet trimmed)."""
        from zoo._audio import load_audio

        rate = front_end_settings(self.model)["sample_rate"]
        if _is_batch(audio):
            if len(audio) == 0:
                raise ValueError("Expected at least one recording, got an empty batch.")
            return [load_audio(a, target_rate=rate, sample_rate=sample_rate, min_seconds=MIN_SECONDS,
                               where=f" at index {i}") for i, a in enumerate(audio)], False
        return [load_audio(audio, target_rate=rate, sample_rate=sample_rate, min_seconds=MIN_SECONDS)], True

    def predict_proba(self, audio, *, sample_rate: int | None = None):
        """Probabilities per label (in the order of ``self.labels``), ``(n, labels)``."""
        waveforms, _ = self.load(audio, sample_rate=sample_rate)
        return predict_proba(self.model, waveforms, batch_size=self.batch_size)

    def __call__(self, audio, *, sample_rate: int | None = None, top_k: int = 1):
        """One recording: ``{"label", "score"}`` (``top_k`` > 1: a list of them); a batch: a list per recording."""
        import numpy as np

        if not isinstance(top_k, int) or isinstance(top_k, bool) or not 1 <= top_k <= len(self.labels):
            raise ValueError(f"top_k must be an integer from 1 to {len(self.labels)}, got {top_k!r}.")
        waveforms, single = self.load(audio, sample_rate=sample_rate)
        results = []
        for row in predict_proba(self.model, waveforms, batch_size=self.batch_size):
            best = np.argsort(-row, kind="stable")[:top_k]
            ranked = [{"label": self.labels[i], "score": round(float(row[i]), 4)} for i in best]
            results.append(ranked[0] if top_k == 1 else ranked)
        return results[0] if single else results

    @staticmethod
    def format(audio, result) -> str:
        """One readable line for the command line."""
        ranked = result if isinstance(result, list) else [result]
        return f"{str(audio):<30} " + ", ".join(f"{r['label']} {r['score']:.4f}" for r in ranked)

    def model_input(self, audio, *, sample_rate: int | None = None):
        """The rows the model (and its SavedModel and TFLite exports) takes: float32 ``(n, max_samples)``,
        8 kHz mono, silence trimmed, cropped or zero-padded."""
        import numpy as np

        waveforms, _ = self.load(audio, sample_rate=sample_rate)
        settings = front_end_settings(self.model)
        return np.stack([prepare(w, **settings) for w in waveforms])

    def save_plot(self, audio, path: str, *, sample_rate: int | None = None) -> str:
        """A PNG of the recording's waveform and log-mel spectrogram (as the model sees them), titled with the
        predicted digit and its score. Needs matplotlib."""
        import os

        from zoo.models.audio_classifier.plots import save_waveform_and_spectrogram

        import numpy as np

        row = self.model_input(audio, sample_rate=sample_rate)[:1]
        probabilities = np.asarray(self.model(row, training=False))[0]
        best = int(np.argmax(probabilities))
        spectrogram = np.asarray(self.model.get_layer("log_mel")(row))[0]
        return save_waveform_and_spectrogram(
            path, row[0], spectrogram, {"label": self.labels[best], "score": round(float(probabilities[best]), 4)},
            sample_rate=front_end_settings(self.model)["sample_rate"],
            title=os.path.basename(os.fspath(audio)) if isinstance(audio, (str, os.PathLike)) else None)
