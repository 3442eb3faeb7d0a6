"""Exact search for the decision threshold that maximises an objective.

:func:`find_threshold` sorts the scores once and evaluates the objective at
every distinct score from cumulative weighted confusion counts, in
O(n log n) time, so it finds the exact optimum rather than the best point of a
grid. :func:`bayes_threshold` gives the cost-optimal threshold on calibrated
probabilities in closed form.

Throughout, a sample is predicted positive when its score is greater than or
equal to the threshold, as ``TunedThresholdClassifierCV.predict`` does.
"""

# License: BSD-3-Clause

import numbers
from dataclasses import asdict, dataclass

import numpy as np
from sklearn.utils import check_random_state

from skcal._validation import (
    check_finite,
    check_same_length,
    check_sample_weight,
    encode_binary_target,
)
from skcal.exceptions import InfeasibleThresholdError
from skcal.objectives import resolve_objective

__all__ = ["ThresholdResult", "bayes_threshold", "find_threshold"]

# Scores within this relative distance of the best score count as tied, so a
# tie is found even when two equal ratios were rounded differently.
TIE_TOLERANCE = 1e-12

# Array entries per vectorised bootstrap batch (resamples times samples). It
# bounds the memory of a batch to a few arrays of 8-byte entries, about 32 MB each.
_BOOTSTRAP_BATCH_ELEMENTS = 4_000_000


@dataclass(frozen=True)
class ThresholdResult:
    """The threshold chosen by :func:`find_threshold`, with its confusion counts.

    A sample is positive, that is predicted as ``pos_label``, when its score is
    greater than or equal to ``threshold``. The threshold ``inf`` means that
    every sample is predicted negative.

    Attributes
    ----------
    threshold : float
        The chosen threshold, applied to the score of ``pos_label``.
    score : float
        The objective's value at ``threshold``.
    tp, fp, tn, fn : float
        Weighted confusion counts at ``threshold`` (plain counts without
        ``sample_weight``).
    objective : str
        Name of the objective.
    pos_label : object
        The positive class, whose probability or score the threshold applies
        to.
    tied_range : tuple of float
        The lowest and the highest candidate threshold that reach the best
        score. ``threshold`` is the middle one of the tied candidates. When
        the ties are not contiguous, thresholds inside the range may score
        lower.
    threshold_interval : tuple of float or None
        Bootstrap percentile interval of the threshold, when resampled.
    score_interval : tuple of float or None
        Bootstrap percentile interval of the best score, when resampled.
    confidence_level : float or None
        Level of both intervals.
    n_resamples : int
        Number of bootstrap resamples, 0 when none were drawn.
    """

    threshold: float
    score: float
    tp: float
    fp: float
    tn: float
    fn: float
    objective: str
    pos_label: object
    tied_range: tuple
    threshold_interval: tuple = None
    score_interval: tuple = None
    confidence_level: float = None
    n_resamples: int = 0

    def to_dict(self):
        """Return the fields as a dict of plain Python values, ready for ``json.dumps``.

        ``pos_label`` is converted from a NumPy scalar to its Python value, and
        intervals become lists. A threshold of ``inf`` stays a float, which
        ``json.dumps`` writes as ``Infinity``.
        """
        fields = asdict(self)
        fields["pos_label"] = _python_value(self.pos_label)
        for name in ("tied_range", "threshold_interval", "score_interval"):
            if fields[name] is not None:
                fields[name] = list(fields[name])
        return fields

    def __str__(self):
        lines = [
            f"threshold {self.threshold:.6g} on the score of class "
            f"{_python_value(self.pos_label)!r} (positive when score >= threshold)",
            f"{self.objective} = {self.score:.6g}",
            f"tp={self.tp:g} fp={self.fp:g} tn={self.tn:g} fn={self.fn:g}",
            f"tied thresholds from {self.tied_range[0]:.6g} to {self.tied_range[1]:.6g}",
        ]
        if self.threshold_interval is not None:
            level = f"{100 * self.confidence_level:g}%"
            low, high = self.threshold_interval
            lines.append(f"{level} interval of the threshold: [{low:.6g}, {high:.6g}]")
            low, high = self.score_interval
            lines.append(
                f"{level} interval of the score: [{low:.6g}, {high:.6g}] "
                f"({self.n_resamples} bootstrap resamples)"
            )
        return "\n".join(lines)


