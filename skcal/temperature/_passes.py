"""Chunked passes over logits that return the likelihood and its derivatives.

A pass reads the logits in row chunks, converts one chunk at a time to
float64 and accumulates float64 sums. Float32 logits are therefore never
copied to float64 as a whole, and the extra memory is a few chunks per
worker thread. The
per-chunk formulas live in ``_kernels_numpy`` and ``_kernels_torch``.

The parameters are the inverse temperature ``u = 1 / T`` and, for the binary
model with a bias, the intercept ``c = -b / T``: the binary model is
``sigmoid(u * z + c)`` and the multiclass model ``softmax(u * z)``. Both
negative log-likelihoods are convex in ``u`` and in ``(u, c)``.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from skcal.temperature import _kernels_numpy

try:
    import torch

    from skcal.temperature import _kernels_torch
except ImportError:  # pragma: no cover - torch is a dependency of skcal
    torch = None
    _kernels_torch = None

# Float64 elements per numpy chunk of binary logits: 64 KiB. The temporaries
# of one chunk then stay in the L2 cache and below glibc's default mmap
# threshold of 128 KiB, so no chunk causes page faults. np.dot also stays
# single-threaded (see _kernels_numpy).
CHUNK_ELEMENTS = 2**13
# Elements (rows times classes) per numpy chunk of multiclass logits. The
# multiclass kernel calls np.dot only on per-row vectors, so chunks can be
# larger; 2**15 was the fastest of 2**13 .. 2**16 for 10 classes on a 2-core
# AMD EPYC (Zen 5) virtual machine.
MULTICLASS_CHUNK_ELEMENTS = 2**15
# Rows per chunk never drop below this, so wide logits still amortise the
# Python overhead of a chunk.
MIN_CHUNK_ROWS = 64
# Nor exceed this in numpy, so np.dot over the rows stays single-threaded.
MAX_NUMPY_CHUNK_ROWS = 2**13
# CUDA kernels need large chunks to amortise launches and the
# synchronisation at the end of each chunk.
TORCH_CUDA_CHUNK_ELEMENTS = 2**24
TORCH_CPU_CHUNK_ELEMENTS = 2**16


# Threads pay off only when a pass has enough chunks to share.
MIN_CHUNKS_PER_THREAD = 16
# Worker threads of a numpy pass. On the 2-core machine skcal was tuned on,
# with other processes keeping both cores busy, two threads made fits 15-25 %
# slower than one (1e7 binary and 1e6 x 10 float32 logits).
# NOTE: on an idle multi-core machine more threads may pay off; not measured.
MAX_THREADS = 1

_pool = None
_pool_lock = threading.Lock()


def _shared_pool():
    """Return the process-wide thread pool, created on first use.

    Creating threads for every pass costs more than a pass over 1e5 logits.
    """
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                max_workers=worker_count(), thread_name_prefix="skcal-temperature"
            )
        return _pool


def is_torch_tensor(values):
    """Return True when ``values`` is a torch tensor."""
    return torch is not None and isinstance(values, torch.Tensor)


def worker_count():
    """Return the number of CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class LogitProblem:
    """Logits, labels and weights of one temperature-scaling fit.

    Parameters
    ----------
    logits : ndarray or torch.Tensor of shape (n,) or (n, k)
        Float32 or float64 logits; read in chunks, never modified.
    labels : ndarray or torch.Tensor of shape (n,)
        For binary logits, int8 signs in numpy (+1 for class 1, -1 for class
        0) and booleans "is class 1" in torch. For multiclass logits, integer
        class indices.
    weights : ndarray or torch.Tensor of shape (n,), or None
        Float64 sample weights; None means unit weights.
    divisor : float or None, default=None
        Divides the logits inside every pass (but not in
        :meth:`logit_range`); the parameters are then in units of the
        divided logits.
    """

    def __init__(self, logits, labels, weights, divisor=None):
        self.logits = logits
        self.labels = labels
        self.weights = weights
        self.divisor = divisor
        self.binary = logits.ndim == 1
        self.n_samples = logits.shape[0]
        self.on_torch = is_torch_tensor(logits)
        self.kernels = _kernels_torch if self.on_torch else _kernels_numpy

        budget = CHUNK_ELEMENTS if self.binary else MULTICLASS_CHUNK_ELEMENTS
        if self.on_torch:
            on_cuda = logits.device.type != "cpu"
            budget = TORCH_CUDA_CHUNK_ELEMENTS if on_cuda else TORCH_CPU_CHUNK_ELEMENTS
        width = 1 if self.binary else logits.shape[1]
        self.chunk_rows = max(MIN_CHUNK_ROWS, budget // width)
        if not self.on_torch:
            self.chunk_rows = min(self.chunk_rows, MAX_NUMPY_CHUNK_ROWS)

    def total_weight(self):
        """Return the sum of the sample weights."""
        if self.weights is None:
            return float(self.n_samples)
        return float(self.weights.sum())

    def subsample(self, step):
        """Return the problem restricted to every ``step``-th row."""
        weights = None if self.weights is None else self.weights[::step]
        return LogitProblem(
            self.logits[::step], self.labels[::step], weights, self.divisor
        )

    def map_chunks(self, kernel, combine=None):
        """Apply ``kernel(logits, labels, weights)`` to each chunk and combine.

        ``combine`` reduces the per-chunk tuples, stacked as the rows of a
        float64 array, and defaults to a column sum. The chunk order, and so
        the rounding of the sums, does not depend on the number of threads.
        """
        starts = range(0, self.n_samples, self.chunk_rows)

        def run(start):
            stop = start + self.chunk_rows
            weights = None if self.weights is None else self.weights[start:stop]
            return kernel(self.logits[start:stop], self.labels[start:stop], weights)

        workers = min(MAX_THREADS, worker_count(), len(starts) // MIN_CHUNKS_PER_THREAD)
        if workers <= 1 or self.on_torch:
            parts = [run(start) for start in starts]
        else:
            # numpy releases the GIL inside ufuncs and reductions, so chunks
            # run in parallel; map returns results in chunk order.
            parts = list(_shared_pool().map(run, starts))

        parts = np.asarray(parts, dtype=np.float64)
        if combine is None:
            return parts.sum(axis=0)
        return combine(parts)

    def logit_range(self):
        """Return ``(scale, spread)`` of the logits in one pass without exp.

        ``spread`` is ``max z - min z`` over all logits (zero when all are
        equal). ``scale``, the unit of the temperature bounds, is ``max |z|``
        for binary logits and equals ``spread`` for multiclass logits, which
        makes it independent of a common shift of all logits. Both are
        non-finite when any logit is NaN or infinite.
        """
        high, low = self.map_chunks(
            self.kernels.logit_extremes,
            lambda parts: (parts[:, 0].max(), parts[:, 1].min()),
        )
        spread = float(high - low)
        if self.binary:
            return float(max(abs(high), abs(low))), spread
        return spread, spread

    def derivatives(self, u, third=True):
        """Return the weighted NLL's first three derivatives in ``u``.

        With ``third=False`` the third derivative may be skipped and is then
        NaN.
        """
        if self.binary:
            kernel = self.kernels.binary_derivatives(u, self.divisor, third)
        else:
            kernel = self.kernels.multiclass_derivatives(u, self.divisor, third)
        first, second, third = self.map_chunks(kernel)
        return float(first), float(second), float(third)

    def nll(self, u, c=0.0):
        """Return the weighted negative log-likelihood (a sum, not a mean)."""
        if self.binary:
            kernel = self.kernels.binary_with_bias(
                u, c, derivatives=False, divisor=self.divisor
            )
        else:
            kernel = self.kernels.multiclass_nll(u, self.divisor)
        return float(self.map_chunks(kernel)[0])

    def derivatives_with_bias(self, u, c):
        """Return the NLL, gradient (2,) and Hessian (2, 2) in ``(u, c)``."""
        kernel = self.kernels.binary_with_bias(
            u, c, derivatives=True, divisor=self.divisor
        )
        nll, g_u, g_c, h_uu, h_uc, h_cc = self.map_chunks(kernel)
        gradient = np.array([g_u, g_c])
        hessian = np.array([[h_uu, h_uc], [h_uc, h_cc]])
        return float(nll), gradient, hessian
