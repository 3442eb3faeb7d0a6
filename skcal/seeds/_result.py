"""The result of a seed study: per-run arrays, the between-run analysis and its summary."""

# License: BSD-3-Clause

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats
from scipy.special import expit

from skcal.seeds._run import calibrate_logits
from skcal.seeds._stats import between_run_test, pooled_threshold, spread_ratio

__all__ = ["SPREAD_STATISTICS", "SeedStudyResult", "assemble_result"]

#: Statistics whose between-run spread is compared before and after
#: calibration: (key, label). The statistics are computed on the test split.
SPREAD_STATISTICS = (
    ("threshold", "tuned threshold"),
    ("negative_logit_median", "median logit, negatives"),
    ("positive_logit_median", "median logit, positives"),
    ("negative_probability_mean", "mean P(positive), negatives"),
    ("positive_probability_mean", "mean P(positive), positives"),
    ("negative_probability_skewness", "skewness of P(positive), negatives"),
    ("positive_probability_skewness", "skewness of P(positive), positives"),
)


@dataclass
class SeedStudyResult:
    """Per-run measurements of a seed study and the conclusions drawn from them.

    Entry ``k`` of every per-run array belongs to run ``k``.

    Attributes
    ----------
    seeds : ndarray of shape (n_runs,)
        The estimator's ``random_state`` in each run.
    thresholds : ndarray of shape (n_runs,)
        Threshold tuned on the calibrated probabilities of the calibration
        split.
    thresholds_uncalibrated : ndarray of shape (n_runs,)
        Threshold tuned on the uncalibrated probabilities of the same split.
    threshold_intervals, threshold_intervals_uncalibrated : ndarray of shape (n_runs, 2)
        Bootstrap percentile intervals of those thresholds, NaN without
        resamples.
    temperatures, biases : ndarray of shape (n_runs,)
        Fitted temperature and bias (0 unless the bias was fitted).
    calibration_status : ndarray of str, shape (n_runs,)
        How each temperature fit ended. ``"interior"`` is a proper minimum.
        ``"separable"``: the model separates the calibration split
        perfectly, so T fell to its lower bound and the calibrated
        probabilities are 0 or 1. ``"chance"``: the logits are no better
        than chance and T reached its upper bound. ``"constant"``: the
        logits are constant.
    included : ndarray of bool, shape (n_runs,)
        Whether the run enters the between-run analysis (``spread``,
        ``between_run_test`` and the recommended threshold): True exactly
        for the ``"interior"`` fits.
    runs : list of dict
        One row per run: seed, temperature, thresholds and their intervals,
        and the test-split statistics with the suffix ``_before`` or
        ``_after`` calibration. :meth:`to_frame` gives the same table by
        column.
    spread : dict
        For each key of :data:`SPREAD_STATISTICS`: the between-run standard
        deviation before and after calibration, their ratio and its
        bootstrap interval over runs (see :func:`spread_ratio`).
    between_run_test : dict
        ``"before"`` and ``"after"`` calibration: the paired Hotelling T²
        test of the runs' mean P(positive) per true class on the test split.
    recommended_threshold : float
        Threshold on the calibrated P(positive) tuned on the pooled
        calibration scores of all runs.
    recommended_threshold_interval : tuple of float
        Its bootstrap interval over runs and calibration images.
    y_test : ndarray of shape (n_test,)
        Test labels, 1 for the positive class.
    test_proba, test_proba_uncalibrated : ndarray of shape (n_runs, n_test)
        Each run's calibrated and uncalibrated P(positive) on the test split.
    train_indices : list of ndarray
        Indices of the samples each run trained on, with repeats for a
        bootstrap resample.
    split : dict of str to ndarray
        Sorted sample indices of the ``"train"``, ``"calibration"`` and
        ``"test"`` splits, shared by all runs.
    info : dict
        Settings, split sizes and the wall time in seconds.
    files : dict
        Paths written by :meth:`write_report`.
    """

    seeds: np.ndarray
    thresholds: np.ndarray
    thresholds_uncalibrated: np.ndarray
    threshold_intervals: np.ndarray
    threshold_intervals_uncalibrated: np.ndarray
    temperatures: np.ndarray
    biases: np.ndarray
    calibration_status: np.ndarray
    included: np.ndarray
    runs: list
    spread: dict
    between_run_test: dict
    recommended_threshold: float
    recommended_threshold_interval: tuple
    y_test: np.ndarray
    test_proba: np.ndarray
    test_proba_uncalibrated: np.ndarray
    train_indices: list
    split: dict
    info: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)

    @property
    def n_runs(self):
        """Number of runs."""
        return int(self.seeds.shape[0])

    @property
    def significance_level(self):
        """Level below which a p-value counts as a difference: 1 - confidence level."""
        return 1.0 - self.info["confidence_level"]

    @property
    def verdict(self):
        """The test's result as a sentence that states what to do."""
        n_included = int(self.included.sum())
        if n_included < 2:
            verb = "has" if n_included == 1 else "have"
            return (
                f"Only {n_included} of the {self.n_runs} runs {verb} a "
                "temperature fitted to a proper minimum, so the runs cannot be "
                "compared. Use a larger calibration split (calibration_size) or "
                "fewer training epochs."
            )
        # A run's threshold interval is a percentile interval; its half-width
        # over the normal quantile estimates the threshold's standard error.
        half_widths = np.diff(self.threshold_intervals[self.included], axis=1) / 2
        quantile = stats.norm.ppf(0.5 + self.info["confidence_level"] / 2)
        return format_verdict(
            self.between_run_test["before"]["p_value"],
            self.between_run_test["after"]["p_value"],
            self.significance_level,
            threshold_sd=self.spread["threshold"]["sd_after"],
            threshold_standard_error=float(np.median(half_widths) / quantile),
        )

    def __repr__(self):
        # The default dataclass repr prints every index array of the split.
        low, high = self.recommended_threshold_interval
        return (
            f"{type(self).__name__}(n_runs={len(self.seeds)}, "
            f"thresholds={np.round(self.thresholds, 4).tolist()}, "
            f"thresholds_uncalibrated={np.round(self.thresholds_uncalibrated, 4).tolist()}, "
            f"temperatures={np.round(self.temperatures, 4).tolist()}, "
            f"recommended_threshold={self.recommended_threshold:.4f} "
            f"[{low:.4f}, {high:.4f}])"
        )

    def summary(self):
        """Return the study's conclusions as text: spreads, test, verdict and threshold."""
        from skcal.seeds._summary import format_summary

        return format_summary(self)

    def to_frame(self):
        """Return the per-run table as a dict of equal-length lists, one per column.

        ``pandas.DataFrame(result.to_frame())`` turns it into a data frame.
        """
        columns = list(self.runs[0])
        return {name: [row[name] for row in self.runs] for name in columns}

    def to_dict(self):
        """Return every number of the study as plain Python values, ready for ``json.dumps``.

        The per-run scores and training indices are left out; NaN stays a
        float, which ``json.dumps`` writes as ``NaN``.
        """
        return _plain(
            {
                "info": self.info,
                "summary": self.summary(),
                "verdict": self.verdict,
                "recommended_threshold": self.recommended_threshold,
                "recommended_threshold_interval": self.recommended_threshold_interval,
                "spread": self.spread,
                "between_run_test": self.between_run_test,
                "runs": self.runs,
                "files": {name: str(path) for name, path in self.files.items()},
            }
        )

    def write_report(self, out):
        """Write ``report.html``, ``seed_study.json`` and the figures to folder ``out``.

        Returns
        -------
        files : dict of str to pathlib.Path
            The written files by name, also stored in :attr:`files`.
        """
        from skcal.seeds._report import write_seed_report

        self.files = write_seed_report(self, out)
        return self.files