def find_threshold(
    y_true,
    y_score,
    *,
    objective="f1",
    pos_label=None,
    sample_weight=None,
    n_resamples=0,
    confidence_level=0.95,
    random_state=None,
):
    """Find the decision threshold that maximises an objective, by exact search.

    The candidate thresholds are every distinct value of ``y_score`` plus
    ``inf``, which predicts every sample negative. Between two adjacent
    distinct scores every threshold gives the same predictions, so the best
    candidate is the exact optimum over all real thresholds. The scores are
    sorted once and the weighted confusion counts of all candidates come from
    cumulative sums, in O(n log n) time.

    When several candidates reach the best score (within a relative 1e-12),
    the middle one of them is returned and ``tied_range`` reports the lowest
    and the highest. The middle candidate is the tied choice farthest from
    the edges of the optimal set, so a small shift of the scores on new data
    is least likely to move it out of that set. It is also a candidate
    itself, so its confusion counts and score are exact.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels, any two classes.
    y_score : array-like of shape (n_samples,)
        Score of the positive class for each sample, for example
        ``predict_proba(X)[:, 1]``. Larger means more likely positive.
    objective : str, tuple or Objective, default="f1"
        What to maximise; see :func:`skcal.objectives.resolve_objective`.
        Metrics that do not depend on the threshold, such as ROC AUC or log
        loss, are rejected.
    pos_label : object, default=None
        The positive class. ``None`` takes the larger of the two sorted
        labels.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights; the confusion counts become sums of weights.
    n_resamples : int, default=0
        Number of bootstrap resamples for the confidence intervals of the
        threshold and of the best score; 0 skips them.
    confidence_level : float, default=0.95
        Level of the percentile intervals, in (0, 1).
    random_state : int, RandomState instance or None, default=None
        Seeds the bootstrap.

    Returns
    -------
    result : ThresholdResult
        The threshold, its score and confusion counts, the positive class and,
        with ``n_resamples > 0``, the intervals.

    Raises
    ------
    ValueError
        For NaN or infinite scores, inputs of different lengths, a target
        without two classes, an unknown ``pos_label``, invalid weights, or a
        class whose weights sum to 0.
    InfeasibleThresholdError
        When the objective has a constraint that no threshold meets.

    Notes
    -----
    The bootstrap draws ``n_samples`` samples with replacement, with their
    weights, in vectorised batches. Every resample is searched exactly, like
    the data, over the distinct scores it contains. The interval ends are resampled values: the lower end is
    rounded down and the upper end up among them, so the interval is never
    narrower than the interpolated percentile interval. With a constrained
    objective, a resample in which no threshold meets the constraint
    contributes its least infeasible threshold and a score below -1.

    Examples
    --------
    >>> from skcal.threshold import find_threshold
    >>> y_true = [0, 0, 1, 0, 1, 1]
    >>> y_score = [0.1, 0.3, 0.4, 0.5, 0.7, 0.9]
    >>> result = find_threshold(y_true, y_score, objective="f1")
    >>> result.threshold, round(result.score, 4)
    (0.4, 0.8571)
    >>> result.tp, result.fp
    (3.0, 1.0)
    """
    objective = resolve_objective(objective)
    _check_resampling(n_resamples, confidence_level)
    y01, score, weights, pos_label = _validate_inputs(
        y_true, y_score, pos_label, sample_weight
    )

    sweep = _sweep(y01, score, weights)
    values = objective(sweep.tp, sweep.fp, sweep.tn, sweep.fn)
    _check_objective_values(objective, sweep, values)

    best, first, last = _best_candidates(values[np.newaxis, :])
    index = int(best[0])
    fields = dict(
        threshold=float(sweep.thresholds[index]),
        score=float(values[index]) + 0.0,  # turns -0.0 into 0.0
        tp=float(sweep.tp[index]),
        fp=float(sweep.fp[index]),
        tn=float(sweep.tn[index]),
        fn=float(sweep.fn[index]),
        objective=objective.name,
        pos_label=_python_value(pos_label),
        tied_range=(
            float(sweep.thresholds[first[0]]),
            float(sweep.thresholds[last[0]]),
        ),
    )
    if n_resamples > 0:
        fields.update(
            _bootstrap_intervals(
                objective, sweep, y01, weights, n_resamples, confidence_level, random_state
            )
        )
    return ThresholdResult(**fields)


