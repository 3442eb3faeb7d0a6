import pickle

import numpy as np
import pytest
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    fbeta_score,
    get_scorer,
    jaccard_score,
    log_loss,
    make_scorer,
    matthews_corrcoef,
    precision_score,
    recall_score,
)
from sklearn.model_selection import TunedThresholdClassifierCV

from skcal.objectives import (
    Objective,
    constrained_objective,
    cost_objective,
    fbeta_objective,
    resolve_objective,
    score_labels,
)

# Objective name -> the scikit-learn metric it must equal.
SKLEARN_METRICS = {
    "f1": lambda y, p, w: f1_score(y, p, sample_weight=w, zero_division=0),
    "precision": lambda y, p, w: precision_score(y, p, sample_weight=w, zero_division=0),
    "recall": lambda y, p, w: recall_score(y, p, sample_weight=w, zero_division=0),
    "jaccard": lambda y, p, w: jaccard_score(y, p, sample_weight=w, zero_division=0),
    "accuracy": lambda y, p, w: accuracy_score(y, p, sample_weight=w),
    "balanced_accuracy": lambda y, p, w: balanced_accuracy_score(y, p, sample_weight=w),
    "youden": lambda y, p, w: balanced_accuracy_score(
        y, p, sample_weight=w, adjusted=True
    ),
    "matthews": lambda y, p, w: matthews_corrcoef(y, p, sample_weight=w),
}


def confusion_counts(y01, y_pred, weights):
    actual, predicted = y01 == 1, y_pred == 1
    return (
        weights[actual & predicted].sum(),
        weights[~actual & predicted].sum(),
        weights[~actual & ~predicted].sum(),
        weights[actual & ~predicted].sum(),
    )


def random_problem(seed, n=60):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    y[:2] = [0, 1]
    score = np.round(rng.random(n), 1)
    weights = rng.uniform(0.1, 3.0, size=n)
    return y, score, weights


# Thresholds below and above every score make all predictions one class,
# which exercises the 0/0 cases.
THRESHOLDS = [-1.0, 0.0, 0.3, 0.55, 0.9, 2.0]


@pytest.mark.parametrize("name", sorted(SKLEARN_METRICS))
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("weighted", [False, True])
def test_named_objective_matches_sklearn(name, seed, weighted):
    y, score, weights = random_problem(seed)
    weights = weights if weighted else np.ones_like(weights)
    objective = resolve_objective(name)

    for threshold in THRESHOLDS:
        y_pred = (score >= threshold).astype(int)
        counts = confusion_counts(y, y_pred, weights)
        expected = SKLEARN_METRICS[name](y, y_pred, weights)
        assert objective(*counts) == pytest.approx(expected, abs=1e-12), threshold


@pytest.mark.parametrize("beta", [0.5, 2.0])
def test_fbeta_matches_sklearn(beta):
    y, score, weights = random_problem(3)
    objective = fbeta_objective(beta)

    for threshold in THRESHOLDS:
        y_pred = (score >= threshold).astype(int)
        expected = fbeta_score(y, y_pred, beta=beta, sample_weight=weights, zero_division=0)
        counts = confusion_counts(y, y_pred, weights)
        assert objective(*counts) == pytest.approx(expected, abs=1e-12), threshold


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
def test_one_class_present_matches_sklearn():
    # Only negatives in y_true: recall is 0/0 and the Matthews denominator 0.
    y = np.zeros(5, dtype=int)
    y_pred = np.array([0, 1, 0, 0, 1])
    counts = confusion_counts(y, y_pred, np.ones(5))

    for name in ("f1", "balanced_accuracy", "matthews", "precision", "recall"):
        expected = SKLEARN_METRICS[name](y, y_pred, None)
        assert resolve_objective(name)(*counts) == pytest.approx(expected), name


def test_objective_broadcasts_arrays():
    tp, fp, tn, fn = np.array([3.0, 0.0]), np.array([1.0, 0.0]), np.array([4.0, 5.0]), np.array([2.0, 5.0])

    values = resolve_objective("f1")(tp, fp, tn, fn)

    np.testing.assert_allclose(values, [6 / 9, 0.0])


def test_cost_objective_sign_convention():
    objective = cost_objective(fp_cost=2.0, fn_cost=10.0, tp_gain=1.0)

    # 3 tp, 1 fp, 4 tn, 2 fn: cost 2*1 + 10*2 - 1*3 = 19 over 10 samples.
    value = objective(3, 1, 4, 2)

    assert value == pytest.approx(-1.9)


