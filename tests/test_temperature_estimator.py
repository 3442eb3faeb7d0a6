"""Tests of TemperatureScalingClassifier, the temperature-scaling meta-estimator."""

import warnings

import numpy as np
import pytest
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from skcal.exceptions import CalibrationWarning
from skcal.temperature import TemperatureScalingClassifier, fit_temperature


# These checks fit three-class data, which fit_bias=True rejects because a
# single bias has no meaning for a softmax over several classes.


@parametrize_with_checks(
    [
        TemperatureScalingClassifier(LogisticRegression()),
        TemperatureScalingClassifier(LogisticRegression(), fit_bias=True),
    ],
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


class CountingLogisticRegression(LogisticRegression):
    """Logistic regression that counts calls to fit on the class."""

    n_fits = 0

    def fit(self, X, y, sample_weight=None):
        type(self).n_fits += 1
        return super().fit(X, y, sample_weight=sample_weight)


class ProbaOnlyClassifier(ClassifierMixin, BaseEstimator):
    """Classifier exposing only predict_proba: softmax of scaled logits."""

    def __init__(self, scale=5.0, dtype="float64"):
        self.scale = scale
        self.dtype = dtype

    def fit(self, X, y):
        self.model_ = LogisticRegression().fit(X, y)
        self.classes_ = self.model_.classes_
        self.n_features_in_ = self.model_.n_features_in_
        return self

    def predict_proba(self, X):
        scores = self.scale * self.model_.decision_function(X)
        if scores.ndim == 1:
            scores = np.column_stack([-scores / 2, scores / 2])
        scores = scores - scores.max(axis=1, keepdims=True)
        proba = np.exp(scores)
        return (proba / proba.sum(axis=1, keepdims=True)).astype(self.dtype)


def _binary_data(n_samples=600, seed=0):
    return make_classification(
        n_samples=n_samples, n_features=6, n_informative=4, flip_y=0.1, random_state=seed
    )


def _multiclass_data(n_samples=600, seed=0):
    return make_classification(
        n_samples=n_samples,
        n_features=8,
        n_informative=5,
        n_classes=4,
        flip_y=0.1,
        random_state=seed,
    )


def test_frozen_estimator_never_refits():
    X, y = _binary_data()
    model = CountingLogisticRegression().fit(X[:300], y[:300])
    before = CountingLogisticRegression.n_fits
    calibrated = TemperatureScalingClassifier(FrozenEstimator(model)).fit(X[300:], y[300:])
    assert CountingLogisticRegression.n_fits == before
    assert calibrated.estimator_.estimator is model


def test_frozen_temperature_uses_all_data():
    X, y = _binary_data()
    model = LogisticRegression().fit(X[:300], y[:300])
    calibrated = TemperatureScalingClassifier(FrozenEstimator(model)).fit(X[300:], y[300:])
    expected = fit_temperature(model.decision_function(X[300:]), y[300:])
    assert calibrated.temperature_ == pytest.approx(expected, rel=1e-12)


def test_frozen_estimator_rejects_cv():
    X, y = _binary_data()
    model = LogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match="cannot be used with a FrozenEstimator"):
        TemperatureScalingClassifier(FrozenEstimator(model), cv=3).fit(X, y)


def test_frozen_estimator_unknown_label():
    X, y = _binary_data()
    model = LogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match="does not predict"):
        TemperatureScalingClassifier(FrozenEstimator(model)).fit(X, np.where(y == 1, 7, 0))


def test_holdout_fits_base_once():
    X, y = _binary_data()
    before = CountingLogisticRegression.n_fits
    calibrated = TemperatureScalingClassifier(
        CountingLogisticRegression(), cv=0.25, random_state=0
    ).fit(X, y)
    assert CountingLogisticRegression.n_fits == before + 1
    assert calibrated.estimator_.coef_.shape == (1, 6)


def test_holdout_temperature_matches_manual_split():
    from sklearn.model_selection import train_test_split

    X, y = _binary_data()
    rows = np.arange(len(y))
    train, held_out = train_test_split(rows, test_size=0.25, stratify=y, random_state=3)
    base = LogisticRegression().fit(X[train], y[train])
    expected = fit_temperature(base.decision_function(X[held_out]), y[held_out])
    calibrated = TemperatureScalingClassifier(cv=0.25, random_state=3).fit(X, y)
    assert calibrated.temperature_ == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(calibrated.estimator_.coef_, base.coef_)


