"""Compose the network, temperature scaling and threshold tuning in one estimator."""

import numbers

from skcal.resnet import ResNet18Classifier
from skcal.temperature import TemperatureScalingClassifier
from skcal.tuning import ExactThresholdClassifierCV

__all__ = ["make_calibrated_classifier"]


def make_calibrated_classifier(
    *,
    objective="f1",
    scoring=None,
    pos_label=None,
    fit_bias=False,
    calibration_cv=0.2,
    threshold_cv=0.2,
    n_resamples=0,
    confidence_level=0.95,
    random_state=None,
    **network_params,
):
    """Build a calibrated, threshold-tuned ResNet18 classifier.

    The result is a scikit-learn ``TunedThresholdClassifierCV`` (skcal's
    exact-search subclass) around a :class:`~skcal.TemperatureScalingClassifier`
    around a :class:`~skcal.ResNet18Classifier`::

        ExactThresholdClassifierCV(
            TemperatureScalingClassifier(ResNet18Classifier(**network_params)),
            objective=objective,
        )

    so the threshold is tuned on calibrated probabilities, and the whole
    composition works with ``clone``, ``Pipeline``, ``cross_validate`` and
    ``GridSearchCV`` (nested names such as
    ``estimator__estimator__max_epochs``).

    With the defaults, one call to ``fit`` trains the network exactly once.
    A stratified hold-out of ``threshold_cv`` of the data is set aside for the
    threshold, and of the rest a stratified hold-out of ``calibration_cv`` is
    set aside for the temperature; the network trains on what remains
    (64 % of the data with both at 0.2). Neither hold-out is used for training,
    and the network fitted on the training part is the final predictor.

    Cross-validated variants cost more network fits. With ``calibration_cv=c``
    (an int) the temperature comes from out-of-fold logits of ``c`` networks
    and one more network is fitted on the calibration set's training data:
    ``c + 1`` fits. With ``threshold_cv=k`` (an int) the threshold comes from
    out-of-fold calibrated scores and the calibrated model is refitted on all
    the data: ``k + 1`` times the fits of one calibrated model. Both ints
    together train ``(k + 1) * (c + 1)`` networks.

    Parameters
    ----------
    objective : str, Objective or scorer, default="f1"
        What the threshold maximises: a name such as ``"f1"``,
        ``"balanced_accuracy"``, ``"youden"``, or an objective from
        :func:`skcal.cost_objective` or :func:`skcal.constrained_objective`.
        Metrics that do not depend on the threshold (ROC AUC, log loss,
        Brier score) are rejected.
    scoring : str, Objective or scorer, default=None
        Alias of ``objective``, in the style of scikit-learn's
        ``TunedThresholdClassifierCV``. Pass at most one of the two.
    pos_label : object, default=None
        The positive class; ``None`` takes the larger of the two sorted
        labels. It is checked against the labels before any training.
    fit_bias : bool, default=False
        Also fit a bias, ``sigmoid((z - b) / T)``, which removes a shift of
        the logits that temperature alone cannot.
    calibration_cv : float, int or cross-validation splitter, default=0.2
        Hold-out fraction, or folds, for the temperature. See above for the
        number of network fits each choice costs.
    threshold_cv : float, int or cross-validation splitter, default=0.2
        Hold-out fraction, or folds, for the threshold.
    n_resamples : int, default=0
        Bootstrap resamples of the threshold hold-out; with a positive value
        the fitted model reports the threshold's confidence interval in
        ``threshold_result_``.
    confidence_level : float, default=0.95
        Level of that interval.
    random_state : int or None, default=None
        Seeds the hold-out splits and, unless ``network_params`` sets its own,
        the network's initial weights and data order.
    **network_params
        Passed to :class:`~skcal.ResNet18Classifier`, for example
        ``max_epochs=1, batch_size=32, image_size=32``.

    Returns
    -------
    model : ExactThresholdClassifierCV
        An unfitted estimator. After ``fit``: ``best_threshold_`` (on the
        calibrated probability of ``pos_label``),
        ``estimator_.temperature_`` and ``estimator_.estimator_`` (the
        network).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skcal import make_calibrated_classifier
    >>> digits = load_digits()
    >>> X, y = digits.images[:120] / 16, digits.target[:120] == 8
    >>> model = make_calibrated_classifier(
    ...     max_epochs=1, batch_size=32, n_threads=1, random_state=0
    ... )
    >>> model = model.fit(X, y)
    >>> model.predict_proba(X[:2]).shape
    (2, 2)
    >>> 0.0 <= model.best_threshold_ <= 1.0
    True
    """
    objective = _resolve_objective_alias(objective, scoring)

    if random_state is not None:
        network_params.setdefault("random_state", random_state)
    network = ResNet18Classifier(**network_params)

    calibrated = TemperatureScalingClassifier(
        network,
        cv=calibration_cv,
        fit_bias=fit_bias,
        random_state=random_state,
    )
    return ExactThresholdClassifierCV(
        calibrated,
        objective=objective,
        pos_label=pos_label,
        cv=threshold_cv,
        refit=not _is_fraction(threshold_cv),
        n_resamples=n_resamples,
        confidence_level=confidence_level,
        random_state=random_state,
    )


def _resolve_objective_alias(objective, scoring):
    if scoring is None:
        return objective
    if objective != "f1":
        raise ValueError(
            f"objective={objective!r} and scoring={scoring!r} were both given; "
            "they set the same thing. Pass only objective."
        )
    return scoring


def _is_fraction(cv):
    return isinstance(cv, numbers.Real) and not isinstance(cv, numbers.Integral)
