"""zoo.decoding: greedy, beam search and sampling over a toy step model whose best outputs are known."""

import itertools
import math
import subprocess
import sys

import numpy as np
import pytest

from zoo.decoding import (
    MAX_BEAM_WIDTH, SpecialTokens, StepModel, beam_search, check_options, greedy, length_normalization, sample,
)

PAD, UNK, START, END, A, B = range(6)  # the toy vocabulary: four special tokens and two words
VOCAB = 6


class Table(StepModel):
    """Next-token log-probabilities from a fixed table per row: ``table[row, previous token]``.

    The inputs are row ids (the memory, so beam search must repeat it per hypothesis); the state counts
    the steps (so beam search must reorder it); the one extra is the one-hot token the step was fed, so
    the extras must line up with the ids written (``extras[t]`` is ``ids[t - 1]``).
    """

    never_write = (PAD, UNK, START)

    def __init__(self, probabilities, *, min_length=0, force_end=False):
        import tensorflow as tf

        self.table = tf.constant(np.log(np.maximum(probabilities, 1e-30)), tf.float32)
        self.min_length, self.force_end = min_length, force_end

    def start(self, rows):
        import tensorflow as tf

        rows = tf.cast(rows, tf.int32)
        return (tf.zeros_like(rows, tf.float32),), (rows,)

    def step(self, token_ids, state, memory):
        import tensorflow as tf

        log_probs = tf.gather_nd(self.table, tf.stack([memory[0], token_ids], axis=-1))
        return log_probs, (state[0] + 1.0,), (tf.one_hot(token_ids, VOCAB),)


def trap():
    """A greedy trap: A is the likeliest first word, but "B [END]" (0.4 x 0.9) is the likeliest output."""
    p = np.zeros((1, VOCAB, VOCAB))
    p[0, START] = [0, 0, 0, 0.0, 0.6, 0.4]
    p[0, A] = [0, 0, 0, 0.32, 0.35, 0.33]
    p[0, B] = [0, 0, 0, 0.9, 0.05, 0.05]
    p[0, END] = p[0, PAD] = [1, 0, 0, 0, 0, 0]
    return p


def random_tables(rows, seed=0):
    """Random next-token distributions over [END], A and B (and mass on the never-written ids, which are removed)."""
    p = np.random.default_rng(seed).dirichlet(np.ones(VOCAB), size=(rows, VOCAB))
    return p


def numpy(decoded):
    return {"ids": np.asarray(decoded.ids), "lengths": np.asarray(decoded.lengths),
            "scores": np.asarray(decoded.scores), "extras": np.asarray(decoded.extras[0])}


def best_by_enumeration(log_p, max_length, alpha, *, min_length=0, force_end=False):
    """Every output a row can write, scored by brute force: the best by GNMT-normalized log-probability."""
    best = None
    for length in range(1, max_length + 1):
        for words in itertools.product((A, B), repeat=length - 1):
            endings = [(*words, END)]
            if length == max_length and not force_end:
                endings += [(*words, A), (*words, B)]
            for seq in endings:
                if seq[-1] == END and len(seq) - 1 < min_length:
                    continue
                previous = (START, *seq[:-1])
                score = sum(log_p[p, t] for p, t in zip(previous, seq))
                normalized = score / ((5 + len(seq)) / 6) ** alpha
                if best is None or normalized > best[0]:
                    best = (normalized, seq, score)
    return best


# === Greedy and beam search ===


def test_greedy_takes_the_locally_best_word_and_beam_search_the_best_output():
    model = Table(trap())
    rows = np.zeros(2, np.int32)
    g = numpy(greedy(model, rows, max_length=5))
    assert g["ids"].tolist() == [[A] * 5] * 2 and g["lengths"].tolist() == [5, 5]  # stopped by the bound, no [END]
    b = numpy(beam_search(model, rows, beam_width=2, max_length=5))
    assert b["ids"][:, :2].tolist() == [[B, END]] * 2 and not b["ids"][:, 2:].any()
    assert b["lengths"].tolist() == [2, 2]
    np.testing.assert_allclose(b["scores"], math.log(0.4) + math.log(0.9), rtol=1e-6)