def format_verdict(
    p_before, p_after, alpha, threshold_sd=math.nan, threshold_standard_error=math.nan
):
    """State the between-run test's result as a sentence a practitioner can act on.

    Parameters
    ----------
    p_before, p_after : float
        p-values of the between-run test on uncalibrated and calibrated scores.
    alpha : float
        Significance level.
    threshold_sd : float, default=nan
        Between-run standard deviation of the calibrated thresholds.
    threshold_standard_error : float, default=nan
        Standard error of one run's calibrated threshold from the bootstrap
        of its calibration split. When the runs differ but their thresholds
        spread less than this, the sentence states that one threshold still
        serves every run.
    """
    if math.isnan(p_after):
        return (
            "The runs' calibrated scores differ by an unknown amount: the test needs "
            "more test samples of each class than runs. Use a larger test split."
        )
    after = format_p_value(p_after)
    if p_after < alpha:
        return _verdict_runs_differ(after, threshold_sd, threshold_standard_error)
    if not math.isnan(p_before) and p_before < alpha:
        return (
            f"The runs' calibrated scores differ no more than test-set noise explains "
            f"({after}), but their uncalibrated scores do ({format_p_value(p_before)}): "
            "the skew comes from the training run and temperature scaling removes it. "
            "Calibrate each model you ship; the recommended threshold then serves "
            "every run."
        )
    return (
        f"The runs' calibrated scores differ no more than test-set noise explains "
        f"({after}), and neither do their uncalibrated scores "
        f"({format_p_value(p_before)}): the skew is a property of the data and the "
        "model, not of the training run. One threshold serves every run."
    )