def test_cost_objective_ranks_cheaper_higher():
    objective = cost_objective(fp_cost=1.0, fn_cost=5.0)

    perfect = objective(4, 0, 6, 0)
    cheap = objective(3, 2, 4, 1)
    expensive = objective(0, 0, 6, 4)

    assert perfect > cheap
    assert cheap > expensive


@pytest.mark.parametrize(
    "params, message",
    [
        ({"fp_cost": -1.0, "fn_cost": 1.0}, "fp_cost must be a finite number >= 0, got -1.0"),
        ({"fp_cost": 1.0, "fn_cost": np.nan}, "fn_cost must be a finite number"),
        ({"fp_cost": 0.0, "fn_cost": 0.0}, "all 0"),
        ({"fp_cost": "1", "fn_cost": 1.0}, "fp_cost must be a finite number"),
    ],
)
def test_cost_objective_rejects_invalid(params, message):
    with pytest.raises(ValueError, match=message):
        cost_objective(**params)


def test_fbeta_rejects_nonpositive_beta():
    with pytest.raises(ValueError, match="beta must be a finite number > 0, got 0"):
        fbeta_objective(0)


@pytest.mark.parametrize(
    "maximize, keyword, bound, counts, expected",
    [
        # recall 4/5 = 0.8 meets 0.8, so the score is precision 4/5.
        ("precision", "recall_at_least", 0.8, (4, 1, 2, 1), 0.8),
        # recall 3/5 misses 0.8 by 0.2.
        ("precision", "recall_at_least", 0.8, (3, 1, 2, 2), -1.2),
        ("recall", "precision_at_least", 0.75, (3, 1, 2, 2), 0.6),
        ("tpr", "fpr_at_most", 0.25, (3, 1, 3, 2), 0.6),
        # fpr 2/4 exceeds 0.25 by 0.25.
        ("tpr", "fpr_at_most", 0.25, (3, 2, 2, 2), -1.25),
        ("sensitivity", "specificity_at_least", 0.5, (3, 2, 2, 2), 0.6),
        ("specificity", "sensitivity_at_least", 0.5, (3, 2, 2, 2), 0.5),
    ],
)
def test_constrained_objective_values(maximize, keyword, bound, counts, expected):
    objective = constrained_objective(maximize=maximize, **{keyword: bound})

    assert objective(*counts) == pytest.approx(expected)


def test_constrained_infeasible_loses_to_feasible():
    objective = constrained_objective(maximize="recall", precision_at_least=0.9)

    feasible = objective(1, 0, 5, 9)  # precision 1, recall 0.1
    infeasible = objective(10, 2, 3, 0)  # precision 0.83, recall 1

    assert feasible > infeasible
    assert infeasible < -1


@pytest.mark.parametrize(
    "maximize, constraint",
    [
        ("precision", {"precision_at_least": 0.5}),
        ("f1", {"recall_at_least": 0.5}),
        ("recall", {}),
        ("recall", {"precision_at_least": 0.5, "fpr_at_most": 0.1}),
    ],
)
def test_constrained_rejects_invalid_pair(maximize, constraint):
    with pytest.raises(ValueError, match="Valid combinations: .*recall_at_least"):
        constrained_objective(maximize=maximize, **constraint)


def test_constrained_rejects_bound_outside_unit():
    with pytest.raises(ValueError, match="recall_at_least must be a finite number >= 0 and <= 1"):
        constrained_objective(maximize="precision", recall_at_least=1.5)


@pytest.mark.parametrize(
    "spec, name",
    [
        ("f1", "f1"),
        ("matthews_corrcoef", "matthews"),
        (("fbeta", {"beta": 2}), "fbeta(beta=2)"),
        ("fbeta:2", "fbeta(beta=2)"),
        (("cost", {"fp_cost": 1, "fn_cost": 5}), "cost(fp_cost=1, fn_cost=5)"),
        (
            ("constrained", {"maximize": "precision", "recall_at_least": 0.9}),
            "precision subject to recall >= 0.9",
        ),
    ],
)
def test_resolve_objective_names(spec, name):
    assert resolve_objective(spec).name == name


def test_resolve_objective_returns_same_object():
    objective = cost_objective(fp_cost=1.0, fn_cost=2.0)

    assert resolve_objective(objective) is objective


@pytest.mark.parametrize(
    "name",
    ["roc_auc", "average_precision", "neg_log_loss", "log_loss", "neg_brier_score", "brier_score_loss"],
)
def test_threshold_free_name_rejected(name):
    with pytest.raises(ValueError, match="does not depend on the decision threshold"):
        resolve_objective(name)


