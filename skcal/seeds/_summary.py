"""The plain-text summary of a seed study: spreads, test, verdict and threshold."""

# License: BSD-3-Clause

import numpy as np

from skcal.seeds._result import SPREAD_STATISTICS, format_p_value

__all__ = ["format_summary"]


def format_summary(result):
    """Return the summary text of a :class:`SeedStudyResult`."""
    sections = [_format_header(result.info), _format_excluded(result)]
    if result.included.sum() >= 2:
        sections += [_format_spread(result), _format_test(result)]
    sections.append(result.verdict)
    if result.included.any():
        sections.append(_format_recommendation(result))
    return "\n\n".join(section for section in sections if section)


def _format_header(info):
    varied = " and ".join(
        {"seed": "the seed", "bootstrap": "a bootstrap resample of the training split"}[v]
        for v in info["vary"]
    )
    estimator = info["estimator"].split("(")[0]
    calibration = {"temperature": "temperature scaling",
                   "temperature+bias": "temperature scaling with a bias"}[info["calibration"]]
    return (
        f"Seed study: {info['n_runs']} runs of {estimator} varying {varied}; "
        f"{calibration}; objective {info['objective']}.\n"
        f"Splits: {info['n_train']} training, {info['n_calibration']} calibration and "
        f"{info['n_test']} test samples; positive class {info['pos_label']!r}."
    )


# Reason for leaving out a run whose temperature fit ended at a bound, by status.
_EXCLUSION_REASONS = {
    "separable": (
        "its model separates the calibration split perfectly, so the temperature "
        "fell to its lower bound (T = {temperature:.3g}) and its calibrated "
        "probabilities are 0 or 1"
    ),
    "chance": (
        "its logits are no better than chance on the calibration split, so the "
        "temperature reached its upper bound (T = {temperature:.3g})"
    ),
    "constant": "its logits are constant on the calibration split",
}


def format_exclusions(result):
    """Return one sentence per run left out of the between-run analysis."""
    sentences = []
    for run in np.flatnonzero(~result.included):
        reason = _EXCLUSION_REASONS[result.calibration_status[run]].format(
            temperature=result.temperatures[run]
        )
        sentences.append(f"Run {run + 1} is left out of the comparison: {reason}.")
    if "separable" in result.calibration_status:
        sentences.append(
            "A larger calibration split (calibration_size) makes a perfect "
            "separation less likely."
        )
    return sentences


def _format_excluded(result):
    return "\n".join(format_exclusions(result))


def _format_spread(result):
    level = _level(result)
    lines = [
        f"Between-run standard deviation over {int(result.included.sum())} runs, before "
        f"-> after calibration (ratio after / before, {level} interval over resampled "
        "runs):"
    ]
    width = max(len(label) for _, label in SPREAD_STATISTICS)
    for key, label in SPREAD_STATISTICS:
        spread = result.spread[key]
        low, high = spread["ratio_interval"]
        lines.append(
            f"  {label:<{width}}  {spread['sd_before']:8.4f} -> {spread['sd_after']:8.4f}"
            f"   ratio {spread['ratio']:.2f} [{low:.2f}, {high:.2f}]"
        )

    temperatures = result.temperatures[result.included]
    biases = result.biases[result.included]
    if temperatures.size:
        lines.append(
            f"Temperature: {temperatures.min():.3g} to {temperatures.max():.3g} over "
            f"the compared runs (median {np.median(temperatures):.3g})."
        )
    if np.any(biases != 0):
        lines.append(
            f"Bias: {biases.min():.3g} to {biases.max():.3g} over the compared runs."
        )
    return "\n".join(lines)


def _format_test(result):
    before = result.between_run_test["before"]
    after = result.between_run_test["after"]
    lines = [
        "Do the runs' mean P(positive) per true class differ more than test-set noise "
        "explains? (Hotelling's T², paired over the test images, classes combined "
        "with Fisher's method)",
        f"  uncalibrated: {format_p_value(before['p_value'])};  "
        f"calibrated: {format_p_value(after['p_value'])}",
    ]
    for name in ("negative", "positive"):
        test = after[name]
        lines.append(
            f"  calibrated, {name}s ({test['n_samples']} test samples): between-run "
            f"standard deviation of the mean {test['between_run_sd']:.4f}, test-set "
            f"standard error {test['standard_error']:.4f}, {format_p_value(test['p_value'])}"
        )
    return "\n".join(lines)


def _format_recommendation(result):
    info = result.info
    low, high = result.recommended_threshold_interval
    return (
        f"Recommended threshold: {result.recommended_threshold:.4f}, {_level(result)} "
        f"interval [{low:.4f}, {high:.4f}], on the calibrated P({info['pos_label']!r}) "
        f"for objective {info['objective']}, tuned on the pooled calibration scores of "
        f"{int(result.included.sum())} compared runs (interval over resampled runs and "
        "calibration samples)."
    )


def _level(result):
    return f"{100 * result.info['confidence_level']:g}%"
