"""Tests of the seed study: per-run measurements, the between-run analysis and the report."""

import html
import json
import math

import numpy as np
import pytest
import torch
from scipy import stats
from scipy.special import expit, logit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

from skcal._torch_utils import draw_seeds
from skcal.demo import load_demo_data
from skcal.exceptions import CalibrationWarning
from skcal.resnet import ResNet18Classifier
from skcal.seeds import SPREAD_STATISTICS, seed_study
from skcal.seeds._result import format_verdict
from skcal.seeds._stats import between_run_test, pooled_threshold, spread_ratio
from skcal.threshold import find_threshold

N_RUNS = 3
BOOTSTRAP_STUDY = dict(n_runs=2, vary=("seed", "bootstrap"), calibration="temperature+bias")


@pytest.fixture(autouse=True)
def _one_torch_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _tiny_digits():
    X, y, _ = load_demo_data("digits", positive_digit=8)
    return X[:300], y[:300]


def _tiny_network():
    # 8x8 inputs at their own size: one epoch takes about a second.
    return ResNet18Classifier(max_epochs=1, batch_size=32, device="cpu")


def _run_tiny_study(**params):
    X, y = _tiny_digits()
    settings = dict(n_runs=N_RUNS, n_resamples=30, n_threads=1, random_state=0)
    settings.update(params)
    return seed_study(_tiny_network(), X, y, **settings)


@pytest.fixture(scope="module")
def study():
    return _run_tiny_study()


@pytest.fixture(scope="module")
def bootstrap_study():
    return _run_tiny_study(**BOOTSTRAP_STUDY)


# Per-run measurements of the ResNet study.


@pytest.mark.parametrize(
    "name",
    ["seeds", "thresholds", "thresholds_uncalibrated", "temperatures", "biases"],
)
def test_study_arrays_have_run_length(study, name):
    assert getattr(study, name).shape == (N_RUNS,)


def test_study_tables_have_run_length(study):
    assert study.threshold_intervals.shape == (N_RUNS, 2)
    assert len(study.runs) == N_RUNS
    assert all(len(column) == N_RUNS for column in study.to_frame().values())
    assert study.test_proba.shape == (N_RUNS, study.y_test.shape[0])


def test_study_seeds_differ_between_runs(study):
    assert np.unique(study.seeds).shape == (N_RUNS,)


def test_study_thresholds_within_unit_interval(study):
    for thresholds in (study.thresholds, study.thresholds_uncalibrated):
        assert np.all((thresholds >= 0) & (thresholds <= 1))


def test_study_splits_are_disjoint(study):
    train, calibration, test = (study.split[k] for k in ("train", "calibration", "test"))
    assert np.intersect1d(train, calibration).size == 0
    assert np.intersect1d(train, test).size == 0
    assert np.intersect1d(calibration, test).size == 0
    assert train.size + calibration.size + test.size == 300


def test_seed_vary_keeps_training_split(study):
    for indices in study.train_indices:
        np.testing.assert_array_equal(indices, study.split["train"])


def test_bootstrap_vary_resamples_training_split(bootstrap_study):
    first, second = bootstrap_study.train_indices
    train = bootstrap_study.split["train"]
    assert not np.array_equal(first, second)
    assert first.shape == train.shape
    assert np.isin(first, train).all()
    assert bootstrap_study.runs[0]["n_unique_train"] < train.shape[0]


def test_bootstrap_vary_fits_bias(bootstrap_study):
    assert np.all(bootstrap_study.biases != 0)


def test_study_same_seed_same_result(bootstrap_study):
    repeat = _run_tiny_study(**BOOTSTRAP_STUDY)
    np.testing.assert_array_equal(repeat.thresholds, bootstrap_study.thresholds)
    np.testing.assert_array_equal(repeat.temperatures, bootstrap_study.temperatures)
    np.testing.assert_array_equal(repeat.biases, bootstrap_study.biases)
    np.testing.assert_array_equal(repeat.test_proba, bootstrap_study.test_proba)
    assert repeat.spread == bootstrap_study.spread
    assert repeat.recommended_threshold == bootstrap_study.recommended_threshold


