"""Temperature scaling as a scikit-learn meta-estimator."""

import numbers
import warnings

import numpy as np
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import check_cv, train_test_split
from sklearn.utils import get_tags, indexable
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    has_fit_parameter,
)

from skcal._indexing import take_samples
from skcal._validation import check_sample_weight
from skcal.exceptions import CalibrationWarning
from skcal.temperature._fit import fit_temperature_details
from skcal.temperature._passes import is_torch_tensor

DEFAULT_N_SPLITS = 5


class TemperatureScalingClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Classifier whose logits are divided by a fitted temperature.

    The wrapped estimator's logits ``z`` become ``(z - b) / T``, with one
    scalar temperature ``T > 0`` fitted by minimising the negative
    log-likelihood on calibration data. With ``fit_bias=True`` on binary
    problems, one bias ``b`` is fitted too, otherwise ``b = 0``. See
    :func:`fit_temperature` for the objective, the solver and its bounds.
    ``T`` never changes the ranking of the samples.

    Logits are the base estimator's ``decision_function`` when it has one
    (shape ``(n_samples,)`` or ``(n_samples, 1)`` for binary problems,
    ``(n_samples, n_classes)`` otherwise). Otherwise they are log-probabilities
    from ``predict_proba``, computed in float64. Probabilities are clipped
    below at the smallest positive normal number of their dtype, about
    1.2e-38 for float32, so a float32 probability saturated at 0 gives a log
    of about -87.3. ``fit`` issues a
    :class:`~skcal.exceptions.CalibrationWarning` when calibration
    probabilities saturate at 0, because those samples lose their ranking.

    Parameters
    ----------
    estimator : estimator object, default=None
        The classifier to calibrate. ``None`` means
        ``LogisticRegression()``. Wrap an already fitted model in
        :class:`sklearn.frozen.FrozenEstimator` to calibrate it without
        refitting.
    cv : None, int, float, cross-validation generator or iterable, default=None
        Which data fits the temperature, and what the final predictor is:

        - ``None`` with a ``FrozenEstimator``: the temperature is fitted on
          all the data passed to ``fit``. The frozen model is never refit and
          is the final predictor.
        - ``None`` otherwise: as the integer 5.
        - int, splitter or iterable of (train, test) splits: clones of the
          estimator are fitted on the training folds and the temperature on
          the pooled out-of-fold logits, so every sample is scored by a model
          that did not see it. The final predictor is then a clone fitted on
          all the data, so that every sample also serves for training. This
          assumes that its logits are miscalibrated like those of the fold
          models, which saw (k - 1) / k of the data. Integers use stratified
          folds without shuffling.
        - float in (0, 1): one stratified hold-out of that fraction, drawn
          with ``random_state``. The estimator is fitted once, on the rest,
          and is the final predictor; the temperature is fitted on the
          hold-out. Use this for networks that should train only once.
    fit_bias : bool, default=False
        Also fit the bias ``b`` of ``sigmoid((z - b) / T)`` (binary
        problems only). The bias moves the 0.5 decision point from ``z = 0``
        to ``z = b``, so ``predict`` can differ from the base estimator's;
        with ``fit_bias=False`` the decisions are identical.
    random_state : int, RandomState instance or None, default=None
        Seeds the hold-out split when ``cv`` is a float.

    Attributes
    ----------
    temperature_ : float
        The fitted temperature.
    bias_ : float
        The fitted bias, 0.0 when ``fit_bias=False``.
    estimator_ : estimator object
        The final predictor (see ``cv``).
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    n_features_in_ : int
        Number of features seen by the final predictor, when it records it.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names seen by the final predictor, when it records them.

    See Also
    --------
    fit_temperature : Fit a temperature to precomputed logits.
    sklearn.calibration.CalibratedClassifierCV : Other calibration methods.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skcal.temperature import TemperatureScalingClassifier
    >>> X, y = make_classification(n_samples=400, random_state=0)
    >>> model = TemperatureScalingClassifier(LogisticRegression(), cv=0.25,
    ...                                      random_state=0).fit(X, y)
    >>> model.predict_proba(X[:2]).shape
    (2, 2)
    >>> model.temperature_ > 0
    True
    """

    def __init__(self, estimator=None, *, cv=None, fit_bias=False, random_state=None):
        self.estimator = estimator
        self.cv = cv
        self.fit_bias = fit_bias
        self.random_state = random_state

    def fit(self, X, y, sample_weight=None):
        """Fit the estimator (unless frozen) and the temperature.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Input accepted by the estimator.
        y : array-like of shape (n_samples,)
            Class labels: ints, strings or bools.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the temperature fit, also passed to the estimator's
            ``fit`` when it accepts ``sample_weight``.

        Returns
        -------
        self : TemperatureScalingClassifier
            The fitted classifier.
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        self._check_params()
        X, y = indexable(X, y)
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        check_consistent_length(X, y)
        if self.fit_bias and np.unique(y).shape[0] > 2:
            raise ValueError(
                "Only binary classification is supported with fit_bias=True, "
                f"but y has {np.unique(y).shape[0]} classes. Use fit_bias=False "
                "for multiclass data."
            )
        if sample_weight is not None:
            sample_weight = _check_fit_weights(sample_weight, y.shape[0])

        base = self._base_estimator()
        if isinstance(base, FrozenEstimator):
            logits, y_cal, w_cal = self._fit_frozen(base, X, y, sample_weight)
        elif isinstance(self.cv, numbers.Real) and not isinstance(self.cv, numbers.Integral):
            logits, y_cal, w_cal = self._fit_holdout(base, X, y, sample_weight)
        else:
            logits, y_cal, w_cal = self._fit_cross(base, X, y, sample_weight)

        encoded = np.searchsorted(self.classes_, y_cal)
        fit = fit_temperature_details(
            logits, encoded, sample_weight=w_cal, fit_bias=self.fit_bias
        )
        self.temperature_ = fit.temperature
        self.bias_ = fit.bias
        self._record_features()
        return self

    def decision_function(self, X):
        """Return the calibrated logits ``(z - bias_) / temperature_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Input accepted by the estimator.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Log-odds of ``classes_[1]`` for binary problems, logits otherwise.
        """
        check_is_fitted(self)
        logits = _logits(self.estimator_, X, len(self.classes_))
        return (logits - self.bias_) / self.temperature_

    def predict_proba(self, X):
        """Return calibrated class probabilities in ``classes_`` order.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Input accepted by the estimator.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            ``sigmoid`` of the calibrated log-odds for binary problems,
            ``softmax`` of the calibrated logits otherwise.
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return np.column_stack([expit(-scores), expit(scores)])
        return softmax(scores, axis=1)

    def predict(self, X):
        """Return the class with the largest calibrated probability.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Input accepted by the estimator.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Predicted labels from ``classes_``.
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(np.intp)]
        return self.classes_[np.argmax(scores, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        base_tags = get_tags(self._base_estimator())
        tags.input_tags.sparse = base_tags.input_tags.sparse
        tags.input_tags.allow_nan = base_tags.input_tags.allow_nan
        # A bias is defined for one logit per sample, so fit_bias=True
        # supports binary problems only.
        tags.classifier_tags.multi_class = not self.fit_bias
        return tags

    def _base_estimator(self):
        return LogisticRegression() if self.estimator is None else self.estimator

    def _check_params(self):
        cv = self.cv
        if isinstance(cv, numbers.Real) and not isinstance(cv, (numbers.Integral, bool)):
            if not 0.0 < cv < 1.0:
                raise ValueError(
                    f"cv={cv!r} is a float outside (0, 1). Pass the hold-out "
                    "fraction, for example cv=0.2, or an integer number of folds."
                )
        elif isinstance(cv, numbers.Integral) and not isinstance(cv, bool) and cv < 2:
            raise ValueError(
                f"cv={cv!r} folds is too few; pass an integer of at least 2, a "
                "float hold-out fraction in (0, 1), a splitter or None."
            )
        if isinstance(cv, bool):
            raise ValueError(f"cv={cv!r} is not valid; pass None, an int, a float or a splitter.")
        if self.fit_bias not in (True, False):
            raise ValueError(f"fit_bias={self.fit_bias!r} must be True or False.")
        if isinstance(self.estimator, FrozenEstimator) and cv is not None:
            raise ValueError(
                f"cv={cv!r} cannot be used with a FrozenEstimator: a frozen model is "
                "never refit, so the temperature is fitted on all the data passed "
                "to fit. Use cv=None."
            )

    def _fit_frozen(self, base, X, y, sample_weight):
        self.estimator_ = base
        self.classes_ = np.asarray(base.classes_)
        unknown = np.setdiff1d(np.unique(y), self.classes_)
        if unknown.size:
            raise ValueError(
                f"y contains labels {unknown.tolist()!r} that the frozen estimator "
                f"does not predict (its classes_ are {self.classes_.tolist()!r}). "
                "Calibrate on labels from that set."
            )
        logits = _logits(base, X, len(self.classes_), warn=True)
        return logits, y, sample_weight

    def _fit_holdout(self, base, X, y, sample_weight):
        self.classes_ = _check_two_classes(y)
        indices = np.arange(y.shape[0])
        train, held_out = train_test_split(
            indices, test_size=self.cv, stratify=y, random_state=self.random_state
        )
        self.estimator_ = _fit_clone(base, X, y, sample_weight, train)
        _check_fold_classes(self.estimator_, self.classes_)
        logits = _logits(self.estimator_, take_samples(X, held_out), len(self.classes_), warn=True)
        weights = None if sample_weight is None else sample_weight[held_out]
        return logits, y[held_out], weights

    def _fit_cross(self, base, X, y, sample_weight):
        self.classes_ = _check_two_classes(y)
        n_splits = DEFAULT_N_SPLITS if self.cv is None else self.cv
        splitter = check_cv(n_splits, y, classifier=True)

        fold_logits, fold_rows = [], []
        for train, test in splitter.split(X, y):
            model = _fit_clone(base, X, y, sample_weight, train)
            _check_fold_classes(model, self.classes_)
            fold_logits.append(
                _logits(model, take_samples(X, test), len(self.classes_), warn=True)
            )
            fold_rows.append(np.asarray(test))

        rows = np.concatenate(fold_rows)
        all_rows = np.arange(y.shape[0])
        self.estimator_ = _fit_clone(base, X, y, sample_weight, all_rows)
        weights = None if sample_weight is None else sample_weight[rows]
        return np.concatenate(fold_logits), y[rows], weights

    def _record_features(self):
        for name in ("n_features_in_", "feature_names_in_"):
            if hasattr(self.estimator_, name):
                setattr(self, name, getattr(self.estimator_, name))


def _check_fit_weights(sample_weight, n_samples):
    if np.all(np.asarray(sample_weight, dtype=np.float64) == 0):
        raise ValueError(
            "All sample weights are zero; at least one sample needs a positive weight."
        )
    return check_sample_weight(sample_weight, n_samples)


def _check_two_classes(y):
    classes = np.unique(y)
    if classes.shape[0] < 2:
        raise ValueError(
            f"y contains one class only ({classes.tolist()!r}); temperature "
            "scaling needs samples of at least two classes."
        )
    return classes


def _check_fold_classes(model, classes):
    fold_classes = np.asarray(model.classes_)
    if fold_classes.shape != classes.shape or not np.all(fold_classes == classes):
        raise ValueError(
            f"A training split contains the classes {fold_classes.tolist()!r} but y "
            f"contains {classes.tolist()!r}. Use fewer folds or a larger hold-out "
            "so that every split contains every class."
        )


def _fit_clone(base, X, y, sample_weight, rows):
    model = clone(base)
    X_rows, y_rows = take_samples(X, rows), y[rows]
    if sample_weight is not None and has_fit_parameter(model, "sample_weight"):
        return model.fit(X_rows, y_rows, sample_weight=sample_weight[rows])
    return model.fit(X_rows, y_rows)


def _to_numpy(values):
    if is_torch_tensor(values):
        return values.detach().cpu().numpy()
    return np.asarray(values)


def _logits(model, X, n_classes, *, warn=False):
    """Return the model's logits: (n,) for two classes, (n, k) otherwise."""
    if hasattr(model, "decision_function"):
        scores = _to_numpy(model.decision_function(X))
        if scores.dtype.kind not in "f":
            scores = scores.astype(np.float64)
        return _shape_scores(scores, n_classes)

    proba = _to_numpy(model.predict_proba(X))
    dtype = proba.dtype if proba.dtype.kind == "f" else np.dtype(np.float64)
    smallest = np.finfo(dtype).tiny
    if warn and np.any(proba < smallest):
        warnings.warn(
            f"{int(np.sum(proba < smallest))} predicted probabilities are saturated "
            f"at 0 in {dtype}; they are clipped to {smallest:.3g} (log "
            f"{np.log(smallest):.1f}), so those samples lose their ranking. Give the "
            "estimator a decision_function that returns logits to avoid this.",
            CalibrationWarning,
            stacklevel=4,
        )
    log_proba = np.log(np.clip(proba.astype(np.float64), smallest, None))
    if n_classes == 2:
        return log_proba[:, 1] - log_proba[:, 0]
    return log_proba


def _shape_scores(scores, n_classes):
    if n_classes == 2:
        if scores.ndim == 2 and scores.shape[1] == 1:
            return scores[:, 0]
        if scores.ndim == 2 and scores.shape[1] == 2:
            return scores[:, 1] - scores[:, 0]
        if scores.ndim == 1:
            return scores
    elif scores.ndim == 2 and scores.shape[1] == n_classes:
        return scores
    raise ValueError(
        f"decision_function returned shape {scores.shape} for {n_classes} classes; "
        f"expected (n_samples,) or (n_samples, 1) for two classes and "
        f"(n_samples, {n_classes}) otherwise."
    )