@pytest.mark.parametrize("force_end, min_length", [(False, 0), (True, 0), (False, 1), (True, 2)])
def test_beam_width_1_equals_greedy_exactly(force_end, min_length):
    model = Table(random_tables(5, seed=1), force_end=force_end, min_length=min_length)
    rows = np.arange(5, dtype=np.int32)
    bounds = np.array([1, 3, 4, 6, 8], np.int32)
    g = numpy(greedy(model, rows, max_length=bounds))
    b = numpy(beam_search(model, rows, beam_width=1, max_length=bounds, length_penalty=0.6))
    for key in g:
        np.testing.assert_array_equal(b[key], g[key], err_msg=key)


@pytest.mark.parametrize("alpha", [0.0, 0.6, 2.0])
@pytest.mark.parametrize("force_end, min_length", [(False, 0), (True, 1)])
def test_an_exhaustive_beam_finds_the_best_gnmt_normalized_output(alpha, force_end, min_length):
    """Width 64 keeps every hypothesis of 2 words up to 5 tokens: beam search must return the brute-force best."""
    p = random_tables(4, seed=2)
    model = Table(p, force_end=force_end, min_length=min_length)
    out = numpy(beam_search(model, np.arange(4), beam_width=64, max_length=5, length_penalty=alpha))
    for row in range(4):
        normalized, seq, score = best_by_enumeration(np.log(p[row]), 5, alpha, min_length=min_length,
                                                     force_end=force_end)
        n = out["lengths"][row]
        assert tuple(out["ids"][row, :n]) == seq and not out["ids"][row, n:].any()
        assert out["scores"][row] == pytest.approx(score, rel=1e-5)


def test_length_normalization_is_gnmt():
    lengths = np.array([1, 2, 7, 30])
    for alpha in (0.0, 0.6, 1.0):
        np.testing.assert_allclose(np.asarray(length_normalization(lengths, alpha)), ((5 + lengths) / 6) ** alpha)
    # The penalty decides between "[END]" alone (0.5, 1 token) and "A [END]" (0.5 x 0.9, 2 tokens).
    p = np.zeros((1, VOCAB, VOCAB))
    p[0, START] = [0, 0, 0, 0.5, 0.5, 0]
    p[0, A] = [0, 0, 0, 0.9, 0.1, 0]
    p[0, END] = p[0, PAD] = [1, 0, 0, 0, 0, 0]
    assert math.log(0.5) > math.log(0.45) and math.log(0.5) < math.log(0.45) / (7 / 6) ** 3
    plain = numpy(beam_search(Table(p), [0], beam_width=3, max_length=4, length_penalty=0.0))
    assert plain["ids"][0, 0] == END and not plain["ids"][0, 1:].any() and plain["lengths"].tolist() == [1]
    longer = numpy(beam_search(Table(p), [0], beam_width=3, max_length=4, length_penalty=3.0))
    assert longer["ids"][0, :2].tolist() == [A, END] and longer["lengths"].tolist() == [2]
    assert longer["scores"][0] == pytest.approx(math.log(0.45)), "the score returned is not normalized"


def test_forced_end_and_per_row_bounds_and_padding_after_the_end():
    p = np.zeros((1, VOCAB, VOCAB))
    p[0, :, A] = 1.0  # the model never wants to stop
    bounds = np.array([1, 3, 6], np.int32)
    for search in (lambda m: greedy(m, np.zeros(3), max_length=bounds),
                   lambda m: beam_search(m, np.zeros(3), beam_width=3, max_length=bounds)):
        forced = numpy(search(Table(p, force_end=True)))
        assert forced["lengths"].tolist() == bounds.tolist()
        assert forced["ids"].tolist() == [[END, 0, 0, 0, 0, 0], [A, A, END, 0, 0, 0], [A, A, A, A, A, END]]
        cut = numpy(search(Table(p, force_end=False)))
        assert cut["ids"].tolist() == [[A, 0, 0, 0, 0, 0], [A, A, A, 0, 0, 0], [A] * 6]
        extras = cut["extras"]  # the token each step was fed, zeros after the row's end
        assert extras[1].argmax(-1)[:3].tolist() == [START, A, A] and not extras[1, 3:].any()
        assert not extras[0, 1:].any()


