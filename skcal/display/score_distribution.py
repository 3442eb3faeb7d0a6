"""Histograms of a binary model's P(positive), one per true class."""

import numpy as np

from skcal.display._common import (
    axes_and_figure,
    format_label,
    import_pyplot,
    positive_scores_from_estimator,
)
from skcal.metrics._inputs import binary_target, check_option, check_threshold
from skcal.metrics._logit import clipped_logit

SCALES = ("probability", "logit")
STATS = ("count", "density")
NEGATIVE_COLOR = "tab:red"
POSITIVE_COLOR = "tab:blue"


class ScoreDistributionDisplay:
    """Histograms of P(positive) for the true negatives (red) and positives (blue).

    A well-separated, well-calibrated model puts the red mass near 0 and the
    blue mass near 1; a skewed or shifted distribution shows a model whose
    probabilities or default threshold should not be trusted. Use
    :meth:`from_estimator` or :meth:`from_predictions` to create one, and
    :func:`plot_score_distributions` to draw several models side by side.

    Parameters
    ----------
    negative_scores : ndarray of shape (n_negative,)
        P(positive) of the samples whose true class is negative.
    positive_scores : ndarray of shape (n_positive,)
        P(positive) of the samples whose true class is positive.
    threshold : float, default=None
        Decision threshold to mark, or None.
    name : str, default=None
        Name of the model, used in the title.
    pos_label, neg_label : int, float, bool or str, default=None
        The positive and negative labels, used in the legend.

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    negative_hist_, positive_hist_ : matplotlib BarContainer
        The two histograms.
    threshold_line_ : matplotlib Line2D or None
        The vertical threshold line.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skcal.display import ScoreDistributionDisplay
    >>> display = ScoreDistributionDisplay.from_predictions(
    ...     [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], threshold=0.5)
    >>> len(display.ax_.patches)
    60
    """

    def __init__(
        self,
        *,
        negative_scores,
        positive_scores,
        threshold=None,
        name=None,
        pos_label=None,
        neg_label=None,
    ):
        self.negative_scores = negative_scores
        self.positive_scores = positive_scores
        self.threshold = threshold
        self.name = name
        self.pos_label = pos_label
        self.neg_label = neg_label

    def plot(self, ax=None, *, scale="probability", stat="count", bins=30, name=None, title=None):
        """Draw the two histograms and the threshold on ``ax``.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure is created when None.
        scale : {"probability", "logit"}, default="probability"
            Horizontal axis: P(positive) on [0, 1], or its logit
            ``log(p / (1 - p))`` with ``p`` clipped to ``[2**-53, 1 - 2**-53]``.
        stat : {"count", "density"}, default="count"
            Bar heights: sample counts, or a density that integrates to 1 per
            class, which compares classes of very different sizes.
        bins : int or array-like, default=30
            Number of bins, or the bin edges on the chosen scale.
        name : str, default=None
            Overrides the model name given at construction.
        title : str, default=None
            Axes title; default ``"<name>: scores by true class"``.

        Returns
        -------
        ScoreDistributionDisplay
        """
        check_option(scale, name="scale", allowed=SCALES)
        check_option(stat, name="stat", allowed=STATS)
        self.ax_, self.figure_ = axes_and_figure(ax)
        name = self.name if name is None else name

        negative, positive = self.negative_scores, self.positive_scores
        if scale == "logit":
            negative, positive = clipped_logit(negative), clipped_logit(positive)
        edges = _bin_edges(bins, scale, negative, positive)
        density = stat == "density"

        self.negative_hist_ = self._draw_class(negative, edges, density, NEGATIVE_COLOR, self.neg_label)
        self.positive_hist_ = self._draw_class(positive, edges, density, POSITIVE_COLOR, self.pos_label)
        self.threshold_line_ = self._draw_threshold(scale)

        positive_name = format_label(self.pos_label)
        x_label = f"P(y = {positive_name})"
        self.ax_.set_xlabel(f"logit {x_label}" if scale == "logit" else x_label)
        self.ax_.set_ylabel(stat)
        default_title = "scores by true class" if name is None else f"{name}: scores by true class"
        self.ax_.set_title(default_title if title is None else title)
        self.ax_.legend(loc="best", fontsize="small")
        return self

    def _draw_class(self, values, edges, density, color, label):
        _, _, bars = self.ax_.hist(
            values,
            bins=edges,
            density=density,
            color=color,
            alpha=0.5,
            label=f"true class {format_label(label)} (n = {values.shape[0]})",
        )
        return bars

    def _draw_threshold(self, scale):
        if self.threshold is None:
            return None
        # A threshold outside [0, 1] (inf, say) is drawn at the nearest end.
        position = float(np.clip(self.threshold, 0.0, 1.0))
        if scale == "logit":
            position = clipped_logit(position)
        return self.ax_.axvline(
            float(position),
            color="black",
            linestyle="--",
            label=f"threshold = {self.threshold:.3g}",
        )

    @classmethod
    def from_predictions(
        cls,
        y_true,
        y_prob,
        *,
        threshold=None,
        pos_label=None,
        name=None,
        ax=None,
        scale="probability",
        stat="count",
        bins=30,
    ):
        """Plot the score distributions from true labels and predicted probabilities.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            True labels of a binary problem.
        y_prob : array-like of shape (n_samples,) or (n_samples, 2)
            Probability of the positive class, or the two-column matrix.
        threshold : float, default=None
            Decision threshold to mark.
        pos_label : int, float, bool or str, default=None
            Positive class; ``None`` takes the larger label.
        name : str, default=None
            Name of the model, used in the title.
        ax : matplotlib Axes, default=None
        scale, stat, bins
            See :meth:`plot`.

        Returns
        -------
        ScoreDistributionDisplay
        """
        display = _display_from_scores(y_true, y_prob, threshold, pos_label, name)
        return display.plot(ax, scale=scale, stat=stat, bins=bins)

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        y,
        *,
        threshold=None,
        pos_label=None,
        name=None,
        ax=None,
        scale="probability",
        stat="count",
        bins=30,
    ):
        """Plot the score distributions of a fitted binary classifier on ``X``.

        The scores are ``estimator.predict_proba(X)`` in the column of
        ``pos_label``. The other parameters are those of
        :meth:`from_predictions`; ``name`` defaults to the estimator's class
        name.

        Returns
        -------
        ScoreDistributionDisplay
        """
        y_prob, pos_label, default_name = positive_scores_from_estimator(estimator, X, pos_label)
        return cls.from_predictions(
            y,
            y_prob,
            threshold=threshold,
            pos_label=pos_label,
            name=default_name if name is None else name,
            ax=ax,
            scale=scale,
            stat=stat,
            bins=bins,
        )


