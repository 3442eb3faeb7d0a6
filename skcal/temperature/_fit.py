"""Fit a temperature (and optionally a bias) to precomputed logits."""

import math
import warnings
from dataclasses import dataclass

import numpy as np

from skcal._validation import check_finite, check_same_length, check_sample_weight
from skcal.exceptions import CalibrationWarning
from skcal.temperature._passes import LogitProblem, is_torch_tensor, torch
from skcal.temperature._solver import solve_inverse_temperature
from skcal.temperature._solver_bias import solve_with_bias

# Bounds on T relative to the logit scale (max |z| for binary logits, the
# largest row range max_k z - min_k z for multiclass logits).
TEMPERATURE_MIN_RATIO = 1e-6
TEMPERATURE_MAX_RATIO = 1e6
# First guess of T relative to the same scale. Any start converges; one that
# scales with the logits makes T(c * z) = c * T(z) hold to rounding.
START_TEMPERATURE_RATIO = 1 / 8


@dataclass(frozen=True)
class TemperatureFit:
    """Result of one fit, with the diagnostics the public function drops.

    ``status`` is ``"interior"`` for a proper minimum, ``"separable"`` when T
    hit its lower bound, ``"chance"`` when it hit its upper bound and
    ``"constant"`` when the logits carry no information about T.
    """

    temperature: float
    bias: float
    status: str
    passes: int

    def result(self, fit_bias):
        """Return what :func:`fit_temperature` returns for ``fit_bias``."""
        if fit_bias:
            return self.temperature, self.bias
        return self.temperature


def fit_temperature(logits, y, *, sample_weight=None, fit_bias=False):
    """Fit the temperature that minimises the negative log-likelihood.

    Temperature scaling (Guo et al., "On Calibration of Modern Neural
    Networks", ICML 2017) divides the logits ``z`` by one scalar ``T > 0``
    and minimises the weighted negative log-likelihood (NLL) of
    ``softmax(z / T)`` for multiclass logits or ``sigmoid(z / T)`` for
    binary logits. With ``fit_bias=True`` (binary only) the model is
    ``sigmoid((z - b) / T)`` and both ``T`` and ``b`` are fitted.

    The NLL is convex in ``1 / T`` (and in ``(1 / T, -b / T)``), so a
    safeguarded Newton method finds the global minimum to a relative
    tolerance of about 1e-10 in ``T``. It starts on strided subsamples and
    then needs about two passes over all rows, read in chunks with float64
    accumulation; float32 logits are never copied to float64 as a whole.
    Torch tensors are processed with torch on their own device.

    Parameters
    ----------
    logits : array-like or torch.Tensor of shape (n_samples,) or (n_samples, n_classes)
        Binary logits (log-odds of class 1) or multiclass logits.
    y : array-like of shape (n_samples,)
        Integer labels: 0 or 1 for binary logits, ``0 .. n_classes - 1``
        for multiclass logits. Booleans and integral floats are accepted.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights of the NLL terms; ``None`` means unit weights.
        Integer weights give the same T as repeating rows.
    fit_bias : bool, default=False
        Also fit a bias ``b`` of the binary model ``sigmoid((z - b) / T)``.
        It helps when the logits are shifted, for example after training on
        a class balance that differs from the calibration data.

    Returns
    -------
    temperature : float
        The fitted T when ``fit_bias=False``.
    (temperature, bias) : tuple of float
        When ``fit_bias=True``.

    Warns
    -----
    CalibrationWarning
        - Logits no better than chance (the NLL decreases toward
          ``T = infinity``, as for logits anti-correlated with the labels):
          T is capped at ``1e6 * scale``.
        - Perfectly separable data (the NLL decreases toward ``T = 0``): T
          is held at ``1e-6 * scale``.
        - Logits that carry no information about T (all binary logits zero,
          or every multiclass row constant, or all binary logits equal with
          ``fit_bias=True``): T is returned as 1.0 and, with a bias, ``b``
          matches the weighted rate of class 1.
        - All binary logits equal but non-zero: T then only matches the
          rate of class 1; it is fitted and a warning is issued.

        ``scale`` is ``max |z|`` for binary logits and the largest row range
        ``max_k z - min_k z`` for multiclass logits, so the bounds scale
        with the logits. T is always positive, so the ranking of the
        samples never changes.

    Raises
    ------
    ValueError
        For NaN or infinite logits, labels outside the allowed range, a
        single class, mismatched lengths, invalid weights or a weight sum of
        zero, and ``fit_bias=True`` with multiclass logits.

    Examples
    --------
    >>> import numpy as np
    >>> from skcal.temperature import fit_temperature
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(scale=4.0, size=20_000)
    >>> y = rng.random(20_000) < 1 / (1 + np.exp(-z / 2.0))
    >>> round(fit_temperature(z, y), 1)
    2.0
    """
    return fit_temperature_details(
        logits, y, sample_weight=sample_weight, fit_bias=fit_bias
    ).result(fit_bias)


