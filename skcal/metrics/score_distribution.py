"""Summary statistics of a binary model's scores for each true class."""

import warnings

import numpy as np
from scipy import stats
from scipy.special import expit

from skcal._validation import check_finite, check_same_length
from skcal.metrics._inputs import binary_target, check_threshold
from skcal.metrics._logit import clipped_logit


def score_distribution_stats(
    y_true, y_prob=None, *, threshold=0.5, pos_label=None, logits=None, labels=None
):
    """Summarise P(positive) and its logit separately for each true class.

    Skewed or bimodal score distributions, and distributions that shift
    between training runs, show up here before they show up in a threshold
    metric.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels of a binary problem.
    y_prob : array-like of shape (n_samples,) or (n_samples, 2), default=None
        Probability of the positive class. May be omitted when ``logits`` is
        given; it is then ``expit(logits)``.
    threshold : float, default=0.5
        Decision threshold on P(positive). A sample is predicted positive
        when its probability is at least the threshold.
    pos_label : int, float, bool or str, default=None
        Positive class; ``None`` takes the larger label.
    logits : array-like of shape (n_samples,), default=None
        Log-odds of the positive class, summarised as given. Without it the
        logit is ``log(p / (1 - p))`` with ``p`` clipped to
        ``[2**-53, 1 - 2**-53]``, so it stays within +-36.74.
    labels : array-like of shape (2,), default=None
        Both class labels, for a ``y_true`` that may miss one.

    Returns
    -------
    dict
        JSON-serialisable, with keys ``"threshold"``, ``"pos_label"``,
        ``"negative"`` and ``"positive"``. Each class entry contains its
        ``"label"``, ``"count"``, the statistics of ``"probability"`` and
        ``"logit"`` (``mean``, ``median``, ``std`` with ``ddof=0``, ``iqr``
        from linear interpolation, and ``skewness`` as
        :func:`scipy.stats.skew` with ``bias=True`` computes it), and the
        shares of the class predicted negative (``"share_below_threshold"``)
        and positive (``"share_at_or_above_threshold"``). Statistics that
        are undefined, such as the skewness of constant scores, are ``None``.

    Examples
    --------
    >>> from skcal.metrics import score_distribution_stats
    >>> summary = score_distribution_stats([0, 0, 1, 1], [0.1, 0.6, 0.7, 0.9])
    >>> summary["negative"]["share_at_or_above_threshold"]
    0.5
    >>> round(summary["positive"]["probability"]["mean"], 3)
    0.8
    """
    threshold = check_threshold(threshold)
    logits = _check_logits(logits)
    if y_prob is None and logits is None:
        raise ValueError("Both y_prob and logits are missing. Pass y_prob, logits or both.")
    if y_prob is None:
        y_prob = expit(logits)
    y01, p_pos, classes = binary_target(y_true, y_prob, pos_label=pos_label, labels=labels)
    pos_label = classes[1] if pos_label is None else pos_label
    if logits is None:
        logit_values = clipped_logit(p_pos)
    else:
        check_same_length(y01, logits, names=("y_true", "logits"))
        logit_values = logits

    summary = {"threshold": threshold, "pos_label": _json_value(pos_label)}
    negative_label = classes[0] if classes[1] == pos_label else classes[1]
    for role, label, indicator in (("negative", negative_label, 0), ("positive", pos_label, 1)):
        in_class = y01 == indicator
        summary[role] = _class_summary(label, p_pos[in_class], logit_values[in_class], threshold)
    return summary


def _check_logits(logits):
    if logits is None:
        return None
    logits = np.asarray(logits, dtype=np.float64)
    if logits.ndim != 1:
        raise ValueError(
            f"logits has shape {logits.shape}, expected (n_samples,) log-odds "
            "of the positive class."
        )
    return check_finite(logits, name="logits")


def _class_summary(label, probabilities, logit_values, threshold):
    predicted_positive = probabilities >= threshold
    count = int(probabilities.shape[0])
    return {
        "label": _json_value(label),
        "count": count,
        "probability": _describe(probabilities),
        "logit": _describe(logit_values),
        "share_below_threshold": float(np.mean(~predicted_positive)),
        "share_at_or_above_threshold": float(np.mean(predicted_positive)),
    }


def _describe(values):
    with warnings.catch_warnings():
        # Constant values make the skewness undefined; it is reported as None.
        warnings.simplefilter("ignore", RuntimeWarning)
        skewness = stats.skew(values, bias=True) if np.ptp(values) > 0 else np.nan
    return {
        "mean": _finite_or_none(np.mean(values)),
        "median": _finite_or_none(np.median(values)),
        "std": _finite_or_none(np.std(values)),
        "iqr": _finite_or_none(stats.iqr(values)),
        "skewness": _finite_or_none(skewness),
    }


def _finite_or_none(value):
    value = float(value)
    return value if np.isfinite(value) else None


def _json_value(value):
    return value.item() if isinstance(value, np.generic) else value