def _verdict_runs_differ(after, threshold_sd, threshold_standard_error):
    opening = (
        f"The runs' calibrated scores differ more than test-set noise explains "
        f"({after}): the skew depends on the training run."
    )
    comparison = (
        f"between-run standard deviation {threshold_sd:.3g}, standard error of one "
        f"run's threshold {threshold_standard_error:.3g}"
    )
    if threshold_sd < threshold_standard_error:
        return (
            f"{opening} After calibration the differences move the tuned threshold "
            f"less than its own sampling uncertainty ({comparison}), so calibrate "
            "each model you ship and use the recommended threshold for all of them."
        )
    if threshold_sd >= threshold_standard_error:
        return (
            f"{opening} After calibration the tuned threshold still moves between "
            f"runs by more than its sampling uncertainty ({comparison}), so calibrate "
            "each model you ship and tune its threshold on its own calibrated scores."
        )
    return (
        f"{opening} Calibrate each model you ship and tune its threshold on its own "
        "calibrated scores."
    )


def format_p_value(p_value):
    """Format a p-value as ``p = 0.03``, ``p < 0.0001`` or ``p = nan``."""
    if math.isnan(p_value):
        return "p = nan"
    if p_value < 1e-4:
        return "p < 0.0001"
    return f"p = {p_value:.2g}"


def assemble_result(runs, y01, split, settings, info, analysis_seed):
    """Collect the per-run results and run the between-run analysis.

    Runs whose temperature fit did not reach a proper minimum (see
    :attr:`SeedStudyResult.calibration_status`) keep their per-run entries
    but are left out of the analysis, because their calibrated
    probabilities are an artefact of a bound on the temperature.
    """
    y_test = y01[split["test"]]
    status = np.array([run["calibration_status"] for run in runs])
    included = status == "interior"
    analysed = [run for run, keep in zip(runs, included) if keep]

    return SeedStudyResult(
        seeds=np.array([run["seed"] for run in runs]),
        thresholds=_threshold_array(runs, "after", "threshold"),
        thresholds_uncalibrated=_threshold_array(runs, "before", "threshold"),
        threshold_intervals=_threshold_array(runs, "after", "threshold_interval"),
        threshold_intervals_uncalibrated=_threshold_array(
            runs, "before", "threshold_interval"
        ),
        temperatures=np.array([run["temperature"] for run in runs]),
        biases=np.array([run["bias"] for run in runs]),
        calibration_status=status,
        included=included,
        runs=[_table_row(index, run) for index, run in enumerate(runs)],
        **_analyse(analysed, y01, split, settings, analysis_seed),
        y_test=y_test,
        test_proba=np.stack([_calibrated_proba(run, "test_logits") for run in runs]),
        test_proba_uncalibrated=np.stack([expit(run["test_logits"]) for run in runs]),
        train_indices=[run["train_indices"] for run in runs],
        split=split,
        info=info,
    )