def bayes_threshold(fp_cost, fn_cost, *, prevalence=None, deployment_prevalence=None):
    """Return the cost-optimal threshold on calibrated probabilities.

    A sample whose calibrated probability of being positive is ``p`` costs
    ``(1 - p) * fp_cost`` in expectation when predicted positive and
    ``p * fn_cost`` when predicted negative. Predicting positive is cheaper
    exactly when ``p >= fp_cost / (fp_cost + fn_cost)``, which is the
    threshold without prior shift.

    Under prior shift the class-conditional distributions of the inputs stay
    the same while the prevalence changes from ``prevalence`` (:math:`\\pi`,
    the one the probabilities are calibrated to) to ``deployment_prevalence``
    (:math:`\\pi'`). By Bayes' rule the posterior odds then scale by the ratio
    of prior odds, :math:`r = \\frac{\\pi' / (1 - \\pi')}{\\pi / (1 - \\pi)}`,
    so the deployment rule :math:`r \\, p / (1 - p) \\ge c_{fp} / c_{fn}`
    becomes :math:`p / (1 - p) \\ge c_{fp} / (r \\, c_{fn})` on the
    probabilities the model outputs. The threshold is that odds value ``o``
    turned back into a probability, ``o / (1 + o)``.

    Parameters
    ----------
    fp_cost : float
        Cost of a false positive, positive.
    fn_cost : float
        Cost of a false negative, positive.
    prevalence : float, default=None
        Fraction of positives in the data the probabilities are calibrated
        on, in (0, 1).
    deployment_prevalence : float, default=None
        Fraction of positives where the model is deployed, in (0, 1). Pass
        both prevalences or neither.

    Returns
    -------
    threshold : float
        Predict positive when the calibrated probability is ``>=`` it.

    Examples
    --------
    >>> from skcal.threshold import bayes_threshold
    >>> bayes_threshold(1.0, 4.0)
    0.2
    >>> round(bayes_threshold(1.0, 4.0, prevalence=0.5, deployment_prevalence=0.2), 4)
    0.5
    """
    for name, value in (("fp_cost", fp_cost), ("fn_cost", fn_cost)):
        if not _is_real(value) or not 0 < value < np.inf:
            raise ValueError(f"{name} must be a positive finite number, got {value!r}.")
    if (prevalence is None) != (deployment_prevalence is None):
        raise ValueError(
            f"prevalence={prevalence!r} and deployment_prevalence="
            f"{deployment_prevalence!r}: pass both to correct for prior shift, "
            "or neither."
        )

    odds = fp_cost / fn_cost
    if prevalence is not None:
        for name, value in (
            ("prevalence", prevalence),
            ("deployment_prevalence", deployment_prevalence),
        ):
            if not _is_real(value) or not 0 < value < 1:
                raise ValueError(
                    f"{name} must be in the open interval (0, 1), got {value!r}."
                )
        prior_odds = prevalence / (1 - prevalence)
        deployment_odds = deployment_prevalence / (1 - deployment_prevalence)
        odds *= prior_odds / deployment_odds
    return float(odds / (1 + odds))


@dataclass(frozen=True)
class _Sweep:
    """Candidate thresholds, ascending, with the confusion counts of each.

    ``thresholds`` has the distinct scores then ``inf``. ``groups`` maps each
    sample to the index of its distinct score, which the bootstrap reuses.
    """

    thresholds: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    tn: np.ndarray
    fn: np.ndarray
    groups: np.ndarray


