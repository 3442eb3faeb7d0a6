"""Safeguarded Newton solver for the binary temperature and bias.

The NLL of ``sigmoid(u z + c)`` is convex in ``(u, c)``, where ``u = 1 / T``
and ``c = -b / T``. Newton steps with the analytic 2x2 Hessian and a
backtracking line search on the NLL (each pass returns the NLL with its
derivatives) converge to the global minimum with ``u`` in ``[u_min, u_max]``.
As in the 1-D solver, growing strided subsamples provide the start.
"""

import math

import numpy as np

from skcal.temperature._solver import MAX_ITER, MAX_STEP_FACTOR, RTOL, subsample_levels


def _trial_point(u, c, step, u_min, u_max):
    """Return ``(u, c) + step``, shortened so that ``u`` stays in the box.

    A shortened step ends exactly on the bound, so the bound test of the
    next iteration is not defeated by rounding.
    """
    target = u + step[0]
    if u_min <= target <= u_max:
        return target, c + step[1]
    bound = u_max if target > u_max else u_min
    fraction = (bound - u) / step[0]
    return bound, c + step[1] * fraction


def _solve_2x2(gradient, hessian):
    """Return the Newton step for a 2x2 Hessian, regularised if singular."""
    ridge = 1e-12 * (abs(hessian[0, 0]) + abs(hessian[1, 1]) + 1e-300)
    return -np.linalg.solve(hessian + ridge * np.eye(2), gradient)


def _bias_step(u, gradient, hessian, u_min, u_max):
    """Return the Newton step in ``(u, c)``.

    When ``u`` sits on a bound and the gradient pushes it outward, ``u`` is
    held there and only ``c`` moves.
    """
    if (u <= u_min and gradient[0] > 0) or (u >= u_max and gradient[0] < 0):
        return np.array([0.0, -gradient[1] / max(hessian[1, 1], 1e-300)])
    return _solve_2x2(gradient, hessian)


def _step_multipliers(relative_du, previous_du):
    """Return the multiples of the Newton step to try, longest first.

    As in the 1-D solver, steps in ``u`` that keep about their size mark
    nearly separable data. A step along the Newton direction that
    multiplies ``u`` by ``MAX_STEP_FACTOR`` is then tried first. Halved
    steps follow until the NLL decreases.
    """
    halvings = [0.5**k for k in range(60)]
    if previous_du is not None and relative_du > 0 and relative_du >= 0.5 * previous_du:
        jump = (MAX_STEP_FACTOR - 1.0) / relative_du
        if jump > 1.0:
            return [jump] + halvings
    return halvings


def newton_with_bias(problem, start, u_min, u_max):
    """Minimise the binary NLL over ``(u, c)`` with ``u`` in the box.

    Newton steps with a backtracking line search on the NLL, since each
    pass returns the NLL together with the derivatives. Returns
    ``(u, c, status, passes)`` with ``status`` as in
    :func:`newton_inverse_temperature`.
    """
    u, c = start
    u = min(max(u, u_min), u_max)
    nll, gradient, hessian = problem.derivatives_with_bias(u, c)
    passes = 1
    previous_du = None
    while passes < MAX_ITER:
        step = _bias_step(u, gradient, hessian, u_min, u_max)
        if abs(step[0]) <= RTOL * u and abs(step[1]) <= RTOL * (1.0 + abs(c)):
            u, c = _trial_point(u, c, step, u_min, u_max)
            break

        relative_du = step[0] / u
        for multiplier in _step_multipliers(relative_du, previous_du):
            trial = _trial_point(u, c, step * multiplier, u_min, u_max)
            trial_nll, trial_gradient, trial_hessian = problem.derivatives_with_bias(*trial)
            passes += 1
            if trial_nll <= nll + 1e-13 * abs(nll):
                break
        else:
            break

        # No decrease at all: the NLL is flat to machine precision, as on
        # separable data far out on the bound.
        stalled = trial_nll >= nll
        previous_du = relative_du
        u, c = trial
        nll, gradient, hessian = trial_nll, trial_gradient, trial_hessian
        if stalled:
            break
    return u, c, _bound_status(u, u_min, u_max), passes


def _bound_status(u, u_min, u_max):
    if u <= u_min:
        return "at_min"
    if u >= u_max:
        return "at_max"
    return "interior"


def solve_with_bias(problem, start, u_min, u_max):
    """Solve the 2-D problem on growing subsamples, then on all rows."""
    for level in subsample_levels(problem):
        if level.total_weight() <= 0:
            continue
        u, c, status, _ = newton_with_bias(level, start, u_min, u_max)
        if status == "interior" and math.isfinite(c):
            start = (u, c)
    return newton_with_bias(problem, start, u_min, u_max)
