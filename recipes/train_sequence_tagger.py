"""
Title: Training BiLSTM taggers: POS tags on UD English EWT, named entities (softmax or CRF) on CoNLL-2003
Models: udpos-bilstm, udpos-bilstm-v2, conll03-bilstm, conll03-bilstm-crf
Structure: many-to-many, aligned (one tag for every token)

    python recipes/train_sequence_tagger.py udpos-bilstm
    python recipes/train_sequence_tagger.py udpos-bilstm-v2 --map-unseen-words
    python recipes/train_sequence_tagger.py conll03-bilstm-crf
    zoo train conll03-bilstm --epochs 10          # the same, through the CLI

Steps, top to bottom:
1. Load the official train and dev splits (gold tokenization; for UD, multiword-token ranges and
   empty nodes are skipped by the loader; CoNLL-2003 tags are converted to IOB2). The test split is
   touched once, at the end.
2. The character vocabulary comes from the training sentences. The word vocabulary (lower-cased,
   digits mapped to 0 by the model's own `NormalizeTokens` layer) and its word2vec initial vectors
   come from the 75,000 train + unlabelled IMDB reviews, tokenized the same way (cached under the
   run folder; ``--limit-train N`` also limits these reviews to N of each). For CoNLL-2003 the words
   are IMDB's alone (``--words imdb``): its Reuters text may not be republished. For UD EWT
   (``--words imdb+train``) the words seen at least twice in the training sentences come first and
   IMDB's most frequent words fill the rest, and word2vec also reads the training sentences, so the
   tagger knows far more English than EWT's 12,500 sentences hold. ``--words train``: the training
   sentences alone (the first udpos-bilstm).
   With the architecture's ``rare_word_dropout`` (udpos-bilstm-v2), each word's dropout rate comes from
   its count in the training sentences (`RARE_WORD_ALPHA`).
3. Train on batches of sentences of similar length: a softmax tagger with padding weighted out of
   the loss, a CRF tagger on the sequence negative log-likelihood. The best epoch by dev accuracy
   (POS) or dev entity F1 (NER) is kept, and training stops when it no longer improves; an
   interrupted run resumes.
4. With ``--map-unseen-words``, the vectors of vocabulary words that no training sentence holds are
   mapped into the trained space first (`map_unseen_words`). Score the best weights on the full test
   split with the same function as `zoo eval`, and write
   `<out>/<name>.keras` with its card (`--out`, default `checkpoints/`). With ``--score-previous`` the
   shipped checkpoint of the same name is scored by the same function first, and the card records its
   figures as ``previous``: what the new checkpoint replaces.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from zoo import _training  # noqa: E402

BATCH_SIZE = 32  # sentences per step (per worker)
EPOCHS = 12  # upper bound; early stopping usually ends sooner
PATIENCE = 2  # epochs without a better dev score before stopping
LEARNING_RATE = 2e-3  # Adam
BUCKETS = (8, 12, 16, 20, 25, 30, 40, 60)  # sentence-length boundaries for batching
WORD2VEC_EPOCHS = 5
WORD_SOURCE = {"conll2003": "imdb", "ud_ewt": "imdb+train"}  # where each dataset's words come from (default: train)
# With the architecture's rare_word_dropout, a word seen n times in training is hidden with probability
# max(word_dropout, alpha / (alpha + n)): 2/3 for a word seen once, a half for twice, word_dropout from 6 on.
RARE_WORD_ALPHA = 2.0
TRAIN_WORD_MIN_COUNT = 2  # "imdb+train": training words seen this often are always in the vocabulary
# Dev entity F1 is noisy from epoch to epoch: NER halves the learning rate after an epoch without gain
# and waits longer before stopping.
LR_PATIENCE = {"conll2003": 1}
STOP_PATIENCE = {"conll2003": 3}


def imdb_words(run, normalize, *, size: int, dim: int, limit: int | None, train_tokens=None):
    """``size - 2`` words and their word2vec rows ``[padding, OOV, *words]``, from IMDB reviews.

    The train + unlabelled reviews (``limit`` of each, when given) are tokenized by the zoo's tagger
    tokenizer and normalized by the model's own layer, so the vectors fit the model's tokens. Without
    ``train_tokens`` the words are IMDB's most frequent; with them (normalized training sentences), the
    training words seen at least `TRAIN_WORD_MIN_COUNT` times come first, IMDB's most frequent other
    words fill the rest, and word2vec reads the training sentences too.
    """
    from zoo.data import imdb
    from zoo.layers.tagging import tokenize

    texts = imdb.load("train_full", limit=limit).texts + imdb.load("unsup", limit=limit).texts
    tokens = [[token for token, _, _ in tokenize(text.replace("<br />", " "))] for text in texts]
    corpus = _training.transform_tokens(normalize, tokens)
    words = _training.count_vocabulary(train_tokens or [], min_count=TRAIN_WORD_MIN_COUNT)[: size - 2]
    known = set(words)
    words += [w for w in _training.count_vocabulary(corpus, size=size - 2) if w not in known][: size - 2 - len(words)]
    corpus += train_tokens or []
    source = "tagger-imdb" + ("+train" if train_tokens else "")
    key = hashlib.sha256((source + "\n" + "\n".join(words)).encode()).hexdigest()[:12]
    return words, _training.word2vec_matrix(corpus, words, rows=len(words) + 2, dim=dim, epochs=WORD2VEC_EPOCHS,
                                            cache=run.cache_path("tagger-word2vec", key))


def set_rare_word_rates(model, train_words) -> None:
    """Gives each word of the model's vocabulary its dropout rate from its count in the training sentences."""
    import collections

    from zoo.models.sequence_tagger import emission_part

    counts = collections.Counter(word for sentence in train_words for word in sentence)
    vocabulary = emission_part(model).get_layer("words").get_vocabulary()
    layer = emission_part(model).get_layer("network").get_layer("word_dropout")
    layer.set_word_counts([counts.get(word, 0) for word in vocabulary], alpha=RARE_WORD_ALPHA)


