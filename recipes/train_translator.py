"""
Title: Training GRU encoder-decoders (with and without Bahdanau attention) for Spanish to English
Models: spa-eng-gru, spa-eng-gru-attention
Structure: sequence to sequence (many-to-many, unaligned)

    python recipes/train_translator.py spa-eng-gru-attention --epochs 12   # the shipped checkpoints' commands
    python recipes/train_translator.py spa-eng-gru --epochs 12
    python recipes/train_translator.py spa-eng-gru --time-box 30   # start no epoch that would end after 30 min
    python recipes/train_translator.py spa-eng-gru --report-only --docs-dir docs/models   # redraw both reports
    zoo train spa-eng-gru-attention --epochs 12          # the same, through the CLI

An epoch (1,770 steps of 64 pairs) takes 3 to 4.5 minutes on 2 CPU cores; both models still improved
on validation at epoch 12, so more epochs would likely help.

Steps, top to bottom:
1. Load the zoo's fixed split of the Tatoeba pairs (by a hash of the Spanish sentence; see
   `zoo.data.spa_eng`). The test split is touched once, at the end.
2. Tokenize with the model's own graph tokenizer and keep the most frequent training words: Spanish
   lower-cased, English cased; everything else is [UNK].
3. Train with teacher forcing: the decoder reads `[START] w1 ... wn` and must predict `w1 ... wn [END]`;
   the cross-entropy is masked so padding never counts. Batches hold pairs of similar length. After
   every epoch, greedy BLEU on a fixed validation slice decides which weights to keep (and when to
   stop); an interrupted run resumes from its last finished epoch.
4. Score the best weights on the full test split with the same function as `zoo eval` (beam search),
   write `<out>/<name>.keras` with its card, and the BLEU-by-source-length table and plot beside them
   (`--docs-dir`, default `--out`: a run never writes into the repository unless asked; after shipping,
   `--report-only --docs-dir docs/models` redraws the README's copies and `make cards` the cards).
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from zoo import _training  # noqa: E402
from zoo.models import translator  # noqa: E402  (registers the translation models)

BATCH_SIZE = 64  # sentence pairs per step (per worker)
EPOCHS = 15  # upper bound; early stopping or --time-box usually ends sooner
PATIENCE = 3  # epochs without a better validation BLEU before stopping
LEARNING_RATE = 2e-3  # Adam; halved when the validation loss stops improving
BUCKETS = (4, 6, 8, 10, 12, 15, 20, 30)  # longest side of a pair (tokens), for batching
VAL_BLEU_PAIRS = 1000  # validation pairs translated (greedy) after every epoch to pick the best weights
TRANSLATORS = ("spa-eng-gru", "spa-eng-gru-attention")  # compared side by side in the BLEU-by-length report


def to_ids(source_tokens, target_tokens, source_index, target_index):
    """Token lists to id lists: source ids, decoder input ``[START] w1..wn`` and labels ``w1..wn [END]``."""
    sources, inputs, labels = [], [], []
    unk, start, end = translator.UNK_ID, translator.START_ID, translator.END_ID
    for source, target in zip(source_tokens, target_tokens):
        sources.append([source_index.get(t, unk) for t in source[: translator.MAX_SOURCE_TOKENS]])
        words = [target_index.get(t, unk) for t in target[: translator.MAX_TARGET_TOKENS - 1]]
        inputs.append([start, *words])
        labels.append([*words, end])
    return sources, inputs, labels


def main(argv=None):
    parser = _training.recipe_parser(__doc__, epochs=EPOCHS, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE,
                                     patience=PATIENCE, name_help="spa-eng-gru or spa-eng-gru-attention")
    parser.add_argument("--val-bleu-pairs", type=int, default=VAL_BLEU_PAIRS,
                        help=f"validation pairs translated (greedy) after each epoch (default {VAL_BLEU_PAIRS})")
    parser.add_argument("--beam-width", type=int, default=translator.DEFAULT_BEAM_WIDTH, help="beam width of the test score")
    parser.add_argument("--docs-dir", default=None, help="where the BLEU-by-length table and plot go (default: --out)")
    parser.add_argument("--report-only", action="store_true",
                        help="train nothing: rewrite both models' BLEU-by-length tables and plots from the cards in --out")
    args = parser.parse_args(argv)
    if args.report_only:
        for name in TRANSLATORS:
            write_length_report(name, args.out, args.docs_dir or args.out)
        return None
    run = _training.start_run("recipes/train_translator.py", args, argv)  # the strategy, before any TF op
    import keras
    import tensorflow as tf

    from zoo.data import spa_eng

    build_args = run.spec.builder_args

    # 1. Data.
    train, validation = spa_eng.load("train", limit=args.limit_train), spa_eng.load("validation", limit=args.limit_dev)
    bleu_pairs = validation.take(range(min(args.val_bleu_pairs, len(validation))))
    print(f"train {len(train):,} pairs · validation {len(validation):,} (BLEU on {len(bleu_pairs):,})", flush=True)

    # 2. Tokens and vocabularies, from the training pairs only.
    train_source, train_target = translator.tokenize_batch(train.source), translator.tokenize_batch(train.target, target=True)
    source_words = _training.count_vocabulary(train_source, size=build_args["source_vocab_size"] - translator.SOURCE_SPECIALS)
    target_words = _training.count_vocabulary(train_target, size=build_args["target_vocab_size"] - translator.TARGET_SPECIALS)
    print(f"vocabulary: {len(source_words):,} Spanish words, {len(target_words):,} English words", flush=True)

    # 3. The model, built under the distribution strategy: the nested `network` (ids in) is what gets fitted.
    with run.scope():
        model = run.build(source_vocabulary=source_words, target_vocabulary=target_words)
        network = model.get_layer("network")
        network.compile(
            optimizer=keras.optimizers.Adam(args.learning_rate, clipnorm=5.0),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),  # fused softmax + cross-entropy
            weighted_metrics=["accuracy"],
            jit_compile=False,  # batch shapes vary with the length buckets: XLA would recompile for each
        )

    # 4. Teacher-forcing batches of pairs of similar length; padding (id 0) gets weight 0.
    source_index = {w: i for i, w in enumerate(model.get_layer("source_vocab").get_vocabulary())}
    target_index = {w: i for i, w in enumerate(model.get_layer("target_vocab").get_vocabulary())}

    def batches(source_tokens, target_tokens, *, shuffle: bool):
        sources, inputs, labels = to_ids(source_tokens, target_tokens, source_index, target_index)
        return run.batches(
            [sources, inputs, labels], lengths=[max(len(s), len(t)) for s, t in zip(sources, inputs)],
            boundaries=BUCKETS, shuffle=shuffle,
            to_model=lambda s, t, y: ((s, t), y, tf.cast(tf.not_equal(y, 0), tf.float32)))

    def greedy_bleu(scoring_model):  # the headline metric on the validation slice, after each epoch
        hypotheses = translator.translate(scoring_model, bleu_pairs.source, beam_width=1, batch_size=128)
        print(f"e.g. {bleu_pairs.source[0]!r} -> {hypotheses[0]!r}", flush=True)
        return translator.bleu_scores(bleu_pairs.source, hypotheses, bleu_pairs.target)["bleu"]

    validation_tokens = translator.tokenize_batch(validation.source), translator.tokenize_batch(validation.target, target=True)
    if not run.fit(network, batches(train_source, train_target, shuffle=True), batches(*validation_tokens, shuffle=False),
                   whole=model, dev_score=greedy_bleu, callbacks=[
                       keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1, min_lr=1e-4, verbose=1)]):
        return None  # --stop-after-epochs: the same command resumes

    # 5. The test split, once, with beam search; then the checkpoint, its card and the BLEU-by-length report.
    card = run.finish(validation={"n": len(bleu_pairs), "decoding": "greedy"}, evaluate={"beam_width": args.beam_width},
                      training={"train_pairs": len(train), "source_vocabulary": len(source_words),
                                "target_vocabulary": len(target_words)})
    if card is not None:
        write_length_report(args.name, args.out, args.docs_dir or args.out)
    return card


def write_length_report(name: str, checkpoint_dir: str, docs_dir: str) -> None:
    """``<docs>/<name>-bleu-by-length.{md,png}``: this model beside the other translation models with a card."""
    from zoo._checkpoint import card_file

    results = {}
    for other in TRANSLATORS:
        path = card_file(checkpoint_dir, other)
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                metrics = json.load(f)["metrics"]
            if "bleu_by_length" in metrics:
                results[other] = metrics
    if name not in results:
        return
    os.makedirs(docs_dir, exist_ok=True)
    table = translator.bleu_by_length_table(results)
    with open(os.path.join(docs_dir, f"{name}-bleu-by-length.md"), "w", encoding="utf-8") as f:
        f.write(f"# {name}: BLEU by source length\n\nsacrebleu corpus BLEU on the test split, by number of Spanish "
                f"words (beam width {results[name].get('beam_width')}); `{results[name].get('signature')}`.\n\n"
                f"{table}\n\n![BLEU by source length]({name}-bleu-by-length.png)\n")
    translator.plot_bleu_by_length(results, os.path.join(docs_dir, f"{name}-bleu-by-length.png"))
    print(table, flush=True)


if __name__ == "__main__":
    main()
