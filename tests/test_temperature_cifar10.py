"""Temperature scaling on real CIFAR-10 logits matches published figures.

The logits of DenseNet-40 and ResNet-110 ship in
``benchmarks/data/cifar10-logits`` (MIT licence, see the README there). The
published values are from Rahimi et al., NeurIPS 2020, Table 1: temperature
fitted on the validation split, ECE over 15 equal-width bins of the
top-label confidence on the test split.
"""

from pathlib import Path

import numpy as np
import pytest
from scipy.special import log_softmax, softmax

from skcal.metrics import expected_calibration_error
from skcal.temperature import fit_temperature

DATA_DIR = Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "cifar10-logits"

PUBLISHED = [
    # network, test error, ECE before, ECE after, NLL after
    ("densenet40", 0.0758, 0.0550, 0.0095, 0.2251),
    ("resnet110", 0.0644, 0.0475, 0.0113, 0.2093),
]


def _load(name):
    with np.load(DATA_DIR / f"{name}.npz") as archive:
        return {key: archive[key] for key in archive.files}


def _top_label_ece(logits, y, temperature):
    proba = softmax(logits.astype(np.float64) / temperature, axis=1)
    return expected_calibration_error(
        y, proba, n_bins=15, kind="top_label", labels=np.arange(logits.shape[1])
    )


def _mean_nll(logits, y, temperature):
    log_proba = log_softmax(logits.astype(np.float64) / temperature, axis=1)
    return -log_proba[np.arange(y.shape[0]), y].mean()


@pytest.mark.parametrize("name, error, ece_before, ece_after, nll_after", PUBLISHED)
def test_cifar10_matches_published(name, error, ece_before, ece_after, nll_after):
    data = _load(name)
    logits, y = data["logits_test"], data["y_test"]
    temperature = fit_temperature(data["logits_val"], data["y_val"])

    assert round(np.mean(logits.argmax(axis=1) != y), 4) == error
    assert round(_top_label_ece(logits, y, 1.0), 4) == ece_before
    assert round(_top_label_ece(logits, y, temperature), 4) == ece_after
    assert round(_mean_nll(logits, y, temperature), 4) == nll_after


@pytest.mark.parametrize("name", ["densenet40", "resnet110"])
def test_cifar10_temperature_minimises_nll(name):
    data = _load(name)
    logits, y = data["logits_val"], data["y_val"]
    temperature = fit_temperature(logits, y)
    best = _mean_nll(logits, y, temperature)
    for factor in (0.999, 1.001):
        assert best < _mean_nll(logits, y, temperature * factor)
