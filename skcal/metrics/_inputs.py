"""Input checks and conversions shared by the metrics in this package.

Every metric takes the same arguments: labels ``y_true`` and either the
probability of the positive class, of shape ``(n_samples,)``, or a matrix of
class probabilities, of shape ``(n_samples, n_classes)``, whose columns follow
the sorted labels. ``pos_label`` selects the positive class of a binary
target; ``labels`` lists the classes when ``y_true`` may lack some of them.
"""

import functools

import numpy as np

from skcal._validation import (
    check_finite,
    check_same_length,
    check_sample_weight,
    encode_binary_target,
)

KINDS = ("positive", "top_label")


def check_option(value, *, name, allowed):
    """Raise ``ValueError`` unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise ValueError(
            f"{name}={value!r} is not supported. Pass one of {list(allowed)!r}."
        )
    return value


def check_n_bins(n_bins):
    """Return ``n_bins`` as an int after checking that it is a positive integer."""
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)):
        raise TypeError(
            f"n_bins must be an integer, got {n_bins!r} of type "
            f"{type(n_bins).__name__}. Pass a positive int such as 15."
        )
    if n_bins < 1:
        raise ValueError(f"n_bins={n_bins} is invalid. Pass a positive integer.")
    return int(n_bins)


def check_threshold(threshold):
    """Return ``threshold`` as a float after checking it is a number and not NaN.

    Thresholds outside [0, 1] are valid decision rules: above 1 (or ``inf``,
    which scikit-learn's threshold tuning can return) no sample is predicted
    positive, and below 0 every sample is.
    """
    try:
        threshold = float(threshold)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"threshold must be a number, got {threshold!r}. Pass a float such as 0.5."
        ) from err
    if np.isnan(threshold):
        raise ValueError("threshold is NaN. Pass a number such as 0.5.")
    return threshold


def check_probabilities(y_prob, *, name="y_prob"):
    """Return ``y_prob`` as a float array after checking it is finite and in [0, 1]."""
    try:
        y_prob = np.asarray(y_prob, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{name} must contain numbers, got values of type "
            f"{np.asarray(y_prob).dtype}. Pass predicted probabilities."
        ) from err

    if y_prob.ndim not in (1, 2):
        raise ValueError(
            f"{name} has shape {y_prob.shape}, expected (n_samples,) with the "
            "probability of the positive class or (n_samples, n_classes)."
        )
    check_finite(y_prob, name=name)
    outside = (y_prob < 0) | (y_prob > 1)
    if outside.any():
        raise ValueError(
            f"{name} contains {int(outside.sum())} value(s) outside [0, 1], for "
            f"example {y_prob[outside].flat[0]!r}. Pass probabilities, and convert "
            "logits with scipy.special.expit or softmax first."
        )
    return y_prob


def binary_target(y_true, y_prob, *, pos_label=None, labels=None):
    """Encode a binary target and return the probability of its positive class.

    Returns
    -------
    y01 : ndarray of shape (n_samples,)
        1 for the positive class, 0 for the other.
    p_pos : ndarray of shape (n_samples,)
        Probability of the positive class.
    classes : ndarray of shape (2,)
        The sorted labels.
    """
    y_prob = check_probabilities(y_prob)
    if y_prob.ndim == 2 and y_prob.shape[1] != 2:
        raise ValueError(
            f"y_prob has {y_prob.shape[1]} columns, but this metric needs a "
            "binary problem: pass the probability of the positive class, of "
            "shape (n_samples,), or an (n_samples, 2) matrix."
        )
    if labels is not None:
        labels = np.unique(np.asarray(labels))
        if labels.shape[0] != 2:
            raise ValueError(
                f"labels has {labels.shape[0]} distinct values, but a binary "
                "problem needs exactly two. Pass both class labels."
            )
    y01, classes, pos_label = encode_binary_target(
        y_true, pos_label=pos_label, classes=labels, name="y_true"
    )
    check_same_length(y01, y_prob, names=("y_true", "y_prob"))

    if y_prob.ndim == 2:
        check_rows_sum_to_one(y_prob)
        column = int(np.flatnonzero(classes == pos_label)[0])
        p_pos = y_prob[:, column]
    else:
        p_pos = y_prob
    return y01, p_pos, classes


def class_probabilities(y_true, y_prob, *, pos_label=None, labels=None):
    """Return class indices and an (n_samples, n_classes) probability matrix.

    A 1-D ``y_prob`` is the probability of ``pos_label`` and becomes a
    two-column matrix. Labels map to columns in sorted order. Without
    ``labels``, the classes are the sorted unique values of ``y_true``, or
    ``0 .. n_classes - 1`` when ``y_true`` contains integers in that range but
    not all of them.
    """
    y_prob = check_probabilities(y_prob)
    if y_prob.ndim == 1:
        y01, p_pos, _ = binary_target(
            y_true, y_prob, pos_label=pos_label, labels=labels
        )
        return y01, np.column_stack([1.0 - p_pos, p_pos])

    y_true = _as_label_vector(y_true)
    check_same_length(y_true, y_prob, names=("y_true", "y_prob"))
    check_rows_sum_to_one(y_prob)
    classes = _resolve_classes(y_true, y_prob.shape[1], labels)
    y_index = np.searchsorted(classes, y_true)
    return y_index, y_prob


def confidence_and_outcome(y_true, y_prob, *, kind, pos_label=None, labels=None):
    """Return the (confidence, outcome) pairs that calibration metrics bin.

    ``kind="positive"`` pairs P(positive) with the 0/1 positive indicator;
    ``kind="top_label"`` pairs the largest class probability with 1 where the
    arg-max class is the true one. Ties in the arg-max go to the first of the
    sorted classes.
    """
    check_option(kind, name="kind", allowed=KINDS)
    if kind == "positive":
        if np.ndim(y_prob) == 2 and np.shape(y_prob)[1] > 2:
            raise ValueError(
                f"kind='positive' is defined for binary problems only, but "
                f"y_prob has {np.shape(y_prob)[1]} columns. Pass "
                "kind='top_label' for a multiclass model."
            )
        y01, p_pos, _ = binary_target(
            y_true, y_prob, pos_label=pos_label, labels=labels
        )
        return p_pos, y01.astype(np.float64)

    y_index, proba = class_probabilities(
        y_true, y_prob, pos_label=pos_label, labels=labels
    )
    predicted = np.argmax(proba, axis=1)
    confidence = proba[np.arange(proba.shape[0]), predicted]
    return confidence, (predicted == y_index).astype(np.float64)


def check_rows_sum_to_one(y_prob):
    """Raise ``ValueError`` when rows of a probability matrix do not sum to 1."""
    sums = y_prob.sum(axis=1)
    tolerance = np.sqrt(np.finfo(np.float32).eps) * y_prob.shape[1]
    bad = np.abs(sums - 1.0) > tolerance
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{int(bad.sum())} row(s) of y_prob do not sum to 1, the first is "
            f"row {first} with sum {sums[first]!r}. Pass class probabilities, "
            "for example scipy.special.softmax(logits, axis=1)."
        )


def check_weights(sample_weight, n_samples):
    """Validate sample weights given as a vector or as one row per resample.

    Returns
    -------
    weights : ndarray of shape (n_rows, n_samples)
        A single row for ``None`` or a vector.
    is_matrix : bool
        Whether the caller passed a 2-D matrix and expects one value per row.
    """
    if sample_weight is None or np.ndim(sample_weight) < 2:
        weights = check_sample_weight(sample_weight, n_samples)
        return weights[np.newaxis, :], False

    weights = np.asarray(sample_weight, dtype=np.float64)
    if weights.ndim != 2 or weights.shape[1] != n_samples:
        raise ValueError(
            f"sample_weight has shape {weights.shape}, expected ({n_samples},) "
            f"or (n_resamples, {n_samples}) to match the number of samples."
        )
    check_finite(weights, name="sample_weight")
    if (weights < 0).any():
        raise ValueError(
            "sample_weight contains negative values. Pass non-negative weights."
        )
    empty = np.flatnonzero(weights.sum(axis=1) <= 0)
    if empty.size:
        raise ValueError(
            f"Row {int(empty[0])} of sample_weight sums to 0, but every row needs "
            "at least one positive weight."
        )
    return weights, True


def accepts_weight_matrix(metric):
    """Mark ``metric`` as accepting a 2-D ``sample_weight``, one row per resample.

    Such a metric returns one value per row, which lets :func:`bootstrap`
    evaluate many resamples in one call.
    """
    metric.accepts_weight_matrix = True
    return metric


def supports_weight_matrix(metric):
    """Return whether ``metric``, or the function a ``functools.partial`` wraps, is marked."""
    while isinstance(metric, functools.partial):
        metric = metric.func
    return bool(getattr(metric, "accepts_weight_matrix", False))


def row_blocks(n_rows, n_columns, *, max_entries=2**21):
    """Yield slices over rows so that a block contains about ``max_entries`` values."""
    step = max(1, max_entries // max(n_columns, 1))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


def _as_label_vector(y_true):
    y_true = np.asarray(y_true)
    if y_true.ndim == 2 and y_true.shape[1] == 1:
        y_true = y_true.ravel()
    if y_true.ndim != 1:
        raise ValueError(
            f"y_true must be one-dimensional, got an array of shape {y_true.shape}."
        )
    if y_true.shape[0] == 0:
        raise ValueError("y_true is empty. Pass at least one sample.")
    return y_true


def _resolve_classes(y_true, n_classes, labels):
    if labels is not None:
        classes = np.unique(np.asarray(labels))
        if classes.shape[0] != n_classes:
            raise ValueError(
                f"labels has {classes.shape[0]} distinct values but y_prob has "
                f"{n_classes} columns. Pass one label per column."
            )
        unknown = np.setdiff1d(np.unique(y_true), classes)
        if unknown.size:
            raise ValueError(
                f"y_true contains labels {unknown[:10].tolist()} that are not in "
                "labels. Add them to labels or remove those samples."
            )
        return classes

    found = np.unique(y_true)
    if found.shape[0] == n_classes:
        return found
    is_integer = found.dtype.kind in "iu"
    if is_integer and found.shape[0] < n_classes and found.min() >= 0 and found.max() < n_classes:
        return np.arange(n_classes)
    raise ValueError(
        f"y_true has {found.shape[0]} distinct labels but y_prob has {n_classes} "
        "columns. Pass labels= with one label per column, in column order."
    )
