"""One training run of a seed study: fit, calibrate, tune and measure.

:func:`fit_run` is the function that joblib executes once per run, in this
process, in a worker process or on a Dask worker. It is a top-level
function of plain arguments, so it pickles, and its result depends only on
those arguments (apart from the measured ``fit_seconds``), because it pins
torch's thread count and seeds everything it draws.
"""

# License: BSD-3-Clause

import time
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.special import expit
from sklearn.base import clone
from sklearn.metrics import log_loss

from skcal._indexing import take_samples
from skcal._torch_utils import torch_num_threads
from skcal.metrics import expected_calibration_error, score_distribution_stats
from skcal.metrics._logit import clipped_logit
from skcal.temperature._fit import fit_temperature_details
from skcal.threshold import find_threshold

__all__ = ["RunSettings", "fit_run"]

@dataclass(frozen=True)
class RunSettings:
    """The settings that every run of one study shares."""

    pos_label: object
    fit_bias: bool
    objective: object
    n_resamples: int
    confidence_level: float
    n_threads: int
    n_bins: int = 15


def fit_run(estimator, X, y, split, seed, resample_seed, settings):
    """Train, calibrate and evaluate one run of a seed study.

    Parameters
    ----------
    estimator : classifier
        Unfitted template; a clone is fitted with ``random_state=seed``
        (and ``n_threads`` when the estimator has that parameter).
    X, y : array-like or torch Dataset, and ndarray
        All samples and their labels.
    split : dict of str to ndarray of int
        Indices of the ``"train"``, ``"calibration"`` and ``"test"`` splits.
    seed : int
        The estimator's ``random_state`` in this run; it also seeds the
        per-run threshold bootstrap.
    resample_seed : int or None
        Seed of a bootstrap resample of the training split, drawn with
        replacement within each class, to train on instead of the split
        itself. ``None`` trains on the split.
    settings : RunSettings

    Returns
    -------
    run : dict
        Raw logits on the calibration and test splits, the temperature and
        bias, and the fit's ``calibration_status``: ``"interior"`` for a
        proper minimum, or ``"separable"``, ``"chance"`` or ``"constant"``
        when the calibration split cannot determine the temperature. Also
        both tuned thresholds, the test-split statistics before and after
        calibration, the training indices, ``fit_seconds`` and the warnings
        raised, as ``(category, message)`` pairs because warnings raised in
        a worker process do not reach the caller.
    """
    with warnings.catch_warnings(record=True) as caught, torch_num_threads(
        settings.n_threads
    ):
        warnings.simplefilter("always")
        start = time.perf_counter()
        train = _training_indices(y, split["train"], resample_seed)
        model = _fit_clone(estimator, X, y, train, seed, settings.n_threads)
        fit_seconds = time.perf_counter() - start

        calibration_logits = positive_logits(model, take_samples(X, split["calibration"]),
                                             settings.pos_label)
        test_logits = positive_logits(model, take_samples(X, split["test"]),
                                      settings.pos_label)
        run = _calibrate_and_measure(
            y, split, calibration_logits, test_logits, seed, settings
        )

    run.update(
        seed=int(seed),
        train_indices=train,
        fit_seconds=fit_seconds,
        warnings=[(w.category, str(w.message)) for w in caught],
    )
    return run


def _calibrate_and_measure(y, split, calibration_logits, test_logits, seed, settings):
    y_calibration = (y[split["calibration"]] == settings.pos_label).astype(np.int64)
    y_test = (y[split["test"]] == settings.pos_label).astype(np.int64)

    fitted = fit_temperature_details(
        calibration_logits, y_calibration, fit_bias=settings.fit_bias
    )
    temperature, bias = fitted.temperature, fitted.bias

    thresholds = {}
    for stage, transform in (("before", None), ("after", (temperature, bias))):
        proba = expit(calibrate_logits(calibration_logits, transform))
        thresholds[stage] = find_threshold(
            y_calibration,
            proba,
            objective=settings.objective,
            pos_label=1,
            n_resamples=settings.n_resamples,
            confidence_level=settings.confidence_level,
            random_state=seed,
        )

    statistics = {
        "before": _test_statistics(y_test, test_logits, settings.n_bins),
        "after": _test_statistics(
            y_test, calibrate_logits(test_logits, (temperature, bias)), settings.n_bins
        ),
    }
    return {
        "temperature": float(temperature),
        "bias": float(bias),
        "calibration_status": fitted.status,
        "calibration_logits": calibration_logits,
        "test_logits": test_logits,
        "thresholds": thresholds,
        "statistics": statistics,
    }


def calibrate_logits(logits, transform):
    """Apply ``(z - bias) / temperature``; ``transform=None`` returns ``logits``."""
    if transform is None:
        return logits
    temperature, bias = transform
    return (logits - bias) / temperature


def _test_statistics(y01, logits, n_bins):
    """Score-distribution statistics per true class, ECE and log loss on one split."""
    proba = expit(logits)
    statistics = flatten_distribution_stats(
        score_distribution_stats(y01, proba, pos_label=1, logits=logits)
    )
    statistics["ece"] = float(expected_calibration_error(y01, proba, n_bins=n_bins))
    statistics["log_loss"] = float(log_loss(y01, proba, labels=[0, 1]))
    return statistics


def flatten_distribution_stats(distribution):
    """Flatten per-class statistics to keys such as ``negative_logit_median``.

    ``distribution`` is the output of
    :func:`skcal.metrics.score_distribution_stats`. Undefined statistics
    (``None``, such as the skewness of constant scores) become NaN.
    """
    flat = {}
    for role in ("negative", "positive"):
        for quantity in ("probability", "logit"):
            for name, value in distribution[role][quantity].items():
                flat[f"{role}_{quantity}_{name}"] = np.nan if value is None else value
    return flat


def positive_logits(model, X, pos_label):
    """Return the log-odds of ``pos_label`` from a fitted binary classifier.

    ``decision_function`` is used when the model has one, with its sign
    flipped when ``pos_label`` is ``classes_[0]``. Otherwise the logit of
    ``predict_proba`` is used, clipped to about +-36.7 so that
    probabilities of 0 and 1 give finite logits.
    """
    classes = list(model.classes_)
    if hasattr(model, "decision_function"):
        scores = np.asarray(model.decision_function(X), dtype=np.float64)
        return scores if classes.index(pos_label) == 1 else -scores

    proba = np.asarray(model.predict_proba(X), dtype=np.float64)
    positive = proba[:, classes.index(pos_label)]
    return clipped_logit(positive)


def _fit_clone(estimator, X, y, train, seed, n_threads):
    model = clone(estimator)
    params = model.get_params(deep=False)
    update = {"random_state": int(seed)} if "random_state" in params else {}
    if "n_threads" in params:
        update["n_threads"] = n_threads
    model.set_params(**update)
    return model.fit(take_samples(X, train), y[train])


def _training_indices(y, train, resample_seed):
    if resample_seed is None:
        return np.asarray(train)

    # Resampling within each class keeps the class balance of the split.
    rng = np.random.default_rng(resample_seed)
    drawn = []
    for label in np.unique(y[train]):
        members = train[y[train] == label]
        drawn.append(rng.choice(members, size=members.shape[0], replace=True))
    return np.sort(np.concatenate(drawn))