def _sweep(y01, score, weights):
    """Compute the confusion counts at every candidate threshold."""
    distinct, groups = np.unique(score, return_inverse=True)
    n_groups = distinct.shape[0]
    positive_weight = np.bincount(groups, weights=weights * y01, minlength=n_groups)
    negative_weight = np.bincount(groups, weights=weights * (1 - y01), minlength=n_groups)

    tp, fn = _cumulative_counts(positive_weight)
    fp, tn = _cumulative_counts(negative_weight)
    return _Sweep(
        thresholds=np.append(distinct, np.inf), tp=tp, fp=fp, tn=tn, fn=fn, groups=groups
    )


def _cumulative_counts(weight, *, exact=True):
    """Split the weight of each group at every candidate, along the last axis.

    Returns the weight at or above each candidate (predicted positive) and the
    weight below it (predicted negative), with one more entry for ``inf``.
    With ``exact=False`` the weight at or above is the total minus the weight
    below, which saves a cumulative sum at the cost of rounding errors of
    about 1e-16 times the total weight.
    """
    zeros = np.zeros(weight.shape[:-1] + (1,))
    below = np.concatenate([zeros, np.cumsum(weight, axis=-1)], axis=-1)
    if exact:
        at_or_above = np.cumsum(weight[..., ::-1], axis=-1)[..., ::-1]
        at_or_above = np.concatenate([at_or_above, zeros], axis=-1)
    else:
        at_or_above = below[..., -1:] - below
    return at_or_above, below


def _best_candidates(values):
    """Pick the middle tied best candidate of each row of ``values``.

    NaN counts as the worst score. Returns the chosen column, the first and
    the last tied column of each row.
    """
    values = np.where(np.isnan(values), -np.inf, values)
    best = values.max(axis=1, keepdims=True)
    # An infinite best score ties only with itself.
    finite_best = np.where(np.isfinite(best), best, 0.0)
    margin = TIE_TOLERANCE * np.maximum(1.0, np.abs(finite_best))
    margin = np.where(np.isfinite(best), margin, 0.0)
    tied = values >= best - margin

    rank = np.cumsum(tied, axis=1)
    middle_rank = (rank[:, -1:] - 1) // 2 + 1
    chosen = np.argmax(rank == middle_rank, axis=1)
    first = np.argmax(tied, axis=1)
    last = tied.shape[1] - 1 - np.argmax(tied[:, ::-1], axis=1)
    return chosen, first, last