@pytest.mark.parametrize(
    "scorer",
    [
        get_scorer("roc_auc"),
        get_scorer("neg_log_loss"),
        make_scorer(log_loss, response_method="predict_proba", greater_is_better=False),
        make_scorer(f1_score, response_method="predict_proba"),
    ],
)
def test_threshold_free_scorer_rejected(scorer):
    with pytest.raises(ValueError, match="every\\s+threshold would score the same"):
        resolve_objective(scorer)


def test_label_scorer_rejected_with_fix():
    with pytest.raises(ValueError, match="wrap a function of the confusion counts"):
        resolve_objective(make_scorer(f1_score))


@pytest.mark.parametrize(
    "spec, error, message",
    [
        ("f2", ValueError, "Unknown objective 'f2'. Valid names: .*balanced_accuracy"),
        ("fbeta", ValueError, "needs a beta"),
        ("fbeta:x", ValueError, "positive number after 'fbeta:'"),
        (("fbeta", 2), ValueError, "not a valid \\(name, params\\) pair"),
        (("cost", {"fp": 1}), ValueError, "Invalid params for objective 'cost'"),
        (3.0, TypeError, "objective must be a name"),
    ],
)
def test_resolve_objective_rejects_invalid(spec, error, message):
    with pytest.raises(error, match=message):
        resolve_objective(spec)


def test_score_labels_string_pos_label():
    y = np.array(["cat", "dog", "dog", "cat", "dog"])
    y_pred = np.array(["cat", "cat", "dog", "cat", "dog"])

    value = score_labels(y, y_pred, objective="f1", pos_label="cat")

    assert value == pytest.approx(f1_score(y, y_pred, pos_label="cat"))


def test_score_labels_default_pos_label():
    y = np.array([-1, 1, 1, -1, 1])
    y_pred = np.array([1, 1, -1, -1, 1])

    value = score_labels(y, y_pred, objective="f1")

    assert value == pytest.approx(f1_score(y, y_pred))


def test_score_labels_ambiguous_labels_rejected():
    with pytest.raises(ValueError, match="Pass pos_label"):
        score_labels(["a", "a"], ["a", "a"], objective="f1")


@pytest.fixture(scope="module")
def string_problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = np.where(X[:, 0] + rng.normal(scale=1.0, size=300) > 0.5, "sick", "healthy")
    return X, y


def test_scorer_matches_sklearn_scorer(string_problem):
    X, y = string_problem
    model = LogisticRegression().fit(X, y)

    ours = resolve_objective("f1").scorer(pos_label="healthy")(model, X, y)
    reference = make_scorer(f1_score, pos_label="healthy")(model, X, y)

    assert ours == pytest.approx(reference)


def test_scorer_in_tuned_threshold_classifier(string_problem):
    X, y = string_problem
    ours = TunedThresholdClassifierCV(
        LogisticRegression(),
        scoring=resolve_objective("f1").scorer(pos_label="healthy"),
        cv=3,
    ).fit(X, y)
    reference = TunedThresholdClassifierCV(
        LogisticRegression(),
        scoring=make_scorer(f1_score, pos_label="healthy"),
        cv=3,
    ).fit(X, y)

    assert ours.best_threshold_ == pytest.approx(reference.best_threshold_)
    assert ours.best_score_ == pytest.approx(reference.best_score_)


def test_constrained_scorer_in_tuned_threshold_classifier(string_problem):
    X, y = string_problem
    model = LogisticRegression().fit(X, y)
    objective = constrained_objective(maximize="precision", recall_at_least=0.9)
    everything = np.arange(len(y))

    tuned = TunedThresholdClassifierCV(
        FrozenEstimator(model),
        scoring=objective.scorer(pos_label="sick"),
        cv=[(everything, everything)],
        refit=False,
    ).fit(X, y)

    recall = recall_score(y, tuned.predict(X), pos_label="sick")
    assert recall >= 0.9
    assert tuned.best_score_ >= 0


def test_objectives_pickle():
    objective = constrained_objective(maximize="recall", precision_at_least=0.8)

    restored = pickle.loads(pickle.dumps(objective))

    assert restored.name == objective.name
    assert restored(8, 1, 5, 2) == pytest.approx(objective(8, 1, 5, 2))


def test_custom_objective_callable():
    objective = Objective("tpr", lambda tp, fp, tn, fn: tp / (tp + fn))

    assert objective(3, 1, 4, 1) == pytest.approx(0.75)
