"""Binned ECE and MCE: a loop-based reference, hand-computed values, real CIFAR-10 logits."""

from pathlib import Path

import numpy as np
import pytest
from scipy.special import softmax

from skcal.metrics import expected_calibration_error, maximum_calibration_error

CIFAR_DIR = Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "cifar10-logits"


def reference_calibration_error(confidence, outcome, weights, n_bins, strategy, norm):
    """Bin by explicit loops: (lo, hi] bins, the first closed at 0."""
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    else:
        inner = np.quantile(
            confidence, np.arange(1, n_bins) / n_bins, weights=weights, method="inverted_cdf"
        )
        edges = np.concatenate([[0.0], inner, [1.0]])

    total = weights.sum()
    gaps, shares = [], []
    for b in range(n_bins):
        lower_ok = confidence >= edges[b] if b == 0 else confidence > edges[b]
        in_bin = lower_ok & (confidence <= edges[b + 1])
        weight = weights[in_bin].sum()
        if weight == 0:
            continue
        mean_confidence = np.sum(weights[in_bin] * confidence[in_bin]) / weight
        mean_outcome = np.sum(weights[in_bin] * outcome[in_bin]) / weight
        gaps.append(abs(mean_confidence - mean_outcome))
        shares.append(weight / total)

    gaps, shares = np.array(gaps), np.array(shares)
    if norm == "l1":
        return float(np.sum(shares * gaps))
    if norm == "l2":
        return float(np.sqrt(np.sum(shares * gaps**2)))
    return float(gaps.max())


def random_binary(seed, n=500):
    rng = np.random.default_rng(seed)
    y_prob = rng.beta(0.7, 0.7, size=n)
    # Exact end points and ties exercise the bin boundaries.
    y_prob[:20] = 0.0
    y_prob[20:40] = 1.0
    y_prob[40:60] = 0.4
    y_true = (rng.uniform(size=n) < y_prob**1.5).astype(int)
    weights = rng.uniform(0.2, 3.0, size=n)
    return y_true, y_prob, weights


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
@pytest.mark.parametrize("norm", ["l1", "l2", "max"])
@pytest.mark.parametrize("n_bins", [1, 7, 15])
@pytest.mark.parametrize("weighted", [False, True])
def test_positive_kind_matches_reference(strategy, norm, n_bins, weighted):
    y_true, y_prob, weights = random_binary(seed=n_bins)
    sample_weight = weights if weighted else None
    expected = reference_calibration_error(
        y_prob, y_true.astype(float), weights if weighted else np.ones_like(y_prob), n_bins, strategy, norm
    )
    result = expected_calibration_error(
        y_true, y_prob, n_bins=n_bins, strategy=strategy, norm=norm, sample_weight=sample_weight
    )
    assert result == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
@pytest.mark.parametrize("norm", ["l1", "l2", "max"])
def test_top_label_matches_reference(strategy, norm):
    rng = np.random.default_rng(3)
    logits = rng.normal(scale=3.0, size=(800, 5))
    y_prob = softmax(logits, axis=1)
    y_true = rng.integers(0, 5, size=800)
    y_true[:300] = np.argmax(y_prob[:300], axis=1)

    confidence = y_prob.max(axis=1)
    correct = (np.argmax(y_prob, axis=1) == y_true).astype(float)
    expected = reference_calibration_error(confidence, correct, np.ones(800), 10, strategy, norm)
    result = expected_calibration_error(
        y_true, y_prob, n_bins=10, strategy=strategy, kind="top_label", norm=norm
    )
    assert result == pytest.approx(expected, abs=1e-12)


def test_positive_kind_hand_computed():
    # Bins of width 0.2: {0.0, 0.2} in the first, 0.7 in (0.6, 0.8], 1.0 in the last.
    y_true = [0, 0, 1, 1]
    y_prob = [0.0, 0.2, 0.7, 1.0]
    assert expected_calibration_error(y_true, y_prob, n_bins=5) == pytest.approx(0.125)
    assert expected_calibration_error(y_true, y_prob, n_bins=5, norm="l2") == pytest.approx(np.sqrt(0.0275))
    assert maximum_calibration_error(y_true, y_prob, n_bins=5) == pytest.approx(0.3)