def test_min_length_rules_out_an_empty_output():
    p = np.zeros((1, VOCAB, VOCAB))
    p[0, :, END], p[0, :, B] = 0.9, 0.1
    assert numpy(greedy(Table(p), [0], max_length=4))["ids"].tolist() == [[END]]
    assert numpy(greedy(Table(p, min_length=1), [0], max_length=4))["ids"].tolist() == [[B, END]]
    assert numpy(beam_search(Table(p, min_length=2), [0], beam_width=2, max_length=4))["ids"][0, :3].tolist() == [B, B, END]


def test_beam_search_is_batched_the_memory_repeated_and_the_extras_follow_the_hypotheses():
    p = random_tables(6, seed=3)
    model = Table(p)
    bounds = np.array([2, 7, 5, 7, 3, 6], np.int32)
    together = numpy(beam_search(model, np.arange(6), beam_width=4, max_length=bounds, length_penalty=0.6))
    for row in range(6):
        alone = numpy(beam_search(model, [row], beam_width=4, max_length=bounds[row:row + 1], length_penalty=0.6))
        n = alone["lengths"][0]
        assert together["lengths"][row] == n
        np.testing.assert_array_equal(together["ids"][row, :n], alone["ids"][0, :n])
        assert not together["ids"][row, n:].any()
        fed = together["extras"][row].argmax(-1)
        assert fed[0] == START and fed[1:n].tolist() == together["ids"][row, : n - 1].tolist()
        assert not together["extras"][row, n:].any()
        assert together["scores"][row] == pytest.approx(alone["scores"][0])


def test_the_searches_run_in_a_tf_function_with_any_batch_size():
    import tensorflow as tf

    model = Table(random_tables(3, seed=4), force_end=True)
    signature = [tf.TensorSpec([None], tf.int32), tf.TensorSpec([None], tf.int32)]
    graph_greedy = tf.function(lambda rows, bound: greedy(model, rows, max_length=bound), input_signature=signature)
    graph_beam = tf.function(lambda rows, bound: beam_search(model, rows, beam_width=3, max_length=bound,
                                                              length_penalty=0.6), input_signature=signature)
    for rows, bound in (([0, 1, 2], [4, 2, 6]), ([2], [5])):
        rows, bound = np.array(rows, np.int32), np.array(bound, np.int32)
        for graph, eager in ((graph_greedy, greedy(model, rows, max_length=bound)),
                             (graph_beam, beam_search(model, rows, beam_width=3, max_length=bound, length_penalty=0.6))):
            for key, value in numpy(graph(rows, bound)).items():
                np.testing.assert_array_equal(value, numpy(eager)[key], err_msg=key)


# === Sampling ===


def first_token_frequencies(model, n, **options):
    ids = np.asarray(sample(model, np.zeros(n, np.int32), max_length=1, **options).ids)[:, 0]
    return np.bincount(ids, minlength=VOCAB) / n


def one_step_table(probabilities):
    p = np.zeros((1, VOCAB, VOCAB))
    p[0, START] = probabilities
    return Table(p)


def test_sampling_is_reproducible_from_its_seed():
    p = np.zeros((1, VOCAB, VOCAB))
    p[0, :] = [0, 0, 0, 0.2, 0.4, 0.4]
    model = Table(p)
    rows = np.zeros(64, np.int32)
    first = np.asarray(sample(model, rows, max_length=8, seed=7).ids)
    np.testing.assert_array_equal(np.asarray(sample(model, rows, max_length=8, seed=7).ids), first)
    assert not np.array_equal(np.asarray(sample(model, rows, max_length=8, seed=8).ids), first)
    assert len({tuple(r) for r in first}) > 10, "rows draw independently"


def test_top_k_1_and_a_tiny_top_p_are_greedy():
    model = Table(random_tables(4, seed=6), force_end=True)
    rows, bounds = np.arange(4), np.array([3, 8, 8, 5], np.int32)
    expected = numpy(greedy(model, rows, max_length=bounds))
    for options in ({"top_k": 1}, {"top_p": 1e-6}, {"top_k": 1, "temperature": 5.0}):
        got = numpy(sample(model, rows, max_length=bounds, seed=3, **options))
        for key in expected:
            np.testing.assert_array_equal(got[key], expected[key], err_msg=f"{options} {key}")


