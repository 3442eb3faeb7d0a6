"""Benchmark temperature-scaling fits: skcal against other implementations.

All peers fit one temperature to the same synthetic float32 logits, drawn as
``z ~ N(0, 4**2)`` (binary) or ``N(0, 3**2)`` per class (10 classes), with
labels sampled from ``sigmoid(z / 2.5)`` or ``softmax(z / 2.5)``, so the true
temperature is 2.5. For every size the script prints, per peer, the minimum
and median wall time over the repeats, the fitted temperature, the mean
negative log-likelihood (NLL) at that temperature and the peer's minimum
time divided by skcal's. This script computes every NLL itself, in float64
and the same way for every peer. The floor is one pass of ``np.logaddexp(0, z)`` (binary) or of a
numpy log-sum-exp (multiclass): a fit that reads every logit once through an
exponential and a logarithm.

Peers:

- ``skcal``: :func:`skcal.temperature.fit_temperature`.
- ``sklearn``: ``CalibratedClassifierCV(FrozenEstimator(m), method="temperature")``
  (scikit-learn >= 1.8), with ``m`` a fitted classifier whose
  ``decision_function`` returns the precomputed logits.
- ``netcal``: ``netcal.scaling.TemperatureScaling`` (default ``method="mle"``),
  fitted on probabilities.
- ``probmetrics``: ``TemperatureScalingCalibrator`` (default bisection),
  fitted on logits with ``fit_torch``.
- ``torch-lbfgs``: the common PyTorch recipe, a single ``nn.Parameter``
  temperature initialised to 1.5, ``torch.optim.LBFGS([t], lr=0.01,
  max_iter=50)`` and one ``step`` with a closure over
  ``CrossEntropyLoss`` or ``BCEWithLogitsLoss``.
- ``floor``: the single pass described above.

A peer whose import fails is reported as missing. Run from the repository
root, for example::

    python benchmarks/bench_temperature.py --sizes 1000 100000 --multiclass-sizes 1000
"""

import argparse
import statistics
import sys
import time

import numpy as np
from scipy.special import log_expit, log_softmax

TRUE_TEMPERATURE = 2.5
N_CLASSES = 10
BINARY_SIZES = [10**3, 10**4, 10**5, 10**6, 10**7]
MULTICLASS_SIZES = [10**3, 10**4, 10**5, 10**6]
PEERS = ["skcal", "sklearn", "netcal", "probmetrics", "torch-lbfgs", "floor"]
NLL_CHUNK_ROWS = 2**16


def make_logits(n_samples, n_classes, seed):
    """Return float32 logits and labels drawn with temperature 2.5."""
    rng = np.random.default_rng(seed)
    if n_classes == 2:
        z = rng.normal(scale=4.0, size=n_samples).astype(np.float32)
        threshold = 1.0 / (1.0 + np.exp(-z.astype(np.float64) / TRUE_TEMPERATURE))
        return z, (rng.random(n_samples) < threshold).astype(np.int64)

    z = rng.normal(scale=3.0, size=(n_samples, n_classes)).astype(np.float32)
    labels = np.empty(n_samples, dtype=np.int64)
    for start in range(0, n_samples, NLL_CHUNK_ROWS):
        block = z[start : start + NLL_CHUNK_ROWS].astype(np.float64) / TRUE_TEMPERATURE
        cumulative = np.exp(log_softmax(block, axis=1)).cumsum(axis=1)
        draws = rng.random((block.shape[0], 1))
        labels[start : start + block.shape[0]] = (cumulative > draws).argmax(axis=1)
    return z, labels


def mean_nll(z, y, temperature):
    """Return the mean NLL of ``sigmoid(z / T)`` or ``softmax(z / T)`` in float64."""
    total = 0.0
    for start in range(0, z.shape[0], NLL_CHUNK_ROWS):
        block = z[start : start + NLL_CHUNK_ROWS].astype(np.float64) / temperature
        labels = y[start : start + NLL_CHUNK_ROWS]
        if z.ndim == 1:
            total -= np.sum(np.where(labels == 1, log_expit(block), log_expit(-block)))
        else:
            log_proba = log_softmax(block, axis=1)
            total -= np.sum(log_proba[np.arange(labels.shape[0]), labels])
    return total / z.shape[0]


def fit_skcal(z, y):
    from skcal.temperature import fit_temperature

    return fit_temperature(z, y)


