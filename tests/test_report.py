"""The calibration report: files, numbers, the command line and rendering in Chromium."""

import json
import shutil
import subprocess

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402
from scipy.special import expit  # noqa: E402

from skcal.cli import main  # noqa: E402
from skcal.metrics import (  # noqa: E402
    accuracy_at_threshold,
    expected_calibration_error,
    log_loss,
    smooth_expected_calibration_error,
)
from skcal.report import read_predictions, write_report  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
N_RESAMPLES = 50


@pytest.fixture(scope="module")
def predictions():
    rng = np.random.default_rng(0)
    z = rng.normal(scale=2.0, size=800)
    y_true = (rng.uniform(size=800) < expit(z - 0.5)).astype(int)
    return y_true, {"uncalibrated": expit(3.0 * z), "calibrated": expit(z - 0.5)}


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory, predictions):
    y_true, scores = predictions
    out = tmp_path_factory.mktemp("report")
    write_report(
        out,
        y_true,
        scores,
        threshold={"calibrated": 0.35},
        title="Before & after <calibration>",
        extra_metrics={"temperature": 3.0, "fit": {"passes": 2}},
        n_resamples=N_RESAMPLES,
    )
    return out


def test_report_writes_all_files(report_dir):
    for name in ("report.html", "metrics.json", "scores.png", "reliability.png", "threshold.png"):
        assert (report_dir / name).stat().st_size > 0, name


def test_report_metrics_match_functions(report_dir, predictions):
    y_true, scores = predictions
    content = json.loads((report_dir / "metrics.json").read_text())
    calibrated = content["columns"]["calibrated"]
    assert calibrated["threshold"] == 0.35
    assert content["columns"]["uncalibrated"]["threshold"] == 0.5
    assert calibrated["metrics"]["ece"]["estimate"] == pytest.approx(
        expected_calibration_error(y_true, scores["calibrated"], n_bins=15)
    )
    assert calibrated["metrics"]["smooth_ece"]["estimate"] == pytest.approx(
        smooth_expected_calibration_error(y_true, scores["calibrated"])
    )
    assert calibrated["metrics"]["log_loss"]["estimate"] == pytest.approx(log_loss(y_true, scores["calibrated"]))
    assert calibrated["metrics"]["accuracy"]["estimate"] == pytest.approx(
        accuracy_at_threshold(y_true, scores["calibrated"], threshold=0.35)
    )
    interval = calibrated["metrics"]["brier"]
    assert interval["low"] <= interval["estimate"] <= interval["high"]


def test_report_json_extra_and_stats(report_dir, predictions):
    y_true, _ = predictions
    content = json.loads((report_dir / "metrics.json").read_text())
    assert content["extra"] == {"temperature": 3.0, "fit": {"passes": 2}}
    assert content["n_samples"] == y_true.size
    assert content["bootstrap"]["n_resamples"] == N_RESAMPLES
    distribution = content["columns"]["uncalibrated"]["score_distribution"]
    assert distribution["positive"]["count"] == int(y_true.sum())
    assert distribution["positive"]["label"] == 1


def test_report_string_labels(tmp_path, predictions):
    y_true, scores = predictions
    labels = np.where(y_true == 1, "defect", "ok")
    write_report(tmp_path, labels, {"model": 1 - scores["calibrated"]}, pos_label="ok", n_resamples=10)
    content = json.loads((tmp_path / "metrics.json").read_text())
    distribution = content["columns"]["model"]["score_distribution"]
    assert content["pos_label"] == "ok"
    assert distribution["positive"]["label"] == "ok"
    assert distribution["negative"]["label"] == "defect"
    assert distribution["positive"]["count"] == int(np.sum(y_true == 0))


def test_report_page_self_contained(report_dir):
    page = (report_dir / "report.html").read_text()
    assert page.count("src='data:image/png;base64,") == 3
    assert "http://" not in page
    assert "https://" not in page
    assert "Before &amp; after &lt;calibration&gt;" in page
    assert "temperature" in page
    assert "smooth ECE" in page


def test_report_page_renders_in_chromium(report_dir, tmp_path):
    if shutil.which(CHROMIUM) is None:
        pytest.skip(f"{CHROMIUM} not found; the rendering check needs a headless Chromium.")
    screenshot = tmp_path / "page.png"
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={screenshot}",
        "--window-size=1200,2400", (report_dir / "report.html").resolve().as_uri(),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=60)

    pixels = np.asarray(Image.open(screenshot).convert("RGB")).reshape(-1, 3).astype(int)
    assert len(np.unique(pixels, axis=0)) > 500
    assert np.mean(pixels.min(axis=1) < 235) > 0.03
    red, green, blue = pixels.T
    # The histograms' tab:red and tab:blue, blended with white at alpha 0.5.
    assert np.sum((red > 200) & (green < 170) & (blue < 170)) > 500
    assert np.sum((blue > 180) & (red < 160)) > 500