def test_int_cv_fits_folds_and_refit():
    X, y = _binary_data()
    before = CountingLogisticRegression.n_fits
    TemperatureScalingClassifier(CountingLogisticRegression(), cv=3).fit(X, y)
    assert CountingLogisticRegression.n_fits == before + 4


def test_int_cv_uses_out_of_fold_logits():
    X, y = _multiclass_data()
    splitter = KFold(n_splits=4, shuffle=True, random_state=0)
    logits = np.empty((len(y), 4))
    for train, test in splitter.split(X, y):
        logits[test] = LogisticRegression().fit(X[train], y[train]).decision_function(X[test])
    calibrated = TemperatureScalingClassifier(cv=splitter).fit(X, y)
    assert calibrated.temperature_ == pytest.approx(fit_temperature(logits, y), rel=1e-9)
    final = LogisticRegression().fit(X, y)
    np.testing.assert_allclose(calibrated.estimator_.coef_, final.coef_)


def test_default_cv_is_five_folds():
    X, y = _binary_data()
    before = CountingLogisticRegression.n_fits
    TemperatureScalingClassifier(CountingLogisticRegression()).fit(X, y)
    assert CountingLogisticRegression.n_fits == before + 6


@pytest.mark.parametrize(
    "labels", [np.array(["cat", "dog"]), np.array([False, True]), np.array([-3, 5])]
)
def test_any_binary_labels(labels):
    X, y = _binary_data()
    y_labels = labels[y]
    calibrated = TemperatureScalingClassifier(cv=0.3, random_state=0).fit(X, y_labels)
    reference = TemperatureScalingClassifier(cv=0.3, random_state=0).fit(X, y)
    np.testing.assert_array_equal(calibrated.classes_, labels)
    assert calibrated.temperature_ == pytest.approx(reference.temperature_, rel=1e-12)
    np.testing.assert_array_equal(calibrated.predict(X), labels[reference.predict(X)])


def test_string_multiclass_labels():
    X, y = _multiclass_data()
    names = np.array(["ant", "bee", "cat", "dog"])
    calibrated = TemperatureScalingClassifier(cv=3).fit(X, names[y])
    np.testing.assert_array_equal(calibrated.classes_, names)
    assert calibrated.predict_proba(X).shape == (len(y), 4)


@pytest.mark.parametrize("fit_bias", [False, True])
def test_binary_outputs_match_formula(fit_bias):
    X, y = _binary_data()
    model = LogisticRegression().fit(X[:300], y[:300])
    calibrated = TemperatureScalingClassifier(
        FrozenEstimator(model), fit_bias=fit_bias
    ).fit(X[300:], y[300:])
    z = model.decision_function(X)
    expected = (z - calibrated.bias_) / calibrated.temperature_
    np.testing.assert_allclose(calibrated.decision_function(X), expected)
    np.testing.assert_allclose(calibrated.predict_proba(X)[:, 1], expit(expected))
    np.testing.assert_allclose(calibrated.predict_proba(X).sum(axis=1), 1.0)


def test_bias_zero_without_fit_bias():
    X, y = _binary_data()
    calibrated = TemperatureScalingClassifier(cv=0.3, random_state=0).fit(X, y)
    assert calibrated.bias_ == 0.0


def test_predict_matches_base_binary():
    X, y = _binary_data()
    model = LogisticRegression(C=0.01).fit(X[:200], y[:200])
    calibrated = TemperatureScalingClassifier(FrozenEstimator(model)).fit(X[200:], y[200:])
    np.testing.assert_array_equal(calibrated.predict(X), model.predict(X))


def test_predict_matches_base_multiclass():
    X, y = _multiclass_data()
    model = LogisticRegression().fit(X[:300], y[:300])
    calibrated = TemperatureScalingClassifier(FrozenEstimator(model)).fit(X[300:], y[300:])
    np.testing.assert_array_equal(calibrated.predict(X), model.predict(X))
    assert calibrated.decision_function(X).shape == (len(y), 4)


def test_sample_weight_reaches_temperature():
    X, y = _binary_data()
    model = LogisticRegression().fit(X[:300], y[:300])
    weights = np.random.default_rng(0).integers(0, 4, size=300).astype(float)
    calibrated = TemperatureScalingClassifier(FrozenEstimator(model)).fit(
        X[300:], y[300:], sample_weight=weights
    )
    expected = fit_temperature(
        model.decision_function(X[300:]), y[300:], sample_weight=weights
    )
    assert calibrated.temperature_ == pytest.approx(expected, rel=1e-12)


