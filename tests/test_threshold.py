import json

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    fbeta_score,
    matthews_corrcoef,
    precision_score,
    recall_score,
)

from skcal.exceptions import InfeasibleThresholdError
from skcal.objectives import constrained_objective, cost_objective, fbeta_objective
from skcal.threshold import ThresholdResult, bayes_threshold, find_threshold

# Eight samples with distinct scores, 5 positives and 3 negatives. At each
# candidate threshold t (positive when score >= t) the counts are:
#
#   t     tp fp tn fn
#   0.1    5  3  0  0
#   0.2    5  2  1  0
#   0.3    4  2  1  1
#   0.4    4  1  2  1
#   0.5    3  1  2  2
#   0.6    2  1  2  3
#   0.7    2  0  3  3
#   0.8    1  0  3  4
#   inf    0  0  3  5
Y_SMALL = np.array([0, 1, 0, 1, 1, 0, 1, 1])
S_SMALL = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])


# The expected thresholds and scores come from the table above.
@pytest.mark.parametrize(
    "objective, threshold, score",
    [
        # F1 = 2tp / (2tp + fp + fn): 10/12 at 0.2 beats 8/10 at 0.4.
        ("f1", 0.2, 10 / 12),
        # F0.5 = 1.25tp / (1.25tp + 0.25fn + fp): 5/6.25 at 0.4.
        (fbeta_objective(0.5), 0.4, 5 / 6.25),
        # (tp/5 + tn/3) / 2: (0.8 + 2/3) / 2 at 0.4.
        ("balanced_accuracy", 0.4, (0.8 + 2 / 3) / 2),
        ("youden", 0.4, 0.8 + 2 / 3 - 1),
        # (5*1 - 2*0) / sqrt(7*1*5*3) at 0.2 beats 7/15 at 0.4.
        ("matthews", 0.2, 5 / np.sqrt(105)),
        # fp + 5 fn is 2 at 0.2, the lowest.
        (cost_objective(fp_cost=1, fn_cost=5), 0.2, -2 / 8),
        # 5 fp + fn is 3 at 0.7, the lowest.
        (cost_objective(fp_cost=5, fn_cost=1), 0.7, -3 / 8),
        # recall >= 0.8 leaves 0.1 to 0.4; precision 4/5 at 0.4 is the best.
        (constrained_objective(maximize="precision", recall_at_least=0.8), 0.4, 0.8),
        # precision >= 0.75 leaves 0.4, 0.5, 0.7, 0.8; recall 0.8 at 0.4.
        (constrained_objective(maximize="recall", precision_at_least=0.75), 0.4, 0.8),
        # fpr <= 1/3 leaves 0.4 and above; tpr 0.8 at 0.4.
        (constrained_objective(maximize="tpr", fpr_at_most=1 / 3), 0.4, 0.8),
        # specificity >= 1 leaves 0.7, 0.8, inf; sensitivity 0.4 at 0.7.
        (constrained_objective(maximize="sensitivity", specificity_at_least=1.0), 0.7, 0.4),
        # sensitivity >= 0.9 leaves 0.1 and 0.2; specificity 1/3 at 0.2.
        (constrained_objective(maximize="specificity", sensitivity_at_least=0.9), 0.2, 1 / 3),
    ],
)
def test_hand_computed_threshold(objective, threshold, score):
    result = find_threshold(Y_SMALL, S_SMALL, objective=objective)

    assert result.threshold == threshold
    assert result.score == pytest.approx(score)
    assert result.tied_range == (threshold, threshold)


def test_hand_computed_counts():
    result = find_threshold(Y_SMALL, S_SMALL, objective="balanced_accuracy")

    assert (result.tp, result.fp, result.tn, result.fn) == (4, 1, 2, 1)


def test_accuracy_tie_returns_lower_middle():
    # Accuracy is 6/8 at both 0.2 and 0.4 and lower elsewhere; with two tied
    # candidates the lower of the middle pair is returned.
    result = find_threshold(Y_SMALL, S_SMALL, objective="accuracy")

    assert result.tied_range == (0.2, 0.4)
    assert result.threshold == 0.2
    assert result.score == pytest.approx(0.75)


def test_contiguous_tie_returns_middle():
    # Recall is 1 at thresholds 0.1, 0.2 and 0.3, and 0.5 at 0.4.
    result = find_threshold([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4], objective="recall")

    assert result.tied_range == (0.1, 0.3)
    assert result.threshold == 0.2


