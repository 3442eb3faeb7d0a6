"""Brier score, log loss, accuracy at a threshold and the log-loss decomposition."""

import numpy as np
import pytest
import sklearn.metrics
from scipy import optimize
from scipy.special import expit, log_softmax, softmax

from skcal.metrics import (
    accuracy_at_threshold,
    brier_score_loss,
    log_loss,
    log_loss_decomposition,
)


def binary_data(seed=0, n=300):
    rng = np.random.default_rng(seed)
    y_prob = rng.uniform(size=n)
    y_prob[:5] = [0.0, 1.0, 0.0, 1.0, 0.5]
    y_true = (rng.uniform(size=n) < y_prob).astype(int)
    return y_true, y_prob, rng.uniform(0.5, 2.0, size=n)


def multiclass_data(seed=0, n=300, n_classes=4):
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=2.0, size=(n, n_classes))
    y_true = np.array([rng.choice(n_classes, p=row) for row in softmax(logits / 2.0, axis=1)])
    return y_true, logits


@pytest.mark.parametrize("weighted", [False, True])
def test_brier_binary_matches_sklearn(weighted):
    y_true, y_prob, weights = binary_data()
    sample_weight = weights if weighted else None
    expected = sklearn.metrics.brier_score_loss(y_true, y_prob, sample_weight=sample_weight)
    assert brier_score_loss(y_true, y_prob, sample_weight=sample_weight) == pytest.approx(expected)


@pytest.mark.parametrize("weighted", [False, True])
def test_log_loss_binary_matches_sklearn(weighted):
    y_true, y_prob, weights = binary_data()
    sample_weight = weights if weighted else None
    expected = sklearn.metrics.log_loss(y_true, y_prob, sample_weight=sample_weight)
    assert log_loss(y_true, y_prob, sample_weight=sample_weight) == pytest.approx(expected)


def test_pos_label_matches_sklearn():
    y_true, y_prob, _ = binary_data(seed=1)
    labels = np.where(y_true == 1, "cat", "dog")
    # With pos_label="cat", y_prob is P(cat); "cat" is the first sorted label.
    expected_brier = sklearn.metrics.brier_score_loss(labels, y_prob, pos_label="cat")
    expected_log_loss = sklearn.metrics.log_loss(labels, np.column_stack([y_prob, 1 - y_prob]))
    assert brier_score_loss(labels, y_prob, pos_label="cat") == pytest.approx(expected_brier)
    assert log_loss(labels, y_prob, pos_label="cat") == pytest.approx(expected_log_loss)


def test_two_column_matrix_matches_sklearn():
    y_true, y_prob, _ = binary_data(seed=2)
    matrix = np.column_stack([1 - y_prob, y_prob])
    assert brier_score_loss(y_true, matrix) == pytest.approx(sklearn.metrics.brier_score_loss(y_true, y_prob))
    assert log_loss(y_true, matrix) == pytest.approx(sklearn.metrics.log_loss(y_true, matrix))


@pytest.mark.parametrize("weighted", [False, True])
def test_multiclass_matches_sklearn(weighted):
    y_true, logits = multiclass_data()
    y_prob = softmax(logits, axis=1)
    weights = np.random.default_rng(3).uniform(size=y_true.size) if weighted else None
    expected_brier = sklearn.metrics.brier_score_loss(y_true, y_prob, sample_weight=weights)
    expected_log_loss = sklearn.metrics.log_loss(y_true, y_prob, sample_weight=weights)
    assert brier_score_loss(y_true, y_prob, sample_weight=weights) == pytest.approx(expected_brier)
    assert log_loss(y_true, y_prob, sample_weight=weights) == pytest.approx(expected_log_loss)


@pytest.mark.parametrize("threshold", [0.0, 0.3, 0.5, 0.93, 1.0])
def test_accuracy_at_threshold_matches_sklearn(threshold):
    y_true, y_prob, weights = binary_data(seed=4)
    expected = sklearn.metrics.accuracy_score(y_true, (y_prob >= threshold).astype(int), sample_weight=weights)
    result = accuracy_at_threshold(y_true, y_prob, threshold=threshold, sample_weight=weights)
    assert result == pytest.approx(expected)


