"""The three figures of a report, drawn without pyplot so no window ever opens."""

from skcal.display import ReliabilityDisplay, ThresholdCurveDisplay, plot_score_distributions
from skcal.report._metrics import N_BINS

DPI = 100


def save_figures(out_dir, y_true, scores, thresholds, pos_label, objective="accuracy"):
    """Write scores.png, reliability.png and threshold.png and return their paths by key."""
    from matplotlib.figure import Figure

    paths = {key: out_dir / f"{key}.png" for key in ("scores", "reliability", "threshold")}

    figure = Figure(figsize=(4.5 * len(scores), 3.6), layout="constrained")
    plot_score_distributions(
        y_true, scores, threshold=thresholds, pos_label=pos_label, figure=figure
    )
    figure.savefig(paths["scores"], dpi=DPI)

    figure = Figure(figsize=(6.5, 6.5))
    ax = figure.add_subplot()
    for name, y_prob in scores.items():
        ReliabilityDisplay.from_predictions(
            y_true, y_prob, n_bins=N_BINS, pos_label=pos_label, name=name, ax=ax
        )
    ax.set_title(f"Reliability diagram ({N_BINS} equal-width bins, 95% Clopper-Pearson intervals)")
    figure.savefig(paths["reliability"], dpi=DPI, bbox_inches="tight")

    figure = Figure(figsize=(6.5, 4.5), layout="constrained")
    ax = figure.add_subplot()
    for name, y_prob in scores.items():
        display = ThresholdCurveDisplay.from_predictions(
            y_true,
            y_prob,
            metric=objective,
            threshold=thresholds[name],
            pos_label=pos_label,
            name=name,
            ax=ax,
        )
    ax.set_title(f"{display.metric_name} against the decision threshold")
    figure.savefig(paths["threshold"], dpi=DPI)
    return paths
