"""Statistics across training runs: spread ratios, the between-run test, the pooled threshold."""

# License: BSD-3-Clause

import math

import numpy as np
from scipy import stats

from skcal.threshold import find_threshold

__all__ = ["between_run_test", "pooled_threshold", "spread_ratio"]

# Score differences between runs below this fraction of the scores' magnitude
# count as identical: float64 rounding of the same computation stays far
# below it, and real differences between trained networks far above it.
ROUNDING_TOLERANCE = 1e-12


def spread_ratio(before, after, *, n_resamples, confidence_level, rng):
    """Compare the between-run standard deviation of a statistic before and after calibration.

    Parameters
    ----------
    before, after : array-like of shape (n_runs,)
        The statistic of each run, uncalibrated and calibrated. Entry ``k``
        of both arrays comes from the same run.
    n_resamples : int
        Bootstrap resamples of the runs for the interval of the ratio.
    confidence_level : float
        Level of the percentile interval.
    rng : numpy.random.Generator

    Returns
    -------
    spread : dict
        ``sd_before`` and ``sd_after`` (sample standard deviations over runs,
        ``ddof=1``), ``ratio`` (``sd_after / sd_before``, NaN when
        ``sd_before`` is 0) and ``ratio_interval``: the percentile interval
        over resamples that draw whole runs with replacement, keeping the
        before and after values of a run together. Resamples whose
        ``sd_before`` is 0 (every draw the same run) have no ratio and are
        dropped; ``n_valid_resamples`` counts the rest.
    """
    before = np.asarray(before, dtype=np.float64)
    after = np.asarray(after, dtype=np.float64)
    sd_before = float(np.std(before, ddof=1))
    sd_after = float(np.std(after, ddof=1))
    ratio = sd_after / sd_before if sd_before > 0 else math.nan

    draws = rng.integers(0, before.shape[0], size=(n_resamples, before.shape[0]))
    resampled_before = np.std(before[draws], axis=1, ddof=1)
    resampled_after = np.std(after[draws], axis=1, ddof=1)
    valid = resampled_before > 0
    ratios = resampled_after[valid] / resampled_before[valid]

    interval = (math.nan, math.nan)
    if ratios.size:
        alpha = 1.0 - confidence_level
        low, high = np.quantile(ratios, [alpha / 2, 1 - alpha / 2])
        interval = (float(low), float(high))
    return {
        "sd_before": sd_before,
        "sd_after": sd_after,
        "ratio": ratio,
        "ratio_interval": interval,
        "n_valid_resamples": int(valid.sum()),
    }


def between_run_test(scores, y01):
    """Test whether the runs' mean scores per true class differ beyond test-set noise.

    Every test image is scored by every run, so the runs' scores are paired
    measurements of the same images. For each true class separately, the
    test is Hotelling's T² test for equal means of paired (repeated)
    measurements: with ``K`` runs it takes the ``K - 1`` differences
    ``s_k(x) - s_K(x)`` of each image ``x`` and tests whether their mean
    vector is zero, using their sample covariance over the images. So the
    between-run differences of the class means are compared with the
    sampling noise those means have because the test set is a finite
    sample, and the correlation that scoring the same images induces
    between runs is taken into account. Under normality,
    ``T² (n - p) / (p (n - 1))`` follows an F distribution with ``(p, n - p)``
    degrees of freedom, where ``n`` is the number of images of the class and
    ``p`` the rank of the covariance (``K - 1`` unless some differences are
    linearly dependent). With two runs it is the paired t-test. The two
    classes' p-values are independent, because the classes hold different
    images, and are combined with Fisher's method.

    Parameters
    ----------
    scores : ndarray of shape (n_runs, n_samples)
        A score of each run for each test image, for example the calibrated
        probability of the positive class.
    y01 : ndarray of shape (n_samples,)
        1 for positive images, 0 for negative ones.

    Returns
    -------
    result : dict
        ``p_value``, combined over the classes. For each class
        (``"negative"``, ``"positive"``) a dict of ``p_value``,
        ``statistic`` (T²), ``df`` (the two F degrees of freedom),
        ``n_samples`` and ``means`` (each run's mean score). It also contains
        ``between_run_sd``, the standard deviation of those means over runs,
        and ``standard_error``, the root mean over runs of the squared
        standard error of a run's mean, which is the test-set noise.
    """
    per_class = {
        name: _paired_hotelling(scores[:, y01 == label])
        for name, label in (("negative", 0), ("positive", 1))
    }
    p_values = [per_class[name]["p_value"] for name in ("negative", "positive")]
    if all(math.isnan(p) for p in p_values):
        combined = math.nan
    else:
        present = [p for p in p_values if not math.isnan(p)]
        combined = float(stats.combine_pvalues(present, method="fisher").pvalue)
    return {"p_value": combined, **per_class}