def map_unseen_words(model, initial, train_words, *, strengths=(0.1, 1.0, 10.0, 100.0)) -> dict:
    """Moves the word vectors that training never touched into the space training moved the others to.

    Vocabulary words that no training sentence holds (most of IMDB's) keep their word2vec rows while the
    rows of the training words drift, so at test time they sit where the tagger never learnt to read. A
    ridge map from initial to trained rows, fitted on the training words, is applied to the rest (Madhyastha
    et al. 2016, "Mapping unseen words to task-trained embedding spaces"). The ridge strength is the one that
    predicts held-out training words best. Returns what the card records.
    """
    import numpy as np

    from zoo.models.sequence_tagger import emission_part

    seen = {word for sentence in train_words for word in sentence}
    vocabulary = emission_part(model).get_layer("words").get_vocabulary()
    moved = np.array([i for i, word in enumerate(vocabulary) if i > 1 and word in seen])
    unseen = np.array([i for i, word in enumerate(vocabulary) if i > 1 and word not in seen])
    layer = emission_part(model).get_layer("network").get_layer("word_embedding")
    trained = layer.get_weights()[0]
    if len(unseen) == 0 or len(moved) < 10 * initial.shape[1]:
        return {"unseen_words_mapped": 0}

    def ridge(rows, strength):
        x = np.hstack([initial[rows], np.ones((len(rows), 1))]).astype("float64")
        weights = np.linalg.solve(x.T @ x + strength * np.eye(x.shape[1]), x.T @ trained[rows])
        return lambda others: np.hstack([initial[others], np.ones((len(others), 1))]) @ weights

    order = np.random.default_rng(0).permutation(moved)
    held, fit = order[: len(order) // 10], order[len(order) // 10 :]
    spread = ((trained[held] - trained[held].mean(axis=0)) ** 2).sum()
    r2 = {strength: 1 - ((trained[held] - ridge(fit, strength)(held)) ** 2).sum() / spread for strength in strengths}
    strength = max(r2, key=r2.get)
    trained[unseen] = ridge(moved, strength)(unseen)
    layer.set_weights([trained])
    print(f"mapped {len(unseen):,} unseen words' vectors (ridge {strength:g}, held-out R2 {r2[strength]:.3f})", flush=True)
    return {"unseen_words_mapped": len(unseen), "map_ridge": strength, "map_r2": round(float(r2[strength]), 4)}


def score_previous(spec, *, limit: int | None) -> dict:
    """The shipped checkpoint of ``spec.name`` scored on the test split by the family's evaluator, with its
    sha256 and training date: the card of a checkpoint that replaces it records these as ``previous``."""
    import zoo

    card = spec.card()
    metrics = spec.evaluator_fn()(zoo.load(spec.name, progress=False), split="test", limit=limit, progress=False)
    print(f"previous checkpoint: {json.dumps(metrics)}", flush=True)
    flat = {key: value for key, value in metrics.items() if not isinstance(value, dict)}
    for name, scores in (metrics.get("out_of_domain") or {}).items():  # one line on the card
        flat.update({f"{name}_{key}": value for key, value in scores.items()})
    return {"sha256": card["sha256"][:16], "trained_on": card["trained_on"], **flat}


def main(argv=None):
    parser = _training.recipe_parser(__doc__, epochs=EPOCHS, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE,
                                     patience=None, name_help="registered model name, e.g. udpos-bilstm")
    parser.add_argument("--lr-patience", type=int, default=None,
                        help="epochs without dev gain before halving the learning rate (default: never; 1 for CoNLL-2003)")
    parser.add_argument("--words", choices=("train", "imdb", "imdb+train"), default=None,
                        help="word vocabulary from the training sentences, from IMDB reviews with word2vec vectors, or "
                             "both (default: imdb for CoNLL-2003, imdb+train for UD EWT)")
    parser.add_argument("--map-unseen-words", action="store_true",
                        help="before scoring and writing, map the word vectors of vocabulary words no training sentence "
                             "holds into the trained space (a ridge map fitted on the words training moved)")
    parser.add_argument("--score-previous", action="store_true",
                        help="score the shipped checkpoint of the same name too and record it on the card as previous")
    args = parser.parse_args(argv)
    run = _training.start_run("recipes/train_sequence_tagger.py", args, argv)  # the strategy, before any TF op
    import keras
    import tensorflow as tf

    from zoo.layers.tagging import NormalizeTokens

    spec, build_args = run.spec, run.spec.builder_args
    args.patience = args.patience or STOP_PATIENCE.get(spec.dataset, PATIENCE)
    lr_patience = args.lr_patience or LR_PATIENCE.get(spec.dataset)

    # 1. Data.
    dataset = importlib.import_module(f"zoo.data.{spec.dataset}")
    train, dev = dataset.load("train", limit=args.limit_train), dataset.load("validation", limit=args.limit_dev)
    print(f"train {len(train):,} sentences · dev {len(dev):,}", flush=True)

    # 2. Vocabularies: characters from the training sentences; words from them or from IMDB reviews,
    # normalized by the model's own layer (the same graph code as at inference).
    normalize, word_source, vectors = NormalizeTokens(), args.words or WORD_SOURCE.get(spec.dataset, "train"), None
    if args.map_unseen_words and not word_source.startswith("imdb"):
        parser.error("--map-unseen-words needs word2vec vectors: --words imdb or imdb+train")
    train_words = _training.transform_tokens(normalize, train.tokens)
    if word_source.startswith("imdb"):
        words, vectors = imdb_words(run, normalize, size=build_args["word_vocab_size"], dim=build_args["word_dim"],
                                    limit=args.limit_train, train_tokens=train_words if word_source == "imdb+train" else None)
    else:
        words = _training.count_vocabulary(train_words, size=build_args["word_vocab_size"] - 2)
    chars = _training.count_vocabulary((token[: build_args["max_chars"]] for sentence in train.tokens for token in sentence),
                                       size=build_args["char_vocab_size"] - 2)
    print(f"vocabulary: {len(words):,} words ({word_source}), {len(chars):,} characters", flush=True)

    # 3. The model, built under the distribution strategy.
    crf = bool(build_args.get("crf"))
    with run.scope():
        model = run.build(word_vocabulary=words, char_vocabulary=chars)
        if vectors is not None:
            from zoo.models.sequence_tagger import emission_part

            emission_part(model).get_layer("network").get_layer("word_embedding").set_weights([vectors])
        if build_args.get("rare_word_dropout"):
            set_rare_word_rates(model, train_words)
        optimizer = keras.optimizers.Adam(args.learning_rate, clipnorm=5.0)
        if crf:
            model.compile(optimizer=optimizer)  # the CRF log-likelihood is the loss
        else:
            model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", weighted_metrics=["accuracy"])

    # 4. Batches of sentences of similar length; padding gets weight 0 (a CRF masks it itself).
    def batches(data, *, shuffle: bool):
        index = {tag: i for i, tag in enumerate(build_args["tags"])}
        with_weights = lambda x, y: (x, y, tf.cast(tf.not_equal(x, ""), tf.float32))  # noqa: E731
        return run.batches(
            [data.tokens, [[index[t] for t in tags] for tags in data.tags]], lengths=[len(s) for s in data.tokens],
            boundaries=BUCKETS, shuffle=shuffle, to_model=None if crf else with_weights)

    dev_f1 = None
    if spec.metric == "f1":  # entity F1 (seqeval) is not a Keras metric: score the dev split after each epoch
        dev_f1 = lambda m: spec.evaluator_fn()(m, split="validation", limit=args.limit_dev, progress=False)["f1"]  # noqa: E731
    callbacks = [keras.callbacks.ReduceLROnPlateau(monitor=run.monitor, mode=run.metric.mode, factor=0.5,
                                                   patience=lr_patience)] if lr_patience else []
    if not run.fit(model, batches(train, shuffle=True), batches(dev, shuffle=False), dev_score=dev_f1, callbacks=callbacks):
        return None  # --stop-after-epochs: the same command resumes

    # 5. The test split, once; then the checkpoint and its card.
    previous = score_previous(spec, limit=args.eval_limit) if args.score_previous and run.is_chief else None
    unit = sum(t.startswith("B-") for s in dev.tags for t in s) if spec.metric == "f1" else dev.num_tokens

    def map_and_rescore(shipped):  # --map-unseen-words; the dev split scored by zoo eval's function before and after
        def score():
            return spec.evaluator_fn()(shipped, split="validation", limit=args.limit_dev, progress=False)[spec.metric]

        before = score()
        return {**map_unseen_words(shipped, vectors, train_words), f"{spec.metric}_before_mapping": before,
                f"{spec.metric}_after_mapping": score()}

    card = run.finish(
        validation={"n": unit}, prepare=map_and_rescore if args.map_unseen_words else None,
        training={"train_sentences": len(train), "words": word_source, "patience": args.patience, "lr_patience": lr_patience})
    if card and previous:
        from zoo._checkpoint import card_file

        card["metrics"]["previous"] = previous
        with open(card_file(args.out, spec.name), "w", encoding="utf-8") as f:
            json.dump(card, f, indent=2)
            f.write("\n")
    return card


if __name__ == "__main__":
    main()
