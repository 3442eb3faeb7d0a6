import csv
import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.datasets import load_digits

import skcal.cli._fit_steps as fit_steps
import skcal.persistence as persistence
from skcal.cli import main
from skcal.cli.predict import preprocessing_options
from skcal.datasets import load_images
from skcal.exceptions import DataWarning
from skcal.persistence import load_model, read_manifest

# A network trained for one epoch on a few dozen images, calibrated on four
# to nine of them, often puts the temperature at a bound, which skcal reports
# with a CalibrationWarning. These tests check the commands, not calibration.
pytestmark = pytest.mark.filterwarnings("ignore::skcal.exceptions.CalibrationWarning")

DIGITS = load_digits()
IMAGE_SIZE = 16
FAST_OPTIONS = [
    "--image-size", str(IMAGE_SIZE),
    "--max-epochs", "1",
    "--batch-size", "16",
    "--patience", "0",
    "--threads", "1",
    "--device", "cpu",
    "--n-resamples", "0",
    "--quiet",
]


def write_digit_folder(root, classes=(("three", 3), ("eight", 8)), n_per_class=30):
    """Write PNG digits, upscaled to 16 x 16, into root/<class>/."""
    root = Path(root)
    for name, digit in classes:
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for index in np.flatnonzero(DIGITS.target == digit)[:n_per_class]:
            pixels = (DIGITS.images[index] * (255 / 16)).round().astype(np.uint8)
            image = Image.fromarray(pixels).resize((IMAGE_SIZE, IMAGE_SIZE))
            image.save(folder / f"{index:04d}.png")
    return root


@pytest.fixture(scope="module")
def digit_folder(tmp_path_factory):
    return write_digit_folder(tmp_path_factory.mktemp("digits"))