def _logit_passthrough_class():
    from sklearn.base import BaseEstimator, ClassifierMixin

    class LogitPassthrough(ClassifierMixin, BaseEstimator):
        """Classifier whose decision_function returns its input as logits."""

        def fit(self, X, y):
            self.classes_ = np.unique(y)
            return self

        def decision_function(self, X):
            return X[:, 0] if X.shape[1] == 1 else X

        def predict(self, X):
            scores = self.decision_function(X)
            if scores.ndim == 1:
                return self.classes_[(scores > 0).astype(int)]
            return self.classes_[scores.argmax(axis=1)]

    return LogitPassthrough


def fit_sklearn(z, y):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator

    X = z.reshape(-1, 1) if z.ndim == 1 else z
    n_classes = 2 if z.ndim == 1 else z.shape[1]
    model = _logit_passthrough_class()().fit(X[:n_classes], np.arange(n_classes))
    calibrated = CalibratedClassifierCV(FrozenEstimator(model), method="temperature")
    calibrated.fit(X, y)
    beta = float(calibrated.calibrated_classifiers_[0].calibrators[0].beta_)
    # Binary scores x become the two logits (-x, x), i.e. sigmoid(2 beta x).
    return 1.0 / (2.0 * beta) if z.ndim == 1 else 1.0 / beta


def fit_netcal(z, y):
    from netcal.scaling import TemperatureScaling

    if z.ndim == 1:
        proba = 1.0 / (1.0 + np.exp(-z.astype(np.float64)))
    else:
        shifted = z.astype(np.float64) - z.max(axis=1, keepdims=True)
        proba = np.exp(shifted)
        proba /= proba.sum(axis=1, keepdims=True)
    model = TemperatureScaling()
    model.fit(proba, y)
    # netcal 1.3's `temperature` property returns the fitted weight, which
    # multiplies the logits: it is the inverse temperature.
    return 1.0 / float(np.asarray(model.temperature).reshape(-1)[0])


def fit_probmetrics(z, y):
    import torch
    from probmetrics.calibrators.temperature_scaling import TemperatureScalingCalibrator
    from probmetrics.distributions import CategoricalLogits

    logits = torch.from_numpy(z)
    if z.ndim == 1:
        logits = torch.stack([torch.zeros_like(logits), logits], dim=1)
    calibrator = TemperatureScalingCalibrator()
    calibrator.fit_torch(CategoricalLogits(logits), torch.from_numpy(y))
    return 1.0 / float(calibrator.invtemp_)


def fit_torch_lbfgs(z, y):
    import torch
    from torch import nn

    logits = torch.from_numpy(z)
    if z.ndim == 1:
        labels = torch.from_numpy(y).to(logits.dtype)
        criterion = nn.BCEWithLogitsLoss()
    else:
        labels = torch.from_numpy(y)
        criterion = nn.CrossEntropyLoss()
    temperature = nn.Parameter(torch.ones(1) * 1.5)
    optimizer = torch.optim.LBFGS([temperature], lr=0.01, max_iter=50)

    def closure():
        optimizer.zero_grad()
        loss = criterion(logits / temperature, labels)
        loss.backward()
        return loss

    optimizer.step(closure)
    return float(temperature.item())


def run_floor(z, y):
    if z.ndim == 1:
        np.logaddexp(0.0, z)
    else:
        top = z.max(axis=1, keepdims=True)
        np.log(np.exp(z - top).sum(axis=1)) + top[:, 0]
    return None


FITTERS = {
    "skcal": fit_skcal,
    "sklearn": fit_sklearn,
    "netcal": fit_netcal,
    "probmetrics": fit_probmetrics,
    "torch-lbfgs": fit_torch_lbfgs,
    "floor": run_floor,
}


def time_peer(fitter, z, y, repeats):
    """Return the wall times of ``repeats`` fits and the last temperature.

    One untimed fit on the first 1,000 rows comes first, so that imports and
    one-time initialisation do not count.
    """
    fitter(z[:1000], y[:1000])
    times = []
    temperature = None
    for _ in range(repeats):
        start = time.perf_counter()
        temperature = fitter(z, y)
        times.append(time.perf_counter() - start)
    return times, temperature


