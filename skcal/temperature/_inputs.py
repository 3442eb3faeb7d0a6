"""Validation of the logits, labels and weights of a temperature fit."""

import numpy as np

from skcal._validation import check_same_length, check_sample_weight
from skcal.temperature._passes import LogitProblem, is_torch_tensor, torch


def build_problem(logits, y, sample_weight, fit_bias):
    """Validate the input and return it as a :class:`LogitProblem`.

    Binary labels become int8 signs for numpy (+1 for class 1, -1 for class
    0; the kernels multiply the logits by them) and booleans "is class 1"
    for torch. Multiclass labels become integer indices.
    """
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
        if binary:
            labels = _binary_signs(labels)
        else:
            labels = labels.astype(np.intp, copy=False)
    return LogitProblem(logits, labels, weights)


def _binary_signs(labels):
    """Return +1 for class 1 and -1 for class 0 as int8."""
    positive = labels if labels.dtype == np.bool_ else labels == 1
    signs = positive.view(np.int8) * np.int8(2)
    signs -= np.int8(1)
    return signs


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
        kind = "i"
        if labels.dtype == torch.bool:
            kind = "b"
        elif labels.is_floating_point():
            kind = "f"
    else:
        kind = labels.dtype.kind
    allowed = "0 or 1" if n_classes == 2 else f"0 .. {n_classes - 1}"
    if kind not in "biuf":
        raise ValueError(
            f"y must hold integer class indices ({allowed}), got dtype "
            f"{labels.dtype}. Encode the labels first, for example with "
            "sklearn.preprocessing.LabelEncoder."
        )
    if kind == "b" and on_torch:
        labels = labels.to(torch.uint8)
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

    if weights is not None:
        mask = weights > 0
        if on_torch:
            mask = torch.as_tensor(mask, device=labels.device)
        present = labels[mask]
        low, high = float(present.min()), float(present.max())
    if low == high:
        raise ValueError(
            f"y contains only the class {low:g} (among samples with positive "
            "weight). Temperature scaling needs samples of at least two classes."
        )
    return labels
