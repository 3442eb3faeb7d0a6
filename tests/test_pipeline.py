import numpy as np
import torch
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    TunedThresholdClassifierCV,
    cross_validate,
)

from skcal.resnet import ResNet18Classifier
from skcal.temperature import TemperatureScalingClassifier
from skcal.pipeline import make_calibrated_classifier

NETWORK = dict(max_epochs=1, batch_size=32, n_threads=1)


@pytest.fixture(scope="module")
def zeros_and_ones():
    """Digits 0 and 1 with string labels: a balanced task that trains in seconds."""
    digits = load_digits()
    keep = digits.target < 2
    X = (digits.images[keep] / 16.0).astype(np.float32)
    y = np.where(digits.target[keep] == 1, "one", "zero")
    return X[:160], y[:160]


@pytest.fixture
def fit_counter(monkeypatch):
    """Count calls to ResNet18Classifier.fit."""
    calls = []
    original = ResNet18Classifier.fit

    def counting_fit(self, *args, **kwargs):
        calls.append(len(args[0]))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ResNet18Classifier, "fit", counting_fit)
    return calls


def test_composition_layers():
    model = make_calibrated_classifier(**NETWORK)

    assert isinstance(model, TunedThresholdClassifierCV)
    assert isinstance(model.estimator, TemperatureScalingClassifier)
    assert isinstance(model.estimator.estimator, ResNet18Classifier)


def test_network_params_reach_network():
    model = make_calibrated_classifier(max_epochs=3, batch_size=16, random_state=7)

    params = model.get_params()
    assert params["estimator__estimator__max_epochs"] == 3
    assert params["estimator__estimator__batch_size"] == 16
    assert params["estimator__estimator__random_state"] == 7
    assert params["random_state"] == 7


def test_default_fit_trains_network_once(zeros_and_ones, fit_counter):
    X, y = zeros_and_ones

    model = make_calibrated_classifier(random_state=0, **NETWORK).fit(X, y)

    assert len(fit_counter) == 1
    # 20 % for the threshold, then 20 % of the rest for the temperature.
    assert fit_counter[0] == pytest.approx(0.64 * len(y), abs=2)
    assert model.predict(X[:3]).tolist() == model.predict(X[:3]).tolist()


def test_cross_validated_variant_fit_count(zeros_and_ones, fit_counter):
    X, y = zeros_and_ones

    model = make_calibrated_classifier(
        calibration_cv=2, threshold_cv=2, random_state=0, **NETWORK
    )
    model.fit(X, y)

    # (k + 1) * (c + 1) with k = c = 2, as the docstring states.
    assert len(fit_counter) == 9


def test_fitted_attributes_and_labels(zeros_and_ones):
    X, y = zeros_and_ones

    model = make_calibrated_classifier(random_state=0, **NETWORK).fit(X, y)

    assert model.classes_.tolist() == ["one", "zero"]
    assert 0.0 <= model.best_threshold_ <= 1.0
    assert model.estimator_.temperature_ > 0
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    positive = model.classes_.tolist().index("zero")
    expected = np.where(proba[:, positive] >= model.best_threshold_, "zero", "one")
    np.testing.assert_array_equal(model.predict(X), expected)


def test_pos_label_checked_before_training(zeros_and_ones, fit_counter):
    X, y = zeros_and_ones

    model = make_calibrated_classifier(pos_label="two", **NETWORK)

    with pytest.raises(ValueError, match="two"):
        model.fit(X, y)
    assert fit_counter == []


@pytest.mark.parametrize("objective", ["roc_auc", "neg_log_loss", "average_precision"])
def test_threshold_free_objective_rejected(zeros_and_ones, fit_counter, objective):
    X, y = zeros_and_ones

    with pytest.raises(ValueError, match="threshold"):
        make_calibrated_classifier(objective=objective, **NETWORK).fit(X, y)
    assert fit_counter == []


def test_scoring_alias_conflict():
    with pytest.raises(ValueError, match="objective"):
        make_calibrated_classifier(objective="youden", scoring="f1")


def test_scoring_alias_sets_objective():
    model = make_calibrated_classifier(scoring="balanced_accuracy")

    assert model.get_params()["objective"] == "balanced_accuracy"


def test_clone_get_set_params_three_layers(zeros_and_ones):
    X, y = zeros_and_ones
    model = make_calibrated_classifier(random_state=0, **NETWORK)

    model.set_params(
        estimator__estimator__max_epochs=2,
        estimator__fit_bias=True,
        objective="youden",
    )
    copy = clone(model)

    assert copy.get_params()["estimator__estimator__max_epochs"] == 2
    assert copy.get_params()["estimator__fit_bias"] is True
    assert copy.get_params()["objective"] == "youden"
    assert copy.estimator is not model.estimator
    assert copy.estimator.estimator is not model.estimator.estimator

    model.set_params(estimator__estimator__max_epochs=1).fit(X, y)
    refitted_clone = clone(model)
    assert not hasattr(refitted_clone, "estimator_")
    assert not hasattr(refitted_clone.estimator.estimator, "classes_")


def test_same_seed_same_probabilities(zeros_and_ones):
    X, y = zeros_and_ones

    first = make_calibrated_classifier(random_state=3, **NETWORK).fit(X, y)
    second = clone(first).fit(X, y)

    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    assert first.best_threshold_ == second.best_threshold_


def test_grid_search_over_network_param(zeros_and_ones):
    X, y = zeros_and_ones
    model = make_calibrated_classifier(random_state=0, **NETWORK)

    search = GridSearchCV(
        model,
        {"estimator__estimator__batch_size": [16, 32]},
        cv=StratifiedKFold(2, shuffle=True, random_state=0),
        scoring="balanced_accuracy",
    )
    search.fit(X, y)

    assert search.best_params_["estimator__estimator__batch_size"] in (16, 32)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.predict(X[:4]).shape == (4,)


def test_cross_validate_composition(zeros_and_ones):
    X, y = zeros_and_ones

    scores = cross_validate(
        make_calibrated_classifier(random_state=0, **NETWORK),
        X,
        y,
        cv=StratifiedKFold(2, shuffle=True, random_state=0),
        scoring=["accuracy", "neg_log_loss"],
        return_estimator=True,
    )

    assert scores["test_accuracy"].shape == (2,)
    assert np.isfinite(scores["test_neg_log_loss"]).all()
    temperatures = [est.estimator_.temperature_ for est in scores["estimator"]]
    assert all(t > 0 for t in temperatures)


class DigitsDataset(torch.utils.data.Dataset):
    """A torch Dataset of digit images with original labels in ``targets``."""

    def __init__(self, images, labels):
        self.images = torch.from_numpy(images[:, None])
        self.targets = np.asarray(labels)

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, index):
        return self.images[index], 0


def test_composition_fits_torch_dataset(zeros_and_ones):
    X, y = zeros_and_ones
    dataset = DigitsDataset(X, y)

    model = make_calibrated_classifier(random_state=0, **NETWORK)
    model.fit(dataset, dataset.targets)
    from_arrays = make_calibrated_classifier(random_state=0, **NETWORK).fit(X, y)

    np.testing.assert_allclose(
        model.predict_proba(dataset), from_arrays.predict_proba(X), rtol=1e-6
    )
    assert model.best_threshold_ == pytest.approx(from_arrays.best_threshold_)
