"""Score-distribution statistics and bootstrap intervals."""

import functools
import json

import numpy as np
import pytest
from scipy import stats
from scipy.special import expit, logit

from skcal.metrics import (
    accuracy_at_threshold,
    bootstrap,
    brier_score_loss,
    expected_calibration_error,
    log_loss,
    maximum_calibration_error,
    score_distribution_stats,
    smooth_expected_calibration_error,
)


def skewed_scores(seed=0, n=400):
    rng = np.random.default_rng(seed)
    y_true = (rng.uniform(size=n) < 0.3).astype(int)
    z = np.where(y_true == 1, rng.gamma(2.0, 1.5, size=n), -rng.gamma(1.5, 1.0, size=n))
    return y_true, expit(z), z


def test_stats_match_scipy():
    y_true, y_prob, z = skewed_scores()
    summary = score_distribution_stats(y_true, y_prob, threshold=0.4)
    for role, indicator in (("negative", 0), ("positive", 1)):
        p = y_prob[y_true == indicator]
        entry = summary[role]
        assert entry["count"] == p.size
        assert entry["probability"]["mean"] == pytest.approx(np.mean(p))
        assert entry["probability"]["median"] == pytest.approx(np.median(p))
        assert entry["probability"]["std"] == pytest.approx(np.std(p))
        assert entry["probability"]["iqr"] == pytest.approx(np.subtract(*np.percentile(p, [75, 25])))
        assert entry["probability"]["skewness"] == pytest.approx(stats.skew(p))
        assert entry["logit"]["skewness"] == pytest.approx(stats.skew(logit(p)))
        assert entry["share_at_or_above_threshold"] == pytest.approx(np.mean(p >= 0.4))
        assert entry["share_below_threshold"] == pytest.approx(np.mean(p < 0.4))


def test_stats_given_logits():
    y_true, _, z = skewed_scores(seed=1)
    summary = score_distribution_stats(y_true, logits=z)
    assert summary["positive"]["logit"]["mean"] == pytest.approx(np.mean(z[y_true == 1]))
    assert summary["negative"]["probability"]["median"] == pytest.approx(np.median(expit(z[y_true == 0])))


def test_stats_logit_clipped_at_end_points():
    summary = score_distribution_stats([0, 0, 1, 1], [0.0, 0.0, 1.0, 1.0])
    assert summary["positive"]["logit"]["mean"] == pytest.approx(36.7368, abs=1e-4)
    assert summary["negative"]["logit"]["mean"] == pytest.approx(-36.7368, abs=1e-4)


def test_stats_json_serialisable_labels():
    y_true, y_prob, _ = skewed_scores(seed=2, n=50)
    labels = np.where(y_true == 1, "defect", "ok")
    summary = score_distribution_stats(labels, y_prob, pos_label="defect")
    decoded = json.loads(json.dumps(summary, allow_nan=False))
    assert decoded["positive"]["label"] == "defect"
    assert decoded["negative"]["label"] == "ok"


def test_stats_constant_class_skewness_none():
    summary = score_distribution_stats([0, 0, 1, 1], [0.2, 0.2, 0.7, 0.9])
    assert summary["negative"]["probability"]["skewness"] is None
    assert summary["negative"]["probability"]["std"] == 0.0


def test_stats_require_scores():
    with pytest.raises(ValueError, match="Both y_prob and logits are missing"):
        score_distribution_stats([0, 1])


METRICS_WITH_WEIGHT_MATRIX = [
    expected_calibration_error,
    functools.partial(expected_calibration_error, strategy="quantile", n_bins=8),
    functools.partial(expected_calibration_error, norm="l2"),
    maximum_calibration_error,
    smooth_expected_calibration_error,
    brier_score_loss,
    log_loss,
    functools.partial(accuracy_at_threshold, threshold=0.3),
]


@pytest.mark.parametrize("metric", METRICS_WITH_WEIGHT_MATRIX)
@pytest.mark.parametrize("weighted", [False, True])
def test_vectorised_path_matches_loop(metric, weighted):
    y_true, y_prob, _ = skewed_scores(seed=3, n=300)
    weights = np.random.default_rng(0).uniform(0.5, 2.0, size=300) if weighted else None

    def plain(y, p, sample_weight=None):
        return metric(y, p, sample_weight=sample_weight)

    fast = bootstrap(metric, y_true, y_prob, n_resamples=40, random_state=1, sample_weight=weights)
    slow = bootstrap(plain, y_true, y_prob, n_resamples=40, random_state=1, sample_weight=weights)
    np.testing.assert_allclose(fast.resamples, slow.resamples, rtol=1e-9, atol=1e-12)
    assert fast.estimate == pytest.approx(slow.estimate)


def test_interval_is_percentile_of_resamples():
    y_true, y_prob, _ = skewed_scores(seed=4)
    result = bootstrap(brier_score_loss, y_true, y_prob, n_resamples=200, confidence_level=0.9, random_state=0)
    assert result.low == pytest.approx(np.quantile(result.resamples, 0.05))
    assert result.high == pytest.approx(np.quantile(result.resamples, 0.95))
    assert result.estimate == pytest.approx(brier_score_loss(y_true, y_prob))
    assert result.resamples.shape == (200,)


def test_spread_matches_standard_error():
    # The bootstrap standard deviation of a mean equals its standard error
    # sd / sqrt(n) up to Monte Carlo noise (about 3% for 1000 resamples).
    rng = np.random.default_rng(5)
    y_prob = rng.uniform(size=5000)
    y_true = (rng.uniform(size=5000) < y_prob).astype(int)
    losses = (y_prob - y_true) ** 2
    result = bootstrap(brier_score_loss, y_true, y_prob, n_resamples=1000, random_state=0)
    assert np.std(result.resamples) == pytest.approx(np.std(losses) / np.sqrt(5000), rel=0.1)


def test_same_seed_same_result():
    y_true, y_prob, _ = skewed_scores(seed=6)
    first = bootstrap(expected_calibration_error, y_true, y_prob, n_resamples=50, random_state=3)
    second = bootstrap(expected_calibration_error, y_true, y_prob, n_resamples=50, random_state=3)
    np.testing.assert_array_equal(first.resamples, second.resamples)


def test_result_to_dict_is_json():
    y_true, y_prob, _ = skewed_scores(seed=7)
    result = bootstrap(log_loss, y_true, y_prob, n_resamples=20, random_state=np.random.RandomState(0))
    decoded = json.loads(json.dumps(result.to_dict()))
    assert decoded["n_resamples"] == 20
    assert decoded["low"] <= decoded["high"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_resamples": 0}, "n_resamples=0"),
        ({"confidence_level": 95}, "confidence_level=95"),
        ({"sample_weight": np.ones(3)}, "sample_weight has shape"),
    ],
)
def test_bootstrap_invalid_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        bootstrap(log_loss, [0, 1, 0, 1], [0.2, 0.7, 0.4, 0.9], **kwargs)
