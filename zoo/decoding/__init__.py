"""Generation, shared by every generator of the zoo: a family writes one decoder step, the searches are here.

A family implements a `StepModel` once, from its model's layers (`LSTMStepModel` when it continues a prompt
with stacked LSTMs): ``start(inputs) -> (state, memory)``
and ``step(token_ids, state, memory) -> (log_probs, state, extras)``, plus its token conventions
(`SpecialTokens`, the ids never written, the minimum length, whether the last step forces ``end``).
Every search then works with it, batched and in the graph (``tf.while_loop``), so the same code runs
in Python, in a ``tf.function`` and in an exported SavedModel:

* `greedy`: the most likely token at every step;
* `beam_search`: the best of ``beam_width`` hypotheses per row, by GNMT-normalized log-probability
  (`length_normalization`); width 1 is exactly `greedy`;
* `sample`: temperature, top-k and nucleus (top-p) sampling with stateless, seeded random ops;
  `sample_stream` hands out the same tokens one by one, as each is drawn (a batch of one).

They return a `Decoded` (ids, lengths, scores, the step's extras such as attention weights, stacked).
CTC models (per-step probabilities with a blank) are decoded by `ctc_decode` (greedy or prefix beam
search, in the graph) and, after a TFLite model, by `ctc_collapse` (greedy, NumPy only).
`check_options` is the one validation of decoding options (beam width, length penalty, temperature,
top-k, top-p, maximum length, seed). The model of this package is keras-hub's ``samplers``: one
interface, a model writes a single step (keras-hub ``keras_hub/src/samplers/sampler.py``).

Importing this package imports no TensorFlow; the functions import it when they run.

Example:
    >>> import tensorflow as tf, zoo.decoding as decoding
    >>> out = tf.function(lambda x: decoding.beam_search(step_model, x, beam_width=5, max_length=30,
    ...                                                  length_penalty=0.6))(inputs)
    >>> out.ids, out.lengths, out.extras
"""

from __future__ import annotations

from zoo.decoding.ctc import CTCDecoded, ctc_collapse, ctc_decode
from zoo.decoding.options import MAX_BEAM_WIDTH, check_options
from zoo.decoding.sampling import sample, sample_stream
from zoo.decoding.search import allowed, beam_search, greedy, length_normalization
from zoo.decoding.step import Decoded, LSTMStepModel, StepModel
from zoo.decoding.tokens import SpecialTokens

__all__ = ["MAX_BEAM_WIDTH", "CTCDecoded", "Decoded", "LSTMStepModel", "SpecialTokens", "StepModel", "allowed", "beam_search", "check_options",
           "ctc_collapse", "ctc_decode", "greedy", "length_normalization", "sample", "sample_stream"]
