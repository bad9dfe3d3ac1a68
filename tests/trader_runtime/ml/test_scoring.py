import numpy as np
import pytest

from trader_runtime.ml.scoring import auc_or_half, precision_recall_at, select_threshold


def test_threshold_is_lowest_with_max_precision_among_recall_candidates():
    y = np.array([0, 1, 0, 1, 1, 0, 1])
    p = np.array([0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.9])
    # thresholds 0.1..0.9: precision/recall = 4/7,1 | 4/6,1 | 3/5,.75 | 3/4,.75 | 2/3,.5 | 1/2,.25 | 1/1,.25
    r = select_threshold(y, p, min_recall=0.5)
    assert (r.threshold, r.precision, r.recall, r.found) == (0.4, 0.75, 0.75, True)
    r = select_threshold(y, p, min_recall=0.25)
    assert (r.threshold, r.precision, r.recall) == (0.9, 1.0, 0.25)


def test_ties_pick_the_lowest_threshold():
    y = np.array([1, 0, 1, 0])
    p = np.array([0.8, 0.6, 0.4, 0.2])
    # t=0.2: 2/4; t=0.4: 2/3; t=0.6: 1/2; t=0.8: 1/1 (recall 0.5)
    r = select_threshold(y, p, min_recall=1.0)
    assert (r.threshold, r.precision, r.recall) == (0.4, pytest.approx(2 / 3), 1.0)


@pytest.mark.parametrize(
    ("y", "p", "min_recall"),
    [
        (np.array([0, 0, 0]), np.array([0.2, 0.5, 0.9]), 0.15),  # no positives
        (np.array([], dtype=int), np.array([]), 0.15),  # no rows
        (np.array([0, 1, 1]), np.array([0.2, 0.5, 0.9]), 1.01),  # no candidate can reach the recall
    ],
)
def test_no_candidate_gives_half_zero_zero(y, p, min_recall):
    r = select_threshold(y, p, min_recall)
    assert (r.threshold, r.precision, r.recall, r.found) == (0.5, 0.0, 0.0, False)


def test_auc_single_class_is_flagged_placeholder():
    r = auc_or_half(np.array([1, 1]), np.array([0.3, 0.4]))
    assert (r.auc, r.defined) == (0.5, False)
    r = auc_or_half(np.array([0, 1, 0, 1]), np.array([0.1, 0.9, 0.2, 0.8]))
    assert (r.auc, r.defined) == (1.0, True)


def test_precision_recall_at_threshold():
    y = np.array([1, 0, 1, 0])
    p = np.array([0.9, 0.7, 0.3, 0.1])
    assert precision_recall_at(y, p, 0.5) == (0.5, 0.5)
    assert precision_recall_at(y, p, 0.95) == (0.0, 0.0)
