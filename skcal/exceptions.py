"""Warnings and errors raised by skcal.

Every warning skcal emits is a subclass of :class:`SkcalWarning`, so users
can filter all of them at once::

    import warnings
    from skcal.exceptions import SkcalWarning

    warnings.simplefilter("ignore", SkcalWarning)
"""

from sklearn.exceptions import NotFittedError

__all__ = [
    "CalibrationWarning",
    "DataWarning",
    "InfeasibleThresholdError",
    "InvalidParameterError",
    "ModelFormatError",
    "NotFittedError",
    "SkcalWarning",
]


class SkcalWarning(UserWarning):
    """Base class of every warning emitted by skcal."""


class CalibrationWarning(SkcalWarning):
    """A calibration fit reached a bound or ran on data that cannot support it.

    Examples are perfectly separable calibration data, constant logits, or a
    model whose scores are anti-correlated with the labels.
    """


class DataWarning(SkcalWarning):
    """Input data was usable but altered, for example bad images skipped."""


class InfeasibleThresholdError(ValueError):
    """No decision threshold satisfies the requested constraint."""


class ModelFormatError(ValueError):
    """A saved model directory is missing, damaged or of an unknown version."""


class InvalidParameterError(ValueError, TypeError):
    """An estimator parameter has an invalid type or value.

    It subclasses both ``ValueError`` and ``TypeError``, as scikit-learn's
    error of the same name does, so either ``except`` clause catches it.
    """
