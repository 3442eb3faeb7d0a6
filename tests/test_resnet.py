import os
import pickle
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision
from scipy.special import expit
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import cross_val_score
from sklearn.utils import estimator_checks
from skorch.callbacks import Callback
from torch.utils.data import Dataset, RandomSampler, SequentialSampler

from skcal._torch_utils import NoSingletonBatchSampler
from skcal.exceptions import InvalidParameterError, ModelFormatError
from skcal.resnet import ResNet18Classifier, _build_module

DIGITS = load_digits()
X_DIGITS = DIGITS.images[:40] / 16.0
Y_DIGITS = DIGITS.target[:40] == 8


def make_classifier(**params):
    defaults = dict(
        max_epochs=1, batch_size=8, device="cpu", n_threads=1, random_state=0
    )
    defaults.update(params)
    return ResNet18Classifier(**defaults)


class ImageDataset(Dataset):
    """Images as float32 tensors with the labels also stored as ``targets``."""

    def __init__(self, images, labels):
        self.images = torch.as_tensor(images, dtype=torch.float32)
        self.targets = list(labels)

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, index):
        return self.images[index], self.targets[index]


@pytest.fixture(scope="module")
def fitted():
    return make_classifier().fit(X_DIGITS, Y_DIGITS)


def test_fit_predict_shapes(fitted):
    n = X_DIGITS.shape[0]
    logits = fitted.decision_function(X_DIGITS)
    proba = fitted.predict_proba(X_DIGITS)
    labels = fitted.predict(X_DIGITS)
    assert logits.shape == (n,)
    assert logits.dtype == np.float64
    assert proba.shape == (n, 2)
    assert proba.dtype == np.float64
    assert labels.shape == (n,)
    assert fitted.in_channels_ == 1
    assert fitted.n_epochs_ == 1


@pytest.mark.parametrize(
    "labels",
    [
        np.where(Y_DIGITS, "eight", "other"),
        Y_DIGITS,
        np.where(Y_DIGITS, 7, 3),
    ],
    ids=["str", "bool", "int"],
)
def test_classes_any_two_labels(labels):
    clf = make_classifier().fit(X_DIGITS, labels)
    np.testing.assert_array_equal(clf.classes_, np.unique(labels))
    assert set(clf.predict(X_DIGITS)) <= set(np.unique(labels))


@pytest.mark.parametrize(
    "labels, count",
    [(DIGITS.target[:40] % 3, 3), (np.zeros(40, dtype=int), 1)],
    ids=["three", "one"],
)
def test_wrong_class_count_raises(labels, count):
    with pytest.raises(ValueError, match=f"exactly two classes.*found {count}"):
        make_classifier().fit(X_DIGITS, labels)


@pytest.mark.parametrize(
    "images, channels",
    [
        (X_DIGITS, 1),
        (X_DIGITS[:, np.newaxis].astype(np.float32), 1),
        (np.repeat(X_DIGITS[:, np.newaxis], 3, axis=1), 3),
        ((X_DIGITS * 255).astype(np.uint8), 1),
    ],
    ids=["nhw-float64", "nchw-float32", "rgb", "uint8"],
)
def test_input_layouts(images, channels):
    clf = make_classifier().fit(images, Y_DIGITS)
    assert clf.in_channels_ == channels
    assert clf.decision_function(images).shape == (40,)


def test_uint8_scaled_like_float():
    images = (X_DIGITS * 255).astype(np.uint8)
    from_uint8 = make_classifier().fit(images, Y_DIGITS).decision_function(images)
    scaled = images / 255.0
    from_float = make_classifier().fit(scaled, Y_DIGITS).decision_function(scaled)
    np.testing.assert_allclose(from_uint8, from_float, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "images, error, message",
    [
        (X_DIGITS.astype(np.int64), TypeError, "dtype int64"),
        (X_DIGITS.reshape(40, -1), ValueError, r"shape \(n, H, W\)"),
        (np.where(np.eye(8, dtype=bool), np.nan, X_DIGITS), ValueError, "NaN"),
    ],
    ids=["int64", "2d", "nan"],
)
def test_invalid_images_raise(images, error, message):
    with pytest.raises(error, match=message):
        make_classifier().fit(images, Y_DIGITS)