@pytest.fixture(scope="module")
def fitted_dir(digit_folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("models") / "model"
    assert main(["fit", str(digit_folder), "--out", str(out), *FAST_OPTIONS]) == 0
    return out


def read_predictions(path):
    with open(path, newline="") as stream:
        return list(csv.DictReader(stream))


# --- fit -----------------------------------------------------------------------


def test_fit_writes_model_directory(fitted_dir, capsys):
    names = sorted(path.name for path in fitted_dir.iterdir())
    assert names == ["manifest.json", "model.safetensors", "report"]
    assert (fitted_dir / "report" / "report.html").is_file()
    assert not fitted_dir.with_name("model.partial").exists()


def test_fit_manifest_records_run(fitted_dir):
    manifest = read_manifest(fitted_dir)
    assert manifest["preprocessing"]["image_size"] == [IMAGE_SIZE, IMAGE_SIZE]
    assert manifest["preprocessing"]["channels"] == 1
    assert manifest["metrics"]["split"] == "validation"
    assert manifest["calibration_data"]["n_images"] == 9
    assert manifest["threshold"]["objective"] == "f1"
    assert manifest["pos_label"] == "three"


def test_fit_calibration_digest_matches_file_list(fitted_dir, digit_folder):
    import hashlib

    from sklearn.model_selection import train_test_split

    dataset = load_images(digit_folder, progress=False)
    indices = np.arange(len(dataset))
    _, rest = train_test_split(indices, test_size=0.3, stratify=dataset.targets, random_state=0)
    calibration, _ = train_test_split(
        rest, test_size=0.5, stratify=dataset.targets[rest], random_state=0
    )
    lines = "".join(
        f"{dataset.names[i]}\t{dataset.targets[i]}\n" for i in np.sort(calibration)
    )
    expected = hashlib.sha256(lines.encode()).hexdigest()
    assert read_manifest(fitted_dir)["calibration_data"]["sha256"] == expected


def test_predict_reproduces_loaded_model(fitted_dir, digit_folder, tmp_path):
    out_csv = tmp_path / "predictions.csv"
    command = ["predict", str(fitted_dir), str(digit_folder), "--out", str(out_csv)]
    assert main([*command, "--quiet", "--threads", "1"]) == 0

    model = load_model(fitted_dir)
    options = preprocessing_options(read_manifest(fitted_dir), fitted_dir)
    dataset = load_images(digit_folder, labeled=False, progress=False, **options)
    rows = read_predictions(out_csv)
    positive = list(model.classes_).index(model.pos_label_)

    assert [row["path"] for row in rows] == list(dataset.names)
    probability = np.array([float(row["probability"]) for row in rows])
    np.testing.assert_array_equal(probability, model.predict_proba(dataset)[:, positive])
    logit = np.array([float(row["logit"]) for row in rows])
    network = model.estimator_.estimator_.estimator
    np.testing.assert_array_equal(logit, network.decision_function(dataset))
    assert [row["decision"] for row in rows] == list(model.predict(dataset))


def test_predict_csv_input(fitted_dir, digit_folder, tmp_path):
    listed = sorted((digit_folder / "eight").iterdir())[:4]
    with open(tmp_path / "images.csv", "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["path"])
        writer.writerows([[str(path)] for path in listed])
    out_csv = tmp_path / "out.csv"
    command = ["predict", str(fitted_dir), str(tmp_path / "images.csv"), "--out", str(out_csv)]
    assert main([*command, "--quiet"]) == 0
    assert [row["path"] for row in read_predictions(out_csv)] == [str(p) for p in listed]


def test_predict_bad_image_handling(fitted_dir, digit_folder, tmp_path, capsys):
    images = write_digit_folder(tmp_path / "images", classes=(("any", 3),), n_per_class=3)
    (images / "any" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    command = ["predict", str(fitted_dir), str(images), "--out", str(tmp_path / "p.csv"), "--quiet"]
    assert main(command) == 2
    assert "broken.png" in capsys.readouterr().err

    with pytest.warns(DataWarning, match="Skipped 1 of 4"):
        assert main([*command, "--skip-bad-images"]) == 0
    assert len(read_predictions(tmp_path / "p.csv")) == 3


def test_evaluate_prints_metrics(fitted_dir, digit_folder, tmp_path, capsys):
    command = ["evaluate", str(fitted_dir), str(digit_folder), "--out", str(tmp_path / "ev")]
    assert main([*command, "--quiet"]) == 0
    output = capsys.readouterr().out
    assert "uncalibrated" in output
    assert "at threshold" in output
    metrics = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert metrics["extra"]["n_images"] == 60


def test_evaluate_rejects_other_labels(fitted_dir, tmp_path, capsys):
    other = write_digit_folder(tmp_path / "other", classes=(("one", 1), ("two", 2)), n_per_class=3)
    assert main(["evaluate", str(fitted_dir), str(other), "--quiet"]) == 2
    assert "must have the labels ['eight', 'three']" in capsys.readouterr().err


# --- fit options and refusals -----------------------------------------------------


def test_fit_existing_output_needs_force(fitted_dir, digit_folder, capsys):
    assert main(["fit", str(digit_folder), "--out", str(fitted_dir), *FAST_OPTIONS]) == 2
    assert "--force" in capsys.readouterr().err


def test_fit_reports_bad_images(tmp_path, capsys):
    data = write_digit_folder(tmp_path / "data", n_per_class=12)
    (data / "eight" / "cut.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    assert main(["fit", str(data), "--out", str(tmp_path / "m"), *FAST_OPTIONS]) == 2
    error = capsys.readouterr().err
    assert "cut.png" in error
    assert "--skip-bad-images" in error
    assert not (tmp_path / "m").exists()
    assert not (tmp_path / "m.partial").exists()


def test_fit_split_folders(tmp_path):
    for split in ("train", "calibration", "validation"):
        write_digit_folder(tmp_path / "splits" / split, n_per_class=10)
    out = tmp_path / "from-splits"
    assert main(["fit", str(tmp_path / "splits"), "--out", str(out), *FAST_OPTIONS]) == 0
    sizes = read_manifest(out)["metadata"]["training"]["split_sizes"]
    assert sizes == {"train": 20, "calibration": 20, "validation": 20}


def test_fit_from_csv_with_int_labels(tmp_path):
    data = write_digit_folder(tmp_path / "data", n_per_class=12)
    with open(tmp_path / "list.csv", "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["path", "label"])
        for path in sorted(data.rglob("*.png")):
            writer.writerow([os.path.relpath(path, tmp_path), int(path.parent.name == "eight")])
    out = tmp_path / "m"
    options = [*FAST_OPTIONS, "--cost", "1", "5"]
    assert main(["fit", str(tmp_path / "list.csv"), "--out", str(out), *options]) == 0
    model = load_model(out)
    assert model.classes_.tolist() == [0, 1]
    assert model.objective == ("cost", {"fp_cost": 1.0, "fn_cost": 5.0})


def idx_bytes(array):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(size).to_bytes(4, "big") for size in array.shape
    )
    return header + array.tobytes()


def test_fit_fashion_mnist_spec(tmp_path):
    labels = np.array([0, 6] * 20, dtype=np.uint8)
    pixels = (DIGITS.images[:40] * 15).astype(np.uint8)
    images = np.stack([np.kron(image, np.ones((4, 4), np.uint8))[2:30, 2:30] for image in pixels])
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(images)))
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(labels))

    out = tmp_path / "m"
    command = ["fit", "fashion-mnist:shirt,t-shirt", "--data-dir", str(tmp_path), "--out", str(out)]
    assert main([*command, *FAST_OPTIONS]) == 0
    manifest = read_manifest(out)
    assert manifest["classes"]["values"] == ["shirt", "t-shirt/top"]
    assert manifest["calibration_data"]["covers"].startswith("uint8 pixels")


# --- Interrupted runs ---------------------------------------------------------------


class Interrupted(KeyboardInterrupt):
    pass


def interrupt_first_call(monkeypatch, module, name):
    real = getattr(module, name)
    calls = []

    def interrupting(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise Interrupted
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, interrupting)


def test_resume_continues_training(tmp_path, monkeypatch, capsys):
    data = write_digit_folder(tmp_path / "data", n_per_class=12)
    out = tmp_path / "m"
    command = ["fit", str(data), "--out", str(out), *FAST_OPTIONS]
    # Interrupt after the first epoch's checkpoint, before the network is saved.
    interrupt_first_call(monkeypatch, persistence, "save_model")
    assert main(command) == 130
    work = tmp_path / "m.partial"
    assert json.loads((work / "history.json").read_text())[0]["epoch"] == 1

    assert main(command) == 2
    assert "--resume" in capsys.readouterr().err

    assert main([*command, "--resume", "--max-epochs", "2"]) == 0
    assert "resuming after epoch 1 of 2" in capsys.readouterr().out
    network = load_model(out).estimator_.estimator_.estimator
    assert network.n_epochs_ == 2
    assert not work.exists()


def test_resume_after_last_epoch(tmp_path, monkeypatch, capsys):
    data = write_digit_folder(tmp_path / "data", n_per_class=12)
    out = tmp_path / "m"
    command = ["fit", str(data), "--out", str(out), *FAST_OPTIONS]
    interrupt_first_call(monkeypatch, persistence, "save_model")
    assert main(command) == 130
    checkpoint = torch.load(tmp_path / "m.partial" / "params.pt", weights_only=True)

    assert main([*command, "--resume"]) == 0
    assert "all 1 epochs were trained" in capsys.readouterr().out
    restored = load_model(out).estimator_.estimator_.estimator.module_.state_dict()
    for name, tensor in checkpoint.items():
        assert torch.equal(restored[name], tensor), name


def test_resume_reuses_trained_network(tmp_path, monkeypatch, capsys):
    data = write_digit_folder(tmp_path / "data", n_per_class=12)
    out = tmp_path / "m"
    command = ["fit", str(data), "--out", str(out), *FAST_OPTIONS]
    interrupt_first_call(monkeypatch, fit_steps, "calibrate_and_tune")
    assert main(command) == 130
    assert (tmp_path / "m.partial" / "network" / "manifest.json").is_file()

    assert main([*command, "--resume", "--seed", "1"]) == 2
    assert "seed: 0 before, 1 now" in capsys.readouterr().err

    assert main([*command, "--resume"]) == 0
    assert "reusing the network" in capsys.readouterr().out
    assert (out / "manifest.json").is_file()


@pytest.mark.slow
def test_fit_killed_during_save_keeps_model(fitted_dir, digit_folder, tmp_path):
    out = tmp_path / "model"
    shutil.copytree(fitted_dir, out)
    options = preprocessing_options(read_manifest(out), out)
    dataset = load_images(digit_folder, labeled=False, progress=False, **options)
    before = load_model(out).predict_proba(dataset)

    command = ["fit", str(digit_folder), "--out", str(out), "--force", "--seed", "1"]
    process = subprocess.Popen([sys.executable, "-m", "skcal", *command, *FAST_OPTIONS])
    deadline = time.monotonic() + 300
    while not list(tmp_path.glob(".model.saving-*")):
        assert process.poll() is None, "skcal fit ended before it began saving"
        assert time.monotonic() < deadline, "skcal fit did not begin saving"
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()

    np.testing.assert_array_equal(load_model(out).predict_proba(dataset), before)


@pytest.fixture(scope="module")
def digit_models():
    from sklearn.frozen import FrozenEstimator
    from sklearn.model_selection import TunedThresholdClassifierCV

    from skcal.resnet import ResNet18Classifier
    from skcal.temperature import TemperatureScalingClassifier
    from skcal.tuning import ExactThresholdClassifierCV

    images = (DIGITS.images[:150] / 16.0).astype(np.float32)
    labels = np.where(DIGITS.target[:150] == 8, "eight", "other")
    network = ResNet18Classifier(
        max_epochs=1, batch_size=16, device="cpu", n_threads=1, random_state=0
    ).fit(images[:70], labels[:70])
    calibrated = TemperatureScalingClassifier(FrozenEstimator(network), fit_bias=True)
    calibrated.fit(images[70:110], labels[70:110])
    validation = images[110:], labels[110:]
    return images, {
        "network": network,
        "calibrated": calibrated,
        "exact, first label positive": ExactThresholdClassifierCV(
            calibrated, pos_label="eight", cv="prefit", refit=False
        ).fit(*validation),
        "exact on logits": ExactThresholdClassifierCV(
            calibrated, response_method="decision_function", cv="prefit", refit=False
        ).fit(*validation),
        "sklearn": TunedThresholdClassifierCV(
            calibrated, scoring="balanced_accuracy", cv="prefit", refit=False
        ).fit(*validation),
    }


@pytest.mark.parametrize(
    "name",
    ["network", "calibrated", "exact, first label positive", "exact on logits", "sklearn"],
)
def test_score_dataset_matches_estimator(digit_models, name):
    from skcal.cli.predict import score_dataset

    images, models = digit_models
    model = models[name]
    scores = score_dataset(model, images)
    column = list(model.classes_).index(scores["pos_label"])
    np.testing.assert_array_equal(scores["probability"], model.predict_proba(images)[:, column])
    np.testing.assert_array_equal(scores["decision"], model.predict(images))
