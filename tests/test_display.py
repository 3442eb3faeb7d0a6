"""Score-distribution, reliability and threshold-curve displays, drawn with Agg."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import sklearn.metrics  # noqa: E402
from scipy import stats  # noqa: E402
from scipy.special import expit, softmax  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.linear_model import LinearRegression, LogisticRegression  # noqa: E402

from skcal.display import (  # noqa: E402
    ReliabilityDisplay,
    ScoreDistributionDisplay,
    ThresholdCurveDisplay,
    plot_score_distributions,
)
from skcal.metrics import expected_calibration_error  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def scores():
    rng = np.random.default_rng(0)
    z = rng.normal(scale=2.0, size=600)
    y_true = (rng.uniform(size=600) < expit(z)).astype(int)
    return y_true, expit(2.5 * z), expit(z)


@pytest.fixture
def fitted_model():
    X, y = make_classification(n_samples=300, n_features=5, random_state=0)
    return LogisticRegression().fit(X, y), X, y


def test_scores_display_artists(scores):
    y_true, y_prob, _ = scores
    display = ScoreDistributionDisplay.from_predictions(y_true, y_prob, threshold=0.3, bins=20, name="net")
    assert len(display.negative_hist_.patches) == 20
    assert len(display.positive_hist_.patches) == 20
    assert display.negative_hist_.patches[0].get_facecolor()[:3] == pytest.approx(matplotlib.colors.to_rgb("tab:red"))
    assert display.positive_hist_.patches[0].get_facecolor()[:3] == pytest.approx(matplotlib.colors.to_rgb("tab:blue"))
    assert display.threshold_line_.get_xdata()[0] == pytest.approx(0.3)
    legend_texts = [text.get_text() for text in display.ax_.get_legend().get_texts()]
    assert "threshold = 0.3" in legend_texts
    assert display.ax_.get_title() == "net: scores by true class"
    assert display.figure_ is display.ax_.figure


def test_scores_display_counts_samples(scores):
    y_true, y_prob, _ = scores
    display = ScoreDistributionDisplay.from_predictions(y_true, y_prob)
    negative_total = sum(patch.get_height() for patch in display.negative_hist_.patches)
    assert negative_total == np.sum(y_true == 0)


def test_scores_display_density_integrates_to_one(scores):
    y_true, y_prob, _ = scores
    display = ScoreDistributionDisplay.from_predictions(y_true, y_prob, stat="density")
    area = sum(patch.get_height() * patch.get_width() for patch in display.positive_hist_.patches)
    assert area == pytest.approx(1.0)
    assert display.ax_.get_ylabel() == "density"


def test_scores_display_logit_scale(scores):
    y_true, y_prob, _ = scores
    display = ScoreDistributionDisplay.from_predictions(y_true, y_prob, threshold=0.8, scale="logit")
    assert display.threshold_line_.get_xdata()[0] == pytest.approx(np.log(0.8 / 0.2))
    assert display.ax_.get_xlabel().startswith("logit")
    assert display.ax_.get_xlim()[0] < -2


def test_scores_display_from_estimator(fitted_model):
    model, X, y = fitted_model
    display = ScoreDistributionDisplay.from_estimator(model, X, y, threshold=0.5)
    assert display.name == "LogisticRegression"
    assert display.positive_scores.size == np.sum(y == 1)


def test_scores_grid_side_by_side(scores):
    y_true, before, after = scores
    figure, displays = plot_score_distributions(
        y_true, {"before": before, "after": after, "third": after}, threshold={"after": 0.4}, ncols=2
    )
    visible = [ax for ax in figure.axes if ax.get_visible()]
    assert len(visible) == 3
    assert displays["before"].threshold_line_ is None
    assert displays["after"].threshold_line_.get_xdata()[0] == pytest.approx(0.4)
    assert displays["before"].ax_.get_shared_x_axes().joined(displays["before"].ax_, displays["after"].ax_)


def test_scores_grid_rejects_unknown_threshold(scores):
    y_true, before, _ = scores
    with pytest.raises(ValueError, match="not in scores"):
        plot_score_distributions(y_true, {"before": before}, threshold={"after": 0.4})


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"scale": "log"}, "scale='log'"), ({"stat": "percent"}, "stat='percent'"), ({"bins": 0}, "bins=0")],
)
def test_scores_display_invalid_options(scores, kwargs, match):
    y_true, y_prob, _ = scores
    with pytest.raises(ValueError, match=match):
        ScoreDistributionDisplay.from_predictions(y_true, y_prob, **kwargs)


def test_reliability_display_artists(scores):
    y_true, y_prob, _ = scores
    display = ReliabilityDisplay.from_predictions(y_true, y_prob, n_bins=10, name="net")
    ece = expected_calibration_error(y_true, y_prob, n_bins=10)
    assert display.errorbar_.get_label() == f"net (ECE = {ece:.3f})"
    assert display.line_.get_xdata().size == display.bin_counts.size
    assert display.bin_counts.sum() == y_true.size
    assert display.hist_ax_ is not None
    assert len(display.hist_patches_) == 1
    assert display.ax_.figure is display.hist_ax_.figure
    assert sum(line.get_label() == "perfectly calibrated" for line in display.ax_.lines) == 1


def test_reliability_clopper_pearson_bounds(scores):
    y_true, y_prob, _ = scores
    display = ReliabilityDisplay.from_predictions(y_true, y_prob, n_bins=5, confidence_level=0.9)
    successes = np.round(display.observed_frequency * display.bin_counts)
    expected = [
        stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=0.9, method="exact")
        for k, n in zip(successes, display.bin_counts)
    ]
    np.testing.assert_allclose(display.interval_low, [ci.low for ci in expected], atol=1e-10)
    np.testing.assert_allclose(display.interval_high, [ci.high for ci in expected], atol=1e-10)


def test_reliability_bootstrap_intervals(scores):
    y_true, y_prob, _ = scores
    display = ReliabilityDisplay.from_predictions(
        y_true, y_prob, n_bins=5, interval="bootstrap", n_resamples=100, random_state=0
    )
    assert np.all(display.interval_low <= display.observed_frequency + 1e-12)
    assert np.all(display.interval_high >= display.observed_frequency - 1e-12)
    assert np.all(display.interval_high > display.interval_low)


def test_reliability_several_curves_one_axes(scores):
    y_true, before, after = scores
    first = ReliabilityDisplay.from_predictions(y_true, before, name="before")
    second = ReliabilityDisplay.from_predictions(y_true, after, name="after", ax=first.ax_)
    assert second.ax_ is first.ax_
    assert second.hist_ax_ is first.hist_ax_
    assert len(first.hist_ax_.patches) == 2
    labels = [text.get_text() for text in first.ax_.get_legend().get_texts()]
    assert labels[0] == "perfectly calibrated"
    assert labels[1].startswith("before (ECE = ")
    assert labels[2].startswith("after (ECE = ")
    assert sum(line.get_label() == "perfectly calibrated" for line in first.ax_.lines) == 1


def test_reliability_user_axes_gets_histogram(scores):
    y_true, y_prob, _ = scores
    _, ax = plt.subplots()
    display = ReliabilityDisplay.from_predictions(y_true, y_prob, ax=ax, interval=None)
    assert display.hist_ax_ is not None
    assert display.errorbar_.has_yerr is False
    assert len(display.figure_.axes) == 2


def test_reliability_top_label(scores):
    rng = np.random.default_rng(1)
    y_prob = softmax(rng.normal(scale=2.0, size=(300, 3)), axis=1)
    y_true = rng.integers(0, 3, size=300)
    display = ReliabilityDisplay.from_predictions(y_true, y_prob, kind="top_label", hist=False)
    assert display.hist_ax_ is None
    assert display.ax_.get_ylabel() == "accuracy"


def test_reliability_from_estimator(fitted_model):
    model, X, y = fitted_model
    display = ReliabilityDisplay.from_estimator(model, X, y, n_bins=5)
    assert display.errorbar_.get_label().startswith("LogisticRegression (ECE = ")


def test_reliability_invalid_interval(scores):
    y_true, y_prob, _ = scores
    with pytest.raises(ValueError, match="interval='wilson'"):
        ReliabilityDisplay.from_predictions(y_true, y_prob, interval="wilson")


@pytest.mark.parametrize("metric", ["accuracy", "balanced_accuracy", "f1", "precision", "recall", "specificity"])
def test_threshold_named_metrics_match_sklearn(scores, metric):
    y_true, y_prob, _ = scores
    thresholds = np.array([0.0, 0.2, 0.5, 0.77, 1.0])
    display = ThresholdCurveDisplay.from_predictions(y_true, y_prob, metric=metric, thresholds=thresholds)
    reference = {
        "accuracy": sklearn.metrics.accuracy_score,
        "balanced_accuracy": sklearn.metrics.balanced_accuracy_score,
        "f1": lambda y, p: sklearn.metrics.f1_score(y, p, zero_division=0),
        "precision": lambda y, p: sklearn.metrics.precision_score(y, p, zero_division=0),
        "recall": sklearn.metrics.recall_score,
        "specificity": lambda y, p: sklearn.metrics.recall_score(y, p, pos_label=0),
    }[metric]
    expected = [reference(y_true, (y_prob >= t).astype(int)) for t in thresholds]
    np.testing.assert_allclose(display.scores, expected)


def test_threshold_marks_chosen_threshold(scores):
    y_true, y_prob, _ = scores
    display = ThresholdCurveDisplay.from_predictions(y_true, y_prob, metric="f1", threshold=0.35, name="net")
    expected = sklearn.metrics.f1_score(y_true, (y_prob >= 0.35).astype(int))
    assert display.threshold_score == pytest.approx(expected)
    assert display.threshold_line_.get_xdata()[0] == pytest.approx(0.35)
    assert display.threshold_marker_.get_ydata()[0] == pytest.approx(expected)
    assert display.line_.get_label() == "net: f1"
    assert display.line_.get_xdata().size == 101


def test_threshold_infinite_drawn_at_edge(scores):
    y_true, y_prob, _ = scores
    display = ThresholdCurveDisplay.from_predictions(y_true, y_prob, metric="recall", threshold=np.inf)
    assert display.threshold_score == 0.0
    assert display.threshold_line_.get_xdata()[0] == 1.0
    assert "threshold = inf" in display.threshold_line_.get_label()

    scores_display = ScoreDistributionDisplay.from_predictions(y_true, y_prob, threshold=np.inf, scale="logit")
    assert np.isfinite(scores_display.threshold_line_.get_xdata()[0])


def test_threshold_callable_metric(scores):
    y_true, y_prob, _ = scores

    def youden(y, y_pred):
        return sklearn.metrics.recall_score(y, y_pred) + sklearn.metrics.recall_score(y, y_pred, pos_label=0) - 1

    display = ThresholdCurveDisplay.from_predictions(y_true, y_prob, metric=youden, thresholds=11)
    assert display.metric_name == "youden"
    assert display.scores[5] == pytest.approx(youden(y_true, (y_prob >= 0.5).astype(int)))


def test_threshold_several_curves_one_axes(scores, fitted_model):
    y_true, before, after = scores
    first = ThresholdCurveDisplay.from_predictions(y_true, before, name="before")
    ThresholdCurveDisplay.from_predictions(y_true, after, name="after", ax=first.ax_)
    assert len([line for line in first.ax_.lines if line.get_label().endswith(": f1")]) == 2

    model, X, y = fitted_model
    display = ThresholdCurveDisplay.from_estimator(model, X, y, metric="recall")
    assert display.line_.get_label() == "LogisticRegression: recall"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"metric": "auc"}, "metric='auc'"),
        ({"thresholds": 1}, "thresholds=1"),
        ({"thresholds": [0.2, 1.5]}, "thresholds must be finite"),
        ({"threshold": np.nan}, "threshold is NaN"),
    ],
)
def test_threshold_invalid_options(scores, kwargs, match):
    y_true, y_prob, _ = scores
    with pytest.raises(ValueError, match=match):
        ThresholdCurveDisplay.from_predictions(y_true, y_prob, **kwargs)


def test_from_estimator_rejects_regressor(fitted_model):
    _, X, y = fitted_model
    regressor = LinearRegression().fit(X, y)
    with pytest.raises(ValueError, match="binary classifier"):
        ReliabilityDisplay.from_estimator(regressor, X, y)


def test_from_estimator_rejects_unknown_pos_label(fitted_model):
    model, X, y = fitted_model
    with pytest.raises(ValueError, match="pos_label=7"):
        ScoreDistributionDisplay.from_estimator(model, X, y, pos_label=7)
