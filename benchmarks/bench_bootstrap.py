"""Time bootstrap intervals of the binned ECE: vectorised weights against a loop.

On synthetic binary scores p ~ U(0, 1) with mis-calibrated labels
y ~ Bernoulli(p ** 1.2), the script times

- ``skcal.metrics.bootstrap(expected_calibration_error, ...)``, which passes
  the resamples to the metric as rows of multiplicity counts (one sparse
  product per block of rows), and
- the naive loop: for each resample, draw indices and call
  ``expected_calibration_error`` on the indexed arrays.

Both draw the same indices from the same seed, so the script also checks
that their resampled values agree. It exits with status 1 when they differ
or when the vectorised run exceeds ``--budget`` seconds (default 5).

Run: ``.venv/bin/python benchmarks/bench_bootstrap.py`` (about 20 s on two
cores, most of it in the naive loop).
"""

import argparse
import os
import sys
import time

import numpy as np

from skcal.metrics import bootstrap, expected_calibration_error


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-samples", type=int, default=100_000, help="samples per data set")
    parser.add_argument("--n-resamples", type=int, default=1000, help="bootstrap resamples")
    parser.add_argument("--budget", type=float, default=5.0, help="maximum seconds for the vectorised run")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data and of the resampling")
    return parser.parse_args()


def naive_loop(y_true, y_prob, n_resamples, seed):
    """Resample by indexing and call the metric once per resample."""
    rng = np.random.default_rng(seed)
    n_samples = y_true.shape[0]
    values = np.empty(n_resamples)
    for row in range(n_resamples):
        indices = rng.integers(0, n_samples, size=n_samples)
        values[row] = expected_calibration_error(y_true[indices], y_prob[indices])
    return values


def main():
    args = parse_args()
    rng = np.random.default_rng(args.seed)
    y_prob = rng.uniform(size=args.n_samples)
    y_true = (rng.uniform(size=args.n_samples) < y_prob**1.2).astype(int)

    start = time.perf_counter()
    result = bootstrap(
        expected_calibration_error, y_true, y_prob, n_resamples=args.n_resamples, random_state=args.seed
    )
    vectorised_s = time.perf_counter() - start

    start = time.perf_counter()
    loop_values = naive_loop(y_true, y_prob, args.n_resamples, args.seed)
    loop_s = time.perf_counter() - start

    max_difference = float(np.max(np.abs(loop_values - result.resamples)))
    print(f"cpu cores available: {len(os.sched_getaffinity(0))}")
    print(f"{args.n_resamples} resamples of ECE on {args.n_samples} samples")
    print(f"ECE = {result.estimate:.5f}, 95% interval [{result.low:.5f}, {result.high:.5f}]")
    print(f"vectorised bootstrap: {vectorised_s:.2f} s")
    print(f"naive loop:           {loop_s:.2f} s")
    print(f"speed-up:             {loop_s / vectorised_s:.1f}x")
    print(f"max |difference| of resampled values: {max_difference:.2e}")

    failed = max_difference > 1e-9 or vectorised_s > args.budget
    if failed:
        print(f"FAILED: the values differ or the vectorised run exceeds {args.budget} s", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
