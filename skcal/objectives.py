"""Decision objectives: metrics of the confusion counts that a threshold maximises.

An :class:`Objective` maps arrays of weighted confusion counts ``tp, fp, tn,
fn`` (one entry per candidate threshold) to scores, higher being better, so
:func:`skcal.threshold.find_threshold` evaluates every candidate threshold in
one vectorised call. The same objective becomes a scikit-learn scorer on
predicted labels through :meth:`Objective.scorer`, which
``TunedThresholdClassifierCV(scoring=...)`` accepts.

Where a ratio has a zero denominator, the objectives return what
scikit-learn 1.9's metrics return with their default ``zero_division``.
Precision, recall, F-beta and Jaccard are then 0. The Matthews correlation is
0 when a row or column of the confusion matrix is empty. Balanced accuracy
averages the recalls of the classes that are present.
"""

# License: BSD-3-Clause

import numbers
from dataclasses import dataclass
from functools import partial

import numpy as np
from sklearn.metrics import make_scorer

__all__ = [
    "Constraint",
    "Objective",
    "constrained_objective",
    "cost_objective",
    "fbeta_objective",
    "resolve_objective",
]

# Margin that absorbs floating-point rounding of weighted counts when a
# constraint such as ``recall >= 0.9`` is checked.
CONSTRAINT_TOLERANCE = 1e-12

# Metrics computed from the scores themselves rather than from predicted
# labels. Every threshold gives them the same value, so they cannot choose one.
THRESHOLD_FREE_METRICS = frozenset(
    {
        "roc_auc",
        "roc_auc_ovr",
        "roc_auc_ovo",
        "roc_auc_ovr_weighted",
        "roc_auc_ovo_weighted",
        "average_precision",
        "neg_log_loss",
        "log_loss",
        "neg_brier_score",
        "brier_score_loss",
        "d2_log_loss_score",
        "d2_brier_score",
    }
)

# scikit-learn metric functions behind those names, recognised inside scorers
# built with ``make_scorer``.
_THRESHOLD_FREE_FUNCTIONS = frozenset(
    {
        "roc_auc_score",
        "average_precision_score",
        "log_loss",
        "brier_score_loss",
        "d2_log_loss_score",
        "d2_brier_score",
    }
)


class Objective:
    """A metric of the confusion counts that a decision threshold maximises.

    Parameters
    ----------
    name : str
        Name shown in results and messages.
    function : callable
        ``function(tp, fp, tn, fn)`` returns an array of scores, higher being
        better, from arrays of weighted confusion counts. It must broadcast
        over any array shape. Use a module-level function or a
        ``functools.partial`` of one, so that fitted models pickle.
    constraint : Constraint, default=None
        The constraint of a constrained objective. When no threshold meets
        it, :func:`~skcal.threshold.find_threshold` raises
        :class:`~skcal.exceptions.InfeasibleThresholdError`.

    Examples
    --------
    >>> import numpy as np
    >>> from skcal.objectives import Objective
    >>> def true_positive_rate(tp, fp, tn, fn):
    ...     return tp / (tp + fn)
    >>> objective = Objective("tpr", true_positive_rate)
    >>> objective(np.array([3.0]), np.array([1.0]), np.array([5.0]), np.array([1.0]))
    array([0.75])
    """

    def __init__(self, name, function, *, constraint=None):
        self.name = name
        self.function = function
        self.constraint = constraint

    def __call__(self, tp, fp, tn, fn):
        """Score arrays of confusion counts, one score per entry."""
        counts = [np.asarray(c, dtype=np.float64) for c in (tp, fp, tn, fn)]
        with np.errstate(divide="ignore", invalid="ignore"):
            scores = self.function(*counts)
        return np.asarray(scores, dtype=np.float64)

    def feasible(self, tp, fp, tn, fn):
        """Return a boolean array, True where the constraint is met."""
        if self.constraint is None:
            return np.ones(np.shape(tp), dtype=bool)
        return self.constraint.shortfall(tp, fp, tn, fn) == 0

    def scorer(self, pos_label=None):
        """Build a scikit-learn scorer that scores predicted labels.

        Parameters
        ----------
        pos_label : object, default=None
            The positive class. ``None`` takes 1 (or True) for labels in
            {0, 1}, {-1, 1} or {False, True}, otherwise the larger of the two
            sorted labels. Pass it explicitly for string labels.

        Returns
        -------
        scorer : callable
            A scorer ``scorer(estimator, X, y)`` built with
            :func:`sklearn.metrics.make_scorer`, usable as
            ``TunedThresholdClassifierCV(scoring=...)``, ``cross_validate``
            or ``GridSearchCV`` scoring. For a constrained objective, a
            threshold that misses the constraint scores
            ``-1 - shortfall``, below every threshold that meets it.
        """
        return make_scorer(score_labels, objective=self, pos_label=pos_label)

    def __repr__(self):
        return f"Objective({self.name!r})"


