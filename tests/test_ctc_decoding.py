"""CTC decoding (zoo.decoding.ctc): greedy and prefix beam search in TensorFlow, the NumPy collapse for TFLite users."""

import numpy as np
import pytest

from zoo.decoding import ctc_collapse, ctc_decode


def softmax(logits):
    e = np.exp(logits - logits.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True)).astype(np.float32)


def test_collapse_merges_repeats_then_drops_blanks():
    one_hot = np.eye(4, dtype=np.float32)
    assert ctc_collapse(one_hot[[1, 1, 0, 1, 2, 2, 0, 0, 3]]) == ([1, 1, 2, 3], 1.0)
    assert ctc_collapse(one_hot[[0, 0, 0]]) == ([], 1.0)
    ids, confidence = ctc_collapse(np.array([[0.2, 0.8], [0.6, 0.4]], np.float32))
    assert ids == [1] and confidence == pytest.approx(0.8 * 0.6)


def test_greedy_decoding_in_tensorflow_matches_the_numpy_collapse():
    probabilities = softmax(np.random.default_rng(0).normal(size=(6, 15, 5)) * 3)
    decoded = ctc_decode(probabilities, beam_width=1)
    for row, ids, length, score in zip(probabilities, decoded.ids.numpy(), decoded.lengths.numpy(),
                                       decoded.scores.numpy()):
        expected, confidence = ctc_collapse(row)
        assert ids[:length].tolist() == expected and np.all(ids[length:] == -1)
        assert np.exp(score) == pytest.approx(confidence, rel=1e-4)


def test_beam_search_finds_the_likelier_labelling_that_the_best_path_misses():
    # Best path: blank, blank (P = .16). The labelling "a" sums three paths: .35*.35 + .35*.4 + .4*.35 = .4025.
    step = [0.4, 0.35, 0.25]
    probabilities = np.array([[step, step]], np.float32)
    greedy = ctc_decode(probabilities, beam_width=1)
    beam = ctc_decode(probabilities, beam_width=4)
    assert greedy.lengths.numpy().tolist() == [0] and np.exp(greedy.scores.numpy()[0]) == pytest.approx(0.16, rel=1e-4)
    assert beam.ids.numpy()[0, :1].tolist() == [1] and beam.lengths.numpy().tolist() == [1]
    assert np.exp(beam.scores.numpy()[0]) == pytest.approx(0.4025, rel=1e-3)


def test_lengths_cut_each_row_and_the_blank_is_class_zero_for_beam_search_too():
    one_hot = np.eye(3, dtype=np.float32)
    probabilities = np.stack([one_hot[[1, 0, 2, 2]], one_hot[[2, 1, 1, 0]]])
    for width in (1, 3):
        decoded = ctc_decode(probabilities, beam_width=width, lengths=[2, 4])
        assert decoded.ids.numpy().tolist() == [[1, -1, -1, -1], [2, 1, -1, -1]]


@pytest.mark.parametrize("width", [0, 101, 2.0, True, None])
def test_a_bad_beam_width_is_a_clear_error(width):
    with pytest.raises(ValueError, match="beam_width must be an integer from 1"):
        ctc_decode(np.full((1, 2, 3), 1 / 3, np.float32), beam_width=width)


def test_collapse_wants_one_example():
    with pytest.raises(ValueError, match=r"one example's probabilities \(steps, classes\)"):
        ctc_collapse(np.zeros((1, 2, 3)))
