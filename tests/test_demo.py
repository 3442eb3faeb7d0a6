import json

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss, f1_score, log_loss

from skcal.cli import main
from skcal.demo import load_demo_data, run_demo

QUICK = dict(n_samples=400, max_epochs=1, image_size=16, batch_size=32, n_threads=1)


@pytest.fixture(scope="module")
def demo_result(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    return run_demo(out=out, verbose=0, **QUICK)


def test_digits_task_prevalence():
    X, y, pos_label = load_demo_data("digits", positive_digit=8)

    assert X.shape == (1797, 8, 8)
    assert X.min() >= 0.0
    assert X.max() <= 1.0
    assert pos_label is True
    assert 0.09 < np.mean(y == pos_label) < 0.11


def test_unknown_dataset_rejected():
    with pytest.raises(ValueError, match="'cifar'"):
        load_demo_data("cifar")


def test_positive_digit_out_of_range():
    with pytest.raises(ValueError, match="positive_digit=12"):
        load_demo_data("digits", positive_digit=12)


def test_demo_writes_files(demo_result):
    for name in ("report", "metrics", "scores", "reliability"):
        path = demo_result.files[name]
        assert path.exists(), name
        assert path.stat().st_size > 0, name


def test_demo_metrics_match_sklearn(demo_result):
    y_test = demo_result.y_test
    p_cal = demo_result.scores["calibrated"]
    tuned = demo_result.metrics["calibrated_tuned"]

    assert tuned["brier_score"] == pytest.approx(brier_score_loss(y_test, p_cal))
    assert tuned["log_loss"] == pytest.approx(log_loss(y_test, p_cal, labels=[0, 1]))
    decision = p_cal >= demo_result.threshold
    assert tuned["f1"] == pytest.approx(f1_score(y_test, decision, zero_division=0.0))


def test_demo_calibration_keeps_ranking(demo_result):
    raw = demo_result.scores["uncalibrated"]
    cal = demo_result.scores["calibrated"]

    order = np.argsort(raw, kind="stable")
    assert np.all(np.diff(cal[order]) >= -1e-12)
    assert demo_result.temperature > 0


def test_demo_metrics_json_has_table(demo_result):
    content = json.loads(demo_result.files["metrics"].read_text())

    table = content["extra"]["table"]
    assert set(table) == {"uncalibrated", "calibrated_default", "calibrated_tuned"}
    assert content["extra"]["temperature"] == pytest.approx(demo_result.temperature)
    assert content["extra"]["info"]["wall_seconds"] > 0


def test_demo_table_lists_every_row(demo_result):
    table = demo_result.format_table()

    for label in ("accuracy", "F1", "Brier score", "log loss", "ECE", "threshold"):
        assert label in table
    assert f"{demo_result.temperature:.4f}" in table


def test_demo_command_end_to_end(tmp_path, capsys):
    out = tmp_path / "report"

    status = main(
        [
            "demo", "--subset", "300", "--max-epochs", "1", "--image-size", "16",
            "--threads", "1", "--quiet", "--out", str(out), "--cost", "1", "5",
        ]
    )

    printed = capsys.readouterr().out
    assert status == 0
    assert "ECE (15 equal-width bins)" in printed
    assert (out / "report.html").exists()
    assert (out / "scores.png").exists()


def test_demo_command_rejects_two_objectives(tmp_path, capsys):
    status = main(
        ["demo", "--cost", "1", "5", "--min-recall", "0.9", "--out", str(tmp_path)]
    )

    assert status == 2
    assert "--min-recall" in capsys.readouterr().err