def _paired_hotelling(scores):
    n_runs, n_samples = scores.shape
    means = scores.mean(axis=1)
    standard_error = math.nan
    if n_samples > 1:
        run_variances = scores.var(axis=1, ddof=1)
        standard_error = float(np.sqrt(np.mean(run_variances) / n_samples))

    scale = float(np.max(np.abs(scores), initial=1.0))
    statistic, df, p_value = _hotelling_t2(scores[:-1] - scores[-1], scale)
    return {
        "p_value": p_value,
        "statistic": statistic,
        "df": df,
        "n_samples": int(n_samples),
        "means": means.tolist(),
        "between_run_sd": float(np.std(means, ddof=1)),
        "standard_error": standard_error,
    }


def _hotelling_t2(differences, scale):
    """Return T², its F degrees of freedom and the p-value for a zero mean.

    ``differences`` has one row per contrast and one column per image, and
    ``scale`` is the magnitude of the scores they come from.
    """
    n_samples = differences.shape[1]
    if n_samples < 2:
        return math.nan, (0, 0), math.nan

    # Differences at the level of floating-point rounding are no evidence,
    # so they are set to zero before the covariance is estimated.
    differences = np.where(
        np.abs(differences) > ROUNDING_TOLERANCE * scale, differences, 0.0
    )
    mean_difference = differences.mean(axis=1)
    covariance = np.atleast_2d(np.cov(differences))
    rank = int(np.linalg.matrix_rank(covariance))
    if rank == 0:
        # Every image has the same differences: identical runs give no
        # evidence of a difference, a constant nonzero offset is certain.
        p_value = 0.0 if mean_difference.any() else 1.0
        return (math.inf if p_value == 0.0 else 0.0), (0, n_samples), p_value
    if n_samples <= rank:
        return math.nan, (rank, n_samples - rank), math.nan

    statistic = float(
        n_samples * mean_difference @ np.linalg.pinv(covariance) @ mean_difference
    )
    f_value = statistic * (n_samples - rank) / (rank * (n_samples - 1))
    p_value = float(stats.f.sf(f_value, rank, n_samples - rank))
    return statistic, (rank, n_samples - rank), p_value


def pooled_threshold(
    y01,
    scores,
    *,
    objective,
    n_resamples,
    confidence_level,
    rng,
):
    """Tune one threshold on the calibration scores of all runs together.

    The threshold maximises ``objective`` over the pooled calibrated
    calibration-split scores of every run, which is the best single
    threshold for a model drawn at random from the runs. Its interval comes
    from a two-level bootstrap: each resample draws runs with replacement and,
    independently, calibration images with replacement (the same images for
    every run), and tunes the threshold on that resample. Resampling both
    levels counts the noise of the training runs and of the finite
    calibration split. Resampling the ``n_runs * n_samples`` pooled scores
    as if they were independent would understate both.

    Parameters
    ----------
    y01 : ndarray of shape (n_samples,)
        Calibration labels, 1 for the positive class.
    scores : ndarray of shape (n_runs, n_samples)
        Each run's calibrated probability of the positive class.
    objective : str or Objective
    n_resamples : int
    confidence_level : float
    rng : numpy.random.Generator

    Returns
    -------
    threshold : float
    interval : tuple of float
        Percentile interval over the resamples, ``(nan, nan)`` when
        ``n_resamples`` is 0.
    score : float
        The objective's value at ``threshold`` on the pooled scores.
    """
    n_runs, n_samples = scores.shape
    pooled_labels = np.tile(y01, n_runs)
    pooled_scores = scores.reshape(-1)
    result = find_threshold(
        pooled_labels, pooled_scores, objective=objective, pos_label=1
    )

    resampled = []
    for _ in range(n_resamples):
        run_counts = np.bincount(rng.integers(0, n_runs, n_runs), minlength=n_runs)
        image_counts = _stratified_counts(y01, rng)
        weights = np.outer(run_counts, image_counts).reshape(-1)
        kept = weights > 0
        resampled.append(
            find_threshold(
                pooled_labels[kept],
                pooled_scores[kept],
                objective=objective,
                pos_label=1,
                sample_weight=weights[kept],
            ).threshold
        )

    interval = (math.nan, math.nan)
    if resampled:
        alpha = 1.0 - confidence_level
        low, high = np.quantile(resampled, [alpha / 2, 1 - alpha / 2])
        interval = (float(low), float(high))
    return float(result.threshold), interval, float(result.score)


def _stratified_counts(y01, rng):
    # Resampling within each class keeps both classes in every resample, so
    # every resample has a threshold.
    counts = np.zeros(y01.shape[0], dtype=np.int64)
    for label in (0, 1):
        members = np.flatnonzero(y01 == label)
        drawn = rng.choice(members, size=members.shape[0], replace=True)
        counts += np.bincount(drawn, minlength=y01.shape[0])
    return counts