def _bootstrap_intervals(
    objective, sweep, y01, weights, n_resamples, confidence_level, random_state
):
    """Search bootstrap resamples exactly and return percentile intervals."""
    rng = check_random_state(random_state)
    n_samples = y01.shape[0]
    n_groups = sweep.thresholds.shape[0] - 1

    # Cells [0, n_groups) count the positives at each distinct score and cells
    # [n_groups, 2 * n_groups) the negatives.
    cells = sweep.groups + n_groups * (1 - y01)
    batch = max(1, _BOOTSTRAP_BATCH_ELEMENTS // max(n_samples, 2 * n_groups + 2))
    equal_weights = bool(np.all(weights == weights[0]))

    thresholds, scores = [], []
    for start in range(0, n_resamples, batch):
        size = min(batch, n_resamples - start)
        drawn = rng.randint(0, n_samples, size=(size, n_samples))
        offsets = 2 * n_groups * np.arange(size)[:, np.newaxis]
        flat_cells = (cells[drawn] + offsets).ravel()
        count = np.bincount(flat_cells, minlength=size * 2 * n_groups)
        if equal_weights:
            weight = count * weights[0]
        else:
            weight = np.bincount(
                flat_cells, weights=weights[drawn].ravel(), minlength=count.shape[0]
            )
        shape = (size, 2 * n_groups)
        batch_thresholds, batch_scores = _search_resamples(
            objective, sweep.thresholds, weight.reshape(shape), count.reshape(shape)
        )
        thresholds.append(batch_thresholds)
        scores.append(batch_scores)

    alpha = 1.0 - confidence_level
    return dict(
        threshold_interval=_percentile_interval(np.concatenate(thresholds), alpha),
        score_interval=_percentile_interval(np.concatenate(scores), alpha),
        confidence_level=float(confidence_level),
        n_resamples=int(n_resamples),
    )


def _search_resamples(objective, candidates, weight, count):
    """Return the best threshold and score of each resample, one per row."""
    n_groups = candidates.shape[0] - 1
    tp, fn = _cumulative_counts(weight[:, :n_groups], exact=False)
    fp, tn = _cumulative_counts(weight[:, n_groups:], exact=False)
    values = objective(tp, fp, tn, fn)

    # A distinct score that no resampled sample has is not a candidate of the
    # resample, so it must not join a tie. The inf candidate always exists.
    present = count[:, :n_groups] + count[:, n_groups:] > 0
    present = np.concatenate([present, np.ones((present.shape[0], 1), bool)], axis=1)
    values = np.where(present, values, -np.inf)

    chosen, _, _ = _best_candidates(values)
    rows = np.arange(values.shape[0])
    return candidates[chosen], values[rows, chosen]


def _percentile_interval(values, alpha):
    low = np.quantile(values, alpha / 2, method="lower")
    high = np.quantile(values, 1 - alpha / 2, method="higher")
    return (float(low), float(high))


def _check_objective_values(objective, sweep, values):
    """Raise when no candidate meets the constraint or every score is NaN."""
    constraint = objective.constraint
    counts = (sweep.tp, sweep.fp, sweep.tn, sweep.fn)
    if constraint is not None and not objective.feasible(*counts).any():
        reached = constraint.values(*counts)
        index = np.argmax(reached) if constraint.is_lower_bound else np.argmin(reached)
        extreme = "highest" if constraint.is_lower_bound else "lowest"
        raise InfeasibleThresholdError(
            f"No threshold meets the constraint {constraint}: the {extreme} "
            f"{constraint.metric} reached is {reached[index]:.6g}, at threshold "
            f"{sweep.thresholds[index]:.6g}. Relax the bound past that value or "
            "use a better model."
        )
    if np.isnan(values).all():
        raise ValueError(
            f"objective {objective.name!r} returned NaN at every threshold. Check "
            "its function for divisions by zero."
        )


def _validate_inputs(y_true, y_score, pos_label, sample_weight):
    """Return the 0/1 target, float scores, weights and the positive label."""
    y_score = np.asarray(y_score)
    if y_score.ndim == 2 and y_score.shape[1] == 1:
        y_score = y_score.ravel()
    if y_score.ndim != 1:
        raise ValueError(
            f"y_score must be one-dimensional, got an array of shape {y_score.shape}. "
            "For predict_proba output, pass the column of the positive class, "
            "proba[:, list(model.classes_).index(pos_label)]."
        )
    if y_score.dtype.kind not in "biuf":
        raise ValueError(
            f"y_score must be numeric, got dtype {y_score.dtype}. Pass the "
            "scores or probabilities of the positive class."
        )
    y_score = y_score.astype(np.float64)

    check_same_length(y_true, y_score, names=("y_true", "y_score"))
    check_finite(y_score, name="y_score")
    y01, classes, pos_label = encode_binary_target(
        y_true, pos_label=pos_label, name="y_true"
    )
    weights = check_sample_weight(sample_weight, y01.shape[0])

    for label, members in ((pos_label, y01 == 1), (_other(classes, pos_label), y01 == 0)):
        if weights[members].sum() <= 0:
            raise ValueError(
                f"sample_weight gives class {_python_value(label)!r} a total weight "
                "of 0, so the threshold cannot be tuned. Give samples of both "
                "classes a positive weight."
            )
    return y01, y_score, weights, pos_label


def _check_resampling(n_resamples, confidence_level):
    is_int = isinstance(n_resamples, numbers.Integral) and not isinstance(n_resamples, bool)
    if not is_int or n_resamples < 0:
        raise ValueError(f"n_resamples must be an int >= 0, got {n_resamples!r}.")
    if not _is_real(confidence_level) or not 0 < confidence_level < 1:
        raise ValueError(
            f"confidence_level must be in the open interval (0, 1), got "
            f"{confidence_level!r}; for a 95% interval pass 0.95."
        )


def _other(classes, pos_label):
    return classes[0] if classes[1] == pos_label else classes[1]


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _python_value(value):
    """Convert a NumPy scalar to the Python value, for readable output and JSON."""
    return value.item() if isinstance(value, np.generic) else value