def plot_score_distributions(
    y_true,
    scores,
    *,
    threshold=None,
    pos_label=None,
    scale="probability",
    stat="count",
    bins=30,
    ncols=None,
    figsize=None,
    figure=None,
):
    """Draw one :class:`ScoreDistributionDisplay` per model in a grid sharing the x-axis.

    Use it to compare a model before and after calibration, or several
    training runs.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels of a binary problem, shared by all models.
    scores : dict of str to array-like of shape (n_samples,)
        P(positive) per model, in the order to draw them.
    threshold : float or dict of str to float, default=None
        One threshold for all models, or one per model name.
    pos_label : int, float, bool or str, default=None
        Positive class; ``None`` takes the larger label.
    scale, stat : str
        See :meth:`ScoreDistributionDisplay.plot`.
    bins : int or array-like, default=30
        Number of bins or edges, the same for every model.
    ncols : int, default=None
        Axes per row; default all models in one row.
    figsize : tuple of float, default=None
        Figure size in inches; default 4.5 by 3.5 per axes. Ignored when
        ``figure`` is given.
    figure : matplotlib Figure, default=None
        Empty figure to draw in; when None, a new one is created with
        ``matplotlib.pyplot``.

    Returns
    -------
    figure : matplotlib Figure
    displays : dict of str to ScoreDistributionDisplay

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skcal.display import plot_score_distributions
    >>> figure, displays = plot_score_distributions(
    ...     [0, 0, 1, 1], {"before": [0.3, 0.6, 0.7, 0.9], "after": [0.1, 0.4, 0.6, 0.8]})
    >>> len(figure.axes)
    2
    """
    if not isinstance(scores, dict) or not scores:
        raise ValueError(
            "scores must be a non-empty dict mapping model names to P(positive) arrays, "
            f"got {type(scores).__name__}."
        )
    check_option(scale, name="scale", allowed=SCALES)
    thresholds = _thresholds_per_model(threshold, scores)
    displays = {
        name: _display_from_scores(y_true, y_prob, thresholds[name], pos_label, name)
        for name, y_prob in scores.items()
    }
    edges = _shared_edges(bins, scale, displays.values())

    ncols = len(scores) if ncols is None else max(1, min(int(ncols), len(scores)))
    nrows = int(np.ceil(len(scores) / ncols))
    if figure is None:
        figsize = (4.5 * ncols, 3.5 * nrows) if figsize is None else figsize
        figure = import_pyplot().figure(figsize=figsize, layout="constrained")
    axes = figure.subplots(nrows, ncols, sharex=True, squeeze=False)

    flat_axes = axes.ravel()
    for ax, display in zip(flat_axes, displays.values()):
        display.plot(ax, scale=scale, stat=stat, bins=edges)
    for ax in flat_axes[len(displays):]:
        ax.set_visible(False)
    return figure, displays


def _display_from_scores(y_true, y_prob, threshold, pos_label, name):
    y01, p_pos, classes = binary_target(y_true, y_prob, pos_label=pos_label)
    positive = classes[1] if pos_label is None else pos_label
    negative = classes[0] if classes[1] == positive else classes[1]
    return ScoreDistributionDisplay(
        negative_scores=p_pos[y01 == 0],
        positive_scores=p_pos[y01 == 1],
        threshold=None if threshold is None else check_threshold(threshold),
        name=name,
        pos_label=positive,
        neg_label=negative,
    )


def _thresholds_per_model(threshold, scores):
    if not isinstance(threshold, dict):
        return dict.fromkeys(scores, threshold)
    unknown = sorted(set(threshold) - set(scores))
    if unknown:
        raise ValueError(
            f"threshold names models {unknown} that are not in scores "
            f"{list(scores)}. Use the same keys in both."
        )
    return {name: threshold.get(name) for name in scores}


def _bin_edges(bins, scale, negative, positive):
    if not np.isscalar(bins):
        return np.asarray(bins, dtype=np.float64)
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ValueError(f"bins={bins!r} is invalid. Pass a positive int or an array of edges.")
    if scale == "probability":
        return np.linspace(0.0, 1.0, int(bins) + 1)
    values = np.concatenate([negative, positive])
    low, high = float(values.min()), float(values.max())
    if low == high:
        low, high = low - 0.5, high + 0.5
    return np.linspace(low, high, int(bins) + 1)


def _shared_edges(bins, scale, displays):
    """Return edges common to all displays, so that their bars line up."""
    displays = list(displays)
    negative = np.concatenate([d.negative_scores for d in displays])
    positive = np.concatenate([d.positive_scores for d in displays])
    if scale == "logit":
        negative, positive = clipped_logit(negative), clipped_logit(positive)
    return _bin_edges(bins, scale, negative, positive)