def bias_study(seed, n_test=200_000, n_repeats=20):
    """Return held-out NLL with and without a fitted bias, as markdown.

    Labels follow ``sigmoid((z - shift) / 2.5)`` with ``z ~ N(0, 4**2)``.
    For each size, ``n_repeats`` calibration sets are drawn and T (and b)
    fitted on each. The mean NLL is measured on ``n_test`` fresh samples.
    """
    from skcal.temperature import fit_temperature

    def draw(rng, n_samples, shift):
        z = rng.normal(scale=4.0, size=n_samples)
        y = (rng.random(n_samples) < 1.0 / (1.0 + np.exp(-(z - shift) / TRUE_TEMPERATURE)))
        return z, y.astype(np.int64)

    def held_out_nll(z, y, temperature, bias):
        return mean_nll(z - bias, y, temperature)

    rng = np.random.default_rng(seed)
    lines = [
        "| shift of the logits | calibration size | held-out NLL, T only | "
        "held-out NLL, T and b | mean fitted b |",
        "| --- | --- | --- | --- | --- |",
    ]
    for shift in (0.0, 0.5, 1.5, 3.0):
        z_test, y_test = draw(rng, n_test, shift)
        for n_cal in (100, 1000, 10_000):
            without, with_bias, biases = [], [], []
            for _ in range(n_repeats):
                z_cal, y_cal = draw(rng, n_cal, shift)
                temperature = fit_temperature(z_cal, y_cal)
                without.append(held_out_nll(z_test, y_test, temperature, 0.0))
                temperature, bias = fit_temperature(z_cal, y_cal, fit_bias=True)
                with_bias.append(held_out_nll(z_test, y_test, temperature, bias))
                biases.append(bias)
            lines.append(
                f"| {shift} | {n_cal:,} | {np.mean(without):.5f} | "
                f"{np.mean(with_bias):.5f} | {np.mean(biases):.3f} |"
            )
    return "\n".join(lines)


def benchmark_size(n_samples, n_classes, peers, repeats, seed):
    """Time every peer on one size and return one result dict per peer."""
    z, y = make_logits(n_samples, n_classes, seed)
    results = []
    for peer in peers:
        try:
            times, temperature = time_peer(FITTERS[peer], z, y, repeats)
        except ImportError as err:
            results.append({"peer": peer, "missing": f"import failed: {err}"})
            continue
        nll = None if temperature is None else mean_nll(z, y, temperature)
        results.append(
            {
                "peer": peer,
                "min": min(times),
                "median": statistics.median(times),
                "temperature": temperature,
                "nll": nll,
            }
        )
    return results


def format_table(n_samples, n_classes, results):
    """Return the markdown table of one size."""
    by_peer = {r["peer"]: r for r in results}
    reference = by_peer.get("skcal", {}).get("min")
    kind = "binary" if n_classes == 2 else f"{n_classes}-class"
    lines = [
        f"### {kind}, N = {n_samples:,}",
        "",
        "| peer | min (s) | median (s) | T | mean NLL | min time / skcal |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for result in results:
        if "missing" in result:
            lines.append(f"| {result['peer']} | missing ({result['missing']}) | | | | |")
            continue
        ratio = "" if reference is None else f"{result['min'] / reference:.2f}"
        temperature = "" if result["temperature"] is None else f"{result['temperature']:.9f}"
        nll = "" if result["nll"] is None else f"{result['nll']:.12f}"
        lines.append(
            f"| {result['peer']} | {result['min']:.5f} | {result['median']:.5f} | "
            f"{temperature} | {nll} | {ratio} |"
        )
    floor = by_peer.get("floor", {}).get("min")
    if reference is not None and floor:
        lines += ["", f"skcal min time / floor min time: {reference / floor:.2f}"]
    return "\n".join(lines)


def default_repeats(n_samples):
    return 5 if n_samples <= 10**6 else 3


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=int, nargs="*", default=BINARY_SIZES,
        help="numbers of samples of the binary runs",
    )
    parser.add_argument(
        "--multiclass-sizes", type=int, nargs="*", default=MULTICLASS_SIZES,
        help=f"numbers of samples of the {N_CLASSES}-class runs",
    )
    parser.add_argument(
        "--repeats", type=int, default=None,
        help="timed fits per peer and size; default 5 up to 1e6 samples, 3 above",
    )
    parser.add_argument(
        "--skip", action="append", default=[], choices=PEERS, metavar="PEER",
        help=f"leave out a peer (repeatable), one of {', '.join(PEERS)}",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic data")
    parser.add_argument(
        "--bias-study", action="store_true",
        help="print held-out NLL with and without fit_bias=True instead of timings",
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.bias_study:
        print(bias_study(args.seed))
        return 0
    peers = [peer for peer in PEERS if peer not in args.skip]
    runs = [(n, 2) for n in args.sizes] + [(n, N_CLASSES) for n in args.multiclass_sizes]
    for n_samples, n_classes in runs:
        repeats = args.repeats or default_repeats(n_samples)
        results = benchmark_size(n_samples, n_classes, peers, repeats, args.seed)
        print(format_table(n_samples, n_classes, results), end="\n\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
