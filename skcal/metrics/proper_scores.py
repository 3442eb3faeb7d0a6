"""Brier score, log loss and accuracy at a threshold, with the package's argument conventions.

Each function takes ``y_true`` and either the probability of the positive
class or a probability matrix, like :func:`expected_calibration_error`, and
accepts a 2-D ``sample_weight`` with one weighting per row, returning one
value per row. For a single weight vector the values equal those of
:func:`sklearn.metrics.brier_score_loss`, :func:`sklearn.metrics.log_loss`
and :func:`sklearn.metrics.accuracy_score`.
"""

import numpy as np

from skcal.metrics._inputs import (
    accepts_weight_matrix,
    binary_target,
    check_threshold,
    check_weights,
    class_probabilities,
)


@accepts_weight_matrix
def brier_score_loss(y_true, y_prob, *, sample_weight=None, pos_label=None, labels=None):
    r"""Compute the Brier score: the mean squared error of the predicted probabilities.

    Binary problems (``y_prob`` of shape (n_samples,) or (n_samples, 2)) use
    :math:`\frac{1}{W}\sum_i w_i (p_i - y_i)^2` with :math:`p_i` the
    probability of the positive class. Multiclass problems sum the squared
    errors over the classes, :math:`\frac{1}{W}\sum_i w_i \sum_k (p_{ik} -
    [y_i = k])^2`, as scikit-learn does.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_prob : array-like of shape (n_samples,) or (n_samples, n_classes)
        Probability of the positive class, or class probabilities whose
        columns follow the sorted labels.
    sample_weight : array-like of shape (n_samples,) or (n_rows, n_samples), default=None
        Sample weights; a 2-D matrix gives one value per row.
    pos_label : int, float, bool or str, default=None
        Positive class of a binary target; ``None`` takes the larger label.
    labels : array-like of shape (n_classes,), default=None
        All class labels, for a ``y_true`` that may miss some.

    Returns
    -------
    float or ndarray of shape (n_rows,)

    Examples
    --------
    >>> from skcal.metrics import brier_score_loss
    >>> round(brier_score_loss([0, 1, 1], [0.2, 0.6, 1.0]), 4)
    0.0667
    """
    if np.ndim(y_prob) == 1 or np.shape(y_prob)[1] == 2:
        y01, p_pos, _ = binary_target(y_true, y_prob, pos_label=pos_label, labels=labels)
        losses = (p_pos - y01) ** 2
    else:
        y_index, proba = class_probabilities(y_true, y_prob, labels=labels)
        one_hot = np.eye(proba.shape[1])[y_index]
        losses = ((proba - one_hot) ** 2).sum(axis=1)
    return weighted_mean(losses, sample_weight)


@accepts_weight_matrix
def log_loss(y_true, y_prob, *, sample_weight=None, pos_label=None, labels=None):
    r"""Compute the log loss (cross-entropy), in nats per sample.

    :math:`-\frac{1}{W}\sum_i w_i \log p_{i, y_i}`, where
    :math:`p_{i, y_i}` is the probability given to the true class. As in
    scikit-learn, probabilities are clipped to :math:`[\epsilon, 1 -
    \epsilon]` with :math:`\epsilon` the float64 machine epsilon, so a
    confident mistake costs about 36 nats instead of infinity.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_prob : array-like of shape (n_samples,) or (n_samples, n_classes)
        Probability of the positive class, or class probabilities whose
        columns follow the sorted labels.
    sample_weight : array-like of shape (n_samples,) or (n_rows, n_samples), default=None
        Sample weights; a 2-D matrix gives one value per row.
    pos_label : int, float, bool or str, default=None
        Positive class of a binary target; ``None`` takes the larger label.
    labels : array-like of shape (n_classes,), default=None
        All class labels, for a ``y_true`` that may miss some.

    Returns
    -------
    float or ndarray of shape (n_rows,)

    Examples
    --------
    >>> from skcal.metrics import log_loss
    >>> round(log_loss(["ham", "spam", "spam"], [0.2, 0.6, 0.9]), 4)
    0.2798
    """
    eps = np.finfo(np.float64).eps
    if np.ndim(y_prob) == 1 or np.shape(y_prob)[1] == 2:
        y01, p_pos, _ = binary_target(y_true, y_prob, pos_label=pos_label, labels=labels)
        p_true = np.where(y01 == 1, p_pos, 1.0 - p_pos)
    else:
        y_index, proba = class_probabilities(y_true, y_prob, labels=labels)
        p_true = proba[np.arange(proba.shape[0]), y_index]
    losses = -np.log(np.clip(p_true, eps, 1.0 - eps))
    return weighted_mean(losses, sample_weight)


@accepts_weight_matrix
def accuracy_at_threshold(
    y_true, y_prob, *, threshold=0.5, sample_weight=None, pos_label=None, labels=None
):
    """Compute the accuracy of predicting the positive class when ``y_prob >= threshold``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels of a binary problem.
    y_prob : array-like of shape (n_samples,) or (n_samples, 2)
        Probability of the positive class, or the two-column matrix.
    threshold : float, default=0.5
        Decision threshold on P(positive). Scores equal to it are predicted
        positive, as in :class:`sklearn.model_selection.TunedThresholdClassifierCV`.
        A threshold above 1 (or ``inf``) predicts every sample negative.
    sample_weight : array-like of shape (n_samples,) or (n_rows, n_samples), default=None
        Sample weights; a 2-D matrix gives one value per row.
    pos_label : int, float, bool or str, default=None
        Positive class; ``None`` takes the larger label.
    labels : array-like of shape (2,), default=None
        Both class labels, for a ``y_true`` that may miss one.

    Returns
    -------
    float or ndarray of shape (n_rows,)

    Examples
    --------
    >>> from skcal.metrics import accuracy_at_threshold
    >>> accuracy_at_threshold([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], threshold=0.3)
    0.75
    """
    threshold = check_threshold(threshold)
    y01, p_pos, _ = binary_target(y_true, y_prob, pos_label=pos_label, labels=labels)
    correct = (p_pos >= threshold) == (y01 == 1)
    return weighted_mean(correct.astype(np.float64), sample_weight)


def weighted_mean(values, sample_weight):
    """Return the weighted mean of per-sample ``values`` for each weighting."""
    weights, is_matrix = check_weights(sample_weight, values.shape[0])
    means = weights @ values / weights.sum(axis=1)
    return means if is_matrix else float(means[0])