def fit_temperature_details(logits, y, *, sample_weight=None, fit_bias=False):
    """Validate the input, fit, warn, and return a :class:`TemperatureFit`."""
    problem = _build_problem(logits, y, sample_weight, fit_bias)
    scale, spread = problem.logit_range()
    if not (math.isfinite(scale) and math.isfinite(spread)):
        _raise_non_finite(problem.logits)

    if scale == 0 or (fit_bias and spread == 0):
        return _fit_constant(problem, scale, fit_bias)
    if problem.binary and spread == 0:
        warnings.warn(
            f"All {problem.n_samples} logits equal {float(problem.logits[0])!r}, "
            "so the temperature only matches the rate of class 1 and carries no "
            "ranking information. Check that the model's outputs vary with the input.",
            CalibrationWarning,
            stacklevel=3,
        )

    u_min = 1.0 / (TEMPERATURE_MAX_RATIO * scale)
    u_max = 1.0 / (TEMPERATURE_MIN_RATIO * scale)
    u_start = 1.0 / (START_TEMPERATURE_RATIO * scale)
    if fit_bias:
        u, c, status, passes = solve_with_bias(problem, (u_start, 0.0), u_min, u_max)
        bias = -c / u
    else:
        u, status, passes = solve_inverse_temperature(problem, u_start, u_min, u_max)
        bias = 0.0

    status = {"interior": "interior", "at_min": "chance", "at_max": "separable"}[status]
    _warn_bound(status, scale)
    return TemperatureFit(float(1.0 / u), float(bias), status, passes)


def _warn_bound(status, scale):
    if status == "chance":
        warnings.warn(
            "The logits are no better than chance on the calibration data (the "
            "likelihood keeps improving as the temperature grows, as for logits "
            "anti-correlated with the labels). The temperature is capped at "
            f"{TEMPERATURE_MAX_RATIO:g} * max logit scale = "
            f"{TEMPERATURE_MAX_RATIO * scale:.6g}, which makes all probabilities "
            "nearly uniform. Check the labels and the model.",
            CalibrationWarning,
            stacklevel=4,
        )
    elif status == "separable":
        warnings.warn(
            "The logits separate the classes of the calibration data perfectly, "
            "so the likelihood keeps improving as the temperature shrinks. The "
            f"temperature is held at {TEMPERATURE_MIN_RATIO:g} * max logit scale = "
            f"{TEMPERATURE_MIN_RATIO * scale:.6g}. Calibrate on more data, or on "
            "data the model was not trained on.",
            CalibrationWarning,
            stacklevel=4,
        )


def _fit_constant(problem, scale, fit_bias):
    """Handle logits that carry no information about T."""
    warnings.warn(
        "The logits are constant (all binary logits equal, or every multiclass "
        "row constant), so the likelihood does not depend on the temperature; "
        "returning temperature 1.0. Check that the model's outputs vary with the "
        "input.",
        CalibrationWarning,
        stacklevel=3,
    )
    bias = 0.0
    if fit_bias:
        # sigmoid(z0 - b) must equal the weighted rate of class 1.
        z0 = float(problem.logits[0])
        rate = _weighted_positive_rate(problem)
        bias = z0 - math.log(rate / (1.0 - rate))
    return TemperatureFit(1.0, bias, "constant", 1)


def _weighted_positive_rate(problem):
    positive = problem.labels
    if problem.on_torch:
        positive = positive.to(torch.float64)
    else:
        positive = positive.astype(np.float64)
    if problem.weights is None:
        return float(positive.sum()) / problem.n_samples
    return float((positive * problem.weights).sum()) / problem.total_weight()


def _raise_non_finite(logits):
    if is_torch_tensor(logits):
        logits = logits.detach().cpu().numpy()
    check_finite(logits, name="logits")
    raise ValueError("logits contain NaN or infinite values; remove those samples.")


