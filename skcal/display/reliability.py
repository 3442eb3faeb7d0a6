"""Binned reliability diagram with per-bin intervals and a histogram of confidences."""

import weakref

import numpy as np
from scipy import stats

from skcal.display._common import (
    format_label,
    import_pyplot,
    positive_scores_from_estimator,
)
from skcal.metrics._binning import STRATEGIES, Binning, fixed_edge_design
from skcal.metrics._inputs import check_n_bins, check_option, confidence_and_outcome
from skcal.metrics.bootstrap import generator, resample_count_blocks
from skcal.metrics.calibration_error import calibration_gap

INTERVALS = ("clopper-pearson", "bootstrap", None)
DIAGONAL_LABEL = "perfectly calibrated"

# The histogram axes drawn under each reliability axes, so that later curves
# drawn on the same axes add their histogram to the same place.
_HISTOGRAM_AXES = weakref.WeakKeyDictionary()


class ReliabilityDisplay:
    """Reliability diagram: observed frequency against mean predicted probability per bin.

    Points on the diagonal are calibrated. Each point carries an interval
    for its observed frequency, the legend gives the model's ECE with the
    same bins, and a histogram of the confidences sits underneath on a
    second axes. Call :meth:`plot` or ``from_*`` again with the same ``ax``
    to compare several models (before and after calibration, say) on one
    diagram.

    Parameters
    ----------
    mean_confidence, observed_frequency : ndarray of shape (n_non_empty_bins,)
        Per non-empty bin: the mean confidence and the observed frequency
        (of the positive class, or of correct arg-max predictions).
    bin_counts : ndarray of shape (n_non_empty_bins,)
        Samples per non-empty bin.
    interval_low, interval_high : ndarray of shape (n_non_empty_bins,) or None
        Interval for each observed frequency, or None for no intervals.
    confidence : ndarray of shape (n_samples,)
        All confidences, for the histogram.
    bin_edges : ndarray of shape (n_bins + 1,)
    ece : float
        Expected calibration error with these bins.
    name : str, default=None
    pos_label : int, float, bool or str, default=None
    kind : {"positive", "top_label"}, default="positive"

    Attributes
    ----------
    ax_ : matplotlib Axes
        The reliability axes.
    hist_ax_ : matplotlib Axes or None
        The histogram axes under it.
    figure_ : matplotlib Figure
    line_ : matplotlib Line2D
        The reliability curve.
    errorbar_ : matplotlib ErrorbarContainer or None
    hist_patches_ : list of matplotlib Patch or None

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skcal.display import ReliabilityDisplay
    >>> rng = np.random.default_rng(0)
    >>> y_prob = rng.uniform(size=500)
    >>> y_true = rng.uniform(size=500) < y_prob
    >>> display = ReliabilityDisplay.from_predictions(y_true, y_prob, n_bins=5, name="model")
    >>> display.errorbar_.get_label()
    'model (ECE = 0.031)'
    """

    def __init__(
        self,
        *,
        mean_confidence,
        observed_frequency,
        bin_counts,
        interval_low,
        interval_high,
        confidence,
        bin_edges,
        ece,
        name=None,
        pos_label=None,
        kind="positive",
    ):
        self.mean_confidence = mean_confidence
        self.observed_frequency = observed_frequency
        self.bin_counts = bin_counts
        self.interval_low = interval_low
        self.interval_high = interval_high
        self.confidence = confidence
        self.bin_edges = bin_edges
        self.ece = ece
        self.name = name
        self.pos_label = pos_label
        self.kind = kind

    def plot(self, ax=None, *, name=None, ref_line=True, hist=True, **kwargs):
        """Draw the curve, its intervals, the diagonal and the histogram.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Reliability axes. When None, a new figure gets the reliability
            axes on top and, with ``hist``, a shorter histogram axes below.
            For a given ``ax`` the histogram axes is appended under it the
            first time and reused by later calls with the same ``ax``.
        name : str, default=None
            Overrides the model name given at construction.
        ref_line : bool, default=True
            Draw the diagonal, once per axes.
        hist : bool, default=True
            Draw the histogram of confidences.
        **kwargs
            Passed to :meth:`matplotlib.axes.Axes.errorbar`.

        Returns
        -------
        ReliabilityDisplay
        """
        self.ax_, self.hist_ax_ = _reliability_axes(ax, hist)
        self.figure_ = self.ax_.figure
        name = self.name if name is None else name

        if ref_line and not any(line.get_label() == DIAGONAL_LABEL for line in self.ax_.lines):
            self.ax_.plot([0, 1], [0, 1], color="gray", linestyle=":", label=DIAGONAL_LABEL)
        self._draw_curve(name, kwargs)
        self.hist_patches_ = self._draw_histogram(name) if self.hist_ax_ is not None else None

        x_label, y_label = _axis_labels(self.kind, self.pos_label)
        self.ax_.set_ylabel(y_label)
        self.ax_.set_xlim(-0.02, 1.02)
        self.ax_.set_ylim(-0.02, 1.02)
        self.ax_.legend(loc="upper left", fontsize="small")
        if self.hist_ax_ is None:
            self.ax_.set_xlabel(x_label)
        else:
            self.hist_ax_.set_xlabel(x_label)
            self.hist_ax_.set_ylabel("count")
        return self

    def _draw_curve(self, name, kwargs):
        label = f"ECE = {self.ece:.3f}" if name is None else f"{name} (ECE = {self.ece:.3f})"
        yerr = None
        if self.interval_low is not None:
            yerr = np.vstack([
                np.maximum(self.observed_frequency - self.interval_low, 0.0),
                np.maximum(self.interval_high - self.observed_frequency, 0.0),
            ])
        style = {"marker": "o", "markersize": 4, "capsize": 3, "label": label}
        style.update(kwargs)
        self.errorbar_ = self.ax_.errorbar(self.mean_confidence, self.observed_frequency, yerr=yerr, **style)
        self.line_ = self.errorbar_.lines[0]

    def _draw_histogram(self, name):
        _, _, patches = self.hist_ax_.hist(
            self.confidence,
            # Quantile edges repeat when confidences tie; histograms need distinct edges.
            bins=np.unique(self.bin_edges),
            histtype="step",
            color=self.line_.get_color(),
            label=name,
        )
        return list(patches)

    @classmethod
    def from_predictions(
        cls,
        y_true,
        y_prob,
        *,
        n_bins=10,
        strategy="uniform",
        kind="positive",
        interval="clopper-pearson",
        confidence_level=0.95,
        n_resamples=200,
        random_state=None,
        pos_label=None,
        labels=None,
        name=None,
        ax=None,
        ref_line=True,
        hist=True,
        **kwargs,
    ):
        """Plot a reliability diagram from true labels and predicted probabilities.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
        y_prob : array-like of shape (n_samples,) or (n_samples, n_classes)
            As in :func:`skcal.metrics.expected_calibration_error`.
        n_bins : int, default=10
        strategy : {"uniform", "quantile"}, default="uniform"
            Binning, as in :func:`skcal.metrics.expected_calibration_error`.
        kind : {"positive", "top_label"}, default="positive"
            Calibration of P(positive), or of the top-label confidence.
        interval : {"clopper-pearson", "bootstrap"} or None, default="clopper-pearson"
            Interval per bin. ``"clopper-pearson"``: the exact binomial
            interval for the bin's frequency given its count.
            ``"bootstrap"``: percentile interval of the bin's frequency over
            ``n_resamples`` resamples of all samples, with the bin edges of
            the full data.
        confidence_level : float, default=0.95
        n_resamples : int, default=200
            Resamples for ``interval="bootstrap"``.
        random_state : int, numpy.random.Generator or None, default=None
            Seed for ``interval="bootstrap"``.
        pos_label : int, float, bool or str, default=None
        labels : array-like of shape (n_classes,), default=None
        name : str, default=None
            Name of the model, shown in the legend.
        ax : matplotlib Axes, default=None
        ref_line, hist, **kwargs
            See :meth:`plot`.

        Returns
        -------
        ReliabilityDisplay
        """
        n_bins = check_n_bins(n_bins)
        check_option(strategy, name="strategy", allowed=STRATEGIES)
        check_option(interval, name="interval", allowed=INTERVALS)
        confidence_level = _check_confidence_level(confidence_level)
        confidence, outcome = confidence_and_outcome(
            y_true, y_prob, kind=kind, pos_label=pos_label, labels=labels
        )

        sums = Binning(confidence, outcome, n_bins=n_bins, strategy=strategy).sums(
            np.ones((1, confidence.shape[0]))
        )
        non_empty = sums.weight[0] > 0
        counts = sums.weight[0][non_empty]
        frequency = sums.outcome[0][non_empty] / counts
        edges = sums.edges[0]

        low = high = None
        if interval == "clopper-pearson":
            low, high = _clopper_pearson(sums.outcome[0][non_empty], counts, confidence_level)
        elif interval == "bootstrap":
            low, high = _bootstrap_frequency(
                confidence, outcome, edges, non_empty, confidence_level, n_resamples, random_state
            )

        display = cls(
            mean_confidence=sums.confidence[0][non_empty] / counts,
            observed_frequency=frequency,
            bin_counts=counts.astype(np.int64),
            interval_low=low,
            interval_high=high,
            confidence=confidence,
            bin_edges=edges,
            ece=float(calibration_gap(sums, norm="l1")[0]),
            name=name,
            pos_label=_positive_label(y_true, pos_label, kind),
            kind=kind,
        )
        return display.plot(ax, ref_line=ref_line, hist=hist, **kwargs)

    @classmethod
    def from_estimator(cls, estimator, X, y, *, pos_label=None, name=None, **kwargs):
        """Plot a reliability diagram of a fitted binary classifier on ``X``.

        The scores are ``estimator.predict_proba(X)`` in the column of
        ``pos_label``; ``name`` defaults to the estimator's class name. Other
        keyword arguments are those of :meth:`from_predictions`.

        Returns
        -------
        ReliabilityDisplay
        """
        y_prob, pos_label, default_name = positive_scores_from_estimator(estimator, X, pos_label)
        return cls.from_predictions(
            y, y_prob, pos_label=pos_label, name=default_name if name is None else name, **kwargs
        )