def test_dataset_matches_array(fitted):
    labels = np.where(Y_DIGITS, "eight", "other")
    dataset = ImageDataset(X_DIGITS[:, np.newaxis], labels)
    clf = make_classifier().fit(dataset)
    from_array = make_classifier().fit(X_DIGITS.astype(np.float32), labels)
    np.testing.assert_array_equal(clf.classes_, ["eight", "other"])
    np.testing.assert_array_equal(
        clf.decision_function(dataset), from_array.decision_function(X_DIGITS)
    )
    np.testing.assert_array_equal(
        fitted.decision_function(dataset), fitted.decision_function(X_DIGITS)
    )


def test_dataset_y_overrides_targets():
    dataset = ImageDataset(X_DIGITS[:, np.newaxis], np.zeros(40))
    clf = make_classifier().fit(dataset, Y_DIGITS)
    np.testing.assert_array_equal(clf.classes_, [False, True])


def test_dataset_without_targets_raises():
    dataset = torch.utils.data.TensorDataset(
        torch.as_tensor(X_DIGITS[:, np.newaxis], dtype=torch.float32),
        torch.as_tensor(Y_DIGITS),
    )
    with pytest.raises(ValueError, match="no 'targets' attribute"):
        make_classifier().fit(dataset)


def test_array_without_y_raises():
    with pytest.raises(ValueError, match="y is required"):
        make_classifier().fit(X_DIGITS)


@pytest.mark.parametrize("n_samples", range(2, 20))
def test_sampler_never_yields_single_sample(n_samples):
    sampler = NoSingletonBatchSampler(SequentialSampler(range(n_samples)), 4)
    batches = list(sampler)
    assert min(len(batch) for batch in batches) >= 2
    assert sorted(i for batch in batches for i in batch) == list(range(n_samples))
    assert len(sampler) == len(batches)


def test_sampler_shuffles_with_generator():
    generator = torch.Generator().manual_seed(0)
    sampler = NoSingletonBatchSampler(RandomSampler(range(9), generator=generator), 4)
    batches = list(sampler)
    assert [len(batch) for batch in batches] == [4, 5]
    assert sorted(i for batch in batches for i in batch) == list(range(9))


@pytest.mark.parametrize("n_samples", [2, 3, 9])
def test_fit_small_training_sizes(n_samples):
    # 9 samples with batch_size=8 leave a last batch of one.
    positives = np.flatnonzero(Y_DIGITS)[:1]
    negatives = np.flatnonzero(~Y_DIGITS)[: n_samples - 1]
    index = np.r_[positives, negatives]
    clf = make_classifier().fit(X_DIGITS[index], Y_DIGITS[index])
    assert clf.n_epochs_ == 1
    assert np.isfinite(clf.decision_function(X_DIGITS[index])).all()


def test_predict_single_image(fitted):
    single = fitted.decision_function(X_DIGITS[:1])
    assert single.shape == (1,)
    np.testing.assert_allclose(
        single, fitted.decision_function(X_DIGITS)[:1], rtol=1e-5, atol=1e-6
    )
    assert fitted.predict(X_DIGITS[:1]).shape == (1,)


def test_same_seed_same_logits(fitted):
    refit = make_classifier().fit(X_DIGITS, Y_DIGITS)
    np.testing.assert_array_equal(
        refit.decision_function(X_DIGITS), fitted.decision_function(X_DIGITS)
    )


def test_different_seed_different_logits(fitted):
    other = make_classifier(random_state=1).fit(X_DIGITS, Y_DIGITS)
    assert not np.array_equal(
        other.decision_function(X_DIGITS), fitted.decision_function(X_DIGITS)
    )


def test_fit_leaves_global_generators():
    _, numpy_key, numpy_position, *_ = np.random.get_state()
    torch_state = torch.get_rng_state().clone()
    make_classifier().fit(X_DIGITS, Y_DIGITS)
    _, key_after, position_after, *_ = np.random.get_state()
    np.testing.assert_array_equal(key_after, numpy_key)
    assert position_after == numpy_position
    assert torch.equal(torch.get_rng_state(), torch_state)


def test_fit_restores_thread_count():
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        make_classifier(n_threads=1).fit(X_DIGITS, Y_DIGITS)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(previous)


