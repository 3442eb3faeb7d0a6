"""Calibration metrics, proper scores, score summaries and bootstrap intervals.

All metrics take ``y_true`` and either the probability of the positive class,
of shape ``(n_samples,)``, or class probabilities of shape
``(n_samples, n_classes)`` whose columns follow the sorted labels.
``pos_label`` selects the positive class of a binary target, and ``labels``
lists the classes of a target that may miss some.
"""

from skcal.metrics.bootstrap import BootstrapResult, bootstrap
from skcal.metrics.calibration_error import (
    expected_calibration_error,
    maximum_calibration_error,
)
from skcal.metrics.decomposition import LogLossDecomposition, log_loss_decomposition
from skcal.metrics.proper_scores import accuracy_at_threshold, brier_score_loss, log_loss
from skcal.metrics.score_distribution import score_distribution_stats
from skcal.metrics.smooth_ece import smooth_expected_calibration_error

__all__ = [
    "BootstrapResult",
    "LogLossDecomposition",
    "accuracy_at_threshold",
    "bootstrap",
    "brier_score_loss",
    "expected_calibration_error",
    "log_loss",
    "log_loss_decomposition",
    "maximum_calibration_error",
    "score_distribution_stats",
    "smooth_expected_calibration_error",
]
