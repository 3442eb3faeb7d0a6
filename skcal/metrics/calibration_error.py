"""Binned calibration errors: the expected (ECE) and maximum (MCE) calibration error."""

import numpy as np

from skcal.metrics._binning import STRATEGIES, Binning
from skcal.metrics._inputs import (
    accepts_weight_matrix,
    check_n_bins,
    check_option,
    check_weights,
    confidence_and_outcome,
    row_blocks,
)

NORMS = ("l1", "l2", "max")


@accepts_weight_matrix
def expected_calibration_error(
    y_true,
    y_prob,
    *,
    n_bins=15,
    strategy="uniform",
    kind="positive",
    norm="l1",
    sample_weight=None,
    pos_label=None,
    labels=None,
):
    r"""Compute the binned expected calibration error (ECE).

    The samples are grouped into bins by a confidence :math:`c_i`, with an
    outcome :math:`o_i` in {0, 1}. ``kind`` selects the pair:

    - ``"positive"`` (binary only): :math:`c_i` is the predicted probability
      of the positive class and :math:`o_i = 1` when the sample is positive.
      This measures the calibration of P(positive).
    - ``"top_label"``: :math:`c_i = \max_k p_{ik}` and :math:`o_i = 1` when
      the arg-max class is the true class (ties go to the first sorted
      class). This is the ECE of Guo et al., "On Calibration of Modern
      Neural Networks", ICML 2017.

    For each non-empty bin :math:`B_b`, with weights :math:`w_i` and total
    weight :math:`W`, let :math:`s_b = \sum_{i \in B_b} w_i / W`,
    :math:`\bar c_b` the weighted mean confidence and :math:`\bar o_b` the
    weighted mean outcome. Then

    .. math::

        \mathrm{ECE}_{l1} = \sum_b s_b \, |\bar c_b - \bar o_b|, \quad
        \mathrm{ECE}_{l2} = \Big(\sum_b s_b \, (\bar c_b - \bar o_b)^2\Big)^{1/2},
        \quad \mathrm{MCE} = \max_b |\bar c_b - \bar o_b|.

    Empty bins do not count.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels. For ``y_prob`` of shape (n_samples, n_classes), labels
        map to columns in sorted order; see ``labels``.
    y_prob : array-like of shape (n_samples,) or (n_samples, n_classes)
        Probability of the positive class, or class probabilities whose
        columns follow the sorted labels.
    n_bins : int, default=15
        Number of bins.
    strategy : {"uniform", "quantile"}, default="uniform"
        ``"uniform"``: equal-width bins on [0, 1]. Bins are right-closed,
        ``(a, b]``, except the first, ``[0, 1/n_bins]``, so confidences of
        exactly 0 or 1 count once, in the end bins. ``"quantile"``: inner
        edges at the weighted quantiles ``b / n_bins`` of the confidences
        (inverted-CDF definition), so the bins hold about equal weight.
        Samples with equal confidence always share a bin, so with ties some
        bins hold more and others stay empty.
    kind : {"positive", "top_label"}, default="positive"
        Which confidence is binned, as described above.
    norm : {"l1", "l2", "max"}, default="l1"
        How the per-bin gaps are combined. ``"max"`` gives the MCE.
    sample_weight : array-like of shape (n_samples,) or (n_rows, n_samples), default=None
        Sample weights. A 2-D matrix is read as one weighting per row, as
        used by :func:`skcal.metrics.bootstrap`, and the function then
        returns one value per row.
    pos_label : int, float, bool or str, default=None
        Positive class of a binary target; ``None`` takes the larger label.
    labels : array-like of shape (n_classes,), default=None
        All class labels, for a ``y_true`` that may miss some. Without it the
        classes are the sorted unique values of ``y_true``, or
        ``0 .. n_classes - 1`` for integer labels in that range.

    Returns
    -------
    float or ndarray of shape (n_rows,)
        The calibration error, in [0, 1].

    See Also
    --------
    maximum_calibration_error : The same binning with ``norm="max"``.
    smooth_expected_calibration_error : A binning-free alternative.

    Examples
    --------
    >>> from skcal.metrics import expected_calibration_error
    >>> y_true = [0, 0, 1, 1]
    >>> y_prob = [0.1, 0.2, 0.7, 1.0]
    >>> round(expected_calibration_error(y_true, y_prob, n_bins=5), 4)
    0.15
    """
    n_bins = check_n_bins(n_bins)
    check_option(strategy, name="strategy", allowed=STRATEGIES)
    check_option(norm, name="norm", allowed=NORMS)
    confidence, outcome = confidence_and_outcome(
        y_true, y_prob, kind=kind, pos_label=pos_label, labels=labels
    )
    weights, is_matrix = check_weights(sample_weight, confidence.shape[0])

    binning = Binning(confidence, outcome, n_bins=n_bins, strategy=strategy)
    errors = np.empty(weights.shape[0])
    for rows in row_blocks(*weights.shape):
        errors[rows] = calibration_gap(binning.sums(weights[rows]), norm=norm)
    return errors if is_matrix else float(errors[0])


@accepts_weight_matrix
def maximum_calibration_error(
    y_true,
    y_prob,
    *,
    n_bins=15,
    strategy="uniform",
    kind="positive",
    sample_weight=None,
    pos_label=None,
    labels=None,
):
    """Compute the maximum calibration error (MCE): the largest gap over non-empty bins.

    The arguments mean the same as in :func:`expected_calibration_error`,
    which this calls with ``norm="max"``.

    Examples
    --------
    >>> from skcal.metrics import maximum_calibration_error
    >>> y_true = [0, 0, 1, 1]
    >>> y_prob = [0.1, 0.2, 0.7, 1.0]
    >>> round(maximum_calibration_error(y_true, y_prob, n_bins=5), 4)
    0.3
    """
    return expected_calibration_error(
        y_true,
        y_prob,
        n_bins=n_bins,
        strategy=strategy,
        kind=kind,
        norm="max",
        sample_weight=sample_weight,
        pos_label=pos_label,
        labels=labels,
    )


def calibration_gap(sums, *, norm):
    """Combine per-bin sums into one calibration error per row."""
    non_empty = sums.weight > 0
    safe_weight = np.where(non_empty, sums.weight, 1.0)
    gap = np.abs(sums.confidence - sums.outcome) / safe_weight
    share = sums.weight / sums.weight.sum(axis=1, keepdims=True)

    if norm == "l1":
        return np.where(non_empty, share * gap, 0.0).sum(axis=1)
    if norm == "l2":
        return np.sqrt(np.where(non_empty, share * gap**2, 0.0).sum(axis=1))
    return np.where(non_empty, gap, 0.0).max(axis=1)
