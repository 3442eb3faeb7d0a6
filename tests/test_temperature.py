"""Tests of fit_temperature against scipy and of its input checks."""

import numpy as np
import pytest
from scipy.optimize import brentq, minimize, minimize_scalar
from scipy.special import expit, log_expit, log_softmax, softmax

from skcal.temperature import fit_temperature


def _binary_logits(n_samples, temperature=2.5, seed=0, scale=4.0):
    rng = np.random.default_rng(seed)
    z = rng.normal(scale=scale, size=n_samples)
    y = (rng.random(n_samples) < expit(z / temperature)).astype(int)
    return z, y


def _multiclass_logits(n_samples, n_classes=5, temperature=2.5, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(scale=3.0, size=(n_samples, n_classes))
    cumulative = softmax(z / temperature, axis=1).cumsum(axis=1)
    y = (cumulative > rng.random((n_samples, 1))).argmax(axis=1)
    return z, y


def _binary_nll(temperature, z, y, weights, bias=0.0):
    scaled = (z - bias) / temperature
    return -np.sum(weights * (y * log_expit(scaled) + (1 - y) * log_expit(-scaled)))


def _multiclass_nll(temperature, z, y, weights):
    log_proba = log_softmax(z / temperature, axis=1)
    return -np.sum(weights * log_proba[np.arange(len(y)), y])


def _binary_gradient(temperature, z, y, weights):
    # d NLL / d(1/T), computed independently of skcal.
    return np.sum(weights * (expit(z / temperature) - y) * z)


def _multiclass_gradient(temperature, z, y, weights):
    proba = softmax(z / temperature, axis=1)
    return np.sum(weights * ((proba * z).sum(axis=1) - z[np.arange(len(y)), y]))


def _weights(kind, n_samples):
    if kind == "unit":
        return None, np.ones(n_samples)
    weights = np.random.default_rng(7).uniform(0.0, 3.0, size=n_samples)
    return weights, weights


@pytest.mark.parametrize("weight_kind", ["unit", "random"])
def test_binary_matches_minimize_scalar(weight_kind):
    z, y = _binary_logits(5000)
    sample_weight, weights = _weights(weight_kind, len(y))
    fitted = fit_temperature(z, y, sample_weight=sample_weight)
    reference = minimize_scalar(
        _binary_nll, bounds=(0.1, 20.0), args=(z, y, weights), method="bounded",
        options={"xatol": 1e-10},
    )
    assert fitted == pytest.approx(reference.x, rel=1e-6)
    assert _binary_nll(fitted, z, y, weights) <= reference.fun + 1e-9


@pytest.mark.parametrize("weight_kind", ["unit", "random"])
def test_multiclass_matches_minimize_scalar(weight_kind):
    z, y = _multiclass_logits(4000)
    sample_weight, weights = _weights(weight_kind, len(y))
    fitted = fit_temperature(z, y, sample_weight=sample_weight)
    reference = minimize_scalar(
        _multiclass_nll, bounds=(0.1, 20.0), args=(z, y, weights), method="bounded",
        options={"xatol": 1e-10},
    )
    assert fitted == pytest.approx(reference.x, rel=1e-6)
    assert _multiclass_nll(fitted, z, y, weights) <= reference.fun + 1e-9


@pytest.mark.parametrize("weight_kind", ["unit", "random"])
def test_binary_root_to_1e9(weight_kind):
    # The bounded golden-section search stops near sqrt(machine epsilon), so the
    # 1e-9 check uses the root of an independently computed gradient.
    z, y = _binary_logits(300_000, seed=1)
    sample_weight, weights = _weights(weight_kind, len(y))
    root = 1.0 / brentq(
        lambda u: _binary_gradient(1.0 / u, z, y, weights), 0.05, 5.0, xtol=1e-15, rtol=1e-15
    )
    assert fit_temperature(z, y, sample_weight=sample_weight) == pytest.approx(root, rel=1e-9)


def test_float32_logits_root_to_1e9():
    z, y = _binary_logits(400_000, seed=2)
    z32 = z.astype(np.float32)
    z_exact = z32.astype(np.float64)
    ones = np.ones(len(y))
    root = 1.0 / brentq(
        lambda u: _binary_gradient(1.0 / u, z_exact, y, ones), 0.05, 5.0, xtol=1e-15, rtol=1e-15
    )
    assert fit_temperature(z32, y) == pytest.approx(root, rel=1e-9)


def test_multiclass_root_to_1e9():
    z, y = _multiclass_logits(200_000, n_classes=10, seed=3)
    ones = np.ones(len(y))
    root = 1.0 / brentq(
        lambda u: _multiclass_gradient(1.0 / u, z, y, ones), 0.05, 5.0, xtol=1e-15, rtol=1e-15
    )
    assert fit_temperature(z, y) == pytest.approx(root, rel=1e-9)


def test_bias_matches_scipy_minimize():
    z, y = _binary_logits(5000, seed=4)
    z = z + 1.5
    weights = np.random.default_rng(2).uniform(0.5, 2.0, size=len(y))
    temperature, bias = fit_temperature(z, y, sample_weight=weights, fit_bias=True)
    reference = minimize(
        lambda p: _binary_nll(np.exp(p[0]), z, y, weights, bias=p[1]),
        x0=[0.0, 0.0], method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000},
    )
    assert temperature == pytest.approx(np.exp(reference.x[0]), rel=1e-5)
    assert bias == pytest.approx(reference.x[1], abs=1e-4)
    assert _binary_nll(temperature, z, y, weights, bias) <= reference.fun + 1e-9