def test_precision_tie_excludes_all_negative():
    # Precision is 1 from 0.2 to 0.4; predicting nothing positive scores 0.
    result = find_threshold([0, 1, 1, 1], [0.1, 0.2, 0.3, 0.4], objective="precision")

    assert result.tied_range == (0.2, 0.4)
    assert result.threshold == 0.3


def test_equal_scores_are_positive():
    # Three samples share 0.5: at threshold 0.5 all three are positive,
    # giving tp=3, fp=1 and F1 6/7, the best.
    y = [0, 1, 1, 0, 1]
    score = [0.2, 0.5, 0.5, 0.5, 0.9]

    result = find_threshold(y, score, objective="f1")

    assert result.threshold == 0.5
    assert (result.tp, result.fp, result.tn, result.fn) == (3, 1, 1, 0)
    assert result.score == pytest.approx(6 / 7)


def test_all_negative_threshold_is_inf():
    # Costly false positives and free false negatives, and the top score is a
    # negative: only predicting nothing positive costs 0.
    objective = cost_objective(fp_cost=1.0, fn_cost=0.0)

    result = find_threshold([1, 0, 1, 0], [0.2, 0.4, 0.6, 0.8], objective=objective)

    assert result.threshold == np.inf
    assert result.tp == 0
    assert result.fp == 0


def test_infeasible_constraint_raises():
    # Precision reaches at most 0.5 (at thresholds 0.2 and 0.6).
    objective = constrained_objective(maximize="recall", precision_at_least=0.6)

    with pytest.raises(InfeasibleThresholdError, match="highest precision reached is 0.5"):
        find_threshold([1, 0, 1, 0], [0.2, 0.4, 0.6, 0.8], objective=objective)


def test_infeasible_error_is_value_error():
    assert issubclass(InfeasibleThresholdError, ValueError)


def brute_force_metric(name, y, y_pred, weights):
    if name == "f1":
        return f1_score(y, y_pred, sample_weight=weights, zero_division=0)
    if name == "f2":
        return fbeta_score(y, y_pred, beta=2, sample_weight=weights, zero_division=0)
    if name == "balanced_accuracy":
        return balanced_accuracy_score(y, y_pred, sample_weight=weights)
    if name == "matthews":
        return matthews_corrcoef(y, y_pred, sample_weight=weights)
    if name == "accuracy":
        return accuracy_score(y, y_pred, sample_weight=weights)
    if name == "cost":
        tn, fp, fn, tp = confusion_matrix(y, y_pred, sample_weight=weights).ravel()
        return -(1.0 * fp + 4.0 * fn) / weights.sum()
    precision = precision_score(y, y_pred, sample_weight=weights, zero_division=0)
    recall = recall_score(y, y_pred, sample_weight=weights, zero_division=0)
    return precision if recall >= 0.7 else -np.inf


OBJECTIVES = {
    "f1": "f1",
    "f2": fbeta_objective(2.0),
    "balanced_accuracy": "balanced_accuracy",
    "matthews": "matthews",
    "accuracy": "accuracy",
    "cost": cost_objective(fp_cost=1.0, fn_cost=4.0),
    "precision_at_recall": constrained_objective(maximize="precision", recall_at_least=0.7),
}


@pytest.mark.parametrize("name", sorted(OBJECTIVES))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_brute_force(name, seed):
    rng = np.random.default_rng(seed)
    n = 150
    y = rng.integers(0, 2, size=n)
    # Rounded scores create ties; the labels depend on them.
    score = np.round(np.clip(0.3 * y + rng.normal(0.35, 0.2, size=n), 0, 1), 2)
    weights = rng.uniform(0.2, 2.0, size=n)

    candidates = np.append(np.unique(score), np.inf)
    values = np.array(
        [brute_force_metric(name, y, (score >= t).astype(int), weights) for t in candidates]
    )
    best = values.max()
    winners = candidates[np.isclose(values, best, rtol=1e-9, atol=1e-12)]

    result = find_threshold(y, score, objective=OBJECTIVES[name], sample_weight=weights)

    assert result.score == pytest.approx(best, rel=1e-9, abs=1e-12)
    assert result.threshold in winners
    assert result.tied_range == (winners.min(), winners.max())


def test_string_labels_and_pos_label():
    rng = np.random.default_rng(0)
    y = rng.choice(["cat", "dog"], size=200)
    score = rng.random(200) + 0.3 * (y == "cat")

    result = find_threshold(y, score, pos_label="cat")
    reference = find_threshold(y == "cat", score)

    assert result.pos_label == "cat"
    assert result.threshold == reference.threshold
    assert result.score == reference.score


