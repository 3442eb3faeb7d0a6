"""Train the same model several times and measure how much its skew and threshold move."""

# License: BSD-3-Clause

import numbers
import time
import warnings

import numpy as np
from joblib import Parallel, delayed
from sklearn.model_selection import train_test_split

from skcal._torch_utils import draw_seeds, is_positive_int
from skcal._validation import check_same_length, encode_binary_target
from skcal.objectives import resolve_objective
from skcal.seeds._result import assemble_result
from skcal.seeds._run import RunSettings, fit_run

__all__ = ["seed_study"]

VARY_OPTIONS = ("seed", "bootstrap")
CALIBRATION_OPTIONS = ("temperature", "temperature+bias")


def seed_study(
    estimator,
    X,
    y=None,
    *,
    n_runs=5,
    vary=("seed",),
    calibration="temperature",
    objective="f1",
    pos_label=None,
    test_size=0.3,
    calibration_size=0.3,
    n_resamples=200,
    confidence_level=0.95,
    n_threads=1,
    n_jobs=None,
    random_state=None,
    verbose=0,
):
    """Measure whether a model's score skew is a property of the data or of the training run.

    The data are split once, stratified and seeded, into a training, a
    calibration and a test split. Then ``n_runs`` clones of ``estimator``
    are trained that differ only in what ``vary`` names, and each run is
    calibrated on the calibration split and measured on the test split:

    - the score-distribution statistics of each true class (mean, median,
      standard deviation and skewness of P(positive) and of the logit), the
      expected calibration error (15 equal-width bins) and the log loss,
      before and after calibration;
    - the fitted temperature ``T`` (and bias ``b``), where the calibrated
      probability is ``sigmoid((z - b) / T)`` of the logit ``z``;
    - the threshold that maximises ``objective`` on the calibration split,
      on uncalibrated and on calibrated probabilities, with a bootstrap
      interval (:func:`skcal.threshold.find_threshold`).

    Across the runs, the study then reports (see :class:`SeedStudyResult`):

    - how much of the between-run spread of the threshold and of the skew
      statistics remains after calibration: the ratio of the between-run
      standard deviations after / before, with a bootstrap interval over
      runs;
    - whether the runs' calibrated scores differ more than the noise of a
      finite test set explains. Every run scores the same test images, so
      the test is Hotelling's T² test for paired measurements of each run's
      mean calibrated P(positive), per true class. The two classes'
      p-values are combined with Fisher's method;
    - the recommended production threshold: the threshold that maximises
      ``objective`` on the pooled calibrated calibration-split scores of
      all runs, the best single threshold for a model drawn at random from
      the runs. Its interval comes from a bootstrap that resamples both the
      runs and the calibration images.

    Parameters
    ----------
    estimator : classifier
        Unfitted binary classifier with a ``random_state`` parameter and
        ``decision_function`` (the logit of ``classes_[1]``) or
        ``predict_proba``, for example
        :class:`~skcal.resnet.ResNet18Classifier`. Each run fits a clone.
    X : ndarray or torch Dataset
        Samples in the form ``estimator.fit`` accepts; a dataset is indexed
        with ``torch.utils.data.Subset``.
    y : array-like of shape (n_samples,), default=None
        Labels, two classes. ``None`` takes ``X.targets`` of a dataset.
    n_runs : int, default=5
        Number of training runs, at least 2.
    vary : tuple of str, default=("seed",)
        What differs between runs. ``"seed"``: the estimator's
        ``random_state``, which for the ResNet sets the initial weights and
        the order of the mini-batches. ``"bootstrap"``: each run trains on a
        bootstrap resample of the training split, drawn within each class.
        Pass ``("seed", "bootstrap")`` for both. Without ``"seed"`` every
        run uses the first run's seed.
    calibration : {"temperature", "temperature+bias"}, default="temperature"
        Temperature scaling, or temperature scaling with a fitted logit bias.
    objective : str, tuple or Objective, default="f1"
        What the tuned thresholds maximise; see
        :func:`skcal.objectives.resolve_objective`.
    pos_label : object, default=None
        The positive class; ``None`` takes the larger of the two labels.
    test_size : float, default=0.3
        Fraction of the samples in the test split.
    calibration_size : float, default=0.3
        Fraction of the non-test samples in the calibration split; the rest
        is the training split.
    n_resamples : int, default=200
        Bootstrap resamples for every interval: per-run thresholds, the
        spread ratios and the recommended threshold. 0 skips the intervals.
    confidence_level : float, default=0.95
        Level of the intervals. ``1 - confidence_level`` is also the
        significance level of the sentence that states the test's result.
    n_threads : int or None, default=1
        Torch CPU threads of each run, set with ``torch.set_num_threads``
        while the run executes, wherever it executes, and passed to the
        estimator's ``n_threads`` parameter when it has one. CPU training is
        bitwise reproducible only at a fixed torch thread count, so a fixed
        value makes the results independent of the machine's core count and
        of the joblib backend. ``None`` leaves torch's setting alone.
    n_jobs : int or None, default=None
        Runs executed in parallel by ``joblib.Parallel``. ``None`` means 1
        unless a ``joblib.parallel_config`` context sets it; -1 uses all
        workers. Under ``joblib.parallel_config(backend="dask")`` the runs
        execute on the Dask cluster.
    random_state : int, numpy.random.RandomState or None, default=None
        Seeds the split, the runs' seeds and the bootstrap resamples. Equal
        integer values give equal results at a fixed ``n_threads``.
    verbose : int, default=0
        With 1 or more, print one line per finished run.

    Returns
    -------
    result : SeedStudyResult

    Raises
    ------
    ValueError
        For ``n_runs`` below 2, an unknown ``vary`` entry or
        ``calibration``, fractions outside (0, 1), a target without two
        classes, splits too small to hold both classes, or an estimator
        without ``random_state`` when ``vary`` contains ``"seed"``.

    Examples
    --------
    A linear model trains in milliseconds, so it shows the mechanics; for
    the ResNet pass :class:`~skcal.resnet.ResNet18Classifier`.

    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import SGDClassifier
    >>> from skcal.seeds import seed_study
    >>> digits = load_digits()
    >>> X, y = digits.data / 16, digits.target == 8
    >>> model = SGDClassifier(loss="log_loss", max_iter=5, tol=None)
    >>> result = seed_study(model, X, y, n_runs=4, n_resamples=50, random_state=0)
    >>> result.thresholds.shape
    (4,)
    >>> print(result.verdict)  # doctest: +ELLIPSIS
    The runs' calibrated scores differ ...
    """
    start = time.perf_counter()
    settings = _check_parameters(
        estimator, n_runs, vary, calibration, objective, test_size,
        calibration_size, n_resamples, confidence_level, n_threads,
    )
    y = _labels(X, y)
    y01, classes, pos_label = encode_binary_target(y, pos_label=pos_label)
    settings = RunSettings(pos_label=pos_label, **settings)

    split_seed, analysis_seed, *run_seeds = draw_seeds(random_state, n_runs + 2)
    split = _split(y01, test_size, calibration_size, split_seed)
    network_seeds = run_seeds if "seed" in vary else [run_seeds[0]] * n_runs
    bootstrap = "bootstrap" in vary

    calls = (
        delayed(_indexed_run)(
            index, estimator, X, y, split, seed, resample, bootstrap, settings
        )
        for index, (seed, resample) in enumerate(zip(network_seeds, run_seeds))
    )
    runs = [None] * n_runs
    parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
    for index, run in parallel(calls):
        runs[index] = run
        _report_progress(verbose, index, n_runs, run, start)

    _reraise_warnings(runs)
    info = _describe(estimator, X, y01, classes, settings, split, vary, n_runs,
                     test_size, calibration_size, random_state)
    result = assemble_result(runs, y01, split, settings, info, analysis_seed)
    result.info["wall_seconds"] = time.perf_counter() - start
    return result


