"""Threshold tuning as a pipeline step, with an exact search over the validation scores.

:class:`ExactThresholdClassifierCV` is a scikit-learn
``TunedThresholdClassifierCV`` whose threshold comes from
:func:`skcal.threshold.find_threshold` over every distinct validation score,
not from a grid of candidate thresholds, and whose objective can be a cost or
a constraint.
"""

# License: BSD-3-Clause

import numbers

import numpy as np
from sklearn import get_config
from sklearn.base import clone
from sklearn.model_selection import (
    StratifiedShuffleSplit,
    TunedThresholdClassifierCV,
    check_cv,
)
from sklearn.utils import indexable
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping, process_routing
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted

from skcal._indexing import take_samples
from skcal._validation import encode_binary_target
from skcal.objectives import resolve_objective
from skcal.threshold import _check_resampling, _python_value, _sweep, find_threshold

__all__ = ["ExactThresholdClassifierCV"]

_RESPONSE_METHODS = ("auto", "predict_proba", "decision_function")


class ExactThresholdClassifierCV(TunedThresholdClassifierCV):
    """Binary classifier whose decision threshold maximises an objective exactly.

    Like scikit-learn's ``TunedThresholdClassifierCV``, of which it is a
    subclass, it fits ``estimator`` and chooses the threshold on validation
    scores. The differences:

    - The threshold is the exact optimum over every distinct validation score
      (:func:`skcal.threshold.find_threshold`), not the best of a grid of
      ``thresholds`` candidates, which is why there is no ``thresholds``
      parameter.
    - ``objective`` replaces ``scoring``. It accepts cost and constraint
      objectives and rejects metrics that do not depend on the threshold,
      such as ROC AUC or log loss, before any estimator is fitted.
    - With ``n_resamples > 0``, ``threshold_result_`` carries bootstrap
      confidence intervals of the threshold and of its score.
    - With a float ``cv`` and ``refit=False`` the estimator is fitted once,
      on the training part, and that fit is the final predictor.
    - With several folds, the out-of-fold scores of all folds are pooled and
      searched together.

    Parameters
    ----------
    estimator : estimator instance
        Binary classifier with ``predict_proba`` or ``decision_function``,
        fitted when ``cv="prefit"``.
    objective : str, tuple or Objective, default="f1"
        What the threshold maximises; anything
        :func:`skcal.objectives.resolve_objective` accepts, for example
        ``"balanced_accuracy"``, ``cost_objective(fp_cost=1, fn_cost=5)`` or
        ``constrained_objective(maximize="precision", recall_at_least=0.9)``.
        Unlike ``TunedThresholdClassifierCV``, whose default is balanced
        accuracy, the default is F1, as in ``find_threshold``.
    pos_label : object, default=None
        The positive class, whose probability the threshold applies to.
        ``None`` takes the larger of the two sorted labels. It is checked
        against the labels of ``y`` before any estimator is fitted.
    response_method : {"auto", "predict_proba", "decision_function"}, default="auto"
        Score to threshold. ``"auto"`` uses ``predict_proba`` when the
        estimator has it, otherwise ``decision_function``. A decision function
        is negated when ``pos_label`` is the first class, so larger always
        means more likely positive.
    cv : int, float, cross-validation splitter, iterable or "prefit", default=None
        How validation scores are obtained: ``None`` for 5-fold stratified
        cross-validation, an int for that many stratified folds, a float in
        (0, 1) for a stratified hold-out of that fraction, a splitter or an
        iterable of (train, test) index pairs, or ``"prefit"`` to score the
        fitted ``estimator`` on all of ``X`` (then ``refit`` must be False).
    refit : bool, default=True
        Refit the estimator on all the data after the threshold is found.
        With ``False``, which needs a single split, the estimator fitted on
        the training part is kept.
    n_jobs : int, default=None
        Number of folds fitted in parallel, through joblib.
    random_state : int, RandomState instance or None, default=None
        Seeds the hold-out split of a float ``cv`` and the bootstrap.
    n_resamples : int, default=0
        Bootstrap resamples of the validation scores for the confidence
        intervals in ``threshold_result_``; 0 skips them.
    confidence_level : float, default=0.95
        Level of those intervals, in (0, 1).
    store_cv_results : bool, default=False
        Store every candidate threshold and its score in ``cv_results_``.

    Attributes
    ----------
    estimator_ : estimator instance
        The fitted classifier used by ``predict``.
    best_threshold_ : float
        Decision threshold on the score of ``pos_label_``: ``predict`` returns
        ``pos_label_`` where the score is ``>= best_threshold_``. ``inf``
        means every sample is predicted negative.
    best_score_ : float
        Objective value at ``best_threshold_`` on the validation scores.
    objective_ : Objective
        The resolved objective.
    threshold_result_ : ThresholdResult
        Full result of the search: confusion counts, tied range and, with
        ``n_resamples > 0``, the intervals.
    pos_label_ : object
        The positive class.
    cv_results_ : dict
        ``{"thresholds": ..., "scores": ...}`` over all candidates; only with
        ``store_cv_results=True``.
    classes_ : ndarray of shape (2,)
        The class labels.
    n_features_in_ : int
        Number of features seen during fit, when the estimator records it.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names seen during fit, when the estimator records them.

    Notes
    -----
    Metadata such as ``sample_weight`` reaches the estimator's ``fit`` and
    the splitter through scikit-learn's metadata routing, which must be
    enabled with ``sklearn.set_config(enable_metadata_routing=True)``.

    .. warning::
        The threshold search itself gives every validation sample the same
        weight: routed ``sample_weight`` is not applied to it.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skcal.objectives import cost_objective
    >>> from skcal.tuning import ExactThresholdClassifierCV
    >>> X, y = make_classification(n_samples=500, weights=[0.8], random_state=0)
    >>> model = ExactThresholdClassifierCV(
    ...     LogisticRegression(),
    ...     objective=cost_objective(fp_cost=1.0, fn_cost=5.0),
    ...     cv=0.3,
    ...     refit=False,
    ...     random_state=0,
    ... ).fit(X, y)
    >>> round(model.best_threshold_, 3)
    0.405
    >>> model.predict(X[:5])
    array([0, 0, 1, 1, 1])
    """

    def __init__(
        self,
        estimator,
        *,
        objective="f1",
        pos_label=None,
        response_method="auto",
        cv=None,
        refit=True,
        n_jobs=None,
        random_state=None,
        n_resamples=0,
        confidence_level=0.95,
        store_cv_results=False,
    ):
        self.estimator = estimator
        self.objective = objective
        self.pos_label = pos_label
        self.response_method = response_method
        self.cv = cv
        self.refit = refit
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.n_resamples = n_resamples
        self.confidence_level = confidence_level
        self.store_cv_results = store_cv_results

    def fit(self, X, y, **params):
        """Fit the estimator and choose the threshold on validation scores.

        Every parameter and the labels are checked before the estimator is
        fitted, so a wrong ``objective`` or ``pos_label`` costs no training.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Training data, in any form the estimator accepts.
        y : array-like of shape (n_samples,)
            Binary target, any two labels.
        **params : dict
            Metadata routed to the estimator's ``fit`` and to the splitter;
            needs metadata routing enabled.

        Returns
        -------
        self : ExactThresholdClassifierCV
        """
        objective = resolve_objective(self.objective)
        _check_resampling(self.n_resamples, self.confidence_level)
        if self.response_method not in _RESPONSE_METHODS:
            raise ValueError(
                f"response_method must be one of {list(_RESPONSE_METHODS)}, got "
                f"{self.response_method!r}."
            )
        X, y = indexable(X, _check_binary_target(y))
        _, _, pos_label = encode_binary_target(y, pos_label=self.pos_label, name="y")
        routed = self._route_params(params)
        splits = self._validation_splits(X, y, routed["splitter"])

        self.estimator_, y_val, scores = self._fit_and_score(
            X, y, splits, routed["estimator"], pos_label
        )

        result = find_threshold(
            y_val,
            scores,
            objective=objective,
            pos_label=pos_label,
            n_resamples=self.n_resamples,
            confidence_level=self.confidence_level,
            random_state=self.random_state,
        )
        self._record_result(objective, result, y_val, scores, pos_label)
        return self

    def predict(self, X):
        """Predict ``pos_label_`` where the score is ``>= best_threshold_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Samples, in any form the estimator accepts.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        # TunedThresholdClassifierCV.predict reads the private grid scorer that
        # its fit builds, which this class does not build, so it is replaced.
        check_is_fitted(self, "estimator_")
        scores = _positive_scores(
            self.estimator_, X, self.response_method, self.pos_label_
        )
        classes = np.asarray(self.classes_)
        positive_index = list(classes).index(self.pos_label_)
        is_positive = scores >= self.best_threshold_
        indices = np.where(is_positive, positive_index, 1 - positive_index)
        return classes[indices]

    def get_metadata_routing(self):
        """Return the routing of fit metadata to the estimator and the splitter.

        Returns
        -------
        routing : MetadataRouter
        """
        return (
            MetadataRouter(owner=self)
            .add(
                estimator=self.estimator,
                method_mapping=MethodMapping().add(caller="fit", callee="fit"),
            )
            .add(
                splitter=self.cv,
                method_mapping=MethodMapping().add(caller="fit", callee="split"),
            )
        )

    def _get_curve_scorer(self):
        # TunedThresholdClassifierCV builds a grid scorer from `scoring`, which
        # this class does not have; the exact search needs none.
        raise AttributeError(
            "ExactThresholdClassifierCV searches thresholds exactly and has no "
            "curve scorer; see find_threshold."
        )

    def _route_params(self, params):
        """Split fit metadata into the estimator's and the splitter's share."""
        if not params:
            return {"estimator": {}, "splitter": {}}
        if not get_config().get("enable_metadata_routing", False):
            raise ValueError(
                f"fit received the extra arguments {sorted(params)}, which are "
                "passed on only through metadata routing. Call "
                "sklearn.set_config(enable_metadata_routing=True) and request "
                "them on the estimator, e.g. estimator.set_fit_request(sample_weight=True)."
            )
        routed = process_routing(self, "fit", **params)
        return {
            "estimator": routed["estimator"]["fit"],
            "splitter": routed["splitter"]["split"],
        }

    def _validation_splits(self, X, y, split_params):
        """Return the list of (train, test) index pairs, or "prefit"."""
        if isinstance(self.cv, str):
            return self._check_prefit()

        if isinstance(self.cv, numbers.Real) and not isinstance(self.cv, numbers.Integral):
            if not 0 < self.cv < 1:
                raise ValueError(
                    f"A float cv is the validation fraction and must be in (0, 1), "
                    f"got {self.cv!r}."
                )
            splitter = StratifiedShuffleSplit(
                n_splits=1, test_size=self.cv, random_state=self.random_state
            )
        else:
            splitter = check_cv(self.cv, y, classifier=True)

        splits = list(splitter.split(X, y, **split_params))
        if not self.refit and len(splits) > 1:
            raise ValueError(
                f"refit=False keeps the estimator fitted on the training part of a "
                f"single split, but cv={self.cv!r} gives {len(splits)} splits. "
                "Pass refit=True, or a float cv for one hold-out."
            )
        return splits

    def _check_prefit(self):
        if self.cv != "prefit":
            raise ValueError(
                f"cv={self.cv!r} is not valid; the only string accepted is "
                "'prefit'. Otherwise pass an int, a float in (0, 1) or a splitter."
            )
        if self.refit:
            raise ValueError(
                "cv='prefit' tunes the threshold of the already fitted estimator, "
                "so refit must be False."
            )
        check_is_fitted(
            self.estimator,
            msg="cv='prefit' needs a fitted estimator; fit it first or pass another cv.",
        )
        return "prefit"

    def _fit_and_score(self, X, y, splits, fit_params, pos_label):
        """Fit the final estimator and return it with the validation labels and scores."""
        if splits == "prefit":
            scores = _positive_scores(self.estimator, X, self.response_method, pos_label)
            return self.estimator, np.asarray(y), scores

        folds = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_and_score_fold)(
                clone(self.estimator),
                X,
                y,
                train,
                test,
                fit_params,
                self.response_method,
                pos_label,
            )
            for train, test in splits
        )
        y_array = np.asarray(y)
        y_val = np.concatenate([y_array[test] for _, test in splits])
        scores = np.concatenate([fold_scores for _, fold_scores in folds])

        if self.refit:
            estimator = clone(self.estimator).fit(X, y, **fit_params)
        else:
            estimator = folds[0][0]
        return estimator, y_val, scores

    def _record_result(self, objective, result, y_val, scores, pos_label):
        self.objective_ = objective
        self.threshold_result_ = result
        self.best_threshold_ = result.threshold
        self.best_score_ = result.score
        self.pos_label_ = _python_value(pos_label)
        if self.store_cv_results:
            y01 = (np.asarray(y_val) == pos_label).astype(np.int64)
            sweep = _sweep(y01, np.asarray(scores, dtype=np.float64), np.ones(y01.shape[0]))
            self.cv_results_ = {
                "thresholds": sweep.thresholds,
                "scores": objective(sweep.tp, sweep.fp, sweep.tn, sweep.fn),
            }
        for name in ("n_features_in_", "feature_names_in_"):
            if hasattr(self.estimator_, name):
                setattr(self, name, getattr(self.estimator_, name))


def _check_binary_target(y):
    """Raise unless ``y`` contains exactly two classes, with scikit-learn's messages."""
    if y is None:
        raise ValueError(
            "ExactThresholdClassifierCV requires y to be passed, but the target y is None."
        )
    target_type = type_of_target(y, input_name="y")
    if target_type != "binary":
        raise ValueError(
            "Only binary classification is supported. Unknown label type: "
            f"{target_type!r}. Pass a target with exactly two classes."
        )
    labels = np.unique(np.asarray(y))
    if labels.shape[0] == 0:
        raise ValueError("y is empty; tuning a threshold needs samples of both classes.")
    if labels.shape[0] == 1:
        raise ValueError(
            f"y contains one class only ({_python_value(labels[0])!r}), but tuning "
            "a threshold needs samples of both classes."
        )
    return y


