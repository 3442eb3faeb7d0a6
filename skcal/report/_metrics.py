"""The metrics of a report, each with its bootstrap interval."""

import functools

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

N_BINS = 15

#: Metrics of the report table: (key, heading, definition).
METRIC_ROWS = (
    ("accuracy", "accuracy at threshold", "share of correct predictions, positive when P(positive) >= threshold"),
    ("ece", "ECE", f"expected calibration error of P(positive), {N_BINS} equal-width bins"),
    ("mce", "MCE", f"maximum calibration error of P(positive), {N_BINS} equal-width bins"),
    ("smooth_ece", "smooth ECE", "kernel-smoothed ECE of Blasiok and Nakkiran (2023)"),
    ("brier", "Brier score", "mean squared error of P(positive)"),
    ("log_loss", "log loss", "mean negative log-likelihood, in nats"),
)


def column_metrics(y_true, y01, p_pos, threshold, *, pos_label, n_resamples, random_state):
    """Return the report's metrics of one score column, each with its interval.

    The metrics take the 0/1 target ``y01``. The score statistics take the
    original labels ``y_true`` so that they name the classes. Every metric
    uses the same ``random_state``, so all metrics and all columns are
    computed on the same resamples.
    """
    options = {"labels": [0, 1]}
    metrics = {
        "accuracy": functools.partial(accuracy_at_threshold, threshold=threshold, **options),
        "ece": functools.partial(expected_calibration_error, n_bins=N_BINS, **options),
        "mce": functools.partial(maximum_calibration_error, n_bins=N_BINS, **options),
        "smooth_ece": functools.partial(smooth_expected_calibration_error, **options),
        "brier": functools.partial(brier_score_loss, **options),
        "log_loss": functools.partial(log_loss, **options),
    }
    results = {}
    for key, metric in metrics.items():
        result = bootstrap(metric, y01, p_pos, n_resamples=n_resamples, random_state=random_state)
        results[key] = {"estimate": result.estimate, "low": result.low, "high": result.high}
    return {
        "threshold": threshold,
        "metrics": results,
        "score_distribution": score_distribution_stats(
            y_true, p_pos, threshold=threshold, pos_label=pos_label
        ),
    }