def test_calibrated_threshold_maps_uncalibrated(study):
    # Temperature scaling is monotone, so the tuned threshold after
    # calibration is the calibrated image of the threshold before.
    mapped = expit(logit(study.thresholds_uncalibrated) / study.temperatures)
    np.testing.assert_allclose(study.thresholds, mapped, rtol=1e-9)


def test_calibrated_median_logit_is_scaled(study):
    frame = study.to_frame()
    for role in ("negative", "positive"):
        before = np.array(frame[f"{role}_logit_median_before"])
        after = np.array(frame[f"{role}_logit_median_after"])
        np.testing.assert_allclose(after, before / study.temperatures, rtol=1e-12)


def test_calibrated_log_loss_matches_sklearn(study):
    for run, proba in zip(study.runs, study.test_proba):
        assert run["log_loss_after"] == pytest.approx(log_loss(study.y_test, proba))


def test_calibration_lowers_test_log_loss(study):
    frame = study.to_frame()
    assert np.mean(frame["log_loss_after"]) < np.mean(frame["log_loss_before"])


def test_spread_ratios_are_finite(study):
    for key, _ in SPREAD_STATISTICS:
        spread = study.spread[key]
        assert math.isfinite(spread["ratio"]), key
        assert all(math.isfinite(end) for end in spread["ratio_interval"]), key


def test_recommended_threshold_inside_interval(study):
    low, high = study.recommended_threshold_interval
    assert 0 <= low <= study.recommended_threshold <= high <= 1


def test_summary_states_verdict(study):
    text = study.summary()
    assert study.verdict in text
    assert "Recommended threshold" in text
    assert "tuned threshold" in text


def test_to_dict_is_json(study):
    content = json.loads(json.dumps(study.to_dict()))
    assert len(content["runs"]) == N_RUNS
    assert content["verdict"] == study.verdict


def test_report_files_written(study, tmp_path):
    files = study.write_report(tmp_path / "out")
    page = files["report"].read_text()
    assert "data:image/png;base64," in page
    assert html.escape(study.verdict) in page
    content = json.loads(files["json"].read_text())
    assert content["recommended_threshold"] == study.recommended_threshold
    for name in ("scores", "thresholds", "reliability"):
        assert files[name].stat().st_size > 1000, name


def test_study_accepts_dataset_with_targets():
    X, y = _tiny_digits()
    result = seed_study(
        _tiny_network(), _DigitsDataset(X, y), n_runs=2, vary=("bootstrap",),
        n_resamples=0, random_state=0,
    )
    assert result.seeds[0] == result.seeds[1]
    assert not np.array_equal(*result.train_indices)
    assert np.isnan(result.threshold_intervals).all()


class _DigitsDataset(torch.utils.data.Dataset):
    def __init__(self, images, labels):
        self.images = images
        self.targets = labels

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, index):
        return self.images[index][np.newaxis], self.targets[index]


class _SeedControlledClassifier(ClassifierMixin, BaseEstimator):
    """Scores column 0 (which separates the classes) for one seed, column 1 otherwise."""

    def __init__(self, separating_seed=None, random_state=None):
        self.separating_seed = separating_seed
        self.random_state = random_state

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def decision_function(self, X):
        if self.random_state == self.separating_seed:
            return 50.0 * (X[:, 0] - 0.5)
        return (1.0 + self.random_state % 7 / 7) * 3.0 * (X[:, 1] - 0.5)


def _separable_data():
    rng = np.random.default_rng(0)
    y = rng.random(600) < 0.3
    X = np.column_stack([y + rng.uniform(-0.3, 0.3, 600), y + rng.normal(0, 0.6, 600)])
    return X, y


def test_study_leaves_out_separable_run():
    X, y = _separable_data()
    first_seed = draw_seeds(0, 6)[2]
    model = _SeedControlledClassifier(separating_seed=first_seed)
    with pytest.warns(CalibrationWarning, match="Run 1: The logits separate"):
        result = seed_study(model, X, y, n_runs=4, n_resamples=20, random_state=0)
    assert result.seeds[0] == first_seed
    assert result.calibration_status.tolist() == ["separable"] + ["interior"] * 3
    assert result.included.tolist() == [False, True, True, True]
    assert "Run 1 is left out of the comparison" in result.summary()


