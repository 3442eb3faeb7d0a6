"""Figures of a seed study: score distributions per run, thresholds, reliability curves.

Each function returns a matplotlib ``Figure``; matplotlib is imported inside
the functions, so importing skcal does not need it.
"""

# License: BSD-3-Clause

import numpy as np

__all__ = ["plot_reliability", "plot_score_grid", "plot_thresholds"]

# Colours of the negatives and positives in every figure, and of the two stages.
NEGATIVE_COLOR = "tab:red"
POSITIVE_COLOR = "tab:blue"
BEFORE_COLOR = "tab:orange"
AFTER_COLOR = "tab:green"


def plot_score_grid(result):
    """Draw the test-split score histograms of every run, before and after calibration.

    Rows are runs and columns are the uncalibrated and the calibrated
    P(positive), as densities per class so that a rare class stays visible.
    The dashed line is the run's tuned threshold on that scale.
    """
    from matplotlib.figure import Figure

    from skcal.display import ScoreDistributionDisplay

    n_runs = result.n_runs
    figure = Figure(figsize=(9, 1.9 * n_runs + 0.6), layout="constrained")
    axes = np.atleast_2d(figure.subplots(n_runs, 2, sharex=True))
    columns = (
        ("before", result.test_proba_uncalibrated, result.thresholds_uncalibrated),
        ("after", result.test_proba, result.thresholds),
    )
    for run in range(n_runs):
        for column, (stage, proba, thresholds) in enumerate(columns):
            ax = axes[run, column]
            ScoreDistributionDisplay.from_predictions(
                result.y_test, proba[run], threshold=thresholds[run], ax=ax,
                stat="density", bins=np.linspace(0.0, 1.0, 31),
            )
            ax.set_title(_score_title(result, run, stage, thresholds[run]), fontsize=9)
            if run > 0:
                ax.get_legend().remove()
            if run < n_runs - 1:
                ax.set_xlabel("")
    figure.suptitle(
        "Test-split P(positive) per true class; dashed: the run's tuned threshold"
    )
    return figure


def _score_title(result, run, stage, threshold):
    if stage == "before":
        text = f"run {run + 1} (seed {result.seeds[run]}): uncalibrated"
    else:
        text = f"run {run + 1}: calibrated, T = {result.temperatures[run]:.3g}"
        if result.biases[run] != 0:
            text += f", b = {result.biases[run]:.3g}"
    return f"{text}; threshold {threshold:.3g}"


def plot_thresholds(result):
    """Draw each run's tuned threshold with its interval, before and after calibration.

    The horizontal line and band are the recommended threshold, tuned on the
    pooled calibrated scores of all runs, and its interval.
    """
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4), layout="constrained")
    ax = figure.subplots()
    runs = np.arange(1, result.n_runs + 1)
    for offset, label, values, intervals, color in (
        (-0.1, "uncalibrated", result.thresholds_uncalibrated,
         result.threshold_intervals_uncalibrated, BEFORE_COLOR),
        (0.1, "calibrated", result.thresholds, result.threshold_intervals, AFTER_COLOR),
    ):
        errors = _error_bars(values, intervals)
        ax.errorbar(runs + offset, values, yerr=errors, fmt="o", capsize=3,
                    color=color, label=f"{label} (per run)")

    low, high = result.recommended_threshold_interval
    ax.axhline(result.recommended_threshold, color="black", linewidth=1,
               label="recommended (pooled, calibrated)")
    if np.isfinite(low) and np.isfinite(high):
        ax.axhspan(low, high, color="black", alpha=0.1)
    ax.set_xticks(runs)
    ax.set_xlabel("run")
    ax.set_ylabel("threshold on P(positive)")
    level = f"{100 * result.info['confidence_level']:g}%"
    ax.set_title(f"Tuned thresholds with {level} bootstrap intervals")
    ax.legend(fontsize=8)
    return figure


def _error_bars(values, intervals):
    # Without resamples the intervals are NaN; draw the points without bars.
    below = np.nan_to_num(values - intervals[:, 0], nan=0.0)
    above = np.nan_to_num(intervals[:, 1] - values, nan=0.0)
    return np.vstack([np.maximum(below, 0.0), np.maximum(above, 0.0)])


def plot_reliability(result):
    """Draw the reliability curves of all runs on one axis, after and before calibration.

    Bins without samples have no point; per-bin intervals are left out so
    that the curves of many runs stay readable.
    """
    from matplotlib.figure import Figure

    from skcal.display import ReliabilityDisplay

    figure = Figure(figsize=(10, 4.6), layout="constrained")
    axes = figure.subplots(1, 2, sharey=True)
    for ax, stage, proba in (
        (axes[0], "calibrated", result.test_proba),
        (axes[1], "uncalibrated", result.test_proba_uncalibrated),
    ):
        for run in range(result.n_runs):
            ReliabilityDisplay.from_predictions(
                result.y_test, proba[run], n_bins=10, interval=None,
                name=f"run {run + 1}", ax=ax, hist=False,
            )
        ax.set_title(f"Test split, {stage} (10 equal-width bins)")
    return figure