def test_clone_of_fitted_is_unfitted(fitted):
    unfitted = clone(fitted)
    assert unfitted.get_params() == fitted.get_params()
    with pytest.raises(NotFittedError):
        unfitted.decision_function(X_DIGITS)


def test_refit_equals_fresh_fit(fitted):
    clf = make_classifier().fit(X_DIGITS[::-1], ~Y_DIGITS[::-1])
    clf.fit(X_DIGITS, Y_DIGITS)
    np.testing.assert_array_equal(
        clf.decision_function(X_DIGITS), fitted.decision_function(X_DIGITS)
    )


@pytest.mark.parametrize("training", [True, False], ids=["train-mode", "eval-mode"])
def test_prediction_keeps_state_and_mode(training):
    clf = make_classifier().fit(X_DIGITS, Y_DIGITS)
    clf.module_.train(training)
    before = {key: value.clone() for key, value in clf.module_.state_dict().items()}

    clf.predict_proba(X_DIGITS)

    after = clf.module_.state_dict()
    assert before.keys() == after.keys()
    changed = [key for key in before if not torch.equal(before[key], after[key])]
    assert changed == []
    assert all(module.training == training for module in clf.module_.modules())


def test_predict_agrees_with_proba_and_logits(fitted):
    logits = fitted.decision_function(X_DIGITS)
    proba = fitted.predict_proba(X_DIGITS)
    labels = fitted.predict(X_DIGITS)
    np.testing.assert_array_equal(labels == fitted.classes_[1], proba[:, 1] >= 0.5)
    np.testing.assert_array_equal(labels == fitted.classes_[1], logits >= 0)


def test_proba_is_sigmoid_of_logits(fitted):
    logits = fitted.decision_function(X_DIGITS)
    proba = fitted.predict_proba(X_DIGITS)
    np.testing.assert_allclose(proba[:, 1], 1.0 / (1.0 + np.exp(-logits)), rtol=1e-12)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)


def test_predict_wrong_channels_raises(fitted):
    with pytest.raises(ValueError, match="fitted on 1"):
        fitted.predict(np.repeat(X_DIGITS[:, np.newaxis], 3, axis=1))


def test_in_channels_mismatch_raises():
    with pytest.raises(ValueError, match="in_channels=3 but X has 1"):
        make_classifier(in_channels=3).fit(X_DIGITS, Y_DIGITS)


def test_image_size_resizes_inside(fitted):
    clf = make_classifier(image_size=16).fit(X_DIGITS, Y_DIGITS)
    upsampled = F.interpolate(
        torch.as_tensor(X_DIGITS[:, np.newaxis], dtype=torch.float32),
        size=(16, 16),
        mode="bilinear",
        align_corners=False,
        antialias=True,
    ).numpy()
    np.testing.assert_array_equal(
        clf.decision_function(X_DIGITS), clf.decision_function(upsampled)
    )


def test_not_fitted_raises():
    clf = make_classifier()
    with pytest.raises(NotFittedError):
        clf.predict(X_DIGITS)
    with pytest.raises(NotFittedError):
        clf.module_


