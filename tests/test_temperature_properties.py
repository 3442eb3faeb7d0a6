"""Property-based tests of fit_temperature with hypothesis."""

import warnings

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.special import log_expit, log_softmax

from skcal.exceptions import CalibrationWarning
from skcal.temperature import fit_temperature
from skcal.temperature._fit import (
    TEMPERATURE_MAX_RATIO,
    TEMPERATURE_MIN_RATIO,
    fit_temperature_details,
)

# Derandomized so that a run fails or passes the same way everywhere.
SETTINGS = settings(max_examples=50, deadline=None, derandomize=True)

finite_logits = st.floats(min_value=-30.0, max_value=30.0, allow_nan=False, width=64)
# Logits on a 1e-3 grid. Logits like 1e-85 next to 1.5 make the NLL flat to
# 1e-170 over a wide range of T, where no solver can pin T to 1e-8.
grid_logits = st.integers(min_value=-30_000, max_value=30_000).map(lambda k: k / 1000)


@st.composite
def binary_problems(draw, elements=finite_logits):
    n_samples = draw(st.integers(min_value=2, max_value=40))
    z = draw(arrays(np.float64, n_samples, elements=elements))
    y = draw(arrays(np.int64, n_samples, elements=st.integers(0, 1)))
    y[0], y[1] = 0, 1
    return z, y


@st.composite
def multiclass_problems(draw, elements=finite_logits):
    n_samples = draw(st.integers(min_value=2, max_value=30))
    n_classes = draw(st.integers(min_value=2, max_value=5))
    z = draw(arrays(np.float64, (n_samples, n_classes), elements=elements))
    y = draw(arrays(np.int64, n_samples, elements=st.integers(0, n_classes - 1)))
    y[0], y[1] = 0, 1
    return z, y


def _nll(z, y, temperature):
    if z.ndim == 1:
        scaled = z / temperature
        return -np.sum(np.where(y == 1, log_expit(scaled), log_expit(-scaled)))
    return -np.sum(log_softmax(z / temperature, axis=1)[np.arange(len(y)), y])


def _fit(z, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CalibrationWarning)
        return fit_temperature(z, y)


def _fit_status(z, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CalibrationWarning)
        return fit_temperature_details(z, y)


def _trial_temperature(z, fraction):
    """Return a temperature inside the documented bounds, log-spaced by ``fraction``."""
    scale = np.abs(z).max() if z.ndim == 1 else np.ptp(z)
    low, high = np.log(TEMPERATURE_MIN_RATIO * scale), np.log(TEMPERATURE_MAX_RATIO * scale)
    return float(np.exp(low + fraction * (high - low)))


def _check_minimum(z, y, temperature, trial):
    fitted = _nll(z, y, temperature)
    tolerance = 1e-9 * max(1.0, abs(fitted))
    assert fitted <= _nll(z, y, trial) + tolerance


@SETTINGS
@given(binary_problems(), st.floats(min_value=0.0, max_value=1.0))
def test_binary_fit_minimises_nll(problem, fraction):
    z, y = problem
    assume(np.ptp(z) > 0)
    _check_minimum(z, y, _fit(z, y), _trial_temperature(z, fraction))


@SETTINGS
@given(multiclass_problems(), st.floats(min_value=0.0, max_value=1.0))
def test_multiclass_fit_minimises_nll(problem, fraction):
    z, y = problem
    assume(np.ptp(z) > 0)
    _check_minimum(z, y, _fit(z, y), _trial_temperature(z, fraction))


@SETTINGS
@given(binary_problems())
def test_binary_ranking_preserved(problem):
    z, y = problem
    temperature = _fit(z, y)
    order = np.argsort(z, kind="stable")
    assert temperature > 0
    # Division by T > 0 is monotone; rounding may only create ties.
    assert np.all(np.diff((z / temperature)[order]) >= 0)


@SETTINGS
@given(multiclass_problems())
def test_multiclass_argmax_preserved(problem):
    z, y = problem
    temperature = _fit(z, y)
    scaled = z / temperature
    top = scaled[np.arange(len(y)), z.argmax(axis=1)]
    assert np.all(top >= scaled.max(axis=1))


@SETTINGS
@given(binary_problems(grid_logits), st.floats(min_value=1e-3, max_value=1e3))
def test_binary_temperature_scales(problem, factor):
    z, y = problem
    base, scaled = _fit_status(z, y), _fit(z * factor, y)
    # Constant logits get T = 1.0 whatever their scale, as documented.
    assume(base.status != "constant")
    np.testing.assert_allclose(scaled, factor * base.temperature, rtol=1e-8)


@SETTINGS
@given(multiclass_problems(grid_logits), st.floats(min_value=1e-3, max_value=1e3))
def test_multiclass_temperature_scales(problem, factor):
    z, y = problem
    base, scaled = _fit_status(z, y), _fit(z * factor, y)
    # Constant logits get T = 1.0 whatever their scale, as documented.
    assume(base.status != "constant")
    np.testing.assert_allclose(scaled, factor * base.temperature, rtol=1e-8)