def test_default_pos_label_is_larger_label():
    result = find_threshold(["cat", "dog", "dog", "cat"], [0.1, 0.8, 0.6, 0.3])

    assert result.pos_label == "dog"
    assert result.threshold == 0.6


def test_sample_weight_matches_repetition():
    y = np.array([0, 1, 0, 1, 1, 0])
    score = np.array([0.1, 0.2, 0.4, 0.5, 0.7, 0.9])
    weights = np.array([1, 3, 2, 1, 2, 1])

    weighted = find_threshold(y, score, objective="matthews", sample_weight=weights)
    repeated = find_threshold(
        np.repeat(y, weights), np.repeat(score, weights), objective="matthews"
    )

    assert weighted.threshold == repeated.threshold
    assert weighted.score == pytest.approx(repeated.score)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"y_score": [0.1, np.nan, 0.3, 0.4]}, "y_score contains 1 NaN or infinite"),
        ({"y_score": [0.1, np.inf, 0.3, 0.4]}, "y_score contains 1 NaN or infinite"),
        ({"y_score": [0.1, 0.2, 0.3]}, "y_true has 4, y_score has 3"),
        ({"y_true": [1, 1, 1, 1]}, "exactly two classes.*found 1"),
        ({"pos_label": 2}, "pos_label=2 is not one of the classes \\[0, 1\\]"),
        ({"sample_weight": [1, -1, 1, 1]}, "sample_weight contains 1 negative"),
        ({"sample_weight": [1, 1]}, "sample_weight has shape \\(2,\\), expected \\(4,\\)"),
        ({"sample_weight": [0, 1, 0, 1]}, "gives class 0 a total weight of 0"),
        ({"y_score": np.ones((4, 2))}, "shape \\(4, 2\\).*column of the positive class"),
        ({"y_score": ["a", "b", "c", "d"]}, "y_score must be numeric"),
        ({"n_resamples": -1}, "n_resamples must be an int >= 0, got -1"),
        ({"confidence_level": 95}, "confidence_level must be in the open interval"),
        ({"objective": "roc_auc"}, "does not depend on the decision threshold"),
    ],
)
def test_invalid_input_rejected(kwargs, message):
    arguments = {"y_true": [0, 1, 0, 1], "y_score": [0.1, 0.2, 0.3, 0.4], **kwargs}

    with pytest.raises(ValueError, match=message):
        find_threshold(**arguments)


@pytest.fixture(scope="module")
def noisy_scores():
    rng = np.random.default_rng(0)
    p = rng.beta(2, 3, size=2000)
    y = (rng.random(2000) < p).astype(int)
    return y, p


def test_bootstrap_interval_covers_estimate(noisy_scores):
    y, p = noisy_scores

    result = find_threshold(y, p, objective="f1", n_resamples=200, random_state=0)

    low, high = result.threshold_interval
    assert low <= result.threshold <= high
    assert result.score_interval[0] <= result.score <= result.score_interval[1]
    assert low < high


def test_bootstrap_reproducible(noisy_scores):
    y, p = noisy_scores

    first = find_threshold(y, p, n_resamples=50, random_state=3)
    second = find_threshold(y, p, n_resamples=50, random_state=3)
    other = find_threshold(y, p, n_resamples=50, random_state=4)

    assert first == second
    assert first.threshold_interval != other.threshold_interval


def test_bootstrap_matches_loop_over_resamples():
    rng = np.random.default_rng(1)
    n, n_resamples = 300, 40
    y = rng.integers(0, 2, size=n)
    score = np.round(rng.random(n) + 0.3 * y, 2)
    weights = rng.uniform(0.5, 2.0, size=n)
    objective = fbeta_objective(2.0)

    # A single batch draws all resample indices as one (n_resamples, n) array.
    indices = np.random.RandomState(7).randint(0, n, size=(n_resamples, n))
    thresholds, scores = [], []
    for rows in indices:
        resampled = find_threshold(
            y[rows], score[rows], objective=objective, sample_weight=weights[rows]
        )
        thresholds.append(resampled.threshold)
        scores.append(resampled.score)

    result = find_threshold(
        y,
        score,
        objective=objective,
        sample_weight=weights,
        n_resamples=n_resamples,
        confidence_level=0.8,
        random_state=7,
    )

    expected_low = np.quantile(thresholds, 0.1, method="lower")
    expected_high = np.quantile(thresholds, 0.9, method="higher")
    assert result.threshold_interval == (expected_low, expected_high)
    expected_scores = (
        np.quantile(scores, 0.1, method="lower"),
        np.quantile(scores, 0.9, method="higher"),
    )
    assert result.score_interval == pytest.approx(expected_scores, rel=1e-12)