def test_missing_weights_file_raises(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    expected = os.path.join(tmp_path, "hub", "checkpoints", "resnet18-f37072fd.pth")
    with pytest.raises(FileNotFoundError, match=f"{re.escape(expected)}.*TORCH_HOME"):
        make_classifier(weights="IMAGENET1K_V1").fit(X_DIGITS, Y_DIGITS)


def test_unknown_weights_name_raises():
    with pytest.raises(ValueError, match="IMAGENET1K_V1"):
        make_classifier(weights="IMAGENET2K").fit(X_DIGITS, Y_DIGITS)


def test_cached_weights_loaded(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    reference = torchvision.models.resnet18(weights=None).state_dict()
    checkpoints = tmp_path / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    torch.save(reference, checkpoints / "resnet18-f37072fd.pth")

    rgb = _build_module(3, "IMAGENET1K_V1", None, seed=0).backbone
    gray = _build_module(1, "IMAGENET1K_V1", None, seed=0).backbone

    assert torch.equal(rgb.conv1.weight, reference["conv1.weight"])
    deep_variance = reference["layer4.1.bn2.running_var"]
    assert torch.equal(gray.layer4[1].bn2.running_var, deep_variance)
    torch.testing.assert_close(
        gray.conv1.weight, reference["conv1.weight"].sum(dim=1, keepdim=True)
    )
    assert gray.fc.out_features == 1


def test_early_stopping_restores_best():
    recorder = RecordValidSet()
    clf = make_classifier(
        early_stopping=True,
        validation_fraction=0.25,
        patience=1,
        max_epochs=20,
        lr=0.05,
        callbacks=[recorder],
    ).fit(X_DIGITS, Y_DIGITS)

    valid_losses = clf.net_.history[:, "valid_loss"]
    assert clf.n_epochs_ < 20
    assert clf.n_epochs_ == len(valid_losses)
    assert recorder.dataset_valid is None

    fitted_recorder = dict(clf.net_.callbacks_)["RecordValidSet"]
    images, targets = zip(*fitted_recorder.dataset_valid)
    logits = clf.decision_function(torch.utils.data.TensorDataset(torch.stack(images)))
    labels = np.array([float(target["label"]) for target in targets])
    assert len(labels) == 10
    # Binary cross-entropy from logits in closed form, without clipping.
    losses = np.logaddexp(0.0, np.where(labels == 1, -logits, logits))
    np.testing.assert_allclose(losses.mean(), min(valid_losses), rtol=1e-5)


class RecordValidSet(Callback):
    def __init__(self):
        self.dataset_valid = None

    def on_epoch_end(self, net, dataset_valid=None, **kwargs):
        self.dataset_valid = dataset_valid


def test_early_stopping_too_few_samples_raises():
    index = np.r_[np.flatnonzero(Y_DIGITS)[:1], np.flatnonzero(~Y_DIGITS)[:9]]
    clf = make_classifier(early_stopping=True)
    with pytest.raises(ValueError, match="early_stopping=True"):
        clf.fit(X_DIGITS[index], Y_DIGITS[index])


def test_uniform_sample_weight_changes_nothing(fitted):
    weighted = make_classifier().fit(X_DIGITS, Y_DIGITS, sample_weight=np.full(40, 2.5))
    np.testing.assert_array_equal(
        weighted.decision_function(X_DIGITS), fitted.decision_function(X_DIGITS)
    )


def test_sample_weight_changes_fit(fitted):
    weights = np.where(Y_DIGITS, 5.0, 1.0)
    weighted = make_classifier().fit(X_DIGITS, Y_DIGITS, sample_weight=weights)
    assert not np.array_equal(
        weighted.decision_function(X_DIGITS), fitted.decision_function(X_DIGITS)
    )


def test_weighted_loss_matches_log_loss(fitted):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=12)
    labels = (rng.random(12) < 0.5).astype(float)
    weights = rng.random(12) * 3
    weights /= weights.mean()
    loss = fitted.net_.get_loss(
        torch.as_tensor(logits, dtype=torch.float32),
        {
            "label": torch.as_tensor(labels, dtype=torch.float32),
            "weight": torch.as_tensor(weights, dtype=torch.float32),
        },
    )
    expected = log_loss(labels, expit(logits), sample_weight=weights)
    np.testing.assert_allclose(float(loss), expected, rtol=1e-5)


def test_sample_weight_wrong_length_raises():
    with pytest.raises(ValueError, match="sample_weight has shape"):
        make_classifier().fit(X_DIGITS, Y_DIGITS, sample_weight=np.ones(3))


def test_learns_digit_eight():
    eights = np.flatnonzero(DIGITS.target == 8)[:60]
    others = np.flatnonzero(DIGITS.target != 8)[:60]
    index = np.r_[eights, others]
    images, labels = DIGITS.images[index] / 16.0, DIGITS.target[index] == 8
    clf = make_classifier(image_size=32, max_epochs=5, batch_size=16)
    clf.fit(images, labels)
    assert clf.score(images, labels) >= 0.8
    assert roc_auc_score(labels, clf.decision_function(images)) >= 0.9


def test_verbose_zero_prints_nothing(capsys):
    clf = make_classifier(early_stopping=True, validation_fraction=0.25, patience=1)
    clf.fit(X_DIGITS, Y_DIGITS).predict(X_DIGITS)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ""


def test_verbose_prints_epoch_table(capsys):
    make_classifier(verbose=1).fit(X_DIGITS, Y_DIGITS)
    assert "train_loss" in capsys.readouterr().out


def test_restore_gives_equal_logits(fitted):
    state = {key: value.clone() for key, value in fitted.module_.state_dict().items()}
    restored = make_classifier()._restore(fitted.classes_, 1, state, n_epochs=1)
    np.testing.assert_array_equal(
        restored.decision_function(X_DIGITS), fitted.decision_function(X_DIGITS)
    )
    np.testing.assert_array_equal(restored.classes_, fitted.classes_)
    assert restored.n_epochs_ == 1


@pytest.mark.parametrize(
    "classes, in_channels, message",
    [
        ([False, True], 3, "in_channels=3"),
        ([True, False], 1, "not sorted"),
        ([False], 1, "two distinct labels"),
    ],
    ids=["channels", "unsorted", "one-class"],
)
def test_restore_invalid_raises(fitted, classes, in_channels, message):
    state = fitted.module_.state_dict()
    with pytest.raises(ModelFormatError, match=message):
        make_classifier()._restore(classes, in_channels, state)


def test_pickle_round_trip(fitted):
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(
        restored.decision_function(X_DIGITS), fitted.decision_function(X_DIGITS)
    )


@pytest.mark.parametrize(
    "params, message",
    [
        ({"batch_size": 1}, "batch_size=1"),
        ({"optimizer": "rmsprop"}, "optimizer='rmsprop'"),
        ({"lr": 0.0}, "lr=0.0"),
        ({"validation_fraction": 1.0}, "validation_fraction=1.0"),
        ({"image_size": (8,)}, r"image_size=\(8,\)"),
        ({"random_state": -1}, "random_state=-1"),
        ({"optimizer_kwargs": {"lr": 0.1}}, "optimizer_kwargs contains 'lr'"),
        ({"max_epochs": 0, "patience": "5"}, "max_epochs=0.*patience='5'"),
    ],
)
def test_invalid_params_raise(params, message):
    with pytest.raises(InvalidParameterError, match=message):
        make_classifier(**params).fit(X_DIGITS, Y_DIGITS)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_without_cuda_raises():
    with pytest.raises(ValueError, match="CUDA"):
        make_classifier(device="cuda").fit(X_DIGITS, Y_DIGITS)


@pytest.mark.parametrize(
    "optimizer, kwargs",
    [("sgd", {"momentum": 0.9}), ("adamw", None), (torch.optim.RMSprop, None)],
    ids=["sgd", "adamw", "class"],
)
def test_optimizer_choices(optimizer, kwargs):
    clf = make_classifier(optimizer=optimizer, optimizer_kwargs=kwargs)
    clf.fit(X_DIGITS, Y_DIGITS)
    names = {"sgd": torch.optim.SGD, "adamw": torch.optim.AdamW}
    expected = names.get(optimizer, optimizer)
    assert type(clf.net_.optimizer_) is expected


def test_weight_decay_unsupported_raises():
    clf = make_classifier(optimizer=torch.optim.LBFGS, weight_decay=0.1)
    with pytest.raises(ValueError, match="LBFGS has no weight_decay"):
        clf.fit(X_DIGITS, Y_DIGITS)


def test_get_set_params():
    clf = make_classifier()
    assert clf.get_params()["batch_size"] == 8
    clf.set_params(batch_size=4, lr=0.01)
    assert clf.get_params()["batch_size"] == 4
    assert clone(clf).lr == 0.01


@pytest.mark.parametrize(
    "check",
    [
        estimator_checks.check_no_attributes_set_in_init,
        estimator_checks.check_get_params_invariance,
        estimator_checks.check_set_params,
        estimator_checks.check_parameters_default_constructible,
        estimator_checks.check_estimator_cloneable,
        estimator_checks.check_do_not_raise_errors_in_init_or_set_params,
    ],
    ids=lambda check: check.__name__,
)
def test_sklearn_parameter_checks(check):
    check("ResNet18Classifier", ResNet18Classifier())


def test_cross_val_score():
    scores = cross_val_score(make_classifier(), X_DIGITS, Y_DIGITS, cv=2)
    assert scores.shape == (2,)
    assert ((scores >= 0) & (scores <= 1)).all()
