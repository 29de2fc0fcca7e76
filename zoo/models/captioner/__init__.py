"""One-to-many RNN image captioners: an image in, a sentence out (Flickr8k).

A frozen ImageNet MobileNetV2 (1.0, no top; the image is resized to 160x160 inside the model) turns
the image into a 5x5 grid of 1280-d features, and an LSTM writes the caption one word at a time:

- ``show_and_tell`` (Vinyals et al. 2015): the average-pooled feature, projected to the word
  embedding size, is the LSTM's first input; the words follow.
- ``attention``: the LSTM state starts from the mean of the projected grid; at every step the new
  hidden state attends over the 25 grid cells (additive attention, Bahdanau et al.) and the
  word is predicted from the state and the attended context: soft spatial attention as in Show,
  Attend and Tell (Xu et al. 2015), with the current state as the query (the "spatial attention"
  variant of Lu et al. 2017). The attention weights give one 5x5 map per word.

The checkpoint is one functional ``keras.Model`` of built-in layers only (so it loads in safe mode
with plain Keras): ``{"image": float32 (batch, H, W, 3) pixels in [0, 255], "tokens": string (batch, T)
words so far, starting with "<start>", padded with ""}`` -> next-word probabilities ``(batch, T, vocab)``
(teacher forcing). Its parts are named: ``encoder`` (pixels -> grid), ``words`` (the vocabulary: a
``StringLookup``; id 0 is padding, 1 unknown, 2 ``<start>``, 3 ``<end>``) and ``decoder`` (grid and
word ids -> probabilities). Captions are written by greedy or beam-search decoding, batched, with
the decoder's layers run one step at a time inside a ``tf.function`` (`generate_ids`).

Example:
    >>> cap = zoo.pipeline("image-caption-lstm")
    >>> cap("dog.jpg")
    'a black dog runs through the grass'
    >>> cap(["a.jpg", "b.png"], beam_width=3)
"""

from __future__ import annotations

from __future__ import annotations

from zoo._family import Family, part_lookup, register_family
from zoo._registry import ModelSpec, register

_HERE = __name__
__getattr__ = part_lookup(__name__, ("model", "decoding", "evaluation", "pipeline", "plots", "export", "examples", "zoo._images"))
FAMILY = register_family(Family(
    name="captioner",
    builder=f"{_HERE}.model:build_captioner",
    pipeline=f"{_HERE}.pipeline:ImageCaptioningPipeline",
    evaluator=f"{_HERE}.evaluation:evaluate",
    exporters={"saved_model": f"{_HERE}.export:export_saved_model", "tflite": f"{_HERE}.export:export_tflite"},
    examples=f"{_HERE}.examples:examples",
    inputs="file",
))

_FLICKR8K = dict(
    task="image captioning",
    structure="one-to-many",
    dataset="flickr8k",
    dataset_name="Flickr8k (Hodosh et al. 2013), images resized to 160x160",
    labels=(),
    metric="bleu_4",
    recipe="recipes/train_captioner.py",
    family=FAMILY.name,
    data_license="Flickr8k: research use only, cite Hodosh et al. 2013; the photos' copyright stays with their Flickr authors",
    weights_license="Apache-2.0 (the encoder is Google's MobileNetV2 ImageNet checkpoint, Apache-2.0); "
                    "the decoder was trained on Flickr8k (non-commercial research use)",
    example='"dog.jpg"',
    validation_split="the official dev split (1,000 images, 5 captions each)",
    unit="images",
)
# Words seen at least 10 times in the training captions: 1,663 words + 4 special ids. The vocabulary
# and the decoder are small because the checkpoint (MobileNetV2 included, 9.6 MB) must stay under 12 MiB.
_VOCAB_SIZE = 1667

MODELS = (
    register(ModelSpec(
        name="image-caption-lstm",
        builder_args=dict(decoder="show_and_tell", vocab_size=_VOCAB_SIZE, embedding_dim=96, units=192, dropout=0.3,
                          image_size=160, encoder_weights="imagenet"),
        description=(
            "An English sentence describing a photo (Show and Tell). A frozen ImageNet MobileNetV2 (1.0) reads the "
            "image resized to 160x160; its average-pooled 1280-d feature, projected to 96-d, is the first input of "
            "an LSTM (192 units) that then reads the caption so far (96-d word embeddings, 1,663 words) and predicts "
            "the next word. Captions are written by beam search (width 3)."
        ),
        **_FLICKR8K,
    )),
    register(ModelSpec(
        name="image-caption-lstm-attention",
        builder_args=dict(decoder="attention", vocab_size=_VOCAB_SIZE, embedding_dim=96, units=160, feature_dim=96,
                          attention_dim=96, dropout=0.3, image_size=160, encoder_weights="imagenet"),
        description=(
            "An English sentence describing a photo, with soft attention (Show, Attend and Tell). A frozen ImageNet "
            "MobileNetV2 (1.0) turns the image, resized to 160x160, into a 5x5 grid of features projected to 96-d; "
            "the LSTM (160 units) starts from their mean, and at every word its state attends over the 25 cells "
            "(additive attention); the word is predicted from the state and the attended context. Beam search "
            "(width 3); one attention map per word."
        ),
        **_FLICKR8K,
    )),
)
