"""Split the log loss into a calibration part and a refinement part."""

from dataclasses import asdict, dataclass

import numpy as np
from scipy.special import expit, log_softmax

from skcal._validation import check_finite
from skcal.metrics._inputs import (
    binary_target,
    check_option,
    check_rows_sum_to_one,
    class_probabilities,
)
from skcal.metrics._logit import clipped_logit
from skcal.metrics.proper_scores import log_loss

SCALES = ("logit", "probability")


@dataclass(frozen=True)
class LogLossDecomposition:
    """Parts of the log loss, in nats per sample.

    Attributes
    ----------
    total : float
        Log loss of the scores as given.
    calibration : float
        ``total - refinement``: the loss that the best temperature removes.
    refinement : float
        Log loss after dividing the logits by the fitted ``temperature``.
    temperature : float
        Temperature fitted on the same data.
    """

    total: float
    calibration: float
    refinement: float
    temperature: float

    def to_dict(self):
        """Return the fields as a JSON-serialisable dict."""
        return asdict(self)


def log_loss_decomposition(
    y_true,
    y_score,
    *,
    scale="logit",
    sample_weight=None,
    pos_label=None,
    labels=None,
):
    r"""Split the log loss into calibration and refinement by temperature scaling.

    The refinement part is the log loss that remains after the best
    temperature :math:`T`, fitted on the same data by
    :func:`skcal.temperature.fit_temperature`:
    :math:`\mathrm{refinement} = \mathrm{NLL}(z / T)` and
    :math:`\mathrm{calibration} = \mathrm{NLL}(z) - \mathrm{NLL}(z / T)`. Since
    :math:`T = 1` is a candidate, the calibration part is non-negative up to
    the solver's tolerance. Temperature scaling keeps the ranking of the
    scores, so the refinement part measures what no monotone rescaling of
    this form can remove.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_score : array-like of shape (n_samples,) or (n_samples, n_classes)
        Logits or probabilities, as selected by ``scale``. A 1-D array is the
        positive class's logit or probability. Columns follow the sorted
        labels.
    scale : {"logit", "probability"}, default="logit"
        Whether ``y_score`` contains logits or probabilities. Probabilities are
        turned into logits (``log(p / (1 - p))`` for a 1-D array, ``log p``
        for a matrix) after clipping away from 0 and 1.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights of both the log loss and the temperature fit.
    pos_label : int, float, bool or str, default=None
        Positive class of a binary target; ``None`` takes the larger label.
    labels : array-like of shape (n_classes,), default=None
        All class labels, for a ``y_true`` that may miss some.

    Returns
    -------
    LogLossDecomposition

    Examples
    --------
    >>> import numpy as np
    >>> from skcal.metrics import log_loss_decomposition
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(scale=3.0, size=5000)
    >>> y = rng.random(5000) < 1 / (1 + np.exp(-z / 3.0))
    >>> parts = log_loss_decomposition(y, z)
    >>> round(parts.temperature, 1), parts.calibration > 0.05
    (2.9, True)
    """
    from skcal.temperature import fit_temperature

    check_option(scale, name="scale", allowed=SCALES)
    target, logits = _target_and_logits(y_true, y_score, scale, pos_label, labels)
    temperature = float(fit_temperature(logits, target, sample_weight=sample_weight))

    total = _nll(target, logits, sample_weight)
    refinement = _nll(target, logits / temperature, sample_weight)
    return LogLossDecomposition(
        total=total,
        calibration=total - refinement,
        refinement=refinement,
        temperature=temperature,
    )


def _target_and_logits(y_true, y_score, scale, pos_label, labels):
    """Return integer targets and logits: 1-D for binary, 2-D for multiclass."""
    try:
        y_score = np.asarray(y_score, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"y_score must contain numbers, got dtype {np.asarray(y_score).dtype}."
        ) from err
    if scale == "probability":
        return _logits_from_probabilities(y_true, y_score, pos_label, labels)

    check_finite(y_score, name="y_score")
    if y_score.ndim not in (1, 2):
        raise ValueError(
            f"y_score has shape {y_score.shape}, expected (n_samples,) or "
            "(n_samples, n_classes) logits."
        )
    # Only the labels are checked here: the placeholder probabilities pass
    # every check on y_prob.
    if y_score.ndim == 1:
        y01, _, _ = binary_target(y_true, np.full(y_score.shape, 0.5), pos_label=pos_label, labels=labels)
        return y01, y_score
    y_index, _ = class_probabilities(
        y_true, np.full(y_score.shape, 1.0 / y_score.shape[1]), pos_label=pos_label, labels=labels
    )
    if y_score.shape[1] == 2:
        return y_index, y_score[:, 1] - y_score[:, 0]
    return y_index, y_score


def _logits_from_probabilities(y_true, y_prob, pos_label, labels):
    if y_prob.ndim == 1:
        y01, p_pos, _ = binary_target(y_true, y_prob, pos_label=pos_label, labels=labels)
        return y01, clipped_logit(p_pos)
    y_index, proba = class_probabilities(y_true, y_prob, pos_label=pos_label, labels=labels)
    check_rows_sum_to_one(proba)
    if proba.shape[1] == 2:
        return y_index, clipped_logit(proba[:, 1])
    return y_index, np.log(np.clip(proba, np.finfo(np.float64).eps, 1.0))


def _nll(target, logits, sample_weight):
    if logits.ndim == 1:
        return log_loss(target, expit(logits), sample_weight=sample_weight, labels=[0, 1])
    log_proba = log_softmax(logits, axis=1)
    return log_loss(target, np.exp(log_proba), sample_weight=sample_weight, labels=np.arange(logits.shape[1]))
