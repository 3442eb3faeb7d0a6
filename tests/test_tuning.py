import pickle

import joblib
import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    StratifiedShuffleSplit,
    TunedThresholdClassifierCV,
    cross_val_predict,
    cross_validate,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from skcal.objectives import constrained_objective, cost_objective
from skcal.threshold import ThresholdResult, find_threshold
from skcal.tuning import ExactThresholdClassifierCV


class CountingLogisticRegression(LogisticRegression):
    """LogisticRegression that records the size of every fit in a class list."""

    fits = []

    def fit(self, X, y, sample_weight=None):
        CountingLogisticRegression.fits.append(len(y))
        return super().fit(X, y, sample_weight=sample_weight)


@pytest.fixture
def fit_log():
    CountingLogisticRegression.fits = []
    return CountingLogisticRegression.fits


@pytest.fixture(scope="module")
def cancer():
    """Breast cancer data, scaled, with string labels: 'benign' sorts first."""
    data = load_breast_cancer()
    X = StandardScaler().fit_transform(data.data)
    y = np.where(data.target == 1, "benign", "malignant")
    return X, y


@pytest.fixture(scope="module")
def synthetic():
    return make_classification(
        n_samples=600, n_features=6, weights=[0.7], flip_y=0.1, random_state=0
    )


def test_is_tuned_threshold_classifier():
    model = ExactThresholdClassifierCV(LogisticRegression())

    assert isinstance(model, TunedThresholdClassifierCV)


def test_kfold_threshold_is_exact_on_pooled_scores(synthetic):
    X, y = synthetic
    cv = StratifiedKFold(4, shuffle=True, random_state=0)

    model = ExactThresholdClassifierCV(LogisticRegression(), objective="matthews", cv=cv).fit(X, y)

    pooled = cross_val_predict(LogisticRegression(), X, y, cv=cv, method="predict_proba")[:, 1]
    expected = find_threshold(y, pooled, objective="matthews")
    assert model.best_threshold_ == expected.threshold
    assert model.best_score_ == pytest.approx(expected.score)
    assert model.threshold_result_ == expected


def test_predict_uses_score_at_or_above_threshold(synthetic):
    X, y = synthetic

    model = ExactThresholdClassifierCV(LogisticRegression(), cv=3).fit(X, y)

    proba = model.estimator_.predict_proba(X)[:, 1]
    expected = np.where(proba >= model.best_threshold_, 1, 0)
    np.testing.assert_array_equal(model.predict(X), expected)


def test_predict_at_exact_threshold_is_positive(synthetic):
    X, y = synthetic
    model = ExactThresholdClassifierCV(LogisticRegression(), cv=3).fit(X, y)
    proba = model.estimator_.predict_proba(X)[:, 1]

    model.best_threshold_ = proba[0]

    assert model.predict(X[:1])[0] == 1


def test_hold_out_without_refit_fits_once(synthetic, fit_log):
    X, y = synthetic

    model = ExactThresholdClassifierCV(
        CountingLogisticRegression(), cv=0.25, refit=False, random_state=0
    ).fit(X, y)

    assert fit_log == [450]
    split = StratifiedShuffleSplit(n_splits=1, test_size=0.25, random_state=0)
    train, test = next(split.split(X, y))
    scores = model.estimator_.predict_proba(X[test])[:, 1]
    assert model.best_threshold_ == find_threshold(y[test], scores).threshold


def test_kfold_with_refit_fit_count(synthetic, fit_log):
    X, y = synthetic

    ExactThresholdClassifierCV(CountingLogisticRegression(), cv=3).fit(X, y)

    assert sorted(fit_log) == [400, 400, 400, 600]


def test_string_labels_and_pos_label(cancer):
    X, y = cancer

    model = ExactThresholdClassifierCV(
        LogisticRegression(), objective="youden", pos_label="malignant", cv=3
    ).fit(X, y)

    assert model.pos_label_ == "malignant"
    assert model.threshold_result_.pos_label == "malignant"
    column = list(model.classes_).index("malignant")
    proba = model.estimator_.predict_proba(X)[:, column]
    expected = np.where(proba >= model.best_threshold_, "malignant", "benign")
    np.testing.assert_array_equal(model.predict(X), expected)