def _indexed_run(index, estimator, X, y, split, seed, resample_seed, bootstrap, settings):
    # The index travels with the result because runs finish in any order.
    return index, fit_run(
        estimator, X, y, split, seed, resample_seed if bootstrap else None, settings
    )


def _check_parameters(
    estimator, n_runs, vary, calibration, objective, test_size,
    calibration_size, n_resamples, confidence_level, n_threads,
):
    """Validate the study's parameters; return the shared run settings."""
    if not (is_positive_int(n_runs) and n_runs >= 2):
        raise ValueError(
            f"n_runs={n_runs!r} is invalid; a seed study compares runs, so pass an "
            "int of at least 2 (5 or more for useful intervals)."
        )
    _check_vary(vary)
    if calibration not in CALIBRATION_OPTIONS:
        raise ValueError(
            f"calibration={calibration!r} is not supported; use one of "
            f"{list(CALIBRATION_OPTIONS)}."
        )
    for name, value in (("test_size", test_size), ("calibration_size", calibration_size),
                        ("confidence_level", confidence_level)):
        if not (isinstance(value, numbers.Real) and 0 < value < 1):
            raise ValueError(
                f"{name}={value!r} is invalid; pass a float strictly between 0 and 1."
            )
    if not (isinstance(n_resamples, numbers.Integral) and n_resamples >= 0):
        raise ValueError(
            f"n_resamples={n_resamples!r} is invalid; pass an int of at least 0."
        )
    if not (n_threads is None or is_positive_int(n_threads)):
        raise ValueError(f"n_threads={n_threads!r} is invalid; pass None or a positive int.")
    _check_estimator(estimator, vary)
    return {
        "fit_bias": calibration == "temperature+bias",
        "objective": resolve_objective(objective),
        "n_resamples": int(n_resamples),
        "confidence_level": float(confidence_level),
        "n_threads": n_threads,
    }


