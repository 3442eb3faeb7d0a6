"""skcal: trustworthy probabilities and decision thresholds for neural classifiers.

The estimators are ordinary scikit-learn classifiers:

- :class:`ResNet18Classifier`, a torchvision ResNet18 with one output logit,
  trained through skorch;
- :class:`TemperatureScalingClassifier`, which learns a temperature (and
  optionally a bias) on held-out logits, see also :func:`fit_temperature`;
- :class:`ExactThresholdClassifierCV`, scikit-learn's
  ``TunedThresholdClassifierCV`` with an exact threshold search, objectives
  for costs and constraints, and bootstrap intervals;
- :func:`make_calibrated_classifier`, which composes the three;
- :func:`find_threshold` and :func:`bayes_threshold` for thresholds from
  scores, and :func:`seed_study` for comparing training runs.

Metrics live in :mod:`skcal.metrics`, figures in :mod:`skcal.display`, image
data loaders in :mod:`skcal.datasets`.
"""

from skcal.objectives import constrained_objective, cost_objective, fbeta_objective
from skcal.persistence import load_model, save_model
from skcal.pipeline import make_calibrated_classifier
from skcal.resnet import ResNet18Classifier
from skcal.seeds import SeedStudyResult, seed_study
from skcal.temperature import TemperatureScalingClassifier, fit_temperature
from skcal.threshold import ThresholdResult, bayes_threshold, find_threshold
from skcal.tuning import ExactThresholdClassifierCV

__version__ = "0.1.0"

__all__ = [
    "ExactThresholdClassifierCV",
    "ResNet18Classifier",
    "SeedStudyResult",
    "TemperatureScalingClassifier",
    "ThresholdResult",
    "bayes_threshold",
    "constrained_objective",
    "cost_objective",
    "fbeta_objective",
    "find_threshold",
    "fit_temperature",
    "load_model",
    "make_calibrated_classifier",
    "save_model",
    "seed_study",
]