def test_study_scale_only_runs_agree():
    # The runs differ only in the scale of their logits, which the
    # temperature removes exactly.
    X, y = _separable_data()
    model = _SeedControlledClassifier(separating_seed=-1)
    result = seed_study(model, X, y, n_runs=4, n_resamples=20, random_state=0)
    assert result.between_run_test["after"]["p_value"] == 1.0
    assert result.between_run_test["before"]["p_value"] < 1e-6
    assert "temperature scaling removes it" in result.verdict


def test_study_without_two_calibrated_runs():
    X, y = _separable_data()
    seeds = draw_seeds(0, 4)
    model = _SeedControlledClassifier(separating_seed=seeds[2])
    with pytest.warns(CalibrationWarning):
        result = seed_study(model, X, y, n_runs=2, vary=("bootstrap",), random_state=0)
    assert not result.included.any()
    assert math.isnan(result.recommended_threshold)
    assert "cannot be compared" in result.verdict
    assert result.verdict in result.summary()


# Input validation.


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_runs": 1}, "n_runs=1 is invalid"),
        ({"vary": ("seed", "dropout")}, "entries must come from"),
        ({"vary": "seed"}, "pass a tuple"),
        ({"vary": ()}, "at least one is required"),
        ({"calibration": "platt"}, "calibration='platt' is not supported"),
        ({"test_size": 1.5}, "test_size=1.5 is invalid"),
        ({"confidence_level": 0}, "confidence_level=0 is invalid"),
        ({"n_resamples": -1}, "n_resamples=-1 is invalid"),
        ({"n_threads": 0}, "n_threads=0 is invalid"),
        ({"objective": "roc_auc"}, "roc_auc"),
    ],
)
def test_study_rejects_bad_parameters(params, match):
    X, y = _tiny_digits()
    with pytest.raises(ValueError, match=match):
        seed_study(_tiny_network(), X, y, **params)


def test_study_rejects_one_class():
    X, y = _tiny_digits()
    with pytest.raises(ValueError, match="exactly two classes"):
        seed_study(_tiny_network(), X, np.zeros(300, dtype=bool))


def test_study_rejects_too_few_positives():
    X, y = _tiny_digits()
    labels = np.zeros(300, dtype=bool)
    labels[0] = True
    with pytest.raises(ValueError, match="Cannot split 300 samples"):
        seed_study(_tiny_network(), X, labels)


def test_study_rejects_seedless_estimator():
    X, y = _tiny_digits()
    with pytest.raises(ValueError, match="has no random_state parameter"):
        seed_study(_SeedlessClassifier(), X.reshape(300, -1), y)


class _SeedlessClassifier(LogisticRegression):
    def __init__(self, C=1.0):
        super().__init__(C=C)

    def get_params(self, deep=True):
        return {"C": self.C}


def test_study_rejects_mismatched_lengths():
    X, y = _tiny_digits()
    with pytest.raises(ValueError, match="Inconsistent numbers of samples"):
        seed_study(_tiny_network(), X, y[:-1])


# The between-run test on synthetic scores with a known truth.


def _synthetic_scores(seed, shifts, n_samples=300):
    """Scores of runs that share per-image signal and differ by run noise and shifts."""
    rng = np.random.default_rng(seed)
    y01 = (rng.random(n_samples) < 0.3).astype(int)
    signal = rng.normal(loc=2.0 * y01 - 1.0, scale=1.0)
    noise = rng.normal(scale=0.5, size=(len(shifts), n_samples))
    return expit(signal + noise + np.asarray(shifts)[:, np.newaxis]), y01


def test_between_run_test_two_runs_is_paired_t():
    scores, y01 = _synthetic_scores(0, [0.0, 0.1])
    result = between_run_test(scores, y01)
    for name, label in (("negative", 0), ("positive", 1)):
        expected = stats.ttest_rel(scores[0, y01 == label], scores[1, y01 == label])
        assert result[name]["p_value"] == pytest.approx(expected.pvalue, rel=1e-10)


