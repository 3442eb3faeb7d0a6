"""Input checks shared by skcal's estimators, metrics and command-line tools.

Each check raises ``ValueError`` with a message that names the offending value
and the fix.
"""

import numpy as np


def encode_binary_target(y, *, pos_label=None, classes=None, name="y"):
    """Map a binary target with any two labels to 0/1.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels: ints, strings or bools.
    pos_label : object, default=None
        The positive class. ``None`` selects the larger of the two sorted
        labels, as scikit-learn does.
    classes : array-like of shape (2,), default=None
        The label set the target must come from, for example a fitted
        model's ``classes_``. ``None`` takes the labels found in ``y``, which
        must then contain both classes.
    name : str, default="y"
        Name of the argument, used in error messages.

    Returns
    -------
    y01 : ndarray of shape (n_samples,), dtype=int
        1 where ``y == pos_label``, 0 elsewhere.
    classes : ndarray of shape (2,)
        The two labels, sorted.
    pos_label : object
        The positive label actually used.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        y = np.ravel(y) if y.ndim == 2 and y.shape[1] == 1 else y
    if y.ndim != 1:
        raise ValueError(
            f"{name} must be one-dimensional, got an array of shape {y.shape}."
        )
    if y.shape[0] == 0:
        raise ValueError(f"{name} is empty; at least one sample is required.")

    found = np.unique(y)
    if classes is None:
        if found.shape[0] != 2:
            raise ValueError(
                f"{name} must contain exactly two classes for a binary model, "
                f"found {found.shape[0]}: {_preview(found)}. "
                + _class_count_hint(found.shape[0])
            )
        classes = found
    else:
        classes = np.asarray(classes)
        unknown = np.setdiff1d(found, classes)
        if unknown.size:
            raise ValueError(
                f"{name} contains labels {_preview(unknown)} that are not among "
                f"the classes {_preview(classes)}. Pass labels from that set."
            )

    if pos_label is None:
        pos_label = classes[-1]
    elif pos_label not in set(classes.tolist()):
        raise ValueError(
            f"pos_label={pos_label!r} is not one of the classes "
            f"{_preview(classes)}. Pass one of them as pos_label."
        )

    y01 = (y == pos_label).astype(np.int64)
    return y01, classes, pos_label


def check_finite(values, *, name):
    """Raise ``ValueError`` when ``values`` contains NaN or infinite entries."""
    values = np.asarray(values)
    if values.dtype.kind in "fc":
        bad = ~np.isfinite(values)
        if bad.any():
            first = np.flatnonzero(bad.reshape(-1))[0]
            raise ValueError(
                f"{name} contains {int(bad.sum())} NaN or infinite value(s), "
                f"the first at flat index {first} ({values.reshape(-1)[first]!r}). "
                "Remove those samples or fix the model that produced them."
            )
    return values


def check_sample_weight(sample_weight, n_samples, *, dtype=np.float64):
    """Validate sample weights and return them as a float array.

    ``None`` gives unit weights. Weights must be finite, non-negative, of
    length ``n_samples`` and with a positive sum.
    """
    if sample_weight is None:
        return np.ones(n_samples, dtype=dtype)

    weights = np.asarray(sample_weight, dtype=dtype)
    if weights.ndim == 0:
        weights = np.full(n_samples, float(weights), dtype=dtype)
    if weights.shape != (n_samples,):
        raise ValueError(
            f"sample_weight has shape {weights.shape}, expected ({n_samples},) "
            "to match the number of samples."
        )
    check_finite(weights, name="sample_weight")
    if (weights < 0).any():
        raise ValueError(
            f"sample_weight contains {int((weights < 0).sum())} negative "
            "value(s); weights must be non-negative."
        )
    if weights.sum() <= 0:
        raise ValueError(
            "sample_weight sums to 0; at least one sample needs a positive weight."
        )
    return weights


def check_same_length(*arrays, names):
    """Raise ``ValueError`` naming both arguments when their lengths differ."""
    lengths = [len(a) for a in arrays]
    if len(set(lengths)) > 1:
        described = ", ".join(f"{n} has {k}" for n, k in zip(names, lengths))
        raise ValueError(
            f"Inconsistent numbers of samples: {described}. "
            "Pass one entry per sample in each."
        )


def _class_count_hint(n_found):
    if n_found < 2:
        return "Calibration and threshold tuning need samples of both classes."
    return "Select two of the classes, or relabel the data as positive / negative."


def _preview(values, limit=10):
    values = list(np.asarray(values).tolist())
    shown = ", ".join(repr(v) for v in values[:limit])
    if len(values) > limit:
        shown += f", ... ({len(values)} in all)"
    return f"[{shown}]"