def test_result_to_dict_is_json():
    result = find_threshold(
        np.array(["a", "b", "a", "b"]), [0.1, 0.7, 0.4, 0.9], n_resamples=20, random_state=0
    )

    data = json.loads(json.dumps(result.to_dict()))

    assert data["pos_label"] == "b"
    assert data["threshold"] == result.threshold
    assert data["threshold_interval"] == list(result.threshold_interval)


def test_result_text_names_class_and_rule():
    result = find_threshold(["a", "b", "a", "b"], [0.1, 0.7, 0.4, 0.9])

    text = str(result)

    assert "class 'b'" in text
    assert "positive when score >= threshold" in text
    assert "f1 = 1" in text
    assert repr(result).startswith("ThresholdResult(threshold=0.7")


def test_result_is_frozen():
    result = find_threshold([0, 1], [0.2, 0.8])

    assert isinstance(result, ThresholdResult)
    with pytest.raises(AttributeError):
        result.threshold = 0.5


def test_bayes_threshold_closed_form():
    assert bayes_threshold(1.0, 4.0) == pytest.approx(0.2)
    assert bayes_threshold(3.0, 1.0) == pytest.approx(0.75)


def test_bayes_threshold_prior_shift():
    # Odds 1/4 scaled by (0.5/0.5) / (0.2/0.8) = 4 give odds 1, threshold 0.5.
    shifted = bayes_threshold(1.0, 4.0, prevalence=0.5, deployment_prevalence=0.2)

    assert shifted == pytest.approx(0.5)


def test_bayes_threshold_same_prevalence_no_shift():
    same = bayes_threshold(2.0, 3.0, prevalence=0.3, deployment_prevalence=0.3)

    assert same == pytest.approx(0.4)


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        ((0.0, 1.0), {}, "fp_cost must be a positive finite number, got 0.0"),
        ((1.0, -2.0), {}, "fn_cost must be a positive finite number"),
        ((1.0, np.inf), {}, "fn_cost must be a positive finite number"),
        ((1.0, 1.0), {"prevalence": 0.2}, "pass both to correct for prior shift"),
        ((1.0, 1.0), {"prevalence": 0.0, "deployment_prevalence": 0.5}, "prevalence must be in the open interval"),
        ((1.0, 1.0), {"prevalence": 0.5, "deployment_prevalence": 1.0}, "deployment_prevalence must be in"),
    ],
)
def test_bayes_threshold_rejects_invalid(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        bayes_threshold(*args, **kwargs)


def empirical_threshold_errors(n, expected, deployment_keep=None):
    """Mean and max |find_threshold - expected| over seeds of calibrated data.

    Scores are p ~ Beta(2, 3) and labels y ~ Bernoulli(p), so the scores are
    calibrated to the prevalence 0.4. With ``deployment_keep``, positives are
    kept with that probability, which shifts the prevalence.
    """
    objective = cost_objective(fp_cost=1.0, fn_cost=3.0)
    errors = []
    for seed in range(8):
        rng = np.random.default_rng(seed)
        p = rng.beta(2, 3, size=n)
        y = (rng.random(n) < p).astype(int)
        if deployment_keep is not None:
            keep = (y == 0) | (rng.random(n) < deployment_keep)
            p, y = p[keep], y[keep]
        errors.append(abs(find_threshold(y, p, objective=objective).threshold - expected))
    return np.mean(errors), np.max(errors)


@pytest.mark.parametrize("shifted", [False, True])
def test_empirical_threshold_approaches_bayes(shifted):
    if shifted:
        # Keeping positives with probability 0.375 turns prevalence 0.4 into
        # 0.375 * 0.4 / (0.375 * 0.4 + 0.6) = 0.2.
        expected = bayes_threshold(1.0, 3.0, prevalence=0.4, deployment_prevalence=0.2)
        keep = 0.375
    else:
        expected = bayes_threshold(1.0, 3.0)
        keep = None

    errors = [empirical_threshold_errors(n, expected, keep) for n in (1_000, 10_000, 100_000)]
    means = [mean for mean, _ in errors]

    assert means[0] > means[1]
    assert means[1] > means[2]
    assert means[2] < 0.015
    assert errors[2][1] < 0.03