def _reliability_axes(ax, hist):
    if ax is None:
        plt = import_pyplot()
        if not hist:
            _, ax = plt.subplots()
            return ax, None
        _, (ax, hist_ax) = plt.subplots(
            2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]}, layout="constrained"
        )
        _HISTOGRAM_AXES[ax] = hist_ax
        return ax, hist_ax

    if not hist:
        return ax, _HISTOGRAM_AXES.get(ax)
    if ax not in _HISTOGRAM_AXES:
        from mpl_toolkits.axes_grid1 import make_axes_locatable

        hist_ax = make_axes_locatable(ax).append_axes("bottom", size="30%", pad=0.4, sharex=ax)
        _HISTOGRAM_AXES[ax] = hist_ax
    return ax, _HISTOGRAM_AXES[ax]


def _clopper_pearson(successes, trials, confidence_level):
    """Return the exact (Clopper-Pearson) binomial interval per bin."""
    alpha = 1.0 - confidence_level
    successes = np.round(successes)
    low = np.where(
        successes > 0, stats.beta.ppf(alpha / 2, successes, trials - successes + 1), 0.0
    )
    high = np.where(
        successes < trials, stats.beta.ppf(1 - alpha / 2, successes + 1, trials - successes), 1.0
    )
    return low, high


def _bootstrap_frequency(confidence, outcome, edges, non_empty, confidence_level, n_resamples, random_state):
    """Return percentile intervals of each bin's frequency over resamples."""
    design = fixed_edge_design(confidence, outcome, edges)
    n_bins = edges.size - 1
    frequencies = np.empty((n_resamples, int(non_empty.sum())))
    rng = generator(random_state)
    for rows, counts in resample_count_blocks(rng, confidence.shape[0], n_resamples):
        sums = np.asarray(counts @ design)
        weight, observed = sums[:, :n_bins][:, non_empty], sums[:, 2 * n_bins:][:, non_empty]
        with np.errstate(invalid="ignore", divide="ignore"):
            frequencies[rows] = observed / weight

    alpha = (1.0 - confidence_level) / 2
    # A bin that a resample leaves empty has no frequency in that resample.
    low, high = np.nanquantile(frequencies, [alpha, 1 - alpha], axis=0)
    return low, high


def _check_confidence_level(confidence_level):
    confidence_level = float(confidence_level)
    if not 0.0 < confidence_level < 1.0:
        raise ValueError(
            f"confidence_level={confidence_level!r} is outside (0, 1). Pass a value such as 0.95."
        )
    return confidence_level


def _positive_label(y_true, pos_label, kind):
    if kind != "positive" or pos_label is not None:
        return pos_label
    return format_label(np.unique(np.asarray(y_true))[-1])


def _axis_labels(kind, pos_label):
    if kind == "top_label":
        return "mean confidence (largest class probability)", "accuracy"
    positive = format_label(pos_label)
    return f"mean predicted P(y = {positive})", f"observed frequency of y = {positive}"