@dataclass(frozen=True)
class Constraint:
    """A bound on a rate of the confusion counts, such as ``recall >= 0.9``.

    Attributes
    ----------
    metric : str
        One of ``"precision"``, ``"recall"``, ``"sensitivity"``,
        ``"specificity"`` or ``"fpr"``.
    bound : float
        The bound, in [0, 1].
    is_lower_bound : bool
        True for ``metric >= bound``, False for ``metric <= bound``.
    """

    metric: str
    bound: float
    is_lower_bound: bool

    def values(self, tp, fp, tn, fn):
        """Return the constrained metric at each entry of the counts."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return _RATES[self.metric](*(np.asarray(c, float) for c in (tp, fp, tn, fn)))

    def shortfall(self, tp, fp, tn, fn):
        """Return how far each entry misses the bound, 0 where it is met."""
        values = self.values(tp, fp, tn, fn)
        gap = self.bound - values if self.is_lower_bound else values - self.bound
        return np.where(gap > CONSTRAINT_TOLERANCE, gap, 0.0)

    def __str__(self):
        return f"{self.metric} {'>=' if self.is_lower_bound else '<='} {self.bound:g}"


def _ratio(numerator, denominator):
    """Divide, giving 0 where the denominator is 0 (scikit-learn's default)."""
    numerator, denominator = np.broadcast_arrays(numerator, denominator)
    out = np.zeros(numerator.shape)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def _precision(tp, fp, tn, fn):
    return _ratio(tp, tp + fp)


def _recall(tp, fp, tn, fn):
    return _ratio(tp, tp + fn)


def _specificity(tp, fp, tn, fn):
    return _ratio(tn, tn + fp)


def _false_positive_rate(tp, fp, tn, fn):
    return _ratio(fp, fp + tn)


def _fbeta(tp, fp, tn, fn, *, beta):
    beta2 = beta * beta
    return _ratio((1 + beta2) * tp, (1 + beta2) * tp + beta2 * fn + fp)


def _jaccard(tp, fp, tn, fn):
    return _ratio(tp, tp + fp + fn)


def _accuracy(tp, fp, tn, fn):
    return (tp + tn) / (tp + fp + tn + fn)


def _balanced_accuracy(tp, fp, tn, fn):
    # A class absent from y_true has no recall; the mean covers the others.
    positives = tp + fn
    negatives = tn + fp
    n_present = (positives > 0).astype(float) + (negatives > 0)
    total = _recall(tp, fp, tn, fn) + _specificity(tp, fp, tn, fn)
    return _ratio(total, n_present)


def _youden(tp, fp, tn, fn):
    # sensitivity + specificity - 1, which is 2 * balanced accuracy - 1.
    return 2.0 * _balanced_accuracy(tp, fp, tn, fn) - 1.0


def _matthews(tp, fp, tn, fn):
    denominator = np.sqrt((tp + fp) * (tn + fn)) * np.sqrt((tp + fn) * (tn + fp))
    return _ratio(tp * tn - fp * fn, denominator)


def _negative_cost(tp, fp, tn, fn, *, fp_cost, fn_cost, tp_gain, tn_gain):
    cost = fp_cost * fp + fn_cost * fn - tp_gain * tp - tn_gain * tn
    return -cost / (tp + fp + tn + fn)


def _constrained_score(tp, fp, tn, fn, *, maximize, constraint):
    value = _RATES[maximize](tp, fp, tn, fn)
    shortfall = constraint.shortfall(tp, fp, tn, fn)
    return np.where(shortfall == 0, value, -1.0 - shortfall)


_RATES = {
    "precision": _precision,
    "recall": _recall,
    "tpr": _recall,
    "sensitivity": _recall,
    "specificity": _specificity,
    "fpr": _false_positive_rate,
}

_NAMED = {
    "f1": partial(_fbeta, beta=1.0),
    "precision": _precision,
    "recall": _recall,
    "specificity": _specificity,
    "balanced_accuracy": _balanced_accuracy,
    "youden": _youden,
    "matthews": _matthews,
    "accuracy": _accuracy,
    "jaccard": _jaccard,
}

# scikit-learn scorer names that mean one of the objectives above.
_SCORER_ALIASES = {"matthews_corrcoef": "matthews"}

# (maximised metric, constraint keyword) pairs accepted by constrained_objective.
_CONSTRAINED_PAIRS = {
    ("precision", "recall_at_least"),
    ("recall", "precision_at_least"),
    ("tpr", "fpr_at_most"),
    ("sensitivity", "specificity_at_least"),
    ("specificity", "sensitivity_at_least"),
}


def fbeta_objective(beta):
    """Build the F-beta objective, which weighs recall ``beta`` times as much as precision.

    Parameters
    ----------
    beta : float
        Positive weight of recall. ``beta=1`` is the F1 score.

    Returns
    -------
    objective : Objective
        Named ``"fbeta(beta=...)"``. ``resolve_objective(("fbeta", {"beta": 2}))``
        builds the same objective from plain data, for example a config file.

    Examples
    --------
    >>> from skcal.objectives import fbeta_objective
    >>> fbeta_objective(2.0)
    Objective('fbeta(beta=2)')
    """
    _check_real(beta, "beta", lowest=0.0, closed=False)
    return Objective(f"fbeta(beta={beta:g})", partial(_fbeta, beta=float(beta)))


def cost_objective(*, fp_cost, fn_cost, tp_gain=0.0, tn_gain=0.0):
    """Build an objective from the costs of errors and the gains of correct decisions.

    The score is the negative expected cost per sample,
    ``-(fp_cost * fp + fn_cost * fn - tp_gain * tp - tn_gain * tn) / n``
    with weighted counts, so higher is better and the best threshold has the
    lowest average cost. Costs and gains are in any one unit, for example
    currency per sample.

    Parameters
    ----------
    fp_cost : float
        Cost of a false positive, non-negative.
    fn_cost : float
        Cost of a false negative, non-negative.
    tp_gain : float, default=0.0
        Gain of a true positive, non-negative.
    tn_gain : float, default=0.0
        Gain of a true negative, non-negative.

    Returns
    -------
    objective : Objective

    Examples
    --------
    >>> import numpy as np
    >>> from skcal.objectives import cost_objective
    >>> objective = cost_objective(fp_cost=1.0, fn_cost=5.0)
    >>> # 2 false positives and 1 false negative among 10 samples cost 0.7 each.
    >>> objective(np.array([3]), np.array([2]), np.array([4]), np.array([1]))
    array([-0.7])
    """
    values = {
        "fp_cost": fp_cost,
        "fn_cost": fn_cost,
        "tp_gain": tp_gain,
        "tn_gain": tn_gain,
    }
    for name, value in values.items():
        _check_real(value, name, lowest=0.0, closed=True)
    if not any(float(v) > 0 for v in values.values()):
        raise ValueError(
            "fp_cost, fn_cost, tp_gain and tn_gain are all 0, so every threshold "
            "costs the same. Set at least one of them to a positive value."
        )

    params = {name: float(value) for name, value in values.items()}
    cost_terms = ", ".join(f"{k}={v:g}" for k, v in params.items() if v or "cost" in k)
    return Objective(f"cost({cost_terms})", partial(_negative_cost, **params))


def constrained_objective(maximize, **constraint):
    """Build an objective that maximises one rate subject to a bound on another.

    Accepted pairs of ``maximize`` and constraint keyword:

    - ``maximize="precision", recall_at_least=r``
    - ``maximize="recall", precision_at_least=p``
    - ``maximize="tpr", fpr_at_most=f``
    - ``maximize="sensitivity", specificity_at_least=s``
    - ``maximize="specificity", sensitivity_at_least=s``

    A constraint counts as met when it is satisfied within 1e-12, which
    absorbs rounding of weighted counts. Thresholds that miss it score
    ``-1 - shortfall``, below every threshold that meets it (whose scores are
    in [0, 1]), so the scorer form ranks them last and
    :func:`~skcal.threshold.find_threshold` raises
    :class:`~skcal.exceptions.InfeasibleThresholdError` when none meets it.

    Parameters
    ----------
    maximize : str
        The rate to maximise.
    **constraint : float
        Exactly one constraint keyword from the list above, with a bound in
        [0, 1].

    Returns
    -------
    objective : Objective

    Examples
    --------
    >>> from skcal.objectives import constrained_objective
    >>> constrained_objective(maximize="precision", recall_at_least=0.9)
    Objective('precision subject to recall >= 0.9')
    """
    valid = ", ".join(f"(maximize={m!r}, {k}=...)" for m, k in sorted(_CONSTRAINED_PAIRS))
    if len(constraint) != 1:
        raise ValueError(
            f"constrained_objective needs exactly one constraint keyword, got "
            f"{sorted(constraint) or 'none'}. Valid combinations: {valid}."
        )

    (keyword, bound), = constraint.items()
    if (maximize, keyword) not in _CONSTRAINED_PAIRS:
        raise ValueError(
            f"maximize={maximize!r} with {keyword}=... is not a supported "
            f"combination. Valid combinations: {valid}."
        )
    _check_real(bound, keyword, lowest=0.0, closed=True, highest=1.0)

    metric, _, sense = keyword.partition("_")
    limit = Constraint(
        metric=metric, bound=float(bound), is_lower_bound=sense == "at_least"
    )
    function = partial(_constrained_score, maximize=maximize, constraint=limit)
    return Objective(f"{maximize} subject to {limit}", function, constraint=limit)


def resolve_objective(objective):
    """Turn any accepted objective specification into an :class:`Objective`.

    Parameters
    ----------
    objective : str, tuple, Objective or scorer
        One of:

        - a name: ``"f1"``, ``"balanced_accuracy"``, ``"youden"``,
          ``"matthews"`` (or scikit-learn's ``"matthews_corrcoef"``),
          ``"accuracy"``, ``"precision"``, ``"recall"``, ``"jaccard"``;
        - a pair ``(name, params)`` with name ``"fbeta"``, ``"cost"`` or
          ``"constrained"`` and ``params`` the keyword arguments of
          :func:`fbeta_objective`, :func:`cost_objective` or
          :func:`constrained_objective`, for example
          ``("fbeta", {"beta": 2})``;
        - an :class:`Objective`, returned as is.

    Returns
    -------
    objective : Objective

    Raises
    ------
    ValueError
        For an unknown name, and for a metric that does not depend on the
        threshold (ROC AUC, average precision, log loss, Brier score, or a
        scikit-learn scorer on ``predict_proba`` or ``decision_function``):
        every threshold would get the same score.
    TypeError
        For any other type.

    Examples
    --------
    >>> from skcal.objectives import resolve_objective
    >>> resolve_objective("f1")
    Objective('f1')
    >>> resolve_objective(("cost", {"fp_cost": 1, "fn_cost": 10}))
    Objective('cost(fp_cost=1, fn_cost=10)')
    """
    if isinstance(objective, Objective):
        return objective
    if isinstance(objective, str):
        return _objective_from_name(objective)
    if isinstance(objective, tuple):
        return _objective_from_pair(objective)
    if callable(objective):
        _reject_scorer(objective)
    raise TypeError(
        f"objective must be a name, a (name, params) pair or an Objective, got "
        f"{objective!r} of type {type(objective).__name__}. To optimise your "
        "own metric, wrap a function of the confusion counts (tp, fp, tn, fn) "
        "in skcal.objectives.Objective."
    )


def score_labels(y_true, y_pred, *, objective, pos_label=None, sample_weight=None):
    """Score predicted labels with an objective; the metric behind :meth:`Objective.scorer`.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels.
    objective : str, tuple or Objective
        Anything :func:`resolve_objective` accepts.
    pos_label : object, default=None
        The positive class. ``None`` takes 1 (or True) for labels in
        {0, 1}, {-1, 1} or {False, True}, otherwise the larger of the two
        sorted labels.
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    score : float
    """
    objective = resolve_objective(objective)
    y_true = np.asarray(y_true).ravel()
    y_pred = np.asarray(y_pred).ravel()
    if pos_label is None:
        pos_label = _default_pos_label(np.union1d(y_true, y_pred))
    if sample_weight is None:
        weights = np.ones(y_true.shape[0])
    else:
        weights = np.asarray(sample_weight, dtype=np.float64)

    actual = y_true == pos_label
    predicted = y_pred == pos_label
    tp = weights[actual & predicted].sum()
    fp = weights[~actual & predicted].sum()
    tn = weights[~actual & ~predicted].sum()
    fn = weights[actual & ~predicted].sum()
    return float(objective(tp, fp, tn, fn))


def _default_pos_label(labels):
    values = set(labels.tolist())
    if values <= {0, 1} or values <= {-1, 1}:
        return True if labels.dtype == bool else 1
    if len(values) == 2:
        return labels[-1]
    raise ValueError(
        f"Cannot tell the positive class among the labels {labels.tolist()!r}. "
        "Pass pos_label when building the scorer."
    )


def _objective_from_name(name):
    if name in THRESHOLD_FREE_METRICS:
        raise ValueError(_threshold_free_message(repr(name)))

    name = _SCORER_ALIASES.get(name, name)
    if name in _NAMED:
        return Objective(name, _NAMED[name])
    if name.startswith("fbeta:"):
        return fbeta_objective(_parse_beta(name))
    if name == "fbeta":
        raise ValueError(
            "objective='fbeta' needs a beta. Pass 'fbeta:2', fbeta_objective(beta=2.0) "
            "or ('fbeta', {'beta': 2.0})."
        )
    raise ValueError(
        f"Unknown objective {name!r}. Valid names: "
        f"{sorted(_NAMED) + sorted(_SCORER_ALIASES)} and 'fbeta:BETA' such as "
        "'fbeta:2'. For F-beta, costs or "
        "constraints use fbeta_objective, cost_objective or constrained_objective."
    )


def _parse_beta(name):
    try:
        return float(name.partition(":")[2])
    except ValueError as err:
        raise ValueError(
            f"objective={name!r} needs a positive number after 'fbeta:', as in 'fbeta:2'."
        ) from err


def _objective_from_pair(pair):
    factories = {
        "fbeta": fbeta_objective,
        "cost": cost_objective,
        "constrained": constrained_objective,
    }
    if len(pair) != 2 or pair[0] not in factories or not isinstance(pair[1], dict):
        raise ValueError(
            f"objective={pair!r} is not a valid (name, params) pair: the name must "
            f"be one of {sorted(factories)} and params a dict of its keyword "
            "arguments, for example ('fbeta', {'beta': 2.0})."
        )
    name, params = pair
    try:
        return factories[name](**params)
    except TypeError as err:
        raise ValueError(f"Invalid params for objective {name!r}: {err}") from err


def _reject_scorer(scorer):
    # NOTE: scikit-learn has no public accessor for a scorer's response method
    # or metric, so this reads private attributes of its scorer objects. A
    # scorer without them falls through to the TypeError of resolve_objective.
    response_method = getattr(scorer, "_response_method", None)
    score_func = getattr(getattr(scorer, "_score_func", None), "__name__", None)
    if response_method is None and score_func is None:
        return

    uses_scores = response_method is not None and response_method != "predict"
    if uses_scores or score_func in _THRESHOLD_FREE_FUNCTIONS:
        raise ValueError(_threshold_free_message(f"the scorer {scorer!r}"))
    raise ValueError(
        f"objective={scorer!r} is a scorer on predicted labels, which cannot be "
        "evaluated at every threshold at once. Pass an objective name such as "
        "'f1', or wrap a function of the confusion counts (tp, fp, tn, fn) in "
        "skcal.objectives.Objective."
    )


def _threshold_free_message(description):
    return (
        f"objective {description} does not depend on the decision threshold: it is "
        "computed from the scores, not from predicted labels, so every "
        "threshold would score the same. Use a metric of predicted labels such "
        "as 'f1', 'balanced_accuracy' or 'youden', cost_objective(fp_cost=..., "
        "fn_cost=...) or constrained_objective(...); keep ROC AUC or log loss "
        "for evaluating the model itself."
    )


def _check_real(value, name, *, lowest, closed, highest=None):
    valid = isinstance(value, numbers.Real) and not isinstance(value, bool)
    valid = valid and np.isfinite(value)
    valid = valid and (value >= lowest if closed else value > lowest)
    valid = valid and (highest is None or value <= highest)
    if not valid:
        low = f"{'>=' if closed else '>'} {lowest:g}"
        high = "" if highest is None else f" and <= {highest:g}"
        raise ValueError(f"{name} must be a finite number {low}{high}, got {value!r}.")