def _build_problem(logits, y, sample_weight, fit_bias):
    logits = _check_logits(logits)
    binary = logits.ndim == 1
    if fit_bias and not binary:
        raise ValueError(
            f"fit_bias=True needs binary logits of shape (n_samples,), got shape "
            f"{tuple(logits.shape)}. Use fit_bias=False for multiclass logits."
        )
    labels = _as_label_array(y, logits)
    check_same_length(logits, labels, names=("logits", "y"))

    weights = None
    if sample_weight is not None:
        if is_torch_tensor(sample_weight):
            sample_weight = sample_weight.detach().cpu().numpy()
        weights = check_sample_weight(sample_weight, logits.shape[0])

    n_classes = 2 if binary else logits.shape[1]
    labels = _check_labels(labels, n_classes, weights)
    if is_torch_tensor(logits):
        if weights is not None:
            weights = torch.as_tensor(weights, device=logits.device)
        labels = labels.to(torch.bool if binary else torch.int64)
    else:
        labels = labels == 1 if binary else labels.astype(np.intp, copy=False)
    return LogitProblem(logits, labels, weights)


def _check_logits(logits):
    if is_torch_tensor(logits):
        logits = logits.detach()
        if not torch.is_floating_point(logits):
            logits = logits.to(torch.float64)
    else:
        logits = np.asarray(logits)
        if logits.dtype.kind in "biu":
            logits = logits.astype(np.float64)
        elif logits.dtype not in (np.float32, np.float64):
            try:
                logits = logits.astype(np.float64)
            except (TypeError, ValueError) as err:
                raise ValueError(
                    f"logits must be numeric, got dtype {logits.dtype}. Pass the "
                    "model's raw scores as a float array."
                ) from err

    if logits.ndim not in (1, 2) or (logits.ndim == 2 and logits.shape[1] < 2):
        raise ValueError(
            f"logits must have shape (n_samples,) for binary or (n_samples, "
            f"n_classes) with n_classes >= 2, got shape {tuple(logits.shape)}. "
            "Ravel a single column of binary logits."
        )
    if logits.shape[0] == 0:
        raise ValueError("logits are empty; at least one sample is required.")
    return logits


def _as_label_array(y, logits):
    if is_torch_tensor(y):
        return y.detach().to(logits.device) if is_torch_tensor(logits) else y.cpu().numpy()
    y = np.asarray(y)
    if is_torch_tensor(logits) and y.dtype.kind in "biuf":
        return torch.as_tensor(y, device=logits.device)
    return y


def _check_labels(labels, n_classes, weights):
    """Check integer labels in ``0 .. n_classes - 1`` holding two classes."""
    on_torch = is_torch_tensor(labels)
    if labels.ndim != 1:
        raise ValueError(
            f"y must be one-dimensional, got shape {tuple(labels.shape)}."
        )
    if on_torch:
        kind = "b" if labels.dtype == torch.bool else ("f" if labels.is_floating_point() else "i")
    else:
        kind = labels.dtype.kind
    allowed = "0 or 1" if n_classes == 2 else f"0 .. {n_classes - 1}"
    if kind not in "biuf":
        raise ValueError(
            f"y must hold integer class indices ({allowed}), got dtype "
            f"{labels.dtype}. Encode the labels first, for example with "
            "sklearn.preprocessing.LabelEncoder."
        )
    if kind == "b":
        labels = labels.to(torch.int64) if on_torch else labels.astype(np.int64)
    if kind == "f":
        integral = labels == labels.round()
        if not bool(integral.all()):
            raise ValueError(
                f"y must hold integer class indices ({allowed}), got non-integral "
                "values. Encode the labels first."
            )

    low, high = float(labels.min()), float(labels.max())
    if low < 0 or high > n_classes - 1:
        bad = low if low < 0 else high
        raise ValueError(
            f"y contains the label {bad:g}, outside the allowed range {allowed} "
            f"for logits with {n_classes} columns"
            + (" (binary logits have one)" if n_classes == 2 else "")
            + ". Encode the labels to match the logit columns."
        )

    present = labels
    if weights is not None:
        mask = weights > 0
        present = labels[torch.as_tensor(mask, device=labels.device) if on_torch else mask]
    if float(present.min()) == float(present.max()):
        raise ValueError(
            f"y contains only the class {float(present.min()):g} (among samples "
            "with positive weight). Temperature scaling needs samples of at least "
            "two classes."
        )
    return labels
