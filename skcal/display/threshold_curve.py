"""A threshold-dependent metric plotted against the decision threshold."""

import numpy as np

from skcal.display._common import axes_and_figure, positive_scores_from_estimator
from skcal.metrics._inputs import binary_target, check_threshold


def _confusion_counts(y01, p_pos, thresholds):
    """Return (tp, fp, tn, fn) per threshold, predicting positive when ``p >= t``."""
    positive_scores = np.sort(p_pos[y01 == 1])
    negative_scores = np.sort(p_pos[y01 == 0])
    tp = positive_scores.size - np.searchsorted(positive_scores, thresholds, side="left")
    fp = negative_scores.size - np.searchsorted(negative_scores, thresholds, side="left")
    return tp, fp, negative_scores.size - fp, positive_scores.size - tp


class ThresholdCurveDisplay:
    """A metric of the hard predictions against the decision threshold on P(positive).

    Shows how sensitive a metric is to the threshold and where the chosen
    threshold sits. Call :meth:`plot` or ``from_*`` with the same ``ax`` to
    compare several models or metrics.

    Parameters
    ----------
    thresholds : ndarray of shape (n_thresholds,)
    scores : ndarray of shape (n_thresholds,)
        The metric at each threshold.
    metric_name : str
    threshold : float, default=None
        The chosen threshold to mark, or None.
    threshold_score : float, default=None
        The metric at ``threshold``.
    name : str, default=None
        Name of the model, shown in the legend.

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    line_ : matplotlib Line2D
        The curve.
    threshold_line_ : matplotlib Line2D or None
        The vertical line at the chosen threshold.
    threshold_marker_ : matplotlib Line2D or None
        The point at (threshold, threshold_score).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skcal.display import ThresholdCurveDisplay
    >>> display = ThresholdCurveDisplay.from_predictions(
    ...     [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], metric="accuracy", threshold=0.3)
    >>> display.threshold_score
    0.75
    """

    def __init__(self, *, thresholds, scores, metric_name, threshold=None, threshold_score=None, name=None):
        self.thresholds = thresholds
        self.scores = scores
        self.metric_name = metric_name
        self.threshold = threshold
        self.threshold_score = threshold_score
        self.name = name

    def plot(self, ax=None, *, name=None, **kwargs):
        """Draw the curve and mark the chosen threshold.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure is created when None.
        name : str, default=None
            Overrides the model name given at construction.
        **kwargs
            Passed to :meth:`matplotlib.axes.Axes.plot` for the curve.

        Returns
        -------
        ThresholdCurveDisplay
        """
        self.ax_, self.figure_ = axes_and_figure(ax)
        name = self.name if name is None else name

        label = self.metric_name if name is None else f"{name}: {self.metric_name}"
        (self.line_,) = self.ax_.plot(self.thresholds, self.scores, label=label, **kwargs)
        self.threshold_line_ = self.threshold_marker_ = None
        if self.threshold is not None:
            color = self.line_.get_color()
            # A threshold outside [0, 1] (inf, say) is drawn at the nearest end.
            position = float(np.clip(self.threshold, 0.0, 1.0))
            self.threshold_line_ = self.ax_.axvline(
                position,
                color=color,
                linestyle="--",
                label=f"threshold = {self.threshold:.3g} ({self.metric_name} = {self.threshold_score:.3f})",
            )
            (self.threshold_marker_,) = self.ax_.plot(
                [position], [self.threshold_score], marker="o", color=color, linestyle="none"
            )

        self.ax_.set_xlabel("decision threshold on P(positive)")
        self.ax_.set_ylabel(self.metric_name)
        self.ax_.set_xlim(0.0, 1.0)
        self.ax_.legend(loc="best", fontsize="small")
        return self

    @classmethod
    def from_predictions(
        cls,
        y_true,
        y_prob,
        *,
        metric="f1",
        thresholds=101,
        threshold=None,
        pos_label=None,
        name=None,
        ax=None,
        **kwargs,
    ):
        """Plot a metric against the threshold from labels and predicted probabilities.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            True labels of a binary problem.
        y_prob : array-like of shape (n_samples,) or (n_samples, 2)
            Probability of the positive class, or the two-column matrix.
        metric : str, Objective or callable, default="f1"
            A threshold objective that :func:`skcal.objectives.resolve_objective`
            accepts (``"accuracy"``, ``"balanced_accuracy"``, ``"f1"``,
            ``"precision"``, ``"recall"``, ``"specificity"``, ``"youden"``,
            an objective from :func:`skcal.cost_objective`, ...), or a callable
            ``metric(y_true, y_pred)`` that receives 0/1 arrays, with 1 for
            the positive class. Undefined precision or F1 (no predicted
            positives) count as 0. A sample is predicted positive when
            ``y_prob >= threshold``.
        thresholds : int or array-like, default=101
            Number of evenly spaced thresholds on [0, 1], or the thresholds.
        threshold : float, default=None
            The chosen threshold to mark.
        pos_label : int, float, bool or str, default=None
            Positive class; ``None`` takes the larger label.
        name : str, default=None
            Name of the model, shown in the legend.
        ax : matplotlib Axes, default=None
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        ThresholdCurveDisplay
        """
        metric_name, evaluate = _resolve_metric(metric)
        y01, p_pos, _ = binary_target(y_true, y_prob, pos_label=pos_label)
        grid = _threshold_grid(thresholds)

        threshold_score = None
        if threshold is not None:
            threshold = check_threshold(threshold)
            threshold_score = float(evaluate(y01, p_pos, np.array([threshold]))[0])
        display = cls(
            thresholds=grid,
            scores=evaluate(y01, p_pos, grid),
            metric_name=metric_name,
            threshold=threshold,
            threshold_score=threshold_score,
            name=name,
        )
        return display.plot(ax, **kwargs)

    @classmethod
    def from_estimator(cls, estimator, X, y, *, pos_label=None, name=None, **kwargs):
        """Plot a metric against the threshold for a fitted binary classifier on ``X``.

        The scores are ``estimator.predict_proba(X)`` in the column of
        ``pos_label``; ``name`` defaults to the estimator's class name. Other
        keyword arguments are those of :meth:`from_predictions`.

        Returns
        -------
        ThresholdCurveDisplay
        """
        y_prob, pos_label, default_name = positive_scores_from_estimator(estimator, X, pos_label)
        return cls.from_predictions(
            y, y_prob, pos_label=pos_label, name=default_name if name is None else name, **kwargs
        )


