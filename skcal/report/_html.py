"""The self-contained HTML page of a report: inline CSS, images as base64 PNG."""

import base64
import html
import json

from skcal.report._metrics import METRIC_ROWS

STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #bbb; padding: 0.3em 0.7em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #eef; }
img { max-width: 100%; border: 1px solid #ddd; }
.note { color: #555; font-size: 0.9em; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; }
"""

STAT_ROWS = (("mean", "mean"), ("median", "median"), ("std", "standard deviation"), ("iqr", "IQR"), ("skewness", "skewness"))


def render_page(content, figure_paths):
    """Return the HTML page for the ``metrics.json`` ``content`` and the PNG files."""
    columns = list(content["columns"])
    bootstrap = content["bootstrap"]
    level = round(100 * bootstrap["confidence_level"])
    sections = [
        f"<h1>{_text(content['title'])}</h1>",
        f"<p>{content['n_samples']} samples: {content['class_counts']['negative']} negative, "
        f"{content['class_counts']['positive']} positive (positive class: "
        f"{_text(content['pos_label'])}).</p>",
        "<h2>Metrics</h2>",
        _metrics_table(content, columns),
        f"<p class='note'>Brackets: {level}% percentile bootstrap interval over "
        f"{bootstrap['n_resamples']} resamples of the samples (random_state="
        f"{_text(bootstrap['random_state'])}), the same resamples for every column.</p>",
        _definitions(),
        "<h2>Score distributions</h2>",
        _image(figure_paths["scores"], "Histograms of P(positive) by true class, one panel per column"),
        _distribution_table(content, columns),
        "<h2>Reliability</h2>",
        _image(figure_paths["reliability"], "Reliability diagram of every column"),
        "<h2>Threshold</h2>",
        _image(figure_paths["threshold"], "Accuracy against the decision threshold"),
    ]
    if content["extra"]:
        sections += ["<h2>Additional values</h2>", _extra_section(content["extra"])]

    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        f"<title>{_text(content['title'])}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(sections)
        + "\n</body>\n</html>\n"
    )


def _metrics_table(content, columns):
    header = "".join(f"<th>{_text(name)}</th>" for name in columns)
    rows = ["<tr><td>threshold</td>" + "".join(
        f"<td>{content['columns'][name]['threshold']:.4g}</td>" for name in columns
    ) + "</tr>"]
    for key, heading, _ in METRIC_ROWS:
        cells = []
        for name in columns:
            value = content["columns"][name]["metrics"][key]
            cells.append(f"<td>{value['estimate']:.4f} [{value['low']:.4f}, {value['high']:.4f}]</td>")
        rows.append(f"<tr><td>{_text(heading)}</td>{''.join(cells)}</tr>")
    return f"<table><thead><tr><th>metric</th>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _definitions():
    items = "".join(f"<li><b>{_text(heading)}</b>: {_text(text)}</li>" for _, heading, text in METRIC_ROWS)
    return f"<ul class='note'>{items}</ul>"


def _distribution_table(content, columns):
    header = "".join(
        f"<th>{_text(name)}, true {_text(role)}</th>" for name in columns for role in ("negative", "positive")
    )
    rows = []
    for scale in ("probability", "logit"):
        for key, heading in STAT_ROWS:
            cells = "".join(
                f"<td>{_number(content['columns'][name]['score_distribution'][role][scale][key])}</td>"
                for name in columns
                for role in ("negative", "positive")
            )
            rows.append(f"<tr><td>{scale}: {heading}</td>{cells}</tr>")
    for key, heading in (("share_below_threshold", "share below threshold"), ("share_at_or_above_threshold", "share at or above threshold")):
        cells = "".join(
            f"<td>{_number(content['columns'][name]['score_distribution'][role][key])}</td>"
            for name in columns
            for role in ("negative", "positive")
        )
        rows.append(f"<tr><td>{heading}</td>{cells}</tr>")
    return f"<table><thead><tr><th>statistic</th>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _extra_section(extra):
    rows = []
    nested = {}
    for key, value in extra.items():
        if isinstance(value, (dict, list)):
            nested[key] = value
        else:
            rows.append(f"<tr><td>{_text(key)}</td><td>{_text(_number(value))}</td></tr>")
    parts = [f"<table><tbody>{''.join(rows)}</tbody></table>"] if rows else []
    for key, value in nested.items():
        parts.append(f"<h3>{_text(key)}</h3><pre>{_text(json.dumps(value, indent=2))}</pre>")
    return "\n".join(parts)


def _image(path, alt):
    encoded = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"<p><img src='data:image/png;base64,{encoded}' alt='{_text(alt)}'></p>"


def _number(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return "n/a" if value is None else value


def _text(value):
    return html.escape(str(value), quote=True)
