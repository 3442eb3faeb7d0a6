"""Safeguarded Halley-Newton solver for the inverse temperature ``u = 1 / T``.

The negative log-likelihood (NLL) of ``softmax(u z)`` or ``sigmoid(u z)`` is
convex in ``u``, so a root of its derivative inside a bracket is the global
minimum on the box ``[u_min, u_max]``. Each pass over the data returns the
first three derivatives. With them, Halley's step converges cubically
(``e_next ~ C e**3``). The solver falls back to Newton's step (quadratic)
when the third-derivative correction is large, limits steps to a trust
region in ``log u`` far from the minimum, and bisects the bracket when a
step leaves it.

To keep full passes over large inputs to about two, the solver first fits
strided subsamples of growing size, then refines on all rows. Once the last
relative step ``r`` and the one before, ``r_prev``, predict an error
``C r**p`` (``C = r / r_prev**p``, ``p`` the order of the step) far below
the tolerance, the step is applied without another pass.
"""

import math

# Relative tolerance on u (and therefore on T = 1 / u).
RTOL = 1e-10
# A predicted error must be this far below RTOL before a pass is skipped.
PREDICTION_MARGIN = 0.1
# A step is only extrapolated (no further pass) when it is this small.
MAX_EXTRAPOLATED_STEP = 1e-4
MAX_ITER = 100
# After this many passes, a closed bracket is only bisected: steps from
# nearly vanishing second derivatives may otherwise creep, and bisection in
# log u reaches RTOL within about 40 more passes.
BISECT_AFTER = 20
# Subsample sizes grow by this factor per level until they reach all rows.
LEVEL_FACTOR = 64
MIN_SUBSAMPLE = 1024
# When the previous step predicts a relative error below this, Newton's step
# (error about its square) reaches RTOL, so the pass skips the third
# derivative.
NEWTON_SUFFICES = 1e-6
# Largest factor by which one step may change u: a trust region in log u.
MAX_STEP_FACTOR = 8.0


def _raw_step(gradient, hessian, third):
    """Return the Halley (order 3) or Newton (order 2) step and its order.

    Halley's step is ``-g / H / (1 - g T3 / (2 H**2))``. It is used only when
    the correction factor lies in [0.5, 2], so it never reverses the Newton
    step nor changes its length by more than a factor of two.
    """
    if not (hessian > 0 and math.isfinite(hessian)):
        return (math.inf if gradient < 0 else -math.inf), 1
    newton = -gradient / hessian
    if not math.isfinite(newton):
        return newton, 1
    if math.isnan(third):
        return newton, 2
    correction = 1.0 + 0.5 * newton * (third / hessian)
    if math.isfinite(correction) and 0.5 <= correction <= 2.0:
        return newton / correction, 3
    return newton, 2


def _bracketed_candidate(u, step, bracket, accelerate):
    """Return the next iterate for ``u + step`` inside the bracket.

    ``bracket`` is ``(low, high, open_low, open_high)``: the minimiser lies
    in ``[low, high]``, and an end is open when the gradient has not been
    evaluated there (it is then a bound of the box), so the next iterate may
    land on it. A candidate on or beyond an evaluated end falls back to the
    geometric midpoint of the bracket.
    """
    low, high, open_low, open_high = bracket
    if math.isfinite(step):
        candidate = u + step
    else:
        candidate = math.inf if step > 0 else 0.0
    candidate = min(max(candidate, u / MAX_STEP_FACTOR), u * MAX_STEP_FACTOR)
    if accelerate and candidate > u:
        candidate = u * MAX_STEP_FACTOR

    if candidate <= low:
        return low if open_low else math.sqrt(low * high)
    if candidate >= high:
        return high if open_high else math.sqrt(low * high)
    return candidate


def _is_linear_progress(step, previous_step, open_high):
    """Return True when the iterates creep toward a large ``u``.

    On (nearly) separable data the NLL decays like ``exp(-margin * u)``, and
    the steps in ``u`` stay about the same size instead of shrinking
    quadratically. Steps that shrink by less than half, with no upper end
    of the bracket evaluated yet, mark that regime.
    """
    if previous_step is None or not open_high:
        return False
    return step >= 0.5 * previous_step


