"""Edge cases of fit_temperature: bounds, warnings, scaling, torch input, memory."""

import tracemalloc
import warnings

import numpy as np
import pytest
import torch
from scipy.special import expit, log_expit

from skcal.exceptions import CalibrationWarning
from skcal.temperature import fit_temperature
from skcal.temperature._fit import (
    TEMPERATURE_MAX_RATIO,
    TEMPERATURE_MIN_RATIO,
    fit_temperature_details,
)


def _binary_logits(n_samples, temperature=2.0, seed=0, scale=3.0):
    rng = np.random.default_rng(seed)
    z = rng.normal(scale=scale, size=n_samples)
    y = (rng.random(n_samples) < expit(z / temperature)).astype(int)
    return z, y


def _multiclass_logits(n_samples, n_classes=4, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(scale=3.0, size=(n_samples, n_classes))
    noisy = z + rng.gumbel(scale=2.0, size=z.shape)
    return z, noisy.argmax(axis=1)


def _binary_nll(temperature, z, y):
    return -np.sum(y * log_expit(z / temperature) + (1 - y) * log_expit(-z / temperature))


@pytest.mark.parametrize("kind", ["binary", "multiclass"])
def test_anti_correlated_caps_temperature(kind):
    z, y = _binary_logits(2000) if kind == "binary" else _multiclass_logits(2000)
    scale = np.abs(z).max() if kind == "binary" else np.ptp(z)
    with pytest.warns(CalibrationWarning, match="no better than chance"):
        temperature = fit_temperature(-z, y)
    assert temperature == pytest.approx(TEMPERATURE_MAX_RATIO * scale, rel=1e-12)


def test_anti_correlated_keeps_ranking():
    z, y = _binary_logits(2000)
    with pytest.warns(CalibrationWarning):
        temperature = fit_temperature(-z, y)
    assert temperature > 0
    np.testing.assert_array_equal(np.argsort(-z / temperature), np.argsort(-z))


@pytest.mark.parametrize("kind", ["binary", "multiclass"])
def test_separable_holds_lower_bound(kind):
    z, _ = _binary_logits(2000) if kind == "binary" else _multiclass_logits(2000)
    y = (z > 0).astype(int) if kind == "binary" else z.argmax(axis=1)
    scale = np.abs(z).max() if kind == "binary" else np.ptp(z)
    with pytest.warns(CalibrationWarning, match="separate the classes"):
        fit = fit_temperature_details(z, y)
    assert fit.temperature == pytest.approx(TEMPERATURE_MIN_RATIO * scale, rel=1e-12)
    assert fit.passes <= 20


def test_separable_with_bias_finds_threshold():
    z, _ = _binary_logits(2000)
    y = (z > 1.0).astype(int)
    with pytest.warns(CalibrationWarning, match="separate the classes"):
        temperature, bias = fit_temperature(z, y, fit_bias=True)
    assert temperature == pytest.approx(TEMPERATURE_MIN_RATIO * np.abs(z).max(), rel=1e-12)
    assert z[y == 0].max() < bias < z[y == 1].min()


@pytest.mark.parametrize(
    "logits, y",
    [
        (np.zeros(10), [0, 1] * 5),
        (np.ones((10, 3)) * np.arange(10)[:, None], np.arange(10) % 3),
    ],
)
def test_constant_logits_return_one(logits, y):
    with pytest.warns(CalibrationWarning, match="constant"):
        temperature = fit_temperature(logits, y)
    assert temperature == 1.0


def test_constant_logits_bias_matches_rate():
    y = np.array([0, 1, 1, 1, 1] * 4)
    with pytest.warns(CalibrationWarning, match="constant"):
        temperature, bias = fit_temperature(np.full(20, 3.0), y, fit_bias=True)
    assert temperature == 1.0
    assert expit(3.0 - bias) == pytest.approx(0.8, rel=1e-12)


def test_equal_nonzero_logits_match_rate():
    y = np.array([0, 1, 1, 1, 1] * 4)
    with pytest.warns(CalibrationWarning, match="All 20 logits equal 3.0"):
        temperature = fit_temperature(np.full(20, 3.0), y)
    assert expit(3.0 / temperature) == pytest.approx(0.8, rel=1e-9)


@pytest.mark.parametrize("factor", [1e3, 1e5])
@pytest.mark.parametrize("kind", ["binary", "multiclass"])
def test_scaled_logits_scale_temperature(factor, kind):
    z, y = _binary_logits(3000) if kind == "binary" else _multiclass_logits(3000)
    base = fit_temperature(z, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scaled = fit_temperature(z * factor, y)
    assert scaled == pytest.approx(base * factor, rel=1e-9)


def test_huge_logits_stay_finite():
    z, y = _binary_logits(3000)
    z = np.clip(z * 3000.0, -1e4, 1e4)
    temperature = fit_temperature(z, y)
    reference = np.exp(
        min(np.linspace(np.log(100.0), np.log(1e5), 4001), key=lambda t: _binary_nll(np.exp(t), z, y))
    )
    assert np.isfinite(temperature)
    assert temperature == pytest.approx(reference, rel=2e-3)
    assert _binary_nll(temperature, z, y) <= _binary_nll(reference, z, y)


def test_float32_saturated_log_probabilities():
    # Log-probabilities of saturated float32 outputs, clipped at log(tiny32).
    rng = np.random.default_rng(0)
    z = rng.normal(scale=60.0, size=4000)
    y = (rng.random(4000) < expit(z / 20.0)).astype(int)
    proba = expit(z).astype(np.float32)
    tiny = np.finfo(np.float32).tiny
    logits = np.log(np.clip(proba, tiny, None).astype(np.float64)) - np.log(
        np.clip(1.0 - proba, tiny, None).astype(np.float64)
    )
    assert np.any(proba == 1.0)
    temperature = fit_temperature(logits, y)
    assert np.isfinite(temperature)
    assert 1.0 < temperature < 100.0


def test_integer_weights_equal_repetition():
    z, y = _binary_logits(3000)
    weights = np.random.default_rng(3).integers(0, 5, size=3000)
    weighted = fit_temperature(z, y, sample_weight=weights)
    repeated = fit_temperature(np.repeat(z, weights), np.repeat(y, weights))
    assert weighted == pytest.approx(repeated, rel=1e-12)


def test_integer_weights_equal_repetition_multiclass():
    z, y = _multiclass_logits(3000)
    weights = np.random.default_rng(4).integers(0, 5, size=3000)
    weighted = fit_temperature(z, y, sample_weight=weights)
    repeated = fit_temperature(np.repeat(z, weights, axis=0), np.repeat(y, weights))
    assert weighted == pytest.approx(repeated, rel=1e-12)


def test_large_input_two_full_passes():
    z, y = _binary_logits(400_000, seed=5)
    assert fit_temperature_details(z.astype(np.float32), y).passes == 2


def test_float32_input_not_copied_to_float64():
    z, y = _binary_logits(2_000_000, seed=6)
    z32 = z.astype(np.float32)
    labels = y.astype(bool)
    tracemalloc.start()
    fit_temperature(z32, labels)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # A float64 copy alone would take 16 MB; chunks and labels take far less.
    assert peak < 0.25 * z32.nbytes * 2


@pytest.mark.parametrize("kind", ["binary", "multiclass"])
def test_torch_cpu_matches_numpy(kind):
    z, y = _binary_logits(50_000) if kind == "binary" else _multiclass_logits(50_000)
    z32 = z.astype(np.float32)
    expected = fit_temperature(z32, y)
    result = fit_temperature(torch.from_numpy(z32), torch.from_numpy(y))
    assert result == pytest.approx(expected, rel=1e-9)


def test_torch_weights_and_bias():
    z, y = _binary_logits(20_000)
    weights = np.random.default_rng(1).uniform(0.5, 2.0, size=20_000)
    expected = fit_temperature(z + 1.0, y, sample_weight=weights, fit_bias=True)
    result = fit_temperature(
        torch.from_numpy(z + 1.0), torch.from_numpy(y),
        sample_weight=torch.from_numpy(weights), fit_bias=True,
    )
    assert result == pytest.approx(expected, rel=1e-9)


def test_torch_nan_raises():
    logits = torch.tensor([0.5, float("nan"), 1.0])
    with pytest.raises(ValueError, match="NaN or infinite"):
        fit_temperature(logits, torch.tensor([0, 1, 1]))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_torch_cuda_matches_numpy():
    z, y = _multiclass_logits(100_000)
    expected = fit_temperature(z.astype(np.float32), y)
    result = fit_temperature(torch.from_numpy(z.astype(np.float32)).cuda(), torch.from_numpy(y).cuda())
    assert result == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("kind", ["binary", "multiclass"])
def test_thread_pool_gives_same_result(kind, monkeypatch):
    from skcal.temperature import _passes

    z, y = _binary_logits(300_000) if kind == "binary" else _multiclass_logits(100_000)
    single = fit_temperature(z, y)
    monkeypatch.setattr(_passes, "MAX_THREADS", 2)
    monkeypatch.setattr(_passes, "worker_count", lambda: 2)
    assert fit_temperature(z, y) == single