def _check_vary(vary):
    if isinstance(vary, str) or not isinstance(vary, (tuple, list)):
        raise ValueError(
            f"vary={vary!r} is invalid; pass a tuple such as ('seed',) or "
            "('seed', 'bootstrap')."
        )
    unknown = [entry for entry in vary if entry not in VARY_OPTIONS]
    if unknown or not vary:
        raise ValueError(
            f"vary={tuple(vary)!r} is invalid: entries must come from "
            f"{VARY_OPTIONS} and at least one is required, for example ('seed',)."
        )


def _check_estimator(estimator, vary):
    if not hasattr(estimator, "fit") or not hasattr(estimator, "get_params"):
        raise TypeError(
            f"estimator must be a scikit-learn classifier, got {type(estimator).__name__}."
        )
    if not (hasattr(estimator, "decision_function") or hasattr(estimator, "predict_proba")):
        raise TypeError(
            f"{type(estimator).__name__} has neither decision_function nor "
            "predict_proba; the study needs the logit or the probability of the "
            "positive class."
        )
    if "seed" in vary and "random_state" not in estimator.get_params(deep=False):
        raise ValueError(
            f"vary={tuple(vary)!r} varies the seed, but {type(estimator).__name__} "
            "has no random_state parameter, so every run would be the same. Pass "
            "an estimator with random_state, or vary=('bootstrap',)."
        )


def _labels(X, y):
    if y is None:
        targets = getattr(X, "targets", None)
        if targets is None:
            raise ValueError(
                "y is None and X has no 'targets' attribute. Pass the labels as y."
            )
        y = targets
    if hasattr(y, "cpu"):
        y = y.cpu().numpy()
    y = np.asarray(y)
    check_same_length(X, y, names=("X", "y"))
    return y


def _split(y01, test_size, calibration_size, seed):
    """Split sample indices into stratified training, calibration and test splits."""
    indices = np.arange(y01.shape[0])
    try:
        rest, test = train_test_split(
            indices, test_size=test_size, stratify=y01, random_state=seed
        )
        train, calibration = train_test_split(
            rest, test_size=calibration_size, stratify=y01[rest], random_state=seed
        )
    except ValueError as err:
        counts = np.bincount(y01, minlength=2)
        raise ValueError(
            f"Cannot split {y01.shape[0]} samples ({counts[0]} negative, "
            f"{counts[1]} positive) into stratified training, calibration and test "
            f"splits with test_size={test_size} and calibration_size="
            f"{calibration_size}: {err} Pass more samples of the smaller class."
        ) from err
    return {"train": np.sort(train), "calibration": np.sort(calibration),
            "test": np.sort(test)}


def _report_progress(verbose, index, n_runs, run, start):
    if verbose < 1:
        return
    before = run["thresholds"]["before"].threshold
    after = run["thresholds"]["after"].threshold
    print(
        f"run {index + 1}/{n_runs}  seed {run['seed']}  T = {run['temperature']:.3f}  "
        f"threshold {before:.4f} -> {after:.4f}  "
        f"elapsed {time.perf_counter() - start:.1f} s",
        flush=True,
    )


def _reraise_warnings(runs):
    # Warnings raised inside worker processes never reach this process.
    for index, run in enumerate(runs):
        for category, message in run["warnings"]:
            warnings.warn(f"Run {index + 1}: {message}", category, stacklevel=3)


def _describe(estimator, X, y01, classes, settings, split, vary, n_runs,
              test_size, calibration_size, random_state):
    return {
        "estimator": repr(estimator),
        "n_samples": int(y01.shape[0]),
        "classes": [_python_value(label) for label in classes],
        "pos_label": _python_value(settings.pos_label),
        "objective": settings.objective.name,
        "calibration": "temperature+bias" if settings.fit_bias else "temperature",
        "vary": list(vary),
        "n_runs": int(n_runs),
        "n_train": int(split["train"].shape[0]),
        "n_calibration": int(split["calibration"].shape[0]),
        "n_test": int(split["test"].shape[0]),
        "test_size": float(test_size),
        "calibration_size": float(calibration_size),
        "n_resamples": settings.n_resamples,
        "confidence_level": settings.confidence_level,
        "n_threads": settings.n_threads,
        "random_state": random_state if isinstance(random_state, int) else None,
    }


def _python_value(value):
    return value.item() if hasattr(value, "item") else value