@pytest.mark.parametrize("temperature, top_k, top_p, expected", [
    (1.0, None, None, [0, 0, 0, 0.1, 0.2, 0.7]),
    (2.0, None, None, np.r_[0, 0, 0, np.sqrt([0.1, 0.2, 0.7]) / np.sqrt([0.1, 0.2, 0.7]).sum()]),
    (0.5, None, None, np.r_[0, 0, 0, np.square([0.1, 0.2, 0.7]) / np.square([0.1, 0.2, 0.7]).sum()]),
    (1.0, 2, None, [0, 0, 0, 0, 0.2 / 0.9, 0.7 / 0.9]),
    (1.0, None, 0.8, [0, 0, 0, 0, 0.2 / 0.9, 0.7 / 0.9]),  # 0.7 < 0.8: the second most likely joins
    (1.0, None, 0.7, [0, 0, 0, 0, 0, 1.0]),
])
def test_sampled_frequencies_follow_the_reshaped_distribution(temperature, top_k, top_p, expected):
    # Mass on the never-written ids (0.5 of it) is removed before anything else.
    model = one_step_table([0.2, 0.2, 0.1, 0.05, 0.1, 0.35])
    frequencies = first_token_frequencies(model, 20000, temperature=temperature, top_k=top_k, top_p=top_p, seed=1)
    np.testing.assert_allclose(frequencies, expected, atol=0.015)


def test_sampling_scores_are_the_model_log_probabilities():
    model = one_step_table([0, 0, 0, 0.1, 0.2, 0.7])
    out = sample(model, np.zeros(50, np.int32), max_length=1, temperature=3.0, seed=2)
    ids, scores = np.asarray(out.ids)[:, 0], np.asarray(out.scores)
    np.testing.assert_allclose(scores, np.log(np.array([0, 0, 0, 0.1, 0.2, 0.7]) + 1e-30)[ids], rtol=1e-5)


# === Options and tokens ===


@pytest.mark.parametrize("options, message", [
    ({"beam_width": 0}, "beam_width must be an integer from 1 (greedy decoding) to 64, got 0."),
    ({"beam_width": 65}, "got 65"),
    ({"beam_width": 2.0}, "got 2.0"),
    ({"beam_width": "5"}, "got '5'"),
    ({"beam_width": True}, "got True"),
    ({"length_penalty": -0.1}, "length_penalty must be a number >= 0 (0: no length normalization), got -0.1."),
    ({"length_penalty": float("nan")}, "got nan"),
    ({"temperature": 0}, "temperature must be a number > 0 (1: the model's distribution), got 0."),
    ({"top_k": 0}, "top_k must be an integer >= 1, or None (no top-k filtering), got 0."),
    ({"top_p": 0.0}, "top_p must be a number in (0, 1], or None (no nucleus filtering), got 0.0."),
    ({"top_p": 1.5}, "got 1.5"),
    ({"max_length": 0}, "max_length must be an integer >= 1, got 0."),
    ({"seed": -1}, "seed must be an integer >= 0, got -1."),
])
def test_bad_options_raise_a_value_error_naming_the_value(options, message):
    with pytest.raises(ValueError) as error:
        check_options(**options)
    assert message in str(error.value)


def test_good_options_pass_and_the_searches_check_theirs():
    assert check_options(beam_width=MAX_BEAM_WIDTH, length_penalty=0, temperature=0.3, top_k=None, top_p=1.0,
                         max_length=1, seed=0)["beam_width"] == 64
    with pytest.raises(ValueError, match="max_words must be an integer >= 1, got 0"):
        check_options(max_length=0, names={"max_length": "max_words"})
    with pytest.raises(TypeError, match="Unknown decoding option 'beam'"):
        check_options(beam=3)
    model = Table(trap())
    with pytest.raises(ValueError, match="beam_width"):
        beam_search(model, [0], beam_width=0, max_length=3)
    with pytest.raises(ValueError, match="top_p"):
        sample(model, [0], max_length=3, top_p=2.0)
    with pytest.raises(ValueError, match="max_length"):
        greedy(model, [0], max_length=0)


def test_special_tokens():
    assert SpecialTokens() == SpecialTokens(pad=0, unk=1, start=2, end=3)
    with pytest.raises(ValueError, match="four different ids"):
        SpecialTokens(start=3)
    with pytest.raises(ValueError, match="end must be an integer >= 0, got -1"):
        SpecialTokens(end=-1)


def test_importing_the_package_imports_no_tensorflow():
    code = "import sys, zoo.decoding; print(sorted(m for m in ('tensorflow', 'keras', 'numpy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