def test_weight_matrix_rows_match_vectors():
    y_true, y_prob, weights = binary_data(seed=5)
    matrix = np.vstack([weights, np.ones_like(weights)])
    for metric in (brier_score_loss, log_loss, accuracy_at_threshold):
        values = metric(y_true, y_prob, sample_weight=matrix)
        assert values[0] == pytest.approx(metric(y_true, y_prob, sample_weight=weights))
        assert values[1] == pytest.approx(metric(y_true, y_prob))


def test_accuracy_infinite_threshold():
    assert accuracy_at_threshold([0, 1, 0], [0.2, 0.7, 1.0], threshold=np.inf) == pytest.approx(2 / 3)
    assert accuracy_at_threshold([0, 1, 0], [0.2, 0.7, 1.0], threshold=-0.5) == pytest.approx(1 / 3)


def test_accuracy_rejects_bad_threshold():
    with pytest.raises(ValueError, match="threshold is NaN"):
        accuracy_at_threshold([0, 1], [0.2, 0.7], threshold=np.nan)
    with pytest.raises(TypeError, match="threshold must be a number"):
        accuracy_at_threshold([0, 1], [0.2, 0.7], threshold="high")


def reference_temperature(y_index, logits):
    """Minimise the NLL over log T with scipy, independently of skcal."""
    def nll(log_t):
        scaled = logits / np.exp(log_t)
        if scaled.ndim == 1:
            return -np.mean(y_index * -np.logaddexp(0, -scaled) + (1 - y_index) * -np.logaddexp(0, scaled))
        return -np.mean(log_softmax(scaled, axis=1)[np.arange(y_index.size), y_index])

    result = optimize.minimize_scalar(nll, bounds=(-5, 5), method="bounded", options={"xatol": 1e-10})
    return np.exp(result.x), nll(result.x), nll(0.0)


def test_decomposition_binary_logits():
    rng = np.random.default_rng(6)
    z = rng.normal(scale=3.0, size=2000)
    y_true = (rng.uniform(size=2000) < expit(z / 2.5)).astype(int)
    temperature, refinement, total = reference_temperature(y_true, z)

    parts = log_loss_decomposition(y_true, z)
    assert parts.temperature == pytest.approx(temperature, rel=1e-4)
    assert parts.total == pytest.approx(total, rel=1e-9)
    assert parts.refinement == pytest.approx(refinement, rel=1e-7)
    assert parts.calibration == pytest.approx(total - refinement, abs=1e-7)


def test_decomposition_multiclass_logits():
    y_true, logits = multiclass_data(seed=7, n=1500)
    temperature, refinement, total = reference_temperature(y_true, logits)

    parts = log_loss_decomposition(y_true, logits)
    assert parts.temperature == pytest.approx(temperature, rel=1e-4)
    assert parts.refinement == pytest.approx(refinement, rel=1e-7)
    assert parts.total == pytest.approx(sklearn.metrics.log_loss(y_true, softmax(logits, axis=1)))
    assert parts.calibration > 0.01


def test_decomposition_probabilities_match_logits():
    rng = np.random.default_rng(8)
    z = rng.normal(scale=2.0, size=1000)
    y_true = np.where(rng.uniform(size=1000) < expit(z / 2.0), "pos", "neg")
    from_logits = log_loss_decomposition(y_true, z, pos_label="pos")
    from_probabilities = log_loss_decomposition(y_true, expit(z), scale="probability", pos_label="pos")
    assert from_probabilities.temperature == pytest.approx(from_logits.temperature, rel=1e-6)
    assert from_probabilities.calibration == pytest.approx(from_logits.calibration, abs=1e-9)


def test_decomposition_calibrated_near_zero():
    rng = np.random.default_rng(9)
    z = rng.normal(scale=2.0, size=4000)
    y_true = (rng.uniform(size=4000) < expit(z)).astype(int)
    parts = log_loss_decomposition(y_true, z)
    assert 0.0 <= parts.calibration < 2e-3
    assert parts.to_dict()["refinement"] == parts.refinement


def test_decomposition_rejects_bad_scale():
    with pytest.raises(ValueError, match="scale='probabilities'"):
        log_loss_decomposition([0, 1], [0.2, 0.7], scale="probabilities")


def test_decomposition_rejects_infinite_logits():
    with pytest.raises(ValueError, match="NaN or infinite"):
        log_loss_decomposition([0, 1, 1], [0.2, np.inf, 1.0])