def test_sample_weight_reaches_base():
    X, y = _binary_data()
    weights = np.random.default_rng(1).uniform(0.1, 3.0, size=len(y))
    calibrated = TemperatureScalingClassifier(cv=0.3, random_state=0).fit(
        X, y, sample_weight=weights
    )
    unweighted = TemperatureScalingClassifier(cv=0.3, random_state=0).fit(X, y)
    assert not np.allclose(calibrated.estimator_.coef_, unweighted.estimator_.coef_)


def test_predict_proba_fallback_matches_logits():
    X, y = _binary_data()
    base = ProbaOnlyClassifier().fit(X[:300], y[:300])
    calibrated = TemperatureScalingClassifier(FrozenEstimator(base)).fit(X[300:], y[300:])
    z = 5.0 * base.model_.decision_function(X[300:])
    assert calibrated.temperature_ == pytest.approx(fit_temperature(z, y[300:]), rel=1e-6)


def test_saturated_float32_proba_warns():
    X, y = _binary_data()
    base = ProbaOnlyClassifier(scale=200.0, dtype="float32").fit(X[:300], y[:300])
    assert np.any(base.predict_proba(X[300:]) == 0)
    with pytest.warns(CalibrationWarning, match="saturated"):
        calibrated = TemperatureScalingClassifier(FrozenEstimator(base)).fit(
            X[300:], y[300:]
        )
    assert np.isfinite(calibrated.temperature_)
    assert calibrated.temperature_ > 0
    assert np.all(np.isfinite(calibrated.decision_function(X)))


def test_multiclass_proba_fallback():
    X, y = _multiclass_data()
    base = GaussianNB().fit(X[:300], y[:300])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CalibrationWarning)
        calibrated = TemperatureScalingClassifier(FrozenEstimator(base)).fit(
            X[300:], y[300:]
        )
    np.testing.assert_array_equal(calibrated.predict(X), base.predict(X))


def test_in_pipeline_and_grid_search():
    X, y = _binary_data()
    pipeline = make_pipeline(
        StandardScaler(), TemperatureScalingClassifier(LogisticRegression(), cv=3)
    )
    search = GridSearchCV(
        pipeline,
        {"temperaturescalingclassifier__estimator__C": [0.1, 1.0]},
        scoring="neg_log_loss",
        cv=3,
    ).fit(X, y)
    assert search.best_params_["temperaturescalingclassifier__estimator__C"] in (0.1, 1.0)


def test_cross_validate_runs():
    X, y = _binary_data()
    scores = cross_validate(
        TemperatureScalingClassifier(cv=0.3, random_state=0), X, y, cv=3,
        scoring="neg_log_loss",
    )
    assert np.all(np.isfinite(scores["test_score"]))


def test_nested_params_and_clone():
    model = TemperatureScalingClassifier(LogisticRegression(C=2.0), cv=0.2)
    assert model.get_params()["estimator__C"] == 2.0
    model.set_params(estimator__C=0.5, fit_bias=True)
    copy = clone(model)
    assert copy.estimator.C == 0.5
    assert copy.fit_bias is True


def test_n_features_in_recorded():
    X, y = _binary_data()
    calibrated = TemperatureScalingClassifier(cv=0.3, random_state=0).fit(X, y)
    assert calibrated.n_features_in_ == 6


@pytest.mark.parametrize(
    "params, message",
    [
        ({"cv": 1.5}, "float outside"),
        ({"cv": 0.0}, "float outside"),
        ({"cv": 1}, "too few"),
        ({"cv": True}, "not valid"),
        ({"fit_bias": "yes"}, "must be True or False"),
    ],
)
def test_invalid_params_raise(params, message):
    X, y = _binary_data()
    with pytest.raises(ValueError, match=message):
        TemperatureScalingClassifier(**params).fit(X, y)


def test_one_class_raises():
    X, _ = _binary_data()
    with pytest.raises(ValueError, match="one class"):
        TemperatureScalingClassifier().fit(X, np.zeros(len(X)))


def test_fold_missing_class_raises():
    X, y = _binary_data(n_samples=200)
    y = y.copy()
    y[:3] = 2
    with pytest.raises(ValueError, match="every split contains every class"):
        TemperatureScalingClassifier(cv=KFold(3)).fit(X, y)


def test_fit_bias_multiclass_raises():
    X, y = _multiclass_data()
    with pytest.raises(ValueError, match="Only binary classification is supported with fit_bias=True"):
        TemperatureScalingClassifier(cv=0.3, fit_bias=True).fit(X, y)