def test_report_single_threshold(tmp_path, predictions):
    y_true, scores = predictions
    write_report(tmp_path, y_true, {"model": scores["calibrated"]}, threshold=0.7, n_resamples=10)
    content = json.loads((tmp_path / "metrics.json").read_text())
    assert content["columns"]["model"]["threshold"] == 0.7


def test_report_infinite_threshold(tmp_path, predictions):
    y_true, scores = predictions
    write_report(tmp_path, y_true, {"model": scores["calibrated"]}, threshold=np.inf, n_resamples=10)
    content = json.loads((tmp_path / "metrics.json").read_text())
    model = content["columns"]["model"]
    assert model["threshold"] == np.inf
    assert model["metrics"]["accuracy"]["estimate"] == pytest.approx(np.mean(y_true == 0))


@pytest.mark.parametrize(
    ("scores", "kwargs", "error", "match"),
    [
        ({}, {}, ValueError, "non-empty dict"),
        ({"a": [0.1, np.nan, 0.5, 0.9]}, {}, ValueError, "NaN"),
        ({"a": [0.1, 0.2, 0.5]}, {}, ValueError, "Inconsistent numbers of samples"),
        ({"a": [0.1, 0.2, 0.5, 1.3]}, {}, ValueError, "outside \\[0, 1\\]"),
        ({"a": [0.1, 0.2, 0.5, 0.9]}, {"threshold": {"b": 0.5}}, ValueError, "not in scores"),
        ({"a": [0.1, 0.2, 0.5, 0.9]}, {"extra_metrics": {"t": np.float32(1)}}, TypeError, "JSON"),
    ],
)
def test_report_rejects_bad_input(tmp_path, scores, kwargs, error, match):
    with pytest.raises(error, match=match):
        write_report(tmp_path, [0, 1, 0, 1], scores, n_resamples=5, **kwargs)


def write_csv(path, header, rows):
    lines = [",".join(header)] + [",".join(str(value) for value in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")


def test_read_predictions_csv_logits(tmp_path):
    path = tmp_path / "pred.csv"
    write_csv(path, ["y_true", "logit_raw", "p_cal"], [[0, -2.0, 0.1], [1, 3.0, 0.8], [1, 0.0, 0.6]])
    y_true, scores = read_predictions(path)
    assert list(scores) == ["logit_raw", "p_cal"]
    np.testing.assert_allclose(scores["logit_raw"], expit([-2.0, 3.0, 0.0]))
    np.testing.assert_allclose(scores["p_cal"], [0.1, 0.8, 0.6])
    assert y_true.dtype.kind == "i"


def test_read_predictions_npz(tmp_path):
    path = tmp_path / "pred.npz"
    np.savez(path, y_true=np.array(["neg", "pos", "pos"]), logits=np.array([-1.0, 1.0, 2.0]))
    y_true, scores = read_predictions(path)
    assert y_true.tolist() == ["neg", "pos", "pos"]
    np.testing.assert_allclose(scores["logits"], expit([-1.0, 1.0, 2.0]))


@pytest.mark.parametrize(
    ("header", "rows", "match"),
    [
        (["label", "p"], [[0, 0.1], [1, 0.9]], "no 'y_true' column"),
        (["y_true"], [[0], [1]], "no score column"),
        (["y_true", "p"], [[0, 0.1], [1, "nan"]], "NaN"),
        (["y_true", "p"], [[0, 0.1], [1, "high"]], "line 3: invalid value 'high' in column 'p'"),
    ],
)
def test_read_predictions_rejects_bad_csv(tmp_path, header, rows, match):
    path = tmp_path / "pred.csv"
    write_csv(path, header, rows)
    with pytest.raises(ValueError, match=match):
        read_predictions(path)


def test_read_predictions_unknown_type(tmp_path):
    path = tmp_path / "pred.parquet"
    path.write_text("")
    with pytest.raises(ValueError, match="Unknown file type '.parquet'.*\\.csv"):
        read_predictions(path)


def test_cli_writes_report(tmp_path, capsys, predictions):
    y_true, scores = predictions
    path = tmp_path / "pred.csv"
    rows = zip(y_true, scores["uncalibrated"], scores["calibrated"])
    write_csv(path, ["y_true", "before", "after"], rows)
    out = tmp_path / "out"

    status = main(["report", str(path), "--out", str(out), "--n-resamples", "20", "--pos-label", "1", "--threshold", "0.4"])
    assert status == 0
    assert str(out / "report.html") in capsys.readouterr().out
    content = json.loads((out / "metrics.json").read_text())
    assert list(content["columns"]) == ["before", "after"]
    assert content["columns"]["after"]["threshold"] == 0.4
    assert (out / "threshold.png").is_file()


def test_cli_reports_error(tmp_path, capsys):
    path = tmp_path / "pred.csv"
    write_csv(path, ["y_true"], [[0], [1]])
    status = main(["report", str(path), "--out", str(tmp_path / "out")])
    assert status == 2
    assert "no score column" in capsys.readouterr().err