def test_end_points_counted_once():
    # With one sample exactly at 0 and one exactly at 1, both wrong, each
    # end bin contains one sample with a gap of 1.
    y_true = [1, 0, 0, 1]
    y_prob = [0.0, 1.0, 0.5, 0.5]
    assert expected_calibration_error(y_true, y_prob, n_bins=4) == pytest.approx(0.5)
    assert maximum_calibration_error(y_true, y_prob, n_bins=4) == pytest.approx(1.0)


def test_top_label_hand_computed():
    y_prob = np.array([
        [1.0, 0.0, 0.0],  # confidence 1.0, correct
        [0.5, 0.3, 0.2],  # confidence 0.5, wrong
        [0.2, 0.7, 0.1],  # confidence 0.7, correct
        [0.4, 0.4, 0.2],  # tie: the first class wins, wrong
    ])
    y_true = [0, 1, 1, 1]
    # Bin [0, 0.5]: mean confidence 0.45, accuracy 0. Bin (0.5, 1]: 0.85 and 1.
    assert expected_calibration_error(y_true, y_prob, n_bins=2, kind="top_label") == pytest.approx(0.3)
    assert maximum_calibration_error(y_true, y_prob, n_bins=2, kind="top_label") == pytest.approx(0.45)


def test_binary_top_label_hand_computed():
    # Confidences max(p, 1 - p) = 1, 1, 0.7, 0.5; the tie at 0.5 predicts the first class.
    y_true = [0, 1, 1, 0]
    y_prob = [0.0, 1.0, 0.3, 0.5]
    result = expected_calibration_error(y_true, y_prob, n_bins=2, kind="top_label")
    assert result == pytest.approx(0.25 * 0.5 + 0.75 * (0.9 - 2 / 3))


def test_quantile_ties_share_bin():
    # Half the samples tie at 0.9, so one quantile bin contains them all.
    y_true = np.array([0, 1] * 10)
    y_prob = np.concatenate([np.full(10, 0.9), np.linspace(0.05, 0.5, 10)])
    expected = reference_calibration_error(y_prob, y_true.astype(float), np.ones(20), 4, "quantile", "max")
    result = maximum_calibration_error(y_true, y_prob, n_bins=4, strategy="quantile")
    assert result == pytest.approx(expected)


def test_two_column_matrix_matches_vector():
    y_true, y_prob, _ = random_binary(seed=5)
    matrix = np.column_stack([1 - y_prob, y_prob])
    assert expected_calibration_error(y_true, matrix) == pytest.approx(expected_calibration_error(y_true, y_prob))


def test_pos_label_string_labels():
    y_true, y_prob, _ = random_binary(seed=6)
    labels = np.where(y_true == 1, "spam", "ham")
    direct = expected_calibration_error(y_true, y_prob)
    flipped = expected_calibration_error(labels, 1 - y_prob, pos_label="ham")
    assert expected_calibration_error(labels, y_prob) == pytest.approx(direct)
    assert flipped == pytest.approx(direct)


def test_integer_weights_equal_repeats():
    y_true, y_prob, _ = random_binary(seed=7, n=200)
    counts = np.random.default_rng(0).integers(0, 4, size=200)
    weighted = expected_calibration_error(y_true, y_prob, sample_weight=counts, strategy="quantile")
    repeated = expected_calibration_error(
        np.repeat(y_true, counts), np.repeat(y_prob, counts), strategy="quantile"
    )
    assert weighted == pytest.approx(repeated, abs=1e-12)