def _fit_and_score_fold(
    estimator, X, y, train, test, fit_params, response_method, pos_label
):
    """Fit on one training part and return the estimator and its validation scores."""
    n_samples = len(y)
    train_params = {
        name: take_samples(value, train) if _is_per_sample(value, n_samples) else value
        for name, value in fit_params.items()
    }
    estimator.fit(take_samples(X, train), take_samples(y, train), **train_params)
    scores = _positive_scores(estimator, take_samples(X, test), response_method, pos_label)
    return estimator, scores


def _positive_scores(estimator, X, response_method, pos_label):
    """Return the score of ``pos_label`` for each sample, larger meaning more likely."""
    if response_method == "auto":
        has_proba = hasattr(estimator, "predict_proba")
        response_method = "predict_proba" if has_proba else "decision_function"
    if not hasattr(estimator, response_method):
        raise ValueError(
            f"{type(estimator).__name__} has no {response_method} method. Pass "
            "response_method='auto' or the method it has."
        )

    classes = list(estimator.classes_)
    if pos_label not in classes:
        raise ValueError(
            f"pos_label={_python_value(pos_label)!r} is not among the classes "
            f"{[_python_value(c) for c in classes]} of the fitted estimator. Pass "
            "one of them as pos_label."
        )
    if response_method == "predict_proba":
        return np.asarray(estimator.predict_proba(X))[:, classes.index(pos_label)]

    decision = np.asarray(estimator.decision_function(X)).ravel()
    return decision if classes.index(pos_label) == 1 else -decision


def _is_per_sample(value, n_samples):
    return (
        not isinstance(value, str)
        and hasattr(value, "__len__")
        and len(value) == n_samples
    )