def test_decision_function_negated_for_first_class(cancer):
    X, y = cancer

    model = ExactThresholdClassifierCV(
        LogisticRegression(),
        pos_label="benign",
        response_method="decision_function",
        cv=3,
    ).fit(X, y)

    # "benign" is classes_[0], so its score is minus the decision function.
    score = -model.estimator_.decision_function(X)
    expected = np.where(score >= model.best_threshold_, "benign", "malignant")
    np.testing.assert_array_equal(model.predict(X), expected)


def test_unknown_pos_label_rejected_before_fit(cancer, fit_log):
    X, y = cancer
    model = ExactThresholdClassifierCV(CountingLogisticRegression(), pos_label="cat")

    with pytest.raises(ValueError, match="pos_label='cat' is not one of the classes"):
        model.fit(X, y)
    assert fit_log == []


@pytest.mark.parametrize("objective", ["roc_auc", "neg_log_loss", "average_precision"])
def test_threshold_free_objective_rejected_before_fit(cancer, fit_log, objective):
    X, y = cancer
    model = ExactThresholdClassifierCV(CountingLogisticRegression(), objective=objective)

    with pytest.raises(ValueError, match="does not depend on the decision threshold"):
        model.fit(X, y)
    assert fit_log == []


@pytest.mark.parametrize(
    "params, message",
    [
        ({"cv": "prefit", "refit": True}, "refit must be False"),
        ({"cv": 3, "refit": False}, "gives 3 splits"),
        ({"cv": 1.5}, "must be in \\(0, 1\\)"),
        ({"cv": "holdout"}, "only string accepted is 'prefit'"),
        ({"response_method": "predict"}, "response_method must be one of"),
        ({"n_resamples": -2}, "n_resamples must be an int >= 0"),
        ({"confidence_level": 0.0}, "confidence_level must be in the open interval"),
    ],
)
def test_invalid_params_rejected_before_fit(synthetic, fit_log, params, message):
    X, y = synthetic
    model = ExactThresholdClassifierCV(CountingLogisticRegression(), **params)

    with pytest.raises(ValueError, match=message):
        model.fit(X, y)
    assert fit_log == []


def test_prefit_needs_fitted_estimator(synthetic):
    X, y = synthetic
    model = ExactThresholdClassifierCV(LogisticRegression(), cv="prefit", refit=False)

    with pytest.raises(ValueError, match="needs a fitted estimator"):
        model.fit(X, y)


@pytest.mark.parametrize(
    "y, message",
    [
        (np.array([0, 1, 2, 0, 1, 2]), "Only binary classification is supported.*'multiclass'"),
        (np.array([0.5, 1.2, 0.1, 3.3, 2.0, 0.7]), "Unknown label type: 'continuous'"),
        (np.array(["a"] * 6), "y contains one class only \\('a'\\)"),
    ],
)
def test_non_binary_target_rejected(fit_log, y, message):
    X = np.arange(12.0).reshape(6, 2)

    with pytest.raises(ValueError, match=message):
        ExactThresholdClassifierCV(CountingLogisticRegression()).fit(X, y)
    assert fit_log == []


@parametrize_with_checks([ExactThresholdClassifierCV(LogisticRegression(), cv=3)])
# scikit-learn's own target check warns while casting a target that contains inf.
@pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_never_worse_than_grid_on_same_scores(synthetic):
    X, y = synthetic
    fitted = LogisticRegression().fit(X[:300], y[:300])
    X_val, y_val = X[300:], y[300:]

    exact = ExactThresholdClassifierCV(
        FrozenEstimator(fitted), objective="f1", cv="prefit", refit=False
    ).fit(X_val, y_val)
    grid = TunedThresholdClassifierCV(
        FrozenEstimator(fitted), scoring="f1", cv="prefit", refit=False
    ).fit(X_val, y_val)

    assert exact.best_score_ >= grid.best_score_ - 1e-12


def test_bootstrap_intervals_reported(synthetic):
    X, y = synthetic

    model = ExactThresholdClassifierCV(
        LogisticRegression(), cv=0.3, refit=False, n_resamples=100, random_state=0
    ).fit(X, y)

    result = model.threshold_result_
    assert isinstance(result, ThresholdResult)
    assert result.n_resamples == 100
    assert result.threshold_interval[0] <= model.best_threshold_ <= result.threshold_interval[1]