def _converged(step, order, previous_step):
    """Return True when applying ``step`` brings u within ``RTOL``."""
    if step <= RTOL:
        return True
    if previous_step is None or previous_step == 0 or order < 2:
        return False
    if step > MAX_EXTRAPOLATED_STEP:
        return False
    rate = max(1.0, step / previous_step**order)
    return rate * step**order <= RTOL * PREDICTION_MARGIN


def newton_inverse_temperature(problem, u_start, u_min, u_max):
    """Minimise the NLL over ``u`` in ``[u_min, u_max]`` from ``u_start``.

    Returns
    -------
    u : float
        The minimiser, clipped to the box.
    status : {"interior", "at_min", "at_max", "flat"}
        Whether the minimum is interior or the NLL still decreases at a bound
        (``at_min``: toward ``u = 0``, infinite temperature; ``at_max``:
        toward ``u = infinity``, zero temperature). ``flat``: the first two
        derivatives are exactly zero, because every row of logits is
        constant or because all probabilities saturated at a large ``u``.
    passes : int
        Number of passes over ``problem`` spent.
    """
    bracket = [u_min, u_max, True, True]
    u = min(max(u_start, u_min), u_max)
    previous_step = previous_gradient = None
    previous_order = 1
    for passes in range(1, MAX_ITER + 1):
        expected_error = math.inf if previous_step is None else previous_step**previous_order
        gradient, hessian, third = problem.derivatives(
            u, third=expected_error > NEWTON_SUFFICES
        )
        if not math.isfinite(gradient):
            raise FloatingPointError(f"non-finite NLL gradient at u={u!r}")
        if gradient == 0:
            return u, ("flat" if hessian == 0 else "interior"), passes
        if gradient > 0:
            if u <= u_min:
                return u_min, "at_min", passes
            bracket[1], bracket[3] = u, False
        else:
            if u >= u_max:
                return u_max, "at_max", passes
            bracket[0], bracket[2] = u, False

        step, order = _raw_step(gradient, hessian, third)
        if passes > BISECT_AFTER and not (bracket[2] or bracket[3]):
            step = math.sqrt(bracket[0] * bracket[1]) - u
        accelerate = (
            gradient < 0
            and previous_gradient is not None
            and previous_gradient < 0
            and _is_linear_progress(abs(step) / u, previous_step, bracket[3])
        )
        candidate = _bracketed_candidate(u, step, bracket, accelerate)
        relative_step = abs(candidate - u) / u
        if candidate != u + step:
            order = 1
        if _converged(relative_step, order, previous_step):
            return candidate, "interior", passes
        previous_step, previous_gradient, previous_order = relative_step, gradient, order
        u = candidate
    return u, "interior", MAX_ITER


def subsample_levels(problem):
    """Return the strided subsamples to solve before the full problem.

    Levels grow by ``LEVEL_FACTOR`` so that each costs a small fraction of
    the next; the smallest has at least ``MIN_SUBSAMPLE`` rows.
    """
    steps = []
    step = LEVEL_FACTOR
    while problem.n_samples // step >= MIN_SUBSAMPLE:
        steps.append(step)
        step *= LEVEL_FACTOR
    return [problem.subsample(step) for step in reversed(steps)]


def solve_inverse_temperature(problem, u_start, u_min, u_max):
    """Solve on growing subsamples, then on all rows; see the module notes."""
    u = u_start
    for level in subsample_levels(problem):
        if level.total_weight() <= 0:
            continue
        level_u, status, _ = newton_inverse_temperature(level, u, u_min, u_max)
        # A subsample may be separable or hold one class only; its bound is
        # no useful start for the full problem.
        if status == "interior":
            u = level_u
    return newton_inverse_temperature(problem, u, u_min, u_max)