def test_bias_gradient_root_to_1e9():
    from scipy.optimize import fsolve

    z, y = _binary_logits(200_000, seed=5)
    z = z - 2.0

    def gradient(params):
        # d NLL / d(u, c) of sigmoid(u z + c), computed independently of skcal.
        u, c = params
        residual = expit(u * z + c) - y
        return [np.dot(residual, z) / len(y), residual.mean()]

    u, c = fsolve(gradient, x0=[0.5, 0.0], xtol=1e-12)
    temperature, bias = fit_temperature(z, y, fit_bias=True)
    assert temperature == pytest.approx(1.0 / u, rel=1e-9)
    assert bias == pytest.approx(-c / u, rel=1e-9)


def test_returns_python_float():
    z, y = _binary_logits(200)
    assert type(fit_temperature(z, y)) is float


def test_bias_returns_float_pair():
    z, y = _binary_logits(200)
    temperature, bias = fit_temperature(z, y, fit_bias=True)
    assert type(temperature) is float
    assert type(bias) is float


def test_does_not_modify_logits():
    z, y = _binary_logits(1000)
    copy = z.copy()
    fit_temperature(z, y, fit_bias=True)
    fit_temperature(z, y)
    np.testing.assert_array_equal(z, copy)


def test_boolean_and_float_labels():
    z, y = _binary_logits(1000)
    expected = fit_temperature(z, y)
    assert fit_temperature(z, y.astype(bool)) == expected
    assert fit_temperature(z, y.astype(float)) == expected


@pytest.mark.parametrize(
    "logits, y, kwargs, message",
    [
        ([0.5, -1.0, 2.0], [1, 1, 1], {}, "only the class 1"),
        ([[0.5, 1.0], [1.0, 0.2]], [0, 0], {}, "only the class 0"),
        ([0.5, np.nan, 2.0], [1, 0, 1], {}, "NaN or infinite"),
        ([0.5, np.inf, 2.0], [1, 0, 1], {}, "NaN or infinite"),
        ([[0.5, 1.0], [-np.inf, 0.2]], [0, 1], {}, "NaN or infinite"),
        ([0.5, -1.0, 2.0], [1, 0, 2], {}, "label 2, outside the allowed range 0 or 1"),
        ([0.5, -1.0, 2.0], [1, 0, -1], {}, "label -1, outside"),
        ([[0.5, 1.0, 0.0], [1.0, 0.2, 0.0]], [0, 3], {}, "outside the allowed range 0 .. 2"),
        ([0.5, -1.0, 2.0], ["a", "b", "a"], {}, "integer class indices"),
        ([0.5, -1.0, 2.0], [1, 0.5, 0], {}, "non-integral"),
        ([0.5, -1.0, 2.0], [1, 0], {}, "Inconsistent numbers of samples"),
        ([0.5, -1.0, 2.0], [1, 0, 1], {"sample_weight": [0, 0, 0]}, "sums to 0"),
        ([0.5, -1.0, 2.0], [1, 0, 1], {"sample_weight": [1, -1, 1]}, "negative"),
        ([0.5, -1.0, 2.0], [1, 0, 1], {"sample_weight": [1, 1]}, "sample_weight has shape"),
        ([0.5, -1.0, 2.0], [0, 1, 1], {"sample_weight": [0, 1, 1]}, "only the class 1"),
        ([[0.5, 1.0], [1.0, 0.2]], [0, 1], {"fit_bias": True}, "needs binary logits"),
        ([], [], {}, "empty"),
        ([[0.5], [1.0]], [0, 1], {}, "Ravel a single column"),
        (np.zeros((2, 2, 2)), [0, 1], {}, "must have shape"),
        (["x", "y"], [0, 1], {}, "must be numeric"),
    ],
)
def test_bad_input_raises(logits, y, kwargs, message):
    with pytest.raises(ValueError, match=message):
        fit_temperature(logits, y, **kwargs)
