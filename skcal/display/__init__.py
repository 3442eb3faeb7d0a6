"""Plots that show whether a model's probabilities can be trusted.

The displays follow scikit-learn's Display pattern: ``from_estimator`` and
``from_predictions`` compute and draw, ``plot(ax=...)`` returns the display,
and the drawn artists are kept in attributes ending in ``_``. matplotlib is
imported only when a plot is drawn.
"""

from skcal.display.reliability import ReliabilityDisplay
from skcal.display.score_distribution import ScoreDistributionDisplay, plot_score_distributions
from skcal.display.threshold_curve import ThresholdCurveDisplay

__all__ = [
    "ReliabilityDisplay",
    "ScoreDistributionDisplay",
    "ThresholdCurveDisplay",
    "plot_score_distributions",
]
