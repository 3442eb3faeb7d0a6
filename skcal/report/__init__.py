"""A calibration report: metrics with intervals, three figures, one HTML page.

:func:`write_report` compares one or more score columns of a binary model
(for example before and after calibration) on the same labels.
:func:`read_predictions` loads such columns from a CSV or NPZ file, as the
``skcal report`` command does.
"""

import json
from pathlib import Path

import numpy as np

from skcal._validation import check_same_length, encode_binary_target
from skcal.metrics._inputs import check_probabilities, check_threshold
from skcal.report._predictions import read_predictions

__all__ = ["read_predictions", "write_report"]

CONFIDENCE_LEVEL = 0.95


def write_report(
    out_dir,
    y_true,
    scores,
    *,
    threshold=None,
    title="Calibration report",
    pos_label=None,
    extra_metrics=None,
    objective="accuracy",
    n_resamples=1000,
    random_state=0,
):
    """Write a calibration report comparing score columns of a binary model.

    Files written to ``out_dir`` (created if missing, files overwritten):

    - ``report.html``: a self-contained page (inline CSS, images embedded as
      base64 PNG, no network access needed) with the metrics table, the
      score statistics, the three figures and ``extra_metrics``;
    - ``metrics.json``: the same numbers;
    - ``scores.png``: histograms of P(positive) by true class, one panel per
      column, threshold marked;
    - ``reliability.png``: the reliability diagram of all columns on one
      axes;
    - ``threshold.png``: the objective (accuracy by default) against the
      threshold, each column's threshold marked.

    The metrics are accuracy at the threshold, ECE and MCE of P(positive)
    with 15 equal-width bins, smooth ECE, Brier score and log loss, each
    with a 95% percentile bootstrap interval. All metrics and columns use
    the same resamples.

    Parameters
    ----------
    out_dir : str or pathlib.Path
    y_true : array-like of shape (n_samples,)
        True labels of a binary problem.
    scores : dict of str to array-like of shape (n_samples,)
        P(positive) per column, in display order, for example
        ``{"uncalibrated": p0, "calibrated": p1}``.
    threshold : float or dict of str to float, default=None
        Decision threshold on P(positive), for all columns or per column.
        None, or a column missing from the dict, means 0.5. A threshold
        above 1, such as the ``inf`` that threshold tuning returns when
        predicting no positive is best, is drawn at the edge of the plots
        and written to ``metrics.json`` as ``Infinity``, as Python's
        :mod:`json` does.
    title : str, default="Calibration report"
    pos_label : int, float, bool or str, default=None
        Positive class; ``None`` takes the larger label.
    extra_metrics : dict, default=None
        JSON-serialisable values stored under ``"extra"`` in
        ``metrics.json`` and listed on the page (a temperature, say).
    objective : str or Objective, default="accuracy"
        The threshold-dependent metric drawn in ``threshold.png``, anything
        :func:`skcal.objectives.resolve_objective` accepts; pass the
        objective the thresholds were tuned for.
    n_resamples : int, default=1000
        Bootstrap resamples per metric.
    random_state : int, default=0
        Seed of the bootstrap.

    Returns
    -------
    pathlib.Path
        Path of ``report.html``.
    """
    from skcal.report._figures import save_figures
    from skcal.report._html import render_page
    from skcal.report._metrics import column_metrics

    y01, classes, pos_label = encode_binary_target(y_true, pos_label=pos_label, name="y_true")
    scores = _check_scores(scores, y01)
    thresholds = _thresholds_per_column(threshold, scores)
    extra = _check_extra(extra_metrics)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    content = {
        "title": str(title),
        "n_samples": int(y01.shape[0]),
        "pos_label": _json_value(pos_label),
        "class_counts": {"negative": int((y01 == 0).sum()), "positive": int(y01.sum())},
        "bootstrap": {
            "n_resamples": n_resamples,
            "confidence_level": CONFIDENCE_LEVEL,
            "random_state": random_state,
        },
        "columns": {
            name: column_metrics(
                y_true,
                y01,
                p_pos,
                thresholds[name],
                pos_label=pos_label,
                n_resamples=n_resamples,
                random_state=random_state,
            )
            for name, p_pos in scores.items()
        },
        "extra": extra,
    }
    (out_dir / "metrics.json").write_text(json.dumps(content, indent=2))

    figure_paths = save_figures(out_dir, y_true, scores, thresholds, pos_label, objective)
    page = out_dir / "report.html"
    page.write_text(render_page(content, figure_paths), encoding="utf-8")
    return page


def _check_scores(scores, y01):
    if not isinstance(scores, dict) or not scores:
        raise ValueError(
            "scores must be a non-empty dict mapping column names to P(positive) "
            f"arrays, got {scores!r:.80}."
        )
    checked = {}
    for name, values in scores.items():
        p_pos = check_probabilities(values, name=f"scores[{name!r}]")
        if p_pos.ndim != 1:
            raise ValueError(
                f"scores[{name!r}] has shape {p_pos.shape}. Pass the probability of "
                "the positive class, one value per sample."
            )
        check_same_length(y01, p_pos, names=("y_true", f"scores[{name!r}]"))
        checked[str(name)] = p_pos
    return checked


def _thresholds_per_column(threshold, scores):
    if threshold is None or not isinstance(threshold, dict):
        value = 0.5 if threshold is None else check_threshold(threshold)
        return dict.fromkeys(scores, value)
    unknown = sorted(set(threshold) - set(scores))
    if unknown:
        raise ValueError(
            f"threshold names columns {unknown} that are not in scores {list(scores)}. "
            "Use the column names of scores."
        )
    return {name: check_threshold(threshold.get(name, 0.5)) for name in scores}


def _check_extra(extra_metrics):
    if extra_metrics is None:
        return {}
    if not isinstance(extra_metrics, dict):
        raise TypeError(
            f"extra_metrics must be a dict, got {type(extra_metrics).__name__}."
        )
    try:
        return json.loads(json.dumps(extra_metrics))
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"extra_metrics is not JSON-serialisable ({err}). Convert numpy values "
            "with float() or .tolist() first."
        ) from err


def _json_value(value):
    return value.item() if isinstance(value, np.generic) else value