def _resolve_metric(metric):
    """Return the metric's name and a function of (y01, p_pos, thresholds)."""
    from skcal.objectives import Objective, resolve_objective

    if callable(metric) and not isinstance(metric, Objective):
        def evaluate(y01, p_pos, thresholds):
            return np.array([float(metric(y01, (p_pos >= t).astype(np.int64))) for t in thresholds])

        return getattr(metric, "__name__", "metric"), evaluate

    try:
        objective = resolve_objective(metric)
    except ValueError as err:
        raise ValueError(
            f"metric={metric!r} is not supported: {err} Or pass a callable "
            "metric(y_true, y_pred)."
        ) from err

    def evaluate(y01, p_pos, thresholds):
        return objective(*_confusion_counts(y01, p_pos, thresholds))

    return objective.name, evaluate


def _threshold_grid(thresholds):
    if np.isscalar(thresholds):
        if isinstance(thresholds, bool) or not isinstance(thresholds, (int, np.integer)) or thresholds < 2:
            raise ValueError(
                f"thresholds={thresholds!r} is invalid. Pass an int of at least 2 "
                "or an array of thresholds in [0, 1]."
            )
        return np.linspace(0.0, 1.0, int(thresholds))

    grid = np.sort(np.asarray(thresholds, dtype=np.float64).ravel())
    if grid.size == 0 or not np.all(np.isfinite(grid)) or grid[0] < 0 or grid[-1] > 1:
        raise ValueError(
            "thresholds must be finite values in [0, 1]. Pass for example np.linspace(0, 1, 101)."
        )
    return grid
