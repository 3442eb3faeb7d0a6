"""Smooth ECE against relplot and against a direct evaluation of its definition."""

import warnings

import numpy as np
import pytest
from scipy import fft, optimize, stats
from scipy.special import expit, softmax

from skcal.metrics import smooth_expected_calibration_error
from skcal.metrics.smooth_ece import _GridSpreading, _smooth_ece_at

relplot = pytest.importorskip("relplot", reason="relplot is needed for the reference values")


def logistic_scores(seed, n, scale, shift):
    """Scores sigmoid(scale * z + shift) for labels drawn from sigmoid(z)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    y_true = (rng.uniform(size=n) < expit(z)).astype(float)
    return y_true, expit(scale * z + shift)


def direct_smooth_ece(y_true, y_prob, bandwidth, n_points=4000, n_images=2):
    """Integrate |sum_i r_i K(t, c_i)| / n with the reflected Gaussian written out as images."""
    t = (np.arange(n_points) + 0.5) / n_points
    residual = y_prob - y_true
    kernel = np.zeros((n_points, y_prob.size))
    for shift in range(-n_images, n_images + 1):
        for sign in (1.0, -1.0):
            kernel += stats.norm.pdf(t[:, None] - (sign * y_prob[None, :] + 2 * shift), scale=bandwidth)
    smoothed = kernel @ residual / y_prob.size
    return np.abs(smoothed).mean()


@pytest.mark.parametrize(
    ("seed", "scale", "shift"),
    [
        (0, 1.0, 0.0),  # calibrated
        (1, 0.5, 0.0),  # under-confident
        (2, 1.5, 0.0),  # over-confident
        (3, 2.0, 0.0),  # strongly over-confident
        (4, 1.0, 0.5),  # shifted towards the positive class
        (5, 1.5, -0.5),
    ],
)
def test_matches_relplot(seed, scale, shift):
    y_true, y_prob = logistic_scores(seed, 2000, scale, shift)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        expected = relplot.smECE(y_prob, y_true)
    assert smooth_expected_calibration_error(y_true, y_prob) == pytest.approx(expected, abs=1e-3)


def test_matches_relplot_power_miscalibration():
    rng = np.random.default_rng(6)
    y_prob = rng.uniform(size=3000)
    y_true = (rng.uniform(size=3000) < y_prob**2).astype(float)
    expected = relplot.smECE(y_prob, y_true)
    assert smooth_expected_calibration_error(y_true, y_prob) == pytest.approx(expected, abs=1e-3)


@pytest.mark.parametrize("bandwidth", [0.03, 0.1, 0.3])
def test_fixed_bandwidth_matches_definition(bandwidth):
    # Scores piled up near 0 and 1, where the reflection at the boundary matters most.
    rng = np.random.default_rng(7)
    y_prob = rng.beta(0.3, 0.3, size=300)
    y_true = (rng.uniform(size=300) < 0.5 + 0.5 * (y_prob - 0.5)).astype(float)

    masses = _GridSpreading(y_prob).masses((y_prob - y_true) / y_prob.size)
    result = _smooth_ece_at(fft.dct(masses, type=2), bandwidth)
    assert result == pytest.approx(direct_smooth_ece(y_true, y_prob, bandwidth), abs=1e-4)


def test_fixed_point_matches_definition():
    rng = np.random.default_rng(8)
    y_prob = rng.beta(0.3, 0.3, size=200)
    y_true = (rng.uniform(size=200) < 0.5 + 0.5 * (y_prob - 0.5)).astype(float)
    bandwidth = optimize.brentq(
        lambda s: direct_smooth_ece(y_true, y_prob, s, n_points=1500) - s, 0.01, 1.0, xtol=1e-6
    )

    value, found = smooth_expected_calibration_error(y_true, y_prob, return_bandwidth=True)
    assert found == pytest.approx(bandwidth, abs=2e-4)
    assert value == pytest.approx(bandwidth, abs=2e-4)


def test_value_equals_bandwidth():
    y_true, y_prob = logistic_scores(9, 1000, 2.0, 0.0)
    value, bandwidth = smooth_expected_calibration_error(y_true, y_prob, return_bandwidth=True)
    assert value == pytest.approx(bandwidth, abs=1e-6)


def test_top_label_matches_relplot():
    rng = np.random.default_rng(10)
    logits = rng.normal(scale=2.0, size=(3000, 4))
    y_true = np.array([rng.choice(4, p=row) for row in softmax(logits / 1.5, axis=1)])
    y_prob = softmax(logits, axis=1)
    confidence, correct = relplot.multiclass_logits_to_confidences(logits, y_true)
    expected = relplot.smECE(confidence, correct)
    result = smooth_expected_calibration_error(y_true, y_prob, kind="top_label")
    assert result == pytest.approx(expected, abs=1e-3)


def test_integer_weights_equal_repeats():
    y_true, y_prob = logistic_scores(11, 400, 1.5, 0.0)
    counts = np.random.default_rng(1).integers(0, 4, size=400)
    weighted = smooth_expected_calibration_error(y_true, y_prob, sample_weight=counts)
    repeated = smooth_expected_calibration_error(np.repeat(y_true, counts), np.repeat(y_prob, counts))
    assert weighted == pytest.approx(repeated, abs=1e-9)


def test_weight_matrix_gives_one_value_per_row():
    y_true, y_prob = logistic_scores(12, 400, 1.5, 0.0)
    weights = np.random.default_rng(2).uniform(size=400)
    values = smooth_expected_calibration_error(y_true, y_prob, sample_weight=np.vstack([np.ones(400), weights]))
    assert values[0] == pytest.approx(smooth_expected_calibration_error(y_true, y_prob))
    assert values[1] == pytest.approx(smooth_expected_calibration_error(y_true, y_prob, sample_weight=weights))


def test_perfect_predictions_floor_bandwidth():
    y_true = np.array([0, 1] * 50)
    value, bandwidth = smooth_expected_calibration_error(y_true, y_true.astype(float), return_bandwidth=True)
    assert value == 0.0
    assert bandwidth == pytest.approx(1e-3)


def test_nan_scores_raise():
    with pytest.raises(ValueError, match="NaN"):
        smooth_expected_calibration_error([0, 1, 1], [0.2, np.nan, 0.9])
