"""Per-chunk sums of the NLL and its derivatives, computed with torch.

The same formulas as :mod:`skcal.temperature._kernels_numpy`, run with torch
on the device of the logits (CPU or CUDA), in float64. Each kernel returns a
tuple of Python floats, which synchronises the device once per chunk.
"""

import torch


def _as_float64(z, divisor):
    values = z.to(torch.float64)
    if divisor is not None:
        values = values / divisor
    return values


def _weighted_sum(values, weights):
    if weights is None:
        return float(values.sum())
    return float(torch.dot(values, weights))


def _weighted_dot(values, other, weights):
    if weights is None:
        return float(torch.dot(values, other))
    return float(torch.dot(values * weights, other))


def binary_derivatives(u, divisor=None, third=True):
    """Return a kernel of the binary NLL's first three derivatives in ``u``.

    The third derivative is always computed; ``third`` only matches the
    numpy signature.
    """

    def kernel(z, positive, weights):
        z64 = _as_float64(z, divisor)
        a = torch.where(positive, z64, -z64)
        s = torch.sigmoid(-a * u)
        gradient = -_weighted_dot(s, a, weights)
        curvature = s * (1.0 - s) * a
        skew = (1.0 - 2.0 * s) * curvature * a
        return (
            gradient,
            _weighted_dot(curvature, a, weights),
            -_weighted_dot(skew, a, weights),
        )

    return kernel


def binary_with_bias(u, c, *, derivatives, divisor=None):
    """Return a kernel of the NLL of ``sigmoid(u z + c)`` and its derivatives."""

    def kernel(z, positive, weights):
        z64 = _as_float64(z, divisor)
        sign = torch.where(positive, 1.0, -1.0).to(torch.float64)
        margin = (z64 * u + c) * sign
        loss = torch.nn.functional.softplus(-margin)
        nll = _weighted_sum(loss, weights)
        if not derivatives:
            return (nll,)

        s = torch.sigmoid(-margin)
        residual = -s * sign
        curvature = s * (1.0 - s)
        curvature_z = curvature * z64
        return (
            nll,
            _weighted_dot(residual, z64, weights),
            _weighted_sum(residual, weights),
            _weighted_dot(curvature_z, z64, weights),
            _weighted_sum(curvature_z, weights),
            _weighted_sum(curvature, weights),
        )

    return kernel


def _centered(z, divisor):
    z64 = _as_float64(z, divisor)
    return z64 - torch.amax(z64, dim=1, keepdim=True)


def _label_logits(centered, labels):
    return centered.gather(1, labels.unsqueeze(1)).squeeze(1)


def multiclass_derivatives(u, divisor=None, third=True):
    """Return a kernel of the multiclass NLL's first three derivatives in ``u``.

    The third derivative is always computed; ``third`` only matches the
    numpy signature.
    """

    def kernel(z, labels, weights):
        centered = _centered(z, divisor)
        proba = torch.softmax(centered * u, dim=1)
        mean = (proba * centered).sum(dim=1)
        second = (proba * centered * centered).sum(dim=1)
        third = (proba * centered * centered * centered).sum(dim=1)
        residual = mean - _label_logits(centered, labels)
        variance = second - mean * mean
        skewness = third - mean * (3.0 * second - 2.0 * mean * mean)
        return (
            _weighted_sum(residual, weights),
            _weighted_sum(variance, weights),
            _weighted_sum(skewness, weights),
        )

    return kernel


def multiclass_nll(u, divisor=None):
    """Return a kernel of the multiclass NLL, ``log sum exp(u z) - u z_y``."""

    def kernel(z, labels, weights):
        centered = _centered(z, divisor)
        loss = torch.logsumexp(centered * u, dim=1) - u * _label_logits(centered, labels)
        return (_weighted_sum(loss, weights),)

    return kernel


def logit_extremes(z, labels, weights):
    """Return the largest and smallest logit of the chunk."""
    return float(z.max()), float(z.min())
