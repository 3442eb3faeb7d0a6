"""Helpers shared by the displays: lazy matplotlib import and estimator scores."""

import numpy as np
from sklearn.utils.validation import check_is_fitted


def import_pyplot():
    """Import and return ``matplotlib.pyplot``, with a clear error when it is missing."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as err:
        raise ImportError(
            "skcal's displays need matplotlib. Install it with `pip install matplotlib`."
        ) from err
    return plt


def axes_and_figure(ax):
    """Return ``ax`` and its figure, creating both when ``ax`` is None."""
    if ax is None:
        plt = import_pyplot()
        _, ax = plt.subplots()
    return ax, ax.figure


def positive_scores_from_estimator(estimator, X, pos_label=None):
    """Return P(positive) from a fitted binary classifier, the positive label and a name.

    Raises ``ValueError`` for an estimator with other than two classes or
    without ``predict_proba``.
    """
    check_is_fitted(estimator)
    classes = getattr(estimator, "classes_", None)
    if classes is None or len(classes) != 2:
        found = "no classes_" if classes is None else f"{len(classes)} classes"
        raise ValueError(
            f"{type(estimator).__name__} has {found}, but this display needs a fitted "
            "binary classifier."
        )
    if not hasattr(estimator, "predict_proba"):
        raise ValueError(
            f"{type(estimator).__name__} has no predict_proba. Pass a probabilistic "
            "classifier, or use from_predictions with its scores."
        )

    classes = np.asarray(classes)
    if pos_label is None:
        pos_label = classes[-1]
    elif pos_label not in set(classes.tolist()):
        raise ValueError(
            f"pos_label={pos_label!r} is not one of the estimator's classes "
            f"{classes.tolist()}. Pass one of them."
        )
    column = int(np.flatnonzero(classes == pos_label)[0])
    y_prob = estimator.predict_proba(X)[:, column]
    return y_prob, pos_label, type(estimator).__name__


def format_label(label):
    """Return a label for a legend: numpy scalars shown as plain Python values."""
    return label.item() if isinstance(label, np.generic) else label
