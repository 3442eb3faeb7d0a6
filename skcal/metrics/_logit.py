"""Log-odds of probabilities, kept finite at 0 and 1."""

import numpy as np
from scipy.special import logit as _scipy_logit

# 2**-53 and 1 - 2**-53 are the float64 values nearest to 0 and to 1 that keep
# the clipped range symmetric: the logit stays within +-36.74.
PROBABILITY_FLOOR = 2.0**-53
LOGIT_LIMIT = float(_scipy_logit(1.0 - PROBABILITY_FLOOR))


def clipped_logit(p):
    """Return ``log(p / (1 - p))`` with ``p`` clipped to ``[2**-53, 1 - 2**-53]``."""
    p = np.clip(np.asarray(p, dtype=np.float64), PROBABILITY_FLOOR, 1.0 - PROBABILITY_FLOOR)
    return _scipy_logit(p)
