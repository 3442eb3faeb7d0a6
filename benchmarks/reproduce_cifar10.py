"""Reproduce published temperature-scaling results on CIFAR-10 logits.

For DenseNet-40 and ResNet-110 the temperature is fitted with skcal on the
5,000-image validation split. The script prints, before and after scaling,
the test error, the expected calibration error (ECE, 15 equal-width bins of
the top-label confidence), the maximum calibration error (MCE) and the mean
negative log-likelihood (NLL) on the 10,000 test images. The published
values (Rahimi et al., NeurIPS 2020, Table 1) stand next to them. The data and their licence are described in
``benchmarks/data/cifar10-logits/README.md``.

Run from the repository root::

    python benchmarks/reproduce_cifar10.py
"""

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.special import log_softmax, softmax

from skcal.metrics import expected_calibration_error, maximum_calibration_error
from skcal.temperature import fit_temperature

DATA_DIR = Path(__file__).resolve().parent / "data" / "cifar10-logits"
N_BINS = 15

# Test error, ECE before, ECE after and NLL after temperature scaling.
PUBLISHED = {
    "densenet40": {"error": 0.0758, "ece_before": 0.0550, "ece_after": 0.0095, "nll_after": 0.2251},
    "resnet110": {"error": 0.0644, "ece_before": 0.0475, "ece_after": 0.0113, "nll_after": 0.2093},
}


def load_logits(name, data_dir=DATA_DIR):
    """Return the validation and test logits and labels of one network."""
    with np.load(Path(data_dir) / f"{name}.npz") as archive:
        return {key: archive[key] for key in archive.files}


def evaluate(logits, y, temperature):
    """Return error, ECE, MCE and mean NLL of ``softmax(logits / temperature)``."""
    scaled = np.asarray(logits, dtype=np.float64) / temperature
    proba = softmax(scaled, axis=1)
    labels = np.arange(logits.shape[1])
    nll = -log_softmax(scaled, axis=1)[np.arange(y.shape[0]), y].mean()
    return {
        "error": float(np.mean(proba.argmax(axis=1) != y)),
        "ece": expected_calibration_error(y, proba, n_bins=N_BINS, kind="top_label", labels=labels),
        "mce": maximum_calibration_error(y, proba, n_bins=N_BINS, kind="top_label", labels=labels),
        "nll": float(nll),
    }


def reproduce(name, data_dir=DATA_DIR):
    """Fit T on the validation split and evaluate on the test split."""
    data = load_logits(name, data_dir)
    temperature = fit_temperature(data["logits_val"], data["y_val"])
    before = evaluate(data["logits_test"], data["y_test"], 1.0)
    after = evaluate(data["logits_test"], data["y_test"], temperature)
    return temperature, before, after


def _rows(name, temperature, before, after):
    published = PUBLISHED[name]
    return [
        ("temperature", f"{temperature:.6f}", ""),
        ("test error", f"{after['error']:.4f}", f"{published['error']:.4f}"),
        ("ECE before", f"{before['ece']:.4f}", f"{published['ece_before']:.4f}"),
        ("ECE after", f"{after['ece']:.4f}", f"{published['ece_after']:.4f}"),
        ("MCE before", f"{before['mce']:.4f}", ""),
        ("MCE after", f"{after['mce']:.4f}", ""),
        ("NLL before", f"{before['nll']:.4f}", ""),
        ("NLL after", f"{after['nll']:.4f}", f"{published['nll_after']:.4f}"),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir", type=Path, default=DATA_DIR,
        help="folder holding densenet40.npz and resnet110.npz",
    )
    args = parser.parse_args(argv)

    mismatches = 0
    print("| network | quantity | skcal | published |")
    print("| --- | --- | --- | --- |")
    for name in PUBLISHED:
        temperature, before, after = reproduce(name, args.data_dir)
        for quantity, ours, published in _rows(name, temperature, before, after):
            print(f"| {name} | {quantity} | {ours} | {published} |")
            mismatches += bool(published) and ours != published
    if mismatches:
        print(f"{mismatches} value(s) differ from the published ones at 4 decimals.")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
