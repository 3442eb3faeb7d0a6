"""Tests of the ``skcal seeds`` command."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from skcal.cli import main
from skcal.demo import load_demo_data

QUICK = ["--runs", "2", "--max-epochs", "1", "--batch-size", "32", "--resamples", "20",
         "--jobs", "1", "--threads", "1"]


@pytest.fixture(autouse=True)
def _one_torch_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def test_seeds_digits_writes_report(tmp_path, capsys):
    out = tmp_path / "study"
    status = main(
        ["seeds", *QUICK, "--image-size", "8", "--subset", "300", "--out", str(out)]
    )
    printed = capsys.readouterr().out
    assert status == 0
    assert "run 1/2" in printed
    assert "run 2/2" in printed
    assert "Recommended threshold" in printed
    assert (out / "report.html").is_file()
    content = json.loads((out / "seed_study.json").read_text())
    assert content["info"]["n_samples"] == 300
    assert content["info"]["n_runs"] == 2


def test_seeds_image_folder(tmp_path, capsys):
    X, y, _ = load_demo_data("digits", positive_digit=8)
    folder = tmp_path / "images"
    for name, member in (("eight", y), ("other", ~y)):
        (folder / name).mkdir(parents=True)
        for index in np.flatnonzero(member)[:60]:
            pixels = (X[index] * 255).astype(np.uint8)
            Image.fromarray(pixels).save(folder / name / f"{index}.png")

    out = tmp_path / "study"
    status = main(["seeds", str(folder), *QUICK, "--image-size", "8", "--quiet",
                   "--vary", "seed+bootstrap", "--out", str(out)])
    printed = capsys.readouterr().out
    assert status == 0
    assert "120 samples" in printed
    assert "run 1/2" not in printed
    content = json.loads((out / "seed_study.json").read_text())
    assert content["info"]["classes"] == ["eight", "other"]
    assert content["info"]["vary"] == ["seed", "bootstrap"]


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--runs", "1"], "n_runs=1 is invalid"),
        (["--subset", "1"], "--subset 1 is invalid"),
        (["--cost", "1", "5", "--min-recall", "0.9"], "were both given"),
    ],
)
def test_seeds_rejects_bad_options(arguments, message, tmp_path, capsys):
    status = main(["seeds", *arguments, "--out", str(tmp_path)])
    assert status == 2
    assert message in capsys.readouterr().err