def test_cost_objective_and_cv_results(synthetic):
    X, y = synthetic
    objective = cost_objective(fp_cost=1.0, fn_cost=4.0)

    model = ExactThresholdClassifierCV(
        LogisticRegression(), objective=objective, cv=3, store_cv_results=True
    ).fit(X, y)

    scores = model.cv_results_["scores"]
    thresholds = model.cv_results_["thresholds"]
    assert model.objective_ is objective
    assert scores.max() == pytest.approx(model.best_score_)
    assert model.best_threshold_ in thresholds
    assert thresholds[-1] == np.inf


def test_constrained_objective_meets_constraint(cancer):
    X, y = cancer
    objective = constrained_objective(maximize="precision", recall_at_least=0.95)

    model = ExactThresholdClassifierCV(
        LogisticRegression(), objective=objective, pos_label="malignant", cv=0.4,
        refit=False, random_state=0,
    ).fit(X, y)

    result = model.threshold_result_
    assert result.tp / (result.tp + result.fn) >= 0.95


def test_clone_and_params():
    model = ExactThresholdClassifierCV(
        LogisticRegression(C=0.5), objective="youden", n_resamples=10
    )

    copy = clone(model)
    copy.set_params(estimator__C=2.0, objective="f1")

    assert copy.get_params()["estimator__C"] == 2.0
    assert copy.get_params()["objective"] == "f1"
    assert model.get_params()["estimator__C"] == 0.5
    assert model.get_params()["objective"] == "youden"
    assert "scoring" not in model.get_params()


def test_grid_search_over_nested_param(cancer):
    X, y = cancer
    search = GridSearchCV(
        ExactThresholdClassifierCV(LogisticRegression(), cv=2),
        {"estimator__C": [0.01, 1.0], "objective": ["f1", "balanced_accuracy"]},
        cv=StratifiedKFold(2, shuffle=True, random_state=0),
        scoring="balanced_accuracy",
    ).fit(X, y)

    best = search.best_estimator_
    assert best.get_params()["estimator__C"] == search.best_params_["estimator__C"]
    assert best.threshold_result_.objective == search.best_params_["objective"]
    assert set(search.predict(X[:5])) <= {"benign", "malignant"}


def test_cross_validate_in_pipeline(cancer):
    X, y = cancer
    pipeline = make_pipeline(
        StandardScaler(), ExactThresholdClassifierCV(LogisticRegression(), cv=3)
    )

    results = cross_validate(pipeline, X, y, cv=3, scoring="balanced_accuracy")

    assert results["test_score"].shape == (3,)
    assert results["test_score"].min() > 0.8


def test_metadata_routing_reaches_estimator(synthetic):
    X, y = synthetic
    weights = np.where(y == 1, 3.0, 1.0)

    with sklearn.config_context(enable_metadata_routing=True):
        inner = LogisticRegression().set_fit_request(sample_weight=True)
        model = ExactThresholdClassifierCV(inner, cv=0.3, refit=False, random_state=0)
        model.fit(X, y, sample_weight=weights)

    split = StratifiedShuffleSplit(n_splits=1, test_size=0.3, random_state=0)
    train, _ = next(split.split(X, y))
    reference = LogisticRegression().fit(X[train], y[train], sample_weight=weights[train])
    np.testing.assert_allclose(model.estimator_.coef_, reference.coef_)


def test_fit_params_without_routing_rejected(synthetic):
    X, y = synthetic
    model = ExactThresholdClassifierCV(LogisticRegression())

    with pytest.raises(ValueError, match="enable_metadata_routing=True"):
        model.fit(X, y, sample_weight=np.ones(len(y)))


def test_fitted_model_pickles(synthetic):
    X, y = synthetic
    objective = constrained_objective(maximize="recall", precision_at_least=0.6)
    model = ExactThresholdClassifierCV(LogisticRegression(), objective=objective, cv=3)
    model.fit(X, y)

    restored = pickle.loads(pickle.dumps(model))

    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    assert restored.objective_.name == objective.name


def test_parallel_folds_match_serial(synthetic):
    X, y = synthetic

    serial = ExactThresholdClassifierCV(LogisticRegression(), cv=3).fit(X, y)
    with joblib.parallel_config(backend="threading"):
        parallel = ExactThresholdClassifierCV(LogisticRegression(), cv=3, n_jobs=2).fit(X, y)

    assert parallel.best_threshold_ == serial.best_threshold_