def test_weight_matrix_gives_one_value_per_row():
    y_true, y_prob, weights = random_binary(seed=8)
    matrix = np.vstack([np.ones_like(weights), weights])
    values = expected_calibration_error(y_true, y_prob, sample_weight=matrix)
    assert values.shape == (2,)
    assert values[0] == pytest.approx(expected_calibration_error(y_true, y_prob))
    assert values[1] == pytest.approx(expected_calibration_error(y_true, y_prob, sample_weight=weights))


def test_binary_labels_sorted():
    # Only negatives present: labels= names both classes, in any order.
    y_prob = [0.1, 0.3, 0.2]
    assert expected_calibration_error([0, 0, 0], y_prob, labels=[1, 0], n_bins=1) == pytest.approx(0.2)
    with pytest.raises(ValueError, match="labels has 3 distinct values"):
        expected_calibration_error([0, 0, 0], y_prob, labels=[0, 1, 2])


def test_labels_for_missing_class():
    y_prob = softmax(np.random.default_rng(0).normal(size=(30, 4)), axis=1)
    y_true = np.array(["a", "b", "c"] * 10)
    with pytest.raises(ValueError, match="labels="):
        expected_calibration_error(y_true, y_prob, kind="top_label")
    result = expected_calibration_error(y_true, y_prob, kind="top_label", labels=["a", "b", "c", "d"])
    assert 0.0 <= result <= 1.0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_bins": 0}, ValueError, "n_bins=0"),
        ({"n_bins": 2.5}, TypeError, "n_bins must be an integer"),
        ({"strategy": "kmeans"}, ValueError, "strategy='kmeans'"),
        ({"norm": "l3"}, ValueError, "norm='l3'"),
        ({"kind": "marginal"}, ValueError, "kind='marginal'"),
        ({"pos_label": 2}, ValueError, "pos_label=2"),
        ({"sample_weight": -np.ones(4)}, ValueError, "negative"),
        ({"sample_weight": np.ones((2, 3))}, ValueError, "sample_weight has shape"),
    ],
)
def test_invalid_options_raise(kwargs, error, match):
    with pytest.raises(error, match=match):
        expected_calibration_error([0, 1, 0, 1], [0.1, 0.8, 0.3, 0.6], **kwargs)


@pytest.mark.parametrize(
    ("y_true", "y_prob", "match"),
    [
        ([0, 1, 0, 1], [0.1, np.nan, 0.3, 0.6], "NaN"),
        ([0, 1, 0, 1], [0.1, 1.2, 0.3, 0.6], "outside \\[0, 1\\]"),
        ([0, 1, 0], [0.1, 0.8, 0.3, 0.6], "Inconsistent numbers of samples"),
        ([1, 1, 1, 1], [0.1, 0.8, 0.3, 0.6], "exactly two classes"),
        ([0, 1, 2, 1], [0.1, 0.8, 0.3, 0.6], "exactly two classes"),
        ([0, 1], [[0.5, 0.6], [0.2, 0.8]], "do not sum to 1"),
    ],
)
def test_invalid_inputs_raise(y_true, y_prob, match):
    with pytest.raises(ValueError, match=match):
        expected_calibration_error(y_true, y_prob)


def test_positive_kind_rejects_multiclass():
    y_prob = softmax(np.zeros((3, 3)), axis=1)
    with pytest.raises(ValueError, match="kind='top_label'"):
        expected_calibration_error([0, 1, 2], y_prob)


@pytest.mark.parametrize(("model", "expected"), [("densenet40", 0.0550), ("resnet110", 0.0475)])
def test_cifar10_top_label_ece(model, expected):
    path = CIFAR_DIR / f"{model}.npz"
    if not path.is_file():
        pytest.skip(f"CIFAR-10 logits not found at {path}; copy them there to run this check.")
    with np.load(path) as data:
        y_prob = softmax(data["logits_test"].astype(np.float64), axis=1)
        y_true = data["y_test"]
    result = expected_calibration_error(y_true, y_prob, n_bins=15, kind="top_label")
    assert round(result, 4) == expected
