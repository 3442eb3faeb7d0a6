"""Per-bin sums of weights, confidences and outcomes, for one or many weightings.

The data are binned once; each weighting (one row of a weight matrix, as in
bootstrap resampling) then costs one vectorised pass. Uniform bins do not
depend on the weights, so the sums are one product with a sparse bin-indicator
matrix. Quantile edges do depend on the weights, so the data are sorted by
confidence once and each bin's sums are differences of cumulative sums taken
at that row's bin boundaries.

Bins are right-closed, ``(e[b - 1], e[b]]``, except the first, which is
``[0, e[1]]``. So a confidence of exactly 0 falls in the first bin and one of
exactly 1 in the last.
"""

from dataclasses import dataclass

import numpy as np
from scipy import sparse

STRATEGIES = ("uniform", "quantile")


@dataclass
class BinSums:
    """Sums per bin, each of shape ``(n_rows, n_bins)``, and the bin edges.

    ``edges`` has shape ``(n_rows, n_bins + 1)`` because quantile edges
    depend on each row's weights.
    """

    weight: np.ndarray
    confidence: np.ndarray
    outcome: np.ndarray
    edges: np.ndarray


class Binning:
    """Bins of one data set, ready to sum any number of weightings.

    Parameters
    ----------
    confidence, outcome : ndarray of shape (n_samples,)
        Confidences in [0, 1] and the observed outcomes (0 or 1).
    n_bins : int
    strategy : {"uniform", "quantile"}
        ``"uniform"`` splits [0, 1] into equal widths. ``"quantile"`` puts the
        inner edges at the weighted quantiles ``b / n_bins`` of the
        confidences (inverted-CDF definition), so bins hold about equal
        weight. Samples with equal confidence always share a bin, so ties
        make some bins heavier and leave others empty.
    """

    def __init__(self, confidence, outcome, *, n_bins, strategy):
        self.n_bins = n_bins
        self.strategy = strategy
        if strategy == "uniform":
            self._edges = np.linspace(0.0, 1.0, n_bins + 1)
            self._design = fixed_edge_design(confidence, outcome, self._edges)
        else:
            self._order = np.argsort(confidence, kind="stable")
            self._sorted_confidence = confidence[self._order]
            self._sorted_outcome = outcome[self._order]

    def sums(self, weights):
        """Return the :class:`BinSums` of ``weights``, shape (n_rows, n_samples)."""
        if self.strategy == "uniform":
            # One sparse product gives all three sums for every row.
            sums = np.asarray(weights @ self._design)
            weight, confidence, outcome = np.split(sums, 3, axis=1)
            edges = np.broadcast_to(self._edges, (weights.shape[0], self.n_bins + 1))
            return BinSums(weight, confidence, outcome, np.array(edges))
        return self._quantile_sums(weights)

    def _quantile_sums(self, weights):
        sorted_weights = weights[:, self._order]
        cum_weight = _cumsum_from_zero(sorted_weights)
        cum_confidence = _cumsum_from_zero(sorted_weights * self._sorted_confidence)
        cum_outcome = _cumsum_from_zero(sorted_weights * self._sorted_outcome)

        edges = _quantile_edges(self._sorted_confidence, cum_weight, self.n_bins)
        stops = _bin_stops(self._sorted_confidence, edges)
        return BinSums(
            weight=_take_differences(cum_weight, stops),
            confidence=_take_differences(cum_confidence, stops),
            outcome=_take_differences(cum_outcome, stops),
            edges=edges,
        )


def fixed_edge_design(confidence, outcome, edges):
    """Return the sparse (n_samples, 3 * n_bins) matrix that sums per bin of ``edges``.

    Row ``i`` contains 1, ``confidence[i]`` and ``outcome[i]`` in the columns of
    its bin in the three blocks.
    """
    n_bins = edges.size - 1
    n_samples = confidence.shape[0]
    # side="left" makes the bins right-closed; 0 lands in the first bin.
    bin_index = np.searchsorted(edges[1:-1], confidence, side="left")
    rows = np.tile(np.arange(n_samples), 3)
    columns = np.concatenate([bin_index, bin_index + n_bins, bin_index + 2 * n_bins])
    values = np.concatenate([np.ones(n_samples), confidence, outcome])
    return sparse.csr_array((values, (rows, columns)), shape=(n_samples, 3 * n_bins))


def _cumsum_from_zero(values):
    cumulative = np.zeros((values.shape[0], values.shape[1] + 1))
    np.cumsum(values, axis=1, out=cumulative[:, 1:])
    return cumulative


def _quantile_edges(sorted_confidence, cum_weight, n_bins):
    """Return per-row edges at the inverted-CDF weighted quantiles."""
    n_rows = cum_weight.shape[0]
    edges = np.empty((n_rows, n_bins + 1))
    edges[:, 0] = 0.0
    edges[:, -1] = 1.0
    fractions = np.arange(1, n_bins) / n_bins

    for row in range(n_rows):
        targets = fractions * cum_weight[row, -1]
        # The first sample whose cumulative weight reaches the target.
        first = np.searchsorted(cum_weight[row, 1:], targets, side="left")
        edges[row, 1:-1] = sorted_confidence[np.minimum(first, sorted_confidence.size - 1)]
    return edges


def _bin_stops(sorted_confidence, edges):
    """Return, per row, the number of samples at or below each edge.

    The first column is 0 so that bin ``b`` spans the sorted samples
    ``stops[b]`` to ``stops[b + 1]``. The last edge is 1, above every
    confidence, so the last stop is the sample count.
    """
    stops = np.searchsorted(sorted_confidence, edges, side="right")
    stops[:, 0] = 0
    stops[:, -1] = sorted_confidence.size
    return stops


def _take_differences(cumulative, stops):
    at_stops = np.take_along_axis(cumulative, stops, axis=1)
    return np.diff(at_stops, axis=1)
