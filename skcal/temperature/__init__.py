"""Temperature scaling: one scalar that rescales a model's logits.

:func:`fit_temperature` fits the temperature to precomputed logits and
:class:`TemperatureScalingClassifier` wraps any scikit-learn classifier.
"""

from skcal.temperature._estimator import TemperatureScalingClassifier
from skcal.temperature._fit import fit_temperature

__all__ = ["TemperatureScalingClassifier", "fit_temperature"]
