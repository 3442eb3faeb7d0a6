"""Write a seed study's figures, JSON and self-contained HTML report."""

# License: BSD-3-Clause

import base64
import html
import io
import json
import math
from pathlib import Path

from skcal.seeds._figures import plot_reliability, plot_score_grid, plot_thresholds
from skcal.seeds._result import SPREAD_STATISTICS, format_p_value
from skcal.seeds._summary import format_exclusions

__all__ = ["write_seed_report"]

# Columns of the per-run table in the report: (key, heading, format).
RUN_COLUMNS = (
    ("seed", "seed", "{}"),
    ("temperature", "T", "{:.3f}"),
    ("bias", "b", "{:.3f}"),
    ("calibration_status", "temperature fit", "{}"),
    ("threshold_uncalibrated", "threshold, uncalibrated", "{:.4f}"),
    ("threshold", "threshold, calibrated", "{:.4f}"),
    ("ece_before", "ECE before", "{:.4f}"),
    ("ece_after", "ECE after", "{:.4f}"),
    ("log_loss_before", "log loss before", "{:.4f}"),
    ("log_loss_after", "log loss after", "{:.4f}"),
    ("negative_logit_median_before", "median logit of negatives, before", "{:.3f}"),
    ("negative_logit_median_after", "median logit of negatives, after", "{:.3f}"),
    ("fit_seconds", "fit time (s)", "{:.1f}"),
)

_STYLE = """
body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f3f3f3; }
td:first-child, th:first-child { text-align: left; }
pre { background: #f7f7f7; padding: 1em; white-space: pre-wrap; }
.verdict { font-size: 1.1em; border-left: 4px solid #2a6; padding-left: 0.8em; }
img { max-width: 100%; }
"""


def write_seed_report(result, out):
    """Write ``report.html``, ``seed_study.json`` and three PNG figures to ``out``.

    Returns the paths by name: ``report``, ``json``, ``scores``,
    ``thresholds`` and ``reliability``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)

    figures = {
        "thresholds": plot_thresholds(result),
        "reliability": plot_reliability(result),
        "scores": plot_score_grid(result),
    }
    images = {}
    files = {}
    for name, figure in figures.items():
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=100)
        images[name] = buffer.getvalue()
        files[name] = out / f"{name}.png"
        files[name].write_bytes(images[name])

    files["report"] = out / "report.html"
    files["json"] = out / "seed_study.json"
    result.files = dict(files)
    files["report"].write_text(_render_html(result, images), encoding="utf-8")
    files["json"].write_text(json.dumps(result.to_dict(), indent=2), encoding="utf-8")
    return files


def _render_html(result, images):
    info = result.info
    title = f"skcal seed study: {info['n_runs']} runs, objective {info['objective']}"
    sections = [
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="verdict">{html.escape(result.verdict)}</p>',
        *[f"<p>{html.escape(sentence)}</p>" for sentence in format_exclusions(result)],
        _recommendation_html(result),
        "<h2>Thresholds per run</h2>",
        _image_html(images["thresholds"], "tuned thresholds per run"),
        "<h2>Spread across runs, before and after calibration</h2>",
        _spread_table(result),
        "<h2>Between-run test</h2>",
        _test_table(result),
        "<h2>Reliability curves</h2>",
        _image_html(images["reliability"], "reliability curves of all runs"),
        "<h2>Score distributions per run</h2>",
        _image_html(images["scores"], "score histograms of every run"),
        "<h2>Runs</h2>",
        _run_table(result),
        "<h2>Summary</h2>",
        f"<pre>{html.escape(result.summary())}</pre>",
    ]
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
        "<body>\n" + "\n".join(sections) + "\n</body>\n</html>\n"
    )


def _recommendation_html(result):
    low, high = result.recommended_threshold_interval
    level = f"{100 * result.info['confidence_level']:g}%"
    return (
        f"<p><b>Recommended threshold:</b> {result.recommended_threshold:.4f} "
        f"({level} interval {low:.4f} to {high:.4f}) on the calibrated probability "
        f"of {html.escape(repr(result.info['pos_label']))}, tuned on the pooled "
        "calibration scores of all runs.</p>"
    )


def _image_html(png, alt):
    encoded = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{encoded}" alt="{html.escape(alt)}">'


def _spread_table(result):
    level = f"{100 * result.info['confidence_level']:g}%"
    rows = [_row(["statistic (test split)", "SD before", "SD after", "ratio after / before",
                  f"{level} interval of the ratio"], header=True)]
    for key, label in SPREAD_STATISTICS:
        spread = result.spread[key]
        low, high = spread["ratio_interval"]
        rows.append(_row([
            label,
            _number(spread["sd_before"], "{:.4f}"),
            _number(spread["sd_after"], "{:.4f}"),
            _number(spread["ratio"], "{:.3f}"),
            f"{_number(low, '{:.3f}')} to {_number(high, '{:.3f}')}",
        ]))
    return _table(rows)


def _test_table(result):
    rows = [_row(["scores", "class", "test samples", "SD of the class mean over runs",
                  "test-set standard error", "p-value"], header=True)]
    for stage, label in (("before", "uncalibrated"), ("after", "calibrated")):
        test = result.between_run_test[stage]
        for name in ("negative", "positive"):
            part = test[name]
            rows.append(_row([
                label, name, str(part["n_samples"]),
                _number(part["between_run_sd"], "{:.4f}"),
                _number(part["standard_error"], "{:.4f}"),
                format_p_value(part["p_value"]),
            ]))
        combined = format_p_value(test["p_value"])
        rows.append(_row([label, "both (Fisher)", "", "", "", combined]))
    return _table(rows)


def _run_table(result):
    rows = [_row(["run"] + [heading for _, heading, _ in RUN_COLUMNS], header=True)]
    for index, run in enumerate(result.runs):
        cells = [str(index + 1)]
        cells += [_number(run[key], fmt) for key, _, fmt in RUN_COLUMNS]
        rows.append(_row(cells))
    return _table(rows)


def _number(value, fmt):
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    return fmt.format(value)


def _row(cells, header=False):
    tag = "th" if header else "td"
    return "<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in cells) + "</tr>"


def _table(rows):
    return "<table>\n" + "\n".join(rows) + "\n</table>"
