"""Time find_threshold's exact search against TunedThresholdClassifierCV's grid.

On synthetic scores p ~ Beta(2, 5) with calibrated labels y ~ Bernoulli(p),
for each size and objective the script runs

- ``skcal.threshold.find_threshold`` over every distinct score, and
- ``TunedThresholdClassifierCV(FrozenEstimator(m), scoring=...)`` with its
  default grid of 100 thresholds, where ``m`` returns the same scores from
  ``predict_proba`` and the single split (all samples, all samples) with
  ``refit=False`` makes it tune on the same data.

Both chosen thresholds are then scored by the same exact confusion counts on
the same data, and the scikit-learn metric checks those scores. The script
exits with status 1 unless find_threshold is at least 30 times faster on the
largest size and never scores lower than the grid.

Run: ``.venv/bin/python benchmarks/bench_threshold.py`` (about a minute, most
of it in TunedThresholdClassifierCV at 1e6 scores).
"""

import argparse
import sys
import time

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import balanced_accuracy_score, f1_score
from sklearn.model_selection import TunedThresholdClassifierCV

from skcal.objectives import resolve_objective
from skcal.threshold import find_threshold

# Objective name -> scikit-learn metric on labels, for the cross-check.
METRICS = {"f1": f1_score, "balanced_accuracy": balanced_accuracy_score}

MIN_SPEEDUP = 30.0
TOLERANCE = 1e-12


class PrecomputedScores(ClassifierMixin, BaseEstimator):
    """Classifier whose probability of class 1 is the first column of X."""

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        score = np.asarray(X)[:, 0]
        return np.column_stack([1.0 - score, score])

    def predict(self, X):
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


def exact_score(objective, y, score, threshold):
    """Score a threshold from its exact confusion counts."""
    predicted = score >= threshold
    actual = y == 1
    counts = [
        np.sum(actual & predicted),
        np.sum(~actual & predicted),
        np.sum(~actual & ~predicted),
        np.sum(actual & ~predicted),
    ]
    return float(objective(*counts))


def run_grid(y, score, objective):
    model = PrecomputedScores().fit(score[:, np.newaxis], y)
    everything = np.arange(y.shape[0])
    tuned = TunedThresholdClassifierCV(
        FrozenEstimator(model),
        scoring=objective,
        cv=[(everything, everything)],
        refit=False,
    )
    start = time.perf_counter()
    tuned.fit(score[:, np.newaxis], y)
    return time.perf_counter() - start, float(tuned.best_threshold_)


def run_exact(y, score, objective, repeats=3):
    """Return the best time of a few runs, and the threshold."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = find_threshold(y, score, objective=objective)
        times.append(time.perf_counter() - start)
    return min(times), result.threshold


def compare(n_samples, objective_name, seed):
    rng = np.random.default_rng(seed)
    score = rng.beta(2.0, 5.0, size=n_samples)
    y = (rng.random(n_samples) < score).astype(int)
    objective = resolve_objective(objective_name)

    exact_time, exact_threshold = run_exact(y, score, objective_name)
    grid_time, grid_threshold = run_grid(y, score, objective_name)

    exact_value = exact_score(objective, y, score, exact_threshold)
    grid_value = exact_score(objective, y, score, grid_threshold)
    metric = METRICS[objective_name]
    checks = [
        abs(metric(y, (score >= t).astype(int)) - value)
        for t, value in ((exact_threshold, exact_value), (grid_threshold, grid_value))
    ]
    return {
        "n": n_samples,
        "objective": objective_name,
        "exact_s": exact_time,
        "grid_s": grid_time,
        "speedup": grid_time / exact_time,
        "exact_score": exact_value,
        "grid_score": grid_value,
        "grid_loss": exact_value - grid_value,
        "metric_check": max(checks),
    }


def print_table(rows):
    header = (
        f"{'n':>9} {'objective':>17} {'exact s':>9} {'grid s':>8} {'speedup':>8} "
        f"{'exact score':>12} {'grid score':>12} {'grid loss':>10} {'vs sklearn':>10}"
    )
    print(header)
    for row in rows:
        print(
            f"{row['n']:>9} {row['objective']:>17} {row['exact_s']:>9.4f} "
            f"{row['grid_s']:>8.3f} {row['speedup']:>8.1f} {row['exact_score']:>12.7f} "
            f"{row['grid_score']:>12.7f} {row['grid_loss']:>10.2e} "
            f"{row['metric_check']:>10.1e}"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000],
        help="numbers of scores to compare on (default: 1e4 1e5 1e6)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic scores")
    args = parser.parse_args(argv)

    rows = [
        compare(n, name, args.seed) for n in args.sizes for name in sorted(METRICS)
    ]
    print_table(rows)

    largest = max(args.sizes)
    slow = [r for r in rows if r["n"] == largest and r["speedup"] < MIN_SPEEDUP]
    worse = [r for r in rows if r["grid_loss"] < -TOLERANCE]
    print(f"speedup >= {MIN_SPEEDUP:g} at n={largest}: {'yes' if not slow else 'NO'}")
    print(f"exact never scores lower than the grid: {'yes' if not worse else 'NO'}")
    return 1 if slow or worse else 0


if __name__ == "__main__":
    sys.exit(main())