def _calibrated_proba(run, key):
    return expit(calibrate_logits(run[key], (run["temperature"], run["bias"])))


def _analyse(runs, y01, split, settings, analysis_seed):
    """Spread ratios, the between-run test and the pooled threshold of ``runs``."""
    rng = np.random.default_rng(analysis_seed)
    y_test = y01[split["test"]]
    threshold, interval = math.nan, (math.nan, math.nan)
    if runs:
        threshold, interval, _ = pooled_threshold(
            y01[split["calibration"]],
            np.stack([_calibrated_proba(run, "calibration_logits") for run in runs]),
            objective=settings.objective,
            n_resamples=settings.n_resamples,
            confidence_level=settings.confidence_level,
            rng=rng,
        )

    if len(runs) < 2:
        spread = {key: _undefined_spread() for key, _ in SPREAD_STATISTICS}
        test = {"before": _undefined_test(), "after": _undefined_test()}
    else:
        spread = _spreads(runs, settings, rng)
        test = {
            "before": between_run_test(
                np.stack([expit(run["test_logits"]) for run in runs]), y_test
            ),
            "after": between_run_test(
                np.stack([_calibrated_proba(run, "test_logits") for run in runs]), y_test
            ),
        }
    return {
        "spread": spread,
        "between_run_test": test,
        "recommended_threshold": threshold,
        "recommended_threshold_interval": interval,
    }


def _undefined_spread():
    return {"sd_before": math.nan, "sd_after": math.nan, "ratio": math.nan,
            "ratio_interval": (math.nan, math.nan), "n_valid_resamples": 0}


def _undefined_test():
    part = {"p_value": math.nan, "statistic": math.nan, "df": (0, 0), "n_samples": 0,
            "means": [], "between_run_sd": math.nan, "standard_error": math.nan}
    return {"p_value": math.nan, "negative": dict(part), "positive": dict(part)}


def _threshold_array(runs, stage, name):
    values = []
    for run in runs:
        value = getattr(run["thresholds"][stage], name)
        values.append((math.nan, math.nan) if value is None else value)
    return np.array(values, dtype=np.float64)


def _spreads(runs, settings, rng):
    spreads = {}
    for key, _ in SPREAD_STATISTICS:
        if key == "threshold":
            before = [run["thresholds"]["before"].threshold for run in runs]
            after = [run["thresholds"]["after"].threshold for run in runs]
        else:
            before = [run["statistics"]["before"][key] for run in runs]
            after = [run["statistics"]["after"][key] for run in runs]
        spreads[key] = spread_ratio(
            before,
            after,
            n_resamples=settings.n_resamples,
            confidence_level=settings.confidence_level,
            rng=rng,
        )
    return spreads


def _table_row(index, run):
    row = {
        "run": index,
        "seed": run["seed"],
        "n_unique_train": int(np.unique(run["train_indices"]).shape[0]),
        "fit_seconds": float(run["fit_seconds"]),
        "temperature": run["temperature"],
        "bias": run["bias"],
        "calibration_status": run["calibration_status"],
        "included": run["calibration_status"] == "interior",
    }
    for stage, suffix in (("before", "_uncalibrated"), ("after", "")):
        tuned = run["thresholds"][stage]
        low, high = tuned.threshold_interval or (math.nan, math.nan)
        row[f"threshold{suffix}"] = tuned.threshold
        row[f"threshold{suffix}_low"] = low
        row[f"threshold{suffix}_high"] = high
        row[f"threshold{suffix}_score"] = tuned.score
    for stage in ("before", "after"):
        for key, value in run["statistics"][stage].items():
            row[f"{key}_{stage}"] = value
    return row


def _plain(value):
    """Convert NumPy scalars, arrays and tuples to plain Python values, recursively."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
