"""Percentile bootstrap intervals for any metric of (y_true, y_prob)."""

from dataclasses import dataclass, field

import numpy as np
from sklearn.utils import check_random_state

from skcal._validation import check_same_length, check_sample_weight
from skcal.metrics._inputs import row_blocks, supports_weight_matrix


@dataclass(frozen=True)
class BootstrapResult:
    """A metric's value and its percentile bootstrap interval.

    Attributes
    ----------
    estimate : float
        The metric on the full data.
    low, high : float
        The ``(1 - confidence_level) / 2`` and ``(1 + confidence_level) / 2``
        quantiles of the resampled values.
    confidence_level : float
    n_resamples : int
    resamples : ndarray of shape (n_resamples,)
        The metric on each resample.
    """

    estimate: float
    low: float
    high: float
    confidence_level: float
    n_resamples: int
    resamples: np.ndarray = field(repr=False)

    def to_dict(self):
        """Return the summary, without the resampled values, as a JSON-serialisable dict."""
        return {
            "estimate": self.estimate,
            "low": self.low,
            "high": self.high,
            "confidence_level": self.confidence_level,
            "n_resamples": self.n_resamples,
        }


def bootstrap(
    metric,
    y_true,
    y_prob,
    *,
    n_resamples=1000,
    confidence_level=0.95,
    random_state=None,
    sample_weight=None,
):
    """Estimate a percentile bootstrap interval for ``metric(y_true, y_prob)``.

    Each resample draws ``n_samples`` indices uniformly with replacement.
    Some metrics of this package accept a 2-D ``sample_weight``: the
    calibration errors, Brier score, log loss and accuracy at a threshold,
    also inside :func:`functools.partial`. They receive the resamples as
    rows of multiplicity counts, so the data are binned once and each
    resample costs a few vectorised passes. Any other callable is called
    once per resample on the indexed data. Both paths draw the same indices
    for the same ``random_state`` and give the same values.

    Parameters
    ----------
    metric : callable
        ``metric(y_true, y_prob, sample_weight=...)`` returning a float; the
        ``sample_weight`` keyword is passed only when ``sample_weight`` is
        given or the metric accepts a weight matrix. Bind options with
        :func:`functools.partial`.
    y_true : array-like of shape (n_samples,)
    y_prob : array-like of shape (n_samples,) or (n_samples, n_classes)
    n_resamples : int, default=1000
    confidence_level : float, default=0.95
        Coverage of the interval, in (0, 1).
    random_state : int, numpy.random.Generator, numpy.random.RandomState or None, default=None
        Seed of the resampling. A ``RandomState`` seeds a new ``Generator``
        with one draw.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the samples; a resample's weight is the count of the
        draw times the sample's weight.

    Returns
    -------
    BootstrapResult

    Notes
    -----
    With ``strategy="quantile"`` the bin edges are recomputed for every
    resample on both paths. A resample in which the metric fails (for
    example one that contains a single class) raises, because dropping it
    would bias the interval.

    Calibration errors are biased upward: a resample, with its duplicated
    samples, usually shows a larger gap than the full data. For a well
    calibrated model the percentile interval can therefore lie mostly above
    the estimate.

    Examples
    --------
    >>> import numpy as np
    >>> from skcal.metrics import bootstrap, expected_calibration_error
    >>> rng = np.random.default_rng(0)
    >>> y_prob = rng.uniform(size=1000)
    >>> y_true = rng.uniform(size=1000) < y_prob
    >>> result = bootstrap(expected_calibration_error, y_true, y_prob,
    ...                    n_resamples=200, random_state=0)
    >>> result.low < result.estimate < result.high
    True
    """
    n_resamples, confidence_level = _check_bootstrap_options(n_resamples, confidence_level)
    y_true = np.asarray(y_true)
    y_prob = np.asarray(y_prob)
    check_same_length(y_true, y_prob, names=("y_true", "y_prob"))
    n_samples = y_true.shape[0]
    if sample_weight is not None:
        sample_weight = check_sample_weight(sample_weight, n_samples)
    rng = generator(random_state)

    if supports_weight_matrix(metric):
        estimate = float(metric(y_true, y_prob, sample_weight=sample_weight))
        values = _resample_by_weights(metric, y_true, y_prob, sample_weight, n_resamples, rng)
    else:
        estimate = float(_call(metric, y_true, y_prob, sample_weight))
        values = _resample_by_indexing(metric, y_true, y_prob, sample_weight, n_resamples, rng)

    alpha = (1.0 - confidence_level) / 2.0
    low, high = np.quantile(values, [alpha, 1.0 - alpha])
    return BootstrapResult(
        estimate=estimate,
        low=float(low),
        high=float(high),
        confidence_level=confidence_level,
        n_resamples=n_resamples,
        resamples=values,
    )


def _resample_indices(rng, n_samples, n_resamples):
    """Yield the indices of each resample, drawn uniformly with replacement."""
    for _ in range(n_resamples):
        yield rng.integers(0, n_samples, size=n_samples)


def resample_count_blocks(rng, n_samples, n_resamples):
    """Yield blocks of resamples as multiplicity counts, shape (n_rows, n_samples).

    Row ``r`` counts how often each sample was drawn in resample ``r``; the
    draws are those of :func:`_resample_indices` for the same generator.
    Blocks hold about 32 MB of float64, which keeps the per-call set-up of a
    metric (input checks, binning) small next to the work on the weights.
    """
    resamples = _resample_indices(rng, n_samples, n_resamples)
    for rows in row_blocks(n_resamples, n_samples, max_entries=2**22):
        counts = np.empty((rows.stop - rows.start, n_samples))
        for row in range(counts.shape[0]):
            counts[row] = np.bincount(next(resamples), minlength=n_samples)
        yield rows, counts


def _resample_by_weights(metric, y_true, y_prob, sample_weight, n_resamples, rng):
    values = np.empty(n_resamples)
    for rows, weights in resample_count_blocks(rng, y_true.shape[0], n_resamples):
        if sample_weight is not None:
            weights *= sample_weight
        values[rows] = metric(y_true, y_prob, sample_weight=weights)
    return values


def _resample_by_indexing(metric, y_true, y_prob, sample_weight, n_resamples, rng):
    values = np.empty(n_resamples)
    for row, indices in enumerate(_resample_indices(rng, y_true.shape[0], n_resamples)):
        weights = None if sample_weight is None else sample_weight[indices]
        values[row] = _call(metric, y_true[indices], y_prob[indices], weights)
    return values


def _call(metric, y_true, y_prob, sample_weight):
    if sample_weight is None:
        return metric(y_true, y_prob)
    return metric(y_true, y_prob, sample_weight=sample_weight)


def generator(random_state):
    """Return a ``numpy.random.Generator``, which draws indices about ten times faster than ``RandomState``."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or isinstance(random_state, (int, np.integer)):
        return np.random.default_rng(random_state)
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    return np.random.default_rng(seed)


def _check_bootstrap_options(n_resamples, confidence_level):
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, (int, np.integer)) or n_resamples < 1:
        raise ValueError(
            f"n_resamples={n_resamples!r} is invalid. Pass a positive integer such as 1000."
        )
    confidence_level = float(confidence_level)
    if not 0.0 < confidence_level < 1.0:
        raise ValueError(
            f"confidence_level={confidence_level!r} is outside (0, 1). Pass a value such as 0.95."
        )
    return int(n_resamples), confidence_level