def test_between_run_test_same_distribution():
    p_values = [between_run_test(*_synthetic_scores(seed, [0.0] * 5))["p_value"]
                for seed in range(100)]
    # Under the null hypothesis p is uniform: about 5 of 100 fall below 0.05.
    assert np.mean(np.array(p_values) < 0.05) < 0.12
    assert np.median(p_values) > 0.3


def test_between_run_test_shifted_runs():
    scores, y01 = _synthetic_scores(1, [0.0, 0.1, -0.1, 0.2, 0.0])
    assert between_run_test(scores, y01)["p_value"] < 1e-6


def test_between_run_test_identical_runs():
    scores, y01 = _synthetic_scores(2, [0.0])
    result = between_run_test(np.repeat(scores, 3, axis=0), y01)
    assert result["p_value"] == 1.0


def test_between_run_test_ignores_rounding():
    scores, y01 = _synthetic_scores(5, [0.0])
    rounded = np.vstack([scores, scores * (1 + 1e-15), scores * (1 - 1e-15)])
    assert between_run_test(rounded, y01)["p_value"] == 1.0


def test_between_run_test_reports_noise():
    scores, y01 = _synthetic_scores(3, [0.0, 0.0])
    negatives = scores[:, y01 == 0]
    expected = np.sqrt(np.mean(negatives.var(axis=1, ddof=1)) / negatives.shape[1])
    result = between_run_test(scores, y01)
    assert result["negative"]["standard_error"] == pytest.approx(expected)


# Spread ratios and the pooled threshold.


def test_spread_ratio_matches_numpy():
    before = np.array([0.2, 0.4, 0.3, 0.7])
    after = np.array([0.30, 0.32, 0.31, 0.35])
    spread = spread_ratio(before, after, n_resamples=500, confidence_level=0.9,
                          rng=np.random.default_rng(0))
    assert spread["sd_before"] == pytest.approx(np.std(before, ddof=1))
    assert spread["ratio"] == pytest.approx(np.std(after, ddof=1) / np.std(before, ddof=1))
    low, high = spread["ratio_interval"]
    assert low <= spread["ratio"] <= high


def test_spread_ratio_constant_before_is_nan():
    spread = spread_ratio([0.5, 0.5, 0.5], [0.1, 0.2, 0.3], n_resamples=20,
                          confidence_level=0.95, rng=np.random.default_rng(0))
    assert math.isnan(spread["ratio"])
    assert spread["n_valid_resamples"] == 0


def test_pooled_threshold_of_identical_runs():
    scores, y01 = _synthetic_scores(4, [0.0])
    threshold, interval, score = pooled_threshold(
        y01, np.repeat(scores, 4, axis=0), objective="f1", n_resamples=50,
        confidence_level=0.95, rng=np.random.default_rng(0),
    )
    expected = find_threshold(y01, scores[0], objective="f1")
    assert threshold == expected.threshold
    assert score == pytest.approx(expected.score)
    assert interval[0] <= threshold <= interval[1]


# The verdict sentence.


@pytest.mark.parametrize(
    "p_before, p_after, sd, standard_error, expected",
    [
        (0.001, 0.002, 0.05, 0.01, "tune its threshold on its own calibrated scores"),
        (0.001, 0.002, 0.001, 0.01, "use the recommended threshold for all of them"),
        (0.001, 0.4, 0.001, 0.01, "temperature scaling removes it"),
        (0.3, 0.4, 0.001, 0.01, "a property of the data and the model"),
        (0.3, math.nan, 0.001, 0.01, "Use a larger test split"),
        (0.001, 0.002, 0.05, math.nan, "Calibrate each model you ship and tune"),
    ],
)
def test_verdict_states_action(p_before, p_after, sd, standard_error, expected):
    assert expected in format_verdict(p_before, p_after, 0.05, sd, standard_error)


def test_study_repr_is_short(study):
    text = repr(study)

    assert text.startswith("SeedStudyResult(n_runs=")
    assert "recommended_threshold=" in text
    assert len(text) < 600
